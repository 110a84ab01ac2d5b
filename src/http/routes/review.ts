/**
 * The documented log review (loggkontroll) for auditors, the same as `callvault audit review …`
 * (src/services/log-review.ts): draw a month's sample of accesses, read the queue, record what the
 * check of one access found, read the month's report.
 */
import type { FastifyInstance } from 'fastify';
import { PERIOD_PATTERN, REVIEW_MAX_COUNT, REVIEW_NOTE_MAX, REVIEW_NOTE_MIN } from '../../services/log-review.js';
import { requestActor } from '../auth.js';
import { ErrorBody, Security, Type, typed } from '../contract.js';
import { errorResponses, uuidParam } from '../schemas.js';

const Nullable = (description?: string) => Type.Union([Type.String(), Type.Null()], description ? { description } : {});
const Counts = Type.Record(Type.String(), Type.Integer());
/** REVIEW_OUTCOMES, written out so that the type follows */
const Outcome = Type.Union([Type.Literal('justified'), Type.Literal('unjustified'), Type.Literal('unclear')]);

const Sample = Type.Object({
  id: Type.String(),
  period: Type.String(),
  position: Type.Integer({ description: "the audit position of the access's anchor entry (its first entry stating a purpose, else its first)" }),
  time: Nullable(),
  action: Nullable(),
  user: Nullable('the account as the entry names it'),
  userId: Nullable(),
  role: Nullable(),
  recordingId: Nullable(),
  controllerId: Nullable(),
  purpose: Nullable(),
  purposeText: Nullable(),
  breakGlass: Type.Boolean(),
  rendition: Nullable(),
  chosenBy: Type.String({ description: 'random, or the reason a rule weighed it: alert:<rule>, break-glass, original, role:dpo, role:operator' }),
  outcome: Type.Union([Outcome, Type.Null()]),
  note: Nullable('with any identifier in it as its label'),
  reviewedBy: Nullable(),
  reviewedAt: Nullable(),
});

const Method = Type.Object({
  unit: Type.String(),
  timeZone: Type.String(),
  accesses: Type.Integer({ description: 'accesses in the period when drawn' }),
  logSize: Type.Integer({ description: 'the log size when drawn: the sample is reproducible from the entries below it' }),
  requested: Type.Integer(),
  random: Type.Integer(),
  weighted: Type.Integer(),
  flagged: Counts,
  weights: Counts,
  prng: Type.String(),
});

const Queue = Type.Object({
  period: Type.String(),
  from: Type.String(),
  to: Type.String(),
  seed: Nullable('128 bits, hex; null until drawn'),
  drawnBy: Nullable(),
  drawnAt: Nullable(),
  method: Type.Union([Method, Type.Null()]),
  checked: Type.Integer(),
  samples: Type.Array(Sample),
});

const Report = Type.Object({
  period: Type.String(),
  from: Type.String(),
  to: Type.String(),
  timeZone: Type.String(),
  accesses: Type.Integer({ description: 'accesses in the period now' }),
  drawn: Type.Union([
    Type.Object({
      seed: Type.String(),
      drawnBy: Type.String(),
      drawnAt: Type.String(),
      method: Method,
      reproduced: Type.Boolean({ description: 'drawing again from the seed over the log as it was gives the stored sample' }),
    }),
    Type.Null(),
  ]),
  sampled: Type.Integer(),
  chosenBy: Counts,
  checked: Type.Integer(),
  outcomes: Counts,
  reviewers: Type.Array(Type.Object({ reviewer: Type.String(), checked: Type.Integer() })),
  alerts: Type.Array(Type.Object({ rule: Type.String(), raised: Type.Integer(), open: Type.Integer(), closed: Type.Integer(), outcomes: Counts })),
  samples: Type.Array(Sample),
});

const PeriodParam = Type.Object({ period: Type.String({ pattern: PERIOD_PATTERN, description: 'a month, YYYY-MM (Europe/Stockholm)' }) }, { additionalProperties: false });
const SampleParams = Type.Object(
  { period: PeriodParam.properties.period, id: Type.String({ pattern: uuidParam.properties.id.pattern, description: 'a sampled access of that month' }) },
  { additionalProperties: false },
);

export async function registerReviewRoutes(api: FastifyInstance): Promise<void> {
  const { logReview } = api.services;
  const route = typed(api);

  route.post('/audit/review/:period/sample', {
    schema: {
      tags: ['audit'],
      operationId: 'drawReviewSample',
      security: Security.session,
      summary: "Draw the month's reproducible sample of accesses for the log review (random and rule-weighted); a month's sample is drawn once (409 after)",
      params: PeriodParam,
      body: Type.Object({ count: Type.Integer({ minimum: 1, maximum: REVIEW_MAX_COUNT }) }, { additionalProperties: false }),
      response: { 201: Queue, 409: ErrorBody, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(await logReview.sample(requestActor(req), req.params.period, req.body.count)),
  });

  route.get('/audit/review/:period', {
    schema: {
      tags: ['audit'],
      operationId: 'getReviewQueue',
      security: Security.session,
      summary: "The month's sampled accesses with what each check found (no samples before the draw)",
      params: PeriodParam,
      response: { 200: Queue, ...errorResponses },
    },
    handler: async (req) => logReview.queue(requestActor(req), req.params.period),
  });

  route.post('/audit/review/:period/samples/:id', {
    schema: {
      tags: ['audit'],
      operationId: 'recordReviewOutcome',
      security: Security.session,
      summary: 'Record what the check of one sampled access found, with a note (identifiers in it kept as labels); a later outcome replaces it, both in the log',
      params: SampleParams,
      body: Type.Object({ outcome: Outcome, note: Type.String({ minLength: REVIEW_NOTE_MIN, maxLength: REVIEW_NOTE_MAX }) }, { additionalProperties: false }),
      response: { 200: Sample, ...errorResponses },
    },
    handler: async (req) => logReview.outcome(requestActor(req), req.params.id, req.body.outcome, req.body.note, req.params.period),
  });

  route.get('/audit/review/:period/report', {
    schema: {
      tags: ['audit'],
      operationId: 'getReviewReport',
      security: Security.session,
      summary: "The month's documented log review: accesses, how the sample was drawn, how many checked and found what, the month's alerts, who reviewed",
      params: PeriodParam,
      response: { 200: Report, ...errorResponses },
    },
    handler: async (req) => logReview.report(requestActor(req), req.params.period),
  });
}
