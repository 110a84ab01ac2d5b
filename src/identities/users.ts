/**
 * Human accounts. Passwords are hashed with Argon2id; the TOTP secret is sealed under a key
 * derived from the installation secret, so a database dump holds neither. An account made here
 * gets a one-time password and a TOTP secret: the first sign-in confirms a code from the
 * authenticator (enrolment) and replaces the password.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { CallvaultError, ErrorCodes } from '../errors.js';
import { open, seal } from '../util/aead.js';
import type { User } from '../db/users-repository.js';
import type { Approval, UsersTable } from '../db/schema.js';
import type { Insertable, Updateable } from 'kysely';
import type { Vault } from '../vault.js';
import { RECORDING_ROLES, type Role } from './roles.js';
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

/** what storing a new account would refuse: bad input, a taken username, an unknown organisation */
async function checkNewUser(deps: Pick<Vault, 'users' | 'controllers' | 'tenancy'>, user: NewUser): Promise<void> {
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
}

/**
 * An agent id names one person within a controller: the calls recorded under it are that person's.
 * A new account may not take an agent id that an account reaching one of the same controllers
 * holds (its own staff, or a processor's through a contract that has not ended), or a processor
 * account could list and play a controller's nurse's calls.
 */
export async function assertAgentFree(
  deps: Pick<Vault, 'users' | 'tenancy'>,
  agent: string,
  account: { controllerId?: string | null; processorId?: string | null },
  ignoreUserId?: string,
): Promise<void> {
  const now = new Date().toISOString();
  const reachOf = async (u: { controllerId?: string | null; processorId?: string | null }): Promise<string[]> => {
    if (u.controllerId) return [u.controllerId];
    if (!u.processorId) return [];
    return (await deps.tenancy.contracts(u.processorId)).filter((c) => c.valid_to > now && c.approval !== 'refused').map((c) => c.controller_id);
  };
  const mine = new Set(await reachOf(account));
  if (mine.size === 0) return;
  for (const other of await deps.users.list()) {
    if (other.agent !== agent || other.id === ignoreUserId || other.approval === 'refused') continue;
    const theirs = await reachOf({ controllerId: other.controller_id, processorId: other.processor_id });
    if (theirs.some((c) => mine.has(c))) throw new CallvaultError(ErrorCodes.CONFLICT, 'that agent id belongs to another account of the same controller');
  }
}

/**
 * Checks a new account the way storing it would (bad input, a taken username, an unknown
 * organisation) and makes its credentials, storing nothing: the administration service writes the
 * audit entry between this and `vault.users.add`.
 */
