/**
 * Finding, viewing, playing and exporting recordings. Each goes through the policy; a recording
 * outside the caller's scope answers 404, exactly like one that does not exist, so ids cannot be
 * probed. Playing needs a stated purpose first: POST …/access records it and returns an access id,
 * which the audio URL carries (an `<audio>` element cannot send headers). The access id is not a
 * secret: it works only with the session of the user who stated the purpose.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import type { RecordingRow, RenditionRow } from '../../db/recordings-repository.js';
import { normalizePersonnummer, normalizePhone, subjectIdentifier } from '../../identifiers/normalize.js';
import { blindIndexFor } from '../../recordings/indexer.js';
import { openStoredRecording, readSealedDetections, readSealedFields, readSealedText } from '../../recordings/read.js';
import { renditionValidators, type Validators } from '../../recordings/validators.js';
import type { OpenedRecording } from '../../container/decrypt.js';
import type { AccessGrant } from '../../db/grants-repository.js';
import { PURPOSE_TEXT_MIN, PURPOSES, RENDITIONS, decide, recordingScopes, type Action, type Principal, type Purpose, type Rendition } from '../../policy/policy.js';
import { LABELS, scrubbedText } from '../../redaction/transcript.js';
import { subjectHits } from '../../subject/common.js';
import { parseTranscript, toWebVtt } from '../../transcripts/index.js';
import { waveformPeaks } from '../../audio/waveform.js';
import { audit, authorize, requireUserAuth } from '../auth.js';
import { multipartBody, multipartLayout, planRanges } from '../byte-ranges.js';
import type { AuditDetail } from '../../audit/audit-log.js';
import { errorResponses, errorSchema, recordingPageSchema, recordingSummarySchema, subjectBody, uuidParam } from '../schemas.js';

/** the audit actions of reaching one recording */
type RecordingAction = 'recording.view' | 'recording.access' | 'recording.play' | 'recording.transcript' | 'recording.waveform' | 'recording.export';

const CONTENT_TYPES: Record<string, string> = { wav: 'audio/wav', mp3: 'audio/mpeg' };

/**
 * A player sends many range requests under one access. The opened recording (its unwrapped
 * payload key and checked header) is kept per access for a short idle time, so each request
 * after the first skips the HPKE unwrap and the header check. Authorisation, the access check
 * and the audit entry still happen on every request. The key lives only in this process's
 * memory, where it is anyway while the call is being served.
 */
class OpenedByAccess {
  readonly #entries = new Map<string, { opened: OpenedAudio; until: number }>();
  constructor(
    private readonly max = 512,
    private readonly idleMs = 120_000,
  ) {}

  /** `etag` names the rendition stored now: one made again since is opened afresh */
  async get(accessId: string, etag: string, open: () => Promise<OpenedAudio>): Promise<OpenedAudio> {
    const now = Date.now();
    const hit = this.#entries.get(accessId);
    this.#entries.delete(accessId);
    const opened = hit && hit.until > now && hit.opened.validators.etag === etag ? hit.opened : await open();
    this.#entries.set(accessId, { opened, until: now + this.idleMs });
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= this.max && entry.until > now) break;
      this.#entries.delete(key);
    }
    return opened;
  }
}
const transcriptSchema = {
  type: 'object',
  properties: {
    rendition: { type: 'string', enum: [...RENDITIONS] },
    language: { type: ['string', 'null'] },
    segments: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          start: { type: 'number' },
          end: { type: 'number' },
          text: { type: 'string' },
          speaker: { type: 'string' },
          words: { type: 'array', items: { type: 'object', properties: { text: { type: 'string' }, start: { type: 'number' }, end: { type: 'number' } } } },
        },
      },
    },
    /** when each identifier is spoken, so a player can mark the redacted spans; never the values */
    identifiers: { type: 'array', items: { type: 'object', properties: { type: { type: 'string' }, start: { type: 'number' }, end: { type: 'number' } } } },
  },
} as const;

/** the stored object that serves a rendition (none: the original), its format and validators */
interface StoredRendition {
  object?: RenditionRow;
  format: string;
  validators: Validators;
}

interface OpenedAudio extends StoredRendition {
  opened: OpenedRecording;
}

/** how long a stated purpose covers playback: the call's length and half an hour to spare */
const GRANT_SLACK_MS = 30 * 60_000;

