import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { inspect } from 'node:util';
import { CreateMultipartUploadCommand, S3Client } from '@aws-sdk/client-s3';
import { S3BlobStore, type S3BlobStoreOptions } from '../../src/storage/s3-blob-store.js';
import { FileBlobStore } from '../../src/storage/file-blob-store.js';
import { blobStoreFromUrl, parseBlobUrl } from '../../src/storage/blob-url.js';
import type { BlobStore } from '../../src/storage/blob-store.js';
import { ErrorCodes } from '../../src/errors.js';
import { blobStoreContract } from './blob-store.contract.js';
import { startS3rver, type S3rverHandle } from './s3rver.js';

const MiB = 1024 * 1024;

function storeOn(s3: S3rverHandle, options: Partial<S3BlobStoreOptions> = {}): S3BlobStore {
  return new S3BlobStore({
    bucket: s3.bucket,
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: s3.credentials,
    ...options,
  });
}

blobStoreContract('s3', async () => {
  const s3 = await startS3rver();
  const store = storeOn(s3);
  return {
    store,
    cleanup: async () => {
      store.destroy();
      await s3.stop();
    },
  };
});

blobStoreContract('s3 under a prefix', async () => {
  const s3 = await startS3rver();
  const store = storeOn(s3, { prefix: 'tenant/one' });
  return {
    store,
    cleanup: async () => {
      store.destroy();
      await s3.stop();
    },
  };
});

async function put(store: BlobStore, key: string, data: Buffer): Promise<void> {
  const pending = await store.begin(key);
  await pipeline(Readable.from(chunks(data, MiB)), pending.stream);
  await pending.commit();
}

function* chunks(data: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function readRange(store: BlobStore, key: string, start: number, end: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of (await store.open(key)).read(start, end)) parts.push(b);
  return Buffer.concat(parts);
}

async function listAll(store: BlobStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const k of store.list()) keys.push(k);
  return keys.sort();
}

async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const isPartUpload = (r: { method: string; query: Record<string, unknown> }) => r.method === 'PUT' && 'partNumber' in r.query && 'uploadId' in r.query;
const isCreateUpload = (r: { method: string; query: Record<string, unknown> }) => r.method === 'POST' && 'uploads' in r.query;
const isCompleteUpload = (r: { method: string; query: Record<string, unknown> }) => r.method === 'POST' && 'uploadId' in r.query;

