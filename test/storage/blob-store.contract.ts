/**
 * The contract every BlobStore passes (the file store now; S3 later).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '../../src/storage/blob-store.js';
import { ErrorCodes } from '../../src/errors.js';

async function readAll(store: BlobStore, key: string, start?: number, end?: number): Promise<Buffer> {
  const src = await store.open(key);
  const parts: Buffer[] = [];
  for await (const b of src.read(start ?? 0, end ?? src.size)) parts.push(b);
  return Buffer.concat(parts);
}

async function put(store: BlobStore, key: string, data: Buffer): Promise<void> {
  const pending = await store.begin(key);
  await pipeline(Readable.from([data]), pending.stream);
  await pending.commit();
}

async function listAll(store: BlobStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const k of store.list()) keys.push(k);
  return keys.sort();
}

export function blobStoreContract(name: string, make: () => Promise<{ store: BlobStore; cleanup: () => Promise<void> }>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let store: BlobStore;
    let cleanup: () => Promise<void>;
    before(async () => ({ store, cleanup } = await make()));
    after(async () => cleanup());

    it('stores an object and reads it back whole and by range', async () => {
      const data = randomBytes(300_000);
      await put(store, 'recordings/aa/one.cvr', data);
      assert.deepEqual(await readAll(store, 'recordings/aa/one.cvr'), data);
      assert.deepEqual(await readAll(store, 'recordings/aa/one.cvr', 12345, 200_001), data.subarray(12345, 200_001));
      assert.deepEqual(await readAll(store, 'recordings/aa/one.cvr', 5, 5), Buffer.alloc(0));
      assert.equal((await store.open('recordings/aa/one.cvr')).size, data.length);
      assert.equal(await store.exists('recordings/aa/one.cvr'), true);
    });

    it('shows nothing under a key until commit, and nothing after abort', async () => {
      const pending = await store.begin('recordings/bb/two.cvr');
      pending.stream.write(randomBytes(1000));
      assert.equal(await store.exists('recordings/bb/two.cvr'), false);
      await pending.abort();
      assert.equal(await store.exists('recordings/bb/two.cvr'), false);
      assert.ok(!(await listAll(store)).includes('recordings/bb/two.cvr'));
    });

    it('an aborted write after a failed source leaves nothing', async () => {
      const pending = await store.begin('recordings/cc/three.cvr');
      const failing = new Readable({
        read() {
          this.destroy(new Error('source died'));
        },
      });
      await assert.rejects(pipeline(failing, pending.stream));
      await pending.abort();
      assert.equal(await store.exists('recordings/cc/three.cvr'), false);
    });

    it('lists committed objects and deletes them', async () => {
      await put(store, 'recordings/dd/four.cvr', Buffer.from('x'));
      assert.ok((await listAll(store)).includes('recordings/dd/four.cvr'));
      await store.delete('recordings/dd/four.cvr');
      await store.delete('recordings/dd/four.cvr');
      assert.equal(await store.exists('recordings/dd/four.cvr'), false);
      await assert.rejects(store.open('recordings/dd/four.cvr'), (e: any) => e.code === ErrorCodes.BLOB_NOT_FOUND);
    });

    it('refuses keys that could escape the store', async () => {
      for (const key of ['../x', 'recordings/../../etc/passwd', '/abs', 'a//b', '', 'UPPER/x', 'a/.hidden']) {
        await assert.rejects(store.begin(key), RangeError, key);
        await assert.rejects(store.open(key), RangeError, key);
      }
    });

    it('replaces an object atomically when the same key is committed again', async () => {
      await put(store, 'recordings/ee/five.cvr', Buffer.from('old'));
      await put(store, 'recordings/ee/five.cvr', Buffer.from('new content'));
      assert.equal((await readAll(store, 'recordings/ee/five.cvr')).toString(), 'new content');
    });
  });
}
