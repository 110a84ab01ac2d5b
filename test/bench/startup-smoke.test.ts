/**
 * A smoke round of the start-up benchmark (bench/startup.ts): an empty import, `--help` and
 * `node -e 0`, two runs each, reported side by side; the full round is `npm run bench -- startup`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startupBenchmark } from '../../bench/startup.js';

test('the start-up benchmark runs a small round and reports the import against node -e 0', async () => {
  const saved = process.env.BENCH_STARTUP_RUNS;
  process.env.BENCH_STARTUP_RUNS = '2';
  try {
    const result = await startupBenchmark.run({ rounds: 1, log: () => {} });
    assert.deepEqual(
      result.rows.map((r) => r.label),
      ['node -e 0', 'callvault import EMPTY_DIR', 'callvault --help'],
    );
    for (const r of result.rows) assert.ok(r.value > 0 && r.unit === 'ms', JSON.stringify(r));
    const [node, imported] = result.rows;
    assert.ok(imported!.value > node!.value, 'an import does more than starting node');
    assert.equal(result.ratios.length, 1);
    assert.equal(result.ratios[0]!.target, 3);
    assert.ok(Math.abs(result.ratios[0]!.ratio - imported!.value / node!.value) < 1e-9);
  } finally {
    if (saved === undefined) delete process.env.BENCH_STARTUP_RUNS;
    else process.env.BENCH_STARTUP_RUNS = saved;
  }
});
