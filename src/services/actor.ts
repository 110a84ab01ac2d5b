/**
 * Who asks a service to do something. Every service method takes an Actor first: the policy
 * decides on its principal, and the audit entry names it. HTTP routes make one from the request
 * (src/http/auth.ts), commands from the operating-system user (src/cli/io.ts), background jobs
 * name themselves.
 */
import type { AuditActor } from '../audit/audit-log.js';
import type { OperatorPrincipal, Principal, SystemPrincipal, TokenPrincipal, UserPrincipal } from '../policy/policy.js';
import type { Role } from '../identities/roles.js';

/** where a request came from, for the audit entry; absent for commands and jobs */
export interface Origin {
  ip?: string;
  requestId?: string;
}

export type Actor =
  | {
      kind: 'user';
      principal: UserPrincipal;
      user: { id: string; username: string; role: Role } /** the session's stored id hash (sign-out revokes it) */;
      sessionIdHash: string;
      origin: Origin;
    }
  | { kind: 'token'; principal: TokenPrincipal; token: { id: string; name: string }; origin: Origin }
  | { kind: 'operator'; principal: OperatorPrincipal; name: string }
  | { kind: 'system'; principal: SystemPrincipal }
  /** someone not signed in: sign-in, enrolment; the policy grants them nothing */
  | { kind: 'anonymous'; origin: Origin };

export type SignedInActor = Extract<Actor, { kind: 'user' }>;

export function operatorActor(name: string): Actor {
  return { kind: 'operator', principal: { kind: 'operator' }, name };
}

export function systemActor(job: string): Actor {
  return { kind: 'system', principal: { kind: 'system', job } };
}

export function principalOf(actor: Actor): Principal | undefined {
  return actor.kind === 'anonymous' ? undefined : actor.principal;
}

/** the actor as the audit log records it */
export function auditActorOf(actor: Actor): AuditActor {
  switch (actor.kind) {
    case 'user':
      return { type: 'user', id: actor.user.id, name: actor.user.username, role: actor.user.role };
    case 'token':
      return { type: 'token', id: actor.token.id, name: actor.token.name };
    case 'operator':
      return { type: 'cli', name: actor.name };
    case 'system':
      return { type: 'system', name: actor.principal.job };
    case 'anonymous':
      return { type: 'anonymous' };
  }
}

export function originOf(actor: Actor): Origin {
  return 'origin' in actor ? actor.origin : {};
}

/** who asked or decided, as a row records it: a person's account id, or the operator on the host (`cli:NAME`) */
export function actorRef(actor: Actor): string {
  return actor.kind === 'user' ? actor.user.id : actor.kind === 'operator' ? `cli:${actor.name}` : actor.kind;
}