describe('S3BlobStore against s3rver', () => {
  let s3: S3rverHandle;
  let store: S3BlobStore;
  before(async () => {
    s3 = await startS3rver();
    store = storeOn(s3);
  });
  after(async () => {
    store.destroy();
    await s3.stop();
  });

  it('sends a 17 MiB object in parts, publishes it only at commit, and reads it back by ranges', async () => {
    const key = 'recordings/ab/large.cvr';
    const data = randomBytes(17 * MiB);
    const from = s3.requests.length;
    const pending = await store.begin(key);
    await pipeline(Readable.from(chunks(data, 256 * 1024)), pending.stream);
    // every part is sent while the writer writes; the object stays invisible until commit()
    await until(() => s3.requests.slice(from).filter(isPartUpload).length === 3, 'three parts');
    assert.equal(await store.exists(key), false);
    assert.equal(s3.requests.slice(from).filter(isCompleteUpload).length, 0);
    await pending.commit();

    const served = s3.requests.slice(from);
    assert.equal(served.filter(isCreateUpload).length, 1, 'CreateMultipartUpload');
    assert.deepEqual(
      served
        .filter(isPartUpload)
        .map((r) => Number(r.query.partNumber))
        .sort(),
      [1, 2, 3],
      '8 + 8 + 1 MiB',
    );
    assert.equal(served.filter(isCompleteUpload).length, 1, 'CompleteMultipartUpload');
    assert.equal(served.filter((r) => r.method === 'PUT' && !('partNumber' in r.query)).length, 0, 'no single PutObject');

    const src = await store.open(key);
    assert.equal(src.size, data.length);
    const whole: Buffer[] = [];
    for (let start = 0; start < data.length; start += 3 * MiB + 12_345) {
      const end = Math.min(data.length, start + 3 * MiB + 12_345);
      for await (const b of src.read(start, end)) whole.push(b);
    }
    assert.ok(Buffer.concat(whole).equals(data), 'ranges across part boundaries');
    for (const [start, end] of [
      [8 * MiB - 10, 8 * MiB + 10],
      [16 * MiB, 17 * MiB],
      [1, 2],
    ] as const) {
      assert.ok((await readRange(store, key, start, end)).equals(data.subarray(start, end)), `${start}-${end}`);
    }
    await store.delete(key);
  });

  it('a ranged read of a 64 KiB slice transfers that slice only', async () => {
    const key = 'recordings/ac/ranged.cvr';
    const data = randomBytes(4 * MiB);
    await put(store, key, data);
    const src = await store.open(key);
    const from = s3.requests.length;
    const start = 1_000_003;
    const end = start + 64 * 1024;
    const got: Buffer[] = [];
    for await (const b of src.read(start, end)) got.push(b);
    assert.ok(Buffer.concat(got).equals(data.subarray(start, end)));
    await until(() => s3.requests.length > from, 'the request log');
    const gets = s3.requests.slice(from).filter((r) => r.method === 'GET');
    assert.equal(gets.length, 1);
    assert.equal(gets[0]!.range, `bytes=${start}-${end - 1}`);
    assert.equal(gets[0]!.status, 206);
    assert.ok(gets[0]!.wireBytes >= 64 * 1024 && gets[0]!.wireBytes < 64 * 1024 + 2048, `${gets[0]!.wireBytes} bytes on the wire`);

    // an empty range makes no request
    const before = s3.requests.length;
    for await (const _ of src.read(10, 10)) assert.fail('an empty range yields nothing');
    for await (const _ of src.read(data.length, data.length + 5)) assert.fail('a range past the end yields nothing');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(s3.requests.length, before);
  });

  it('refuses an answer that covers other bytes than asked', async () => {
    // s3rver 3.7 answers `Range: bytes=0-0` with the whole object (it takes an end of 0 for none)
    const key = 'recordings/ad/first-byte.cvr';
    await put(store, key, randomBytes(1000));
    await assert.rejects(readRange(store, key, 0, 1), (e: any) => e.code === ErrorCodes.STORAGE_FAILED && /other bytes/.test(e.message));
  });

  for (const when of ['after the stream was written', 'while parts are in flight']) {
    it(`abort ${when} leaves no object and no incomplete upload`, async () => {
      const key = `recordings/ae/aborted-${when.length}.cvr`;
      const small = storeOn(s3, { partSize: 5 * MiB });
      const from = s3.requests.length;
      const pending = await small.begin(key);
      if (when.startsWith('after')) {
        await pipeline(Readable.from(chunks(randomBytes(12 * MiB), MiB)), pending.stream);
        await until(() => s3.requests.slice(from).filter(isPartUpload).length === 3, 'three parts');
        assert.ok(
          (await s3.incompleteUploads()).some((u) => u.key === key),
          'the parts are stored',
        );
        await pending.abort();
      } else {
        // the writer is still writing: the second part is being cut while the first is sent
        const writing = pipeline(Readable.from(chunks(randomBytes(12 * MiB), MiB)), pending.stream).then(
          () => 'finished',
          () => 'stopped',
        );
        await until(() => s3.requests.slice(from).some(isCreateUpload), 'the upload');
        await pending.abort();
        assert.equal(await writing, 'stopped');
      }
      await pending.abort();
      assert.deepEqual(await s3.incompleteUploads(), []);
      assert.equal(await small.exists(key), false);
      assert.ok(!(await listAll(small)).includes(key));
      assert.equal(s3.requests.slice(from).filter(isCompleteUpload).length, 0);
      small.destroy();
    });
  }

  it('a writer that dies leaves an incomplete upload that removeDebris() clears once it is old enough', async () => {
    const key = 'recordings/af/dead.cvr';
    const writer = storeOn(s3, { partSize: 5 * MiB });
    const from = s3.requests.length;
    // dies between writing and commit(): neither commit() nor abort() is ever called
    const dead = await writer.begin(key);
    await pipeline(Readable.from(chunks(randomBytes(12 * MiB), MiB)), dead.stream);
    await until(() => s3.requests.slice(from).filter(isPartUpload).length === 3, 'three parts');
    await put(store, 'recordings/af/committed.cvr', Buffer.from('kept'));
    // an upload of something else in the bucket
    const raw = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: s3.credentials });
    await raw.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: 'Elsewhere/not-ours.bin' }));

    assert.equal(await store.removeDebris(), 0, 'younger than 24 h: a live writer may own it');
    assert.equal((await s3.incompleteUploads()).length, 2);
    assert.equal(await store.exists(key), false);

    const sweeper = storeOn(s3, { debrisAfterMs: 0, pageSize: 1 });
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(await sweeper.removeDebris(), 1);
    assert.deepEqual(
      (await s3.incompleteUploads()).map((u) => u.key),
      ['Elsewhere/not-ours.bin'],
    );
    assert.equal(await sweeper.removeDebris(), 0);
    assert.equal((await readRange(store, 'recordings/af/committed.cvr', 0, 4)).toString(), 'kept');
    assert.equal(await store.exists(key), false);
    // the writer, were it still alive, finds nothing left to abort
    await dead.abort();
    for (const s of [writer, sweeper]) s.destroy();
    raw.destroy();
  });

  it('lists and clears debris page by page', async () => {
    const paged = storeOn(s3, { prefix: 'paged', pageSize: 2, debrisAfterMs: 0 });
    const keys = ['recordings/a1/x.cvr', 'recordings/a2/x.cvr', 'recordings/a3/x.cvr', 'recordings/a4/x.cvr', 'recordings/a5/x.cvr'];
    for (const k of keys) await put(paged, k, Buffer.from(k));
    // only what is under its prefix, although the bucket holds the other tests' objects
    assert.deepEqual(await listAll(paged), keys);
    assert.ok((await listAll(store)).length > keys.length);
    const raw = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: s3.credentials });
    for (const k of keys) await raw.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: `paged/${k}` }));
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(await paged.removeDebris(), keys.length);
    // outside its prefix nothing is touched (the upload of the test before is still there)
    assert.deepEqual(
      (await s3.incompleteUploads()).map((u) => u.key),
      ['Elsewhere/not-ours.bin'],
    );
    for (const k of keys) await paged.delete(k);
    assert.deepEqual(await listAll(paged), []);
    paged.destroy();
    raw.destroy();
  });

  it('a store from a URL talks to the service it names', async () => {
    const fromUrl = await blobStoreFromUrl(`s3://${s3.bucket}/via/url?endpoint=${s3.endpoint}&region=eu-north-1&forcePathStyle=true`, '/unused', {
      credentials: s3.credentials,
    });
    assert.ok(fromUrl instanceof S3BlobStore);
    await put(fromUrl, 'recordings/ag/url.cvr', Buffer.from('through the url'));
    assert.equal((await readRange(fromUrl, 'recordings/ag/url.cvr', 0, 15)).toString(), 'through the url');
    const root = storeOn(s3, { prefix: 'via' });
    assert.ok((await listAll(root)).includes('url/recordings/ag/url.cvr'));
    await fromUrl.delete('recordings/ag/url.cvr');
    fromUrl.destroy();
    root.destroy();
  });
});

