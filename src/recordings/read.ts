/**
 * Opening a stored recording for reading: needs the controller's private key.
 */
import { createHash } from 'node:crypto';
import { openRecording, type OpenedRecording } from '../container/decrypt.js';
import { decryptionFailed } from '../errors.js';
import { dataKeyContext } from '../keys/hpke.js';
import type { RecordingRow, RenditionRow } from '../db/recordings-repository.js';
import type { Vault } from '../vault.js';

/** what reading a stored recording needs: the keys to unwrap its data key, the store of its objects */
type Reader = Pick<Vault, 'keys' | 'blobs'>;
import type { FoundIdentifier } from '../redaction/transcript.js';
import { openMetadata, openPart, type SealedFields } from './sealed-metadata.js';

export async function unwrapRecordingKey(vault: Pick<Vault, 'keys'>, row: RecordingRow): Promise<Buffer> {
  return vault.keys.unwrap(row.key_id, Buffer.from(row.wrapped_key, 'base64'), dataKeyContext(row.key_id, row.id));
}

/**
 * `use` with the recording's data key, unwrapped once (an HPKE open, on an HSM a round trip) and
 * zeroed when `use` is done: for a caller that needs several of the recording's parts.
 */
async function withDataKey<T>(vault: Reader, row: RecordingRow, use: (dataKey: Buffer) => T | Promise<T>): Promise<T> {
  const dataKey = await unwrapRecordingKey(vault, row);
  try {
    return await use(dataKey);
  } finally {
    dataKey.fill(0);
  }
}

/** the original, or with `rendition` another encoding of it under the same data key */
export async function openStoredRecording(vault: Reader, row: RecordingRow, rendition?: RenditionRow): Promise<OpenedRecording> {
  return withDataKey(vault, row, (dataKey) => openWithKey(vault, row, dataKey, rendition));
}

/** `openStoredRecording` with the data key already unwrapped */
async function openWithKey(vault: Reader, row: RecordingRow, dataKey: Buffer, rendition?: RenditionRow): Promise<OpenedRecording> {
  const object = rendition ?? row;
  const source = await vault.blobs.open(object.blob_key);
  // a length other than the recorded one can only be damage or tampering
  if (source.size !== object.ciphertext_size) throw decryptionFailed();
  const opened = await openRecording(source, dataKey, object.id);
  if (opened.plaintextSize !== object.plaintext_size) throw decryptionFailed();
  return opened;
}

export interface RecordingParts {
  fields: SealedFields;
  /** the original audio, opened */
  audio: OpenedRecording;
  /** the original transcript as UTF-8 text, when there is one */
  transcript?: string;
}

/** the sealed fields, the original audio opened and the transcript, with one unwrap of the data key */
export async function openRecordingParts(vault: Reader, row: RecordingRow): Promise<RecordingParts> {
  const sealed = row.sealed_transcript;
  return withDataKey(vault, row, async (dataKey) => ({
    fields: openMetadata(row.sealed_metadata, dataKey, row.id),
    audio: await openWithKey(vault, row, dataKey),
    transcript: sealed ? openPart('transcript', sealed, dataKey, row.id).toString('utf8') : undefined,
  }));
}

/** a sealed part (the transcript, its redacted form) as UTF-8 text, or undefined when absent */
export async function readSealedText(vault: Reader, row: RecordingRow, part: 'transcript' | 'redacted-transcript'): Promise<string | undefined> {
  const sealed = part === 'transcript' ? row.sealed_transcript : row.sealed_redacted_transcript;
  if (!sealed) return undefined;
  return withDataKey(vault, row, (dataKey) => openPart(part, sealed, dataKey, row.id).toString('utf8'));
}

/** decrypts every segment and returns the SHA-256 of the plaintext */
export async function plaintextSha256(vault: Reader, row: RecordingRow): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of (await openStoredRecording(vault, row)).read()) hash.update(chunk);
  return hash.digest('hex');
}

export async function readSealedFields(vault: Reader, row: RecordingRow): Promise<SealedFields> {
  return withDataKey(vault, row, (dataKey) => openMetadata(row.sealed_metadata, dataKey, row.id));
}

/** the identifiers found in the recording's transcript, with their time spans */
export async function readSealedDetections(vault: Reader, row: RecordingRow): Promise<FoundIdentifier[]> {
  const sealed = row.sealed_detections;
  if (!sealed) return [];
  return withDataKey(vault, row, (dataKey) => JSON.parse(openPart('detections', sealed, dataKey, row.id).toString('utf8')) as FoundIdentifier[]);
}
