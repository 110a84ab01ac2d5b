/**
 * Finding, viewing, playing and exporting recordings: adapters over src/services/recordings.ts,
 * which asks the policy and writes the audit entry. A recording outside the caller's scope answers
 * 404, exactly like one that does not exist. Playing needs a stated purpose first: POST …/access
 * records it and returns an access id, which the audio URL carries (an `<audio>` element cannot
 * send headers). What stays here is HTTP: schemas, range planning, headers, multipart bodies.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { RecordingRow } from '../../services/vocabulary.js';
import { PURPOSES, RENDITIONS } from '../../services/vocabulary.js';
import { toWebVtt } from '../../transcripts/index.js';
import { requestActor } from '../auth.js';
import { multipartBody, multipartLayout, planRanges } from '../byte-ranges.js';
import { ErrorBody, Security, Type, typed } from '../contract.js';
import { errorResponses } from '../schemas.js';

const CONTENT_TYPES: Record<string, string> = { wav: 'audio/wav', mp3: 'audio/mpeg' };
/** a range (or a whole file) up to this long is read and decrypted into one buffer; a longer one is streamed */
const ONE_READ_BYTES = 2 * 1024 * 1024;

/** a string out of a fixed list, as a plain JSON-schema enum */
const oneOf = <T extends string>(values: readonly T[]) => Type.Unsafe<T>({ type: 'string', enum: [...values] });
const nullable = (schema: { type: string; [k: string]: unknown }) => Type.Unsafe<string | null>({ ...schema, type: [schema.type, 'null'] });
const NullableString = nullable({ type: 'string' });

const RecordingId = Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' }) }, { additionalProperties: false });
const AccessQuery = Type.Object({ access: Type.Optional(Type.String({ pattern: '^[0-9a-f-]{36}$' })) }, { additionalProperties: false });

const RecordingSummary = Type.Object({
  id: Type.String(),
  controllerId: Type.String(),
  region: NullableString,
  agent: NullableString,
  direction: NullableString,
  startedAt: NullableString,
  importedAt: Type.String(),
  durationMs: Type.Integer(),
  format: Type.String(),
  codec: Type.String(),
  sampleRate: Type.Integer(),
  channels: Type.Integer(),
  size: Type.Integer(),
  hasTranscript: Type.Boolean(),
  redaction: Type.String({ description: 'pending, none (no transcript), clean (no identifiers), redacted, or failed (flagged: original only)' }),
  retentionClass: Type.String({ description: 'the retention class (docs/retention.md): default, journal, …' }),
});
const Participants = Type.Union(
  [
    Type.Array(
      Type.Object({
        name: NullableString,
        phone: NullableString,
        address: Type.Union([Type.String(), Type.Null()], { description: 'the SIP address of record: in clear only from /identifiers' }),
        channels: Type.Array(Type.Integer(), { description: "the recording's channels (from 1) carrying the streams the participant sends" }),
      }),
    ),
    Type.Null(),
  ],
  { description: 'the participants of a call recorded live over SIPREC (null for other recordings); names and numbers as labels here' },
);
const RecordingPage = Type.Object({ recordings: Type.Array(RecordingSummary), next: Type.Optional(Type.String()) });

const isoDate = () => Type.Optional(Type.String({ format: 'date-time' }));
const listFilters = {
  from: isoDate(),
  to: isoDate(),
  region: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  agent: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  direction: Type.Optional(oneOf(['inbound', 'outbound'] as const)),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  cursor: Type.Optional(Type.String({ maxLength: 400 })),
};

const PurposeBody = Type.Object(
  {
    purpose: oneOf(PURPOSES),
    purposeText: Type.Optional(Type.String({ maxLength: 500 })),
    rendition: Type.Optional(oneOf(RENDITIONS)),
  },
  { additionalProperties: false },
);

/** bytes streamed as they are decrypted, or a range in one buffer (typed as what a handler sends) */
const Binary = Type.Unsafe<Readable | Buffer>({ type: 'string', format: 'binary' });
const audio = (description: string, extra: Record<string, { schema: typeof Binary }> = {}) => ({
  description,
  content: { 'audio/wav': { schema: Binary }, 'audio/mpeg': { schema: Binary }, ...extra },
});

