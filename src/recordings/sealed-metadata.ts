/**
 * The identifying part of a recording's metadata, sealed under a key derived from the recording's
 * own data key (docs/metadata.md §2): destroying the data key destroys these fields too.
 */
import { hkdfSync } from 'node:crypto';
import { decryptionFailed } from '../errors.js';
import { open, seal } from '../util/aead.js';

export interface SealedFields {
  /** E.164 */
  caller?: string;
  /** 12 digits */
  personnummer?: string;
  sourceName: string;
  sourcePath: string;
}

function metadataKey(dataKey: Buffer, recordingId: string): Buffer {
  return derivedKey(dataKey, 'metadata', recordingId);
}

function derivedKey(dataKey: Buffer, name: 'metadata' | 'transcript', recordingId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), Buffer.from(`callvault/rec/v1 ${name} key\n${recordingId}`, 'latin1'), 32));
}

/** a transcript given at ingest, sealed like the metadata under its own derived key */
export function sealTranscript(text: Buffer, dataKey: Buffer, recordingId: string): string {
  return seal(derivedKey(dataKey, 'transcript', recordingId), text, Buffer.from(recordingId, 'latin1')).toString('base64');
}

export function openTranscript(sealed: string, dataKey: Buffer, recordingId: string): Buffer {
  return open(derivedKey(dataKey, 'transcript', recordingId), Buffer.from(sealed, 'base64'), Buffer.from(recordingId, 'latin1'));
}

export function sealMetadata(fields: SealedFields, dataKey: Buffer, recordingId: string): string {
  return seal(metadataKey(dataKey, recordingId), Buffer.from(JSON.stringify(fields), 'utf8'), Buffer.from(recordingId, 'latin1')).toString('base64');
}

export function openMetadata(sealed: string, dataKey: Buffer, recordingId: string): SealedFields {
  const plain = open(metadataKey(dataKey, recordingId), Buffer.from(sealed, 'base64'), Buffer.from(recordingId, 'latin1'));
  try {
    return JSON.parse(plain.toString('utf8')) as SealedFields;
  } catch {
    throw decryptionFailed();
  }
}
