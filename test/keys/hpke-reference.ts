/**
 * @hpke/core, the independent implementation callvault's own HPKE (src/keys/rfc9180.ts) is checked
 * against: the same suite, DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM, through WebCrypto.
 * callvault itself no longer uses it; it is a development dependency for these tests.
 */
import { Aes256Gcm, CipherSuite, DhkemP256HkdfSha256, HkdfSha256 } from '@hpke/core';

export function referenceSuite(): CipherSuite {
  return new CipherSuite({ kem: new DhkemP256HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
}

export function toArrayBuffer(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}
