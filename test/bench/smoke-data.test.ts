/**
 * A smoke round of the benchmarks that run in process against a vault's database or a server:
 * playback, pii, scale and retention (bench/; test/bench/smoke.ts says what is checked;
 * the breach and insiders benchmarks have smoke tests of their own, and retention's runs on both
 * databases are test/retention/retention-bench.test.ts).
 * The full sizes are `npm run bench -- NAME`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { playbackBenchmark } from '../../bench/playback.js';
import { piiBenchmark } from '../../bench/pii.js';
import { scaleBenchmark } from '../../bench/scale.js';
import { retentionBenchmark } from '../../bench/retention.js';
import { ratios, row, smoke } from './smoke.js';

test('bench playback: a nurse plays the redacted rendition of a call beside nginx serving the same bytes', async () => {
  const r = await smoke(playbackBenchmark, {
    BENCH_SECONDS: '2',
    BENCH_PLAYBACK_AUDIO_SECONDS: '75',
    BENCH_PLAYBACK_STREAMS: '3',
    BENCH_PLAYBACK_TTFB: '3',
    BENCH_PLAYBACK_PHASE_SECONDS: '1',
    BENCH_PLAYBACK_CONNECTIONS: '4',
  });
  for (const who of ['callvault', 'nginx']) {
    // under a loaded machine two seconds may complete no request: the rows must be there
    row(r, `${who} requests/s`, { zero: true });
    row(r, `${who} TTFB, one range request`);
    row(r, `${who} RSS peak, 3 full-file streams`);
  }
  row(r, 'part: read + decrypt 1 MiB');
  assert.equal(r.ratios.length, 3);
  for (const q of r.ratios.slice(1)) assert.ok(Number.isFinite(q.ratio) && q.ratio > 0, `${q.label}: ${q.ratio}`);
  assert.ok(r.notes.some((n) => n.includes('redacted rendition')));
});

// the audit benchmark's smoke round is test/bench/audit-smoke.test.ts

test('bench pii: quality on the labelled sets, speed, and the redaction of one spoken call', async () => {
  const r = await smoke(piiBenchmark, { BENCH_PII_MB: '0.1', BENCH_PII_CALLS: '1' });
  for (const set of ['labelled', 'held-out']) for (const type of ['personnummer', 'phone']) row(r, `${set}: ${type} found`);
  row(r, 'identifier spans that are tone after redaction');
  row(r, 'examine + redact + encrypt the renditions');
  ratios(r, 16);
});

test('bench scale: a few thousand recordings in SQLite and PostgreSQL', async () => {
  const r = await smoke(scaleBenchmark, { BENCH_SCALE_ROWS: '2000', BENCH_SCALE_QUERIES: '20', BENCH_SCALE_DBS: 'sqlite,postgres' });
  for (const db of ['sqlite', 'postgres']) {
    row(r, `${db}: load 2000 recordings`);
    row(r, `${db}: primary-key lookup, p99`);
    row(r, `${db}: subject lookup by personnummer, p99`);
  }
  ratios(r, 4);
});

// the runs themselves, on both databases, are checked by test/retention/retention-bench.test.ts;
// this is the wrapper `npm run bench -- retention` calls, on SQLite
test('bench retention: two runs on a five-month archive in SQLite', async () => {
  const r = await smoke(retentionBenchmark, {
    BENCH_RETENTION_ROWS: '300',
    BENCH_RETENTION_MONTHS: '5',
    BENCH_RETENTION_CASES: '1,1',
    BENCH_RETENTION_DBS: 'sqlite',
  });
  row(r, 'sqlite: 1 month(s): run');
  row(r, 'sqlite: 1 month(s), objects present: run');
  ratios(r, 2);
});
