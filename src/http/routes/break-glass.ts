/**
 * Break-the-glass (src/services/break-glass.ts): start a period with a written reason, end one's
 * own early, list periods, and a privacy officer's review.
 */
import type { FastifyInstance } from 'fastify';
import { BREAK_GLASS_MAX_MINUTES, BREAK_GLASS_MIN_REASON } from '../../services/vocabulary.js';
import { requestActor } from '../auth.js';
import { ErrorBody, Security, Type, typed } from '../contract.js';
import { errorResponses, uuidParam } from '../schemas.js';

const Nullable = () => Type.Union([Type.String(), Type.Null()]);

const Period = Type.Object({
  id: Type.String(),
  userId: Type.String(),
  controllerId: Type.String(),
  reason: Type.String(),
  startedAt: Type.String(),
  expiresAt: Type.String({ description: 'when the access ends, or ended (earlier when its owner ended it)' }),
  reviewedAt: Nullable(),
  reviewedBy: Nullable(),
  reviewNote: Nullable(),
  username: Type.Union([Type.String(), Type.Null()], { description: 'who opened it (null: the account is gone)' }),
  role: Nullable(),
  reviewedByName: Type.Union([Type.String(), Type.Null()], { description: 'the username of who reviewed it' }),
});

const IdParam = Type.Object({ id: Type.String({ pattern: uuidParam.properties.id.pattern }) }, { additionalProperties: false });

export async function registerBreakGlassRoutes(api: FastifyInstance): Promise<void> {
  const { breakGlass } = api.services;

  typed(api).post('/break-glass', {
    schema: {
      tags: ['break-glass'],
      operationId: 'startBreakGlass',
      security: Security.session,
      summary: "Start break-the-glass access to one controller's calls, with a written reason",
      body: Type.Object(
        {
          controllerId: Type.String({ minLength: 1, maxLength: 64 }),
          reason: Type.String({ minLength: BREAK_GLASS_MIN_REASON, maxLength: 2000 }),
          minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: BREAK_GLASS_MAX_MINUTES })),
        },
        { additionalProperties: false },
      ),
      response: { 201: Period, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(await breakGlass.start(requestActor(req), req.body)),
  });

  typed(api).get('/break-glass', {
    schema: {
      tags: ['break-glass'],
      operationId: 'listBreakGlass',
      security: Security.session,
      summary: 'Break-the-glass periods, newest first (privacy officers: their controller; auditors: all)',
      querystring: Type.Object({ unreviewed: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
      response: { 200: Type.Object({ periods: Type.Array(Period) }), ...errorResponses },
    },
    handler: async (req) => ({ periods: await breakGlass.list(requestActor(req), { unreviewed: req.query.unreviewed }) }),
  });

  typed(api).post('/break-glass/:id/review', {
    schema: {
      tags: ['break-glass'],
      operationId: 'reviewBreakGlass',
      security: Security.session,
      summary: "Record a privacy officer's review of a break-the-glass period",
      params: IdParam,
      body: Type.Object({ note: Type.String({ minLength: 1, maxLength: 2000 }) }, { additionalProperties: false }),
      response: { 200: Period, 409: ErrorBody, ...errorResponses },
    },
    handler: async (req) => breakGlass.review(requestActor(req), req.params.id, req.body.note),
  });

  typed(api).post('/break-glass/:id/end', {
    schema: {
      tags: ['break-glass'],
      operationId: 'endBreakGlass',
      security: Security.session,
      summary: 'End your own open break-the-glass period now; it still waits for review',
      params: IdParam,
      response: { 200: Period, 409: ErrorBody, ...errorResponses },
    },
    handler: async (req) => breakGlass.end(requestActor(req), req.params.id),
  });
}
