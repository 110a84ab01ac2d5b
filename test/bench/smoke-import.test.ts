/**
 * A smoke round of the benchmarks that run `callvault` as a child process over generated files:
 * import, rss, archive and scan, and container (bench/; test/bench/smoke.ts says what is checked).
 * The full sizes are `npm run bench -- NAME`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importBenchmark } from '../../bench/import.js';
import { rssBenchmark } from '../../bench/rss.js';
import { archiveBenchmark } from '../../bench/archive.js';
import { scanBenchmark } from '../../bench/scan.js';
import { containerBenchmark } from '../../bench/container.js';
import { ratios, row, smoke } from './smoke.js';

test('bench import: 3 files against cp -r and cp -r && sync', async () => {
  const r = await smoke(importBenchmark, {}, { files: 3 });
  for (const label of ['callvault import', 'cp -r && sync', 'import fixed cost', 'crypto ceiling']) row(r, label);
  ratios(r, 1);
});

test('bench rss: peak RSS of imports of short WAVs and an empty directory', async () => {
  const r = await smoke(rssBenchmark, { BENCH_RSS_SCALE: '0.005' });
  row(r, 'import of an empty dir');
  assert.equal(r.rows.filter((x) => /^import of a .* WAV/.test(x.label)).length, 3);
  row(r, /^import of 2 × 2 MB WAVs/);
  ratios(r, 4);
});

test('bench archive: small WAVs into SQLite and PostgreSQL, cp -r && sync, and the re-run', async () => {
  const r = await smoke(archiveBenchmark, {}, { files: 20 });
  row(r, 'cp -r && sync');
  for (const db of ['sqlite', 'postgres']) {
    row(r, `callvault import, ${db}`);
    row(r, `re-run of the finished import, ${db}`);
    row(r, `import of an empty directory, ${db}`);
  }
  row(r, 'find+stat of every file');
  ratios(r, 4);
  assert.ok(r.notes.some((n) => n.startsWith('20 WAV files')));
});

test('bench scan: a generated archive, its report checked against the truth', async () => {
  // the benchmark throws when scan's counts differ from what it generated
  const r = await smoke(scanBenchmark, {}, { files: 300 });
  row(r, 'callvault scan --json');
  row(r, 'find | xargs head -c 4096');
  row(r, 'scan fixed cost');
  ratios(r, 1);
});

test('bench container: AES-256-GCM in memory against openssl speed', async () => {
  const r = await smoke(containerBenchmark, { BENCH_CONTAINER_MIB: '4', BENCH_CONTAINER_SECONDS: '1' });
  for (const label of ['openssl enc', 'openssl dec', 'EncryptStream (4 MiB', 'openRecording().read()']) row(r, label);
  ratios(r, 2);
});
