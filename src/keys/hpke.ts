/**
 * Wrapping of recording data keys to a controller's public key with HPKE (RFC 9180), base mode,
 * suite DHKEM(P-256, HKDF-SHA256) / HKDF-SHA256 / AES-256-GCM: a suite PKCS#11 tokens can hold.
 * docs/keys.md §2.
 */
import type { CipherSuite } from '@hpke/core';
import { decryptionFailed } from '../errors.js';

export const SUITE_NAME = 'DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM';
const ENC_SIZE = 65; // uncompressed P-256 point
const WRAPPED_KEY_SIZE = ENC_SIZE + 32 + 16;

let loaded: Promise<CipherSuite> | undefined;

/** loaded on first use, so a process that never wraps or unwraps does not carry the module */
export function hpkeSuite(): Promise<CipherSuite> {
  if (!loaded) {
    loaded = import('@hpke/core').then(
      ({ Aes256Gcm, CipherSuite, DhkemP256HkdfSha256, HkdfSha256 }) => new CipherSuite({ kem: new DhkemP256HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() }),
    );
  }
  return loaded;
}

/** HPKE info: binds a wrapped key to the controller key and the recording it belongs to. */
export function dataKeyContext(keyId: string, recordingId: string): Buffer {
  return Buffer.from(`callvault/data-key/v1\n${keyId}\n${recordingId}`, 'latin1');
}

/** Returns enc ‖ ciphertext. Needs only the public key: this is all an importer can do. */
export async function wrapDataKey(publicKey: Buffer, dataKey: Buffer, info: Buffer): Promise<Buffer> {
  const suite = await hpkeSuite();
  const recipientPublicKey = await suite.kem.deserializePublicKey(toArrayBuffer(publicKey));
  const sender = await suite.createSenderContext({ recipientPublicKey, info: toArrayBuffer(info) });
  const ct = await sender.seal(toArrayBuffer(dataKey));
  return Buffer.concat([Buffer.from(sender.enc), Buffer.from(ct)]);
}

export async function unwrapDataKey(recipientKey: CryptoKeyPair, wrapped: Buffer, info: Buffer): Promise<Buffer> {
  if (wrapped.length !== WRAPPED_KEY_SIZE) throw decryptionFailed();
  try {
    const suite = await hpkeSuite();
    const pt = await suite.open({ recipientKey, enc: toArrayBuffer(wrapped.subarray(0, ENC_SIZE)), info: toArrayBuffer(info) }, toArrayBuffer(wrapped.subarray(ENC_SIZE)));
    return Buffer.from(pt);
  } catch {
    throw decryptionFailed();
  }
}

export function toArrayBuffer(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}
