/**
 * The audit log for auditors, the same as `callvault audit …`: entries, the latest checkpoint
 * (signed on demand when the log has grown), the verifier key, proofs, full verification and an
 * export for a SIEM. And the patient's access log, for auditors and privacy officers.
 */
import type { FastifyInstance } from 'fastify';
import { hostname } from 'node:os';
import { Readable } from 'node:stream';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import { formatVerifierKey } from '../../audit/signed-note.js';
import { auditEntryJsonLine, auditEntrySyslog } from '../../audit/syslog.js';
import { accessLogEvent, subjectAccessLog } from '../../audit/subject-access-log.js';
import { ACTION_PATTERN, searchAuditLog, SEARCH_DEFAULT_LIMIT, SEARCH_MAX_LIMIT, type AuditSearchFilters } from '../../audit/search.js';
import { fileWitnessNotes } from '../../audit/witnesses/index.js';
import { subjectIdentifier } from '../../identifiers/normalize.js';
import { controllerReach } from '../../policy/policy.js';
import { audit, authorize } from '../auth.js';
import { errorResponses, subjectBody } from '../schemas.js';

const MAX_ENTRIES = 1000;
const EXPORT_PAGE = 5000;

const entrySchema = {
  type: 'object',
  properties: { index: { type: 'integer' }, entry: { type: 'string' }, leafHash: { type: 'string' }, event: { type: 'object', additionalProperties: true } },
} as const;

/** an entry parsed (docs/audit-log.md, "Canonical entry encoding"); the allow-list of what a search shows of it */
const eventSchema = {
  type: 'object',
  properties: {
    v: { type: 'integer', description: 'the entry format, 1' },
    time: { type: 'string', format: 'date-time', description: 'server time, ISO 8601 UTC with milliseconds' },
    action: { type: 'string', description: 'dotted name, e.g. recording.play, auth.signin' },
    outcome: { type: 'string', enum: ['success', 'denied', 'failure'] },
    actor: {
      type: 'object',
      properties: {
        type: { type: 'string', enum: ['user', 'token', 'cli', 'anonymous', 'system'] },
        id: { type: 'string', description: 'user or token id' },
        name: { type: 'string', description: 'username, token name, operating-system user or background job' },
        role: { type: 'string' },
      },
      required: ['type'],
    },
    recordingId: { type: 'string' },
    controllerId: { type: 'string' },
    purpose: { type: 'string', description: 'stated purpose of use' },
    purposeText: { type: 'string' },
    breakGlassId: { type: 'string', description: 'set when break-the-glass allowed the access' },
    detail: { type: 'object', additionalProperties: true, description: 'action-specific: filters, byte ranges, target ids, keyed identifier hashes; never a plaintext identifier' },
    ip: { type: 'string', description: 'client address (HTTP)' },
    requestId: { type: 'string' },
  },
  required: ['v', 'time', 'action', 'outcome', 'actor'],
} as const;

