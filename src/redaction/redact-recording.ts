/**
 * Examining one stored recording for identifiers and making its redacted rendition
 * (docs/redaction.md). Needs the unlocked keyring: the audio and transcript are decrypted in
 * memory, the rendition is encrypted under the recording's own data key before it is written,
 * so destroying that one key destroys every form of the call.
 *
 * Fail closed: when an identifier is found but cannot be placed in time, or the audio cannot be
 * rewritten, no redacted audio exists, the recording is flagged `failed`, and only roles allowed
 * to hear the original can play it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { probeSource, type AudioInfo } from '../audio/probe.js';
import { EncryptStream } from '../container/encrypt.js';
import type { OpenedRecording } from '../container/decrypt.js';
import type { RecordingRow, RedactionRecord } from '../db/recordings-repository.js';
import { CallvaultError, ErrorCodes, isCallvaultError } from '../errors.js';
import { detectIdentifiers } from '../pii/detector.js';
import { identifierDigests, blindIndexFor } from '../recordings/indexer.js';
import { openStoredRecording, unwrapRecordingKey } from '../recordings/read.js';
import { openMetadata, openPart, sealPart, type SealedFields } from '../recordings/sealed-metadata.js';
import { parseTranscript, serializeTranscript, type Transcript } from '../transcripts/index.js';
import type { AuditActor } from '../audit/audit-log.js';
import type { Vault } from '../vault.js';
import { frameRanges } from './fill.js';
import { DEFAULT_REDACTION, type RedactionOptions } from './options.js';
import type { TranscriptionAdapter } from '../transcription/index.js';
import { redactMp3, widenForMp3 } from './mp3.js';
import { findIdentifiers, redactTranscript, transcriptText, type FoundIdentifier } from './transcript.js';
import { redactWav } from './wav.js';

export { DEFAULT_REDACTION, redactionOptionsFrom, type RedactionOptions } from './options.js';

/** the largest recording sent whole to a transcription service */
const MAX_TRANSCRIBE_BYTES = 512 * 1024 * 1024;

export type RedactionProblem = 'unplaced' | 'audio' | 'transcript' | 'transcription';

export interface RedactionOutcome {
  state: RedactionRecord['state'];
  problem: RedactionProblem | null;
  identifiers: number;
}

export function renditionBlobKey(renditionId: string): string {
  return `renditions/${renditionId.slice(0, 2)}/${renditionId}.cvr`;
}

export async function redactRecording(vault: Vault, row: RecordingRow, options: RedactionOptions = DEFAULT_REDACTION): Promise<RedactionOutcome> {
  const actor = options.actor ?? BACKGROUND;
  const dataKey = await unwrapRecordingKey(vault, row);
  try {
    const fields = openMetadata(row.sealed_metadata, dataKey, row.id);
    const save = (record: RedactionRecord, found: FoundIdentifier[]) => saveOutcome(vault, row, record, found, fields, actor);
    const opened = await openStoredRecording(vault, row);
    let sealedTranscript: string | undefined;
    let transcript: Transcript | undefined;
    try {
      if (row.sealed_transcript) {
        transcript = parseTranscript(openPart('transcript', row.sealed_transcript, dataKey, row.id));
      } else if (options.transcriber) {
        transcript = await transcribe(opened, row, options.transcriber);
        sealedTranscript = sealPart('transcript', Buffer.from(serializeTranscript(transcript), 'utf8'), dataKey, row.id);
      }
    } catch (err) {
      if (!isCallvaultError(err)) throw err;
      const problem: RedactionProblem = row.sealed_transcript ? 'transcript' : 'transcription';
      return await save({ state: 'failed', problem, sealedRedactedTranscript: null, sealedDetections: null }, []);
    }
    if (!transcript) return await save({ state: 'none', problem: null, sealedRedactedTranscript: null, sealedDetections: null }, []);

    const text = transcriptText(transcript);
    const detections = detectIdentifiers(text.text);
    const found = findIdentifiers(text, detections, row.duration_ms / 1000);
    const sealedRedactedTranscript = sealPart('redacted-transcript', Buffer.from(serializeTranscript(redactTranscript(transcript, text, detections)), 'utf8'), dataKey, row.id);
    const sealedDetections = sealPart('detections', Buffer.from(JSON.stringify(found), 'utf8'), dataKey, row.id);
    const base = { sealedTranscript, sealedRedactedTranscript, sealedDetections };
    if (found.length === 0) return await save({ ...base, state: 'clean', problem: null }, found);
    if (found.some((f) => !f.span)) return await save({ ...base, state: 'failed', problem: 'unplaced' }, found);

    let rendition: RedactionRecord['rendition'];
    try {
      rendition = await writeRendition(vault, row, opened, dataKey, found, options);
    } catch (err) {
      if (!isCallvaultError(err) || err.code === ErrorCodes.STORAGE_FAILED) throw err;
      return await save({ ...base, state: 'failed', problem: 'audio' }, found);
    }
    return await save({ ...base, state: 'redacted', problem: null, rendition }, found);
  } finally {
    dataKey.fill(0);
  }
}

