/**
 * Recording container header, docs/format.md §2.
 *
 *   magic (8) ‖ version (1) ‖ segment size, u32 BE (4) ‖ recording id (16) ‖ nonce prefix (7)
 */
import { CallvaultError, ErrorCodes, decryptionFailed } from '../errors.js';

export const MAGIC = Buffer.from('CVREC\r\n\x1a', 'latin1');
export const VERSION = 1;
export const SEGMENT_SIZE = 64 * 1024;
export const NONCE_PREFIX_SIZE = 7;
export const HEADER_SIZE = MAGIC.length + 1 + 4 + 16 + NONCE_PREFIX_SIZE;

export interface Header {
  recordingId: string;
  segmentSize: number;
  noncePrefix: Buffer;
  /** the exact header bytes, authenticated as associated data of every segment */
  bytes: Buffer;
}

export function encodeHeader(recordingId: string, noncePrefix: Buffer): Header {
  if (noncePrefix.length !== NONCE_PREFIX_SIZE) throw new RangeError('nonce prefix must be 7 bytes');
  // the text form feeds key derivation, so it must be the one decodeHeader reproduces
  recordingId = recordingId.toLowerCase();
  const bytes = Buffer.alloc(HEADER_SIZE);
  MAGIC.copy(bytes, 0);
  bytes[8] = VERSION;
  bytes.writeUInt32BE(SEGMENT_SIZE, 9);
  uuidToBytes(recordingId).copy(bytes, 13);
  noncePrefix.copy(bytes, 29);
  return { recordingId, segmentSize: SEGMENT_SIZE, noncePrefix: Buffer.from(noncePrefix), bytes };
}

/**
 * Parses and checks a header against the recording it is expected to belong to. A header for
 * another recording is a decryption failure, not a distinct error, so a swapped file says no more
 * than a damaged one.
 */
export function decodeHeader(bytes: Buffer, expectedRecordingId: string): Header {
  if (bytes.length <= MAGIC.length || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new CallvaultError(ErrorCodes.UNSUPPORTED_CONTAINER, 'not a callvault recording container');
  }
  if (bytes[8] !== VERSION) {
    throw new CallvaultError(ErrorCodes.UNSUPPORTED_CONTAINER, 'unsupported container version');
  }
  // a recording cut inside its header is damage like any other, not a foreign file
  if (bytes.length < HEADER_SIZE) throw decryptionFailed();
  // v1 fixes the segment size: a decoder must not accept another, so the encoding stays canonical
  if (bytes.readUInt32BE(9) !== SEGMENT_SIZE) throw decryptionFailed();
  const recordingId = bytesToUuid(bytes.subarray(13, 29));
  if (recordingId !== expectedRecordingId.toLowerCase()) throw decryptionFailed();
  const headerBytes = Buffer.from(bytes.subarray(0, HEADER_SIZE));
  return {
    recordingId,
    segmentSize: SEGMENT_SIZE,
    noncePrefix: headerBytes.subarray(29, 29 + NONCE_PREFIX_SIZE),
    bytes: headerBytes,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isRecordingId(id: string): boolean {
  return UUID.test(id);
}

function uuidToBytes(id: string): Buffer {
  if (!isRecordingId(id)) throw new RangeError('recording id must be a UUID');
  return Buffer.from(id.replace(/-/g, ''), 'hex');
}

function bytesToUuid(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
