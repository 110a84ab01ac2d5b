/**
 * callvault's HPKE (src/keys/rfc9180.ts, node:crypto) against RFC 9180's vector A.3.1 (committed in
 * testdata/hpke/), against a data key wrapped before it replaced @hpke/core, and against @hpke/core
 * in both directions: what one seals the other opens.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createECDH, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataKeyContext, generateControllerKeyPair, Recipient, unwrapDataKey, wrapDataKey } from '../../src/keys/hpke.js';
import { AES_128_GCM, extractAndExpand, keyScheduleBase, sealBase } from '../../src/keys/rfc9180.js';
import { ErrorCodes } from '../../src/errors.js';
import { REPO } from '../helpers.js';
import { referenceSuite, toArrayBuffer } from './hpke-reference.js';

const h = (s: string) => Buffer.from(s, 'hex');
const read = (name: string) => JSON.parse(readFileSync(join(REPO, 'testdata/hpke', name), 'utf8'));
const A31 = read('rfc9180-a.3.1.json');
const WRAP = read('data-key-wrap.json');

describe('RFC 9180 A.3.1: DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base mode', () => {
  it('the recipient key pair, the encapsulation, the shared secret and the key schedule', () => {
    const recipient = new Recipient(h(A31.skRm), h(A31.pkRm));
    assert.deepEqual(recipient.publicKey, h(A31.pkRm));
    const sender = createECDH('prime256v1');
    sender.setPrivateKey(h(A31.skEm));
    assert.deepEqual(sender.getPublicKey(), h(A31.pkEm));
    const dh = sender.computeSecret(h(A31.pkRm));
    assert.deepEqual(extractAndExpand(dh, h(A31.enc), h(A31.pkRm)), h(A31.shared_secret));
    const ks = keyScheduleBase(h(A31.shared_secret), h(A31.info), AES_128_GCM);
    assert.deepEqual(ks.keyScheduleContext, h(A31.key_schedule_context));
    assert.deepEqual(ks.secret, h(A31.secret));
    assert.deepEqual(ks.key, h(A31.key));
    assert.deepEqual(ks.baseNonce, h(A31.base_nonce));
    // every encryption of the vector, with the nonce RFC 9180 §5.2 computes for its sequence number
    for (const e of A31.encryptions) {
      const nonce: Buffer = Buffer.from(ks.baseNonce);
      nonce.writeUInt32BE(nonce.readUInt32BE(8) ^ e.sequence_number, 8);
      assert.deepEqual(nonce, h(e.nonce));
      const cipher = createCipheriv('aes-128-gcm', ks.key, nonce).setAAD(h(e.aad));
      assert.deepEqual(Buffer.concat([cipher.update(h(e.pt)), cipher.final(), cipher.getAuthTag()]), h(e.ct));
    }
  });

  it('seal with the vector ephemeral key gives its enc and first ciphertext, and open gives the plaintext back', () => {
    const [first] = A31.encryptions;
    const sealed = sealBase(h(A31.pkRm), h(A31.info), h(first.pt), { aad: h(first.aad), aead: AES_128_GCM, ephemeral: h(A31.skEm) });
    assert.deepEqual(sealed.enc, h(A31.enc));
    assert.deepEqual(sealed.ciphertext, h(first.ct));
    const recipient = new Recipient(h(A31.skRm), h(A31.pkRm));
    assert.deepEqual(recipient.open(h(A31.enc), h(A31.info), h(first.ct), h(first.aad), AES_128_GCM), h(first.pt));
    assert.throws(() => recipient.open(h(A31.enc), h(A31.info), h(first.ct), Buffer.alloc(0), AES_128_GCM), 'the aad counts');
  });

  it('with AES-256-GCM, the suite callvault uses, the same ciphertext as @hpke/core from the same keys', async () => {
    const suite = referenceSuite();
    const [first] = A31.encryptions;
    const reference = await suite.createSenderContext({
      recipientPublicKey: await suite.kem.deserializePublicKey(toArrayBuffer(h(A31.pkRm))),
      info: toArrayBuffer(h(A31.info)),
      ekm: toArrayBuffer(h(A31.ikmE)),
    });
    assert.deepEqual(Buffer.from(reference.enc), h(A31.enc), 'ikmE derives the vector ephemeral key');
    const expected = Buffer.from(await reference.seal(toArrayBuffer(h(first.pt)), toArrayBuffer(h(first.aad))));
    const ours = sealBase(h(A31.pkRm), h(A31.info), h(first.pt), { aad: h(first.aad), ephemeral: h(A31.skEm) });
    assert.deepEqual(ours.ciphertext, expected);
  });
});

describe('data key wrapping', () => {
  it('opens a data key that @hpke/core wrapped before (testdata/hpke/data-key-wrap.json)', async () => {
    const recipient = new Recipient(h(WRAP.skRm), h(WRAP.pkRm));
    assert.deepEqual(await unwrapDataKey(recipient, h(WRAP.wrapped), dataKeyContext(WRAP.keyId, WRAP.recordingId)), h(WRAP.dataKey));
  });

  it('what it wraps @hpke/core opens, and what @hpke/core wraps it opens, for fresh keys and many infos', async () => {
    const suite = referenceSuite();
    for (let k = 0; k < 4; k++) {
      const pair = generateControllerKeyPair();
      const recipient = new Recipient(pair.privateKey, pair.publicKey);
      const referenceKey = await suite.kem.deserializePrivateKey(toArrayBuffer(pair.privateKey));
      for (const info of [Buffer.alloc(0), dataKeyContext(`key-${k}`, 'recording'), randomBytes(1000)]) {
        const dataKey = randomBytes(32);
        const wrapped = await wrapDataKey(pair.publicKey, dataKey, info);
        assert.equal(wrapped.length, 65 + 32 + 16);
        const opened = await suite.open(
          { recipientKey: referenceKey, enc: toArrayBuffer(wrapped.subarray(0, 65)), info: toArrayBuffer(info) },
          toArrayBuffer(wrapped.subarray(65)),
        );
        assert.deepEqual(Buffer.from(opened), dataKey, 'native wrap, @hpke/core open');

        const sender = await suite.createSenderContext({ recipientPublicKey: await suite.kem.deserializePublicKey(toArrayBuffer(pair.publicKey)), info: toArrayBuffer(info) });
        const theirs = Buffer.concat([Buffer.from(sender.enc), Buffer.from(await sender.seal(toArrayBuffer(dataKey)))]);
        assert.deepEqual(await unwrapDataKey(recipient, theirs, info), dataKey, '@hpke/core wrap, native open');
      }
    }
  });

  it('a private key @hpke/core made opens here, and one made here serialises as @hpke/core does', async () => {
    const suite = referenceSuite();
    const theirs = await suite.kem.generateKeyPair();
    const privateKey = Buffer.from(await suite.kem.serializePrivateKey(theirs.privateKey));
    const publicKey = Buffer.from(await suite.kem.serializePublicKey(theirs.publicKey));
    const info = dataKeyContext('k', 'r');
    const dataKey = randomBytes(32);
    assert.deepEqual(await unwrapDataKey(new Recipient(privateKey, publicKey), await wrapDataKey(publicKey, dataKey, info), info), dataKey);

    // OpenSSL drops a scalar's leading zero bytes; SerializePrivateKey keeps all 32 (1 in 256 keys)
    let pair = generateControllerKeyPair();
    for (let i = 0; i < 20_000 && pair.privateKey[0] !== 0; i++) pair = generateControllerKeyPair();
    assert.equal(pair.privateKey[0], 0, 'a key with a leading zero byte turned up');
    assert.equal(pair.privateKey.length, 32);
    const reference = await suite.kem.deserializePrivateKey(toArrayBuffer(pair.privateKey));
    assert.deepEqual(Buffer.from(await suite.kem.serializePrivateKey(reference)), pair.privateKey);
    const wrapped = await wrapDataKey(pair.publicKey, dataKey, info);
    const opened = await suite.open({ recipientKey: reference, enc: toArrayBuffer(wrapped.subarray(0, 65)), info: toArrayBuffer(info) }, toArrayBuffer(wrapped.subarray(65)));
    assert.deepEqual(Buffer.from(opened), dataKey);
  });

  it('fails opaquely on anything altered, and refuses a private key that does not give the public key', async () => {
    const pair = generateControllerKeyPair();
    const recipient = new Recipient(pair.privateKey, pair.publicKey);
    const info = dataKeyContext('k', 'r');
    const wrapped = await wrapDataKey(pair.publicKey, randomBytes(32), info);
    const offCurve = Buffer.from(wrapped);
    offCurve[40]! ^= 1; // a changed y coordinate is no longer on the curve
    const cases: [Buffer, Buffer][] = [
      [offCurve, info],
      [Buffer.concat([wrapped.subarray(0, 80), Buffer.of(wrapped[80]! ^ 1), wrapped.subarray(81)]), info],
      [wrapped, dataKeyContext('k', 's')],
      [wrapped.subarray(0, 100), info],
      [Buffer.concat([Buffer.of(0x02), wrapped.subarray(1)]), info],
    ];
    for (const [w, i] of cases) {
      await assert.rejects(unwrapDataKey(recipient, w, i), (e: any) => e.code === ErrorCodes.DECRYPTION_FAILED && e.message === 'decryption failed');
    }
    const other = generateControllerKeyPair();
    assert.throws(() => new Recipient(pair.privateKey, other.publicKey), /does not belong/);
    assert.throws(() => new Recipient(Buffer.alloc(32), pair.publicKey));
    await assert.rejects(wrapDataKey(Buffer.concat([Buffer.of(0x04), randomBytes(64)]), randomBytes(32), info));
  });
});
