/**
 * Wrapping of recording data keys to a controller's public key with HPKE (RFC 9180), base mode,
 * suite DHKEM(P-256, HKDF-SHA256) / HKDF-SHA256 / AES-256-GCM: a suite PKCS#11 tokens can hold.
 * The construction is rfc9180.ts (node:crypto); docs/keys.md §2.
 */
import { decryptionFailed } from '../errors.js';
import { generateKeyPair, N_ENC, sealBase, type KeyPair, type Recipient } from './rfc9180.js';

export const SUITE_NAME = 'DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM';
const WRAPPED_KEY_SIZE = N_ENC + 32 + 16;

export { Recipient } from './rfc9180.js';

/** a new controller key pair: the private scalar (32 bytes) and the uncompressed public point (65) */
export function generateControllerKeyPair(): KeyPair {
  return generateKeyPair();
}

/** HPKE info: binds a wrapped key to the controller key and the recording it belongs to. */
export function dataKeyContext(keyId: string, recordingId: string): Buffer {
  return Buffer.from(`callvault/data-key/v1\n${keyId}\n${recordingId}`, 'latin1');
}

/** Returns enc ‖ ciphertext. Needs only the public key: this is all an importer can do. */
export async function wrapDataKey(publicKey: Buffer, dataKey: Buffer, info: Buffer): Promise<Buffer> {
  const { enc, ciphertext } = sealBase(publicKey, info, dataKey);
  return Buffer.concat([enc, ciphertext]);
}

export async function unwrapDataKey(recipient: Recipient, wrapped: Buffer, info: Buffer): Promise<Buffer> {
  if (wrapped.length !== WRAPPED_KEY_SIZE) throw decryptionFailed();
  try {
    return recipient.open(wrapped.subarray(0, N_ENC), info, wrapped.subarray(N_ENC));
  } catch {
    throw decryptionFailed();
  }
}
