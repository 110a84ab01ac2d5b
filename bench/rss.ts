/**
 * Peak resident memory of the `callvault import` process for one long recording: a one-hour and a
 * ten-minute 8 kHz 16-bit mono WAV (and a three-hour one, to show the peak does not follow the file
 * size), an empty directory as the baseline (what the process costs before it reads any audio), and
 * as an extra a directory of many files (the import benchmark's 300 × 2 MB, default concurrency). Measured by GNU time (`/usr/bin/time -f %M`, the same "Maximum
 * resident set size" that `-v` prints, i.e. getrusage ru_maxrss of the node process), each run
 * into a fresh data directory (`init`ed beforehand, not measured), interleaved over the rounds.
 */
import { access, mkdir, readFile, rm } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import {
  CLI,
  countReport,
  envWithoutPassphrase,
  fmt,
  initDataDir,
  makeScratch,
  median,
  run,
  variedSeconds,
  writeWav,
  type Benchmark,
  type BenchOptions,
  type BenchResult,
} from './common.js';

const TIME = '/usr/bin/time';
const TARGET_MB = 150;

type Contender = 'empty' | '10 min' | '1 hour' | '3 hours' | 'many files';
const SECONDS: Record<Contender, number> = { empty: 0, '10 min': 600, '1 hour': 3600, '3 hours': 3 * 3600, 'many files': 0 };

/**
 * BENCH_RSS_SCALE (default 1) shortens every recording and the many-files set by that factor, for
 * a smoke round; the targets are still computed, but say nothing at another scale.
 */
function scale(): number {
  const raw = process.env.BENCH_RSS_SCALE;
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > 1) throw new Error('BENCH_RSS_SCALE must be in (0, 1]');
  return n;
}

