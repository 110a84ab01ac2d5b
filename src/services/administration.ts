/**
 * Administration: accounts, machine tokens, controllers, processors and contracts; what the
 * admin API (src/http/routes/admin.ts) and `callvault users|tokens|controllers|processors|contracts`
 * do. Secrets (one-time passwords, TOTP secrets, tokens) appear once, in the answer that created
 * them, and never in an entry.
 *
 * A change and its entry: the audit log is written in its own transaction, so the two cannot
 * commit as one. Each change is therefore checked first (bad input, conflicts: a predictable
 * refusal leaves no success entry), then its entry is appended, then the change is stored; a
 * store that fails after the entry is followed by a second entry with outcome `failure`. When the
 * log cannot be written nothing is changed: an unaudited contract would widen someone's reach.
 */
import { CallvaultError, ErrorCodes } from '../errors.js';
import { contractTerms, type ContractRow } from '../db/tenancy-repository.js';
import type { ApiTokenRow } from '../db/sessions-repository.js';
import type { User } from '../db/users-repository.js';
import { applyReset, prepareReset, prepareUser, type NewUser, type NewUserCredentials } from '../identities/users.js';
import { prepareToken, type NewToken } from '../identities/tokens.js';
import type { ContractTerms, TokenScope } from '../policy/policy.js';
import { checkNewController, checkNewProcessor, prepareContract, type ContractSpec } from '../tenancy/tenancy.js';
import type { Vault } from '../vault.js';
import type { Actor } from './actor.js';
import type { AuditTrail, ServiceEvent } from './audit-trail.js';

export interface UserView {
  id: string;
  username: string;
  role: string;
  controllerId: string | null;
  processorId: string | null;
  agent: string | null;
  team: string | null;
  totpEnrolled: boolean;
  disabled: boolean;
  locked: boolean;
  oidcIssuer: string | null;
  createdAt: string;
}

export interface TokenView {
  id: string;
  name: string;
  scope: string;
  controllerId: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export interface OrganisationView {
  id: string;
  name: string;
  createdAt: string;
}

/** an account, by id (the API) or by username (the CLI) */
export type UserRef = { id: string } | { username: string };

/** `locked`: locked at every address now (src/identities/lockout.ts); a lock at one address is not shown */
export function userView(u: User, locked = false): UserView {
  return {
    id: u.id,
    username: u.username,
    role: u.role,
    controllerId: u.controller_id,
    processorId: u.processor_id,
    agent: u.agent,
    team: u.team,
    totpEnrolled: u.totp_enrolled === 1,
    disabled: u.disabled === 1,
    locked,
    oidcIssuer: u.oidc_issuer,
    createdAt: u.created_at,
  };
}

export function tokenView(t: ApiTokenRow): TokenView {
  return {
    id: t.id,
    name: t.name,
    scope: t.scope,
    controllerId: t.controller_id,
    createdAt: t.created_at,
    expiresAt: t.expires_at,
    revokedAt: t.revoked_at,
    lastUsedAt: t.last_used_at,
  };
}

/** a contract as the API and CLI show it: the policy's own view of its terms */
export interface ContractView extends Omit<ContractTerms, 'roles' | 'regions'> {
  roles: string[];
  /** null: every region of the controller */
  regions: string[] | null;
}

export function contractView(c: ContractRow): ContractView {
  const terms = contractTerms(c);
  return { ...terms, roles: [...terms.roles], regions: terms.regions ? [...terms.regions] : null };
}

export class AdministrationService {
  constructor(
    private readonly deps: Pick<Vault, 'users' | 'sessions' | 'controllers' | 'tenancy' | 'keys'>,
    private readonly trail: AuditTrail,
  ) {}

  // ---- accounts

  async listUsers(actor: Actor): Promise<UserView[]> {
    await this.trail.authorize(actor, 'users:manage', 'user.list');
    await this.trail.record(actor, { action: 'user.list', outcome: 'success' });
    const [users, locked] = await Promise.all([this.deps.users.list(), this.deps.users.lockedEverywhere(Date.now())]);
    return users.map((u) => userView(u, locked.has(u.id)));
  }

