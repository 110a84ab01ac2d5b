/**
 * `callvault pii detect` as a real process: a file and stdin, the fixed `--json` shape, the human
 * listing, and a missing file. It needs no data directory and no passphrase.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLI, cli, tempDir } from '../helpers.js';

const TEXT = 'Hej! Mitt personnummer är 19850709-9805 och du når mig på noll sju noll, ett sju fyra, noll sex, noll fem eller anna@example.se.\n';
const EXPECTED = [
  { type: 'personnummer', start: TEXT.indexOf('19850709-9805'), end: TEXT.indexOf('19850709-9805') + 13 },
  { type: 'phone', start: TEXT.indexOf('noll sju noll'), end: TEXT.indexOf(' eller') },
  { type: 'email', start: TEXT.indexOf('anna@'), end: TEXT.indexOf('anna@') + 'anna@example.se'.length },
];

/** no data directory and no passphrase: a directory that does not exist, and none set */
const ENV = { CALLVAULT_DATA: '/nonexistent/callvault-data', CALLVAULT_PASSPHRASE: undefined };

/** `callvault ARGS` with `input` on stdin */
function cliWithStdin(args: string[], input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.CALLVAULT_PASSPHRASE;
    env.CALLVAULT_DATA = ENV.CALLVAULT_DATA;
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

test('pii detect FILE --json: exactly [{type, start, end}] in order', async () => {
  const dir = await tempDir('src', 'pii');
  const file = join(dir, 'transcript.txt');
  await writeFile(file, TEXT);
  const r = await cli(['pii', 'detect', file, '--json'], ENV);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.json, EXPECTED);
  for (const d of r.json) assert.deepEqual(Object.keys(d), ['type', 'start', 'end']);
  // the global flag before the command works the same
  const before = await cli(['--json', 'pii', 'detect', file], ENV);
  assert.deepEqual(before.json, EXPECTED);
});

test('pii detect from stdin, with - and with no argument', async () => {
  for (const args of [
    ['pii', 'detect', '-', '--json'],
    ['pii', 'detect', '--json'],
  ]) {
    const r = await cliWithStdin(args, TEXT);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), EXPECTED);
  }
  const none = await cliWithStdin(['pii', 'detect', '--json'], 'Hon tar 500 mg den 2024-05-12 klockan 14.30.');
  assert.equal(none.code, 0);
  assert.deepEqual(JSON.parse(none.stdout), []);
});

test('pii detect without --json: type, offsets and the matched text, one line each', async () => {
  const r = await cliWithStdin(['pii', 'detect'], TEXT);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 3);
  for (const [i, d] of EXPECTED.entries()) {
    assert.ok(lines[i]!.startsWith(d.type), lines[i]);
    assert.ok(lines[i]!.includes(`${d.start}–${d.end}`), lines[i]);
    assert.ok(lines[i]!.endsWith(TEXT.slice(d.start, d.end)), lines[i]);
  }
});

test('pii detect on a missing file: one line, CV_USAGE, exit 2, and an identifier in the file name is not echoed', async () => {
  const dir = await tempDir('src', 'pii');
  const missing = join(dir, '19850709-9805.txt');
  const r = await cli(['pii', 'detect', missing], ENV);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /CV_USAGE/);
  assert.doesNotMatch(r.stderr, /19850709/);
  const json = await cli(['pii', 'detect', missing, '--json'], ENV);
  assert.equal(json.code, 2);
  assert.equal(json.json.error.code, 'CV_USAGE');
});
