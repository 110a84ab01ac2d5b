import { it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID, createHash } from 'node:crypto';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EncryptWorkerPool } from '../../src/recordings/encrypt-workers.js';
import { KeyfileProvider } from '../../src/keys/keyfile/keyfile-provider.js';
import { dataKeyContext } from '../../src/keys/hpke.js';
import { decryptBuffer } from '../../src/container/decrypt.js';
import { openMetadata } from '../../src/recordings/sealed-metadata.js';
import { tempDir } from '../helpers.js';

function collect(): { sink: Writable; bytes: () => Buffer } {
  const parts: Buffer[] = [];
  return {
    sink: new Writable({
      write(chunk, _enc, done) {
        parts.push(chunk);
        done();
      },
    }),
    bytes: () => Buffer.concat(parts),
  };
}

function chunks(data: Buffer, size: number): Readable {
  const list: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) list.push(Buffer.from(data.subarray(i, i + size)));
  return Readable.from(list);
}

it('worker pool: interleaved recordings on one worker each come out whole, wrapped and sealed', async () => {
  const keys = await KeyfileProvider.create(join(await tempDir('data', 'pool'), 'keyring.json'), 'pool test passphrase', { memoryKiB: 8192, iterations: 1, parallelism: 1 });
  const key = await keys.generate('region-a');
  const pool = new EncryptWorkerPool(1);
  const sizes = [0, 1, 65536, 65537, 700_000, 3_000_001];
  const runs = sizes.map(async (size, i) => {
    const plaintext = randomBytes(size);
    const id = randomUUID();
    const out = collect();
    const encrypt = pool.encrypt({
      recordingId: id,
      keyId: key.keyId,
      publicKey: key.publicKey,
      fields: { sourceName: `f${i}.wav`, sourcePath: `/x/f${i}.wav`, personnummer: '198507099805' },
    });
    // odd chunk sizes, some owning their memory (transferred), some slices (copied)
    await pipeline(chunks(plaintext, 1000 + i * 7919), encrypt, out.sink);
    const result = await encrypt.result;
    const container = out.bytes();
    assert.equal(result.plaintextSize, size);
    assert.equal(result.ciphertextSize, container.length);
    assert.equal(result.contentSha256, createHash('sha256').update(plaintext).digest('hex'));
    assert.equal(result.ciphertextSha256, createHash('sha256').update(container).digest('hex'));
    const dataKey = await keys.unwrap(key.keyId, Buffer.from(result.wrappedKey, 'base64'), dataKeyContext(key.keyId, id));
    assert.deepEqual(await decryptBuffer(container, dataKey, id), plaintext);
    assert.equal(openMetadata(result.sealedMetadata, dataKey, id).personnummer, '198507099805');
  });
  await Promise.all(runs);
});

it('worker pool: a source that fails mid-stream rejects the result and frees the worker', async () => {
  const pool = new EncryptWorkerPool(1);
  const keys = await KeyfileProvider.create(join(await tempDir('data', 'pool'), 'keyring.json'), 'pool test passphrase', { memoryKiB: 8192, iterations: 1, parallelism: 1 });
  const key = await keys.generate('region-a');
  const request = { recordingId: randomUUID(), keyId: key.keyId, publicKey: key.publicKey, fields: { sourceName: 'a', sourcePath: '/a' } };
  const failing = new Readable({
    read() {
      this.push(randomBytes(100_000));
      this.destroy(new Error('disk went away'));
    },
  });
  const encrypt = pool.encrypt(request);
  await assert.rejects(pipeline(failing, encrypt, collect().sink), /disk went away/);
  await assert.rejects(encrypt.result);
  // the same pool still works afterwards
  const again = pool.encrypt({ ...request, recordingId: randomUUID() });
  await pipeline(Readable.from([Buffer.from('hello')]), again, collect().sink);
  assert.equal((await again.result).plaintextSize, 5);
});
