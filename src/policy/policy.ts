/**
 * The access policy: who may do what to which recording. One pure module, no I/O, so every
 * decision can be read off a table (test/policy/policy.test.ts). Routes and commands ask it; they
 * never decide themselves.
 *
 * A user reaches a controller's recordings either as the controller's own staff or as staff of a
 * processor through a contract that is in force now, names the user's role and may limit regions.
 * Within that, the role decides whose calls: a nurse the calls they handled, a supervisor their
 * team's, a privacy officer all. Auditors and administrators never reach recordings. Break-the-glass
 * widens a nurse's or supervisor's reach to every call of one controller (still inside the
 * contract's regions) for a short time, and every access under it is flagged. An ingest token
 * stores calls of its own controller only, and of the regions and agents it is limited to, if any.
 */
import type { Role } from '../identities/roles.js';

/**
 * everything the policy decides on; `keys:manage` (rotate, rewrap) is the key custodian's, and
 * `vault:backup`/`vault:restore` the operator's, on the command line
 */
export const ACTIONS = [
  'recordings:list',
  'recording:view',
  'recording:play',
  'recording:unredacted',
  'recording:export',
  'recording:ingest',
  'break-glass:start',
  'break-glass:list',
  'break-glass:review',
  'audit:read',
  // the documented log review (loggkontroll): draw a month's sample of accesses, record what was found
  'audit:review',
  'subject:access-log',
  'subject:find',
  'subject:export',
  'subject:erase',
  // marking a person protected (skyddad identitet, a named VIP): accesses to their calls alert
  'subject:protect',
  // the personal data breach report (art. 33/34): counts from the metadata, for the privacy officer
  'breach:report',
  'keys:read',
  // the second pair of eyes: approve or refuse an account that can reach recordings, or a contract
  'accounts:approve',
  // a controller's retention policies, recordings' classes and legal holds: its privacy officer's
  'retention:manage',
  // destroying expired period keys: the operator's and the server's daily job
  'retention:run',
  // insider-misuse alerts (docs/alerts.md): reading and resolving them, the auditor's and the
  // privacy officer's; a controller's thresholds and backtests, its privacy officer's
  'alerts:read',
  'alerts:resolve',
  'alerts:manage',
  'users:manage',
  'tokens:manage',
  'tenancy:manage',
  'keys:manage',
  // `callvault redact` and the server's backlog: decrypt, examine, make renditions
  'recordings:redact',
  // a transcript attached after the call was stored (`callvault transcripts add`): it decides what
  // redaction removes, so no role has it; the operator's only
  'transcripts:attach',
  'vault:backup',
  'vault:restore',
  // `callvault verify`: reads every stored object (with --deep decrypts it); the operator's only
  'vault:verify',
] as const;
export type Action = (typeof ACTIONS)[number];

/**
 * What each role may do at all; scope (below) decides on which recordings. Everyone who may play
 * hears the redacted rendition unless they ask for the original, which needs `recording:unredacted`:
 * a nurse for the calls they took (follow-up needs who called), a privacy officer for subject
 * requests; a supervisor reviewing quality does not need identifiers.
 */
export const ROLE_PERMISSIONS: Record<Role, readonly Action[]> = {
  nurse: ['recordings:list', 'recording:view', 'recording:play', 'recording:unredacted', 'break-glass:start'],
  supervisor: ['recordings:list', 'recording:view', 'recording:play', 'break-glass:start'],
  dpo: [
    'recordings:list',
    'recording:view',
    'recording:play',
    'recording:unredacted',
    'recording:export',
    'break-glass:list',
    'break-glass:review',
    'subject:access-log',
    'subject:find',
    'subject:export',
    'subject:erase',
    'subject:protect',
    'breach:report',
    'accounts:approve',
    'retention:manage',
    'alerts:read',
    'alerts:resolve',
    'alerts:manage',
  ],
  // key status (ids, dates, counts, never key material): admins manage the installation, auditors
  // check that keys are rotated and that retired keys no longer hold data keys
  auditor: ['audit:read', 'audit:review', 'break-glass:list', 'subject:access-log', 'keys:read', 'alerts:read', 'alerts:resolve', 'alerts:manage'],
  admin: ['users:manage', 'tokens:manage', 'tenancy:manage', 'keys:read'],
};

