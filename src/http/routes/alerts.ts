/**
 * Insider-misuse alerts for auditors and privacy officers (a privacy officer sees those about the
 * controllers in reach), the same as `callvault alerts …` (src/services/alerts.ts).
 */
import type { FastifyInstance } from 'fastify';
import { RULES } from '../../alerts/detector.js';
import { EVIDENCE_KINDS, type EvidenceKind } from '../../alerts/evidence.js';
import { DEFAULT_THRESHOLDS, THRESHOLD_NAMES } from '../../alerts/thresholds.js';
import { OUTCOMES } from '../../services/alerts.js';
import { requestActor } from '../auth.js';
import { ErrorBody, Security, Type, typed } from '../contract.js';
import { errorResponses, uuidParam } from '../schemas.js';

const Nullable = Type.Union([Type.String(), Type.Null()]);
const Count = Type.Integer({ minimum: 0 });
// an allow-list like every answer: counts, an audit action and working hours, never an identifier
const EvidenceFacts = Type.Object({
  kind: Type.Unsafe<EvidenceKind>(Type.Union(EVIDENCE_KINDS.map((k) => Type.Literal(k)))),
  action: Type.Optional(Type.String({ description: 'the audit action that reached the call' })),
  workHours: Type.Optional(Type.String({ description: "the account's working hours, HH:MM-HH:MM" })),
  count: Type.Optional(Type.Number({ description: 'what the rule counted: calls, exports, people searched, searches or periods' })),
  minutes: Type.Optional(Count),
  calls: Type.Optional(Count),
  persons: Type.Optional(Count),
  limit: Type.Optional(Type.Number()),
  usual: Type.Optional(
    Type.Object({
      basis: Type.Union([Type.Literal('own'), Type.Literal('peers'), Type.Literal('default')]),
      value: Type.Optional(Type.Number()),
    }),
  ),
});
const Alert = Type.Object({
  id: Type.String(),
  rule: Type.String({ description: RULES.join(', ') }),
  severity: Type.String({ description: 'high, medium or low' }),
  user: Type.Union([Type.String(), Type.Null()], { description: "the account's username" }),
  userId: Nullable,
  role: Nullable,
  createdAt: Type.String(),
  updatedAt: Type.String(),
  state: Type.Union([Type.Literal('open'), Type.Literal('closed')]),
  recordings: Type.Array(Type.String()),
  controllers: Type.Array(Type.String()),
  evidence: Type.String({ description: 'what the account did, in English words; never an identifier' }),
  evidenceFacts: Type.Union([EvidenceFacts, Type.Null()], {
    description: 'the same as facts, for a reader to phrase in its own language; null for alerts raised before callvault kept them',
  }),
  entries: Type.Array(Type.Integer(), { description: 'the audit positions that are the evidence' }),
  outcome: Nullable,
  note: Nullable,
  resolvedBy: Nullable,
  resolvedByName: Type.Union([Type.String(), Type.Null()], { description: "the resolver's username" }),
  resolvedAt: Nullable,
});
// each threshold with its own type: a union of number and boolean would be coerced to its first
// member by the validator (coerceTypes), turning `canarySuspend: true` into 1
const thresholdTypes = () => Object.fromEntries(THRESHOLD_NAMES.map((n) => [n, typeof DEFAULT_THRESHOLDS[n] === 'boolean' ? Type.Boolean() : Type.Number()]));
const Thresholds = Type.Object(thresholdTypes(), { description: 'the thresholds in force (docs/alerts.md)' });
/** some thresholds, to change or to try; a name that is not one is refused by the service, which names the threshold */
const ThresholdChanges = Type.Partial(Type.Object(thresholdTypes()), { description: THRESHOLD_NAMES.join(', ') });
const ControllerParam = Type.Object({ controllerId: Type.String({ minLength: 1, maxLength: 63 }) }, { additionalProperties: false });
const IdParam = Type.Object({ id: Type.String({ pattern: uuidParam.properties.id.pattern }) }, { additionalProperties: false });

export async function registerAlertRoutes(api: FastifyInstance): Promise<void> {
  const { alerts } = api.services;
  const route = typed(api);

  route.get('/alerts', {
    schema: {
      tags: ['alerts'],
      operationId: 'listAlerts',
      security: Security.session,
      summary: 'Insider-misuse alerts, newest first: open ones unless state says otherwise',
      querystring: Type.Object(
        {
          state: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('closed'), Type.Literal('all')])),
          rule: Type.Optional(Type.Union(RULES.map((r) => Type.Literal(r)))),
        },
        { additionalProperties: false },
      ),
      response: { 200: Type.Array(Alert), ...errorResponses },
    },
    handler: async (req) => alerts.list(requestActor(req), req.query),
  });

  route.post('/alerts/:id/resolve', {
    schema: {
      tags: ['alerts'],
      operationId: 'resolveAlert',
      security: Security.session,
      summary: 'Close an alert with the outcome of its review; nobody resolves an alert about their own account',
      params: IdParam,
      body: Type.Object({ outcome: Type.Union(OUTCOMES.map((o) => Type.Literal(o))), note: Type.String({ minLength: 5, maxLength: 2000 }) }, { additionalProperties: false }),
      response: { 200: Alert, 409: ErrorBody, ...errorResponses },
    },
    handler: async (req) => alerts.resolve(requestActor(req), req.params.id, req.body),
  });

  route.get('/alert-settings/:controllerId', {
    schema: {
      tags: ['alerts'],
      operationId: 'alertThresholds',
      security: Security.session,
      summary: "A controller's detector thresholds: the documented defaults with its changes",
      params: ControllerParam,
      response: { 200: Thresholds, ...errorResponses },
    },
    handler: async (req) => ({ ...(await alerts.thresholds(requestActor(req), req.params.controllerId)) }),
  });

  route.put('/alert-settings/:controllerId', {
    schema: {
      tags: ['alerts'],
      operationId: 'setAlertThresholds',
      security: Security.session,
      summary: "Change some of a controller's detector thresholds (docs/alerts.md)",
      params: ControllerParam,
      body: ThresholdChanges,
      response: { 200: Thresholds, ...errorResponses },
    },
    handler: async (req) => ({ ...(await alerts.setThresholds(requestActor(req), req.params.controllerId, req.body)) }),
  });

  route.post('/alerts/backtest', {
    schema: {
      tags: ['alerts'],
      operationId: 'backtestAlerts',
      security: Security.session,
      summary: 'Run the rules over stored history without raising alerts, with thresholds to try',
      body: Type.Object(
        { from: Type.String({ format: 'date-time' }), to: Type.String({ format: 'date-time' }), settings: Type.Optional(ThresholdChanges) },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({
          from: Type.String(),
          to: Type.String(),
          entries: Type.Integer(),
          byRule: Type.Record(Type.String(), Type.Integer()),
          alerts: Type.Array(
            Type.Object({
              rule: Type.String(),
              severity: Type.String(),
              user: Type.String(),
              role: Nullable,
              firstAt: Type.String(),
              lastAt: Type.String(),
              recordings: Type.Array(Type.String()),
              evidence: Type.String(),
              entries: Type.Array(Type.Integer()),
            }),
          ),
        }),
        ...errorResponses,
      },
    },
    handler: async (req) => alerts.backtest(requestActor(req), { from: new Date(req.body.from), to: new Date(req.body.to), overrides: req.body.settings }),
  });
}
