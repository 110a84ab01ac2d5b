/**
 * Who is calling: a session cookie (browsers) or a bearer token (machines). Authorisation helpers
 * turn a missing identity into 401 and a missing permission into 403, auditing each refusal.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CallvaultError, ErrorCodes } from '../errors.js';
import type { ApiTokenRow, SessionRow } from '../db/sessions-repository.js';
import type { User } from '../db/users-repository.js';
import { ABSOLUTE_HOURS, hashSecret, resumeSession, sameSecret, sessionInTime, touchWhenDue } from '../identities/sessions.js';
import { EpochCache } from '../identities/epoch-cache.js';
import { resolveToken } from '../identities/tokens.js';
import { tokenPrincipal, userPrincipal } from '../identities/principal.js';
import type { TokenPrincipal, UserPrincipal } from '../policy/policy.js';
import type { Vault } from '../vault.js';
import type { Actor } from '../services/actor.js';

export type AuthContext = { kind: 'user'; user: User; session: SessionRow; principal: UserPrincipal } | { kind: 'token'; token: ApiTokenRow; principal: TokenPrincipal };

export const SESSION_COOKIE = '__Host-callvault';

/** the session cookie: never readable by scripts, never sent cross-site */
export function setSessionCookie(reply: FastifyReply, value: string): void {
  void reply.setCookie(SESSION_COOKIE, value, { path: '/', secure: true, httpOnly: true, sameSite: 'strict', maxAge: ABSOLUTE_HOURS * 3600 });
}
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

type SignedIn = Extract<AuthContext, { kind: 'user' }>;

/** signed-in people by the hash of their cookie, between their requests (src/identities/epoch-cache.ts) */
export type SessionCache = EpochCache<SignedIn>;

export function sessionCache(): SessionCache {
  return new EpochCache<SignedIn>();
}

export async function authenticate(vault: Vault, req: FastifyRequest, sessions: SessionCache): Promise<AuthContext | null> {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const m = /^Bearer (\S+)$/.exec(header);
    const token = m ? await resolveToken(vault, m[1]!) : undefined;
    // a bad token is never silently ignored in favour of a cookie
    if (!token) throw new CallvaultError(ErrorCodes.UNAUTHENTICATED, 'the token is not valid, has expired or was revoked');
    await vault.audit.append({
      action: 'token.use',
      outcome: 'success',
      actor: { type: 'token', id: token.id, name: token.name },
      controllerId: token.controller_id,
      detail: { route: routeOf(req) },
      ip: req.ip,
      requestId: req.id,
    });
    return { kind: 'token', token, principal: tokenPrincipal(token) };
  }
  const cookie = req.cookies?.[SESSION_COOKIE];
  if (!cookie) return null;
  const signedIn = await resumeKept(vault, sessions, cookie);
  if (!signedIn) return null;
  if (!SAFE_METHODS.has(req.method)) {
    const sent = req.headers['x-csrf-token'];
    if (typeof sent !== 'string' || !sameSecret(sent, signedIn.session.csrf_token)) {
      throw new CallvaultError(ErrorCodes.CSRF, 'the X-CSRF-Token header is missing or wrong');
    }
  }
  return signedIn;
}

/**
 * The person a cookie signs in, with their principal: as kept from an earlier request while the
 * revocation epoch has not moved (its times checked now), else read afresh and kept.
 */
async function resumeKept(vault: Vault, sessions: SessionCache, cookie: string, now = new Date()): Promise<SignedIn | undefined> {
  // read before what it labels: a change after this read moves the epoch past the label
  const epoch = await vault.sessions.revocationEpoch();
  const key = hashSecret(cookie);
  const kept = sessions.get(key, epoch);
  if (kept && sessionInTime(kept.session, now)) {
    const session = await touchWhenDue(vault, kept.session, now);
    if (session === kept.session) return kept;
    const touched = { ...kept, session };
    sessions.set(key, epoch, touched);
    return touched;
  }
  const resumed = await resumeSession(vault, cookie, now);
  if (!resumed) return undefined;
  const signedIn: SignedIn = { kind: 'user', ...resumed, principal: await userPrincipal(vault, resumed.user, now) };
  sessions.set(key, epoch, signedIn);
  return signedIn;
}

/** the caller as services see it: who, with what principal, from where */
export function requestActor(req: FastifyRequest): Actor {
  const auth = req.auth;
  const origin = { ip: req.ip, requestId: req.id };
  if (!auth) return { kind: 'anonymous', origin };
  if (auth.kind === 'token') return { kind: 'token', principal: auth.principal, token: { id: auth.token.id, name: auth.token.name }, origin };
  return {
    kind: 'user',
    principal: auth.principal,
    user: { id: auth.user.id, username: auth.user.username, role: auth.principal.role },
    sessionIdHash: auth.session.id_hash,
    origin,
  };
}

export function routeOf(req: FastifyRequest): string {
  return `${req.method} ${req.routeOptions?.url ?? 'unmatched'}`;
}
