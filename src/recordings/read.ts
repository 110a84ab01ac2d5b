/**
 * Opening a stored recording for reading: needs the controller's private key.
 */
import { createHash } from 'node:crypto';
import { openRecording, type OpenedRecording } from '../container/decrypt.js';
import { decryptionFailed } from '../errors.js';
import { dataKeyContext } from '../keys/hpke.js';
import type { RecordingRow } from '../db/recordings-repository.js';
import type { Vault } from '../vault.js';
import { openMetadata, type SealedFields } from './sealed-metadata.js';

export async function unwrapRecordingKey(vault: Vault, row: RecordingRow): Promise<Buffer> {
  return vault.keys.unwrap(row.key_id, Buffer.from(row.wrapped_key, 'base64'), dataKeyContext(row.key_id, row.id));
}

export async function openStoredRecording(vault: Vault, row: RecordingRow): Promise<OpenedRecording> {
  const dataKey = await unwrapRecordingKey(vault, row);
  try {
    const source = await vault.blobs.open(row.blob_key);
    // a length other than the recorded one can only be damage or tampering
    if (source.size !== row.ciphertext_size) throw decryptionFailed();
    const opened = await openRecording(source, dataKey, row.id);
    if (opened.plaintextSize !== row.plaintext_size) throw decryptionFailed();
    return opened;
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
