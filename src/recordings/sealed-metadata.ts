/**
 * The identifying part of a recording's metadata, sealed under a key derived from the recording's
 * own data key (docs/metadata.md §2): destroying the data key destroys these fields too.
 */
import { hkdfSync } from 'node:crypto';
import { decryptionFailed } from '../errors.js';
import { open, seal } from '../util/aead.js';
import type { FoundIdentifiers } from '../identifiers/in-files.js';

export interface SealedFields {
  /** E.164 */
  caller?: string;
  /** 12 digits */
  personnummer?: string;
  sourceName: string;
  sourcePath: string;
  /**
   * what an import found in the file's names and tags (src/identifiers/in-files.ts); absent when
   * nothing was found, and in metadata sealed before imports looked
   */
  found?: FoundIdentifiers;
  /** a call recorded live from a session border controller (src/siprec/), sealed at its end */
  siprec?: LiveCallFields;
}

/** what a live call's recording session said, and how its media arrived (docs/siprec.md) */
export interface LiveCallFields {
  /** the RFC 7865 participants: address of record, display name, E.164 when the address holds one, and the a=label of the stream each sends */
  participants: { aor: string; name?: string; phone?: string; labels: string[] }[];
  /** E.164 of the called party, when known */
  callee?: string;
  /** ISO 8601, UTC: the BYE (or the last sealed segment, for a call cut off by a crash) */
  endedAt: string;
  /** one per channel of the WAV, in channel order */
  streams: { label: string; codec: string; received: number; lost: number; duplicates: number; late: number; telephoneEvents: number }[];
  /** the recording ends before the call did (the server stopped mid-call) */
  incomplete?: true;
}

/**
 * What is sealed beside the audio, each under its own key derived from the data key:
 * the identifying metadata, the transcript as given (or as transcribed), the transcript with
 * identifiers replaced, and the identifiers found in it with their time spans.
 */
export type SealedPart = 'metadata' | 'transcript' | 'redacted-transcript' | 'detections';

function derivedKey(dataKey: Buffer, name: SealedPart, recordingId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), Buffer.from(`callvault/rec/v1 ${name} key\n${recordingId}`, 'latin1'), 32));
}

export function sealPart(name: SealedPart, plaintext: Buffer, dataKey: Buffer, recordingId: string): string {
  return seal(derivedKey(dataKey, name, recordingId), plaintext, Buffer.from(recordingId, 'latin1')).toString('base64');
}

export function openPart(name: SealedPart, sealed: string, dataKey: Buffer, recordingId: string): Buffer {
  return open(derivedKey(dataKey, name, recordingId), Buffer.from(sealed, 'base64'), Buffer.from(recordingId, 'latin1'));
}

/** a transcript given at ingest, sealed like the metadata under its own derived key */
export function sealTranscript(text: Buffer, dataKey: Buffer, recordingId: string): string {
  return sealPart('transcript', text, dataKey, recordingId);
}

export function sealMetadata(fields: SealedFields, dataKey: Buffer, recordingId: string): string {
  return sealPart('metadata', Buffer.from(JSON.stringify(fields), 'utf8'), dataKey, recordingId);
}

export function openMetadata(sealed: string, dataKey: Buffer, recordingId: string): SealedFields {
  const plain = openPart('metadata', sealed, dataKey, recordingId);
  try {
    return JSON.parse(plain.toString('utf8')) as SealedFields;
  } catch {
    throw decryptionFailed();
  }
}
