/**
 * `callvault names`: display names of region codes and agent ids, set, listed and removed from the
 * shell, each change an audit entry (`name.set`), and the usage errors in one line.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cli, initVault } from '../helpers.js';

let dir = '';
const run = (...args: string[]) => cli(['--data', dir, ...args]);

before(async () => {
  dir = (await initVault()).dir;
});

test('names set, list and unset, each audited', async () => {
  const set = await run('names', 'set', 'region', 'skane', 'Skåne', '--json');
  assert.equal(set.code, 0, set.stderr);
  assert.deepEqual(set.json, { kind: 'region', id: 'skane', name: 'Skåne', changed: true });
  const text = await run('names', 'set', 'agent', 'nurse-anna', 'Anna Lind');
  assert.equal(text.code, 0, text.stderr);
  assert.equal(text.stdout.trim(), 'agent nurse-anna is shown as “Anna Lind”');

  const list = await run('names', 'list', '--json');
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(list.json.names, [
    { kind: 'agent', id: 'nurse-anna', name: 'Anna Lind' },
    { kind: 'region', id: 'skane', name: 'Skåne' },
  ]);
  const regions = await run('names', 'list', '--kind', 'region', '--json');
  assert.deepEqual(
    regions.json.names.map((n: { id: string }) => n.id),
    ['skane'],
  );

  const unset = await run('names', 'unset', 'region', 'skane');
  assert.equal(unset.code, 0, unset.stderr);
  assert.equal(unset.stdout.trim(), 'region skane has no display name now');
  assert.equal((await run('names', 'unset', 'region', 'skane')).stdout.trim(), 'region skane had no display name');
  assert.deepEqual((await run('names', 'list', '--kind', 'region', '--json')).json.names, []);

  const entries = await run('audit', 'entries', '--json');
  assert.equal(entries.code, 0, entries.stderr);
  const changes = (entries.json as Array<{ entry: string }>)
    .map((e) => JSON.parse(Buffer.from(e.entry, 'base64').toString('utf8')))
    .filter((e: any) => e.action === 'name.set')
    .map((e: any) => [e.outcome, e.detail.kind, e.detail.id, e.detail.name]);
  assert.deepEqual(changes, [
    ['success', 'region', 'skane', 'Skåne'],
    ['success', 'agent', 'nurse-anna', 'Anna Lind'],
    ['success', 'region', 'skane', null],
    ['success', 'region', 'skane', null],
  ]);
});

test('names: a kind that is not one, or a missing name, is a one-line usage error', async () => {
  const kind = await run('names', 'set', 'planet', 'mars', 'Mars');
  assert.equal(kind.code, 2, kind.stderr);
  assert.match(kind.stderr, /is one of region, agent/);
  assert.equal(kind.stderr.trim().split('\n').length, 1, kind.stderr);
  const missing = await run('names', 'set', 'region', 'skane');
  assert.equal(missing.code, 2, missing.stderr);
  assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
  const blank = await run('names', 'set', 'region', 'skane', '   ');
  assert.equal(blank.code, 2, blank.stderr);
});
