/**
 * Shared pieces of the benchmarks: result types, timing, child processes, WAV generation and the
 * scratch directory. Units: MB = 10^6 bytes, MiB = 2^20 bytes, everywhere.
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** repository root (dist/bench/common.js → ../../) */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));
export const CLI = join(REPO_ROOT, 'bin', 'callvault.js');
/** only used for `init`, which the benchmarks never time */
export const BENCH_PASSPHRASE = 'benchmark-passphrase-not-secret';

export interface BenchOptions {
  /** measurement rounds; each round runs every contender once */
  rounds?: number;
  /** import, archive and scan: number of generated files */
  files?: number;
  /** keep the scratch directory */
  keep?: boolean;
  log: (line: string) => void;
}

export interface Row {
  label: string;
  /** median unless the label says otherwise */
  value: number;
  unit: string;
  /** every sample, in run order */
  samples?: number[];
  note?: string;
}

export interface Ratio {
  label: string;
  ratio: number;
  /** `>=`: ratio must reach target; `<`: value must stay below target (then `ratio` is value/target) */
  comparator: '>=' | '<';
  target: number;
  pass: boolean;
}

export interface BenchResult {
  name: string;
  rows: Row[];
  ratios: Ratio[];
  notes: string[];
}

export interface Benchmark {
  name: string;
  description: string;
  run(options: BenchOptions): Promise<BenchResult>;
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function nowSeconds(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}

export interface ProcessResult {
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs a program to completion; rejects on a non-zero exit with its stderr. */
export function run(cmd: string, args: string[], options: SpawnOptions = {}): Promise<ProcessResult> {
  return new Promise((resolvePromise, reject) => {
    const started = nowSeconds();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const seconds = nowSeconds() - started;
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) resolvePromise({ stdout, stderr, seconds });
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code ?? signal}: ${stderr.trim().slice(0, 500)}`));
    });
  });
}

/** The environment without the passphrase: `import` must work (and be measured) without it. */
/** a positive integer from the environment (a benchmark's size), or the fallback */
export function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
}

export function envWithoutPassphrase(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.CALLVAULT_PASSPHRASE;
  delete env.CALLVAULT_DATA;
  delete env.CALLVAULT_DATABASE_URL;
  delete env.CALLVAULT_BLOB_URL;
  delete env.CALLVAULT_KMS;
  return env;
}

/** `callvault init` into a fresh data directory (never timed); `env` adds e.g. CALLVAULT_DATABASE_URL. */
export async function initDataDir(dir: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
  await run(process.execPath, [CLI, '--data', dir, 'init', '--json'], {
    env: { ...envWithoutPassphrase(), ...env, CALLVAULT_PASSPHRASE: BENCH_PASSPHRASE },
  });
}

export interface ImportReportCounts {
  imported: number;
  skipped: number;
  failed: number;
}

export function countReport(stdout: string): ImportReportCounts {
  const r = JSON.parse(stdout) as { imported: unknown[]; skipped: unknown[]; failed: unknown[] };
  return { imported: r.imported.length, skipped: r.skipped.length, failed: r.failed.length };
}

// ---------------------------------------------------------------------------------------------
// scratch directory

export interface Scratch {
  dir: string;
  /** one line saying which filesystem holds the scratch directory, from df */
  filesystem: string;
  sameFilesystemAsRepo: boolean;
  cleanup(): Promise<void>;
}

/**
 * A scratch directory under CALLVAULT_BENCH_TMP or os.tmpdir(). Everything a benchmark writes
 * (sources, copies, data directories) lives inside it, so sources and destinations share a disk.
 */
export async function makeScratch(prefix: string, keep = false): Promise<Scratch> {
  const base = process.env.CALLVAULT_BENCH_TMP || tmpdir();
  const dir = await mkdtemp(join(base, `callvault-bench-${prefix}-`));
  const df = (await run('df', ['-P', dir, REPO_ROOT])).stdout.trim().split('\n');
  const fields = (line: string | undefined) => (line ?? '').split(/\s+/);
  const here = fields(df[1]);
  const repo = fields(df[2]);
  const sameDev = (await stat(dir)).dev === (await stat(REPO_ROOT)).dev;
  const filesystem =
    `${dir} is on ${here[0]} mounted at ${here[5]} (${(Number(here[3]) / 1024 / 1024).toFixed(0)} GiB free); ` +
    `the repository is on ${repo[0]} at ${repo[5]}: ${sameDev ? 'same filesystem' : 'DIFFERENT filesystem'}`;
  return {
    dir,
    filesystem,
    sameFilesystemAsRepo: sameDev,
    cleanup: async () => {
      if (!keep) await rm(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// WAV generation

export const SAMPLE_RATE = 8000;
export const BYTES_PER_SECOND = SAMPLE_RATE * 2; // 16-bit mono

export function wavHeader(dataBytes: number, sampleRate = SAMPLE_RATE): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/** one second of two tones (440 Hz and 1 kHz, both whole periods per second) */
const TONE = (() => {
  const t = new Float64Array(SAMPLE_RATE);
  for (let i = 0; i < SAMPLE_RATE; i++) {
    t[i] = 6000 * Math.sin((2 * Math.PI * 440 * i) / SAMPLE_RATE) + 3000 * Math.sin((2 * Math.PI * 1000 * i) / SAMPLE_RATE);
  }
  return t;
})();

/**
 * 16-bit PCM: tones plus noise from a xorshift generator seeded by `seed`, so every file has
 * different content (the importer deduplicates by content hash).
 */
export function pcm(dataBytes: number, seed: number, firstSample = 0): Buffer {
  const samples = Math.floor(dataBytes / 2);
  const buf = Buffer.allocUnsafe(samples * 2);
  let x = (seed * 2654435761 + 0x9e3779b9) >>> 0 || 1;
  for (let i = 0; i < samples; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const noise = ((x & 0xffff) - 0x8000) / 16; // about ±2048
    buf.writeInt16LE(Math.round(TONE[(firstSample + i) % SAMPLE_RATE]! + noise), i * 2);
  }
  return buf;
}

/** Writes a WAV of `seconds` of 8 kHz 16-bit mono, in 1 MiB pieces so a long file needs little memory. */
export async function writeWav(path: string, seconds: number, seed: number): Promise<number> {
  const dataBytes = Math.round(seconds * BYTES_PER_SECOND) & ~1;
  const fh = await open(path, 'wx');
  try {
    await fh.write(wavHeader(dataBytes));
    const piece = 1 << 20;
    for (let done = 0; done < dataBytes; done += piece) {
      await fh.write(pcm(Math.min(piece, dataBytes - done), seed * 1_000_003 + done, done / 2));
    }
  } finally {
    await fh.close();
  }
  return dataBytes + 44;
}

/**
 * Length of file `i` of `n` around `seconds`: every file a different size (74 bytes per step, so
 * within ±0.6 % of 2 MB for 300 files), as real recordings are. The importer hashes a file before
 * encrypting it when a stored recording has the same size, so identical sizes would measure that
 * slower path instead of the usual one.
 */
export function variedSeconds(seconds: number, i: number, n: number): number {
  return seconds + ((i - Math.floor(n / 2)) * 74) / BYTES_PER_SECOND;
}

export function fmt(n: number, digits = 1): string {
  if (!Number.isFinite(n)) return String(n);
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/**
 * Many short WAV files quickly: one pool of PCM (tones plus seeded noise, made once) from which
 * every file takes its samples at a different offset, with its own index stamped into its first
 * samples, so every file's content differs (the importer deduplicates by content hash) without
 * generating noise per file.
 */
export class WavPool {
  readonly pool: Buffer;

  constructor(seconds: number, seed = 1) {
    this.pool = pcm(Math.round(seconds * BYTES_PER_SECOND) & ~1, seed);
  }

  /** the bytes of WAV file `index`: `dataBytes` of samples (even, at most the pool's size) */
  file(index: number, dataBytes: number): Buffer {
    const bytes = dataBytes & ~1;
    if (bytes > this.pool.length) throw new Error('WavPool: file longer than the pool');
    const room = (this.pool.length - bytes) / 2;
    // an odd multiplier walks every sample offset of the pool before repeating
    const offset = room > 0 ? ((index * 7919) % room) * 2 : 0;
    const out = Buffer.allocUnsafe(44 + bytes);
    wavHeader(bytes).copy(out, 0);
    this.pool.copy(out, 44, offset, offset + bytes);
    // the index in the first 8 bytes of samples: distinct content even where offsets repeat
    if (bytes >= 8) out.writeDoubleLE(index, 44);
    return out;
  }
}

/**
 * A throwaway PostgreSQL database on CALLVAULT_BENCH_PG_URL (an admin URL, default
 * postgres://postgres@127.0.0.1:5432/postgres): its URL, and `drop` for the end.
 */
export async function createPgDatabase(prefix: string): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const { default: pg } = await import('pg');
  const admin = process.env.CALLVAULT_BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `${prefix}_${process.pid}_${Math.floor(Math.random() * 1e9).toString(36)}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const d = new pg.Client({ connectionString: admin });
      await d.connect();
      try {
        await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await d.end();
      }
    },
  };
}

/** the load average (1, 5, 15 minutes) as /proc/loadavg says it */
export async function loadAverage(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  return (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
}
