/**
 * Ingest over HTTP for recorders, with an `ingest` token: multipart/form-data with the parts
 *   metadata    optional, JSON: the sidecar keys of `callvault import` (caller, personnummer, agent,
 *               region, startedAt, direction)
 *   transcript  optional, WebVTT, SRT or whisper verbose_json, at most 4 MiB; validated and kept
 *               in one canonical JSON form
 *   audio       WAV or MP3, last; streamed through encryption, never held whole in memory
 * Parts after the audio are not read. The audio is encrypted with the controller's public key
 * only, so the server needs no private key for this route. Its format is read from the first
 * MiB, kept while the bytes stream through; an upload cut off, too large, or not audio leaves
 * nothing stored.
 */
import { basename } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { MultipartFile } from '@fastify/multipart';
import { CallvaultError, ErrorCodes, isCallvaultError } from '../../errors.js';
import { headTailSource, probeSource } from '../../audio/probe.js';
import { parseSidecar, type Sidecar } from '../../import/sidecar.js';
import { storeRecording } from '../../recordings/store.js';
import { indexNow } from '../../recordings/indexer.js';
import { redactRecording } from '../../redaction/redact-recording.js';
import { MAX_TRANSCRIPT_BYTES, parseTranscript, serializeTranscript } from '../../transcripts/index.js';
import { audit, authorize } from '../auth.js';
import { countIngest } from '../../metrics/metrics.js';
import { errorResponses, errorSchema } from '../schemas.js';

const HEAD_BYTES = 1024 * 1024;
const TAIL_BYTES = 128 * 1024;
const TRANSCRIPT_TYPES = new Set(['text/vtt', 'application/x-subrip', 'text/srt', 'application/json', 'text/plain']);

const ingestAnswer = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    sha256: { type: 'string' },
    status: { type: 'string', enum: ['stored', 'duplicate'] },
    /** where examining the call for identifiers stands (pending: the server's keyring is locked) */
    redaction: { type: 'string' },
  },
  required: ['id', 'sha256', 'status'],
} as const;

export async function registerIngestRoutes(api: FastifyInstance): Promise<void> {
  api.post('/recordings', {
    schema: {
      tags: ['ingest'],
      summary: 'Upload a recording (ingest token): multipart parts `metadata` (JSON), `transcript`, then `audio`',
      consumes: ['multipart/form-data'],
      response: { 201: ingestAnswer, 200: ingestAnswer, 413: errorSchema, 415: errorSchema, 422: errorSchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      const principal = await authorize(req, 'recording:ingest', 'recording.ingest');
      if (principal.kind !== 'token') throw new CallvaultError(ErrorCodes.FORBIDDEN, 'uploads need an ingest token');
      if (!req.isMultipart()) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'send multipart/form-data with an `audio` part');
      const controllerId = principal.controllerId;
      let sidecar: Sidecar = {};
      let transcript: Buffer | undefined;
      try {
        for await (const part of req.parts()) {
          if (part.type === 'field') {
            if (part.fieldname === 'metadata') sidecar = parseMetadata(String(part.value));
            else if (part.fieldname === 'transcript') transcript = canonicalTranscript(Buffer.from(String(part.value), 'utf8'), 'text/plain');
            else throw new CallvaultError(ErrorCodes.INVALID_REQUEST, `unknown part "${part.fieldname.slice(0, 40)}"`);
            continue;
          }
          if (part.fieldname === 'transcript') {
            transcript = canonicalTranscript(await readLimited(part, MAX_TRANSCRIPT_BYTES), part.mimetype);
            continue;
          }
          if (part.fieldname !== 'audio') throw new CallvaultError(ErrorCodes.INVALID_REQUEST, `unknown part "${part.fieldname.slice(0, 40)}"`);
          if (sidecar.controller && sidecar.controller !== controllerId) {
            throw new CallvaultError(ErrorCodes.FORBIDDEN, 'this token uploads for one controller only');
          }
          // a new recording's entry is written before it becomes visible; a duplicate changes nothing
          const arrived = (id: string) => audit(req, { action: 'recording.ingest', outcome: 'success', recordingId: id, controllerId, detail: { status: 'stored' } });
          const result = await storeAudio(api, part, controllerId, sidecar, transcript, arrived);
          if (result.status === 'duplicate') await audit(req, { action: 'recording.ingest', outcome: 'success', recordingId: result.id, controllerId, detail: { status: 'duplicate' } });
          countIngest(result.status);
          return reply.code(result.status === 'stored' ? 201 : 200).send(result);
        }
      } catch (err) {
        // refused before the body was read: the rest of it must not be taken for the next request
        if (!req.raw.complete) void reply.header('connection', 'close');
        countIngest('failed');
        await audit(req, { action: 'recording.ingest', outcome: 'failure', controllerId, detail: { reason: isCallvaultError(err) ? err.code : 'error' } });
        throw asRequestError(err);
      }
      throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'the upload has no `audio` part');
    },
  });
}