  /** a new account with its one-time password and TOTP secret; needs the unlocked keyring */
  async createUser(actor: Actor, spec: NewUser): Promise<NewUserCredentials> {
    await this.trail.authorize(actor, 'users:manage', 'user.create');
    const { row, credentials } = await prepareUser(this.deps, spec);
    const event: ServiceEvent = {
      action: 'user.create',
      outcome: 'success',
      detail: { userId: credentials.id, role: spec.role, controllerId: spec.controllerId ?? null, processorId: spec.processorId ?? null },
    };
    await this.change(actor, event, () => this.deps.users.add(row));
    return credentials;
  }

  /** a new one-time password and TOTP secret; every session of the account ends */
  async resetUser(actor: Actor, ref: UserRef): Promise<NewUserCredentials> {
    await this.trail.authorize(actor, 'users:manage', 'user.reset');
    const user = await this.user(ref);
    const { changes, credentials } = await prepareReset(this.deps, user);
    await this.change(actor, { action: 'user.reset', outcome: 'success', detail: { userId: user.id } }, () => applyReset(this.deps, user.id, changes));
    return credentials;
  }

  /** disables an account and ends its sessions, or enables it again */
  async setUserDisabled(actor: Actor, ref: UserRef, disabled: boolean): Promise<UserView> {
    const action = disabled ? 'user.disable' : 'user.enable';
    await this.trail.authorize(actor, 'users:manage', action);
    const user = await this.user(ref);
    if (actor.kind === 'user' && actor.user.id === user.id) throw new CallvaultError(ErrorCodes.FORBIDDEN, 'you cannot disable your own account');
    await this.change(actor, { action, outcome: 'success', detail: { userId: user.id } }, async () => {
      await this.deps.users.update(user.id, { disabled: disabled ? 1 : 0 });
      await this.deps.users.clearSigninFailures(user.id);
      if (disabled) await this.deps.sessions.revokeAllOf(user.id, new Date().toISOString());
    });
    return userView((await this.deps.users.get(user.id))!);
  }

  // ---- machine tokens

  async listTokens(actor: Actor): Promise<TokenView[]> {
    await this.trail.authorize(actor, 'tokens:manage', 'token.list');
    await this.trail.record(actor, { action: 'token.list', outcome: 'success' });
    return (await this.deps.sessions.tokens()).map(tokenView);
  }

  /** a new token, shown once in the answer */
  async createToken(actor: Actor, spec: { name: string; scope: TokenScope; controllerId: string; days: number }): Promise<NewToken> {
    await this.trail.authorize(actor, 'tokens:manage', 'token.create');
    const { row, token } = await prepareToken(this.deps, spec);
    const event: ServiceEvent = {
      action: 'token.create',
      outcome: 'success',
      controllerId: spec.controllerId,
      detail: { tokenId: token.id, scope: spec.scope, expiresAt: token.expiresAt },
    };
    await this.change(actor, event, () => this.deps.sessions.addToken(row));
    return token;
  }

  /** revokes a live (not yet revoked) token at once */
  async revokeToken(actor: Actor, id: string): Promise<{ id: string; revokedAt: string }> {
    await this.trail.authorize(actor, 'tokens:manage', 'token.revoke');
    const row = await this.deps.sessions.token(id);
    if (!row || row.revoked_at) throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such live token');
    const revokedAt = new Date().toISOString();
    await this.change(actor, { action: 'token.revoke', outcome: 'success', controllerId: row.controller_id, detail: { tokenId: id } }, async () => {
      // revoked by someone else since the check above
      if (!(await this.deps.sessions.revokeToken(id, revokedAt))) throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such live token');
    });
    return { id, revokedAt };
  }

  // ---- controllers and processors

  async listControllers(actor: Actor): Promise<OrganisationView[]> {
    await this.trail.authorize(actor, 'tenancy:manage', 'controller.list');
    await this.trail.record(actor, { action: 'controller.list', outcome: 'success' });
    return (await this.deps.controllers.list()).map((c) => ({ id: c.id, name: c.name, createdAt: c.created_at }));
  }