describe('S3BlobStore when the service is down', () => {
  const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const accessKeyId = 'AKIAIOSFODNN7EXAMPLE';
  const key = 'recordings/de/ad0c1f5e-2f44-4f8a-9c54-5a8d2e0f9b1a.cvr';
  let store: S3BlobStore;
  before(async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    server.close();
    await once(server, 'close');
    store = new S3BlobStore({
      bucket: 'secret-bucket-name',
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId, secretAccessKey: secret },
    });
  });
  after(() => store.destroy());

  const failsCleanly = (e: any) => {
    // nothing answers: the store is down for now, which the server answers with 503 and Retry-After
    assert.equal(e.code, ErrorCodes.STORAGE_UNAVAILABLE);
    const everything = `${e.message}\n${e.stack}\n${inspect(e, { depth: null, showHidden: true })}`;
    for (const s of [key, 'ad0c1f5e', secret, accessKeyId, 'secret-bucket-name']) assert.ok(!everything.includes(s), `the error mentions ${s}`);
    return true;
  };

  it('every operation fails with CV_STORAGE_UNAVAILABLE naming neither key, bucket nor credentials', async () => {
    await assert.rejects(store.probe(), failsCleanly);
    await assert.rejects(store.open(key), failsCleanly);
    await assert.rejects(store.exists(key), failsCleanly);
    await assert.rejects(store.delete(key), failsCleanly);
    await assert.rejects(listAll(store), failsCleanly);
    await assert.rejects(store.removeDebris(), failsCleanly);
    const small = await store.begin(key);
    await pipeline(Readable.from([randomBytes(1000)]), small.stream);
    await assert.rejects(small.commit(), failsCleanly);
    await small.abort();
  });

  it('a writer of a large object gets the failure instead of waiting forever', async () => {
    const pending = await store.begin(key);
    await assert.rejects(pipeline(Readable.from(chunks(randomBytes(20 * MiB), MiB)), pending.stream), failsCleanly);
    await assert.rejects(pending.commit(), failsCleanly);
    await pending.abort();
  });
});