export const TOKEN_SCOPES = ['ingest'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];
const SCOPE_PERMISSIONS: Record<TokenScope, readonly Action[]> = { ingest: ['recording:ingest'] };

/** what a stated purpose covers: the rendition with identifiers removed, or the original */
export const RENDITIONS = ['redacted', 'original'] as const;
export type Rendition = (typeof RENDITIONS)[number];

/** Purposes of use for playback and export; `other` needs a written explanation. */
export const PURPOSES = ['patient-follow-up', 'quality-review', 'complaint', 'incident-investigation', 'subject-request', 'legal-request', 'other'] as const;
export type Purpose = (typeof PURPOSES)[number];

/** the written explanation the purpose `other` needs, in characters */
export const PURPOSE_TEXT_MIN = 10;

export const BREAK_GLASS_MAX_MINUTES = 60;
export const BREAK_GLASS_MIN_REASON = 20;

export interface ContractTerms {
  id: string;
  processorId: string;
  controllerId: string;
  roles: readonly string[];
  /** null: every region of the controller */
  regions: readonly string[] | null;
  validFrom: string;
  validTo: string;
  /** approved by the controller (four-eyes): until then the contract reaches nothing */
  approved: boolean;
}

export interface BreakGlassGrant {
  id: string;
  controllerId: string;
  expiresAt: string;
}

export interface UserPrincipal {
  kind: 'user';
  userId: string;
  role: Role;
  /** the controller whose own staff the user is, if any */
  controllerId: string | null;
  /** the processor whose staff the user is, if any */
  processorId: string | null;
  agent: string | null;
  /** agents in the user's team (a supervisor's reach), the user's own agent included */
  teamAgents: readonly string[];
  /** the contracts of the user's processor, in force or not; the policy checks dates */
  contracts: readonly ContractTerms[];
  breakGlass: readonly BreakGlassGrant[];
}

export interface TokenPrincipal {
  kind: 'token';
  tokenId: string;
  scope: TokenScope;
  controllerId: string;
  /** the regions of its controller it may store calls of; null: every region */
  regions: readonly string[] | null;
  /** the agents it may store calls of; null: every agent */
  agents: readonly string[] | null;
}

/**
 * The operator of a command on the host: whoever holds the data directory (and, for commands that
 * decrypt, the custodian's passphrase or the HSM PIN). The policy cannot hold back someone who can
 * read the database file and the keyring; it names them so that every service asks the same
 * question and every command is audited as theirs.
 */
export interface OperatorPrincipal {
  kind: 'operator';
}

/** a background job of callvault itself: ingest housekeeping, redaction, checkpoints */
export interface SystemPrincipal {
  kind: 'system';
  job: string;
}

export type Principal = UserPrincipal | TokenPrincipal | OperatorPrincipal | SystemPrincipal;

/** what a background job may do: store what it was given, and make renditions */
const SYSTEM_PERMISSIONS: readonly Action[] = ['recording:ingest', 'recordings:list', 'recording:view', 'recordings:redact', 'retention:run'];

/** the part of a recording the policy looks at */
export interface RecordingFacts {
  controllerId: string;
  region: string | null;
  agent: string | null;
}

/**
 * One controller's recordings a principal reaches. `agents` null: every agent's calls.
 * `regions` null: every region's.
 */
export interface Scope {
  controllerId: string;
  regions: readonly string[] | null;
  agents: readonly string[] | null;
  /** set when this scope exists only because of break-the-glass */
  breakGlassId?: string;
}

export type Decision = { allowed: true; breakGlassId?: string } | { allowed: false; reason: DenyReason };
/** `token-limits`: the token's own controller, but a region or agent outside its limits (or none named) */
export type DenyReason = 'role' | 'scope' | 'contract' | 'token-scope' | 'token-limits';

export function can(principal: Principal, action: Action): boolean {
  switch (principal.kind) {
    case 'user':
      return ROLE_PERMISSIONS[principal.role].includes(action);
    case 'token':
      return SCOPE_PERMISSIONS[principal.scope].includes(action);
    case 'operator':
      return true;
    case 'system':
      return SYSTEM_PERMISSIONS.includes(action);
  }
}

