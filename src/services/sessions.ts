/**
 * Who someone is: password + TOTP sign-in, sign-in at an OpenID Connect provider, the current
 * session and its sign-out, and changing one's own password. The callers of sign-in are not
 * signed in yet (anonymous actors); the sign-in entries name the account being signed into.
 * Cookies stay the adapter's business: this returns their values.
 */
import { CallvaultError, ErrorCodes } from '../errors.js';
import type { AuditActor, AuditLog } from '../audit/audit-log.js';
import type { User } from '../db/users-repository.js';
import type { NameDirectory } from '../db/names-repository.js';
import { OidcProviders, OidcSignInError, type OidcProviderConfig } from '../identities/oidc.js';
import { userPrincipal } from '../identities/principal.js';
import { startSession } from '../identities/sessions.js';
import { addressKey } from '../identities/lockout.js';
import { checkPasswordChange, setPassword, signIn, SignInError, type PasswordChange, type SignInRequest } from '../identities/signin.js';
import { can, permissionsOf, PURPOSES, RENDITIONS, type Action, type Purpose, type Rendition, type UserPrincipal } from '../policy/policy.js';
import type { Vault } from '../vault.js';
import { originOf, type Actor, type SignedInActor } from './actor.js';
import type { AuditTrail } from './audit-trail.js';

/** the session answer: who is signed in, what they may do, and any emergency access open now */
export interface SessionView {
  user: { id: string; username: string; role: string; controllerId: string | null; processorId: string | null; agent: string | null; team: string | null };
  csrfToken: string;
  expiresAt: string;
  /** the actions the user's role allows at all (scope still applies per recording): what the UI offers */
  permissions: Action[];
  /** the purposes of use a playback or export may state */
  purposes: Purpose[];
  /** the renditions this user may ask for, the redacted one first (the original needs `recording:unredacted`) */
  renditions: Rendition[];
  /** break-the-glass periods of this user that are open now */
  breakGlass: { id: string; controllerId: string; expiresAt: string }[];
  /**
   * what people call the controllers, processors, region codes and agent ids the answers name by
   * id, for the interface to show; names of organisations and staff, never of patients
   */
  names: NameDirectory;
}

/** a new session: the cookie value for the adapter to set, and the session answer */
export interface StartedSession {
  cookie: string;
  session: SessionView;
}

type Deps = Pick<Vault, 'users' | 'sessions' | 'keys' | 'tenancy' | 'grants' | 'names'>;

export class SessionsService {
  readonly #oidc: OidcProviders;

  constructor(
    private readonly deps: Deps,
    private readonly trail: AuditTrail,
    /**
     * Sign-in entries name the account signed into, which the anonymous caller is not yet: they
     * are appended here with the caller's origin rather than through the trail's actor.
     */
    private readonly log: Pick<AuditLog, 'append'>,
    oidcProviders: readonly OidcProviderConfig[] = [],
  ) {
    this.#oidc = new OidcProviders(oidcProviders);
  }

