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

    it('shows nothing under a key until commit even after the whole stream was written', async () => {
      const key = 'recordings/ff/six.cvr';
      const data = randomBytes(70_000);
      const pending = await store.begin(key);
      await pipeline(Readable.from([data]), pending.stream);
      assert.equal(await store.exists(key), false);
      await assert.rejects(store.open(key), (e: any) => e.code === ErrorCodes.BLOB_NOT_FOUND);
      assert.ok(!(await listAll(store)).includes(key));
      await pending.commit();
      assert.equal(await store.exists(key), true);
      assert.ok((await listAll(store)).includes(key));
      assert.deepEqual(await readAll(store, key), data);
    });

    it('refuses a commit after abort, and the key stays empty', async () => {
      const key = 'recordings/gg/seven.cvr';
      const pending = await store.begin(key);
      await pipeline(Readable.from([randomBytes(5000)]), pending.stream);
      await pending.abort();
      await assert.rejects(pending.commit());
      assert.equal(await store.exists(key), false);
      await assert.rejects(store.open(key), (e: any) => e.code === ErrorCodes.BLOB_NOT_FOUND);
    });

    it('a pending replacement leaves the committed object readable, and its abort leaves it unchanged', async () => {
      const key = 'recordings/hh/eight.cvr';
      const old = randomBytes(40_000);
      await put(store, key, old);
      const pending = await store.begin(key);
      await pipeline(Readable.from([randomBytes(50_000)]), pending.stream);
      assert.deepEqual(await readAll(store, key), old);
      await pending.abort();
      assert.deepEqual(await readAll(store, key), old);
      const replacement = randomBytes(30_000);
      await put(store, key, replacement);
      assert.equal((await store.open(key)).size, replacement.length);
      assert.deepEqual(await readAll(store, key), replacement);
    });

    it('stores an empty object', async () => {
      const key = 'recordings/ii/empty.cvr';
      await put(store, key, Buffer.alloc(0));
      assert.equal(await store.exists(key), true);
      assert.equal((await store.open(key)).size, 0);
      assert.deepEqual(await readAll(store, key), Buffer.alloc(0));
    });

    it('reads exactly the bytes asked at the edges of an object', async () => {
      // (not [0, 1): s3rver answers `Range: bytes=0-0` with the whole object; see s3-blob-store.test.ts)
      const key = 'recordings/jj/nine.cvr';
      const data = randomBytes(200_000);
      await put(store, key, data);
      for (const [start, end] of [
        [1, 2],
        [data.length - 1, data.length],
        [0, 2],
        [65_535, 65_553],
        [0, data.length],
        [100_000, data.length],
      ] as const) {
        assert.deepEqual(await readAll(store, key, start, end), data.subarray(start, end), `${start}-${end}`);
      }
      // a reader may stop early
      const src = await store.open(key);
      for await (const chunk of src.read(0, data.length)) {
        assert.ok(chunk.length > 0);
        break;
      }
    });

    it('readAt gives the bytes asked in one buffer, as read does, and a missing object is CV_BLOB_NOT_FOUND', async () => {
      const key = 'recordings/kk/ten.cvr';
      const data = randomBytes(300_000);
      await put(store, key, data);
      const src = await store.open(key);
      assert.ok(src.readAt, `${name} reads a range in one call`);
      for (const [start, end] of [
        [1, 2],
        [data.length - 1, data.length],
        [36, 36 + 5 * 65_552],
        [0, data.length],
        [7, 7],
      ] as const) {
        assert.deepEqual(await src.readAt(start, end), data.subarray(start, end), `${start}-${end}`);
      }
      await store.delete(key);
      await assert.rejects(src.readAt(0, 10), (err: { code?: string }) => err.code === ErrorCodes.BLOB_NOT_FOUND);
    });

    it('lists every committed object once, and deleting a key that never existed is fine', async () => {
      const keys = ['recordings/kk/a.cvr', 'recordings/kk/b.cvr', 'recordings/kl/c.cvr', 'other/d'];
      for (const k of keys) await put(store, k, Buffer.from(k));
      const listed = await listAll(store);
      for (const k of keys) assert.equal(listed.filter((l) => l === k).length, 1, k);
      assert.equal(new Set(listed).size, listed.length);
      await store.delete('recordings/zz/never.cvr');
      await assert.rejects(store.open('recordings/zz/never.cvr'), (e: any) => e.code === ErrorCodes.BLOB_NOT_FOUND);
      assert.equal(await store.exists('recordings/zz/never.cvr'), false);
    });

    it('probe resolves on a working store and leaves nothing behind', async () => {
      await put(store, 'recordings/nn/probed.cvr', Buffer.from('kept'));
      const listed = await listAll(store);
      await store.probe();
      await store.probe(AbortSignal.timeout(60_000));
      assert.deepEqual(await listAll(store), listed);
      assert.equal((await readAll(store, 'recordings/nn/probed.cvr')).toString(), 'kept');
    });

    it('removeDebris leaves a live writer and committed objects alone', async () => {
      await put(store, 'recordings/mm/kept.cvr', Buffer.from('kept'));
      const pending = await store.begin('recordings/mm/live.cvr');
      const data = randomBytes(10_000);
      pending.stream.write(data);
      assert.equal(typeof (await store.removeDebris()), 'number');
      await pipeline(Readable.from([]), pending.stream);
      await pending.commit();
      assert.deepEqual(await readAll(store, 'recordings/mm/live.cvr'), data);
      assert.equal((await readAll(store, 'recordings/mm/kept.cvr')).toString(), 'kept');
    });
  });
}
