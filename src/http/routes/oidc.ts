/**
 * Sign-in at an organisation's own OpenID Connect provider (src/identities/oidc.ts, through
 * src/services/sessions.ts): the list of providers for the sign-in page, the start (a redirect
 * to the provider with a sealed state cookie) and the callback (a session cookie like password
 * sign-in, then a redirect to `/`).
 * Every outcome of the callback, and every refused start, is an `auth.signin` audit entry with
 * method 'oidc', written by the service; this sets and clears the cookies.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { OIDC_STATE_COOKIE, PROVIDER_ID_PATTERN, STATE_TTL_MS } from '../../identities/oidc.js';
import { requestActor, setSessionCookie } from '../auth.js';
import { ErrorBody, Security, Type, typed } from '../contract.js';

const ProviderParam = Type.Object({ provider: Type.String({ pattern: PROVIDER_ID_PATTERN }) }, { additionalProperties: false });

const redirect = (description: string) =>
  Type.Null({
    description,
    headers: { location: { type: 'string', description: 'where the browser goes next' } },
  });

const failures = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 429: ErrorBody, 503: ErrorBody } as const;

const CallbackQuery = Type.Object(
  {
    code: Type.Optional(Type.String({ maxLength: 4096 })),
    state: Type.Optional(Type.String({ maxLength: 512 })),
    iss: Type.Optional(Type.String({ maxLength: 2048 })),
    error: Type.Optional(Type.String({ maxLength: 256 })),
    error_description: Type.Optional(Type.String({ maxLength: 2048 })),
    error_uri: Type.Optional(Type.String({ maxLength: 2048 })),
  },
  {
    description: 'the authorization response, as the provider sends it (RFC 6749 §4.1.2, RFC 9207)',
    // providers add their own parameters (session_state, scope, …)
    additionalProperties: true,
  },
);

const stateCookieOptions = { path: '/', secure: true, httpOnly: true, sameSite: 'lax' } as const;

export async function registerOidcRoutes(api: FastifyInstance, options: { signInPerMinute: number }): Promise<void> {
  const signInLimit = { rateLimit: { max: options.signInPerMinute, timeWindow: 60_000 } };
  const { sessions } = api.services;

  typed(api).get('/auth/oidc/providers', {
    schema: {
      tags: ['auth'],
      operationId: 'listOidcProviders',
      security: Security.none,
      summary: 'The identity providers an organisation can sign in with (OpenID Connect); public',
      response: {
        200: Type.Object({ providers: Type.Array(Type.Object({ id: Type.String(), label: Type.String() })) }),
        429: ErrorBody,
        503: ErrorBody,
      },
    },
    handler: async () => ({ providers: sessions.oidcProviders() }),
  });

  typed(api).get('/auth/oidc/:provider/start', {
    config: signInLimit,
    schema: {
      tags: ['auth'],
      operationId: 'startOidcSignIn',
      security: Security.none,
      summary: 'Start signing in at an identity provider: redirects the browser there and sets a short-lived sealed state cookie',
      params: ProviderParam,
      response: { 302: redirect("to the identity provider's authorization endpoint"), ...failures },
    },
    handler: async (req, reply) => {
      const started = await sessions.oidcStart(requestActor(req), req.params.provider);
      void reply.setCookie(OIDC_STATE_COOKIE, started.stateCookie, { ...stateCookieOptions, maxAge: STATE_TTL_MS / 1000 });
      return noStore(reply).redirect(started.url, 302);
    },
  });

  typed(api).get('/auth/oidc/:provider/callback', {
    config: signInLimit,
    schema: {
      tags: ['auth'],
      operationId: 'completeOidcSignIn',
      security: Security.none,
      summary: 'Where the identity provider sends the browser back: checks the answer, starts a session (cookie) and redirects to /',
      params: ProviderParam,
      querystring: CallbackQuery,
      response: { 302: redirect('to / with the session cookie set'), ...failures },
    },
    handler: async (req, reply) => {
      // the pending state is good for one callback, whatever its outcome
      void reply.clearCookie(OIDC_STATE_COOKIE, stateCookieOptions);
      noStore(reply);
      // the provider's answer exactly as sent: openid-client checks it as a whole
      const rawUrl = req.raw.url ?? '';
      const query = rawUrl.includes('?') ? rawUrl.slice(rawUrl.indexOf('?')) : '';
      const started = await sessions.oidcCallback(requestActor(req), req.params.provider, req.cookies[OIDC_STATE_COOKIE], query);
      // as sign-in in routes/auth.ts
      setSessionCookie(reply, started.cookie);
      return reply.redirect('/', 302);
    },
  });
}

function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store');
}
