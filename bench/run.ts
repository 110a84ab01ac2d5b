/**
 * Benchmark dispatcher: `npm run bench [-- NAME... [options]]`.
 *
 * Every benchmark measures callvault side by side with a baseline in the same run (the machine is
 * noisy, so absolute figures from different runs do not compare) and reports the ratio against
 * its target. Options:
 *   --rounds N   rounds per benchmark (default 3)
 *   --files N    import, archive, scan: number of generated files (defaults 300, 100,000, 100,000)
 *   --keep       keep the scratch directories
 *   --json       also print the results as JSON on stdout
 *   --strict     exit 1 when a ratio misses its target
 * Scratch space: CALLVAULT_BENCH_TMP, else os.tmpdir(). playback also reads BENCH_SECONDS (load per
 * server per round, default 10), BENCH_LOADGEN (wrk or autocannon) and BENCH_SERVER_NODE_ARGS.
 */
import { cpus } from 'node:os';
import { fmt, type Benchmark, type BenchOptions, type BenchResult } from './common.js';

/** name → loader; a later benchmark (scale, playback, …) is one more line here */
const BENCHMARKS: Record<string, () => Promise<Benchmark>> = {
  import: async () => (await import('./import.js')).importBenchmark,
  container: async () => (await import('./container.js')).containerBenchmark,
  rss: async () => (await import('./rss.js')).rssBenchmark,
  playback: async () => (await import('./playback.js')).playbackBenchmark,
  audit: async () => (await import('./audit.js')).auditBenchmark,
  pii: async () => (await import('./pii.js')).piiBenchmark,
  scale: async () => (await import('./scale.js')).scaleBenchmark,
  breach: async () => (await import('./breach.js')).breachBenchmark,
  retention: async () => (await import('./retention.js')).retentionBenchmark,
  insiders: async () => (await import('./insiders.js')).insidersBenchmark,
  archive: async () => (await import('./archive.js')).archiveBenchmark,
  scan: async () => (await import('./scan.js')).scanBenchmark,
  startup: async () => (await import('./startup.js')).startupBenchmark,
  hpke: async () => (await import('./hpke.js')).hpkeBenchmark,
  latency: async () => (await import('./latency.js')).latencyBenchmark,
  ttfa: async () => (await import('./ttfa.js')).ttfaBenchmark,
  siprec: async () => (await import('./siprec.js')).siprecBenchmark,
};

interface Args {
  names: string[];
  rounds?: number;
  files?: number;
  keep: boolean;
  json: boolean;
  strict: boolean;
}

function usage(): string {
  return `usage: npm run bench [-- NAME... [--rounds N] [--files N] [--keep] [--json] [--strict]]\nbenchmarks: ${Object.keys(BENCHMARKS).join(', ')}`;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { names: [], keep: false, json: false, strict: false };
  const positive = (flag: string, v: string | undefined) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a positive integer`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--rounds') args.rounds = positive(a, argv[++i]);
    else if (a === '--files') args.files = positive(a, argv[++i]);
    else if (a === '--keep') args.keep = true;
    else if (a === '--json') args.json = true;
    else if (a === '--strict') args.strict = true;
    else if (a === '-h' || a === '--help') {
      process.stdout.write(`${usage()}\n`);
      process.exit(0);
    } else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else if (!(a in BENCHMARKS)) throw new Error(`unknown benchmark "${a}"`);
    else args.names.push(a);
  }
  if (args.names.length === 0) args.names = Object.keys(BENCHMARKS);
  return args;
}

function table(headers: string[], rows: string[][], alignRight: boolean[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (alignRight[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** seconds and milliseconds with two decimals, everything else with one */
function digitsFor(unit: string): number {
  return unit === 's' || unit === 'ms' ? 2 : 1;
}

function report(result: BenchResult): string {
  const out: string[] = [`== ${result.name}`];
  out.push(
    table(
      ['measurement', 'value', 'unit', 'samples', 'note'],
      result.rows.map((r) => [r.label, fmt(r.value, digitsFor(r.unit)), r.unit, (r.samples ?? []).map((s) => fmt(s, digitsFor(r.unit))).join(' / '), r.note ?? '']),
      [false, true, false, false, false],
    ),
  );
  out.push('');
  for (const q of result.ratios) {
    const target = q.comparator === '<' ? `< ${q.target}` : `>= ${q.target}`;
    out.push(`ratio  ${q.label}: ${fmt(q.ratio, 2)}  (target ${target})  ${q.pass ? 'meets target' : 'MISSES TARGET'}`);
  }
  for (const n of result.notes) out.push(`note   ${n}`);
  return out.join('\n');
}

async function main(): Promise<void> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage()}\n`);
    process.exitCode = 2;
    return;
  }
  const cpu = cpus();
  process.stderr.write(`callvault benchmarks: ${args.names.join(', ')} | node ${process.version} | ${cpu.length} cores (${cpu[0]?.model ?? '?'}) | ${new Date().toISOString()}\n`);
  const results: BenchResult[] = [];
  let failedToRun = false;
  for (const name of args.names) {
    const bench = await BENCHMARKS[name]!();
    process.stderr.write(`\n-- ${bench.name}: ${bench.description}\n`);
    const options: BenchOptions = {
      rounds: args.rounds,
      files: args.files,
      keep: args.keep,
      log: (line) => process.stderr.write(`   ${line}\n`),
    };
    try {
      const started = Date.now();
      const result = await bench.run(options);
      results.push(result);
      process.stdout.write(`\n${report(result)}\nnote   took ${fmt((Date.now() - started) / 1000)} s\n`);
    } catch (err) {
      failedToRun = true;
      process.stdout.write(`\n== ${name}\nERROR  ${(err as Error).message}\n`);
    }
  }
  if (args.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  const missed = results.flatMap((r) => r.ratios.filter((q) => !q.pass).map((q) => `${r.name}: ${q.label}`));
  process.stdout.write(
    `\nsummary: ${results.length} benchmark(s) ran${failedToRun ? ', some FAILED to run' : ''}; ` +
      `${missed.length ? `missing target: ${missed.join('; ')}` : 'all ratios meet their targets'}\n`,
  );
  if (failedToRun || (args.strict && missed.length > 0)) process.exitCode = 1;
}

await main();
