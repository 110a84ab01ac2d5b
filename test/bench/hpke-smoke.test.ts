/**
 * A smoke round of the HPKE benchmark (bench/hpke.ts): wrap and unwrap with node:crypto and with
 * @hpke/core for a tenth of a second each, and both ratios reported; the full round is
 * `npm run bench -- hpke`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hpkeBenchmark } from '../../bench/hpke.js';

test('the HPKE benchmark runs a small round: node:crypto and @hpke/core, wrap and unwrap, side by side', async () => {
  const saved = process.env.BENCH_HPKE_SECONDS;
  process.env.BENCH_HPKE_SECONDS = '0.1';
  try {
    const result = await hpkeBenchmark.run({ rounds: 1, log: () => {} });
    assert.deepEqual(
      result.rows.map((r) => r.label),
      ['wrap, node:crypto', 'wrap, @hpke/core', 'unwrap, node:crypto', 'unwrap, @hpke/core'],
    );
    for (const r of result.rows) assert.ok(r.value > 0 && r.value < 100, JSON.stringify(r));
    // which is faster is the benchmark's figure (docs/benchmarks.md), not a test's to assert on a noisy machine
    assert.equal(result.ratios.length, 2);
    for (const q of result.ratios) assert.ok(Number.isFinite(q.ratio) && q.ratio > 0, JSON.stringify(q));
  } finally {
    if (saved === undefined) delete process.env.BENCH_HPKE_SECONDS;
    else process.env.BENCH_HPKE_SECONDS = saved;
  }
});
