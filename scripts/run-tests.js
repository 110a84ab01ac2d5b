#!/usr/bin/env node
// Runs the whole test suite with node's test runner: every test file, then the scan of every data
// directory the suite created for plaintext audio and identifiers, which must run last.
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = mkdtempSync(join(tmpdir(), 'callvault-suite-'));
process.env.CALLVAULT_TEST_ROOT = root;
process.env.CALLVAULT_PASSPHRASE = '';

function testFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...testFiles(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const only = process.argv.slice(2);
const all = testFiles('dist/test').filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
const last = all.filter((f) => f.endsWith('plaintext-scan.test.js'));
// the longest files start first, so that none of them is left running alone at the end while the
// other lane is idle (durations from a CI run: minutes each, the rest take seconds)
const SLOW = [
  'import/crash.test.js',
  'import/import.test.js',
  'cli/manage.test.js',
  'backup/backup.test.js',
  'cluster/two-servers.test.js',
  'import/options.test.js',
  'redaction/redaction.test.js',
  'bench/smoke-data.test.js',
  'bench/smoke-import.test.js',
];
const slowness = (f) => {
  const i = SLOW.findIndex((s) => f.endsWith(s));
  return i === -1 ? SLOW.length : i;
};
const first = all.filter((f) => !last.includes(f)).sort((a, b) => slowness(a) - slowness(b));

let passed = 0;
let failed = 0;
async function runFiles(files) {
  if (files.length === 0) return;
  const stream = run({ files, concurrency: 2, timeout: 10 * 60_000 });
  stream.on('test:pass', (t) => {
    if (t.details?.type !== 'suite') passed += 1;
  });
  stream.on('test:fail', (t) => {
    if (t.details?.type !== 'suite') failed += 1;
  });
  await new Promise((resolve, reject) => {
    const out = stream.compose(spec);
    out.on('data', (chunk) => process.stdout.write(chunk));
    out.on('end', resolve);
    out.on('error', reject);
  });
}

await runFiles(first);
await runFiles(last);
if (!process.env.CALLVAULT_KEEP_TEST_ROOT) rmSync(root, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
