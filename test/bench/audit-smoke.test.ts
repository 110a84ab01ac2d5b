/**
 * A smoke round of the audit benchmark (bench/audit.ts) at a small size: appends against INSERTs
 * on SQLite and PostgreSQL, and the verification part (a log of 3,000 entries; the incremental
 * verification of its last 200) against `openssl dgst -sha256`, with every check the benchmark
 * makes of what verify reports; the full size is `npm run bench -- audit`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auditBenchmark } from '../../bench/audit.js';

const ENV = { BENCH_AUDIT_PARTS: 'append,verify', BENCH_AUDIT_APPENDS: '60', BENCH_AUDIT_ENTRIES: '3000', BENCH_AUDIT_INCREMENTAL: '200' };

test('the audit benchmark runs a small round of both parts and reports every contender', async () => {
  const saved = Object.fromEntries(Object.keys(ENV).map((k) => [k, process.env[k]]));
  Object.assign(process.env, ENV);
  try {
    const result = await auditBenchmark.run({ rounds: 1, log: () => {} });
    const row = (prefix: string) => {
      const found = result.rows.find((r) => r.label.startsWith(prefix));
      assert.ok(found, `no row ${prefix}: ${result.rows.map((r) => r.label).join(' | ')}`);
      return found;
    };
    for (const prefix of ['openssl dgst -sha256', 'sha256sum', 'callvault audit verify (3,000 entries)', 'callvault audit verify --since-checkpoint (last 200)'])
      assert.ok(row(prefix).value > 0);
    assert.ok(row('SQLite').value > 0);
    // both timed; which is faster is the benchmark's to report, not a test's to assert on a noisy machine
    for (const prefix of ['incremental verify of the last 200, in this process', 'verifyAuditLog in this process']) assert.ok(row(prefix).value > 0);
    assert.deepEqual(
      result.ratios.filter((q) => /openssl|incremental/.test(q.label)).map((q) => q.comparator),
      ['>=', '<'],
    );
    assert.ok(result.notes.some((n) => n.includes('at 2,800')));
  } finally {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
});
