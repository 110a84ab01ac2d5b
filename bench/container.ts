/**
 * Container encryption and decryption throughput in memory, on one core (this process's main
 * thread), against `openssl speed -evp aes-256-gcm` on the same machine in the same run.
 *
 * Node contenders, each run repeatedly for about SECONDS_PER_TEST (BENCH_CONTAINER_SECONDS, default
 * 3) on a random buffer of BENCH_CONTAINER_MIB (default 64) MiB:
 *   encryptBuffer   whole buffer → container
 *   EncryptStream   the buffer fed in 256 KiB chunks (the importer's read size) through the Transform
 *   decryptBuffer   container → whole buffer (openRecording over bufferSource, every segment authenticated)
 *   openRecording   the same decryption streamed: OpenedRecording.read() consumed chunk by chunk, no
 *                   final Buffer.concat (what export and playback use)
 * encryptBuffer and decryptBuffer end in one Buffer.concat into a fresh 64 MiB buffer; that copy is
 * part of what they cost, and the streamed contenders show the cost without it.
 * Baseline: `openssl speed -evp aes-256-gcm [-decrypt] -seconds 3 -bytes 16384` (single process,
 * single thread), whose figures are in 1000s of bytes per second.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EncryptStream, encryptBuffer } from '../src/container/encrypt.js';
import { bufferSource, decryptBuffer, openRecording } from '../src/container/decrypt.js';
import { fmt, median, nowSeconds, run, type Benchmark, type BenchOptions, type BenchResult, envInt } from './common.js';

const CHUNK = 256 * 1024;

/** BENCH_CONTAINER_MIB (default 64) and BENCH_CONTAINER_SECONDS (default 3, per contender and round), read by run: smaller for a smoke round */
let BUFFER_BYTES = 64 * 1024 * 1024;
let SECONDS_PER_TEST = 3;
const OPENSSL_BLOCK = 16384;
const TARGET = 0.3;

type Contender = 'openssl enc' | 'openssl dec' | 'encryptBuffer' | 'EncryptStream' | 'decryptBuffer' | 'openRecording';

/** MB/s (10^6 bytes) from one `openssl speed` run */
async function opensslSpeed(decrypt: boolean): Promise<number> {
  const args = ['speed', '-evp', 'aes-256-gcm', ...(decrypt ? ['-decrypt'] : []), '-seconds', String(SECONDS_PER_TEST), '-bytes', String(OPENSSL_BLOCK)];
  const { stdout } = await run('openssl', args);
  const lines = stdout.split('\n');
  const header = lines.find((l) => l.startsWith('type'));
  const data = lines.find((l) => /^aes-256-gcm\s/i.test(l));
  if (!header || !data) throw new Error(`could not parse openssl speed output:\n${stdout}`);
  // columns: "type  16 bytes  64 bytes ..." → pick OPENSSL_BLOCK, or else the largest
  const sizes = [...header.matchAll(/(\d+)\s+bytes/g)].map((x) => Number(x[1]));
  const values = data
    .trim()
    .split(/\s+/)
    .slice(1)
    .map((v) => Number(v.replace(/k$/, '')));
  let col = sizes.indexOf(OPENSSL_BLOCK);
  if (col < 0) col = sizes.indexOf(Math.max(...sizes));
  const kBps = values[col];
  if (kBps === undefined || !Number.isFinite(kBps)) throw new Error(`could not parse openssl speed output:\n${stdout}`);
  return (kBps * 1000) / 1e6;
}

/** Repeats `once` (which processes `bytes`) for about SECONDS_PER_TEST; MB/s. */
async function repeat(bytes: number, once: () => Promise<unknown> | unknown): Promise<number> {
  await once(); // warm-up
  let n = 0;
  const t0 = nowSeconds();
  let t = t0;
  while (t - t0 < SECONDS_PER_TEST) {
    await once();
    n += 1;
    t = nowSeconds();
  }
  return (n * bytes) / 1e6 / (t - t0);
}

async function streamEncrypt(plain: Buffer, key: Buffer, id: string): Promise<number> {
  let out = 0;
  const chunks = function* () {
    for (let o = 0; o < plain.length; o += CHUNK) yield plain.subarray(o, o + CHUNK);
  };
  await pipeline(
    Readable.from(chunks(), { objectMode: false }),
    new EncryptStream(key, id),
    new Writable({
      write(chunk: Buffer, _enc, done) {
        out += chunk.length;
        done();
      },
    }),
  );
  return out;
}

