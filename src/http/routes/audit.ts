/**
 * The audit log for auditors, the same as `callvault audit …` (src/services/audit-reading.ts):
 * entries, the auditor's search, the latest checkpoint (signed on demand when the log has grown),
 * the verifier key, proofs, full (or incremental) verification and an export for a SIEM. And the patient's access
 * log, for auditors and privacy officers (src/services/subject-rights.ts).
 */
import type { FastifyInstance } from 'fastify';
import { Readable } from 'node:stream';
import { ACTION_PATTERN, SEARCH_DEFAULT_LIMIT, SEARCH_MAX_LIMIT } from '../../services/vocabulary.js';
import { requestActor } from '../auth.js';
import { Security, Type, typed } from '../contract.js';
import { errorResponses } from '../schemas.js';
import { SubjectBody } from './subject.js';

/** the most entries one `GET /audit/entries` gives */
const MAX_ENTRIES = 1000;

const OUTCOMES = ['success', 'denied', 'failure'] as const;
const Outcome = Type.String({ enum: [...OUTCOMES] });
const Uuid = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' });
/** action-specific: filters, byte ranges, target ids, keyed identifier hashes; never a plaintext identifier */
const Detail = Type.Object(
  {},
  { additionalProperties: true, description: 'action-specific: filters, byte ranges, target ids, keyed identifier hashes; never a plaintext identifier' },
);

const Entry = Type.Object({
  index: Type.Integer(),
  entry: Type.String({ description: 'the canonical entry bytes, base64' }),
  leafHash: Type.String({ description: 'RFC 9162 leaf hash, base64' }),
  event: Type.Object({}, { additionalProperties: true, description: 'the entry parsed' }),
});

/** an entry parsed (docs/audit-log.md, "Canonical entry encoding"); the allow-list of what a search shows of it */
const Event = Type.Object({
  v: Type.Integer({ description: 'the entry format, 1' }),
  time: Type.String({ format: 'date-time', description: 'server time, ISO 8601 UTC with milliseconds' }),
  action: Type.String({ description: 'dotted name, e.g. recording.play, auth.signin' }),
  outcome: Outcome,
  actor: Type.Object({
    type: Type.String({ enum: ['user', 'token', 'cli', 'anonymous', 'system'] }),
    id: Type.Optional(Type.String({ description: 'user or token id' })),
    name: Type.Optional(Type.String({ description: 'username, token name, operating-system user or background job' })),
    role: Type.Optional(Type.String()),
  }),
  recordingId: Type.Optional(Type.String()),
  controllerId: Type.Optional(Type.String()),
  purpose: Type.Optional(Type.String({ description: 'stated purpose of use' })),
  purposeText: Type.Optional(Type.String()),
  breakGlassId: Type.Optional(Type.String({ description: 'set when break-the-glass allowed the access' })),
  detail: Type.Optional(Detail),
  ip: Type.Optional(Type.String({ description: 'client address (HTTP)' })),
  requestId: Type.Optional(Type.String()),
});

const SearchQuery = Type.Object(
  {
    action: Type.Optional(
      Type.String({ pattern: ACTION_PATTERN, maxLength: 100, description: 'an action exactly, or a prefix ending in a dot: recording. gives recording.play, recording.view, …' }),
    ),
    outcome: Type.Optional(Type.Union(OUTCOMES.map((o) => Type.Literal(o)))),
    actor: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: "a user or token id (a UUID), else the actor's name as recorded: username, token name, the CLI's OS user, a background job",
      }),
    ),
    recordingId: Type.Optional(Uuid),
    from: Type.Optional(Type.String({ format: 'date-time', description: "the entry's time ≥ from" })),
    to: Type.Optional(Type.String({ format: 'date-time', description: "the entry's time < to" })),
    before: Type.Optional(Type.Integer({ minimum: 0, description: 'entries with index < before: the next of the previous page' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: SEARCH_MAX_LIMIT, default: SEARCH_DEFAULT_LIMIT })),
  },
  { additionalProperties: false },
);

const Range = Type.Object({ from: Type.Optional(Type.Integer({ minimum: 0 })), to: Type.Optional(Type.Integer({ minimum: 0 })) }, { additionalProperties: false });

