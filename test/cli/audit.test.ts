/**
 * `callvault audit …` as an operator runs it: checkpoints go to a file witness, verify exits 1 on
 * a tampered database and on a rolled-back one the witness saw, export and tail print what the
 * log holds, every read of the log is itself an entry (as over HTTP; signing a checkpoint is not a
 * read and adds none), and bad options are usage errors.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import SQLite from 'better-sqlite3';
import { parseVerifierKey } from '../../src/audit/signed-note.js';
import { openCheckpoint } from '../../src/audit/checkpoint.js';
import { cli, initVault, tempDir } from '../helpers.js';

let dir: string;
let init: any;
let witness: string;
let env: Record<string, string>;

before(async () => {
  ({ dir, init } = await initVault());
  witness = join(await tempDir('out', 'witness'), 'checkpoints.txt');
  env = { CALLVAULT_AUDIT_WITNESS: `file:${witness}` };
  for (const id of ['callco', 'spareco', 'nightco']) assert.equal((await cli(['--data', dir, 'processors', 'add', id])).code, 0);
});

test('checkpoints are signed by the key `audit key` prints and handed to the file witness', async () => {
  const vkey = (await cli(['--data', dir, 'audit', 'key'])).stdout.trim();
  assert.match(vkey, /^callvault\.local\/audit\/[0-9a-f]{16}\+[0-9a-f]{8}\+A[A-Za-z0-9+/]{43}$/);
  assert.equal(init.auditKey, vkey, 'init shows the key to hand to the auditors');
  const verifier = parseVerifierKey(vkey);

  const made = await cli(['--data', dir, 'audit', 'checkpoint'], env);
  assert.equal(made.code, 0, made.stderr);
  const cp = openCheckpoint(made.stdout, verifier, verifier.name);
  assert.equal(cp.size, 4, 'three entries and the read of the key');
  assert.equal(
    await readFile(witness, 'utf8'),
    `${made.stdout}
`,
  );

  // nothing new: the same checkpoint, not a second copy at the witness
  const again = await cli(['--data', dir, 'audit', 'checkpoint', '--json'], env);
  assert.equal(again.json.created, false);
  assert.equal(again.json.note, made.stdout);
  assert.equal(await readFile(witness, 'utf8'), `${made.stdout}\n`);

  const ok = await cli(['--data', dir, 'audit', 'verify', '--witness', witness, '--json']);
  assert.equal(ok.code, 0, ok.stdout);
  // the verification is recorded before it runs, so it checks its own entry too
  assert.deepEqual([ok.json.size, ok.json.checkpoints, ok.json.witnessed, ok.json.unsigned], [5, 1, 1, 1]);
});

test('export gives JSON lines and RFC 5424 syslog; tail gives the last entries; the export is itself logged', async () => {
  const jsonl = await cli(['--data', dir, 'audit', 'export', '--format', 'jsonl']);
  assert.equal(jsonl.code, 0, jsonl.stderr);
  const lines = jsonl.stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    lines.map((l) => l.event.action),
    ['processor.create', 'processor.create', 'processor.create', 'audit.read', 'audit.read'],
  );
  assert.deepEqual(
    lines.slice(3).map((l) => l.event.detail.what),
    ['key', 'verify'],
  );
  assert.equal(lines[0].event.actor.type, 'cli');

  const syslog = await cli(['--data', dir, 'audit', 'export', '--format', 'syslog', '--from', '1', '--to', '2']);
  assert.match(syslog.stdout, /^<110>1 \S+ \S+ callvault - processor\.create \[callvault@32473 index="1" leafHash="[A-Za-z0-9+/=]+"\] \{.*\}\n$/);

  // the tail is recorded first, and is not among the last entries it prints
  const tail = await cli(['--data', dir, 'audit', 'tail', '-n', '2', '--json']);
  const tailed = tail.stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    tailed.map((t) => [t.index, t.event.action]),
    [
      [5, 'audit.export'],
      [6, 'audit.export'],
    ],
  );

  const entries = await cli(['--data', dir, 'audit', 'entries', '--from', '7', '--json']);
  assert.equal(entries.code, 0, entries.stderr);
  const read = entries.json.map((e: { index: number; entry: string }) => [e.index, JSON.parse(Buffer.from(e.entry, 'base64').toString('utf8'))]);
  assert.deepEqual(
    read.map(([index, e]: [number, { action: string; actor: { type: string }; detail: unknown }]) => [index, e.action, e.actor.type, e.detail]),
    [[7, 'audit.read', 'cli', { what: 'tail', from: 5, to: 7, follow: false }]],
  );
});

test('verify exits 1 when the database was altered, and when it was rolled back behind the witness', async () => {
  const second = await cli(['--data', dir, 'audit', 'checkpoint', '--json'], env);
  assert.deepEqual([second.code, second.json.size, second.json.created], [0, 9, true], second.stderr);
  const db = new SQLite(join(dir, 'callvault.db'));
  const original = db.prepare('SELECT entry FROM audit_entries WHERE seq = 1').get() as { entry: string };
  try {
    db.prepare('UPDATE audit_entries SET entry = replace(entry, ?, ?) WHERE seq = 1').run('spareco', 'sparecx');
    const bad = await cli(['--data', dir, 'audit', 'verify', '--json']);
    assert.equal(bad.code, 1);
    assert.equal(bad.json.ok, false);
    assert.deepEqual(bad.json.problems.map((p: { code: string }) => p.code).sort(), ['checkpoint-root', 'checkpoint-root', 'leaf-hash']);
    const text = await cli(['--data', dir, 'audit', 'verify']);
    assert.match(text.stdout, /PROBLEM {2}leaf-hash: entry 1 does not match its stored hash/);
    assert.match(text.stdout, /does NOT verify/);
  } finally {
    db.prepare('UPDATE audit_entries SET entry = ? WHERE seq = 1').run(original.entry);
  }
  assert.equal((await cli(['--data', dir, 'audit', 'verify'])).code, 0);

  // roll the database back to size 3: entries and checkpoints after it removed, as a restore
  // from an old backup would; the database alone is consistent again, the witness is not
  db.prepare('DELETE FROM audit_entries WHERE seq >= 3').run();
  db.prepare('DELETE FROM audit_checkpoints WHERE size > 3').run();
  db.prepare('DELETE FROM audit_subtrees').run();
  db.prepare('UPDATE audit_head SET size = 3').run();
  db.close();
  assert.equal((await cli(['--data', dir, 'audit', 'verify'])).code, 0);
  const rolledBack = await cli(['--data', dir, 'audit', 'verify', '--witness', witness, '--json']);
  assert.equal(rolledBack.code, 1);
  assert.ok(rolledBack.json.problems.some((p: { code: string }) => p.code === 'witness-beyond-log'));
});

test('the identifier hash is computed with the passphrase; bad options are usage errors', async () => {
  const hash = await cli(['--data', dir, 'audit', 'hash', '--personnummer', '19121212-1212', '--json']);
  assert.equal(hash.code, 0, hash.stderr);
  assert.match(hash.json.hash, /^[0-9a-f]{64}$/);
  const same = await cli(['--data', dir, 'audit', 'hash', '--personnummer', '191212121212', '--json']);
  assert.equal(same.json.hash, hash.json.hash, 'any spelling of the number gives the same hash');

  for (const args of [
    ['audit', 'proof', '--index', '0', '--from', '0'],
    ['audit', 'proof'],
    ['audit', 'proof', '--index', '9', '--size', '2'],
    ['audit', 'entries', '--from', '-1'],
    ['audit', 'export', '--format', 'xml'],
    ['audit', 'hash', '--personnummer', 'not-a-number'],
    ['subject', 'access-log'],
  ]) {
    const r = await cli(['--data', dir, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  }
});

test('verify --since-checkpoint re-hashes only the entries after the checkpoint the last verification reached', async () => {
  const { dir: own } = await initVault();
  const first = await cli(['--data', own, 'audit', 'checkpoint', '--json']);
  const full = await cli(['--data', own, 'audit', 'verify', '--json']);
  assert.equal(full.code, 0, full.stdout);
  assert.deepEqual([full.json.mode, full.json.from, full.json.since, full.json.recorded.size, full.json.recorded.mode], ['full', 0, null, first.json.size, 'full']);
  assert.equal((await cli(['--data', own, 'processors', 'add', 'laterco'])).code, 0);
  const second = await cli(['--data', own, 'audit', 'checkpoint', '--json']);

  const since = await cli(['--data', own, 'audit', 'verify', '--since-checkpoint', '--json']);
  assert.equal(since.code, 0, since.stdout);
  assert.deepEqual(
    [since.json.mode, since.json.from, since.json.checked, since.json.since.size, since.json.since.mode, since.json.recorded.size, since.json.lastFull.size],
    ['incremental', first.json.size, since.json.size - first.json.size, first.json.size, 'full', second.json.size, first.json.size],
  );
  const text = await cli(['--data', own, 'audit', 'verify', '--since-checkpoint']);
  assert.match(
    text.stdout,
    new RegExp(`^entries ${second.json.size}\\.\\.\\d+ checked against the signed checkpoint at size ${second.json.size} \\(verified incremental at `, 'm'),
  );
  assert.match(text.stdout, /^the last full verification passed at .*, up to size \d+$/m);

  // an entry before that checkpoint changed in its text alone: only the full verify sees it
  const db = new SQLite(join(own, 'callvault.db'));
  try {
    db.prepare('UPDATE audit_entries SET entry = replace(entry, ?, ?) WHERE seq = 1').run('"cli"', '"CLI"');
    assert.equal((await cli(['--data', own, 'audit', 'verify', '--since-checkpoint'])).code, 0);
    const bad = await cli(['--data', own, 'audit', 'verify', '--json']);
    assert.equal(bad.code, 1);
    assert.ok(bad.json.problems.some((p: { code: string; index?: number }) => p.code === 'leaf-hash' && p.index === 1));
  } finally {
    db.close();
  }
});
