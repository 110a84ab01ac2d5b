/**
 * A smoke round of the breach benchmark (bench/breach.ts) on SQLite and PostgreSQL at a few
 * thousand recordings: it loads, drops and remakes the indexes, runs every case once beside its
 * baseline, and reports what it measured; the full size is `npm run bench -- breach`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { breachBenchmark } from '../../bench/breach.js';

test('the breach benchmark runs a small round on SQLite and PostgreSQL and reports every case', async () => {
  const saved = { rows: process.env.BENCH_BREACH_ROWS, dbs: process.env.BENCH_BREACH_DBS };
  process.env.BENCH_BREACH_ROWS = '4200';
  process.env.BENCH_BREACH_DBS = 'sqlite,postgres';
  try {
    const result = await breachBenchmark.run({ rounds: 1, log: () => {} });
    for (const dialect of ['sqlite', 'postgres']) {
      const reports = result.rows.filter((r) => r.label.startsWith(`${dialect}: report `));
      assert.equal(reports.length, 3, `${dialect}: controller, month, key-month`);
      // 4200 recordings over 21 controllers and six years: region-01 has about 200
      const controller = reports.find((r) => r.label.includes('by controller'))!;
      const recordings = Number(/^(\d+) recordings/.exec(controller.note ?? '')?.[1]);
      assert.ok(recordings > 100 && recordings < 320, controller.note);
      assert.ok(result.rows.some((r) => r.label.startsWith(`${dialect}: baseline`)));
    }
    assert.equal(result.ratios.filter((q) => q.label.includes('/ 60 s')).length, 6);
    assert.ok(
      result.ratios.every((q) => q.pass),
      JSON.stringify(result.ratios),
    );
    assert.ok(result.notes.some((n) => n.includes('4200')));
  } finally {
    for (const [k, v] of [
      ['BENCH_BREACH_ROWS', saved.rows],
      ['BENCH_BREACH_DBS', saved.dbs],
    ] as const)
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
});
