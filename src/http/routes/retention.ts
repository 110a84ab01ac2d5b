/**
 * Retention and legal holds for a controller's privacy officer, the same as `callvault
 * retention|hold …` (src/services/retention.ts). The retention run, which destroys keys, is the
 * operator's and the server's daily job, not a route.
 */
import type { FastifyInstance } from 'fastify';
import { requestActor } from '../auth.js';
import { ErrorBody, Security, Type, typed } from '../contract.js';
import { errorResponses, uuidParam } from '../schemas.js';

const Nullable = Type.Union([Type.String(), Type.Null()]);
const ClassName = Type.String({ pattern: '^[a-z][a-z0-9-]{0,31}$', description: 'a retention class: default, journal, …' });
const Policy = Type.Object({ controllerId: Type.String(), class: Type.String(), days: Type.Integer(), updatedAt: Type.String() });
const Hold = Type.Object({
  id: Type.String(),
  kind: Type.String({ description: 'recording, personnummer, phone or agent' }),
  recordingId: Nullable,
  agent: Nullable,
  from: Nullable,
  to: Nullable,
  case: Type.String(),
  reason: Type.String({ description: 'as given, with any identifier in it as its label' }),
  createdAt: Type.String(),
  releasedAt: Nullable,
  releaseReason: Nullable,
});
const Text = (max: number) => Type.String({ minLength: 3, maxLength: max });
const IdParam = Type.Object({ id: Type.String({ pattern: uuidParam.properties.id.pattern }) }, { additionalProperties: false });

export async function registerRetentionRoutes(api: FastifyInstance): Promise<void> {
  const { retention } = api.services;
  const route = typed(api);

  route.get('/retention', {
    schema: {
      tags: ['retention'],
      operationId: 'listRetention',
      security: Security.session,
      summary: 'The retentions of the controllers you answer for, per class',
      response: { 200: Type.Object({ policies: Type.Array(Policy) }), ...errorResponses },
    },
    handler: async (req) => ({ policies: await retention.policies(requestActor(req)) }),
  });

  route.put('/retention', {
    schema: {
      tags: ['retention'],
      operationId: 'setRetention',
      security: Security.session,
      summary:
        "Set a controller's retention for a class. Lowering it answers how many recordings the next run would shred and applies it only with confirm: true (applied: false otherwise)",
      body: Type.Object(
        {
          controllerId: Type.String({ minLength: 1, maxLength: 63 }),
          class: Type.Optional(ClassName),
          days: Type.Integer({ minimum: 1, maximum: 36_525 }),
          confirm: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
      response: { 200: Type.Object({ applied: Type.Boolean(), wouldShred: Type.Integer(), previousDays: Type.Union([Type.Integer(), Type.Null()]) }), ...errorResponses },
    },
    handler: async (req) => {
      const { confirm, ...spec } = req.body;
      return retention.set(requestActor(req), spec, async () => confirm === true);
    },
  });

  route.post('/recordings/:id/class', {
    schema: {
      tags: ['retention'],
      operationId: 'setRecordingClass',
      security: Security.session,
      summary: "Set a recording's retention class (journal, say): the next run moves its key to that class's month",
      params: IdParam,
      body: Type.Object({ class: ClassName }, { additionalProperties: false }),
      response: { 200: Type.Object({ id: Type.String(), class: Type.String() }), ...errorResponses },
    },
    handler: async (req) => retention.setClass(requestActor(req), req.params.id, req.body.class),
  });

  route.get('/holds', {
    schema: {
      tags: ['retention'],
      operationId: 'listHolds',
      security: Security.session,
      summary: 'Every legal hold, active or released',
      response: { 200: Type.Object({ holds: Type.Array(Hold) }), ...errorResponses },
    },
    handler: async (req) => ({ holds: await retention.holds(requestActor(req)) }),
  });

  route.post('/holds', {
    schema: {
      tags: ['retention'],
      operationId: 'addHold',
      security: Security.session,
      summary:
        "Place a legal hold on one recording, a person (personnummer or phone, in the body) or an agent's calls in a window; it covers what it matches now and what arrives later, with no cap",
      body: Type.Object(
        {
          recordingId: Type.Optional(Type.String({ format: 'uuid' })),
          personnummer: Type.Optional(Type.String({ maxLength: 20 })),
          phone: Type.Optional(Type.String({ maxLength: 40 })),
          agent: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
          from: Type.Optional(Type.String({ format: 'date-time' })),
          to: Type.Optional(Type.String({ format: 'date-time' })),
          case: Text(200),
          reason: Text(1000),
        },
        { additionalProperties: false },
      ),
      response: { 201: Type.Object({ ...Hold.properties, covered: Type.Integer() }), ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(await retention.addHold(requestActor(req), req.body)),
  });

  route.post('/holds/:id/release', {
    schema: {
      tags: ['retention'],
      operationId: 'releaseHold',
      security: Security.session,
      summary: 'Release a legal hold: what it kept goes to the next retention run',
      params: IdParam,
      body: Type.Object({ reason: Text(1000) }, { additionalProperties: false }),
      response: { 200: Hold, 409: ErrorBody, ...errorResponses },
    },
    handler: async (req) => retention.releaseHold(requestActor(req), req.params.id, req.body.reason),
  });
}
