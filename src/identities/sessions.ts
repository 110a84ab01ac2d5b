/**
 * Browser sessions: a random 256-bit value in a Secure, HttpOnly, SameSite=Strict cookie; the
 * database keeps only its SHA-256, so a dump cannot be replayed. A session ends after
 * IDLE_MINUTES without use, after ABSOLUTE_HOURS in any case, and at once on sign-out.
 * Each session has its own CSRF token, which state-changing requests must echo in a header.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SessionRow } from '../db/sessions-repository.js';
import type { User } from '../db/users-repository.js';
import type { Vault } from '../vault.js';

export const IDLE_MINUTES = 30;
export const ABSOLUTE_HOURS = 12;
/** last_seen_at is written at most this often, so reads do not each cost a write */
export const TOUCH_INTERVAL_MS = 60_000;

export interface NewSession {
  cookie: string;
  csrfToken: string;
  expiresAt: string;
}

export function hashSecret(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export async function startSession(vault: Pick<Vault, 'sessions'>, user: User, now = new Date()): Promise<NewSession> {
  const cookie = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  const expiresAt = new Date(now.getTime() + ABSOLUTE_HOURS * 3_600_000).toISOString();
  await vault.sessions.add({
    id_hash: hashSecret(cookie),
    user_id: user.id,
    csrf_token: csrfToken,
    created_at: now.toISOString(),
    last_seen_at: now.toISOString(),
    expires_at: expiresAt,
    revoked_at: null,
  });
  return { cookie, csrfToken, expiresAt };
}

/** the live session and its user for a cookie value, or undefined */
export async function resumeSession(vault: Pick<Vault, 'sessions' | 'users'>, cookie: string, now = new Date()): Promise<{ session: SessionRow; user: User } | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(cookie)) return undefined;
  const session = await vault.sessions.get(hashSecret(cookie));
  if (!session || !sessionInTime(session, now)) return undefined;
  const user = await vault.users.get(session.user_id);
  // an account that waits for approval again (a reset, say) has no session left anyway; this holds it
  if (!user || user.disabled || user.approval !== 'approved') return undefined;
  return { session: await touchWhenDue(vault, session, now), user };
}

/** not ended, not past its absolute end, not idle too long */
export function sessionInTime(session: SessionRow, now: Date): boolean {
  const t = now.getTime();
  return !session.revoked_at && t < Date.parse(session.expires_at) && t - Date.parse(session.last_seen_at) < IDLE_MINUTES * 60_000;
}

/** the session, its last-seen time written when TOUCH_INTERVAL_MS has passed since the last write */
export async function touchWhenDue(vault: Pick<Vault, 'sessions'>, session: SessionRow, now: Date): Promise<SessionRow> {
  if (now.getTime() - Date.parse(session.last_seen_at) < TOUCH_INTERVAL_MS) return session;
  const at = now.toISOString();
  await vault.sessions.touch(session.id_hash, at);
  return { ...session, last_seen_at: at };
}
