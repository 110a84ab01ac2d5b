/**
 * `callvault scan` of a legacy archive (issue 19): a generated tree of N files (default 100,000,
 * `--files N`), against `find SRC -type f -print0 | xargs -0 head -c 4096 > /dev/null` (every
 * file opened and its first 4 KiB read), files per second, target scan/baseline ≥ 0.5.
 *
 * The tree, in directories of 1,000 files, small files so it generates quickly:
 *   70 %  WAV, 8 kHz 16-bit mono, 0.25–0.75 s (4–12 KB), named with the call's date and time;
 *         one in ten also with the caller's number (`in-46701740605-20180402-0830-….wav`, from
 *         the 95 fictional numbers 070-174 06 05 … 99)
 *    5 %  WAV under another name (`….dat`): audio by content
 *    8 %  MP3 (eight short files made by ffmpeg, LAME 32 kbps, ID3v2 title without identifiers)
 *    7 %  JSON sidecars (agent, region, startedAt; no identifiers)
 *    5 %  non-audio (`….pdf`, a PDF header and random bytes)
 *    3 %  plain-text notes (`….txt`, read as transcripts; no identifiers)
 *    2 %  text named `….wav` (not audio by content)
 * One file in seven is mode 0600, the rest 0644: world-readable as scan counts it.
 * Each timed scan's report is checked against this truth: files, audio count and formats,
 * world-readable files, distinct phone numbers (anywhere and in names) and no other identifier.
 *
 * Cache state: warm for both. One untimed `find SRC -type f -print0 | xargs -0 cat > /dev/null`
 * reads every byte first, so every timed run reads a tree already in the page cache and the
 * dentry and inode caches; then the rounds, interleaved, the order rotating.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import type { ScanReport } from '../src/scan/scan.js';
import { CLI, envWithoutPassphrase, fmt, loadAverage, makeScratch, median, nowSeconds, run, WavPool, type Benchmark, type BenchOptions, type BenchResult } from './common.js';

const DEFAULT_FILES = 100_000;
const PER_DIRECTORY = 1000;
const TARGET = 0.5;
const MP3S = 8;
const BASELINE = 'find SRC -type f -print0 | xargs -0 head -c 4096 > /dev/null';

export interface ScanTruth {
  files: number;
  wav: number;
  /** of the WAV files, those named .dat */
  misnamed: number;
  mp3: number;
  worldReadable: number;
  phones: number;
}

type Kind = 'wav' | 'misnamed' | 'mp3' | 'sidecar' | 'pdf' | 'note' | 'fakewav';

function kindOf(i: number): Kind {
  const p = (i * 37) % 100; // spread the kinds through every directory
  if (p < 70) return 'wav';
  if (p < 75) return 'misnamed';
  if (p < 83) return 'mp3';
  if (p < 90) return 'sidecar';
  if (p < 95) return 'pdf';
  if (p < 98) return 'note';
  return 'fakewav';
}

/** a file's index in letters (digits in names would be read as parts of numbers) */
function letters(i: number): string {
  let s = '';
  for (let k = 0; k < 5; k++) {
    s = String.fromCharCode(97 + (i % 26)) + s;
    i = Math.floor(i / 26);
  }
  return s;
}

/** a call time between 2013 and 2019, as a recorder writes it in a name: 20180402-0830 */
function stamp(i: number): { name: string; iso: string } {
  const day = new Date(Date.UTC(2013, 0, 1) + ((i * 7919) % 2550) * 86_400_000);
  const hh = String(7 + (i % 14)).padStart(2, '0');
  const mm = String((i * 13) % 60).padStart(2, '0');
  const ymd = day.toISOString().slice(0, 10);
  return { name: `${ymd.replaceAll('-', '')}-${hh}${mm}`, iso: `${ymd}T${hh}:${mm}:00Z` };
}

async function makeMp3s(dir: string): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let k = 0; k < MP3S; k++) {
    const path = join(dir, `tone-${k}.mp3`);
    await promisify(execFile)('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=${300 + 70 * k}:sample_rate=8000:duration=${(0.6 + 0.1 * k).toFixed(1)}`,
      '-c:a',
      'libmp3lame',
      '-b:a',
      '32k',
      '-id3v2_version',
      '3',
      '-metadata',
      `title=Inspelat samtal ${k}`,
      '-f',
      'mp3',
      path,
    ]);
    out.push(await readFile(path));
  }
  return out;
}