describe('S3BlobStore.probe', () => {
  it('fails on a bucket that does not exist', async () => {
    const s3 = await startS3rver();
    const store = storeOn(s3, { bucket: 'no-such-bucket' });
    try {
      await assert.rejects(store.probe(), (e: any) => e.code === ErrorCodes.STORAGE_FAILED && !e.message.includes('no-such-bucket'));
    } finally {
      store.destroy();
      await s3.stop();
    }
  });

  it('stops when its signal aborts, on a service that accepts connections and never answers', async () => {
    const silent = createServer(() => {});
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const store = new S3BlobStore({
      bucket: 'silent',
      endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    try {
      // without the signal, the request would wait for the SDK's idle timeout (60 s); no answer is an outage
      await assert.rejects(store.probe(AbortSignal.timeout(300)), (e: any) => e.code === ErrorCodes.STORAGE_UNAVAILABLE);
    } finally {
      store.destroy();
      silent.closeAllConnections();
      silent.close();
    }
  });
});

describe('blobStoreFromUrl', () => {
  it('without a URL is the file store in DATA/objects', async () => {
    for (const url of [undefined, '', '  ']) {
      const store = await blobStoreFromUrl(url, '/srv/callvault');
      assert.ok(store instanceof FileBlobStore);
      assert.equal(store.root, join('/srv/callvault', 'objects'));
    }
  });

  it('reads bucket, prefix and parameters', async () => {
    assert.deepEqual(parseBlobUrl('s3://my-bucket'), { bucket: 'my-bucket', prefix: '' });
    assert.deepEqual(parseBlobUrl('s3://my.bucket/a/b/'), { bucket: 'my.bucket', prefix: 'a/b' });
    assert.deepEqual(parseBlobUrl('s3://b12/vault?endpoint=https://minio.example:9000&region=eu-north-1&forcePathStyle=true'), {
      bucket: 'b12',
      prefix: 'vault',
      endpoint: 'https://minio.example:9000',
      region: 'eu-north-1',
      forcePathStyle: true,
    });
    for (const loopback of ['http://127.0.0.1:9000', 'http://localhost:9000', 'http://[::1]:9000', 'http://127.3.4.5']) {
      assert.equal(parseBlobUrl(`s3://bucket?endpoint=${loopback}`).endpoint, loopback);
    }
    assert.equal(parseBlobUrl('s3://bucket?endpoint=http://storage.internal:9000&insecure=1').endpoint, 'http://storage.internal:9000');
    const store = await blobStoreFromUrl('s3://my-bucket/tenant?region=eu-west-1', '/srv/callvault');
    assert.ok(store instanceof S3BlobStore);
    assert.equal(store.kind, 's3');
    assert.equal(store.bucket, 'my-bucket');
    assert.equal(store.prefix, 'tenant/');
    store.destroy();
  });

  it('refuses what it does not understand, credentials in the URL and plain http off the loopback', async () => {
    for (const url of [
      's3://bucket?endpoint=http://127.0.0.1:9000&unknown=1',
      's3://bucket?Region=eu-north-1',
      's3://bucket?endpoint=http://storage.example.com:9000',
      's3://bucket?endpoint=http://10.0.0.5:9000&insecure=0',
      's3://bucket?endpoint=ftp://storage.example.com',
      's3://bucket?endpoint=not a url',
      's3://bucket?endpoint=https://user:pass@minio.example',
      's3://AKIA:secret@bucket',
      's3://bucket:9000',
      's3://bucket?region=eu-north-1&region=us-east-1',
      's3://bucket?forcePathStyle=yes',
      's3://bucket/a//b',
      's3://bucket/a%2Fb',
      's3://Bucket',
      's3://b',
      'https://bucket.s3.amazonaws.com',
      'file:///srv/objects',
      'not a url',
    ]) {
      await assert.rejects(
        () => blobStoreFromUrl(url, '/srv/callvault'),
        (e: any) => e.code === ErrorCodes.USAGE && !/secret|pass@/.test(e.message),
        url,
      );
    }
  });
});
