/**
 * Ingest over HTTP for recorders, with an `ingest` token: multipart/form-data with the parts
 *   metadata    optional, JSON: the sidecar keys of `callvault import` (caller, personnummer, agent,
 *               region, startedAt, direction)
 *   transcript  optional, WebVTT, SRT or whisper verbose_json, at most 4 MiB; validated and kept
 *               in one canonical JSON form
 *   audio       WAV or MP3, last; streamed through encryption, never held whole in memory
 * Parts after the audio are not read. The audio is encrypted with the controller's public key
 * only, so the server needs no private key for this route. Its format is read while the bytes
 * stream through, by the same probe as `callvault import`; an upload cut off, too large, or not
 * audio leaves nothing stored.
 */
import { basename } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Multipart, MultipartFile } from '@fastify/multipart';
import { CallvaultError, ErrorCodes, isCallvaultError, unavailableError } from '../../errors.js';
import { StreamProbe } from '../../audio/probe.js';
import { parseSidecar, type Sidecar } from '../../import/sidecar.js';
import { storeRecording } from '../../recordings/store.js';
import { indexNow } from '../../recordings/indexer.js';
import { redactRecording } from '../../redaction/redact-recording.js';
import { MAX_TRANSCRIPT_BYTES, parseTranscript, serializeTranscript } from '../../transcripts/index.js';
import { audit, authorize } from '../auth.js';
import { countIngest } from '../../metrics/metrics.js';
import { errorResponses, errorSchema } from '../schemas.js';

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
        for await (const part of uploadParts(req)) {
          if (part.type === 'field') {
            if (part.fieldname === 'metadata') sidecar = parseMetadata(fieldText(part.value));
            else if (part.fieldname === 'transcript') transcript = canonicalTranscript(Buffer.from(fieldText(part.value), 'utf8'), 'text/plain');
            else throw unknownPart();
            continue;
          }
          if (part.fieldname === 'transcript') {
            transcript = canonicalTranscript(await readLimited(part, MAX_TRANSCRIPT_BYTES), part.mimetype);
            continue;
          }
          if (part.fieldname !== 'audio') throw unknownPart();
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
  // the format is read as the bytes stream through: nothing of the audio is held whole or written in plaintext
  const probe = new StreamProbe();
  const audio = async () => {
    // busboy ends a file at the size limit without an error; a cut-off recording is not stored
    if (part.file.truncated) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'the audio is larger than this server accepts');
    return probe.finish();
  };
  const fields = { caller: sidecar.caller, personnummer: sidecar.personnummer, sourceName: basename(part.filename || 'upload'), sourcePath: 'http-ingest' };
  const result = await storeRecording(
    api.vault,
    part.file,
    audio,
    { controllerId, agent: sidecar.agent, region: sidecar.region, direction: sidecar.direction, startedAt: sidecar.startedAt },
    fields,
    { onChunk: (chunk) => probe.push(chunk), transcript, beforeVisible },
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

/** the client's part name is not echoed: it is free text, and may carry an identifier */
function unknownPart(): CallvaultError {
  return new CallvaultError(ErrorCodes.INVALID_REQUEST, 'unknown part: an upload has the parts metadata, transcript and audio');
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

/**
 * The parts of the upload. Whatever the multipart parser raises while it reads them (no boundary,
 * a body that ends before its closing boundary, a limit) is about the request: 400, never 500.
 */
async function* uploadParts(req: FastifyRequest): AsyncGenerator<Multipart> {
  const parts = req.parts();
  for (;;) {
    let next: IteratorResult<Multipart>;
    try {
      next = await parts.next();
    } catch (err) {
      throw parserError(err) ?? new CallvaultError(ErrorCodes.INVALID_REQUEST, 'the upload is not valid multipart/form-data');
    }
    if (next.done) return;
    const part = next.value;
    if (typeof part.fieldname !== 'string' || part.fieldname === '') throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'a part of the upload has no name');
    // busboy cuts a field at the size limit without an error
    if (part.type === 'field' && (part.valueTruncated || part.fieldnameTruncated)) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'a field of the upload is larger than 64 KiB');
    yield part;
  }
}

/** a field's text: @fastify/multipart hands over a field sent as application/json already parsed */
function fieldText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * The errors of the multipart parser (busboy, through @fastify/multipart), which reach us from the
 * parts or from the audio's stream, as what they say about the request. Undefined for any other
 * error: those are ours (a store that failed), not the client's.
 */
function parserError(err: unknown): CallvaultError | undefined {
  const code = (err as { code?: string } | undefined)?.code;
  const message = String((err as Error | undefined)?.message ?? '');
  if (code === 'FST_REQ_FILE_TOO_LARGE' || code === 'FST_PARTS_LIMIT' || code === 'FST_FILES_LIMIT' || code === 'FST_FIELDS_LIMIT') {
    return new CallvaultError(ErrorCodes.INVALID_REQUEST, 'the upload has too many or too large parts');
  }
  if (code === 'FST_INVALID_JSON_FIELD_ERROR') return new CallvaultError(ErrorCodes.INVALID_METADATA, 'a part sent as application/json is not JSON');
  if (code === 'FST_PROTO_VIOLATION') return new CallvaultError(ErrorCodes.INVALID_REQUEST, 'a part of the upload has a name that is not allowed');
  if (message === 'Multipart: Boundary not found') return new CallvaultError(ErrorCodes.INVALID_REQUEST, 'multipart/form-data needs a boundary parameter');
  // busboy's search for the boundary takes at most 256 bytes with its CRLF and dashes
  if (message === 'The needle cannot have a length bigger than 256.') return new CallvaultError(ErrorCodes.INVALID_REQUEST, 'the multipart boundary is too long');
  if (code === 'FST_MP_PREMATURE_CLOSE' || /Unexpected end of (multipart data|form)|terminated early|aborted|premature close/i.test(message)) {
    return new CallvaultError(ErrorCodes.INVALID_REQUEST, 'the upload ended before its closing boundary; nothing was stored');
  }
  return undefined;
}

function asRequestError(err: unknown): unknown {
  // a dependency that is down stays a 503 (the error handler's), whatever its message says
  if (isCallvaultError(err) || unavailableError(err)) return err;
  return parserError(err) ?? err;
}
