/**
 * AES-256-GCM with a random 96-bit nonce, encoded as nonce ‖ ciphertext ‖ tag. For small values
 * sealed once (keyring entries, sealed metadata, TOTP secrets); recordings use the container format.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { decryptionFailed } from '../errors.js';

export function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  return Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** throws the opaque CV_DECRYPTION_FAILED for anything that does not authenticate */
export function open(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  if (sealed.length < 28) throw decryptionFailed();
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
  } catch {
    throw decryptionFailed();
  }
}