const searchQuery = {
  type: 'object',
  properties: {
    action: { type: 'string', pattern: ACTION_PATTERN, maxLength: 100, description: 'an action exactly, or a prefix ending in a dot: recording. gives recording.play, recording.view, …' },
    outcome: { type: 'string', enum: ['success', 'denied', 'failure'] },
    actor: { type: 'string', minLength: 1, maxLength: 200, description: "a user or token id (a UUID), else the actor's name as recorded: username, token name, the CLI's OS user, a background job" },
    recordingId: { type: 'string', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' },
    from: { type: 'string', format: 'date-time', description: "the entry's time ≥ from" },
    to: { type: 'string', format: 'date-time', description: "the entry's time < to" },
    before: { type: 'integer', minimum: 0, description: 'entries with index < before: the next of the previous page' },
    limit: { type: 'integer', minimum: 1, maximum: SEARCH_MAX_LIMIT, default: SEARCH_DEFAULT_LIMIT },
  },
  additionalProperties: false,
} as const;

export async function registerAuditRoutes(api: FastifyInstance): Promise<void> {
  const vault = api.vault;

  api.get('/audit/entries', {
    schema: {
      tags: ['audit'],
      summary: 'Entries with from ≤ index < to (at most 1000; default the last 100): canonical bytes in base64, and parsed',
      querystring: { type: 'object', properties: { from: { type: 'integer', minimum: 0 }, to: { type: 'integer', minimum: 0 } }, additionalProperties: false },
      response: { 200: { type: 'object', properties: { size: { type: 'integer' }, entries: { type: 'array', items: entrySchema } } }, ...errorResponses },
    },
    handler: async (req) => {
      await authorize(req, 'audit:read', 'audit.read');
      const size = await vault.audit.size();
      const q = req.query as { from?: number; to?: number };
      const to = Math.min(q.to ?? size, size);
      const from = Math.max(0, Math.min(q.from ?? Math.max(0, to - 100), to));
      const entries = await vault.audit.entries(from, Math.min(to, from + MAX_ENTRIES));
      await audit(req, { action: 'audit.read', outcome: 'success', detail: { what: 'entries', from, to } });
      return {
        size,
        entries: entries.map((e) => ({ index: e.index, entry: e.entry.toString('base64'), leafHash: e.leafHash.toString('base64'), event: JSON.parse(e.entry.toString('utf8')) })),
      };
    },
  });

  api.get('/audit/search', {
    schema: {
      tags: ['audit'],
      summary: 'Entries by action, outcome, actor, recording and time, newest first, a page at a time (next → before)',
      querystring: searchQuery,
      response: {
        200: {
          type: 'object',
          properties: {
            entries: {
              type: 'array',
              items: {
                type: 'object',
                properties: { index: { type: 'integer' }, event: eventSchema, leafHash: { type: 'string', description: 'RFC 9162 leaf hash, base64' } },
                required: ['index', 'event', 'leafHash'],
              },
            },
            next: { type: 'integer', description: 'absent on the last page' },
          },
          required: ['entries'],
        },
        ...errorResponses,
      },
    },
    handler: async (req) => {
      await authorize(req, 'audit:read', 'audit.read');
      const { before, limit, ...filters } = req.query as AuditSearchFilters & { before?: number; limit: number };
      const page = await searchAuditLog(vault.database.db, filters, { size: await vault.audit.size(), before, limit });
      // what was asked, not what was found: the filters name staff and recordings, never a person
      await audit(req, { action: 'audit.read', outcome: 'success', detail: { what: 'search', ...filters, ...(before === undefined ? {} : { before }), limit, results: page.entries.length } });
      return {
        entries: page.entries.map((e) => ({ index: e.index, event: e.event, leafHash: e.leafHash.toString('base64') })),
        ...(page.next === undefined ? {} : { next: page.next }),
      };
    },
  });

  api.get('/audit/checkpoint', {
    schema: {
      tags: ['audit'],
      summary: 'The latest checkpoint as a C2SP signed note (text/plain), signed now if the log has grown',
      response: { 200: { type: 'string' }, ...errorResponses },
    },
    handler: async (req, reply) => {
      await authorize(req, 'audit:read', 'audit.read');
      await audit(req, { action: 'audit.read', outcome: 'success', detail: { what: 'checkpoint' } });
      const made = await (await vault.auditCheckpoints()).make();
      return reply.type('text/plain; charset=utf-8').send(made.checkpoint.note);
    },
  });

  api.get('/audit/key', {
    schema: {
      tags: ['audit'],
      summary: 'The checkpoint verifier key, <name>+<hex key id>+<base64(0x01 ‖ public key)> (text/plain)',
      response: { 200: { type: 'string' }, ...errorResponses },
    },
    handler: async (req, reply) => {
      await authorize(req, 'audit:read', 'audit.read');
      const signer = await vault.auditSigner();
      await audit(req, { action: 'audit.read', outcome: 'success', detail: { what: 'key' } });
      return reply.type('text/plain; charset=utf-8').send(formatVerifierKey(signer.verifier) + '\n');
    },
  });

  api.get('/audit/proof', {
    schema: {
      tags: ['audit'],
      summary: 'An RFC 9162 inclusion proof (index, size) or consistency proof (from, to); hashes in base64',
      querystring: {
        type: 'object',
        properties: { index: { type: 'integer', minimum: 0 }, size: { type: 'integer', minimum: 1 }, from: { type: 'integer', minimum: 0 }, to: { type: 'integer', minimum: 0 } },
        additionalProperties: false,
      },
      response: {
        200: {
          type: 'object',
          properties: { index: { type: 'integer' }, size: { type: 'integer' }, from: { type: 'integer' }, to: { type: 'integer' }, leafHash: { type: 'string' }, hashes: { type: 'array', items: { type: 'string' } } },
        },
        ...errorResponses,
      },
    },
    handler: async (req) => {
      await authorize(req, 'audit:read', 'audit.read');
      const q = req.query as { index?: number; size?: number; from?: number; to?: number };
      const logSize = await vault.audit.size();
      const inclusion = q.index !== undefined && q.size !== undefined && q.from === undefined && q.to === undefined;
      const consistency = q.from !== undefined && q.to !== undefined && q.index === undefined && q.size === undefined;
      if (!inclusion && !consistency) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'ask for index and size, or for from and to');
      const b64 = (hashes: Buffer[]) => hashes.map((h) => h.toString('base64'));
      if (inclusion) {
        if (q.size! > logSize || q.index! >= q.size!) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'index must be below size, and size at most the log size');
        await audit(req, { action: 'audit.read', outcome: 'success', detail: { what: 'inclusion-proof', index: q.index!, size: q.size! } });
        const [entry] = await vault.audit.entries(q.index!, q.index! + 1);
        return { index: q.index, size: q.size, leafHash: entry!.leafHash.toString('base64'), hashes: b64(await vault.auditTree.inclusionProof(q.index!, q.size!)) };
      }
      if (q.to! > logSize || q.from! > q.to!) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'from must not exceed to, and to at most the log size');
      await audit(req, { action: 'audit.read', outcome: 'success', detail: { what: 'consistency-proof', from: q.from!, to: q.to! } });
      return { from: q.from, to: q.to, hashes: b64(await vault.auditTree.consistencyProof(q.from!, q.to!)) };
    },
  });

  api.get('/audit/verify', {
    schema: {
      tags: ['audit'],
      summary: 'Recompute the whole tree from the entries and check every stored checkpoint and every checkpoint the file witnesses kept',
      response: {
        200: {
          type: 'object',
          properties: {
            ok: { type: 'boolean' },
            size: { type: 'integer' },
            rootHash: { type: 'string' },
            checkpoints: { type: 'integer' },
            latestCheckpoint: { type: ['integer', 'null'] },
            unsigned: { type: 'integer' },
            witnessed: { type: 'integer' },
            problems: {
              type: 'array',
              items: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, index: { type: 'integer' }, size: { type: 'integer' } } },
            },
          },
        },
        ...errorResponses,
      },
    },
    handler: async (req) => {
      await authorize(req, 'audit:read', 'audit.read');
      await audit(req, { action: 'audit.read', outcome: 'success', detail: { what: 'verify' } });
      return vault.verifyAudit(await fileWitnessNotes(vault.witnessSpecs));
    },
  });

  api.get('/audit/export', {
    schema: {
      tags: ['audit'],
      summary: 'Entries as JSON lines (application/x-ndjson) or RFC 5424 syslog lines (text/plain), for a SIEM',
      querystring: {
        type: 'object',
        properties: { from: { type: 'integer', minimum: 0 }, to: { type: 'integer', minimum: 0 }, format: { type: 'string', enum: ['jsonl', 'syslog'] } },
        additionalProperties: false,
      },
      response: { 200: { type: 'string' }, ...errorResponses },
    },
    handler: async (req, reply) => {
      await authorize(req, 'audit:read', 'audit.read');
      const q = req.query as { from?: number; to?: number; format?: 'jsonl' | 'syslog' };
      const size = await vault.audit.size();
      const from = Math.min(q.from ?? 0, size);
      const to = Math.max(from, Math.min(q.to ?? size, size));
      const format = q.format ?? 'jsonl';
      await audit(req, { action: 'audit.export', outcome: 'success', detail: { from, to, format } });
      const host = hostname();
      async function* lines() {
        for (let start = from; start < to; start += EXPORT_PAGE) {
          for (const e of await vault.audit.entries(start, Math.min(to, start + EXPORT_PAGE))) {
            yield (format === 'syslog' ? auditEntrySyslog(e, host) : auditEntryJsonLine(e)) + '\n';
          }
        }
      }
      return reply.type(format === 'syslog' ? 'text/plain; charset=utf-8' : 'application/x-ndjson').send(Readable.from(lines()));
    },
  });

  api.post('/audit/subject-access-log', {
    schema: {
      tags: ['audit'],
      summary: "Every audited event on one person's recordings, and every search for the person (identifier in the body, never in a URL)",
      body: subjectBody,
      response: {
        200: {
          type: 'object',
          properties: {
            recordings: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, controllerId: { type: 'string' }, startedAt: { type: ['string', 'null'] } } } },
            accesses: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  index: { type: 'integer' },
                  time: { type: 'string' },
                  action: { type: 'string' },
                  outcome: { type: 'string' },
                  actor: { type: 'object', properties: { type: { type: 'string' }, id: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' } } },
                  recordingId: { type: ['string', 'null'] },
                  purpose: { type: ['string', 'null'] },
                  purposeText: { type: ['string', 'null'] },
                  breakGlass: { type: 'boolean' },
                  detail: { type: 'object', additionalProperties: true },
                },
              },
            },
          },
        },
        ...errorResponses,
      },
    },
    handler: async (req) => {
      const principal = await authorize(req, 'subject:access-log', 'subject.access-log');
      const { kind, value } = subjectIdentifier(req.body as { personnummer?: string; phone?: string }, ErrorCodes.INVALID_REQUEST);
      // a privacy officer answers for the controllers in reach; an auditor for the installation
      const controllers = principal.kind === 'user' && principal.role === 'dpo' ? controllerReach(principal, new Date()).map((r) => r.controllerId) : undefined;
      const log = await subjectAccessLog(vault, kind, value, controllers);
      await audit(req, accessLogEvent(vault, kind, value, log));
      return log;
    },
  });
}
