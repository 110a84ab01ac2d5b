/**
 * The smoke round of the benchmarks (bench/): every benchmark runs once at a tiny size, so that a
 * benchmark that no longer runs is a failing test, not a number missing from docs/benchmarks.md.
 * The checks are that it ran and reported its rows and ratios, never a target: at these sizes
 * the figures mean nothing. Shared by the smoke test files.
 */
import assert from 'node:assert/strict';
import type { Benchmark, BenchResult } from '../../bench/common.js';

/** runs `bench` with `env` set (and restored after), one round, quietly */
export async function smoke(bench: Benchmark, env: Record<string, string>, options: { files?: number } = {}): Promise<BenchResult> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  const lines: string[] = [];
  try {
    const result = await bench.run({ rounds: 1, files: options.files, log: (line) => lines.push(line) });
    assert.equal(result.name, bench.name);
    return result;
  } catch (err) {
    // what the benchmark said before it failed is the best clue
    throw new Error(`${bench.name}: ${(err as Error).message}\n${lines.slice(-20).join('\n')}`);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** the row whose label starts with `label`, with a finite value (> 0 unless `zero` may be) */
export function row(result: BenchResult, label: string | RegExp, opts: { zero?: boolean } = {}): number {
  const r = result.rows.find((x) => (typeof label === 'string' ? x.label.startsWith(label) : label.test(x.label)));
  assert.ok(r, `${result.name}: no row "${String(label)}" in ${JSON.stringify(result.rows.map((x) => x.label))}`);
  assert.ok(Number.isFinite(r.value), `${result.name}: row "${r.label}" is ${r.value}`);
  if (!opts.zero) assert.ok(r.value > 0, `${result.name}: row "${r.label}" is ${r.value}`);
  return r.value;
}

/** the ratios, each a finite number > 0, and at least `count` of them */
export function ratios(result: BenchResult, count: number): void {
  assert.ok(result.ratios.length >= count, `${result.name}: ${result.ratios.length} ratios, expected ${count}: ${JSON.stringify(result.ratios)}`);
  for (const q of result.ratios) assert.ok(Number.isFinite(q.ratio) && q.ratio > 0, `${result.name}: ratio "${q.label}" is ${q.ratio}`);
}