/** writes the tree; returns the truth a scan must report */
export async function generateScanTree(src: string, files: number, work: string, log: (line: string) => void): Promise<ScanTruth> {
  const mp3s = await makeMp3s(work);
  const pool = new WavPool(2);
  const umask = process.umask();
  const truth: ScanTruth = { files, wav: 0, misnamed: 0, mp3: 0, worldReadable: 0, phones: 0 };
  const phones = new Set<number>();
  const t0 = nowSeconds();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < files; i++) {
    const dir = join(src, `box-${letters(Math.floor(i / PER_DIRECTORY))}`);
    if (i % PER_DIRECTORY === 0) await mkdir(dir, { recursive: true });
    const kind = kindOf(i);
    const t = stamp(i);
    const id = letters(i);
    let name: string;
    let bytes: Buffer | string;
    switch (kind) {
      case 'wav':
      case 'misnamed': {
        // 0.25–0.75 s
        bytes = pool.file(i, 2 * (2000 + ((i * 11) % 4001)));
        truth.wav += 1;
        if (kind === 'misnamed') truth.misnamed += 1;
        let caller = '';
        if (kind === 'wav' && i % 10 === 0) {
          const n = 5 + ((i / 10) % 95);
          phones.add(n);
          caller = `in-467017406${String(n).padStart(2, '0')}-`;
        }
        name = `${caller}call-${t.name}-${id}.${kind === 'wav' ? 'wav' : 'dat'}`;
        break;
      }
      case 'mp3':
        bytes = mp3s[i % MP3S]!;
        truth.mp3 += 1;
        name = `call-${t.name}-${id}.mp3`;
        break;
      case 'sidecar':
        bytes = JSON.stringify({ agent: `agent-${letters(i % 40)}`, region: 'norra', startedAt: t.iso });
        name = `call-${t.name}-${id}.json`;
        break;
      case 'pdf':
        bytes = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(2000 + (i % 3000))]);
        name = `report-${id}.pdf`;
        break;
      case 'note':
        bytes = `Samtalet gällde en förkylning. Rådgivning given, ring igen vid feber över tre dagar. (${id})\n`;
        name = `note-${id}.txt`;
        break;
      case 'fakewav':
        bytes = `Inspelningen saknas: bandet var tomt. (${id})\n`;
        name = `lost-${id}.wav`;
        break;
    }
    const mode = i % 7 === 3 ? 0o600 : 0o644;
    if ((mode & ~umask & 0o004) !== 0) truth.worldReadable += 1;
    const path = join(dir, name);
    pending.push(writeFile(path, bytes, { flag: 'wx', mode }).then(() => (mode === 0o600 ? chmod(path, mode) : undefined)));
    if (pending.length >= 32) await Promise.all(pending.splice(0));
    if ((i + 1) % 20_000 === 0) log(`generated ${i + 1} of ${files} files (${fmt(nowSeconds() - t0)} s)`);
  }
  await Promise.all(pending);
  truth.phones = phones.size;
  return truth;
}

/** the differences between a scan's report and the truth, in words (empty when none) */
export function checkScan(report: ScanReport, truth: ScanTruth): string[] {
  const problems: string[] = [];
  const expect = (what: string, got: unknown, want: unknown) => {
    if (got !== want) problems.push(`${what}: ${String(got)}, expected ${String(want)}`);
  };
  expect('files', report.files, truth.files);
  expect('audio.count', report.audio.count, truth.wav + truth.mp3);
  expect('audio.formats.wav', report.audio.formats.wav ?? 0, truth.wav);
  expect('audio.formats.mp3', report.audio.formats.mp3 ?? 0, truth.mp3);
  expect('exposed.worldReadable', report.exposed.worldReadable, truth.worldReadable);
  expect('identifiers.phone', report.identifiers.phone, truth.phones);
  expect('identifiers.inNames', report.identifiers.inNames, truth.phones);
  for (const k of ['personnummer', 'samordningsnummer', 'email', 'inTags', 'inSidecars', 'inTranscripts'] as const) expect(`identifiers.${k}`, report.identifiers[k], 0);
  expect('unreadable', report.unreadable, 0);
  return problems;
}

type Contender = 'scan' | 'baseline';

