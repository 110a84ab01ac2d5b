/**
 * A person enrolling with the single-use code an administrator handed them (POST /auth/enrol):
 * they set their own password and authenticator, which nobody else ever sees. Every outcome is a
 * `user.enrol` entry; the code is spent only after the success entry is written.
 */
import type { AuditLog } from '../audit/audit-log.js';
import { enrol, type EnrolmentRequest } from '../identities/enrolment.js';
import { SignInError } from '../identities/signin.js';
import type { Vault } from '../vault.js';
import { originOf, type Actor } from './actor.js';

export class EnrolmentService {
  constructor(
    private readonly deps: Pick<Vault, 'users' | 'keys'>,
    private readonly log: Pick<AuditLog, 'append'>,
  ) {}

  /**
   * The first step (no authenticator code) answers with the secret to enrol, as a SignInError;
   * the second sets the password and authenticator and spends the code. The account may still
   * wait for approval: enrolment does not make it usable.
   */
  async enrol(actor: Actor, request: EnrolmentRequest): Promise<{ username: string; approval: string }> {
    const { ip, requestId } = originOf(actor);
    const target = await this.deps.users.byUsername(request.username);
    // a username that exists is named by id; a typed unknown name is not logged
    const who = target ? { type: 'user' as const, id: target.id, name: target.username } : { type: 'anonymous' as const };
    try {
      const user = await enrol(this.deps, request);
      await this.log.append({ action: 'user.enrol', outcome: 'success', actor: who, detail: { step: 'complete' }, ip, requestId });
      return { username: user.username, approval: user.approval };
    } catch (err) {
      if (err instanceof SignInError) {
        const step = request.code ? 'complete' : 'secret';
        const first = err.code === 'CV_TOTP_ENROLMENT_REQUIRED';
        await this.log.append({
          action: 'user.enrol',
          outcome: first ? 'success' : 'failure',
          actor: who,
          detail: { step, ...(first ? {} : { reason: err.code }), ...(err.failedCheck ? { failedCheck: err.failedCheck } : {}) },
          ip,
          requestId,
        });
      }
      throw err;
    }
  }
}
