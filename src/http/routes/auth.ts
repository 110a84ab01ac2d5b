/**
 * Sign-in, sign-out, the current session, password change (src/services/sessions.ts). The cookie
 * is set and cleared here; everything else is the service's.
 */
import type { FastifyInstance } from 'fastify';
import { ErrorCodes } from '../../errors.js';
import { SignInError } from '../../identities/signin.js';
import { ACTIONS, PURPOSES, RENDITIONS, type Action, type Purpose, type Rendition } from '../../services/vocabulary.js';
import { requestActor, SESSION_COOKIE, setSessionCookie } from '../auth.js';
import { ErrorBody, Security, Type, typed } from '../contract.js';
import { errorResponses } from '../schemas.js';

const Nullable = (description?: string) => Type.Union([Type.String(), Type.Null()], description ? { description } : {});

const Named = Type.Object({ id: Type.String(), name: Type.String() });
const NamedList = Type.Array(Named);

/** the answer of sign-in and of GET /auth/session */
export const SessionAnswer = Type.Object({
  user: Type.Object({
    id: Type.String(),
    username: Type.String(),
    role: Type.String(),
    controllerId: Nullable('the controller whose own staff the user is'),
    processorId: Nullable('the processor whose staff the user is'),
    agent: Nullable(),
    team: Nullable(),
  }),
  csrfToken: Type.String({ description: 'echo it in X-CSRF-Token on every request but GET/HEAD' }),
  expiresAt: Type.String(),
  permissions: Type.Array(Type.Unsafe<Action>({ type: 'string', enum: [...ACTIONS] }), {
    description: 'what the role allows at all, sorted; which recordings is still decided per request',
  }),
  purposes: Type.Array(Type.Unsafe<Purpose>({ type: 'string', enum: [...PURPOSES] }), { description: 'the purposes of use a playback or export may state' }),
  renditions: Type.Array(Type.Unsafe<Rendition>({ type: 'string', enum: [...RENDITIONS] }), {
    description: 'the renditions this user may ask for, the redacted one first; the original needs `recording:unredacted`, and the server still decides per recording',
  }),
  breakGlass: Type.Array(Type.Object({ id: Type.String(), controllerId: Type.String(), expiresAt: Type.String() }), {
    description: "the user's break-the-glass periods that are open now",
  }),
  names: Type.Object(
    {
      controllers: NamedList,
      processors: NamedList,
      regions: Type.Array(Named, { description: 'region codes as recordings carry them ("skane") and their display names ("Skåne")' }),
      agents: Type.Array(Named, { description: 'agent ids as recordings carry them and the names of the staff they stand for' }),
    },
    { description: 'display names of what the other answers name by id (organisations, regions, staff; never patients); an id without a name here is shown as it is' },
  ),
});

/** a refused sign-in; an account that must enrol TOTP also gets its secret */
const SignInRefusal = Type.Object({
  error: ErrorBody.properties.error,
  totpSecret: Type.Optional(Type.String()),
  totpUri: Type.Optional(Type.String()),
});

const Empty = Type.Null({ description: 'no content' });

export async function registerAuthRoutes(api: FastifyInstance, options: { signInPerMinute: number }): Promise<void> {
  const { sessions } = api.services;
  const signInLimit = { rateLimit: { max: options.signInPerMinute, timeWindow: 60_000 } };

  typed(api).post('/auth/signin', {
    config: signInLimit,
    schema: {
      tags: ['auth'],
      operationId: 'signIn',
      security: Security.none,
      summary: 'Sign in with username, password and TOTP code; the first sign-in also enrols TOTP and replaces a one-time password',
      body: Type.Object(
        {
          username: Type.String({ minLength: 1, maxLength: 64 }),
          password: Type.String({ minLength: 1, maxLength: 256 }),
          code: Type.Optional(Type.String({ maxLength: 10 })),
          newPassword: Type.Optional(Type.String({ maxLength: 256 })),
        },
        { additionalProperties: false },
      ),
      response: { 200: SessionAnswer, 400: ErrorBody, 401: SignInRefusal, 429: ErrorBody, 503: ErrorBody },
    },
    handler: async (req, reply) => {
      try {
        const started = await sessions.signIn(requestActor(req), req.body);
        setSessionCookie(reply, started.cookie);
        return started.session;
      } catch (err) {
        // the sign-in form's answer: what failed, and what the account still has to give
        if (err instanceof SignInError) return reply.code(err.code === ErrorCodes.WEAK_PASSWORD ? 400 : 401).send({ error: { code: err.code, message: err.message }, ...err.next });
        throw err;
      }
    },
  });

  typed(api).post('/auth/signout', {
    schema: {
      tags: ['auth'],
      operationId: 'signOut',
      security: Security.session,
      summary: 'End this session now; it ends even when the audit log cannot record the sign-out',
      response: { 204: Empty, ...errorResponses },
    },
    handler: async (req, reply) => {
      // 204 whether or not the entry could be written: the session is revoked either way (see SessionsService.signOut)
      await sessions.signOut(requestActor(req));
      void reply.clearCookie(SESSION_COOKIE, { path: '/', secure: true, httpOnly: true, sameSite: 'strict' });
      return reply.code(204).send(null);
    },
  });

  typed(api).get('/auth/session', {
    schema: {
      tags: ['auth'],
      operationId: 'getSession',
      security: Security.session,
      summary: 'The signed-in user, the CSRF token for this session, what the user may do, and their open break-the-glass periods',
      response: { 200: SessionAnswer, ...errorResponses },
    },
    handler: async (req) => sessions.session(requestActor(req)),
  });

  typed(api).post('/auth/password', {
    config: signInLimit,
    schema: {
      tags: ['auth'],
      operationId: 'changePassword',
      security: Security.session,
      summary: 'Change your own password with the current one and a fresh TOTP code; wrong ones count toward the lockout; every other session ends',
      body: Type.Object(
        {
          password: Type.String({ minLength: 1, maxLength: 256 }),
          newPassword: Type.String({ minLength: 1, maxLength: 256 }),
          code: Type.String({ minLength: 1, maxLength: 10, description: 'a code from the authenticator, newer than the one used to sign in' }),
        },
        { additionalProperties: false },
      ),
      response: { 204: Empty, ...errorResponses },
    },
    handler: async (req, reply) => {
      await sessions.changePassword(requestActor(req), req.body);
      return reply.code(204).send(null);
    },
  });
}
