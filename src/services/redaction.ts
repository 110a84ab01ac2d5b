/**
 * Examining recordings for identifiers and making their redacted renditions: `callvault redact`
 * (the operator, with the passphrase) and the server's backlog (a system job). Each recording
 * examined gets its own `recording.redact` entry, written before its rendition is visible.
 */
import type { RedactionState } from '../db/schema.js';
import { CallvaultError, ErrorCodes } from '../errors.js';
import { redactPending, type BacklogProgress } from '../redaction/backlog.js';
import { redactRecording } from '../redaction/redact-recording.js';
import type { Vault } from '../vault.js';
import { auditActorOf, type Actor } from './actor.js';
import type { AuditTrail } from './audit-trail.js';

/** the states `--again` may send back to the backlog */
export const REDACTION_STATES: readonly RedactionState[] = ['none', 'clean', 'redacted', 'failed'];

export class RedactionService {
  constructor(
    // redaction decrypts, transcribes and stores: the functions it calls take the vault whole
    private readonly vault: Vault,
    private readonly trail: AuditTrail,
  ) {}

  /**
   * Examines the named recordings now, or (none named) the backlog, after first marking the
   * recordings in the `again` states to be examined anew.
   */
  async redact(
    actor: Actor,
    work: { ids: readonly string[]; again?: readonly RedactionState[] },
    report: { onStart?: (total: number) => void; onRecording?: () => void } = {},
  ): Promise<BacklogProgress> {
    await this.trail.authorize(actor, 'recordings:redact', 'recording.redact');
    const { vault } = this;
    const options = { ...vault.redaction(), actor: auditActorOf(actor) };
    const progress: BacklogProgress = { done: 0, byState: {}, errors: 0 };
    if (work.ids.length) {
      for (const id of work.ids) {
        const row = await vault.recordings.get(id.toLowerCase());
        if (row?.state !== 'stored') throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such recording');
        const outcome = await redactRecording(vault, row, options);
        progress.byState[outcome.state] = (progress.byState[outcome.state] ?? 0) + 1;
        progress.done += 1;
      }
      return progress;
    }
    if (work.again?.length) await vault.recordings.resetRedaction([...work.again]);
    report.onStart?.((await vault.recordings.redactionCounts()).pending ?? 0);
    return redactPending(vault, options, { onRecording: () => report.onRecording?.() });
  }
}
