/**
 * Break-the-glass: a nurse or supervisor in an emergency reaches every call of one controller they
 * already work for (inside their contract's regions) for at most an hour, after writing why.
 * Every access under it is flagged in the audit log, and the period waits for a privacy
 * officer's review.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import { BREAK_GLASS_MAX_MINUTES, BREAK_GLASS_MIN_REASON, controllerReach, mayBreakGlass } from '../../policy/policy.js';
import type { BreakGlassRow } from '../../db/grants-repository.js';
import { audit, authorize, requireUserAuth } from '../auth.js';
import { errorResponses, errorSchema, uuidParam } from '../schemas.js';

const breakGlassSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    userId: { type: 'string' },
    controllerId: { type: 'string' },
    reason: { type: 'string' },
    startedAt: { type: 'string' },
    expiresAt: { type: 'string' },
    reviewedAt: { type: ['string', 'null'] },
    reviewedBy: { type: ['string', 'null'] },
    reviewNote: { type: ['string', 'null'] },
  },
} as const;

function view(row: BreakGlassRow) {
  return {
    id: row.id,
    userId: row.user_id,
    controllerId: row.controller_id,
    reason: row.reason,
    startedAt: row.started_at,
    expiresAt: row.expires_at,
    reviewedAt: row.reviewed_at,
    reviewedBy: row.reviewed_by,
    reviewNote: row.review_note,
  };
}

export async function registerBreakGlassRoutes(api: FastifyInstance): Promise<void> {
  const vault = api.vault;

  api.post('/break-glass', {
    schema: {
      tags: ['break-glass'],
      summary: 'Start break-the-glass access to one controller\'s calls, with a written reason',
      body: {
        type: 'object',
        properties: {
          controllerId: { type: 'string', minLength: 1, maxLength: 64 },
          reason: { type: 'string', minLength: BREAK_GLASS_MIN_REASON, maxLength: 2000 },
          minutes: { type: 'integer', minimum: 1, maximum: BREAK_GLASS_MAX_MINUTES },
        },
        required: ['controllerId', 'reason'],
        additionalProperties: false,
      },
      response: { 201: breakGlassSchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      const auth = requireUserAuth(req);
      await authorize(req, 'break-glass:start', 'break-glass.start');
      const body = req.body as { controllerId: string; reason: string; minutes?: number };
      const now = new Date();
      if (!mayBreakGlass(auth.principal, body.controllerId, now)) {
        await audit(req, { action: 'break-glass.start', outcome: 'denied', controllerId: body.controllerId, detail: { reason: 'contract' } });
        throw new CallvaultError(ErrorCodes.FORBIDDEN, 'break-the-glass reaches only a controller you already work for');
      }
      const row: BreakGlassRow = {
        id: randomUUID(),
        user_id: auth.user.id,
        controller_id: body.controllerId,
        reason: body.reason.trim(),
        started_at: now.toISOString(),
        expires_at: new Date(now.getTime() + (body.minutes ?? BREAK_GLASS_MAX_MINUTES) * 60_000).toISOString(),
        reviewed_at: null,
        reviewed_by: null,
        review_note: null,
      };
      await audit(req, { action: 'break-glass.start', outcome: 'success', controllerId: row.controller_id, breakGlassId: row.id, detail: { reason: row.reason, expiresAt: row.expires_at } });
      await vault.grants.addBreakGlass(row);
      return reply.code(201).send(view(row));
    },
  });

  api.post('/break-glass/:id/end', {
    schema: {
      tags: ['break-glass'],
      summary: 'End your own break-the-glass period now, before it runs out',
      params: uuidParam,
      response: { 200: breakGlassSchema, 409: errorSchema, ...errorResponses },
    },
    handler: async (req) => {
      const auth = requireUserAuth(req);
      await authorize(req, 'break-glass:start', 'break-glass.end');
      const { id } = req.params as { id: string };
      const row = await vault.grants.breakGlass(id);
      // someone else's period is not named: it does not exist for this caller
      if (!row || row.user_id !== auth.user.id) throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such break-the-glass period');
      const now = new Date().toISOString();
      if (row.expires_at <= now) throw new CallvaultError(ErrorCodes.CONFLICT, 'this period is over already');
      await audit(req, { action: 'break-glass.end', outcome: 'success', controllerId: row.controller_id, breakGlassId: row.id });
      if (!(await vault.grants.endBreakGlass(row.id, now))) throw new CallvaultError(ErrorCodes.CONFLICT, 'this period is over already');
      return view((await vault.grants.breakGlass(row.id))!);
    },
  });

  api.get('/break-glass', {
    schema: {
      tags: ['break-glass'],
      summary: 'Break-the-glass periods, newest first (privacy officers: their controller; auditors: all)',
      querystring: { type: 'object', properties: { unreviewed: { type: 'boolean' } }, additionalProperties: false },
      response: { 200: { type: 'object', properties: { periods: { type: 'array', items: breakGlassSchema } } }, ...errorResponses },
    },
    handler: async (req) => {
      const principal = await authorize(req, 'break-glass:list', 'break-glass.list');
      const { unreviewed } = req.query as { unreviewed?: boolean };
      const controllerIds = principal.kind === 'user' && principal.role === 'dpo' ? controllerReach(principal, new Date()).map((r) => r.controllerId) : undefined;
      const rows = await vault.grants.breakGlassList({ unreviewed, controllerIds });
      await audit(req, { action: 'break-glass.list', outcome: 'success', detail: { results: rows.length } });
      return { periods: rows.map(view) };
    },
  });

  api.post('/break-glass/:id/review', {
    schema: {
      tags: ['break-glass'],
      summary: 'Record a privacy officer\'s review of a break-the-glass period',
      params: uuidParam,
      body: { type: 'object', properties: { note: { type: 'string', minLength: 1, maxLength: 2000 } }, required: ['note'], additionalProperties: false },
      response: { 200: breakGlassSchema, 409: errorSchema, ...errorResponses },
    },
    handler: async (req) => {
      const auth = requireUserAuth(req);
      await authorize(req, 'break-glass:review', 'break-glass.review');
      const { id } = req.params as { id: string };
      const row = await vault.grants.breakGlass(id);
      const reach = controllerReach(auth.principal, new Date()).map((r) => r.controllerId);
      if (!row || !reach.includes(row.controller_id)) throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such break-the-glass period');
      if (row.user_id === auth.user.id) throw new CallvaultError(ErrorCodes.FORBIDDEN, 'nobody reviews their own break-the-glass');
      const { note } = req.body as { note: string };
      if (!(await vault.grants.review(row.id, auth.user.id, note, new Date().toISOString()))) {
        throw new CallvaultError(ErrorCodes.CONFLICT, 'this period has been reviewed already');
      }
      await audit(req, { action: 'break-glass.review', outcome: 'success', breakGlassId: row.id, controllerId: row.controller_id });
      return view((await vault.grants.breakGlass(row.id))!);
    },
  });
}
