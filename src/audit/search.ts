/**
 * The auditor's search of the audit log: entries by action, outcome, actor, recording and time,
 * newest first, a page at a time, through the columns copied out of each entry (docs/audit-log.md,
 * "Searching the log"). At the 2019 archive's tens of millions of entries every filter is served
 * by an index: (action, seq), (actor_id, seq), (actor_name, seq), (recording_id, seq), (time, seq),
 * the partial (outcome, seq) of the entries that are not `success`, and the seq order itself. A
 * page reads about `limit` rows per index it walks; a time window first reads the seqs it spans
 * from the (time, seq) index alone, which costs in proportion to the entries in the window.
 *
 * The columns are conveniences and not trusted: each entry in a page is parsed from its own bytes
 * and its columns recomputed from them, and an entry whose bytes do not match the filters is left
 * out. So a tampered column can hide an entry from a search (`audit verify` reports that as
 * `search-column`) but never show one that does not match. Nor is a row shown whose text is not
 * an event append could have written (no time, action, outcome or actor): only a forged row is
 * one, and verify, not the search, speaks for those.
 */
import type { Kysely } from 'kysely';
import { sql } from '../db/kysely.js';
import type { Database } from '../db/schema.js';
import { columnsOf, type AuditOutcome, type EntryColumns, type StoredEntry } from './audit-log.js';

export const SEARCH_DEFAULT_LIMIT = 50;
export const SEARCH_MAX_LIMIT = 200;

/** an action name, or a prefix of one ending in a dot (`recording.`: recording.play, recording.view, …) */
export const ACTION_PATTERN = '^[a-z][a-z0-9-]*(\\.[a-z0-9-]+)*\\.?$';
/** user and token ids; an actor filter of this form is an id, anything else a name */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface AuditSearchFilters {
  /** an action, exactly; or, ending in a dot, every action under that prefix */
  action?: string;
  outcome?: AuditOutcome;
  /** a user or token id (a UUID), else an actor's name as the entry records it: username, token name, the CLI's OS user, a background job */
  actor?: string;
  recordingId?: string;
  /** the entry's time ≥ from (ISO 8601; compared as instants) */
  from?: string;
  /** the entry's time < to */
  to?: string;
}

export interface FoundEntry extends StoredEntry {
  /** the entry parsed */
  event: Record<string, unknown> & { v: number; time: string; action: string; outcome: string; actor: Record<string, unknown> & { type: string } };
}

export interface AuditSearchPage {
  /** newest first */
  entries: FoundEntry[];
  /** more may match: pass it as `before` for the next page */
  next?: number;
}

/** the bound as the entries write time: ISO 8601 UTC with milliseconds, so strings compare as instants */
function instant(value: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new TypeError(`not a date-time: ${value}`);
  return new Date(ms).toISOString();
}

/** which column an actor filter compares, and with what */
export function actorFilter(actor: string): { column: 'actor_id' | 'actor_name'; value: string } {
  return UUID.test(actor) ? { column: 'actor_id', value: actor } : { column: 'actor_name', value: actor };
}

/** the members every event append writes, of the types it writes them */
function isEvent(e: unknown): e is FoundEntry['event'] {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return false;
  const { v, time, action, outcome, actor } = e as Record<string, unknown>;
  return (
    Number.isSafeInteger(v) &&
    typeof time === 'string' &&
    typeof action === 'string' &&
    typeof outcome === 'string' &&
    typeof actor === 'object' &&
    actor !== null &&
    typeof (actor as Record<string, unknown>).type === 'string'
  );
}

/**
 * The distinct actions starting with `prefix` (which ends in a dot), in byte order: one index seek
 * each, however many entries they have. Every name under `recording.` lies in [`recording.`,
 * `recording/`) in byte order, which both databases use for this column (migration 0007).
 */
export async function actionsUnder(db: Kysely<Database>, prefix: string): Promise<string[]> {
  const end = `${prefix.slice(0, -1)}/`;
  const result = await sql<{ action: string }>`
    WITH RECURSIVE found(action) AS (
      SELECT min(action) FROM audit_entries WHERE action >= ${prefix} AND action < ${end}
      UNION ALL
      SELECT (SELECT min(a.action) FROM audit_entries a WHERE a.action > found.action AND a.action < ${end}) FROM found WHERE found.action IS NOT NULL
    )
    SELECT action FROM found WHERE action IS NOT NULL`.execute(db);
  return result.rows.map((r) => r.action);
}

/** whether an entry's own columns match the filters (the bounds already as instants) */
function matches(c: EntryColumns, f: AuditSearchFilters, from?: string, to?: string): boolean {
  if (f.action !== undefined && (f.action.endsWith('.') ? !c.action?.startsWith(f.action) : c.action !== f.action)) return false;
  if (f.outcome !== undefined && c.outcome !== f.outcome) return false;
  if (f.actor !== undefined) {
    const { column, value } = actorFilter(f.actor);
    if (c[column] !== value) return false;
  }
  if (f.recordingId !== undefined && c.recording_id !== f.recordingId) return false;
  if (from !== undefined && (c.time === null || c.time < from)) return false;
  if (to !== undefined && (c.time === null || c.time >= to)) return false;
  return true;
}