async function storeAudio(
  api: FastifyInstance,
  part: MultipartFile,
  controllerId: string,
  sidecar: Sidecar,
  transcript: Buffer | undefined,
  beforeVisible: (id: string) => Promise<void>,
) {
  // copies, because each chunk is handed over to the encryption worker and detached
  let size = 0;
  const head: Buffer[] = [];
  let headBytes = 0;
  const tail: Buffer[] = [];
  let tailBytes = 0;
  const keep = (chunk: Buffer) => {
    size += chunk.length;
    if (headBytes < HEAD_BYTES) {
      head.push(Buffer.from(chunk.subarray(0, HEAD_BYTES - headBytes)));
      headBytes += Math.min(chunk.length, HEAD_BYTES - headBytes);
    }
    tail.push(Buffer.from(chunk));
    tailBytes += chunk.length;
    while (tailBytes - tail[0]!.length >= TAIL_BYTES) tailBytes -= tail.shift()!.length;
  };
  const audio = async () => {
    // busboy ends a file at the size limit without an error; a cut-off recording is not stored
    if (part.file.truncated) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'the audio is larger than this server accepts');
    return probeSource(headTailSource(Buffer.concat(head), Buffer.concat(tail).subarray(-TAIL_BYTES), size));
  };
  const fields = { caller: sidecar.caller, personnummer: sidecar.personnummer, sourceName: basename(part.filename || 'upload'), sourcePath: 'http-ingest' };
  const result = await storeRecording(
    api.vault,
    part.file,
    audio,
    { controllerId, agent: sidecar.agent, region: sidecar.region, direction: sidecar.direction, startedAt: sidecar.startedAt },
    fields,
    { onChunk: keep, transcript, beforeVisible },
  );
  if (result.status !== 'stored') return { ...result, redaction: (await api.vault.recordings.get(result.id))?.redaction ?? 'pending' };
  await indexNow(api.vault, result.id, controllerId, fields);
  // an unlocked server examines the call at once, so the recorder learns whether it could be redacted
  const row = await api.vault.recordings.get(result.id);
  if (!row || !api.vault.keys.unlocked) return { ...result, redaction: 'pending' };
  const outcome = await redactRecording(api.vault, row, api.vault.redaction()).catch((err) => {
    api.log.error({ code: isCallvaultError(err) ? err.code : 'error' }, 'redaction failed; left for the background worker');
    return undefined;
  });
  return { ...result, redaction: outcome?.state ?? 'pending' };
}

function parseMetadata(text: string): Sidecar {
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    throw new CallvaultError(ErrorCodes.INVALID_METADATA, 'metadata: not JSON');
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) throw new CallvaultError(ErrorCodes.INVALID_METADATA, 'metadata: not a JSON object');
  return parseSidecar(record as Record<string, unknown>);
}

async function readLimited(part: MultipartFile, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of part.file as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > limit) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'the transcript is larger than 4 MiB');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** the transcript validated and in its canonical form (verbose_json-like), which is what is sealed */
function canonicalTranscript(bytes: Buffer, mimetype: string): Buffer {
  const type = mimetype.split(';')[0]!.trim().toLowerCase();
  if (!TRANSCRIPT_TYPES.has(type)) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'the transcript must be WebVTT, SRT or JSON');
  // text/plain (a form field) says nothing: the content tells
  return Buffer.from(serializeTranscript(parseTranscript(bytes, type === 'text/plain' ? undefined : type)), 'utf8');
}

/** a stream cut off by the client reaches us as a busboy error: say so plainly */
function asRequestError(err: unknown): unknown {
  if (isCallvaultError(err)) return err;
  const code = (err as { code?: string })?.code;
  if (code === 'FST_REQ_FILE_TOO_LARGE' || code === 'FST_PARTS_LIMIT' || code === 'FST_FILES_LIMIT' || code === 'FST_FIELDS_LIMIT') {
    return new CallvaultError(ErrorCodes.INVALID_REQUEST, 'the upload has too many or too large parts');
  }
  if ((err as Error)?.message?.match(/Unexpected end of form|aborted|premature close/i)) {
    return new CallvaultError(ErrorCodes.INVALID_REQUEST, 'the upload ended before it was complete; nothing was stored');
  }
  return err;
}
