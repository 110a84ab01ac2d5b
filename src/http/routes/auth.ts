/**
 * Sign-in, sign-out, the current session, password change.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import { SignInError, changePassword, signIn } from '../../identities/signin.js';
import { startSession } from '../../identities/sessions.js';
import { userPrincipal } from '../../identities/principal.js';
import { ACTIONS, PURPOSES, RENDITIONS, can, permissionsOf, type UserPrincipal } from '../../policy/policy.js';
import { audit, requireUserAuth, SESSION_COOKIE, setSessionCookie } from '../auth.js';
import { errorResponses, errorSchema } from '../schemas.js';

const sessionSchema = {
  type: 'object',
  properties: {
    user: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        username: { type: 'string' },
        role: { type: 'string' },
        controllerId: { type: ['string', 'null'] },
        processorId: { type: ['string', 'null'] },
        agent: { type: ['string', 'null'] },
        team: { type: ['string', 'null'] },
      },
    },
    csrfToken: { type: 'string' },
    expiresAt: { type: 'string' },
    // what the user may do, from the policy, so that the web UI keeps no copy of it
    permissions: { type: 'array', items: { type: 'string', enum: ACTIONS }, description: 'every action this user\'s role allows at all, sorted; scope still decides per recording' },
    purposes: { type: 'array', items: { type: 'string', enum: PURPOSES }, description: 'the purposes of use a playback or export may state' },
    renditions: { type: 'array', items: { type: 'string', enum: RENDITIONS }, description: 'the renditions this user may ask for, the redacted one first; the original needs `recording:unredacted`, and the server still decides per recording' },
    breakGlass: {
      type: 'array',
      description: 'this user\'s break-the-glass periods in force now',
      items: {
        type: 'object',
        properties: { id: { type: 'string' }, controllerId: { type: 'string' }, expiresAt: { type: 'string' } },
        required: ['id', 'controllerId', 'expiresAt'],
      },
    },
  },
  required: ['permissions', 'purposes', 'renditions', 'breakGlass'],
} as const;

const signInError = {
  type: 'object',
  properties: {
    error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
    totpSecret: { type: 'string' },
    totpUri: { type: 'string' },
  },
} as const;

export async function registerAuthRoutes(api: FastifyInstance, options: { signInPerMinute: number }): Promise<void> {
  api.post('/auth/signin', {
    config: { rateLimit: { max: options.signInPerMinute, timeWindow: 60_000 } },
    schema: {
      tags: ['auth'],
      summary: 'Sign in with username, password and TOTP code; the first sign-in also enrols TOTP and replaces a one-time password',
      body: {
        type: 'object',
        properties: {
          username: { type: 'string', minLength: 1, maxLength: 64 },
          password: { type: 'string', minLength: 1, maxLength: 256 },
          code: { type: 'string', maxLength: 10 },
          newPassword: { type: 'string', maxLength: 256 },
        },
        required: ['username', 'password'],
        additionalProperties: false,
      },
      response: { 200: sessionSchema, 400: errorSchema, 401: signInError, 429: errorSchema, 503: errorSchema },
    },
    handler: async (req, reply) => {
      const body = req.body as { username: string; password: string; code?: string; newPassword?: string };
      const vault = api.vault;
      let user;
      try {
        user = await signIn(vault, body);
      } catch (err) {
        if (err instanceof SignInError) {
          const target = await vault.users.byUsername(body.username);
          await vault.audit.append({
            action: 'auth.signin',
            outcome: 'failure',
            // a username that exists is named by id; a typed unknown name is not logged
            actor: target ? { type: 'user', id: target.id, name: target.username } : { type: 'anonymous' },
            detail: { reason: err.code, ...(err.failedCheck ? { failedCheck: err.failedCheck } : {}) },
            ip: req.ip,
            requestId: req.id,
          });
          return reply.code(err.code === ErrorCodes.WEAK_PASSWORD ? 400 : 401).send({ error: { code: err.code, message: err.message }, ...err.next });
        }
        throw err;
      }
      await vault.audit.append({ action: 'auth.signin', outcome: 'success', actor: { type: 'user', id: user.id, name: user.username, role: user.role }, detail: { mfa: 'totp' }, ip: req.ip, requestId: req.id });
      const session = await startSession(vault, user);
      return sendSession(reply, session, user, await userPrincipal(vault, user));
    },
  });

  api.post('/auth/signout', {
    schema: { tags: ['auth'], summary: 'End this session now', response: { 204: { type: 'null' }, ...errorResponses } },
    handler: async (req, reply) => {
      const auth = requireUserAuth(req);
      await audit(req, { action: 'auth.signout', outcome: 'success' });
      await api.vault.sessions.revoke(auth.session.id_hash, new Date().toISOString());
      void reply.clearCookie(SESSION_COOKIE, { path: '/', secure: true, httpOnly: true, sameSite: 'strict' });
      return reply.code(204).send();
    },
  });

  api.get('/auth/session', {
    schema: { tags: ['auth'], summary: 'The signed-in user and the CSRF token for this session', response: { 200: sessionSchema, ...errorResponses } },
    handler: async (req) => {
      const auth = requireUserAuth(req);
      return sessionBody(auth.user, auth.principal, auth.session.csrf_token, auth.session.expires_at);
    },
  });

  api.post('/auth/password', {
    config: { rateLimit: { max: options.signInPerMinute, timeWindow: 60_000 } },
    schema: {
      tags: ['auth'],
      summary: 'Change your own password; every other session ends',
      body: {
        type: 'object',
        properties: { password: { type: 'string', minLength: 1, maxLength: 256 }, newPassword: { type: 'string', minLength: 1, maxLength: 256 } },
        required: ['password', 'newPassword'],
        additionalProperties: false,
      },
      response: { 204: { type: 'null' }, ...errorResponses },
    },
    handler: async (req, reply) => {
      const auth = requireUserAuth(req);
      if (auth.user.oidc_issuer) throw new CallvaultError(ErrorCodes.FORBIDDEN, 'this account signs in at its identity provider');
      const body = req.body as { password: string; newPassword: string };
      await changePassword(api.vault, auth.user, body.password, body.newPassword).catch(async (err) => {
        await audit(req, { action: 'user.password-change', outcome: 'failure', detail: { reason: err?.code ?? 'error' } });
        throw err;
      });
      await audit(req, { action: 'user.password-change', outcome: 'success' });
      // this session stays: it proved the old password just now
      await api.vault.sessions.revokeAllOf(auth.user.id, new Date().toISOString(), auth.session.id_hash);
      return reply.code(204).send();
    },
  });
}

function sessionBody(
  user: { id: string; username: string; role: string; controller_id: string | null; processor_id: string | null; agent: string | null; team: string | null },
  principal: UserPrincipal,
  csrfToken: string,
  expiresAt: string,
) {
  return {
    user: { id: user.id, username: user.username, role: user.role, controllerId: user.controller_id, processorId: user.processor_id, agent: user.agent, team: user.team },
    csrfToken,
    expiresAt,
    permissions: permissionsOf(principal),
    purposes: [...PURPOSES],
    renditions: RENDITIONS.filter((r) => r === 'redacted' || can(principal, 'recording:unredacted')),
    breakGlass: principal.breakGlass.map((g) => ({ id: g.id, controllerId: g.controllerId, expiresAt: g.expiresAt })),
  };
}

export function sendSession(
  reply: FastifyReply,
  session: { cookie: string; csrfToken: string; expiresAt: string },
  user: Parameters<typeof sessionBody>[0],
  principal: UserPrincipal,
) {
  setSessionCookie(reply, session.cookie);
  return reply.send(sessionBody(user, principal, session.csrfToken, session.expiresAt));
}
