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
import type { Approval } from '../db/schema.js';
import { applyReset, assertAgentFree, prepareAccount, prepareReenrolment, type AccountRequest, type NewUser } from '../identities/users.js';
import { RECORDING_ROLES, type Role } from '../identities/roles.js';
import { prepareToken, tokenLimits, type NewToken, type TokenSpec } from '../identities/tokens.js';
import type { ContractTerms, Principal } from '../policy/policy.js';
import { checkNewController, checkNewProcessor, prepareContract, type ContractSpec } from '../tenancy/tenancy.js';
import type { Vault } from '../vault.js';
import { NAME_KINDS, type NameKind } from '../db/names-repository.js';
import { actorRef, type Actor } from './actor.js';
import type { AuditTrail, ServiceEvent } from './audit-trail.js';
import { canonicalPerson, parseWorkHours, staffIdentifierKinds, staffIdentifierRows, storeStaffIdentifiers, type PersonIdentifiers } from './watchlists.js';

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
  /** four-eyes: 'pending' (usable for nothing until a second person approves), 'approved' or 'refused' */
  approval: Approval;
  /** what waits for approval: 'create', 'reset' or 'enable' */
  approvalRequest: string | null;
}

/** what the insider-misuse detector knows of a member of staff (docs/alerts.md): their own identifiers as digests, and working hours */
export interface StaffDetails extends PersonIdentifiers {
  /** `HH:MM-HH:MM`; null (or `none` on the command line) removes them */
  hours?: string | null;
}

/** an account's staff details after an edit: which identifiers are stored (never their values) */
export interface StaffView {
  id: string;
  username: string;
  workHours: string | null;
  identifiers: { personnummer: boolean; phone: boolean };
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
  /** the regions it may store calls of; null: every region of its controller */
  regions: string[] | null;
  /** the agents it may store calls of; null: every agent */
  agents: string[] | null;
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
    approval: u.approval,
    approvalRequest: u.approval_request,
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
    ...tokenLimits(t),
  };
}

/** a contract as the API and CLI show it: the policy's own view of its terms */
export interface ContractView extends Omit<ContractTerms, 'roles' | 'regions' | 'approved'> {
  roles: string[];
  /** null: every region of the controller */
  regions: string[] | null;
  /** four-eyes: 'pending' (reaches nothing until the controller approves), 'approved' or 'refused' */
  approval: Approval;
}

export function contractView(c: ContractRow): ContractView {
  const { approved: _approved, ...terms } = contractTerms(c);
  return { ...terms, roles: [...terms.roles], regions: terms.regions ? [...terms.regions] : null, approval: c.approval };
}

/** what waits for the caller's approval */
export interface PendingApprovals {
  users: UserView[];
  contracts: ContractView[];
}

type Decision = 'approve' | 'refuse';

export class AdministrationService {
  constructor(
    private readonly deps: Pick<Vault, 'users' | 'sessions' | 'controllers' | 'tenancy' | 'keys' | 'database' | 'names'>,
    private readonly trail: AuditTrail,
  ) {}

  // ---- accounts

  async listUsers(actor: Actor): Promise<UserView[]> {
    await this.trail.authorize(actor, 'users:manage', 'user.list');
    await this.trail.record(actor, { action: 'user.list', outcome: 'success' });
    const [users, locked] = await Promise.all([this.deps.users.list(), this.deps.users.lockedEverywhere(Date.now())]);
    return users.map((u) => userView(u, locked.has(u.id)));
  }

  /**
   * A new account and the single-use enrolment code to hand to the person: nobody but the person
   * ever sees its password or authenticator secret. One that can reach recordings waits for a
   * second person's approval (`decideUser`), unless the operator made it on the host. Needs the
   * unlocked keyring (the authenticator secret is sealed under it).
   */
  async createUser(actor: Actor, spec: NewUser & StaffDetails): Promise<AccountRequest> {
    await this.trail.authorize(actor, 'users:manage', 'user.create');
    const { personnummer, phone, hours, ...user } = spec;
    const person = canonicalPerson({ personnummer, phone });
    const workHours = hours ? parseWorkHours(hours) : null;
    const { row, account } = await prepareAccount(this.deps, user, actorRef(actor));
    const identifiers = await staffIdentifierRows(this.deps, account.id, person);
    row.work_hours = workHours;
    if (actor.kind === 'operator') approvedByOperator(row, actor);
    const event: ServiceEvent = {
      action: 'user.create',
      outcome: 'success',
      detail: {
        userId: account.id,
        role: spec.role,
        controllerId: spec.controllerId ?? null,
        processorId: spec.processorId ?? null,
        agent: spec.agent ?? null,
        team: spec.team ?? null,
        approval: row.approval!,
      },
    };
    await this.change(actor, event, async () => {
      await this.deps.users.add(row);
      if (identifiers.length) await storeStaffIdentifiers(this.deps.database.db, account.id, identifiers, { personnummer: true, phone: true, clear: false });
    });
    return { ...account, approval: row.approval! };
  }