  /**
   * Password + TOTP sign-in. Every outcome is an `auth.signin` entry; a refusal throws a
   * SignInError (whose `next` the sign-in form needs). The session starts only after the entry.
   */
  async signIn(actor: Actor, request: SignInRequest): Promise<StartedSession> {
    let user: User;
    try {
      user = await signIn(this.deps, request, new Date(), addressKey(originOf(actor).ip));
    } catch (err) {
      if (err instanceof SignInError) {
        const target = await this.deps.users.byUsername(request.username);
        // a username that exists is named by id; a typed unknown name is not logged
        await this.#signInEntry(actor, target ? { type: 'user', id: target.id, name: target.username } : { type: 'anonymous' }, 'failure', {
          reason: err.code,
          ...(err.failedCheck ? { failedCheck: err.failedCheck } : {}),
        });
      }
      throw err;
    }
    await this.#approved(actor, user, { mfa: 'totp' });
    await this.#signInEntry(actor, userAuditActor(user), 'success', { mfa: 'totp' });
    return this.#start(user);
  }

  /** the identity providers an organisation can sign in with; public, not audited (configuration only) */
  oidcProviders(): { id: string; label: string }[] {
    return this.#oidc.list();
  }

  /** the provider's authorization URL and the sealed state cookie value; a refusal is an `auth.signin` failure entry */
  async oidcStart(actor: Actor, provider: string): Promise<{ url: string; stateCookie: string }> {
    try {
      const started = await this.#oidc.begin(this.deps, provider);
      return { url: started.url.href, stateCookie: started.stateCookie };
    } catch (err) {
      return this.#oidcRefused(actor, provider, 'start', err);
    }
  }

  /**
   * Completes an OpenID sign-in from the callback's raw query and the state cookie; every outcome
   * is an `auth.signin` entry with method 'oidc', and the session starts only after the success entry.
   */
  async oidcCallback(actor: Actor, provider: string, stateCookie: string | undefined, query: string): Promise<StartedSession> {
    let result: Awaited<ReturnType<OidcProviders['complete']>>;
    try {
      result = await this.#oidc.complete(this.deps, provider, stateCookie, query);
    } catch (err) {
      return this.#oidcRefused(actor, provider, 'callback', err);
    }
    await this.#approved(actor, result.user, { method: 'oidc', provider, mfa: result.mfa });
    await this.#signInEntry(actor, userAuditActor(result.user), 'success', { method: 'oidc', provider, mfa: result.mfa });
    return this.#start(result.user);
  }

  /** the signed-in user, this session's CSRF token and expiry, their permissions and open break-the-glass periods */
  async session(actor: Actor): Promise<SessionView> {
    const me = signedIn(actor);
    const [user, session] = await Promise.all([this.deps.users.get(me.user.id), this.deps.sessions.get(me.sessionIdHash)]);
    // ended between authentication and here (revoked, disabled): as if the cookie had not worked
    if (!user || !session || session.revoked_at) throw new CallvaultError(ErrorCodes.UNAUTHENTICATED, 'sign in first');
    return sessionView(user, me.principal, session.csrf_token, session.expires_at, await this.deps.names.directory());
  }

  /**
   * Ends this session. Unlike every other change, it is made before its entry and stands
   * whatever the log does: refusing to sign someone out because the log cannot be written would
   * leave a session open that its owner wanted closed, which protects nothing. When the
   * `auth.signout` entry then cannot be written, the answer is still success (the adapter's 204
   * and a cleared cookie), because that is the truth about the session: a 503 would tell the
   * client that nothing was done (CV_AUDIT_UNAVAILABLE's documented meaning) and invite it to keep
   * using a session that no longer exists. The failed append is not hidden: the audit log counts
   * it and readiness reports the log as failing. The entry's absence loses no trail of access,
   * since a revoked session can make no further request.
   */
  async signOut(actor: Actor): Promise<{ revoked: true; audited: boolean }> {
    const me = signedIn(actor);
    await this.deps.sessions.revoke(me.sessionIdHash, new Date().toISOString());
    try {
      await this.trail.record(actor, { action: 'auth.signout', outcome: 'success' });
      return { revoked: true, audited: true };
    } catch {
      return { revoked: true, audited: false };
    }
  }

  /**
   * Changes the signed-in user's own password: the old one and a fresh TOTP code are needed, and
   * wrong ones count toward the lockout as at sign-in (a stolen session alone cannot take the
   * account over, nor guess its password); every other session ends (this one stays: it proved
   * the old password just now). A refused change is a failure entry; an accepted one is entered
   * before the new password is stored.
   */
  async changePassword(actor: Actor, change: PasswordChange): Promise<void> {
    const me = signedIn(actor);
    const user = await this.deps.users.get(me.user.id);
    if (!user) throw new CallvaultError(ErrorCodes.UNAUTHENTICATED, 'sign in first');
    if (user.oidc_issuer) throw new CallvaultError(ErrorCodes.FORBIDDEN, 'this account signs in at its identity provider');
    try {
      await checkPasswordChange(this.deps, user, change, new Date(), addressKey(me.origin.ip));
    } catch (err) {
      await this.trail.record(actor, {
        action: 'user.password-change',
        outcome: 'failure',
        detail: { reason: (err as { code?: string })?.code ?? 'error', ...(err instanceof SignInError && err.failedCheck ? { failedCheck: err.failedCheck } : {}) },
      });
      throw err;
    }
    await this.trail.record(actor, { action: 'user.password-change', outcome: 'success' });
    try {
      await setPassword(this.deps.users, user.id, change.newPassword);
      await this.deps.sessions.revokeAllOf(user.id, new Date().toISOString(), me.sessionIdHash);
    } catch (err) {
      await this.trail.record(actor, { action: 'user.password-change', outcome: 'failure', detail: { reason: (err as { code?: string })?.code ?? 'error' } });
      throw err;
    }
  }

  /**
   * An account waiting for a second person's approval, or refused, gets no session even with the
   * right credentials (four-eyes): a failure entry, and 403 CV_APPROVAL_PENDING.
   */
  async #approved(actor: Actor, user: User, detail: Record<string, string>): Promise<void> {
    if (user.approval === 'approved') return;
    await this.#signInEntry(actor, userAuditActor(user), 'failure', { ...detail, reason: ErrorCodes.APPROVAL_PENDING });
    throw new CallvaultError(ErrorCodes.APPROVAL_PENDING, user.approval === 'pending' ? 'your account waits for approval by a second person' : 'your account was not approved');
  }

  async #start(user: User): Promise<StartedSession> {
    const [started, principal, names] = await Promise.all([startSession(this.deps, user), userPrincipal(this.deps, user), this.deps.names.directory()]);
    return { cookie: started.cookie, session: sessionView(user, principal, started.csrfToken, started.expiresAt, names) };
  }

  async #oidcRefused(actor: Actor, provider: string, step: 'start' | 'callback', err: unknown): Promise<never> {
    if (err instanceof OidcSignInError) {
      await this.#signInEntry(actor, err.user ? userAuditActor(err.user) : { type: 'anonymous' }, 'failure', {
        method: 'oidc',
        provider,
        step,
        reason: err.reason,
        ...(err.providerError ? { providerError: err.providerError } : {}),
      });
    } else {
      await this.#signInEntry(actor, { type: 'anonymous' }, 'failure', { method: 'oidc', provider, step, reason: 'error' });
    }
    throw err;
  }

  async #signInEntry(actor: Actor, who: AuditActor, outcome: 'success' | 'failure', detail: Record<string, string>): Promise<void> {
    const { ip, requestId } = originOf(actor);
    await this.log.append({ action: 'auth.signin', outcome, actor: who, detail, ip, requestId });
  }
}

