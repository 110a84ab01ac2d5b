/**
 * A smoke round of the latency benchmark (bench/latency.ts): two nurses read 256 KiB ranges of
 * their calls while a small import runs, from callvault and from nginx; the full round is
 * `npm run bench -- latency`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { latencyBenchmark } from '../../bench/latency.js';
import { ratios, row, smoke } from './smoke.js';

test('bench latency: nurses read ranges during an import, from callvault and from nginx, p50 and p99 side by side', async () => {
  const r = await smoke(latencyBenchmark, {
    BENCH_LATENCY_LISTENERS: '2',
    BENCH_LATENCY_IMPORT_FILES: '8',
    BENCH_LATENCY_FILE_SECONDS: '10',
    BENCH_LATENCY_AUDIO_SECONDS: '40',
    // a range every 0.25 s per nurse: a short import (a second, on a quiet machine) still sees several
    BENCH_LATENCY_SPEED: '64',
  });
  for (const who of ['callvault', 'nginx']) {
    const p50 = row(r, `${who} p50`);
    const p99 = row(r, `${who} p99`);
    assert.ok(p99 >= p50, `${who}: p99 ${p99} below p50 ${p50}`);
    row(r, `import of 8 files beside ${who}`);
  }
  ratios(r, 2);
});
