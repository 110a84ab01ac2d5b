/**
 * Audit entries as the detector reads them: parsed once, with the fields its rules use, typed by
 * the catalogue's action names.
 */
import { RECORDING_READS, type AuditAction } from '../audit/catalogue.js';
import type { StoredEntry } from '../audit/audit-log.js';

export interface ReadEntry {
  position: number;
  time: Date;
  action: AuditAction;
  outcome: 'success' | 'denied' | 'failure';
  actor: { type: string; id?: string; name?: string; role?: string };
  recordingId?: string;
  controllerId?: string;
  purpose?: string;
  breakGlassId?: string;
  detail: Record<string, unknown>;
}

/** what reaches a recording's content or metadata: each is an access for the rules */
export const ACCESS_ACTIONS: ReadonlySet<AuditAction> = new Set<AuditAction>(RECORDING_READS);

/** searches by a person's identifier: their entries carry the identifier's keyed hash */
export const SEARCH_ACTIONS: ReadonlySet<AuditAction> = new Set<AuditAction>(['recordings.list', 'subject.find', 'subject.export', 'subject.access-log']);

export function readEntry(stored: StoredEntry): ReadEntry {
  const e = JSON.parse(stored.entry.toString('utf8')) as Record<string, unknown>;
  return {
    position: stored.index,
    time: new Date(e.time as string),
    action: e.action as AuditAction,
    outcome: e.outcome as ReadEntry['outcome'],
    actor: (e.actor as ReadEntry['actor']) ?? { type: 'anonymous' },
    recordingId: e.recordingId as string | undefined,
    controllerId: e.controllerId as string | undefined,
    purpose: e.purpose as string | undefined,
    breakGlassId: e.breakGlassId as string | undefined,
    detail: (e.detail as Record<string, unknown>) ?? {},
  };
}

/** the account an entry is about, as the detector keys it: a user's id, or the host's operator */
export function accountKey(entry: ReadEntry): string | undefined {
  if (entry.actor.type === 'user' && entry.actor.id) return entry.actor.id;
  if (entry.actor.type === 'cli') return `cli:${entry.actor.name ?? 'operator'}`;
  return undefined;
}

/** the identifier hash a search named, if it named one */
export function searchedIdentifier(entry: ReadEntry): string | undefined {
  const h = entry.detail.personnummerHash ?? entry.detail.phoneHash;
  return typeof h === 'string' ? h : undefined;
}
