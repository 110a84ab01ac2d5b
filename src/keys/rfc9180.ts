/**
 * HPKE (RFC 9180) in base mode, single shot (one message at sequence number 0), for the suite
 * callvault wraps data keys with: DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM. Written
 * out with node:crypto (ECDH, HMAC-SHA256, AES-GCM) instead of @hpke/core, whose WebCrypto path
 * took about 2.6 ms to wrap and 1.9 ms to unwrap a key against well under a millisecond here
 * (docs/benchmarks.md). The bytes are the same: test/keys/hpke.test.ts checks this file against
 * RFC 9180's vector A.3.1 (the same KEM and KDF with AES-128-GCM; the RFC prints none with
 * AES-256-GCM) and against @hpke/core in both directions.
 *
 * The Diffie-Hellman step is separate (`openBaseWithDh`), so an HSM that holds the private key can
 * do it (src/keys/pkcs11): the rest needs no secret but the DH output.
 */
import { createCipheriv, createDecipheriv, createECDH, createHmac, createPublicKey } from 'node:crypto';

const KEM_ID = 0x0010; // DHKEM(P-256, HKDF-SHA256)
const KDF_ID = 0x0001; // HKDF-SHA256
/** Nenc and Npk: an uncompressed P-256 point */
export const N_ENC = 65;
/** Nsk: a P-256 scalar */
export const N_SK = 32;
const N_SECRET = 32;
const N_H = 32;
const N_N = 12;
export const N_T = 16;
const MODE_BASE = 0x00;
const CURVE = 'prime256v1';

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

/**
 * RFC 5869 Extract and Expand as the separate steps RFC 9180 uses (LabeledExtract feeds its output
 * to LabeledExpand under a different label), hence HMAC and not hkdfSync, which does both at once.
 */
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

/** RFC 9180 §4.1 DHKEM ExtractAndExpand: the KEM shared secret from dh = x(sk·pk) */
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
function aeadSeal(aead: Aead, key: Buffer, nonce: Buffer, aad: Buffer, plaintext: Buffer): Buffer {
  const cipher = createCipheriv(aead.cipher, key, nonce, { authTagLength: N_T });
  cipher.setAAD(aad);
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

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

/** A P-256 key pair: the scalar (Nsk bytes, SerializePrivateKey) and the uncompressed point. */
export interface KeyPair {
  privateKey: Buffer;
  publicKey: Buffer;
}

/** GenerateKeyPair(): a fresh pair from OpenSSL's generator */
export function generateKeyPair(): KeyPair {
  const ecdh = createECDH(CURVE);
  const publicKey = ecdh.generateKeys();
  return { privateKey: scalar(ecdh.getPrivateKey()), publicKey };
}

/**
 * The recipient's side: the private scalar, checked against the public key stored beside it.
 * Throws a plain Error when the scalar is not a P-256 private key or gives another public key.
 */
export class Recipient {
  readonly #ecdh = createECDH(CURVE);
  readonly publicKey: Buffer;

  constructor(privateKey: Buffer, publicKey: Buffer) {
    if (privateKey.length !== N_SK) throw new Error('a P-256 private key is 32 bytes');
    this.#ecdh.setPrivateKey(privateKey);
    this.publicKey = this.#ecdh.getPublicKey();
    if (!this.publicKey.equals(publicKey)) throw new Error('the private key does not belong to the public key');
  }

  /**
   * RFC 9180 §5.1.1 SetupBaseR and Open at sequence 0. Throws a plain Error when `enc` is not a
   * point on the curve or anything does not authenticate.
   */
  open(enc: Buffer, info: Buffer, ciphertext: Buffer, aad: Buffer = EMPTY, aead: Aead = AES_256_GCM): Buffer {
    // OpenSSL refuses a point off the curve (RFC 9180 §7.1.4), so only the form is checked here
    if (!isUncompressed(enc)) throw new Error('enc is not an uncompressed P-256 point');
    const dh = this.#ecdh.computeSecret(enc);
    try {
      return openBaseWithDh({ dh, enc, pkRm: this.publicKey, info, ciphertext, aad }, aead);
    } finally {
      dh.fill(0);
    }
  }
}

/**
 * RFC 9180 §5.1.1 SetupBaseS and Seal at sequence 0: enc and the ciphertext (with its tag).
 * `ephemeral` fixes the sender's key pair, for test vectors only; otherwise it is fresh each call.
 */
export function sealBase(pkRm: Buffer, info: Buffer, plaintext: Buffer, options: { aad?: Buffer; aead?: Aead; ephemeral?: Buffer } = {}): { enc: Buffer; ciphertext: Buffer } {
  if (!isUncompressed(pkRm)) throw new Error('the public key is not an uncompressed P-256 point');
  const ecdh = createECDH(CURVE);
  let enc: Buffer;
  if (options.ephemeral) {
    ecdh.setPrivateKey(options.ephemeral);
    enc = ecdh.getPublicKey();
  } else {
    enc = ecdh.generateKeys();
  }
  const dh = ecdh.computeSecret(pkRm);
  const sharedSecret = extractAndExpand(dh, enc, pkRm);
  const aead = options.aead ?? AES_256_GCM;
  const ks = keyScheduleBase(sharedSecret, info, aead);
  try {
    return { enc, ciphertext: aeadSeal(aead, ks.key, ks.baseNonce, options.aad ?? EMPTY, plaintext) };
  } finally {
    for (const b of [dh, sharedSecret, ks.secret, ks.key, ks.baseNonce]) b.fill(0);
  }
}

function isUncompressed(point: Buffer): boolean {
  return point.length === N_ENC && point[0] === 0x04;
}

/** true when `point` is an uncompressed P-256 point on the curve (checked by OpenSSL) */
export function isP256Point(point: Buffer): boolean {
  if (!isUncompressed(point)) return false;
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

/** OpenSSL gives a scalar without its leading zero bytes; SerializePrivateKey is always Nsk bytes */
function scalar(b: Buffer): Buffer {
  if (b.length === N_SK) return b;
  const out = Buffer.alloc(N_SK);
  b.copy(out, N_SK - b.length);
  b.fill(0);
  return out;
}
