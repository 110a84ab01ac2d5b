/**
 * Enrolment with a single-use code (src/services/enrolment.ts): the person sets their own
 * password and authenticator. Anonymous, and rate-limited per address as sign-in is.
 */
import type { FastifyInstance } from 'fastify';
import { ErrorCodes } from '../../errors.js';
import { SignInError } from '../../identities/signin.js';
import { requestActor } from '../auth.js';
import { ErrorBody, Security, Type, typed } from '../contract.js';

const EnrolmentRefusal = Type.Object({
  error: ErrorBody.properties.error,
  totpSecret: Type.Optional(Type.String({ description: 'the first step: the authenticator secret to enrol' })),
  totpUri: Type.Optional(Type.String()),
});

export async function registerEnrolmentRoutes(api: FastifyInstance, options: { signInPerMinute: number }): Promise<void> {
  const { enrolment } = api.services;
  typed(api).post('/auth/enrol', {
    config: { rateLimit: { max: options.signInPerMinute, timeWindow: 60_000 } },
    schema: {
      tags: ['auth'],
      operationId: 'enrol',
      security: Security.none,
      summary:
        'Enrol with the single-use code an administrator handed over: without `code` the answer (401 CV_TOTP_ENROLMENT_REQUIRED) holds the authenticator secret; with a code from it and `newPassword` the account is enrolled (it may still wait for approval)',
      body: Type.Object(
        {
          username: Type.String({ minLength: 1, maxLength: 64 }),
          enrolmentCode: Type.String({ minLength: 1, maxLength: 64 }),
          code: Type.Optional(Type.String({ maxLength: 10 })),
          newPassword: Type.Optional(Type.String({ maxLength: 256 })),
        },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({ username: Type.String(), approval: Type.String({ description: 'pending: sign-in waits until a second person approves the account' }) }),
        400: ErrorBody,
        401: EnrolmentRefusal,
        429: ErrorBody,
        503: ErrorBody,
      },
    },
    handler: async (req, reply) => {
      try {
        return await enrolment.enrol(requestActor(req), req.body);
      } catch (err) {
        if (err instanceof SignInError) return reply.code(err.code === ErrorCodes.WEAK_PASSWORD ? 400 : 401).send({ error: { code: err.code, message: err.message }, ...err.next });
        throw err;
      }
    },
  });
}
