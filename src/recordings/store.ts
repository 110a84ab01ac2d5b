/**
 * Stores one recording: encrypts while streaming, writes the object atomically, then commits the
 * metadata. The order makes a crash at any point leave either a complete recording or debris that
 * removeDebris() clears; a recording is listed only once its object is durable.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CallvaultError, ErrorCodes } from '../errors.js';
import { recordingBlobKey } from '../storage/blob-store.js';
import { processAlive } from '../util/fs.js';
import type { AudioInfo } from '../audio/probe.js';
import type { Vault } from '../vault.js';
import type { SealedFields } from './sealed-metadata.js';
import { EncryptWorkerPool } from './encrypt-workers.js';

export interface RecordingMetadata {
  controllerId: string;
  agent?: string;
  region?: string;
  direction?: 'inbound' | 'outbound';
  /** ISO 8601, UTC */
  startedAt?: string;
}

export type StoreResult =
  | { status: 'stored'; id: string; sha256: string }
  | { status: 'duplicate'; id: string; sha256: string };

const WRITER = `${hostname()}:`;

export async function storeRecording(
  vault: Vault,
  source: Readable,
  /** known before (a file) or only after the bytes have streamed through (an upload) */
  audio: AudioInfo | (() => Promise<AudioInfo>),
  metadata: RecordingMetadata,
  identifiers: SealedFields,
  options: { onChunk?: (chunk: Buffer) => void; expectedSha256?: string; transcript?: Buffer } = {},
): Promise<StoreResult> {
  const key = await vault.keys.activeKey(metadata.controllerId);
  const id = randomUUID();
  const blobKey = recordingBlobKey(id);
  const pending = await vault.blobs.begin(blobKey);
  try {
    const encrypt = EncryptWorkerPool.shared().encrypt({
      recordingId: id,
      keyId: key.keyId,
      publicKey: key.publicKey,
      fields: identifiers,
      transcript: options.transcript,
    });
    await pipeline(source, tap((b) => options.onChunk?.(b)), encrypt, pending.stream);
    const sealed = await encrypt.result;
    const info = typeof audio === 'function' ? await audio() : audio;
    const sha256 = sealed.contentSha256;
    if (options.expectedSha256 && sha256 !== options.expectedSha256) {
      throw new CallvaultError(ErrorCodes.INTEGRITY_MISMATCH, 'the file changed while it was being imported');
    }
    const existing = await vault.recordings.findByContent(metadata.controllerId, sha256);
    if (existing) {
      await pending.abort();
      return { status: 'duplicate', id: existing.id, sha256 };
    }
    try {
      await vault.recordings.insertPending({
        id,
        controller_id: metadata.controllerId,
        writer: `${WRITER}${process.pid}`,
        blob_key: blobKey,
        key_id: key.keyId,
        wrapped_key: sealed.wrappedKey,
        ciphertext_size: sealed.ciphertextSize,
        ciphertext_sha256: sealed.ciphertextSha256,
        content_sha256: sha256,
        plaintext_size: sealed.plaintextSize,
        format: info.format,
        codec: info.codec,
        sample_rate: info.sampleRate,
        channels: info.channels,
        duration_ms: Math.round(info.durationMs),
        agent: metadata.agent ?? null,
        region: metadata.region ?? null,
        direction: metadata.direction ?? null,
        started_at: metadata.startedAt ?? null,
        sealed_metadata: sealed.sealedMetadata,
        sealed_transcript: sealed.sealedTranscript ?? null,
        imported_at: new Date().toISOString(),
      });
    } catch (err) {
      // another process stored the same content between our lookup and our insert
      const raced = await vault.recordings.findByContent(metadata.controllerId, sha256);
      if (raced) {
        await pending.abort();
        return { status: 'duplicate', id: raced.id, sha256 };
      }
      throw err;
    }
    await pending.commit();
    await vault.recordings.markStored(id);
    return { status: 'stored', id, sha256 };
  } catch (err) {
    await pending.abort();
    throw err;
  }
}

/**
 * Removes what writers that died left behind: temporary objects, and pending rows with the
 * object they may have renamed into place. Only writers on this host are judged, by pid.
 */
export async function removeDebris(vault: Vault): Promise<{ objects: number; recordings: number }> {
  const objects = await vault.blobs.removeDebris();
  let recordings = 0;
  for (const row of await vault.recordings.pending()) {
    if (!row.writer?.startsWith(WRITER)) continue;
    const pid = Number(row.writer.slice(WRITER.length));
    if (processAlive(pid)) continue;
    await vault.blobs.delete(row.blob_key);
    await vault.recordings.delete(row.id);
    recordings += 1;
  }
  return { objects, recordings };
}

function tap(each: (b: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      each(chunk);
      done(null, chunk);
    },
  });
}