  /** a controller with its own key pair; needs the unlocked keyring */
  async createController(actor: Actor, spec: { id: string; name: string }): Promise<{ id: string; name: string; keyId: string }> {
    await this.trail.authorize(actor, 'tenancy:manage', 'controller.create');
    await checkNewController(this.deps, spec.id);
    // the key pair is made before the entry so that the entry can name it (as rotation does): a key
    // pair of a controller that does not exist yet reaches nothing, and a later creation retires it
    const key = await this.deps.keys.generate(spec.id);
    await this.change(actor, { action: 'controller.create', outcome: 'success', controllerId: spec.id, detail: { keyId: key.keyId } }, () =>
      this.deps.controllers.add({ id: spec.id, name: spec.name, created_at: new Date().toISOString() }),
    );
    return { id: spec.id, name: spec.name, keyId: key.keyId };
  }

  async listProcessors(actor: Actor): Promise<OrganisationView[]> {
    await this.trail.authorize(actor, 'tenancy:manage', 'processor.list');
    await this.trail.record(actor, { action: 'processor.list', outcome: 'success' });
    return (await this.deps.tenancy.processors()).map((p) => ({ id: p.id, name: p.name, createdAt: p.created_at }));
  }

  async createProcessor(actor: Actor, spec: { id: string; name: string }): Promise<{ id: string; name: string }> {
    await this.trail.authorize(actor, 'tenancy:manage', 'processor.create');
    await checkNewProcessor(this.deps, spec.id);
    await this.change(actor, { action: 'processor.create', outcome: 'success', detail: { processorId: spec.id } }, () =>
      this.deps.tenancy.addProcessor({ id: spec.id, name: spec.name, created_at: new Date().toISOString() }),
    );
    return { id: spec.id, name: spec.name };
  }

  // ---- contracts

  /** contracts in force or not; only one processor's when it is named */
  async listContracts(actor: Actor, processorId?: string): Promise<ContractView[]> {
    await this.trail.authorize(actor, 'tenancy:manage', 'contract.list');
    await this.trail.record(actor, { action: 'contract.list', outcome: 'success', detail: processorId ? { processorId } : undefined });
    return (await this.deps.tenancy.contracts(processorId)).map(contractView);
  }

  async createContract(actor: Actor, spec: ContractSpec): Promise<ContractView> {
    await this.trail.authorize(actor, 'tenancy:manage', 'contract.create');
    const row = await prepareContract(this.deps, spec);
    const event: ServiceEvent = {
      action: 'contract.create',
      outcome: 'success',
      controllerId: row.controller_id,
      detail: { contractId: row.id, processorId: row.processor_id, roles: row.roles, regions: row.regions, validFrom: row.valid_from, validTo: row.valid_to },
    };
    await this.change(actor, event, () => this.deps.tenancy.addContract(row));
    return contractView(row);
  }

  /** ends a contract now: access under it ends with it */
  async endContract(actor: Actor, id: string): Promise<ContractView> {
    await this.trail.authorize(actor, 'tenancy:manage', 'contract.end');
    const before = await this.deps.tenancy.contract(id);
    if (!before) throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such contract');
    const at = new Date().toISOString();
    // the end the repository will store: now, an earlier end kept, or the start of one not yet begun
    // ISO 8601 strings, compared as text: the latest of the start and now, unless it ended already
    // biome-ignore lint/complexity/useMathMinMax: these are strings, which Math.max would turn into NaN
    const validTo = before.valid_to <= at ? before.valid_to : before.valid_from > at ? before.valid_from : at;
    const event: ServiceEvent = {
      action: 'contract.end',
      outcome: 'success',
      controllerId: before.controller_id,
      detail: { contractId: id, processorId: before.processor_id, validTo },
    };
    await this.change(actor, event, () => this.deps.tenancy.endContract(id, at));
    return contractView((await this.deps.tenancy.contract(id))!);
  }

  // ----

  private async user(ref: UserRef): Promise<User> {
    const user = 'id' in ref ? await this.deps.users.get(ref.id) : await this.deps.users.byUsername(ref.username);
    if (!user) throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such user');
    return user;
  }

  /**
   * The entry, then the change. When the log cannot be written this throws before anything is
   * changed; when the change fails, a second entry (outcome `failure`, best effort) says so.
   */
  private async change(actor: Actor, event: ServiceEvent, work: () => Promise<void>): Promise<void> {
    await this.trail.record(actor, event);
    try {
      await work();
    } catch (err) {
      await this.trail.record(actor, { ...event, outcome: 'failure' }).catch(() => undefined);
      throw err;
    }
  }
}
