/**
 * Password + TOTP sign-in with lockout. One request carries everything the account still needs:
 * the password, a code from the authenticator, and a new password when the current one was set by
 * an administrator. The answer for a wrong password, an unknown user and a locked account is the
 * same, so sign-in does not tell which usernames exist.
 */
import { CallvaultError, ErrorCodes } from '../errors.js';
import type { User } from '../db/users-repository.js';
import type { Vault } from '../vault.js';
import { assertStrongPassword, hashPassword, verifyPassword } from './passwords.js';
import { totpSecretOf } from './users.js';

/** what sign-in reads and writes: the accounts, and the keyring that seals TOTP secrets */
export type SignInDeps = Pick<Vault, 'users' | 'keys'>;

export interface SignInRequest {
  username: string;
  password: string;
  code?: string;
  newPassword?: string;
}

/** failures before the account locks; each further failure doubles the lock, up to an hour */
export const LOCKOUT_THRESHOLD = 5;
const LOCK_BASE_MS = 30_000;
const LOCK_MAX_MS = 3_600_000;

export class SignInError extends CallvaultError {
  constructor(
    code: typeof ErrorCodes.SIGNIN_FAILED | typeof ErrorCodes.TOTP_ENROLMENT_REQUIRED | typeof ErrorCodes.PASSWORD_CHANGE_REQUIRED | typeof ErrorCodes.WEAK_PASSWORD,
    message: string,
    /** what the user still has to give, for the sign-in form */
    readonly next?: { totpUri?: string; totpSecret?: string },
    /**
     * Which check failed, for the audit log only: the answer is the same for all of them, but a
     * right password with a wrong code tells an auditor that the password is known to someone.
     */
    readonly failedCheck?: 'account' | 'locked' | 'password' | 'mfa-missing' | 'mfa',
  ) {
    super(code, message);
  }
}

function failed(check: SignInError['failedCheck']): SignInError {
  return new SignInError(ErrorCodes.SIGNIN_FAILED, 'sign-in failed: wrong username, password or code, or the account is locked for a while', undefined, check);
}

export async function signIn(vault: SignInDeps, request: SignInRequest, now = new Date()): Promise<User> {
  const user = await vault.users.byUsername(request.username);
  // password accounts only: OpenID accounts sign in at their provider
  const usable = user && !user.disabled && !user.oidc_issuer;
  const locked = usable && user.locked_until !== null && user.locked_until > now.toISOString();
  const passwordOk = await verifyPassword(usable && !locked ? user.password_hash : null, request.password);
  if (!usable) throw failed('account');
  if (locked) throw failed('locked');
  if (!passwordOk) {
    await recordFailure(vault, user, now);
    throw failed('password');
  }

  const secret = totpSecretOf(vault, user);
  if (!request.code) {
    if (user.totp_enrolled) throw failed('mfa-missing');
    const { generateURI } = await import('otplib');
    throw new SignInError(ErrorCodes.TOTP_ENROLMENT_REQUIRED, 'set up an authenticator with this secret and sign in again with its code', {
      totpSecret: secret,
      totpUri: generateURI({ secret, label: user.username, issuer: 'callvault' }),
    });
  }
  const step = await verifyCode(secret, request.code, user.totp_last_step, now);
  if (step === undefined) {
    await recordFailure(vault, user, now);
    throw failed('mfa');
  }

  if (user.password_one_time) {
    if (!request.newPassword) {
      // the code is not consumed: the user repeats it with a new password within the same window
      throw new SignInError(ErrorCodes.PASSWORD_CHANGE_REQUIRED, 'this password was set by an administrator: choose a new one');
    }
    await assertStrongPassword(request.newPassword, [user.username, user.agent ?? '', user.team ?? '']);
    if (request.newPassword === request.password) throw new SignInError(ErrorCodes.WEAK_PASSWORD, 'the new password must differ from the old one');
  }
  // the code is spent here, once, whichever server sees it first
  if (!(await vault.users.consumeTotpStep(user.id, step))) {
    await recordFailure(vault, user, now);
    throw failed('mfa');
  }
  if (user.password_one_time) await vault.users.update(user.id, { password_hash: await hashPassword(request.newPassword!), password_one_time: 0 });
  await vault.users.update(user.id, { totp_enrolled: 1, failed_signins: 0, locked_until: null });
  return (await vault.users.get(user.id))!;
}

/** the code's time step when it is valid and newer than the last accepted one */
async function verifyCode(secret: string, code: string, lastStep: number, now: Date): Promise<number | undefined> {
  if (!/^\d{6}$/.test(code)) return undefined;
  const { verify } = await import('otplib');
  // one period either side for clock drift; afterTimeStep refuses a code that was used before
  const result = await verify({ secret, token: code, epochTolerance: 30, afterTimeStep: lastStep || undefined, epoch: Math.floor(now.getTime() / 1000) });
  return result.valid ? (result as { timeStep: number }).timeStep : undefined;
}

async function recordFailure(vault: Pick<Vault, 'users'>, user: User, now: Date): Promise<void> {
  const failures = await vault.users.countFailedSignin(user.id);
  const over = failures - LOCKOUT_THRESHOLD;
  if (over >= 0) await vault.users.update(user.id, { locked_until: new Date(now.getTime() + Math.min(LOCK_BASE_MS * 2 ** over, LOCK_MAX_MS)).toISOString() });
}

/**
 * Checks a change of one's own password while signed in: the old one is needed and the new one
 * must be strong. Throws as sign-in does; changes nothing (the caller records the change first).
 */
export async function checkPasswordChange(user: User, oldPassword: string, newPassword: string): Promise<void> {
  if (!(await verifyPassword(user.password_hash, oldPassword))) throw failed('password');
  await assertStrongPassword(newPassword, [user.username, user.agent ?? '', user.team ?? '']);
}

/** stores a checked new password; it is no longer one-time */
export async function setPassword(users: Vault['users'], userId: string, newPassword: string): Promise<void> {
  await users.update(userId, { password_hash: await hashPassword(newPassword), password_one_time: 0 });
}