const isoDate = { type: 'string', format: 'date-time' } as const;
const listFilters = {
  from: isoDate,
  to: isoDate,
  region: { type: 'string', minLength: 1, maxLength: 100 },
  agent: { type: 'string', minLength: 1, maxLength: 100 },
  direction: { type: 'string', enum: ['inbound', 'outbound'] },
  limit: { type: 'integer', minimum: 1, maximum: 500 },
  cursor: { type: 'string', maxLength: 400 },
} as const;

type Filters = { from?: string; to?: string; region?: string; agent?: string; direction?: string; limit?: number; cursor?: string };

const purposeBody = {
  type: 'object',
  properties: {
    purpose: { type: 'string', enum: [...PURPOSES] },
    purposeText: { type: 'string', maxLength: 500 },
    /** default `redacted`; the original needs the `recording:unredacted` permission */
    rendition: { type: 'string', enum: [...RENDITIONS] },
  },
  required: ['purpose'],
  additionalProperties: false,
} as const;

export async function registerRecordingRoutes(api: FastifyInstance): Promise<void> {
  const vault = api.vault;
  const openedByAccess = new OpenedByAccess();

  api.get('/recordings', {
    schema: {
      tags: ['recordings'],
      summary: 'Recordings in your scope, newest first, by time, region, agent and direction',
      querystring: { type: 'object', properties: listFilters, additionalProperties: false },
      response: { 200: recordingPageSchema, ...errorResponses },
    },
    handler: async (req) => search(req, req.query as Filters),
  });

  api.post('/recordings/search', {
    schema: {
      tags: ['recordings'],
      summary: 'Like GET /recordings, and by caller number or personnummer through the blind index (in the body, never in a URL)',
      body: {
        type: 'object',
        properties: { ...listFilters, caller: { type: 'string', maxLength: 40 }, personnummer: { type: 'string', maxLength: 20 } },
        additionalProperties: false,
      },
      response: { 200: recordingPageSchema, ...errorResponses },
    },
    handler: async (req) => search(req, req.body as Filters & { caller?: string; personnummer?: string }),
  });

  async function search(req: FastifyRequest, filters: Filters & { caller?: string; personnummer?: string }) {
    const principal = await authorize(req, 'recordings:list', 'recordings.list');
    const scopes = recordingScopes(principal, 'recordings:list', new Date());
    let identifier: { kind: 'phone' | 'personnummer'; digests: string[] } | undefined;
    const detail: AuditDetail<'recordings.list'> = { from: filters.from, to: filters.to, region: filters.region, agent: filters.agent, direction: filters.direction, limit: filters.limit };
    if (filters.caller && filters.personnummer) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'search by caller or by personnummer, not both');
    if (filters.caller || filters.personnummer) {
      const kind = filters.caller ? 'phone' : 'personnummer';
      const value = invalidAsRequest(() => (filters.caller ? normalizePhone(filters.caller) : normalizePersonnummer(filters.personnummer!)));
      const controllers = [...new Set(scopes.map((s) => s.controllerId))];
      identifier = { kind, digests: controllers.map((c) => blindIndexFor(vault, c).digest(kind, value)) };
      detail[kind === 'phone' ? 'phoneHash' : 'personnummerHash'] = vault.audit.identifierHash(kind, value);
    }
    const page = await vault.recordings.search({ scopes, ...filters, identifier });
    const glass = scopes.filter((s) => s.breakGlassId).map((s) => s.breakGlassId!);
    await audit(req, { action: 'recordings.list', outcome: 'success', detail: { ...detail, results: page.recordings.length }, ...(glass.length ? { breakGlassId: glass.join(',') } : {}) });
    return { recordings: page.recordings.map(summary), ...(page.next ? { next: page.next } : {}) };
  }

  /** the recording when `action` on it is allowed; otherwise audited and 404 (403 for the role) */
  async function reach(req: FastifyRequest, action: Action, auditAction: RecordingAction) {
    const principal = await authorize(req, action, auditAction);
    const { id } = req.params as { id: string };
    const row = await vault.recordings.get(id);
    const decision = row ? decide(principal, action, { controllerId: row.controller_id, region: row.region, agent: row.agent }, new Date()) : undefined;
    if (!row || !decision?.allowed) {
      await audit(req, { action: auditAction, outcome: 'denied', recordingId: id, detail: { reason: decision && !decision.allowed ? decision.reason : 'not-found' } });
      throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such recording');
    }
    return { row, principal, breakGlassId: decision.breakGlassId };
  }

  /**
   * The rendition a purpose may be stated for: the original only with `recording:unredacted` in
   * scope; the redacted one only when it exists (fail closed: no rendition, no redacted playback).
   */
  async function checkRendition(req: FastifyRequest, principal: Principal, row: RecordingRow, rendition: Rendition, auditAction: 'recording.access' | 'recording.export') {
    if (rendition === 'original') {
      const d = decide(principal, 'recording:unredacted', { controllerId: row.controller_id, region: row.region, agent: row.agent }, new Date());
      if (d.allowed) return;
      await audit(req, { action: auditAction, outcome: 'denied', recordingId: row.id, detail: { reason: 'unredacted', rendition } });
      throw new CallvaultError(ErrorCodes.FORBIDDEN, 'your role hears the redacted rendition only');
    }
    if (row.redaction === 'redacted' || row.redaction === 'clean') return;
    await audit(req, { action: auditAction, outcome: 'denied', recordingId: row.id, detail: { reason: `redaction-${row.redaction}`, rendition } });
    throw new CallvaultError(ErrorCodes.REDACTION_UNAVAILABLE, REDACTION_UNAVAILABLE[row.redaction]);
  }

  /** the stated purpose named by `access`, when it is this user's for this recording and in time */
  async function grantFor(req: FastifyRequest, row: RecordingRow, auditAction: 'recording.play' | 'recording.transcript' | 'recording.waveform'): Promise<AccessGrant> {
    const auth = requireUserAuth(req);
    const { access } = req.query as { access?: string };
    const grant = access ? await vault.grants.grant(access) : undefined;
    if (!grant || grant.user_id !== auth.user.id || grant.recording_id !== row.id || grant.expires_at <= new Date().toISOString()) {
      await audit(req, { action: auditAction, outcome: 'denied', recordingId: row.id, detail: { reason: 'access' } });
      throw new CallvaultError(ErrorCodes.PURPOSE_REQUIRED, 'this access has expired or is not yours: state the purpose again');
    }
    return grant;
  }

  /** which object serves a rendition: the redacted one is the original itself when there was nothing to remove */
  async function storedRendition(row: RecordingRow, rendition: Rendition): Promise<StoredRendition> {
    if (rendition === 'original' || row.redaction === 'clean') return { format: row.format, validators: renditionValidators(row) };
    const redacted = row.redaction === 'redacted' ? await vault.recordings.rendition(row.id) : undefined;
    if (!redacted) throw new CallvaultError(ErrorCodes.REDACTION_UNAVAILABLE, REDACTION_UNAVAILABLE[row.redaction === 'redacted' ? 'pending' : row.redaction]);
    return { object: redacted, format: redacted.format, validators: renditionValidators(row, redacted) };
  }

  /** the audio of a rendition; under an access, opened once while the same object serves it */
  async function openRendition(row: RecordingRow, rendition: Rendition, accessId?: string): Promise<OpenedAudio> {
    const stored = await storedRendition(row, rendition);
    const open = async () => ({ ...stored, opened: await openStoredRecording(vault, row, stored.object) });
    return accessId === undefined ? open() : openedByAccess.get(accessId, stored.validators.etag, open);
  }

  api.get('/recordings/:id', {
    schema: {
      tags: ['recordings'],
      summary: 'One recording with its caller number and personnummer (as labels for roles that hear only redacted audio)',
      params: uuidParam,
      response: {
        200: { type: 'object', properties: { ...recordingSummarySchema.properties, caller: { type: ['string', 'null'] }, personnummer: { type: ['string', 'null'] } } },
        ...errorResponses,
      },
    },
    handler: async (req) => {
      const { row, principal, breakGlassId } = await reach(req, 'recording:view', 'recording.view');
      const fields = await readSealedFields(vault, row);
      // who may not hear the original does not read its identifiers either: only that they exist
      const shown = decide(principal, 'recording:unredacted', { controllerId: row.controller_id, region: row.region, agent: row.agent }, new Date()).allowed;
      await audit(req, { action: 'recording.view', outcome: 'success', recordingId: row.id, controllerId: row.controller_id, breakGlassId, detail: { identifiers: shown ? 'shown' : 'hidden' } });
      const show = (value: string | undefined, label: string) => (value === undefined ? null : shown ? value : label);
      return { ...summary(row), caller: show(fields.caller, LABELS.phone), personnummer: show(fields.personnummer, LABELS.personnummer) };
    },
  });

  api.post('/recordings/:id/access', {
    schema: {
      tags: ['recordings'],
      summary: 'State the purpose of listening; the answer names the access the audio URL must carry',
      params: uuidParam,
      body: purposeBody,
      response: {
        201: {
          type: 'object',
          properties: {
            accessId: { type: 'string' },
            expiresAt: { type: 'string' },
            rendition: { type: 'string', enum: [...RENDITIONS] },
            audioUrl: { type: 'string' },
            transcriptUrl: { type: ['string', 'null'] },
            breakGlass: { type: 'boolean' },
          },
        },
        409: errorSchema,
        ...errorResponses,
      },
    },
    handler: async (req, reply) => {
      const auth = requireUserAuth(req);
      const { row, principal, breakGlassId } = await reach(req, 'recording:play', 'recording.access');
      const { purpose, purposeText, rendition } = statedPurpose(req.body);
      await checkRendition(req, principal, row, rendition, 'recording.access');
      const now = new Date();
      const grant = {
        id: randomUUID(),
        user_id: auth.user.id,
        recording_id: row.id,
        purpose,
        purpose_text: purposeText ?? null,
        break_glass_id: breakGlassId ?? null,
        created_at: now.toISOString(),
        expires_at: new Date(now.getTime() + row.duration_ms + GRANT_SLACK_MS).toISOString(),
        rendition,
      };
      await audit(req, { action: 'recording.access', outcome: 'success', recordingId: row.id, controllerId: row.controller_id, purpose, purposeText, breakGlassId, detail: { accessId: grant.id, rendition } });
      await vault.grants.addGrant(grant);
      return reply.code(201).send({
        accessId: grant.id,
        expiresAt: grant.expires_at,
        rendition,
        audioUrl: `/api/v1/recordings/${row.id}/audio?access=${grant.id}`,
        transcriptUrl: row.sealed_transcript ? `/api/v1/recordings/${row.id}/transcript?access=${grant.id}` : null,
        breakGlass: Boolean(breakGlassId),
      });
    },
  });

  api.get('/recordings/:id/audio', {
    // a player seeking through an hour sends many small range requests
    config: { rateLimit: false },
    schema: {
      tags: ['recordings'],
      summary: 'The audio, decrypted as it streams, with a strong ETag; HTTP Range gives 206 (several ranges as multipart/byteranges), honours If-Range, and decrypts only the segments needed',
      params: uuidParam,
      querystring: {
        type: 'object',
        properties: { access: { type: 'string', pattern: '^[0-9a-f-]{36}$' } },
        additionalProperties: false,
      },
      response: { 200: { type: 'string', format: 'binary' }, 206: { type: 'string', format: 'binary' }, 409: errorSchema, 416: errorSchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      requireUserAuth(req);
      const { access } = req.query as { access?: string };
      if (!access) throw new CallvaultError(ErrorCodes.PURPOSE_REQUIRED, 'state a purpose first: POST /api/v1/recordings/{id}/access');
      const { row, breakGlassId } = await reach(req, 'recording:play', 'recording.play');
      const grant = await grantFor(req, row, 'recording.play');
      const { opened, format, validators } = await openRendition(row, grant.rendition, grant.id);
      const size = opened.plaintextSize;
      const contentType = CONTENT_TYPES[format] ?? 'application/octet-stream';
      const ifRange = req.headers['if-range'];
      const plan = planRanges({ size, range: req.headers.range, ifRange: typeof ifRange === 'string' ? ifRange : undefined, ...validators });
      if (plan.kind === 'unsatisfiable') {
        await audit(req, { action: 'recording.play', outcome: 'failure', recordingId: row.id, detail: { reason: 'range' } });
        void reply.header('Content-Range', `bytes */${size}`);
        throw new CallvaultError(ErrorCodes.RANGE_NOT_SATISFIABLE, 'the range lies outside the recording');
      }
      const parts = plan.kind === 'multipart' ? plan.parts : [plan.kind === 'single' ? plan : { start: 0, end: size }];
      // `range` is the span of what is served; a multipart answer lists its parts as well
      const span = { start: Math.min(...parts.map((p) => p.start)), end: Math.max(...parts.map((p) => p.end)) };
      await audit(req, { action: 'recording.play', ...underGrant(row, grant, breakGlassId), detail: { accessId: grant.id, rendition: grant.rendition, range: span, ...(plan.kind === 'multipart' ? { ranges: parts } : {}) } });
      void reply
        .code(plan.kind === 'whole' ? 200 : 206)
        .header('Accept-Ranges', 'bytes')
        .header('ETag', validators.etag)
        .header('Last-Modified', validators.lastModified.toUTCString())
        .header('Cache-Control', 'no-store');
      let body: AsyncIterable<Buffer>;
      if (plan.kind === 'multipart') {
        const layout = multipartLayout(parts, size, contentType, randomBytes(12).toString('hex'));
        void reply.header('Content-Type', layout.contentType).header('Content-Length', layout.length);
        body = multipartBody(layout, parts, (start, end) => opened.read(start, end));
      } else {
        void reply.header('Content-Type', contentType).header('Content-Length', span.end - span.start);
        if (plan.kind === 'single') void reply.header('Content-Range', `bytes ${span.start}-${span.end - 1}/${size}`);
        body = opened.read(span.start, span.end);
      }
      // an empty stream: fastify would set Content-Length 0 for an empty HEAD answer
      if (req.method === 'HEAD') return reply.send(Readable.from([]));
      return reply.send(Readable.from(body, { objectMode: false, highWaterMark: 64 * 1024 }));
    },
  });

  api.get('/recordings/:id/transcript', {
    schema: {
      tags: ['recordings'],
      summary: 'The transcript of the rendition the access was stated for (redacted: identifiers replaced by labels), as JSON or WebVTT',
      params: uuidParam,
      querystring: {
        type: 'object',
        properties: { access: { type: 'string', pattern: '^[0-9a-f-]{36}$' }, format: { type: 'string', enum: ['json', 'vtt'] } },
        additionalProperties: false,
      },
      response: { 200: transcriptSchema, 409: errorSchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      requireUserAuth(req);
      const { access, format } = req.query as { access?: string; format?: 'json' | 'vtt' };
      if (!access) throw new CallvaultError(ErrorCodes.PURPOSE_REQUIRED, 'state a purpose first: POST /api/v1/recordings/{id}/access');
      const { row, breakGlassId } = await reach(req, 'recording:play', 'recording.transcript');
      const grant = await grantFor(req, row, 'recording.transcript');
      const text = await readSealedText(vault, row, grant.rendition === 'original' ? 'transcript' : 'redacted-transcript');
      if (!text) throw new CallvaultError(grant.rendition === 'original' || !row.sealed_transcript ? ErrorCodes.NOT_FOUND : ErrorCodes.REDACTION_UNAVAILABLE, row.sealed_transcript ? REDACTION_UNAVAILABLE.pending : 'this recording has no transcript');
      const transcript = parseTranscript(Buffer.from(text, 'utf8'), 'application/json');
      const identifiers = (await readSealedDetections(vault, row)).filter((f) => f.span).map((f) => ({ type: f.type, start: f.span!.start, end: f.span!.end }));
      await audit(req, { action: 'recording.transcript', ...underGrant(row, grant, breakGlassId), detail: { accessId: grant.id, rendition: grant.rendition } });
      void reply.header('Cache-Control', 'no-store');
      if (format === 'vtt') return reply.type('text/vtt; charset=utf-8').send(toWebVtt(transcript));
      return { rendition: grant.rendition, language: transcript.language ?? null, segments: transcript.segments, identifiers };
    },
  });

  api.get('/recordings/:id/waveform', {
    schema: {
      tags: ['recordings'],
      summary: 'The waveform of the rendition the access was stated for: the loudest sample of each slice, 0 to 1, so a player can draw it without downloading the audio',
      params: uuidParam,
      querystring: {
        type: 'object',
        properties: { access: { type: 'string', pattern: '^[0-9a-f-]{36}$' } },
        additionalProperties: false,
      },
      response: {
        200: { type: 'object', properties: { durationMs: { type: 'integer' }, peaks: { type: 'array', items: { type: 'number' } } }, required: ['durationMs', 'peaks'] },
        409: errorSchema,
        ...errorResponses,
      },
    },
    handler: async (req) => {
      requireUserAuth(req);
      const { access } = req.query as { access?: string };
      if (!access) throw new CallvaultError(ErrorCodes.PURPOSE_REQUIRED, 'state a purpose first: POST /api/v1/recordings/{id}/access');
      const { row, breakGlassId } = await reach(req, 'recording:play', 'recording.waveform');
      const grant = await grantFor(req, row, 'recording.waveform');
      const { opened, format } = await openRendition(row, grant.rendition, grant.id);
      await audit(req, { action: 'recording.waveform', ...underGrant(row, grant, breakGlassId), detail: { accessId: grant.id, rendition: grant.rendition } });
      return { durationMs: row.duration_ms, peaks: await waveformPeaks(opened.read(), format, row.duration_ms) };
    },
  });

  api.post('/subject/find', {
    schema: {
      tags: ['subject'],
      summary: "A person's recordings in your reach, found through the blind indexes of the metadata and of the identifiers spoken in the transcripts (identifier in the body, never in a URL)",
      body: subjectBody,
      response: {
        200: {
          type: 'object',
          properties: {
            recordings: {
              type: 'array',
              items: { ...recordingSummarySchema, properties: { ...recordingSummarySchema.properties, foundIn: { type: 'array', items: { type: 'string', enum: ['metadata', 'transcript'] } } } },
            },
          },
        },
        ...errorResponses,
      },
    },
    handler: async (req) => {
      const principal = await authorize(req, 'subject:find', 'subject.find');
      const { kind, value } = subjectIdentifier(req.body as { personnummer?: string; phone?: string }, ErrorCodes.INVALID_REQUEST);
      const hits = await subjectHits(vault, principal, 'recording:view', 'subject:find', kind, value);
      await audit(req, { action: 'subject.find', outcome: 'success', detail: { [`${kind}Hash`]: vault.audit.identifierHash(kind, value), results: hits.length } });
      return { recordings: hits.map((h) => ({ ...summary(h.row), foundIn: h.foundIn })) };
    },
  });

  api.post('/recordings/:id/export', {
    schema: {
      tags: ['recordings'],
      summary: 'The whole decrypted recording as a download, for a stated purpose',
      params: uuidParam,
      body: purposeBody,
      response: { 200: { type: 'string', format: 'binary' }, 409: errorSchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      const { row, principal, breakGlassId } = await reach(req, 'recording:export', 'recording.export');
      const { purpose, purposeText, rendition } = statedPurpose(req.body);
      await checkRendition(req, principal, row, rendition, 'recording.export');
      const { opened, format } = await openRendition(row, rendition);
      await audit(req, { action: 'recording.export', outcome: 'success', recordingId: row.id, controllerId: row.controller_id, purpose, purposeText, breakGlassId, detail: { rendition } });
      void reply
        .header('Content-Type', CONTENT_TYPES[format] ?? 'application/octet-stream')
        .header('Content-Length', opened.plaintextSize)
        .header('Content-Disposition', `attachment; filename="${row.id}${rendition === 'redacted' ? '-redacted' : ''}.${format}"`)
        .header('Cache-Control', 'no-store');
      return reply.send(Readable.from(opened.read(), { objectMode: false }));
    },
  });
}

/**
 * The purpose as stated. Its free text goes into the audit log, which must hold no identifiers:
 * `scrubbedText` replaces any the writer put in by their labels.
 */
function statedPurpose(body: unknown): { purpose: Purpose; purposeText?: string; rendition: Rendition } {
  const { purpose, purposeText, rendition } = body as { purpose: Purpose; purposeText?: string; rendition?: Rendition };
  const text = purposeText?.trim() || undefined;
  if (purpose === 'other' && (!text || text.length < PURPOSE_TEXT_MIN)) {
    throw new CallvaultError(ErrorCodes.PURPOSE_REQUIRED, 'the purpose "other" needs a written explanation (purposeText)');
  }
  return { purpose, purposeText: scrubbedText(text), rendition: rendition ?? 'redacted' };
}

/** the audit fields of a successful use of a stated purpose: it names the purpose it was stated for */
function underGrant(row: RecordingRow, grant: AccessGrant, breakGlassId: string | undefined) {
  return {
    outcome: 'success' as const,
    recordingId: row.id,
    controllerId: row.controller_id,
    purpose: grant.purpose as Purpose,
    purposeText: grant.purpose_text ?? undefined,
    breakGlassId: grant.break_glass_id ?? breakGlassId,
  };
}

const REDACTION_UNAVAILABLE: Record<'pending' | 'none' | 'failed', string> = {
  pending: 'this recording has not been examined for identifiers yet: only the original can be played, by roles allowed to hear it',
  none: 'this recording has no transcript, so the identifiers in it cannot be found: only the original can be played, by roles allowed to hear it',
  failed: 'an identifier in this recording could not be removed: only the original can be played, by roles allowed to hear it',
};

function invalidAsRequest<T>(f: () => T): T {
  try {
    return f();
  } catch {
    throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'the identifier to search for is not a valid phone number or personnummer');
  }
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
  };
}