  /**
   * Sets or removes a member of staff's own identifiers (stored as blind-index digests under every
   * controller, never in clear) and working hours, for the insider-misuse detector. Needs no
   * second approval: it widens no one's reach. Identifiers need the keyring.
   */
  async editUser(actor: Actor, ref: UserRef, changes: StaffDetails & { clearIdentifiers?: boolean }): Promise<StaffView> {
    await this.trail.authorize(actor, 'users:manage', 'user.edit');
    const user = await this.user(ref);
    const person = canonicalPerson({ personnummer: changes.personnummer, phone: changes.phone });
    const workHours = changes.hours === undefined ? undefined : changes.hours === null ? null : parseWorkHours(changes.hours);
    const fields = [
      ...(changes.clearIdentifiers ? ['identifiers'] : []),
      ...(person.personnummer ? ['personnummer'] : []),
      ...(person.phone ? ['phone'] : []),
      ...(workHours !== undefined ? ['hours'] : []),
    ];
    if (fields.length === 0) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'nothing to change: give a personnummer, a phone number, working hours or clear the identifiers');
    const identifiers = await staffIdentifierRows(this.deps, user.id, person);
    await this.change(actor, { action: 'user.edit', outcome: 'success', detail: { userId: user.id, fields } }, async () => {
      if (workHours !== undefined) await this.deps.users.update(user.id, { work_hours: workHours });
      if (identifiers.length || changes.clearIdentifiers) {
        await storeStaffIdentifiers(this.deps.database.db, user.id, identifiers, {
          personnummer: Boolean(person.personnummer),
          phone: Boolean(person.phone),
          clear: Boolean(changes.clearIdentifiers),
        });
      }
    });
    const after = (await this.deps.users.get(user.id))!;
    return { id: after.id, username: after.username, workHours: after.work_hours, identifiers: await staffIdentifierKinds(this.deps.database.db, user.id) };
  }

  /**
   * Replaces every credential of an account by ones nobody knows and gives a new enrolment code;
   * every session of the account ends. One that can reach recordings waits for approval again.
   */
  async resetUser(actor: Actor, ref: UserRef): Promise<AccountRequest> {
    await this.trail.authorize(actor, 'users:manage', 'user.reset');
    const user = await this.user(ref);
    const { changes, account } = await prepareReenrolment(this.deps, user, actorRef(actor));
    if (actor.kind === 'operator') approvedByOperator(changes, actor);
    await this.change(actor, { action: 'user.reset', outcome: 'success', detail: { userId: user.id, approval: changes.approval! } }, () => applyReset(this.deps, user.id, changes));
    return { ...account, approval: changes.approval! };
  }

  /**
   * Disables an account and ends its sessions, or enables it again: one that can reach recordings
   * then waits for approval (its agent id must still be its own).
   */
  async setUserDisabled(actor: Actor, ref: UserRef, disabled: boolean): Promise<UserView> {
    const action = disabled ? 'user.disable' : 'user.enable';
    await this.trail.authorize(actor, 'users:manage', action);
    const user = await this.user(ref);
    if (actor.kind === 'user' && actor.user.id === user.id) throw new CallvaultError(ErrorCodes.FORBIDDEN, 'you cannot disable your own account');
    // enabling an account that was not disabled only lifts its lockout: nothing to approve
    const needsApproval = !disabled && user.disabled === 1 && actor.kind !== 'operator' && RECORDING_ROLES.includes(user.role as Role);
    if (!disabled && user.agent) await assertAgentFree(this.deps, user.agent, { controllerId: user.controller_id, processorId: user.processor_id }, user.id);
    const approval = needsApproval ? { approval: 'pending' as const, approval_request: 'enable', approval_requested_by: actorRef(actor), approval_decided_by: null } : {};
    await this.change(actor, { action, outcome: 'success', detail: { userId: user.id, ...(disabled ? {} : { approval: approval.approval ?? user.approval }) } }, async () => {
      await this.deps.users.update(user.id, { disabled: disabled ? 1 : 0, ...approval });
      await this.deps.users.clearSigninFailures(user.id);
      if (disabled) await this.deps.sessions.revokeAllOf(user.id, new Date().toISOString());
    });
    return userView((await this.deps.users.get(user.id))!);
  }

  // ---- the second pair of eyes

  /** the accounts and contracts waiting for the caller's decision */
  async pendingApprovals(actor: Actor): Promise<PendingApprovals> {
    const principal = await this.trail.authorize(actor, 'accounts:approve', 'approval.list');
    await this.trail.record(actor, { action: 'approval.list', outcome: 'success' });
    const users = [];
    for (const u of await this.deps.users.list()) if (u.approval === 'pending' && (await this.mayDecideUser(principal, u))) users.push(userView(u));
    const contracts = (await this.deps.tenancy.contracts()).filter((c) => c.approval === 'pending' && mayDecideContract(principal, c)).map(contractView);
    return { users, contracts };
  }

  /**
   * Approves or refuses what an administrator asked for an account that can reach recordings: the
   * controller's privacy officer (not the account itself), or the key custodian on the host. A
   * refused account can do nothing until an administrator asks again.
   */
  async decideUser(actor: Actor, ref: UserRef, decision: Decision): Promise<UserView> {
    const action = decision === 'approve' ? 'user.approve' : 'user.refuse';
    const principal = await this.trail.authorize(actor, 'accounts:approve', action);
    const user = await this.user(ref);
    if (!(await this.mayDecideUser(principal, user)) || (actor.kind === 'user' && actor.user.id === user.id)) {
      await this.trail.record(actor, { action, outcome: 'denied', detail: { userId: user.id, reason: 'scope' } });
      throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such account waiting for your approval');
    }
    if (user.approval !== 'pending') throw new CallvaultError(ErrorCodes.CONFLICT, 'nothing about this account waits for approval');
    const decided = { approval: decision === 'approve' ? ('approved' as const) : ('refused' as const), approval_decided_by: actorRef(actor) };
    const refused = decision === 'refuse' ? { enrolment_hash: null, enrolment_expires_at: null } : {};
    await this.change(actor, { action, outcome: 'success', detail: { userId: user.id, request: user.approval_request ?? 'create' } }, async () => {
      if (!(await this.deps.users.decide(user.id, { ...decided, ...refused }))) throw new CallvaultError(ErrorCodes.CONFLICT, 'decided by someone else meanwhile');
    });
    return userView((await this.deps.users.get(user.id))!);
  }

  /** approves or refuses a contract an administrator made: the controller's privacy officer, or the key custodian on the host */
  async decideContract(actor: Actor, id: string, decision: Decision): Promise<ContractView> {
    const action = decision === 'approve' ? 'contract.approve' : 'contract.refuse';
    const principal = await this.trail.authorize(actor, 'accounts:approve', action);
    const contract = await this.deps.tenancy.contract(id);
    if (!contract || !mayDecideContract(principal, contract)) {
      await this.trail.record(actor, { action, outcome: 'denied', detail: { contractId: id, reason: 'scope' } });
      throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such contract waiting for your approval');
    }
    if (contract.approval !== 'pending') throw new CallvaultError(ErrorCodes.CONFLICT, 'this contract does not wait for approval');
    const approval = decision === 'approve' ? ('approved' as const) : ('refused' as const);
    await this.change(actor, { action, outcome: 'success', controllerId: contract.controller_id, detail: { contractId: id, processorId: contract.processor_id } }, async () => {
      if (!(await this.deps.tenancy.decideContract(id, approval, actorRef(actor)))) throw new CallvaultError(ErrorCodes.CONFLICT, 'decided by someone else meanwhile');
    });
    return contractView((await this.deps.tenancy.contract(id))!);
  }

  /**
   * The controller's privacy officer decides for its own staff and for a processor's staff whose
   * role a contract with the controller grants (approved and not ended); the operator for anyone.
   */
  private async mayDecideUser(principal: Principal, user: User): Promise<boolean> {
    if (principal.kind === 'operator') return true;
    if (principal.kind !== 'user' || principal.role !== 'dpo' || !principal.controllerId) return false;
    if (user.controller_id) return user.controller_id === principal.controllerId;
    if (!user.processor_id) return false;
    const now = new Date();
    return (await this.deps.tenancy.contracts(user.processor_id)).some(
      (c) => c.controller_id === principal.controllerId && c.approval === 'approved' && c.roles.split(',').includes(user.role) && c.valid_to > now.toISOString(),
    );
  }

  // ---- machine tokens

  async listTokens(actor: Actor): Promise<TokenView[]> {
    await this.trail.authorize(actor, 'tokens:manage', 'token.list');
    await this.trail.record(actor, { action: 'token.list', outcome: 'success' });
    return (await this.deps.sessions.tokens()).map(tokenView);
  }

  /** a new token, shown once in the answer */
  async createToken(actor: Actor, spec: TokenSpec): Promise<NewToken> {
    await this.trail.authorize(actor, 'tokens:manage', 'token.create');
    const { row, token } = await prepareToken(this.deps, spec);
    const event: ServiceEvent = {
      action: 'token.create',
      outcome: 'success',
      controllerId: spec.controllerId,
      detail: { tokenId: token.id, scope: spec.scope, expiresAt: token.expiresAt, regions: row.regions, agents: row.agents },
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

  // ---- display names of region codes and agent ids

  async listNames(actor: Actor, kind?: NameKind): Promise<Array<{ kind: NameKind; id: string; name: string }>> {
    await this.trail.authorize(actor, 'tenancy:manage', 'name.list');
    await this.trail.record(actor, { action: 'name.list', outcome: 'success' });
    return this.deps.names.list(kind);
  }

  /** sets the display name of a region code or an agent id; `name` null removes it */
  async setName(actor: Actor, spec: { kind: NameKind; id: string; name: string | null }): Promise<{ kind: NameKind; id: string; name: string | null; changed: boolean }> {
    await this.trail.authorize(actor, 'tenancy:manage', 'name.set');
    if (!NAME_KINDS.includes(spec.kind)) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, `a display name is for a ${NAME_KINDS.join(' or ')}`);
    const id = spec.id.trim();
    const name = spec.name?.trim() ?? null;
    if (!id || id.length > 200) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'the id is 1 to 200 characters');
    if (name !== null && (!name || name.length > 200)) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'a display name is 1 to 200 characters');
    let changed = true;
    await this.change(actor, { action: 'name.set', outcome: 'success', detail: { kind: spec.kind, id, name } }, async () => {
      if (name === null) changed = await this.deps.names.remove(spec.kind, id);
      else await this.deps.names.set(spec.kind, id, name, new Date().toISOString());
    });
    return { kind: spec.kind, id, name, changed };
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

  /**
   * A contract between a processor and a controller. Made by an administrator it reaches nothing
   * until the controller approves it (`decideContract`); the operator's is in force from its start.
   * The processor's agent ids must not be the controller's.
   */
  async createContract(actor: Actor, spec: ContractSpec): Promise<ContractView> {
    await this.trail.authorize(actor, 'tenancy:manage', 'contract.create');
    const row = await prepareContract(this.deps, spec, actor.kind === 'operator' ? undefined : actorRef(actor));
    await this.assertAgentsDistinct(row.processor_id, row.controller_id);
    const event: ServiceEvent = {
      action: 'contract.create',
      outcome: 'success',
      controllerId: row.controller_id,
      detail: {
        contractId: row.id,
        processorId: row.processor_id,
        roles: row.roles,
        regions: row.regions,
        validFrom: row.valid_from,
        validTo: row.valid_to,
        approval: row.approval,
      },
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

  /** a new contract may not give the processor's staff an agent id the controller's calls already name someone else by */
  private async assertAgentsDistinct(processorId: string, controllerId: string): Promise<void> {
    const users = (await this.deps.users.list()).filter((u) => u.agent && u.approval !== 'refused');
    const staffAgents = new Set(users.filter((u) => u.controller_id === controllerId).map((u) => u.agent));
    if (users.some((u) => u.processor_id === processorId && staffAgents.has(u.agent))) {
      throw new CallvaultError(ErrorCodes.CONFLICT, "an account of the processor has an agent id the controller's own staff hold");
    }
  }

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

/**
 * The operator on the host holds the keyring: the key custodian, the second person the approval
 * asks for, and the one who can read everything anyway. What they make needs no one else.
 */
function approvedByOperator(row: { approval?: string; approval_request?: string | null; approval_decided_by?: string | null }, actor: Actor): void {
  row.approval = 'approved';
  row.approval_request = null;
  row.approval_decided_by = actorRef(actor);
}

/** the controller's own privacy officer decides on its contracts; the operator on any */
function mayDecideContract(principal: Principal, contract: ContractRow): boolean {
  if (principal.kind === 'operator') return true;
  return principal.kind === 'user' && principal.role === 'dpo' && principal.controllerId === contract.controller_id;
}
