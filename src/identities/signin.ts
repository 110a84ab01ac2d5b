/**
 * Password + TOTP sign-in with lockout (src/identities/lockout.ts). One request carries everything
 * the account still needs: the password, a code from the authenticator, and a new password when
 * the current one was set by an administrator. The answer for a wrong password, an unknown user
 * and a locked account is the same, so sign-in does not tell which usernames exist.
 */
import { CallvaultError, ErrorCodes } from '../errors.js';
import type { User } from '../db/users-repository.js';
import type { Vault } from '../vault.js';
import { lockAt, recordFailure, recordSuccess } from './lockout.js';
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
    readonly failedCheck?: 'account' | 'locked' | 'locked-account' | 'password' | 'mfa-missing' | 'mfa',
  ) {
    super(code, message);
  }
}

function failed(check: SignInError['failedCheck']): SignInError {
  return new SignInError(ErrorCodes.SIGNIN_FAILED, 'sign-in failed: wrong username, password or code, or the account is locked for a while', undefined, check);
}

/** `address`: the client's, as lockout.ts's addressKey gives it; the lockout is counted per address */
export async function signIn(vault: SignInDeps, request: SignInRequest, now = new Date(), address = 'unknown'): Promise<User> {
  const user = await vault.users.byUsername(request.username);
  // password accounts only: OpenID accounts sign in at their provider
  const usable = user && !user.disabled && !user.oidc_issuer;
  const lock = usable ? await lockAt(vault.users, user.id, address, now) : undefined;
  const passwordOk = await verifyPassword(usable && !lock ? user.password_hash : null, request.password);
  if (!usable) throw failed('account');
  if (lock) throw failed(lock);
  if (!passwordOk) {
    await recordFailure(vault.users, user.id, address, now);
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
    await recordFailure(vault.users, user.id, address, now);
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
    await recordFailure(vault.users, user.id, address, now);
    throw failed('mfa');
  }
  if (user.password_one_time) await vault.users.update(user.id, { password_hash: await hashPassword(request.newPassword!), password_one_time: 0 });
  await vault.users.update(user.id, { totp_enrolled: 1 });
  await recordSuccess(vault.users, user.id, address);
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

export interface PasswordChange {
  password: string;
  newPassword: string;
  /** a code from the authenticator newer than any used before (the sign-in's own code is spent) */
  code: string;
}

/**
 * Checks a change of one's own password while signed in, as a sign-in would: the account must not
 * be locked at this address, the old password and a fresh TOTP code are needed (a wrong one of
 * either counts toward the lockout), and the new password must be strong. Then the code is spent.
 * Throws as sign-in does; stores no password (the caller records the change first).
 */
export async function checkPasswordChange(vault: SignInDeps, user: User, change: PasswordChange, now = new Date(), address = 'unknown'): Promise<void> {
  const lock = await lockAt(vault.users, user.id, address, now);
  const passwordOk = await verifyPassword(lock ? null : user.password_hash, change.password);
  if (lock) throw failed(lock);
  if (!passwordOk) {
    await recordFailure(vault.users, user.id, address, now);
    throw failed('password');
  }
  const step = await verifyCode(totpSecretOf(vault, user), change.code, user.totp_last_step, now);
  if (step === undefined) {
    await recordFailure(vault.users, user.id, address, now);
    throw failed('mfa');
  }
  // checked before the code is spent, so that a weak choice can be retried with the same code
  await assertStrongPassword(change.newPassword, [user.username, user.agent ?? '', user.team ?? '']);
  if (!(await vault.users.consumeTotpStep(user.id, step))) {
    await recordFailure(vault.users, user.id, address, now);
    throw failed('mfa');
  }
}

/** stores a checked new password; it is no longer one-time */
export async function setPassword(users: Vault['users'], userId: string, newPassword: string): Promise<void> {
  await users.update(userId, { password_hash: await hashPassword(newPassword), password_one_time: 0 });
}
