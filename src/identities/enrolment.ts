/**
 * Enrolment: a person whose account an administrator made or reset sets their own password and
 * authenticator with the single-use code the administrator handed over. The administrator never
 * sees either. Two steps, like the first sign-in: the code alone answers with the authenticator
 * secret to enrol; the code with a code from the authenticator and a new password completes it
 * and spends the enrolment code. Whether the account may then do anything is the approval's
 * question (src/services/administration.ts), not enrolment's.
 */
import { timingSafeEqual } from 'node:crypto';
import { ErrorCodes } from '../errors.js';
import type { User } from '../db/users-repository.js';
import type { Vault } from '../vault.js';
import { assertStrongPassword, hashPassword } from './passwords.js';
import { SignInError } from './signin.js';
import { enrolmentHash, totpSecretOf } from './users.js';

export interface EnrolmentRequest {
  username: string;
  enrolmentCode: string;
  /** a code from the authenticator, once it holds the secret */
  code?: string;
  newPassword?: string;
}

/** `account`: the username, the enrolment code or its expiry; `mfa`: the authenticator's code */
function refused(check: 'account' | 'mfa'): SignInError {
  return new SignInError(ErrorCodes.SIGNIN_FAILED, 'enrolment failed: wrong username, enrolment code or authenticator code, or the enrolment code has expired', undefined, check);
}

/** the account when the code is its live enrolment code; the same refusal for every other case */
async function enrollingAccount(vault: Pick<Vault, 'users'>, request: EnrolmentRequest, now: Date): Promise<User> {
  const user = await vault.users.byUsername(request.username);
  const given = Buffer.from(enrolmentHash(request.enrolmentCode.trim().toUpperCase()), 'hex');
  const stored = Buffer.from(user?.enrolment_hash ?? '0'.repeat(64), 'hex');
  const matches = timingSafeEqual(given, stored);
  if (!user?.enrolment_hash || !matches || user.disabled || user.approval === 'refused') throw refused('account');
  if (!user.enrolment_expires_at || user.enrolment_expires_at <= now.toISOString()) throw refused('account');
  return user;
}

export async function enrol(vault: Pick<Vault, 'users' | 'keys'>, request: EnrolmentRequest, now = new Date()): Promise<User> {
  const user = await enrollingAccount(vault, request, now);
  const secret = totpSecretOf(vault, user);
  const { generateURI, verify } = await import('otplib');
  if (!request.code) {
    throw new SignInError(ErrorCodes.TOTP_ENROLMENT_REQUIRED, 'set up an authenticator with this secret, then send a code from it with your new password', {
      totpSecret: secret,
      totpUri: generateURI({ secret, label: user.username, issuer: 'callvault' }),
    });
  }
  if (!request.newPassword) throw new SignInError(ErrorCodes.PASSWORD_CHANGE_REQUIRED, 'choose your password');
  await assertStrongPassword(request.newPassword, [user.username, user.agent ?? '', user.team ?? '']);
  if (!/^\d{6}$/.test(request.code)) throw refused('mfa');
  const checked = await verify({ secret, token: request.code, epochTolerance: 30, epoch: Math.floor(now.getTime() / 1000) });
  if (!checked.valid) throw refused('mfa');
  // the code is spent once, whichever server sees it first; the enrolment code with it
  // otplib reports the step of a valid code (signin.ts reads it the same way)
  if (!(await vault.users.consumeTotpStep(user.id, (checked as unknown as { timeStep: number }).timeStep))) throw refused('mfa');
  const spent = await vault.users.finishEnrolment(user.id, user.enrolment_hash!, {
    password_hash: await hashPassword(request.newPassword),
    password_one_time: 0,
    totp_enrolled: 1,
  });
  if (!spent) throw refused('account');
  return (await vault.users.get(user.id))!;
}
