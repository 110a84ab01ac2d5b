/**
 * The software half of an HPKE base-mode open (RFC 9180) whose Diffie-Hellman step happens
 * elsewhere (in the HSM): DHKEM(P-256, HKDF-SHA256) ExtractAndExpand, the key schedule and
 * AES-256-GCM, with node:crypto. Byte-compatible with @hpke/core's suite in src/keys/hpke.ts.
 *
 * @hpke/core (1.9) accepts a custom KemInterface, but its decap takes the recipient key as a
 * WebCrypto CryptoKey, and the Dhkem class with a pluggable DH primitive lives in @hpke/common,
 * which is not a dependency of ours; this is the RFC's few lines instead. RFC 9180 prints no test
 * vector for this exact suite: test/keys/pkcs11-provider.test.ts checks the KEM and key schedule
 * against its A.3.1 (the same KEM and KDF with AES-128-GCM) and the AES-256-GCM suite against
 * @hpke/core with A.3.1's keys.
 */
import { createDecipheriv, createHmac, createPublicKey } from 'node:crypto';

const KEM_ID = 0x0010; // DHKEM(P-256, HKDF-SHA256)
const KDF_ID = 0x0001; // HKDF-SHA256
export const N_ENC = 65;
const N_SECRET = 32;
const N_H = 32;
const N_N = 12;
export const N_T = 16;
const MODE_BASE = 0x00;

/** the AEAD of the suite: callvault uses AES-256-GCM only; AES-128-GCM is here for RFC 9180's A.3 test vector */
export interface Aead {
  readonly id: number;
  readonly keyLength: number;
  readonly cipher: 'aes-128-gcm' | 'aes-256-gcm';
}
export const AES_256_GCM: Aead = { id: 0x0002, keyLength: 32, cipher: 'aes-256-gcm' };
export const AES_128_GCM: Aead = { id: 0x0001, keyLength: 16, cipher: 'aes-128-gcm' };

const HPKE_V1 = Buffer.from('HPKE-v1', 'latin1');
const KEM_SUITE_ID = Buffer.concat([Buffer.from('KEM', 'latin1'), i2osp(KEM_ID, 2)]);
const hpkeSuiteId = (aead: Aead) => Buffer.concat([Buffer.from('HPKE', 'latin1'), i2osp(KEM_ID, 2), i2osp(KDF_ID, 2), i2osp(aead.id, 2)]);
const label = (text: string) => Buffer.from(text, 'latin1');
const EMPTY = Buffer.alloc(0);

function i2osp(n: number, w: number): Buffer {
  const b = Buffer.alloc(w);
  b.writeUIntBE(n, 0, w);
  return b;
}

function hkdfExtract(salt: Buffer, ikm: Buffer): Buffer {
  // RFC 5869: an absent salt is HashLen zero bytes
  return createHmac('sha256', salt.length > 0 ? salt : Buffer.alloc(N_H))
    .update(ikm)
    .digest();
}

function hkdfExpand(prk: Buffer, info: Buffer, length: number): Buffer {
  const blocks: Buffer[] = [];
  let t = EMPTY;
  for (let i = 1; blocks.length * N_H < length; i++) {
    t = createHmac('sha256', prk).update(t).update(info).update(Buffer.of(i)).digest();
    blocks.push(t);
  }
  const okm = Buffer.concat(blocks).subarray(0, length);
  const out = Buffer.from(okm);
  for (const b of blocks) b.fill(0);
  return out;
}

function labeledExtract(suiteId: Buffer, salt: Buffer, lbl: string, ikm: Buffer): Buffer {
  const labeledIkm = Buffer.concat([HPKE_V1, suiteId, label(lbl), ikm]);
  try {
    return hkdfExtract(salt, labeledIkm);
  } finally {
    labeledIkm.fill(0);
  }
}

function labeledExpand(suiteId: Buffer, prk: Buffer, lbl: string, info: Buffer, length: number): Buffer {
  return hkdfExpand(prk, Buffer.concat([i2osp(length, 2), HPKE_V1, suiteId, label(lbl), info]), length);
}

/** RFC 9180 §4.1 DHKEM ExtractAndExpand: the KEM shared secret from dh = x(skR·pkE) */
export function extractAndExpand(dh: Buffer, enc: Buffer, pkRm: Buffer): Buffer {
  const eaePrk = labeledExtract(KEM_SUITE_ID, EMPTY, 'eae_prk', dh);
  try {
    return labeledExpand(KEM_SUITE_ID, eaePrk, 'shared_secret', Buffer.concat([enc, pkRm]), N_SECRET);
  } finally {
    eaePrk.fill(0);
  }
}

/** RFC 9180 §5.1 KeySchedule for mode_base (no PSK). The caller zeroes what it gets. */
export function keyScheduleBase(sharedSecret: Buffer, info: Buffer, aead: Aead = AES_256_GCM): { keyScheduleContext: Buffer; secret: Buffer; key: Buffer; baseNonce: Buffer } {
  const suiteId = hpkeSuiteId(aead);
  const pskIdHash = labeledExtract(suiteId, EMPTY, 'psk_id_hash', EMPTY);
  const infoHash = labeledExtract(suiteId, EMPTY, 'info_hash', info);
  const keyScheduleContext = Buffer.concat([Buffer.of(MODE_BASE), pskIdHash, infoHash]);
  const secret = labeledExtract(suiteId, sharedSecret, 'secret', EMPTY);
  return {
    keyScheduleContext,
    secret,
    key: labeledExpand(suiteId, secret, 'key', keyScheduleContext, aead.keyLength),
    baseNonce: labeledExpand(suiteId, secret, 'base_nonce', keyScheduleContext, N_N),
  };
}

/** the first message of a context (sequence number 0, so the nonce is the base nonce) */
function aeadOpen(aead: Aead, key: Buffer, nonce: Buffer, aad: Buffer, sealed: Buffer): Buffer {
  if (sealed.length < N_T) throw new Error('ciphertext too short');
  const decipher = createDecipheriv(aead.cipher, key, nonce, { authTagLength: N_T });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - N_T));
  const head = decipher.update(sealed.subarray(0, sealed.length - N_T));
  const tail = decipher.final();
  const out = Buffer.concat([head, tail]);
  head.fill(0);
  return out;
}

/**
 * Single-shot HPKE open in base mode (RFC 9180 §5.1.1 SetupBaseR, then Open at sequence 0), given
 * the raw Diffie-Hellman output x(skR·pkE) computed elsewhere. Throws (a plain Error) if anything
 * does not authenticate; callers turn that into the opaque CV_DECRYPTION_FAILED.
 */
export function openBaseWithDh(p: { dh: Buffer; enc: Buffer; pkRm: Buffer; info: Buffer; ciphertext: Buffer; aad?: Buffer }, aead: Aead = AES_256_GCM): Buffer {
  const sharedSecret = extractAndExpand(p.dh, p.enc, p.pkRm);
  const ks = keyScheduleBase(sharedSecret, p.info, aead);
  try {
    return aeadOpen(aead, ks.key, ks.baseNonce, p.aad ?? EMPTY, p.ciphertext);
  } finally {
    for (const b of [sharedSecret, ks.secret, ks.key, ks.baseNonce]) b.fill(0);
  }
}

/** true when `point` is an uncompressed P-256 point on the curve (checked by OpenSSL) */
export function isP256Point(point: Buffer): boolean {
  if (point.length !== N_ENC || point[0] !== 0x04) return false;
  try {
    createPublicKey({
      key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') },
      format: 'jwk',
    });
    return true;
  } catch {
    return false;
  }
}