export async function prepareUser(deps: Pick<Vault, 'users' | 'controllers' | 'tenancy' | 'keys'>, user: NewUser): Promise<PreparedUser> {
  await checkNewUser(deps, user);
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

/** a single-use code the person enrols with (sets a password and an authenticator), and its expiry */
export interface EnrolmentCode {
  code: string;
  expiresAt: string;
}

/** how long an enrolment code works: long enough to hand over, short enough to be worth little if lost */
export const ENROLMENT_HOURS = 24;

/**
 * An account an administrator made or reset: the code to hand to the person (none for an OpenID
 * account, which signs in at its provider) and whether a second person must approve it first.
 */
export interface AccountRequest {
  id: string;
  username: string;
  role: Role;
  approval: Approval;
  enrolment: EnrolmentCode | null;
}

/**
 * A new account as an administrator makes it: no password and no authenticator secret that
 * anyone but the person ever sees (the person sets both at enrolment, src/identities/enrolment.ts),
 * and, for a role that reaches recordings, usable only once a second person has approved it.
 * Checked like `prepareUser`; stores nothing.
 */
export async function prepareAccount(
  deps: Pick<Vault, 'users' | 'controllers' | 'tenancy' | 'keys'>,
  user: NewUser,
  requestedBy: string,
): Promise<{ row: Insertable<UsersTable>; account: AccountRequest }> {
  await checkNewUser(deps, user);
  if (user.agent) await assertAgentFree(deps, user.agent, user);
  const id = randomUUID();
  const fresh = await unknownCredentials(deps, id, user.username, user.oidc ? null : newEnrolmentCode());
  const approval: Approval = RECORDING_ROLES.includes(user.role) ? 'pending' : 'approved';
  const row: Insertable<UsersTable> = {
    id,
    username: user.username,
    role: user.role,
    controller_id: user.controllerId ?? null,
    processor_id: user.processorId ?? null,
    agent: user.agent ?? null,
    team: user.team ?? null,
    ...fresh.columns,
    oidc_issuer: user.oidc?.issuer ?? null,
    oidc_subject: user.oidc?.subject ?? null,
    created_at: new Date().toISOString(),
    approval,
    approval_request: approval === 'pending' ? 'create' : null,
    approval_requested_by: requestedBy,
  };
  return { row, account: { id, username: user.username, role: user.role, approval, enrolment: fresh.enrolment } };
}

/**
 * An account reset by an administrator: every credential replaced by ones nobody knows, a new
 * enrolment code, and for a role that reaches recordings a new approval. Stores nothing.
 */
export async function prepareReenrolment(deps: Pick<Vault, 'keys'>, user: User, requestedBy: string): Promise<{ changes: Updateable<UsersTable>; account: AccountRequest }> {
  const fresh = await unknownCredentials(deps, user.id, user.username, user.oidc_issuer ? null : newEnrolmentCode());
  const approval: Approval = RECORDING_ROLES.includes(user.role as Role) ? 'pending' : 'approved';
  const changes: Updateable<UsersTable> = {
    ...fresh.columns,
    totp_enrolled: 0,
    totp_last_step: 0,
    approval,
    approval_request: approval === 'pending' ? 'reset' : null,
    approval_requested_by: requestedBy,
    approval_decided_by: null,
  };
  return { changes, account: { id: user.id, username: user.username, role: user.role as Role, approval, enrolment: fresh.enrolment } };
}

/** the SHA-256 an enrolment code is kept as: the database never holds a usable code */
export function enrolmentHash(code: string): string {
  return createHash('sha256').update(code, 'utf8').digest('hex');
}

function newEnrolmentCode(): EnrolmentCode {
  // 125 bits (16 random bytes, the last 3 bits unused), 25 characters in groups of five so that it can be read out or typed
  const code = base32(randomBytes(16)).match(/.{5}/g)!.join('-');
  return { code, expiresAt: new Date(Date.now() + ENROLMENT_HOURS * 3_600_000).toISOString() };
}

function base32(bytes: Buffer): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/** a password and an authenticator secret nobody is shown (the person replaces both at enrolment) */
async function unknownCredentials(deps: Pick<Vault, 'keys'>, id: string, username: string, enrolment: EnrolmentCode | null) {
  const { password, sealed } = await freshCredentials(deps, id, username);
  return {
    enrolment,
    columns: {
      password_hash: await hashPassword(password),
      password_one_time: 1,
      totp_secret_sealed: sealed,
      enrolment_hash: enrolment ? enrolmentHash(enrolment.code) : null,
      enrolment_expires_at: enrolment?.expiresAt ?? null,
    },
  };
}

/**
 * An account made by the operator on the host (init, the demo, tests' fixtures), with its
 * one-time password and TOTP secret: whoever holds the data directory and the keyring reaches
 * everything anyway. Administrators make accounts through `prepareAccount`.
 */
export async function createUser(vault: Pick<Vault, 'users' | 'controllers' | 'tenancy' | 'keys'>, user: NewUser): Promise<NewUserCredentials> {
  const prepared = await prepareUser(vault, user);
  await vault.users.add(prepared.row);
  return prepared.credentials;
}

/** stores prepared credentials and ends every session of the account */
export async function applyReset(deps: Pick<Vault, 'users' | 'sessions'>, userId: string, changes: Updateable<UsersTable>): Promise<void> {
  await deps.users.update(userId, changes);
  await deps.users.clearSigninFailures(userId);
  await deps.sessions.revokeAllOf(userId, new Date().toISOString());
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