export const rssBenchmark: Benchmark = {
  name: 'rss',
  description: 'peak RSS of `callvault import` for a 1-hour and a 10-minute WAV (MB; target < 150 MB)',
  async run(options: BenchOptions): Promise<BenchResult> {
    try {
      await access(TIME, constants.X_OK);
    } catch {
      throw new Error(`${TIME} is missing: install GNU time (apt-get install -y time)`);
    }
    const rounds = options.rounds ?? 3;
    const log = options.log;
    const k = scale();
    const MANY_FILES = Math.max(2, Math.round(300 * k));
    const long = (who: Contender) => (k === 1 ? { '10 min': '10-minute', '1 hour': '1-hour', '3 hours': '3-hour' }[who as '1 hour'] : `${fmt(SECONDS[who] * k)} s`);
    const scratch = await makeScratch('rss', options.keep);
    try {
      log(`scratch: ${scratch.filesystem}`);
      const inputs: Record<Contender, { path: string; bytes: number }> = {
        empty: { path: join(scratch.dir, 'empty'), bytes: 0 },
        '10 min': { path: join(scratch.dir, 'ten-minutes.wav'), bytes: 0 },
        '1 hour': { path: join(scratch.dir, 'one-hour.wav'), bytes: 0 },
        '3 hours': { path: join(scratch.dir, 'three-hours.wav'), bytes: 0 },
        'many files': { path: join(scratch.dir, 'many'), bytes: 0 },
      };
      await mkdir(inputs.empty.path);
      inputs['10 min'].bytes = await writeWav(inputs['10 min'].path, SECONDS['10 min'] * k, 1);
      inputs['1 hour'].bytes = await writeWav(inputs['1 hour'].path, SECONDS['1 hour'] * k, 2);
      inputs['3 hours'].bytes = await writeWav(inputs['3 hours'].path, SECONDS['3 hours'] * k, 3);
      await mkdir(inputs['many files'].path);
      for (let i = 0; i < MANY_FILES; i++) {
        inputs['many files'].bytes += await writeWav(join(inputs['many files'].path, `call-${String(i).padStart(4, '0')}.wav`), variedSeconds(125, i, MANY_FILES), 100 + i);
      }
      await run('sync', []);
      log(`generated WAV files: ${(Object.keys(inputs) as Contender[]).map((n) => `${n} ${fmt(inputs[n].bytes / 1e6)} MB`).join(', ')}`);

      const names = Object.keys(inputs) as Contender[];
      const peaks = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Contender, number[]>;
      const seconds = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Contender, number[]>;
      for (let r = 0; r < rounds; r++) {
        const order = names.map((_, i) => names[(i + r) % names.length]!);
        for (const who of order) {
          const data = join(scratch.dir, `data-${r}`);
          const out = join(scratch.dir, 'time.out');
          await initDataDir(data);
          const res = await run(TIME, ['-f', '%M', '-o', out, process.execPath, CLI, '--data', data, 'import', inputs[who].path, '--json'], {
            env: envWithoutPassphrase(),
          });
          const counts = countReport(res.stdout);
          const expected = who === 'empty' ? 0 : who === 'many files' ? MANY_FILES : 1;
          if (counts.imported !== expected || counts.failed !== 0) {
            throw new Error(`import of ${who}: ${JSON.stringify(counts)}`);
          }
          const kib = Number((await readFile(out, 'utf8')).trim().split('\n').pop());
          if (!Number.isFinite(kib) || kib <= 0) throw new Error(`could not read the peak RSS from ${TIME}`);
          const mb = (kib * 1024) / 1e6;
          peaks[who].push(mb);
          seconds[who].push(res.seconds);
          log(`round ${r + 1}/${rounds} ${who.padEnd(6)} peak RSS ${fmt(mb)} MB, ${fmt(res.seconds, 2)} s`);
          await rm(data, { recursive: true, force: true });
        }
      }
      const worst = (who: Contender) => Math.max(...peaks[who]);
      const rows = names.map((who) => ({
        label:
          who === 'empty'
            ? 'import of an empty dir (baseline)'
            : who === 'many files'
              ? `import of ${MANY_FILES} × 2 MB WAVs (${fmt(inputs[who].bytes / 1e6)} MB) [extra]`
              : `import of a ${long(who)} WAV (${fmt(inputs[who].bytes / 1e6)} MB)`,
        value: worst(who),
        unit: 'MB peak RSS (max)',
        samples: peaks[who],
        note: `median ${fmt(median(peaks[who]))} MB; wall ${seconds[who].map((s) => fmt(s, 2)).join(', ')} s`,
      }));
      const oneHour = worst('1 hour');
      const tenMin = worst('10 min');
      const threeHours = worst('3 hours');
      const many = worst('many files');
      return {
        name: 'rss',
        rows,
        ratios: [
          { label: 'peak RSS, 1-hour WAV / 150 MB', ratio: oneHour / TARGET_MB, comparator: '<', target: 1, pass: oneHour < TARGET_MB },
          { label: 'peak RSS, 10-min WAV / 150 MB', ratio: tenMin / TARGET_MB, comparator: '<', target: 1, pass: tenMin < TARGET_MB },
          { label: 'peak RSS, 3-hour WAV / 150 MB', ratio: threeHours / TARGET_MB, comparator: '<', target: 1, pass: threeHours < TARGET_MB },
          { label: `peak RSS, ${MANY_FILES} files / 150 MB [extra]`, ratio: many / TARGET_MB, comparator: '<', target: 1, pass: many < TARGET_MB },
        ],
        notes: [
          ...(k === 1 ? [] : [`BENCH_RSS_SCALE=${k}: every recording and the many-files set shortened; the 150 MB target says nothing at this scale`]),
          `growth from 10 min to 1 hour (6× the audio): ${fmt(oneHour - tenMin)} MB; from 1 hour to 3 hours: ${fmt(threeHours - oneHour)} MB (max of ${rounds} each)`,
          `above the empty-dir baseline: 10 min +${fmt(tenMin - worst('empty'))} MB, 1 hour +${fmt(oneHour - worst('empty'))} MB, ` +
            `3 hours +${fmt(threeHours - worst('empty'))} MB, ${MANY_FILES} files +${fmt(many - worst('empty'))} MB`,
          'MB = 10^6 bytes (GNU time reports KiB); the value is the maximum over the rounds',
        ],
      };
    } finally {
      await scratch.cleanup();
    }
  },
};
