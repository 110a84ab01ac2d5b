/**
 * A full disk: the data directory is a 3 MiB tmpfs, and the import brings more than fits.
 * Needs root to mount; CI and the development machines run as root.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cli, tempDir } from '../helpers.js';
import { wavHeader } from '../fixtures/audio.js';
import { Vault } from '../../src/vault.js';

const run = promisify(execFile);

it('a full disk fails the import cleanly: no partial object, no pending row, the store verifies', async (t) => {
  const dir = join(await tempDir('data', 'full'), 'vault');
  await mkdir(dir);
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', dir]);
  } catch {
    t.skip('mounting a tmpfs needs root');
    return;
  }
  try {
    const init = await cli(['--data', dir, 'init', '--json']);
    assert.equal(init.code, 0, init.stderr);
    const src = await tempDir('src', 'full');
    for (let i = 0; i < 5; i++) {
      const samples = randomBytes(900_000);
      await writeFile(join(src, `call-${i}.wav`), Buffer.concat([wavHeader({ formatTag: 1, channels: 1, rate: 8000, bits: 16, dataBytes: samples.length }), samples]));
    }
    const r = await cli(['--data', dir, 'import', src, '--json', '--concurrency', '1']);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.json.imported, r.stdout + r.stderr);
    assert.ok(r.json.imported.length >= 1, 'what fits is stored');
    assert.ok(r.json.failed.length >= 1, 'what does not fit fails');
    for (const f of r.json.failed) assert.match(f.reason, /disk is full/);
    assert.deepEqual(await readdir(join(dir, 'objects', '.tmp')).catch(() => []), [], 'no partial object left');
    const v = await Vault.open(dir);
    try {
      const rows = await v.database.db.selectFrom('recordings').select(['state']).execute();
      assert.equal(rows.length, r.json.imported.length);
      assert.ok(rows.every((row) => row.state === 'stored'));
    } finally {
      await v.close();
    }
    const verify = await cli(['--data', dir, 'verify', '--deep', '--json']);
    assert.equal(verify.code, 0, verify.stdout);
    assert.equal(verify.json.checked, r.json.imported.length);
  } finally {
    await run('umount', [dir]);
  }
});
