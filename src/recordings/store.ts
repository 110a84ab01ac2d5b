/**
 * Stores one recording: encrypts while streaming, writes the object atomically, then commits the
 * metadata. The order makes a crash at any point leave either a complete recording or an attempt
 * that the housekeeping settles (src/recordings/attempts.ts); a recording is listed only once its
 * object is durable and its arrival is in the audit log.
 */
import { randomUUID } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CallvaultError, ErrorCodes } from '../errors.js';
import { recordingBlobKey } from '../storage/blob-store.js';
import type { AudioInfo } from '../audio/probe.js';
import type { Vault } from '../vault.js';
import type { SealedFields } from './sealed-metadata.js';
import { EncryptWorkerPool } from './encrypt-workers.js';
import { holdWriterLease, inFlight, WRITER } from './attempts.js';
import { wrappingKey } from '../retention/wrapping-key.js';
import { DEFAULT_CLASS } from '../retention/periods.js';

export interface RecordingMetadata {
  controllerId: string;
  agent?: string;
  region?: string;
  direction?: 'inbound' | 'outbound';
  /** ISO 8601, UTC */
  startedAt?: string;
  /** the retention class (docs/retention.md); `default` when absent */
  retentionClass?: string;
}

export type StoreResult = { status: 'stored'; id: string; sha256: string } | { status: 'duplicate'; id: string; sha256: string };

export interface StoreOptions {
  onChunk?: (chunk: Buffer) => void;
  expectedSha256?: string;
  transcript?: Buffer;
  /**
   * called once the object is durable and before the recording becomes visible: the audit entry
   * of its arrival. When it throws, nothing is stored.
   */
  beforeVisible?: (id: string) => Promise<void>;
  /** a live call's crash journal: what was sealed so far survives the process (src/siprec/journal.ts) */
  journal?: StoreJournal;
}

/** a copy of the container bytes as they are sealed, with the wrapped data key, kept until the recording is stored */
export interface StoreJournal {
  /** identifiers known at the start, sealed into the journal under the recording's data key */
  fields: SealedFields;
  /** before any container bytes: the recording's id, key and its sealed fields */
  begin(entry: { recordingId: string; controllerId: string; keyId: string; wrappedKey: string; sealedMetadata: string }): Promise<void>;
  /** container bytes, in order, whole segments (the first piece starts with the header) */
  append(bytes: Buffer): Promise<void>;
  /** the recording is stored, or given up: the journal goes */
  close(): Promise<void>;
}

export async function storeRecording(
  vault: Vault,
  source: Readable,
  /** known before (a file) or only after the bytes have streamed through (an upload) */
  audio: AudioInfo | (() => Promise<AudioInfo>),
  metadata: RecordingMetadata,
  /** a function when they are known only once the audio has ended (a live call) */
  identifiers: SealedFields | (() => SealedFields),
  options: StoreOptions = {},
): Promise<StoreResult> {
  await holdWriterLease(vault);
  const key = await wrappingKey(vault, metadata);
  const id = randomUUID();
  const blobKey = recordingBlobKey(id);
  const pending = await vault.blobs.begin(blobKey);
  let inserted = false;
  inFlight.add(id);
  try {
    const encrypt = EncryptWorkerPool.shared().encrypt({
      recordingId: id,
      keyId: key.keyId,
      publicKey: key.publicKey,
      fields: identifiers,
      transcript: options.transcript,
      ...(options.journal ? { journal: options.journal.fields } : {}),
    });
    const { journal } = options;
    const copy = journal
      ? journalTap(async () => {
          const k = await encrypt.journalKey;
          await journal.begin({ recordingId: id, controllerId: metadata.controllerId, keyId: key.keyId, ...k });
        }, journal)
      : undefined;
    await pipeline([source, tap((b) => options.onChunk?.(b)), encrypt, ...(copy ? [copy] : []), pending.stream]);
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
    await vault.recordings.insertPending({
      id,
      controller_id: metadata.controllerId,
      writer: WRITER,
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
      retention_class: metadata.retentionClass ?? DEFAULT_CLASS,
      sealed_metadata: sealed.sealedMetadata,
      sealed_transcript: sealed.sealedTranscript ?? null,
      imported_at: new Date().toISOString(),
    });
    inserted = true;
    await pending.commit();
    await options.beforeVisible?.(id);
    let visible = false;
    try {
      visible = await vault.recordings.markStored(id);
    } catch (err) {
      // another attempt stored the same content while this one was written: it is the recording
      const raced = await vault.recordings.findByContent(metadata.controllerId, sha256);
      if (!raced) throw err;
      await discard(vault, id, blobKey);
      return { status: 'duplicate', id: raced.id, sha256 };
    }
    // the housekeeping judged this writer dead (it stalled past its lease) and settled the attempt
    if (!visible && (await vault.recordings.attempt(id))?.state !== 'stored') {
      await vault.blobs.delete(blobKey);
      throw new CallvaultError(ErrorCodes.STORAGE_UNAVAILABLE, 'the upload took too long to be stored: send it again');
    }
    return { status: 'stored', id, sha256 };
  } catch (err) {
    await pending.abort();
    // best effort: what is left is an attempt of a live writer, settled once this process is gone
    if (inserted) await discard(vault, id, blobKey).catch(() => {});
    throw err;
  } finally {
    inFlight.delete(id);
    await options.journal?.close().catch(() => undefined);
  }
}

/** copies container bytes to a journal before they go on; the journal's entry is written first */
function journalTap(begin: () => Promise<void>, journal: StoreJournal): Transform {
  let begun: Promise<void> | undefined;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      begun ??= begin();
      begun
        .then(() => journal.append(chunk))
        .then(
          () => done(null, chunk),
          (err: Error) => done(err),
        );
    },
  });
}

/** removes this process's own attempt: the object first, so a crash leaves a row the housekeeping settles */
async function discard(vault: Vault, id: string, blobKey: string): Promise<void> {
  await vault.blobs.delete(blobKey);
  await vault.recordings.deleteAttempt(id);
}

function tap(each: (b: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      each(chunk);
      done(null, chunk);
    },
  });
}
