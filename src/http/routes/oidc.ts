/**
 * Sign-in at an organisation's own OpenID Connect provider (src/identities/oidc.ts): the list of
 * providers for the sign-in page, the start (a redirect to the provider with a sealed state
 * cookie) and the callback (a session cookie like password sign-in, then a redirect to `/`).
 * Every outcome of the callback, and every refused start, is an `auth.signin` audit entry with
 * method 'oidc'.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditActor } from '../../audit/audit-log.js';
import { startSession } from '../../identities/sessions.js';
import { setSessionCookie } from '../auth.js';
import { OIDC_STATE_COOKIE, OidcProviders, OidcSignInError, PROVIDER_ID_PATTERN, STATE_TTL_MS, type OidcProviderConfig } from '../../identities/oidc.js';
import type { User } from '../../db/users-repository.js';
import { errorSchema } from '../schemas.js';

const providerParam = {
  type: 'object',
  properties: { provider: { type: 'string', pattern: PROVIDER_ID_PATTERN } },
  required: ['provider'],
  additionalProperties: false,
} as const;

const redirect = (description: string) =>
  ({
    description,
    type: 'null',
    headers: { location: { type: 'string', description: 'where the browser goes next' } },
  }) as const;

const failures = { 400: errorSchema, 401: errorSchema, 404: errorSchema, 429: errorSchema, 503: errorSchema } as const;

const callbackQuery = {
  type: 'object',
  description: 'the authorization response, as the provider sends it (RFC 6749 §4.1.2, RFC 9207)',
  properties: {
    code: { type: 'string', maxLength: 4096 },
    state: { type: 'string', maxLength: 512 },
    iss: { type: 'string', maxLength: 2048 },
    error: { type: 'string', maxLength: 256 },
    error_description: { type: 'string', maxLength: 2048 },
    error_uri: { type: 'string', maxLength: 2048 },
  },
  // providers add their own parameters (session_state, scope, …)
  additionalProperties: true,
} as const;

const stateCookieOptions = { path: '/', secure: true, httpOnly: true, sameSite: 'lax' } as const;

export async function registerOidcRoutes(api: FastifyInstance, providers: readonly OidcProviderConfig[], options: { signInPerMinute: number }): Promise<void> {
  const signInLimit = { rateLimit: { max: options.signInPerMinute, timeWindow: 60_000 } };
  const oidc = new OidcProviders(providers);
  const vault = api.vault;

  async function auditSignIn(req: FastifyRequest, provider: string, outcome: 'success' | 'failure', actor: AuditActor, detail: Record<string, string> = {}): Promise<void> {
    await vault.audit.append({ action: 'auth.signin', outcome, actor, detail: { method: 'oidc', provider, ...detail }, ip: req.ip, requestId: req.id });
  }

  async function refused(req: FastifyRequest, provider: string, step: 'start' | 'callback', err: unknown): Promise<never> {
    if (err instanceof OidcSignInError) {
      await auditSignIn(req, provider, 'failure', err.user ? userActor(err.user) : { type: 'anonymous' }, {
        step,
        reason: err.reason,
        ...(err.providerError ? { providerError: err.providerError } : {}),
      });
    } else {
      await auditSignIn(req, provider, 'failure', { type: 'anonymous' }, { step, reason: 'error' });
    }
    throw err;
  }

  api.get('/auth/oidc/providers', {
    schema: {
      tags: ['auth'],
      summary: 'The identity providers an organisation can sign in with (OpenID Connect); public',
      response: {
        200: {
          type: 'object',
          properties: { providers: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, label: { type: 'string' } }, required: ['id', 'label'] } } },
          required: ['providers'],
        },
        429: errorSchema,
        503: errorSchema,
      },
    },
    handler: async () => ({ providers: oidc.list() }),
  });

  api.get('/auth/oidc/:provider/start', {
    config: signInLimit,
    schema: {
      tags: ['auth'],
      summary: 'Start signing in at an identity provider: redirects the browser there and sets a short-lived sealed state cookie',
      params: providerParam,
      response: { 302: redirect('to the identity provider\'s authorization endpoint'), ...failures },
    },
    handler: async (req, reply) => {
      const { provider } = req.params as { provider: string };
      let started;
      try {
        started = await oidc.begin(vault, provider);
      } catch (err) {
        return refused(req, provider, 'start', err);
      }
      void reply.setCookie(OIDC_STATE_COOKIE, started.stateCookie, { ...stateCookieOptions, maxAge: STATE_TTL_MS / 1000 });
      return noStore(reply).redirect(started.url.href, 302);
    },
  });

  api.get('/auth/oidc/:provider/callback', {
    config: signInLimit,
    schema: {
      tags: ['auth'],
      summary: 'Where the identity provider sends the browser back: checks the answer, starts a session (cookie) and redirects to /',
      params: providerParam,
      querystring: callbackQuery,
      response: { 302: redirect('to / with the session cookie set'), ...failures },
    },
    handler: async (req, reply) => {
      const { provider } = req.params as { provider: string };
      // the pending state is good for one callback, whatever its outcome
      void reply.clearCookie(OIDC_STATE_COOKIE, stateCookieOptions);
      noStore(reply);
      const rawUrl = req.raw.url ?? '';
      const query = rawUrl.includes('?') ? rawUrl.slice(rawUrl.indexOf('?')) : '';
      let result;
      try {
        result = await oidc.complete(vault, provider, req.cookies[OIDC_STATE_COOKIE], query);
      } catch (err) {
        return refused(req, provider, 'callback', err);
      }
      const { user, mfa } = result;
      await auditSignIn(req, provider, 'success', userActor(user), { mfa });
      const session = await startSession(vault, user);
      // as sendSession in routes/auth.ts
      setSessionCookie(reply, session.cookie);
      return reply.redirect('/', 302);
    },
  });
}

function userActor(user: User): AuditActor {
  return { type: 'user', id: user.id, name: user.username, role: user.role };
}

function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store');
}