const Transcript = Type.Object({
  rendition: oneOf(RENDITIONS),
  language: NullableString,
  segments: Type.Array(
    Type.Object({
      start: Type.Number(),
      end: Type.Number(),
      text: Type.String(),
      speaker: Type.Optional(Type.String()),
      words: Type.Optional(Type.Array(Type.Object({ text: Type.String(), start: Type.Number(), end: Type.Number() }))),
    }),
  ),
  identifiers: Type.Array(Type.Object({ type: Type.String(), start: Type.Number(), end: Type.Number() }), {
    description: 'when each identifier is spoken, so a player can mark the redacted spans; never the values',
  }),
});

export async function registerRecordingRoutes(api: FastifyInstance): Promise<void> {
  const { recordings, playback } = api.services;
  const route = typed(api);

  route.get('/recordings', {
    schema: {
      tags: ['recordings'],
      operationId: 'listRecordings',
      security: Security.session,
      summary: 'Recordings in your scope, newest first, by time, region, agent and direction',
      querystring: Type.Object(listFilters, { additionalProperties: false }),
      response: { 200: RecordingPage, ...errorResponses },
    },
    handler: async (req) => page(await recordings.list(requestActor(req), req.query)),
  });

  route.post('/recordings/search', {
    schema: {
      tags: ['recordings'],
      operationId: 'searchRecordings',
      security: Security.session,
      summary: 'Like GET /recordings, and by caller number or personnummer through the blind index (in the body, never in a URL)',
      body: Type.Object(
        { ...listFilters, caller: Type.Optional(Type.String({ maxLength: 40 })), personnummer: Type.Optional(Type.String({ maxLength: 20 })) },
        { additionalProperties: false },
      ),
      response: { 200: RecordingPage, ...errorResponses },
    },
    handler: async (req) => page(await recordings.list(requestActor(req), req.body)),
  });

  route.get('/recordings/:id', {
    schema: {
      tags: ['recordings'],
      operationId: 'getRecording',
      security: Security.session,
      summary: 'One recording; its caller number and personnummer as labels (in clear only from /identifiers, under a purpose stated for the original)',
      params: RecordingId,
      response: { 200: Type.Object({ ...RecordingSummary.properties, caller: NullableString, personnummer: NullableString, participants: Participants }), ...errorResponses },
    },
    handler: async (req) => {
      const { recording, caller, personnummer, participants } = await recordings.view(requestActor(req), req.params.id);
      return { ...summary(recording), caller, personnummer, participants };
    },
  });

  route.post('/recordings/:id/access', {
    schema: {
      tags: ['recordings'],
      operationId: 'stateRecordingPurpose',
      security: Security.session,
      summary: 'State the purpose of listening; the answer names the access the audio URL must carry',
      params: RecordingId,
      body: PurposeBody,
      response: {
        201: Type.Object({
          accessId: Type.String(),
          expiresAt: Type.String(),
          rendition: oneOf(RENDITIONS),
          audioUrl: Type.String(),
          transcriptUrl: NullableString,
          identifiersUrl: Type.Union([Type.String(), Type.Null()], { description: "the caller's number and personnummer in clear: under an access for the original only" }),
          breakGlass: Type.Boolean(),
        }),
        409: ErrorBody,
        ...errorResponses,
      },
    },
    handler: async (req, reply) => {
      const access = await playback.access(requestActor(req), req.params.id, req.body);
      const base = `/api/v1/recordings/${access.recordingId}`;
      return reply.code(201).send({
        accessId: access.accessId,
        expiresAt: access.expiresAt,
        rendition: access.rendition,
        audioUrl: `${base}/audio?access=${access.accessId}`,
        transcriptUrl: access.hasTranscript ? `${base}/transcript?access=${access.accessId}` : null,
        identifiersUrl: access.rendition === 'original' ? `${base}/identifiers?access=${access.accessId}` : null,
        breakGlass: access.breakGlass,
      });
    },
  });

  route.get('/recordings/:id/audio', {
    // a player seeking through an hour sends many small range requests
    config: { rateLimit: false },
    schema: {
      tags: ['recordings'],
      operationId: 'getRecordingAudio',
      security: Security.session,
      summary:
        'The audio, decrypted as it streams, with a strong ETag; HTTP Range gives 206 (several ranges as multipart/byteranges), honours If-Range, and decrypts only the segments needed',
      params: RecordingId,
      querystring: AccessQuery,
      response: {
        200: audio('the whole audio'),
        206: audio('the ranges asked for: one as the audio with Content-Range, several as multipart/byteranges', { 'multipart/byteranges': { schema: Binary } }),
        409: ErrorBody,
        416: ErrorBody,
        ...errorResponses,
      },
    },
    handler: async (req, reply) => {
      const ifRange = req.headers['if-range'];
      const { representation, plan, read, readAt } = await playback.play(requestActor(req), req.params.id, req.query.access, (r) => {
        const planned = planRanges({ range: req.headers.range, ifRange: typeof ifRange === 'string' ? ifRange : undefined, ...r });
        if (planned.kind === 'unsatisfiable') void reply.header('Content-Range', `bytes */${r.size}`);
        return planned;
      });
      const { size, etag, lastModified } = representation;
      const contentType = CONTENT_TYPES[representation.format] ?? 'application/octet-stream';
      const span = plan.kind === 'single' ? plan : { start: 0, end: size };
      // a player's range: one read into one buffer, before any header, so a damaged segment
      // answers as the error it is, not as a 206 cut short
      const whole = plan.kind !== 'multipart' && req.method !== 'HEAD' && span.end - span.start <= ONE_READ_BYTES ? await readAt(span.start, span.end) : undefined;
      void reply
        .code(plan.kind === 'whole' ? 200 : 206)
        .header('Accept-Ranges', 'bytes')
        .header('ETag', etag)
        .header('Last-Modified', lastModified.toUTCString())
        .header('Cache-Control', 'no-store');
      let body: AsyncIterable<Buffer>;
      if (plan.kind === 'multipart') {
        const layout = multipartLayout(plan.parts, size, contentType, randomBytes(12).toString('hex'));
        void reply.header('Content-Type', layout.contentType).header('Content-Length', layout.length);
        body = multipartBody(layout, plan.parts, read);
      } else {
        void reply.header('Content-Type', contentType).header('Content-Length', span.end - span.start);
        if (plan.kind === 'single') void reply.header('Content-Range', `bytes ${span.start}-${span.end - 1}/${size}`);
        if (whole) return reply.send(whole);
        body = read(span.start, span.end);
      }
      // an empty stream: fastify would set Content-Length 0 for an empty HEAD answer
      if (req.method === 'HEAD') return reply.send(Readable.from([]));
      return reply.send(Readable.from(body, { objectMode: false, highWaterMark: 64 * 1024 }));
    },
  });

  route.get('/recordings/:id/transcript', {
    schema: {
      tags: ['recordings'],
      operationId: 'getRecordingTranscript',
      security: Security.session,
      summary: 'The transcript of the rendition the access was stated for (redacted: identifiers replaced by labels), as JSON or WebVTT',
      params: RecordingId,
      querystring: Type.Object({ access: AccessQuery.properties.access, format: Type.Optional(oneOf(['json', 'vtt'] as const)) }, { additionalProperties: false }),
      response: {
        200: { description: 'the transcript', content: { 'application/json': { schema: Transcript }, 'text/vtt': { schema: Type.String() } } },
        409: ErrorBody,
        ...errorResponses,
      },
    },
    handler: async (req, reply) => {
      const { rendition, transcript, identifiers } = await playback.transcript(requestActor(req), req.params.id, req.query.access);
      void reply.header('Cache-Control', 'no-store');
      if (req.query.format === 'vtt') return reply.type('text/vtt; charset=utf-8').send(toWebVtt(transcript));
      return reply.type('application/json; charset=utf-8').send({ rendition, language: transcript.language ?? null, segments: transcript.segments, identifiers });
    },
  });

  route.get('/recordings/:id/waveform', {
    schema: {
      tags: ['recordings'],
      operationId: 'getRecordingWaveform',
      security: Security.session,
      summary: 'The waveform of the rendition the access was stated for: the loudest sample of each slice, 0 to 1, so a player can draw it without downloading the audio',
      params: RecordingId,
      querystring: AccessQuery,
      response: { 200: Type.Object({ durationMs: Type.Integer(), peaks: Type.Array(Type.Number()) }), 409: ErrorBody, ...errorResponses },
    },
    handler: async (req) => playback.waveform(requestActor(req), req.params.id, req.query.access),
  });

  route.get('/recordings/:id/identifiers', {
    schema: {
      tags: ['recordings'],
      operationId: 'getRecordingIdentifiers',
      security: Security.session,
      summary: "The caller's number and personnummer (and a live call's participants) in clear, under an access stated for the original (403 under one for the redacted rendition)",
      params: RecordingId,
      querystring: AccessQuery,
      response: { 200: Type.Object({ caller: NullableString, personnummer: NullableString, participants: Participants }), ...errorResponses },
    },
    handler: async (req, reply) => {
      void reply.header('Cache-Control', 'no-store');
      return playback.identifiers(requestActor(req), req.params.id, req.query.access);
    },
  });

  route.post('/subject/find', {
    schema: {
      tags: ['subject'],
      operationId: 'findSubjectRecordings',
      security: Security.session,
      summary:
        "A person's recordings in your reach, found through the blind indexes of the metadata and of the identifiers spoken in the transcripts (identifier in the body, never in a URL)",
      body: Type.Object({ personnummer: Type.Optional(Type.String({ maxLength: 20 })), phone: Type.Optional(Type.String({ maxLength: 40 })) }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          recordings: Type.Array(Type.Object({ ...RecordingSummary.properties, foundIn: Type.Array(oneOf(['metadata', 'transcript'] as const)) })),
        }),
        ...errorResponses,
      },
    },
    handler: async (req) => {
      const hits = await recordings.findSubject(requestActor(req), req.body);
      return { recordings: hits.map((h) => ({ ...summary(h.row), foundIn: h.foundIn })) };
    },
  });

  route.post('/recordings/:id/export', {
    schema: {
      tags: ['recordings'],
      operationId: 'exportRecording',
      security: Security.session,
      summary: 'The whole decrypted recording as a download, for a stated purpose',
      params: RecordingId,
      body: PurposeBody,
      response: { 200: audio('the whole rendition, as an attachment'), 409: ErrorBody, ...errorResponses },
    },
    handler: async (req, reply) => {
      const exported = await playback.export(requestActor(req), req.params.id, req.body);
      void reply
        .header('Content-Type', CONTENT_TYPES[exported.format] ?? 'application/octet-stream')
        .header('Content-Length', exported.size)
        .header('Content-Disposition', `attachment; filename="${exported.recordingId}${exported.rendition === 'redacted' ? '-redacted' : ''}.${exported.format}"`)
        .header('Cache-Control', 'no-store');
      return reply.send(Readable.from(exported.read(), { objectMode: false }));
    },
  });
}

function page(p: { recordings: RecordingRow[]; next?: string }) {
  return { recordings: p.recordings.map(summary), ...(p.next ? { next: p.next } : {}) };
}

export function summary(row: RecordingRow) {
  return {
    id: row.id,
    controllerId: row.controller_id,
    region: row.region,
    agent: row.agent,
    direction: row.direction,
    startedAt: row.started_at,
    importedAt: row.imported_at,
    durationMs: row.duration_ms,
    format: row.format,
    codec: row.codec,
    sampleRate: row.sample_rate,
    channels: row.channels,
    size: row.plaintext_size,
    hasTranscript: row.sealed_transcript !== null,
    redaction: row.redaction,
    retentionClass: row.retention_class,
  };
}
