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
import type { IncomingRecording } from '../../services/ingest.js';
import { MAX_TRANSCRIPT_BYTES, parseTranscript, serializeTranscript } from '../../transcripts/index.js';
import { requestActor } from '../auth.js';
import { Security, Type, typed } from '../contract.js';
import { countIngest } from '../../metrics/metrics.js';
import { errorResponses, errorSchema } from '../schemas.js';

const TRANSCRIPT_TYPES = new Set(['text/vtt', 'application/x-subrip', 'text/srt', 'application/json', 'text/plain']);

const IngestAnswer = Type.Object({
  id: Type.String(),
  sha256: Type.String(),
  status: Type.Union([Type.Literal('stored'), Type.Literal('duplicate')]),
  redaction: Type.String({ description: "where examining the call for identifiers stands (pending: the server's keyring is locked)" }),
});

/** the parts, for the OpenAPI document only: they are read as they stream, in the handler */
const UploadParts = Type.Object({
  metadata: Type.Optional(
    Type.String({ description: "JSON: caller, personnummer, agent, region, startedAt, direction, controller (the token's own, if given)", contentMediaType: 'application/json' }),
  ),
  transcript: Type.Optional(Type.String({ format: 'binary', description: 'WebVTT, SRT or whisper verbose_json, at most 4 MiB' })),
  audio: Type.String({ format: 'binary', description: 'WAV or MP3, the last part' }),
});

export async function registerIngestRoutes(api: FastifyInstance): Promise<void> {
  const { ingest } = api.services;

  typed(api).post('/recordings', {
    schema: {
      tags: ['ingest'],
      operationId: 'uploadRecording',
      security: Security.token,
      summary: 'Upload a recording (ingest token): multipart parts `metadata` (JSON), `transcript`, then `audio`',
      consumes: ['multipart/form-data'],
      body: UploadParts,
      response: { 201: IngestAnswer, 200: IngestAnswer, 413: errorSchema, 415: errorSchema, 422: errorSchema, ...errorResponses },
    },
    // the body is multipart and read part by part in the handler, which validates each part
    validatorCompiler: () => () => true,
    handler: async (req, reply) => {
      // the parts are read only once the service has found that this caller may upload at all
      let reading = false;
      try {
        const result = await ingest.ingest(requestActor(req), () => {
          reading = true;
          return readUpload(req);
        });
        if (result.redactionError) api.log.error({ code: result.redactionError }, 'redaction failed; left for the background worker');
        countIngest(result.status);
        const { id, sha256, status, redaction } = result;
        return reply.code(status === 'stored' ? 201 : 200).send({ id, sha256, status, redaction });
      } catch (err) {
        if (!reading) throw err;
        // refused before the body was read: the rest of it must not be taken for the next request
        if (!req.raw.complete) void reply.header('connection', 'close');
        countIngest('failed');
        throw asRequestError(err);
      }
    },
  });
}

/**
 * The upload as far as its `audio` part, whose bytes the store then reads as they stream. Its
 * format is read as they pass, so nothing of the audio is held whole or written in plaintext.
 */
async function readUpload(req: FastifyRequest): Promise<IncomingRecording> {
  if (!req.isMultipart()) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'send multipart/form-data with an `audio` part');
  let sidecar: Sidecar = {};
  let transcript: Buffer | undefined;
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
    return audioPart(part, sidecar, transcript);
  }
  throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'the upload has no `audio` part');
}

function audioPart(part: MultipartFile, sidecar: Sidecar, transcript: Buffer | undefined): IncomingRecording {
  const probe = new StreamProbe();
  return {
    source: part.file,
    audio: async () => {
      // busboy ends a file at the size limit without an error; a cut-off recording is not stored
      if (part.file.truncated) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'the audio is larger than this server accepts');
      return probe.finish();
    },
    onChunk: (chunk) => probe.push(chunk),
    sidecar,
    transcript,
    sourceName: basename(part.filename || 'upload'),
    sourcePath: 'http-ingest',
  };
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
    if (part.type === 'field' && (part.valueTruncated || part.fieldnameTruncated))
      throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'a field of the upload is larger than 64 KiB');
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