/** a signed-in person; anyone else is refused as the routes always have (401 / 403, no entry) */
export function signedIn(actor: Actor): SignedInActor {
  if (actor.kind === 'user') return actor;
  if (actor.kind === 'anonymous') throw new CallvaultError(ErrorCodes.UNAUTHENTICATED, 'sign in first');
  throw new CallvaultError(ErrorCodes.FORBIDDEN, actor.kind === 'token' ? 'this needs a signed-in person, not a token' : 'this needs a signed-in person');
}

function userAuditActor(user: User): AuditActor {
  return { type: 'user', id: user.id, name: user.username, role: user.role };
}

function sessionView(user: User, principal: UserPrincipal, csrfToken: string, expiresAt: string, names: NameDirectory): SessionView {
  const now = new Date().toISOString();
  return {
    user: { id: user.id, username: user.username, role: user.role, controllerId: user.controller_id, processorId: user.processor_id, agent: user.agent, team: user.team },
    csrfToken,
    expiresAt,
    permissions: permissionsOf(principal),
    purposes: [...PURPOSES],
    renditions: RENDITIONS.filter((r) => r === 'redacted' || can(principal, 'recording:unredacted')),
    breakGlass: principal.breakGlass.filter((g) => g.expiresAt > now).map((g) => ({ id: g.id, controllerId: g.controllerId, expiresAt: g.expiresAt })),
    names,
  };
}
