/**
 * A data subject's rights, for the privacy officer (and the auditor, for the access log): the
 * person's access log, the export of their recordings (GDPR art. 15) and their erasure (art. 17).
 * What `POST /api/v1/audit/subject-access-log`, `/subject/export`, `/subject/erase` and
 * `callvault subject access-log|export|erase` do, the same way. The person is named by
 * personnummer or phone number; only its keyed hash reaches the log.
 */
import { refusal } from '../audit/audit-log.js';
import { accessLogEvent, subjectAccessLog, type SubjectAccessLog } from '../audit/subject-access-log.js';
import { CallvaultError, ErrorCodes } from '../errors.js';
import { subjectIdentifier } from '../identifiers/normalize.js';
import { controllerReach, decide, PURPOSE_TEXT_MIN, reachesEverything, type Action, type Principal } from '../policy/policy.js';
import { findByIdentifier, type SubjectHit } from '../recordings/indexer.js';
import { controllersCovered, subjectHits, type SubjectKind } from '../subject/common.js';
import { eraseSubjectRecordings, type ErasureResult } from '../subject/erase.js';
import { exportFailedEvent, prepareSubjectExport, type SubjectExport } from '../subject/export.js';
import type { Vault } from '../vault.js';
import type { Actor } from './actor.js';
import type { AuditTrail } from './audit-trail.js';

/** the one person a request names: exactly one of the two, in any usual spelling */
export interface SubjectIdentifierInput {
  personnummer?: string;
  phone?: string;
}

/** one of the person's recordings, as an erasure shows it before it is confirmed */
export interface ErasureCandidate {
  id: string;
  controllerId: string;
  startedAt: string | null;
  importedAt: string;
}

/** an export begun: its archive, not yet read, and how to record that it stopped after it began */
export type BegunExport = SubjectExport & { recordFailure: () => Promise<void> };

export class SubjectRightsService {
  /**
   * The whole vault, unavoidably: the person's recordings are found through the blind indexes
   * (src/recordings/indexer.ts), the export opens and decrypts them (src/recordings/read.ts) and
   * the erasure destroys keys and deletes objects (src/subject/erase.ts); each of those takes the
   * vault as it is.
   */
  constructor(
    private readonly vault: Vault,
    private readonly trail: AuditTrail,
  ) {}

  /**
   * Every audited event on the person's recordings and every search for the person. A privacy
   * officer answers for the controllers in their reach; an auditor and the operator for the
   * installation. The entry holds how much the extract held, so it is written once the extract is
   * made, before any of it is returned.
   */
  async accessLog(actor: Actor, identifier: SubjectIdentifierInput): Promise<SubjectAccessLog> {
    const principal = await this.trail.authorize(actor, 'subject:access-log', 'subject.access-log');
    const { kind, value } = subjectIdentifier(identifier, ErrorCodes.INVALID_REQUEST);
    // a privacy officer answers for the controllers a contract in force (or employment) reaches
    const controllers = principal.kind === 'user' && principal.role === 'dpo' ? controllerReach(principal, new Date()).map((r) => r.controllerId) : undefined;
    if (controllers?.length === 0) {
      await this.trail.record(actor, refusal('subject.access-log', 'contract'));
      throw new CallvaultError(ErrorCodes.FORBIDDEN, 'no contract in force gives you a controller to answer for');
    }
    const log = await subjectAccessLog(this.vault, kind, value, controllers);
    const covered = controllers ?? [...new Set(log.recordings.map((r) => r.controllerId))].sort();
    await this.trail.record(actor, accessLogEvent(this.vault, kind, value, log, covered));
    return log;
  }

