/**
 * Opening a stored recording for reading: needs the controller's private key.
 */
import { createHash } from 'node:crypto';
import { openRecording, type OpenedRecording } from '../container/decrypt.js';
import { decryptionFailed } from '../errors.js';
import { dataKeyContext } from '../keys/hpke.js';
import type { RecordingRow, RenditionRow } from '../db/recordings-repository.js';
import type { Vault } from '../vault.js';
import type { FoundIdentifier } from '../redaction/transcript.js';
import { openMetadata, openPart, type SealedFields } from './sealed-metadata.js';

export async function unwrapRecordingKey(vault: Vault, row: RecordingRow): Promise<Buffer> {
  return vault.keys.unwrap(row.key_id, Buffer.from(row.wrapped_key, 'base64'), dataKeyContext(row.key_id, row.id));
}

/** the original, or with `rendition` another encoding of it under the same data key */
export async function openStoredRecording(vault: Vault, row: RecordingRow, rendition?: RenditionRow): Promise<OpenedRecording> {
  const object = rendition ?? row;
  const dataKey = await unwrapRecordingKey(vault, row);
  try {
    const source = await vault.blobs.open(object.blob_key);
    // a length other than the recorded one can only be damage or tampering
    if (source.size !== object.ciphertext_size) throw decryptionFailed();
    const opened = await openRecording(source, dataKey, object.id);
    if (opened.plaintextSize !== object.plaintext_size) throw decryptionFailed();
    return opened;
  } finally {
    dataKey.fill(0);
  }
}

/** a sealed part (the transcript, its redacted form) as UTF-8 text, or undefined when absent */
export async function readSealedText(vault: Vault, row: RecordingRow, part: 'transcript' | 'redacted-transcript'): Promise<string | undefined> {
  const sealed = part === 'transcript' ? row.sealed_transcript : row.sealed_redacted_transcript;
  if (!sealed) return undefined;
  const dataKey = await unwrapRecordingKey(vault, row);
  try {
    return openPart(part, sealed, dataKey, row.id).toString('utf8');
  } finally {
    dataKey.fill(0);
  }
}

/** decrypts every segment and returns the SHA-256 of the plaintext */
export async function plaintextSha256(vault: Vault, row: RecordingRow): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of (await openStoredRecording(vault, row)).read()) hash.update(chunk);
  return hash.digest('hex');
}

export async function readSealedFields(vault: Vault, row: RecordingRow): Promise<SealedFields> {
  const dataKey = await unwrapRecordingKey(vault, row);
  try {
    return openMetadata(row.sealed_metadata, dataKey, row.id);
  } finally {
    dataKey.fill(0);
  }
}

/** the identifiers found in the recording's transcript, with their time spans */
export async function readSealedDetections(vault: Vault, row: RecordingRow): Promise<FoundIdentifier[]> {
  if (!row.sealed_detections) return [];
  const dataKey = await unwrapRecordingKey(vault, row);
  try {
    return JSON.parse(openPart('detections', row.sealed_detections, dataKey, row.id).toString('utf8')) as FoundIdentifier[];
  } finally {
    dataKey.fill(0);
  }
}