const ProofQuery = Type.Object(
  {
    index: Type.Optional(Type.Integer({ minimum: 0 })),
    size: Type.Optional(Type.Integer({ minimum: 1 })),
    from: Type.Optional(Type.Integer({ minimum: 0 })),
    to: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

/** an inclusion proof has index, size and leafHash; a consistency proof from and to */
const Proof = Type.Object({
  index: Type.Optional(Type.Integer()),
  size: Type.Optional(Type.Integer()),
  from: Type.Optional(Type.Integer()),
  to: Type.Optional(Type.Integer()),
  leafHash: Type.Optional(Type.String()),
  hashes: Type.Array(Type.String()),
});

/** a verification of the log that passed: the signed checkpoint it reached (src/audit/verifications.ts) */
const Verification = Type.Object({
  size: Type.Integer({ description: 'the size of the signed checkpoint reached' }),
  mode: Type.Union([Type.Literal('full'), Type.Literal('incremental')]),
  rootHash: Type.String({ description: "the checkpoint's root hash, base64" }),
  verifiedAt: Type.String({ format: 'date-time' }),
});

const VerifyReport = Type.Object({
  ok: Type.Boolean(),
  size: Type.Integer(),
  rootHash: Type.String({ description: 'base64, recomputed from the entries' }),
  checkpoints: Type.Integer(),
  latestCheckpoint: Type.Union([Type.Integer(), Type.Null()]),
  unsigned: Type.Integer({ description: 'entries no checkpoint covers yet' }),
  witnessed: Type.Integer(),
  problems: Type.Array(Type.Object({ code: Type.String(), message: Type.String(), index: Type.Optional(Type.Integer()), size: Type.Optional(Type.Integer()) })),
  mode: Type.Union([Type.Literal('full'), Type.Literal('incremental')], {
    description: 'full: every entry re-hashed; incremental: those after the signed checkpoint the last verification reached',
  }),
  from: Type.Integer({ description: 'the first entry re-hashed (0 when full)' }),
  checked: Type.Integer({ description: 'entries re-hashed' }),
  since: Type.Union([Verification, Type.Null()], { description: 'the verification an incremental one started from; null when full' }),
  lastFull: Type.Union([Verification, Type.Null()], { description: 'the latest full verification that passed' }),
  recorded: Type.Union([Verification, Type.Null()], { description: 'the checkpoint this verification reached, recorded when it passed' }),
});

const VerifyQuery = Type.Object(
  {
    sinceCheckpoint: Type.Optional(
      Type.Boolean({
        description:
          'check only the entries after the signed checkpoint the last verification reached, by a consistency proof from it (in full when none is recorded). It does not re-read the entries before that checkpoint: docs/audit-log.md',
      }),
    ),
  },
  { additionalProperties: false },
);

const ExportQuery = Type.Object(
  {
    from: Type.Optional(Type.Integer({ minimum: 0 })),
    to: Type.Optional(Type.Integer({ minimum: 0 })),
    format: Type.Optional(Type.Union([Type.Literal('jsonl'), Type.Literal('syslog')])),
  },
  { additionalProperties: false },
);

const AccessLog = Type.Object({
  recordings: Type.Array(
    Type.Object({
      id: Type.String(),
      controllerId: Type.String(),
      startedAt: Type.Union([Type.String(), Type.Null()]),
      state: Type.Union([Type.Literal('stored'), Type.Literal('erased'), Type.Literal('shredded')], {
        description: 'erased or shredded: the recording is gone, and only its audit entries are listed',
      }),
      destroyedAt: Type.Union([Type.String(), Type.Null()], { description: 'when it was erased or shredded' }),
    }),
  ),
  accesses: Type.Array(
    Type.Object({
      index: Type.Integer(),
      time: Type.String(),
      action: Type.String(),
      outcome: Type.String(),
      actor: Type.Object({ type: Type.String(), id: Type.Optional(Type.String()), name: Type.Optional(Type.String()), role: Type.Optional(Type.String()) }),
      recordingId: Type.Union([Type.String(), Type.Null()]),
      purpose: Type.Union([Type.String(), Type.Null()]),
      purposeText: Type.Union([Type.String(), Type.Null()]),
      breakGlass: Type.Boolean(),
      detail: Detail,
    }),
  ),
});

/** a text answer: its media type and what it holds */
function text(mediaType: string, description: string) {
  return { description, content: { [mediaType]: { schema: Type.String() } } };
}

export async function registerAuditRoutes(api: FastifyInstance): Promise<void> {
  const { auditReading, subjectRights } = api.services;
  const route = typed(api);

  route.get('/audit/entries', {
    schema: {
      tags: ['audit'],
      operationId: 'listAuditEntries',
      security: Security.session,
      summary: 'Entries with from ≤ index < to (at most 1000; default the last 100): canonical bytes in base64, and parsed',
      querystring: Range,
      response: { 200: Type.Object({ size: Type.Integer(), entries: Type.Array(Entry) }), ...errorResponses },
    },
    handler: async (req) => {
      const read = await auditReading.entries(requestActor(req), { ...req.query, limit: MAX_ENTRIES });
      const entries = [];
      for await (const e of read.entries) {
        entries.push({ index: e.index, entry: e.entry.toString('base64'), leafHash: e.leafHash.toString('base64'), event: JSON.parse(e.entry.toString('utf8')) });
      }
      return { size: read.size, entries };
    },
  });

  route.get('/audit/search', {
    schema: {
      tags: ['audit'],
      operationId: 'searchAuditLog',
      security: Security.session,
      summary: 'Entries by action, outcome, actor, recording and time, newest first, a page at a time (next → before)',
      querystring: SearchQuery,
      response: {
        200: Type.Object({
          entries: Type.Array(Type.Object({ index: Type.Integer(), event: Event, leafHash: Type.String({ description: 'RFC 9162 leaf hash, base64' }) })),
          next: Type.Optional(Type.Integer({ description: 'absent on the last page' })),
        }),
        ...errorResponses,
      },
    },
    handler: async (req) => {
      // the schema's default fills `limit` in; the fallback is for the type
      const { before, limit = SEARCH_DEFAULT_LIMIT, ...filters } = req.query;
      const page = await auditReading.search(requestActor(req), filters, { before, limit });
      return {
        entries: page.entries.map((e) => ({ index: e.index, event: e.event, leafHash: e.leafHash.toString('base64') })),
        ...(page.next === undefined ? {} : { next: page.next }),
      };
    },
  });

  route.get('/audit/checkpoint', {
    schema: {
      tags: ['audit'],
      operationId: 'getAuditCheckpoint',
      security: Security.session,
      summary: 'The latest checkpoint as a C2SP signed note, signed now if the log has grown',
      response: { 200: text('text/plain', 'the signed note'), ...errorResponses },
    },
    handler: async (req, reply) => {
      const made = await auditReading.checkpoint(requestActor(req));
      return reply.type('text/plain; charset=utf-8').send(made.checkpoint.note);
    },
  });

  route.get('/audit/key', {
    schema: {
      tags: ['audit'],
      operationId: 'getAuditVerifierKey',
      security: Security.session,
      summary: 'The checkpoint verifier key, <name>+<hex key id>+<base64(0x01 ‖ public key)>',
      response: { 200: text('text/plain', 'the verifier key and a line feed'), ...errorResponses },
    },
    handler: async (req, reply) => {
      const { vkey } = await auditReading.verifierKey(requestActor(req));
      return reply.type('text/plain; charset=utf-8').send(`${vkey}\n`);
    },
  });

  route.get('/audit/proof', {
    schema: {
      tags: ['audit'],
      operationId: 'getAuditProof',
      security: Security.session,
      summary: 'An RFC 9162 inclusion proof (index, size) or consistency proof (from, to); hashes in base64',
      querystring: ProofQuery,
      response: { 200: Proof, ...errorResponses },
    },
    // both bounds are asked for: the command line's default (the latest checkpoint) is not offered here
    handler: async (req) => auditReading.proof(requestActor(req), req.query, { defaultToSigned: false }),
  });

  route.get('/audit/verify', {
    schema: {
      tags: ['audit'],
      operationId: 'verifyAuditLog',
      security: Security.session,
      summary:
        'Recompute the whole tree from the entries and check every stored checkpoint and every checkpoint the file witnesses kept; with sinceCheckpoint, only the entries after the last verified checkpoint',
      querystring: VerifyQuery,
      response: { 200: VerifyReport, ...errorResponses },
    },
    handler: async (req) => auditReading.verify(requestActor(req), undefined, { sinceCheckpoint: req.query.sinceCheckpoint }),
  });

  route.get('/audit/export', {
    schema: {
      tags: ['audit'],
      operationId: 'exportAuditLog',
      security: Security.session,
      summary: 'Entries as JSON lines (format jsonl, the default) or RFC 5424 syslog lines (format syslog), for a SIEM',
      querystring: ExportQuery,
      response: {
        200: {
          description: 'one entry a line',
          content: {
            'application/x-ndjson': { schema: Type.Unsafe<Readable>({ type: 'string', description: 'format jsonl: one JSON object a line' }) },
            'text/plain': { schema: Type.Unsafe<Readable>({ type: 'string', description: 'format syslog: one RFC 5424 message a line' }) },
          },
        },
        ...errorResponses,
      },
    },
    handler: async (req, reply) => {
      const format = req.query.format ?? 'jsonl';
      const { lines } = await auditReading.export(requestActor(req), { from: req.query.from, to: req.query.to, format });
      return reply.type(format === 'syslog' ? 'text/plain; charset=utf-8' : 'application/x-ndjson').send(Readable.from(lines));
    },
  });

  route.post('/audit/subject-access-log', {
    schema: {
      tags: ['audit'],
      operationId: 'getSubjectAccessLog',
      security: Security.session,
      summary: "Every audited event on one person's recordings, and every search for the person (identifier in the body, never in a URL)",
      body: SubjectBody,
      response: { 200: AccessLog, ...errorResponses },
    },
    handler: async (req) => subjectRights.accessLog(requestActor(req), req.body),
  });
}