async function streamDecrypt(container: Buffer, key: Buffer, id: string): Promise<number> {
  let out = 0;
  const opened = await openRecording(bufferSource(container), key, id);
  for await (const b of opened.read()) out += b.length;
  return out;
}

export const containerBenchmark: Benchmark = {
  name: 'container',
  description: 'AES-256-GCM container encrypt/decrypt in memory on one core vs `openssl speed -evp aes-256-gcm` (MB/s, ratio)',
  async run(options: BenchOptions): Promise<BenchResult> {
    const rounds = options.rounds ?? 3;
    const log = options.log;
    BUFFER_BYTES = envInt('BENCH_CONTAINER_MIB', 64) * 1024 * 1024;
    SECONDS_PER_TEST = envInt('BENCH_CONTAINER_SECONDS', 3);
    const mib = BUFFER_BYTES / 1024 / 1024;
    const plain = randomBytes(BUFFER_BYTES);
    const key = randomBytes(32);
    const id = randomUUID();
    const container = encryptBuffer(plain, key, id);
    if (!(await decryptBuffer(container, key, id)).equals(plain)) throw new Error('round trip failed');
    if ((await streamEncrypt(plain, key, id)) !== container.length) throw new Error('EncryptStream output has the wrong length');
    if ((await streamDecrypt(container, key, id)) !== plain.length) throw new Error('openRecording read the wrong length');

    const contenders: Record<Contender, () => Promise<number>> = {
      'openssl enc': () => opensslSpeed(false),
      'openssl dec': () => opensslSpeed(true),
      encryptBuffer: () => repeat(plain.length, () => encryptBuffer(plain, key, id)),
      EncryptStream: () => repeat(plain.length, () => streamEncrypt(plain, key, id)),
      decryptBuffer: () => repeat(plain.length, () => decryptBuffer(container, key, id)),
      openRecording: () => repeat(plain.length, () => streamDecrypt(container, key, id)),
    };
    const names = Object.keys(contenders) as Contender[];
    const results: Record<Contender, number[]> = { 'openssl enc': [], 'openssl dec': [], encryptBuffer: [], EncryptStream: [], decryptBuffer: [], openRecording: [] };
    for (let r = 0; r < rounds; r++) {
      const order = names.map((_, i) => names[(i + r) % names.length]!);
      for (const who of order) {
        const mbps = await contenders[who]();
        results[who].push(mbps);
        log(`round ${r + 1}/${rounds} ${who.padEnd(13)} ${fmt(mbps)} MB/s`);
      }
    }
    const m = (who: Contender) => median(results[who]);
    const ratio = (label: string, a: Contender, b: Contender) => {
      const x = m(a) / m(b);
      return { label, ratio: x, comparator: '>=' as const, target: TARGET, pass: x >= TARGET };
    };
    return {
      name: 'container',
      rows: names.map((who) => ({
        label: who.startsWith('openssl')
          ? `${who} (${OPENSSL_BLOCK} B blocks)`
          : who === 'openRecording'
            ? 'openRecording().read() (streamed)'
            : `${who} (${mib} MiB, 64 KiB segments)`,
        value: m(who),
        unit: 'MB/s',
        samples: results[who],
        note: `median of ${rounds}`,
      })),
      ratios: [
        // the streaming paths are what import, export and playback use; the *Buffer helpers serve
        // tests and vectors and are shown as rows only
        ratio('EncryptStream / openssl enc', 'EncryptStream', 'openssl enc'),
        ratio('openRecording read / openssl dec', 'openRecording', 'openssl dec'),
      ],
      notes: [
        `node ${process.versions.node} links OpenSSL ${process.versions.openssl}; \`openssl\` CLI: ${(await run('openssl', ['version'])).stdout.trim()}`,
        `each contender runs alone (sequentially) for ~${SECONDS_PER_TEST} s per round; MB = 10^6 bytes; node input: ${mib} MiB of random bytes, 64 KiB segments`,
        `encryptBuffer/decryptBuffer include one Buffer.concat into a fresh ${mib} MiB buffer (page faults + copy); the streamed rows do not`,
      ],
    };
  },
};