/** the principal reaches every controller's recordings in full (the operator, a system job) */
export function reachesEverything(principal: Principal): principal is OperatorPrincipal | SystemPrincipal {
  return principal.kind === 'operator' || principal.kind === 'system';
}

/**
 * Every action `principal` may do at all, sorted: the web UI shows and offers what this says
 * instead of keeping its own copy of the table. Scope still decides per recording.
 */
export function permissionsOf(principal: Principal): Action[] {
  return ACTIONS.filter((action) => can(principal, action)).sort();
}

export function contractInForce(contract: ContractTerms, now: Date): boolean {
  const t = now.toISOString();
  return contract.validFrom <= t && t < contract.validTo;
}

/** The controllers (and regions in them) the user's role reaches at all, as staff or by contract. */
export function controllerReach(user: UserPrincipal, now: Date): { controllerId: string; regions: readonly string[] | null }[] {
  if (user.controllerId) return [{ controllerId: user.controllerId, regions: null }];
  if (!user.processorId) return [];
  return user.contracts
    .filter((c) => c.processorId === user.processorId && c.approved && c.roles.includes(user.role) && contractInForce(c, now))
    .map((c) => ({ controllerId: c.controllerId, regions: c.regions }));
}

/**
 * Every scope in which `action` on recordings is allowed; empty when none. A principal that
 * reaches everything has no scopes to list (the policy knows no controllers): callers ask
 * `reachesEverything` first, and an empty answer here fails closed.
 */
export function recordingScopes(principal: Principal, action: Action, now: Date): Scope[] {
  if (!can(principal, action) || principal.kind === 'operator' || principal.kind === 'system') return [];
  if (principal.kind === 'token') return [{ controllerId: principal.controllerId, regions: principal.regions, agents: principal.agents }];
  const agents = agentsReached(principal);
  const scopes: Scope[] = [];
  for (const reach of controllerReach(principal, now)) {
    scopes.push({ ...reach, agents });
    const glass = principal.breakGlass.find((g) => g.controllerId === reach.controllerId && g.expiresAt > now.toISOString());
    if (glass && agents !== null) scopes.push({ ...reach, agents: null, breakGlassId: glass.id });
  }
  return scopes;
}

function agentsReached(user: UserPrincipal): readonly string[] | null {
  switch (user.role) {
    case 'nurse':
      return user.agent ? [user.agent] : [];
    case 'supervisor':
      return [...new Set([...(user.agent ? [user.agent] : []), ...user.teamAgents])];
    default:
      return null;
  }
}

/** May `principal` do `action` on this recording? Normal scope wins over break-the-glass. */
export function decide(principal: Principal, action: Action, recording: RecordingFacts, now: Date): Decision {
  if (!can(principal, action)) return { allowed: false, reason: principal.kind === 'token' ? 'token-scope' : 'role' };
  if (reachesEverything(principal)) return { allowed: true };
  const scopes = recordingScopes(principal, action, now);
  if (scopes.length === 0) return { allowed: false, reason: 'contract' };
  const matching = scopes.filter((s) => inScope(s, recording));
  if (matching.length === 0) {
    return { allowed: false, reason: principal.kind === 'token' && principal.controllerId === recording.controllerId ? 'token-limits' : 'scope' };
  }
  const normal = matching.find((s) => !s.breakGlassId);
  return normal ? { allowed: true } : { allowed: true, breakGlassId: matching[0]!.breakGlassId! };
}

export function inScope(scope: Scope, recording: RecordingFacts): boolean {
  if (scope.controllerId !== recording.controllerId) return false;
  if (scope.regions !== null && (recording.region === null || !scope.regions.includes(recording.region))) return false;
  if (scope.agents !== null && (recording.agent === null || !scope.agents.includes(recording.agent))) return false;
  return true;
}

/** Break-the-glass can be started only for a controller the user already reaches in their role. */
export function mayBreakGlass(user: UserPrincipal, controllerId: string, now: Date): boolean {
  return can(user, 'break-glass:start') && controllerReach(user, now).some((r) => r.controllerId === controllerId);
}