export const scanBenchmark: Benchmark = {
  name: 'scan',
  description: '`callvault scan --json` of a generated archive of 100,000 files vs `find | xargs head -c 4096` (files/s, ratio; target ≥ 0.5)',
  async run(options: BenchOptions): Promise<BenchResult> {
    const files = options.files ?? DEFAULT_FILES;
    const rounds = options.rounds ?? 1;
    const log = options.log;
    const loadBefore = await loadAverage();
    const scratch = await makeScratch('scan', options.keep);
    try {
      log(`scratch: ${scratch.filesystem}`);
      log(`load average before: ${loadBefore}`);
      const src = join(scratch.dir, 'archive');
      const work = join(scratch.dir, 'work');
      await mkdir(src);
      await mkdir(work);
      const t0 = nowSeconds();
      const truth = await generateScanTree(src, files, work, log);
      await run('sync', []);
      const generated = nowSeconds() - t0;
      log(`generated ${files} files (${truth.wav} WAV, ${truth.mp3} MP3) in ${fmt(generated)} s`);
      const empty = join(scratch.dir, 'empty');
      await mkdir(empty);

      const scanOnce = async (path: string): Promise<{ seconds: number; report: ScanReport }> => {
        const r = await run(process.execPath, [CLI, 'scan', path, '--json'], { env: envWithoutPassphrase() });
        return { seconds: r.seconds, report: JSON.parse(r.stdout) as ScanReport };
      };
      const contenders: Record<Contender, () => Promise<number>> = {
        scan: async () => {
          const { seconds, report } = await scanOnce(src);
          const problems = checkScan(report, truth);
          if (problems.length) throw new Error(`scan's report differs from the generated truth: ${problems.join('; ')}`);
          return seconds;
        },
        baseline: async () => (await run('sh', ['-c', 'find "$1" -type f -print0 | xargs -0 head -c 4096 > /dev/null', 'sh', src])).seconds,
      };
      const names = Object.keys(contenders) as Contender[];
      // untimed: every byte of the tree read once, so every timed run of either reads a warm tree
      const warm = await run('sh', ['-c', 'find "$1" -type f -print0 | xargs -0 cat > /dev/null', 'sh', src]);
      log(`warm-up (find | xargs cat, untimed) ${fmt(warm.seconds, 2)} s`);
      const wall: Record<Contender, number[]> = { scan: [], baseline: [] };
      for (let r = 0; r < rounds; r++) {
        const order = names.map((_, i) => names[(i + r) % names.length]!);
        for (const who of order) {
          const s = await contenders[who]();
          wall[who].push(s);
          log(`round ${r + 1}/${rounds} ${who.padEnd(8)} ${fmt(s, 2)} s  ${fmt(files / s)} files/s`);
        }
      }
      const fixed: number[] = [];
      for (let r = 0; r < Math.max(rounds, 1); r++) fixed.push((await scanOnce(empty)).seconds);

      const rate = (who: Contender) => wall[who].map((s) => files / s);
      const m = (who: Contender) => median(rate(who));
      const x = m('scan') / m('baseline');
      return {
        name: 'scan',
        rows: [
          {
            label: 'callvault scan --json',
            value: m('scan'),
            unit: 'files/s',
            samples: rate('scan'),
            note: `median of ${rounds}; wall ${wall.scan.map((s) => fmt(s, 2)).join(', ')} s; report checked against the truth every run`,
          },
          {
            label: 'find | xargs head -c 4096',
            value: m('baseline'),
            unit: 'files/s',
            samples: rate('baseline'),
            note: `\`${BASELINE}\`; wall ${wall.baseline.map((s) => fmt(s, 2)).join(', ')} s`,
          },
          { label: 'scan fixed cost (empty dir)', value: median(fixed), unit: 's', samples: fixed, note: 'node start, nothing to scan; included in the scan time above' },
        ],
        ratios: [{ label: 'scan / find+head, files/s', ratio: x, comparator: '>=', target: TARGET, pass: x >= TARGET }],
        notes: [
          `${files} files in directories of ${PER_DIRECTORY}: ${truth.wav} WAV (${truth.misnamed} of them named .dat), ${truth.mp3} MP3, the rest JSON sidecars, PDFs, text notes and text named .wav; ` +
            `${truth.worldReadable} world-readable, ${truth.phones} distinct phone numbers in names; generated in ${fmt(generated)} s`,
          'warm cache for both: one untimed `find SRC -type f -print0 | xargs -0 cat > /dev/null` before the rounds, so every timed run reads a tree already in the page cache and the dentry/inode caches',
          `load average (1, 5, 15 min) before ${loadBefore}, after ${await loadAverage()}`,
          scratch.filesystem,
        ],
      };
    } finally {
      await rm(join(scratch.dir, 'work'), { recursive: true, force: true }).catch(() => {});
      await scratch.cleanup();
    }
  },
};