/**
 * Records the outcome and its blind indexes, and logs the examination: decrypting a call to
 * look for identifiers is an access like any other, so the patient's access log shows it.
 */
async function saveOutcome(vault: Vault, row: RecordingRow, record: RedactionRecord, found: FoundIdentifier[], fields: SealedFields, actor: AuditActor): Promise<RedactionOutcome> {
  const replaced = await vault.recordings.saveRedaction(row.id, record);
  for (const key of replaced) await vault.blobs.delete(key).catch(() => undefined);
  await vault.recordings.setIdentifiers(row.id, identifierDigests(blindIndexFor(vault, row.controller_id), fields, found));
  const outcome = { state: record.state, problem: (record.problem as RedactionProblem | null) ?? null, identifiers: found.length };
  await vault.audit.append({
    action: 'recording.redact',
    outcome: record.state === 'failed' ? 'failure' : 'success',
    actor,
    recordingId: row.id,
    controllerId: row.controller_id,
    detail: {
      state: outcome.state,
      identifiers: outcome.identifiers,
      ...(outcome.problem ? { problem: outcome.problem } : {}),
      ...(record.sealedTranscript ? { transcribed: true } : {}),
    },
  });
  return outcome;
}

const BACKGROUND: AuditActor = { type: 'system', name: 'redaction' };

async function transcribe(opened: OpenedRecording, row: RecordingRow, transcriber: TranscriptionAdapter): Promise<Transcript> {
  if (opened.plaintextSize > MAX_TRANSCRIBE_BYTES) throw new CallvaultError(ErrorCodes.TRANSCRIPTION_FAILED, 'the recording is too large to transcribe');
  const parts: Buffer[] = [];
  for await (const chunk of opened.read()) parts.push(chunk);
  const audio = Buffer.concat(parts);
  try {
    return await transcriber.transcribe(audio, { format: row.format === 'mp3' ? 'mp3' : 'wav' });
  } finally {
    audio.fill(0);
  }
}

/** the redacted audio, encrypted under the recording's data key as a container of its own id */
async function writeRendition(vault: Vault, row: RecordingRow, opened: OpenedRecording, dataKey: Buffer, found: FoundIdentifier[], options: RedactionOptions) {
  const info = await probeSource({
    size: opened.plaintextSize,
    read: async (position, length) => collect(opened.read(position, Math.min(opened.plaintextSize, position + length))),
  });
  const spans = found.map((f) => f.span!);
  let audio: AsyncIterable<Buffer>;
  if (info.format === 'wav') {
    const totalFrames = Math.floor(info.wav!.dataBytes / info.wav!.blockAlign);
    audio = redactWav((s, e) => opened.read(s, e), info, frameRanges(spans, info.sampleRate, totalFrames, options.paddingSeconds), options.fill);
  } else {
    const totalFrames = Math.ceil((info.durationMs * info.sampleRate) / 1000) + info.sampleRate;
    const ranges = widenForMp3(frameRanges(spans, info.sampleRate, totalFrames, options.paddingSeconds), totalFrames);
    audio = redactMp3(opened.read(), info as AudioInfo, opened.plaintextSize, ranges, options.fill);
  }
  const id = randomUUID();
  const blobKey = renditionBlobKey(id);
  const pending = await vault.blobs.begin(blobKey);
  const hash = createHash('sha256');
  let plaintextSize = 0;
  let ciphertextSize = 0;
  try {
    await pipeline(
      Readable.from(audio),
      tap((b) => (plaintextSize += b.length)),
      new EncryptStream(dataKey, id),
      tap((b) => {
        hash.update(b);
        ciphertextSize += b.length;
      }),
      pending.stream,
    );
    await pending.commit();
  } catch (err) {
    await pending.abort();
    throw err;
  }
  return {
    id,
    recording_id: row.id,
    kind: 'redacted' as const,
    blob_key: blobKey,
    format: info.format,
    ciphertext_size: ciphertextSize,
    ciphertext_sha256: hash.digest('hex'),
    plaintext_size: plaintextSize,
    created_at: new Date().toISOString(),
  };
}

function tap(each: (b: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      each(chunk);
      done(null, chunk);
    },
  });
}

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of source) parts.push(b);
  return Buffer.concat(parts);
}
