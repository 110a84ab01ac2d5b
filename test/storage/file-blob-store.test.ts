import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readdir, rename, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { processAlive } from '../../src/util/fs.js';
import { existsSync } from 'node:fs';
import { ErrorCodes } from '../../src/errors.js';
import { join } from 'node:path';
import { FileBlobStore } from '../../src/storage/file-blob-store.js';
import { blobStoreContract } from './blob-store.contract.js';
import { removeDir, tempDir } from '../helpers.js';

blobStoreContract('file', async () => {
  const dir = await tempDir('data', 'blobs');
  return { store: new FileBlobStore(dir), cleanup: () => removeDir(dir) };
});

it('file store: removeDebris deletes temporary files of dead writers only', async () => {
  const dir = await tempDir('data', 'blobs');
  const store = new FileBlobStore(dir);
  const mine = await store.begin('recordings/aa/live.cvr');
  mine.stream.write(Buffer.from('partial'));
  // a writer that dies with a temporary object open
  const child = spawn(process.execPath, [
    '--input-type=module',
    '-e',
    `import { FileBlobStore } from ${JSON.stringify(join(process.cwd(), 'dist/src/storage/file-blob-store.js'))};
     const p = await new FileBlobStore(${JSON.stringify(dir)}).begin('recordings/bb/dead.cvr');
     p.stream.write(Buffer.alloc(1000)); setTimeout(() => process.kill(process.pid, 'SIGKILL'), 200);`,
  ]);
  await new Promise((r) => child.on('exit', r));
  assert.equal((await readdir(join(dir, '.tmp'))).length, 2);
  assert.equal(await store.removeDebris(), 1);
  assert.equal((await readdir(join(dir, '.tmp'))).length, 1, 'the live writer keeps its file');
  await mine.abort();
  await removeDir(dir);
});

it("file store: debris whose pid now belongs to a process started later is a dead writer's (a reused pid)", async () => {
  const dir = await tempDir('data', 'blobs');
  const store = new FileBlobStore(dir);
  // this test's own pid, on a file last written long before this process started
  const name = `${hostname().replace(/[^A-Za-z0-9-]/g, '_')}.${process.pid}.0123456789abcdef.part`;
  await mkdir(join(dir, '.tmp'), { recursive: true });
  await writeFile(join(dir, '.tmp', name), 'partial');
  const old = new Date(Date.now() - 86_400_000 * 400);
  await utimes(join(dir, '.tmp', name), old, old);
  assert.equal(await store.removeDebris(), 1);
  assert.deepEqual(await readdir(join(dir, '.tmp')), []);
  assert.equal(processAlive(process.pid, new Date()), true, 'a process running now was running now');
  assert.equal(processAlive(process.pid, old), false);
  await removeDir(dir);
});

it('file store: probe leaves no file behind, and fails without making a missing directory again', async () => {
  const dir = await tempDir('data', 'blobs');
  const store = new FileBlobStore(join(dir, 'objects'));
  await assert.rejects(store.probe(), (e: any) => e.code === ErrorCodes.STORAGE_FAILED && !e.message.includes(dir));
  assert.equal(existsSync(join(dir, 'objects')), false);
  const other = await tempDir('data', 'blobs');
  await rename(other, join(dir, 'objects'));
  await store.probe();
  assert.deepEqual(await readdir(join(dir, 'objects', '.tmp')), []);
  await removeDir(dir);
});
