/**
 * The personal data breach report for the privacy officer, the same as `callvault breach report`
 * (src/services/breach.ts): per controller in the officer's reach, what one compromised key,
 * controller, storage location or account exposed. Counts only: the list of affected persons in
 * clear (`--subjects`) is made on the host with the unlocked keyring, never over HTTP, so that a
 * stolen session cannot carry every affected person's identifiers out in one request.
 */
import type { FastifyInstance } from 'fastify';
import { requestActor } from '../auth.js';
import { Security, Type, typed } from '../contract.js';
import { errorResponses } from '../schemas.js';

const Count = Type.Integer({ minimum: 0 });
const Time = Type.Union([Type.String(), Type.Null()]);
const PersonCounts = Type.Object({
  inMetadata: Type.Integer({ description: 'distinct values in the metadata (exact, from the blind index)' }),
  spokenInCalls: Type.Integer({ description: 'distinct values spoken in the calls, as the transcripts show (exact)' }),
});

const ControllerBreach = Type.Object({
  controllerId: Type.String(),
  recordings: Count,
  noLongerStored: Type.Integer({ description: 'of them erased or shredded since (an account scope): in no person count' }),
  byKey: Type.Record(Type.String(), Count, { description: 'recordings per key their data key is wrapped to' }),
  callTime: Type.Object({ first: Time, last: Time, withoutStart: Type.Integer({ description: 'recordings without a known start: the window compares their import time' }) }),
  persons: Type.Object({
    personnummer: PersonCounts,
    phone: PersonCounts,
    atLeast: Count,
    atMost: Count,
  }),
  categories: Type.Object({
    audio: Count,
    transcripts: Count,
    identifiers: Type.Object(
      { personnummer: Type.Optional(Count), phone: Type.Optional(Count), transcript_personnummer: Type.Optional(Count), transcript_phone: Type.Optional(Count) },
      { description: 'recordings in which each kind of identifier was found' },
    ),
  }),
  exposure: Type.Object({
    level: Type.Union([Type.Literal('keys'), Type.Literal('ciphertext-only'), Type.Literal('plaintext-served'), Type.Literal('depends')]),
    statement: Type.String(),
    recordingsReadable: Count,
  }),
  served: Type.Optional(Type.Record(Type.String(), Count, { description: 'an account scope: recordings per reading action it was served' })),
  accessTime: Type.Optional(Type.Object({ first: Time, last: Time })),
  imy: Type.Object({
    filled: Type.Object({
      categoriesOfDataSubjects: Type.String(),
      approximateNumberOfDataSubjects: Type.String(),
      categoriesOfPersonalData: Type.Array(Type.String()),
      approximateNumberOfRecords: Type.String(),
      timeSpanOfTheData: Type.String(),
      dataProtectedAgainstReading: Type.String(),
    }),
    leftForDpo: Type.Array(Type.String()),
  }),
});

export const BreachReportSchema = Type.Object({
  reportId: Type.String(),
  generatedAt: Type.String(),
  scope: Type.Object({
    kind: Type.Union([Type.Literal('key'), Type.Literal('controller'), Type.Literal('blob-prefix'), Type.Literal('user')]),
    keyId: Type.Optional(Type.String()),
    controllerId: Type.Optional(Type.String()),
    blobPrefix: Type.Optional(Type.String()),
    userId: Type.Optional(Type.String()),
    username: Type.Optional(Type.String()),
    from: Time,
    to: Time,
    window: Type.String(),
  }),
  controllers: Type.Array(ControllerBreach),
  totals: Type.Object({ controllers: Count, recordings: Count, transcripts: Count, personnummerInMetadata: Count, phonesInMetadata: Count }),
  notes: Type.Array(Type.String()),
});

export async function registerBreachRoutes(api: FastifyInstance): Promise<void> {
  const { breach } = api.services;
  const route = typed(api);

  route.post('/breach/report', {
    schema: {
      tags: ['breach'],
      operationId: 'breachReport',
      security: Security.session,
      summary:
        'A personal data breach report (GDPR art. 33) for the controllers you answer for: exactly one scope (key, controller, blobPrefix, user) and an optional window; counts per controller and the fields of IMY’s notification it can fill. The list of persons is made on the host only (`callvault breach report --subjects`)',
      body: Type.Object(
        {
          key: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'a controller or period key id: recordings whose data key is wrapped to it' })),
          controller: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          blobPrefix: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'stored objects whose key starts with it, renditions included' })),
          user: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'a username: what the account was served, from its audit entries' })),
          from: Type.Optional(Type.String({ format: 'date-time', description: 'window start (inclusive): call time, or an account’s access time' })),
          to: Type.Optional(Type.String({ format: 'date-time', description: 'window end (exclusive)' })),
        },
        { additionalProperties: false },
      ),
      response: { 200: BreachReportSchema, ...errorResponses },
    },
    handler: async (req) => breach.report(requestActor(req), req.body),
  });
}
