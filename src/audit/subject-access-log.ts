/**
 * The patient's access log: every audited event that touched one person's recordings (who, when,
 * what, for which purpose, under break-the-glass or not), and every search made for the person's
 * identifier. The person's recordings are found through the blind indexes, and those destroyed
 * since (erased, shredded) through the links their destroyer kept (src/recordings/destroyed.ts):
 * PDL 8 kap. wants the log of who accessed a record kept after the record is gone. Their events
 * are found through the indexed recording column of the log; the searches by the indexed keyed
 * hash of the identifier. `audit verify` checks both columns against the signed entries.
 */
import type { Vault } from '../vault.js';
import { findByIdentifier, findDestroyedByIdentifier } from '../recordings/indexer.js';
import type { AuditActor, AuditOutcome, UnattributedEvent } from './audit-log.js';

export interface SubjectAccess {
  index: number;
  time: string;
  action: string;
  outcome: AuditOutcome;
  actor: AuditActor;
  recordingId: string | null;
  purpose: string | null;
  purposeText: string | null;
  breakGlass: boolean;
  /** byte ranges played, filters searched with, and the like */
  detail: Record<string, unknown>;
}

export interface LoggedRecording {
  id: string;
  controllerId: string;
  startedAt: string | null;
  /** stored, or destroyed: by a data subject's erasure, or by retention */
  state: 'stored' | 'erased' | 'shredded';
  /** when it was erased or shredded; null while stored */
  destroyedAt: string | null;
}

export interface SubjectAccessLog {
  /** the person's recordings, stored and destroyed, by id */
  recordings: LoggedRecording[];
  accesses: SubjectAccess[];
}

/**
 * `controllers`: limit to these controllers' recordings and to searches that covered one of them
 * (the caller's reach); everything when absent
 */
export async function subjectAccessLog(vault: Vault, kind: 'personnummer' | 'phone', canonicalValue: string, controllers?: readonly string[]): Promise<SubjectAccessLog> {
  const stored: LoggedRecording[] = (await findByIdentifier(vault, kind, canonicalValue, controllers)).map(({ row }) => ({
    id: row.id,
    controllerId: row.controller_id,
    startedAt: row.started_at,
    state: 'stored',
    destroyedAt: null,
  }));
  const destroyed = new Map<string, LoggedRecording>();
  for (const d of await findDestroyedByIdentifier(vault, kind, canonicalValue, controllers)) {
    destroyed.set(d.id, { id: d.id, controllerId: d.controllerId, startedAt: d.startedAt, state: d.destruction, destroyedAt: d.destroyedAt });
  }
  const recordings = [...stored, ...destroyed.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  const ids = recordings.map((r) => r.id);
  const db = vault.database.db;
  const byRecording = ids.length ? await db.selectFrom('audit_entries').select(['seq', 'entry']).where('recording_id', 'in', ids).orderBy('seq').execute() : [];
  const bySearch = await db
    .selectFrom('audit_entries')
    .select(['seq', 'entry'])
    .where('identifier_hash', '=', vault.audit.identifierHash(kind, canonicalValue))
    .orderBy('seq')
    .execute();

  const onRecording = new Set(byRecording.map((r) => Number(r.seq)));
  const seen = new Set<number>();
  const accesses: SubjectAccess[] = [];
  for (const row of [...byRecording, ...bySearch].sort((a, b) => Number(a.seq) - Number(b.seq))) {
    const index = Number(row.seq);
    if (seen.has(index)) continue;
    seen.add(index);
    // an entry as the log stores it (canonical JSON of an AuditEvent with its time)
    const e = JSON.parse(row.entry) as {
      time: string;
      action: string;
      outcome: AuditOutcome;
      actor: AuditActor;
      recordingId?: string;
      purpose?: string;
      purposeText?: string;
      breakGlassId?: string;
      detail?: SubjectAccess['detail'];
    };
    const detail = onRecording.has(index) ? (e.detail ?? {}) : searchDetailInReach(e.detail ?? {}, controllers);
    if (!detail) continue;
    accesses.push({
      index,
      time: e.time,
      action: e.action,
      outcome: e.outcome,
      actor: e.actor,
      recordingId: e.recordingId ?? null,
      purpose: e.purpose ?? null,
      purposeText: e.purposeText ?? null,
      breakGlass: Boolean(e.breakGlassId),
      detail,
    });
  }
  return { recordings, accesses };
}

/**
 * A search or request for the person (found by the identifier's hash, not by a recording) is
 * shown to a caller who reaches one of the controllers it covered, and to the installation's
 * auditor. One that also covered controllers out of the caller's reach is shown without them and
 * without its counts, which would tell how much the person has there. Null: not shown.
 */
function searchDetailInReach(detail: SubjectAccess['detail'], controllers: readonly string[] | undefined): SubjectAccess['detail'] | null {
  if (!controllers) return detail;
  const covered = Array.isArray(detail.controllers) ? (detail.controllers as unknown[]) : [];
  const inReach = covered.filter((c): c is string => typeof c === 'string' && controllers.includes(c));
  if (inReach.length === 0) return null;
  if (inReach.length === covered.length) return detail;
  return { ...Object.fromEntries(Object.entries(detail).filter(([, v]) => typeof v !== 'number')), controllers: inReach };
}

/** the audit entry for producing an extract: whom it was about (keyed hash) and how much it held */
export function accessLogEvent(
  vault: Vault,
  kind: 'personnummer' | 'phone',
  canonicalValue: string,
  log: SubjectAccessLog,
  covered: readonly string[],
): UnattributedEvent<'subject.access-log'> {
  return {
    action: 'subject.access-log',
    outcome: 'success',
    detail: { [`${kind}Hash`]: vault.audit.identifierHash(kind, canonicalValue), controllers: [...covered], recordings: log.recordings.length, accesses: log.accesses.length },
  };
}