  /**
   * The person's recordings in the caller's reach and their access log as one ZIP archive, not yet
   * read. Every entry (`subject.export`, one `recording.export` per recording) is written before
   * this returns, so before the first byte of the archive exists. `recordFailure` records that the
   * export stopped after it began (best effort: the export's own entries are already written).
   */
  async export(actor: Actor, request: { identifier: SubjectIdentifierInput; purposeText?: string }): Promise<BegunExport> {
    const principal = await this.trail.authorize(actor, 'subject:export', 'subject.export');
    const { kind, value } = subjectIdentifier(request.identifier, ErrorCodes.INVALID_REQUEST);
    const purposeText = request.purposeText === undefined ? undefined : requireText(request.purposeText, 'the case reference (purposeText)');
    const hits = await this.hits(principal, 'recording:export', 'subject:export', kind, value);
    // the access log in the archive covers what the caller reaches
    const controllers = reachesEverything(principal) ? undefined : principal.kind === 'user' ? controllerReach(principal, new Date()).map((r) => r.controllerId) : [];
    const covered = controllersCovered(
      principal,
      'subject:export',
      hits.map((h) => h.row),
    );
    const made = await prepareSubjectExport(this.vault, { kind, value, hits, controllers, covered, purposeText, append: (e) => this.trail.record(actor, e) });
    return { ...made, recordFailure: () => this.trail.record(actor, exportFailedEvent(this.vault, kind, value, made.exportId, covered)).catch(() => undefined) };
  }

  /**
   * Erases the named recordings of the person by destroying their data keys (src/subject/erase.ts:
   * the entries first, then the erasing transaction; a failure after them adds a `failure` entry).
   * `recordingIds` absent: every recording of the person the caller may erase. `confirm`, when
   * given, is shown those recordings first (when there are any); if it throws, nothing is erased
   * or recorded.
   */
  async erase(
    actor: Actor,
    request: { identifier: SubjectIdentifierInput; recordingIds?: readonly string[]; reason: string | undefined; confirm?: (recordings: ErasureCandidate[]) => Promise<void> },
  ): Promise<ErasureResult> {
    const principal = await this.trail.authorize(actor, 'subject:erase', 'subject.erase');
    const { kind, value } = subjectIdentifier(request.identifier, ErrorCodes.INVALID_REQUEST);
    // an erasure is never without its reason in the log, whichever adapter asks for it
    const reason = requireText(request.reason ?? '', 'the reason for the erasure');
    const hits = await this.hits(principal, 'subject:erase', 'subject:erase', kind, value);
    if (request.confirm && hits.length > 0) {
      const shown = hits.map((h) => ({ id: h.row.id, controllerId: h.row.controller_id, startedAt: h.row.started_at, importedAt: h.row.imported_at }));
      await request.confirm(shown);
    }
    const now = new Date();
    return eraseSubjectRecordings(this.vault, {
      kind,
      value,
      hits,
      ids: request.recordingIds ?? hits.map((h) => h.row.id),
      reason,
      covered: controllersCovered(
        principal,
        'subject:erase',
        hits.map((h) => h.row),
      ),
      mayErase: (t) => decide(principal, 'subject:erase', { controllerId: t.controller_id, region: t.region, agent: t.agent }, now).allowed,
      append: (e) => this.trail.record(actor, e),
    });
  }

  /**
   * The person's recordings on which `action` is allowed, in the controllers `scopeAction`
   * reaches; every one of them for a principal that reaches everything (the policy lists no
   * controllers for it).
   */
  private async hits(principal: Principal, action: Action, scopeAction: Action, kind: SubjectKind, value: string): Promise<SubjectHit[]> {
    if (reachesEverything(principal)) return findByIdentifier(this.vault, kind, value);
    return subjectHits(this.vault, principal, action, scopeAction, kind, value);
  }
}

/** free text of at least PURPOSE_TEXT_MIN characters once trimmed */
function requireText(text: string, what: string): string {
  if (text.trim().length < PURPOSE_TEXT_MIN) throw new CallvaultError(ErrorCodes.PURPOSE_REQUIRED, `${what} needs at least ${PURPOSE_TEXT_MIN} characters`);
  return text;
}
