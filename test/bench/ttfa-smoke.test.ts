/**
 * A smoke round of the time-to-first-audio benchmark (bench/ttfa.ts): two plays in Chromium, each
 * of a different call, in callvault's web UI and on nginx's static page; the full round is
 * `npm run bench -- ttfa`. Needs the web UI built (`npm run build`), as test/web does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ttfaBenchmark } from '../../bench/ttfa.js';
import { ratios, row, smoke } from './smoke.js';

test('bench ttfa: Play in the web UI and on a static nginx page, time to first audio side by side', async () => {
  const r = await smoke(ttfaBenchmark, { BENCH_TTFA_PLAYS: '2', BENCH_TTFA_AUDIO_SECONDS: '30' });
  for (const who of ['callvault', 'nginx']) {
    const p50 = row(r, `${who} time to first audio p50`);
    assert.ok(row(r, `${who} time to first audio p95`) >= p50);
    assert.equal(r.rows.find((x) => x.label.startsWith(`${who} time to first audio p50`))!.samples!.length, 2, 'two plays');
  }
  ratios(r, 1);
});
