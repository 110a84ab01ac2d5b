/**
 * The two steps every service method begins with: the policy's answer, then the audit entry.
 * A refusal is itself an entry (outcome `denied`), so a probe of what one may not do is seen.
 */
import { CallvaultError, ErrorCodes } from '../errors.js';
import { refusal, type AuditEvent, type AuditLog, type RefusableAction } from '../audit/audit-log.js';
import { can, type Action, type Principal } from '../policy/policy.js';
import { auditActorOf, originOf, principalOf, type Actor } from './actor.js';

/** Omit over each member of a union (TypeScript's Omit would merge the members first) */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** an entry as a service states it: who and from where are filled in from the actor */
export type ServiceEvent = DistributiveOmit<AuditEvent, 'actor' | 'ip' | 'requestId'>;

export class AuditTrail {
  constructor(private readonly log: Pick<AuditLog, 'append'>) {}

  /** appends the entry as done by `actor`; when the log cannot be written this throws and nothing may follow */
  async record(actor: Actor, event: ServiceEvent): Promise<void> {
    const { ip, requestId } = originOf(actor);
    await this.log.append({ ...event, actor: auditActorOf(actor), ip, requestId } as AuditEvent);
  }

  /**
   * The actor's principal when the policy lets it do `action` at all (scope is the service's next
   * question); otherwise the refusal is recorded under `auditAction` and thrown.
   */
  async authorize(actor: Actor, action: Action, auditAction: RefusableAction): Promise<Principal> {
    const principal = principalOf(actor);
    if (!principal) throw new CallvaultError(ErrorCodes.UNAUTHENTICATED, 'sign in first');
    if (!can(principal, action)) {
      await this.record(actor, refusal(auditAction, 'role'));
      throw new CallvaultError(ErrorCodes.FORBIDDEN, 'your role does not allow this');
    }
    return principal;
  }
}
