/**
 * A smoke round of the SIPREC benchmark (bench/siprec.ts): two concurrent SIPp calls of three
 * seconds; both are stored complete with no packet lost. The full round is `npm run bench -- siprec`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { siprecBenchmark } from '../../bench/siprec.js';

test('the SIPREC benchmark runs a small round: two calls held, both recordings complete', async () => {
  const saved = { calls: process.env.BENCH_SIPREC_CALLS, seconds: process.env.BENCH_SIPREC_SECONDS, target: process.env.BENCH_SIPREC_TARGET };
  Object.assign(process.env, { BENCH_SIPREC_CALLS: '2', BENCH_SIPREC_SECONDS: '3', BENCH_SIPREC_TARGET: '2' });
  try {
    const result = await siprecBenchmark.run({ rounds: 1, log: () => {} });
    const value = (label: string) => result.rows.find((r) => r.label === label)?.value;
    assert.equal(value('2 calls: every recording complete'), 1, JSON.stringify(result.rows));
    assert.ok(value('2 calls: packets lost by the server')! < 0.1, JSON.stringify(result.rows));
    assert.equal(value('most calls held (< 0.1 % lost, every recording complete)'), 2);
    assert.ok(value('2 calls: BYE to stored, p99')! > 0);
    assert.ok(result.ratios.every((r) => r.pass));
  } finally {
    for (const [k, v] of Object.entries({ BENCH_SIPREC_CALLS: saved.calls, BENCH_SIPREC_SECONDS: saved.seconds, BENCH_SIPREC_TARGET: saved.target })) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});