/**
 * One page of the entries below `before` (an index; the log's size when absent) that match every
 * filter, newest first. `size` is the log's size: rows beyond it (only a tampered database has
 * any) are never shown.
 */
export async function searchAuditLog(db: Kysely<Database>, filters: AuditSearchFilters, page: { size: number; before?: number; limit?: number }): Promise<AuditSearchPage> {
  const limit = Math.max(1, Math.min(SEARCH_MAX_LIMIT, page.limit ?? SEARCH_DEFAULT_LIMIT));
  const from = filters.from === undefined ? undefined : instant(filters.from);
  const to = filters.to === undefined ? undefined : instant(filters.to);
  let below = Math.min(page.before ?? page.size, page.size);
  let lowest = 0;
  // a window ending after the newest entry (`to` now, say) is open at that end (one index seek)
  const newest =
    to === undefined
      ? undefined
      : (
          await db
            .selectFrom('audit_entries')
            .select((eb) => eb.fn.max('time').as('t'))
            .executeTakeFirst()
        )?.t;
  const end = to !== undefined && newest != null && to <= newest ? to : undefined;
  if (from !== undefined || end !== undefined) {
    // The seqs of the window's entries, from the (time, seq) index alone: this costs in proportion
    // to the entries in the window, and then the page is read in seq order between these bounds.
    // Times follow seqs only roughly (clocks, concurrent appenders), so only bounds read this way
    // are exact. Without them a page would go through every entry written after the window (the
    // plan PostgreSQL picks for a LIMIT, assuming the matches spread evenly), or down to the first
    // entry of the log for the last page, or sort the window (SQLite's plan).
    // (`seq + 0`: PostgreSQL would answer min(seq) and max(seq) by walking the primary key from
    // either end until a row falls in the window, the plan to avoid.)
    const seq = sql<number>`seq + 0`;
    let w = db.selectFrom('audit_entries').select((eb) => [eb.fn.min(seq).as('lo'), eb.fn.max(seq).as('hi')]);
    if (from !== undefined) w = w.where('time', '>=', from);
    if (end !== undefined) w = w.where('time', '<', end);
    const { lo, hi } = await w.executeTakeFirstOrThrow();
    if (lo === null || hi === null) return { entries: [] };
    lowest = Number(lo);
    below = Math.min(below, Number(hi) + 1);
  }
  if (below <= lowest) return { entries: [] };

  const query = (action: string | undefined) => {
    let q = db.selectFrom('audit_entries').select(['seq', 'entry', 'leaf_hash']).where('seq', '<', below);
    if (lowest > 0) q = q.where('seq', '>=', lowest);
    if (action !== undefined) q = q.where('action', '=', action);
    if (filters.outcome !== undefined) {
      q = q.where('outcome', '=', filters.outcome);
      // the literal term of the partial index's WHERE: SQLite uses a partial index only for a
      // query that names it (PostgreSQL proves it from the equality too)
      if (filters.outcome !== 'success') q = q.where(sql<boolean>`outcome <> 'success'`);
    }
    if (filters.actor !== undefined) {
      const { column, value } = actorFilter(filters.actor);
      q = q.where(column, '=', value);
    }
    if (filters.recordingId !== undefined) q = q.where('recording_id', '=', filters.recordingId);
    // The time index has done its work in the bounds: the window's terms are written so that no
    // database reads through it again (SQLite would, and sort the window) instead of reading the
    // rows in seq order. Byte order still: the expression keeps the column's collation.
    const time = sql<string>`${sql.ref('time')} || ''`;
    if (from !== undefined) q = q.where(time, '>=', from);
    if (to !== undefined) q = q.where(time, '<', to);
    return q
      .orderBy('seq', 'desc')
      .limit(limit + 1)
      .execute();
  };
  let rows: Awaited<ReturnType<typeof query>>;
  if (filters.action?.endsWith('.')) {
    // A prefix: the few actions under it, then each read newest first through (action, seq) and
    // the pages merged. A range over the action index would have to sort every entry under the
    // prefix (most of the log for `recording.`) to find the newest.
    const actions = await actionsUnder(db, filters.action);
    const pages = await Promise.all(actions.map((a) => query(a)));
    rows = pages
      .flat()
      .sort((a, b) => Number(b.seq) - Number(a.seq))
      .slice(0, limit + 1);
  } else {
    rows = await query(filters.action);
  }
  const more = rows.length > limit;
  const shown = rows.slice(0, limit);
  const entries: FoundEntry[] = [];
  for (const row of shown) {
    let event: unknown;
    try {
      event = JSON.parse(row.entry);
    } catch {
      continue;
    }
    if (!isEvent(event) || !matches(columnsOf(event), filters, from, to)) continue;
    entries.push({ index: Number(row.seq), entry: Buffer.from(row.entry, 'utf8'), leafHash: Buffer.from(row.leaf_hash, 'hex'), event });
  }
  return more ? { entries, next: Number(shown[shown.length - 1]!.seq) } : { entries };
}
