/**
 * Segment layout and per-segment AEAD, docs/format.md §3–§4.
 */
import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { decryptionFailed } from '../errors.js';
import { HEADER_SIZE, type Header } from './header.js';

export const TAG_SIZE = 16;
const PAYLOAD_KEY_INFO = Buffer.from('callvault/rec/v1 payload key\n', 'latin1');

/** payload key = HKDF-SHA256(data key, salt = "", info = label ‖ recording id) */
export function payloadKey(dataKey: Buffer, header: Header): Buffer {
  if (dataKey.length !== 32) throw new RangeError('data key must be 32 bytes');
  const info = Buffer.concat([PAYLOAD_KEY_INFO, Buffer.from(header.recordingId, 'latin1')]);
  return Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), info, 32));
}

/** nonce = prefix (7) ‖ segment counter, u32 BE (4) ‖ last-segment flag (1) */
export function segmentNonce(header: Header, index: number, last: boolean): Buffer {
  if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) throw decryptionFailed();
  const nonce = Buffer.alloc(12);
  header.noncePrefix.copy(nonce, 0);
  nonce.writeUInt32BE(index, 7);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

export function sealSegment(key: Buffer, header: Header, index: number, last: boolean, plaintext: Buffer): Buffer[] {
  const cipher = createCipheriv('aes-256-gcm', key, segmentNonce(header, index, last));
  cipher.setAAD(header.bytes);
  const body = cipher.update(plaintext);
  const final = cipher.final();
  return final.length ? [body, final, cipher.getAuthTag()] : [body, cipher.getAuthTag()];
}

export function openSegment(key: Buffer, header: Header, index: number, last: boolean, sealed: Buffer): Buffer {
  if (sealed.length < TAG_SIZE) throw decryptionFailed();
  const decipher = createDecipheriv('aes-256-gcm', key, segmentNonce(header, index, last));
  decipher.setAAD(header.bytes);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_SIZE));
  const body = decipher.update(sealed.subarray(0, sealed.length - TAG_SIZE));
  try {
    decipher.final();
  } catch {
    throw decryptionFailed();
  }
  return body;
}

export interface Layout {
  segmentCount: number;
  plaintextSize: number;
  /** plaintext length of the final segment */
  lastSegmentSize: number;
}

/**
 * Derives the segment layout from the container's total length. Lengths that no encoder can
 * produce (a partial tag, an empty final segment after full ones) are rejected here, before any
 * decryption, as the opaque decryption failure.
 */
export function layoutFor(containerSize: number, segmentSize: number): Layout {
  const body = containerSize - HEADER_SIZE;
  const sealedSegment = segmentSize + TAG_SIZE;
  if (body < TAG_SIZE) throw decryptionFailed();
  const segmentCount = Math.ceil(body / sealedSegment);
  const lastSealed = body - (segmentCount - 1) * sealedSegment;
  if (lastSealed < TAG_SIZE) throw decryptionFailed();
  // only an empty recording may end in an empty segment
  if (lastSealed === TAG_SIZE && segmentCount > 1) throw decryptionFailed();
  const lastSegmentSize = lastSealed - TAG_SIZE;
  return { segmentCount, lastSegmentSize, plaintextSize: body - segmentCount * TAG_SIZE };
}

export function sealedSegmentOffset(index: number, segmentSize: number): number {
  return HEADER_SIZE + index * (segmentSize + TAG_SIZE);
}
