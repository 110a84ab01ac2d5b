/**
 * Human accounts. Passwords are hashed with Argon2id; the TOTP secret is sealed under a key
 * derived from the installation secret, so a database dump holds neither. An account made here
 * gets a one-time password and a TOTP secret: the first sign-in confirms a code from the
 * authenticator (enrolment) and replaces the password.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { CallvaultError, ErrorCodes } from '../errors.js';
import { open, seal } from '../util/aead.js';
import type { User } from '../db/users-repository.js';
import type { UsersTable } from '../db/schema.js';
import type { Insertable, Updateable } from 'kysely';
import type { Vault } from '../vault.js';
import type { Role } from './roles.js';
import { hashPassword } from './passwords.js';

export interface NewUserCredentials {
  id: string;
  username: string;
  /** shown once; must be replaced at the first sign-in */
  password: string;
  /** base32, shown once */
  totpSecret: string;
  totpUri: string;
}

export interface NewUser {
  username: string;
  role: Role;
  controllerId?: string | null;
  processorId?: string | null;
  agent?: string | null;
  team?: string | null;
  /** an account that signs in only through this OpenID provider (issuer URL) and subject */
  oidc?: { issuer: string; subject: string };
}

const USERNAME = /^[a-z0-9][a-z0-9._@-]{1,63}$/;

export function assertUsername(username: string): void {
  if (!USERNAME.test(username)) {
    throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'a username is 2 to 64 lower-case letters, digits, dots, dashes, underscores or @');
  }
}

/** a new account checked (conflicts included) with its credentials made, not yet stored */
export interface PreparedUser {
  row: Insertable<UsersTable>;
  credentials: NewUserCredentials;
}

/**
 * Checks a new account the way storing it would (bad input, a taken username, an unknown
 * organisation) and makes its credentials, storing nothing: the administration service writes the
 * audit entry between this and `vault.users.add`.
 */
export async function prepareUser(deps: Pick<Vault, 'users' | 'controllers' | 'tenancy' | 'keys'>, user: NewUser): Promise<PreparedUser> {
  assertUsername(user.username);
  if (await deps.users.byUsername(user.username)) throw new CallvaultError(ErrorCodes.CONFLICT, 'that username is taken');
  if (user.oidc && (!/^https?:\/\/\S+$/.test(user.oidc.issuer) || !user.oidc.subject || user.oidc.subject.length > 255)) {
    throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'an OpenID account needs the issuer URL and the subject');
  }
  for (const [name, value] of [
    ['agent', user.agent],
    ['team', user.team],
  ] as const) {
    if (value !== undefined && value !== null && (value.length === 0 || value.length > 100)) {
      throw new CallvaultError(ErrorCodes.INVALID_REQUEST, `${name} is 1 to 100 characters`);
    }
  }
  if (user.controllerId && user.processorId) {
    throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'an account belongs to a controller or to a processor, not both');
  }
  if (user.controllerId && !(await deps.controllers.get(user.controllerId))) {
    throw new CallvaultError(ErrorCodes.CONTROLLER_UNKNOWN, 'no such controller');
  }
  if (user.processorId && !(await deps.tenancy.processor(user.processorId))) {
    throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such processor');
  }
  const id = randomUUID();
  const { password, secret, uri, sealed } = await freshCredentials(deps, id, user.username);
  const row: Insertable<UsersTable> = {
    id,
    username: user.username,
    role: user.role,
    controller_id: user.controllerId ?? null,
    processor_id: user.processorId ?? null,
    agent: user.agent ?? null,
    team: user.team ?? null,
    password_hash: await hashPassword(password),
    password_one_time: 1,
    totp_secret_sealed: sealed,
    oidc_issuer: user.oidc?.issuer ?? null,
    oidc_subject: user.oidc?.subject ?? null,
    created_at: new Date().toISOString(),
  };
  return { row, credentials: { id, username: user.username, password, totpSecret: secret, totpUri: uri } };
}

export async function createUser(vault: Pick<Vault, 'users' | 'controllers' | 'tenancy' | 'keys'>, user: NewUser): Promise<NewUserCredentials> {
  const prepared = await prepareUser(vault, user);
  await vault.users.add(prepared.row);
  return prepared.credentials;
}

/** new credentials for an existing account, made but not yet stored (see `applyReset`) */
export async function prepareReset(deps: Pick<Vault, 'keys'>, user: User): Promise<{ changes: Updateable<UsersTable>; credentials: NewUserCredentials }> {
  const { password, secret, uri, sealed } = await freshCredentials(deps, user.id, user.username);
  const changes: Updateable<UsersTable> = {
    password_hash: await hashPassword(password),
    password_one_time: 1,
    totp_secret_sealed: sealed,
    totp_enrolled: 0,
    totp_last_step: 0,
  };
  return { changes, credentials: { id: user.id, username: user.username, password, totpSecret: secret, totpUri: uri } };
}

/** stores prepared credentials and ends every session of the account */
export async function applyReset(deps: Pick<Vault, 'users' | 'sessions'>, userId: string, changes: Updateable<UsersTable>): Promise<void> {
  await deps.users.update(userId, changes);
  await deps.users.clearSigninFailures(userId);
  await deps.sessions.revokeAllOf(userId, new Date().toISOString());
}

/** A new one-time password and TOTP secret (a lost phone, a forgotten password); ends every session. */
export async function resetCredentials(vault: Pick<Vault, 'users' | 'sessions' | 'keys'>, user: User): Promise<NewUserCredentials> {
  const { changes, credentials } = await prepareReset(vault, user);
  await applyReset(vault, user.id, changes);
  return credentials;
}

export function totpSecretOf(vault: Pick<Vault, 'keys'>, user: User): string {
  return open(vault.keys.derivedSecret('totp-secret'), Buffer.from(user.totp_secret_sealed, 'base64'), Buffer.from(user.id, 'latin1')).toString('latin1');
}

async function freshCredentials(vault: Pick<Vault, 'keys'>, id: string, username: string) {
  const { generateSecret, generateURI } = await import('otplib');
  const password = randomBytes(18).toString('base64url');
  const secret = generateSecret();
  const sealed = seal(vault.keys.derivedSecret('totp-secret'), Buffer.from(secret, 'latin1'), Buffer.from(id, 'latin1')).toString('base64');
  return { password, secret, sealed, uri: generateURI({ secret, label: username, issuer: 'callvault' }) };
}
