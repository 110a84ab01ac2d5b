/**
 * Start-up: what one short command costs before it does anything, against starting node itself.
 *
 * Contenders, each a child process timed by wall clock, interleaved (the order rotating from run
 * to run) RUNS times per round:
 *   node -e 0        node starting and stopping: the floor
 *   import (empty)   `callvault --data D import EMPTY --json`: D `init`ed beforehand (not timed),
 *                    EMPTY an empty directory, no CALLVAULT_PASSPHRASE; it opens the vault, finds
 *                    nothing, writes the run's audit entries and closes
 *   --help           `callvault --help`: every command module loaded, nothing opened (no target)
 * The import's JSON must say nothing was imported and nothing failed, every run.
 *
 * Environment: BENCH_STARTUP_RUNS (runs of each contender per round, default 10).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CLI, countReport, envWithoutPassphrase, fmt, initDataDir, makeScratch, median, run, type Benchmark, type BenchOptions, type BenchResult, envInt } from './common.js';

const TARGET = 3;

type Contender = 'node -e 0' | 'import (empty)' | '--help';
const CONTENDERS: Contender[] = ['node -e 0', 'import (empty)', '--help'];

export const startupBenchmark: Benchmark = {
  name: 'startup',
  description: '`callvault import` of an empty directory vs `node -e 0` (wall clock, ratio; target ≤ 3×)',
  async run(options: BenchOptions): Promise<BenchResult> {
    const rounds = options.rounds ?? 3;
    const runs = envInt('BENCH_STARTUP_RUNS', 10);
    const scratch = await makeScratch('startup', options.keep);
    try {
      options.log(`scratch: ${scratch.filesystem}`);
      const data = join(scratch.dir, 'data');
      const empty = join(scratch.dir, 'empty');
      await mkdir(empty);
      await initDataDir(data);
      const env = envWithoutPassphrase();
      const once: Record<Contender, () => Promise<number>> = {
        'node -e 0': async () => (await run(process.execPath, ['-e', '0'], { env })).seconds,
        'import (empty)': async () => {
          const res = await run(process.execPath, [CLI, '--data', data, 'import', empty, '--json'], { env });
          const counts = countReport(res.stdout);
          if (counts.imported !== 0 || counts.failed !== 0) throw new Error(`an empty import imported ${counts.imported}, failed ${counts.failed}`);
          return res.seconds;
        },
        '--help': async () => (await run(process.execPath, [CLI, '--help'], { env })).seconds,
      };
      // untimed: every contender once, so all find their files in the page cache
      for (const who of CONTENDERS) await once[who]();
      const wall: Record<Contender, number[]> = { 'node -e 0': [], 'import (empty)': [], '--help': [] };
      for (let r = 0; r < rounds; r++) {
        for (let i = 0; i < runs; i++) {
          const order = CONTENDERS.map((_, k) => CONTENDERS[(k + i + r) % CONTENDERS.length]!);
          for (const who of order) wall[who].push(await once[who]());
        }
        options.log(`round ${r + 1}/${rounds}: ${CONTENDERS.map((who) => `${who} ${fmt(median(wall[who].slice(-runs)) * 1000)} ms`).join(', ')}`);
      }
      const ms = (who: Contender) => wall[who].map((s) => s * 1000);
      const m = (who: Contender) => median(ms(who));
      const sorted = (who: Contender) => [...ms(who)].sort((a, b) => a - b);
      const p90 = (who: Contender) => sorted(who)[Math.min(sorted(who).length - 1, Math.floor(sorted(who).length * 0.9))]!;
      const ratio = m('import (empty)') / m('node -e 0');
      const row = (who: Contender, label: string, note: string) => ({
        label,
        value: m(who),
        unit: 'ms',
        note: `median of ${wall[who].length} (p90 ${fmt(p90(who))} ms, min ${fmt(sorted(who)[0]!)} ms); ${note}`,
      });
      return {
        name: 'startup',
        rows: [
          row('node -e 0', 'node -e 0', 'the floor: node starting and stopping'),
          row('import (empty)', 'callvault import EMPTY_DIR', 'open the vault, find nothing, log the run, close; no passphrase'),
          row('--help', 'callvault --help', 'every command module loaded, nothing opened (no target)'),
        ],
        ratios: [{ label: 'import of an empty directory / node -e 0 (target ≤ 3)', ratio, comparator: '<', target: TARGET, pass: ratio <= TARGET }],
        notes: [
          `${rounds} rounds of ${runs} runs of each contender (BENCH_STARTUP_RUNS), interleaved, the order rotating every run; one untimed run of each first; wall clock of the child process`,
          `node ${process.version}; the data directory is SQLite with a local keyring, made by \`callvault init\` (not timed)`,
          scratch.filesystem,
        ],
      };
    } finally {
      await scratch.cleanup();
    }
  },
};
