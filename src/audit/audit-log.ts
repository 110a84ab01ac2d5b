/**
 * The audit log: an append-only sequence of canonical entries (docs/audit-log.md). Each entry's
 * RFC 9162 leaf hash is stored beside it so the Merkle tree over the log can be recomputed
 * without re-encoding. The rows live in an `AuditStore` (storage/), one per database, whose append
 * takes the single `audit_head` row in the same transaction: positions have no gaps and no forks,
 * across processes too. Every event is checked against the catalogue (catalogue.ts) first.
 *
 * Callers append before they serve. When appending fails, the caller fails too (fail closed):
 * the HTTP layer answers 503 and serves nothing.
 */
import { createHmac } from 'node:crypto';
import { CallvaultError, ErrorCodes } from '../errors.js';
import { leafHash } from './merkle.js';
import { GroupCommit } from '../util/group-commit.js';
import { catalogueProblem, type ActionFields, type AuditAction, type RefusableAction } from './catalogue.js';
export type { RefusableAction } from './catalogue.js';
import type { AuditRow, AuditStore, EntryColumns, StoredEntry } from './storage/audit-store.js';

export type AuditOutcome = 'success' | 'denied' | 'failure';

export interface AuditActor {
  type: 'user' | 'token' | 'cli' | 'anonymous' | 'system';
  id?: string;
  /** username, token name or operating-system user */
  name?: string;
  role?: string;
}

/** Values an entry may carry: strings, whole numbers, booleans, and objects of them. */
export type AuditValue = string | number | boolean | null | { [key: string]: AuditValue } | AuditValue[];

type Flatten<T> = { [K in keyof T]: T[K] };

/**
 * One event. `action` is a catalogued name (src/audit/catalogue.ts) and the rest is checked
 * against it: `detail` holds the fields that action declares, never a plaintext identifier, and
 * the top-level recordingId, controllerId, purpose, purposeText and breakGlassId only where the
 * action uses them. Without a type argument, the union over every action.
 */
export type AuditEvent<A extends AuditAction = AuditAction> = A extends AuditAction
  ? Flatten<
      {
        outcome: AuditOutcome;
        actor: AuditActor;
        /** client address (HTTP) */
        ip?: string;
        requestId?: string;
      } & ActionFields<A>
    >
  : never;

/**
 * Any entry the canonical encoding can write, catalogued or not: the format does not depend on
 * the catalogue (test vectors, benchmarks and tampering tests write entries of their own). Only
 * `AuditLog.append` writes to the log, and it takes an `AuditEvent`.
 */
export interface EncodableEvent {
  action: string;
  outcome: AuditOutcome;
  actor: AuditActor;
  recordingId?: string;
  controllerId?: string;
  purpose?: string;
  purposeText?: string;
  breakGlassId?: string;
  detail?: Record<string, AuditValue>;
  ip?: string;
  requestId?: string;
}

/** an event before the caller is filled in (actor, address, request id) */
export type UnattributedEvent<A extends AuditAction = AuditAction> = A extends AuditAction ? Flatten<Omit<AuditEvent<A>, 'actor' | 'ip' | 'requestId'>> : never;

/** `event` as `who` did it */
export function attributed(event: UnattributedEvent, who: Pick<AuditEvent, 'actor' | 'ip' | 'requestId'>): AuditEvent {
  // the spread of a union this wide is not followed by the type checker; it is the same event plus who
  return { ...event, ...who } as AuditEvent;
}

/** the refusal of `action` for `reason`, as an event; every refusable action declares `reason` */
export function refusal(action: RefusableAction, reason: string): UnattributedEvent {
  // the type cannot follow a union this wide, but RefusableAction is exactly the actions with `reason`
  return { action, outcome: 'denied', detail: { reason } } as UnattributedEvent;
}

export type { AuditAction, AuditDetail } from './catalogue.js';
export type { EntryColumns, SearchColumns, StoredEntry } from './storage/audit-store.js';

export class AuditUnavailableError extends CallvaultError {
  constructor(cause: unknown) {
    super(ErrorCodes.AUDIT_UNAVAILABLE, 'the audit log cannot be written, so nothing is served', { cause });
  }
}

/**
 * Canonical JSON: object keys sorted by code unit, no insignificant whitespace, integers only,
 * undefined members left out. The same event always gives the same bytes.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError('audit entries hold whole numbers only');
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const members = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`);
    return `{${members.join(',')}}`;
  }
  throw new TypeError(`audit entries cannot hold ${typeof value}`);
}

export function encodeEntry(event: AuditEvent | EncodableEvent, time: Date): Buffer {
  return Buffer.from(canonicalJson({ v: 1, time: time.toISOString(), ...event }), 'utf8');
}

/**
 * A string as the databases store and give it back: a lone surrogate becomes U+FFFD (both
 * drivers write UTF-8) and so does U+0000 (PostgreSQL's text cannot hold it). Only strings
 * written by hand into an entry can hold either; without this they would fail the insert on
 * PostgreSQL, or read back different from the entry and be reported by verify.
 */
function storable(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  return /[\0\ud800-\udfff]/.test(value) ? Buffer.from(value, 'utf8').toString('utf8').replaceAll('\0', '\ufffd') : value;
}

/**
 * The columns stored beside an entry, from its text alone, with one JSON.parse: what `append`
 * writes, the 0007 migration backfilled (with its own copy, src/db/migrations.ts) and `audit
 * verify` expects. A member that is absent or not a string gives null. Throws when the text is
 * not a JSON object (append never writes one).
 */
export function entryColumns(entry: string): EntryColumns {
  return columnsOf(JSON.parse(entry));
}

/** `entryColumns` of an entry already parsed; throws unless it is an object */
export function columnsOf(e: unknown): EntryColumns {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new TypeError('an audit entry is a JSON object');
  const { recordingId, detail, time, action, outcome, actor } = e as Record<string, unknown>;
  const d = typeof detail === 'object' && detail !== null ? (detail as Record<string, unknown>) : {};
  const a = typeof actor === 'object' && actor !== null ? (actor as Record<string, unknown>) : {};
  return {
    recording_id: storable(recordingId),
    identifier_hash: storable(d.personnummerHash ?? d.phoneHash),
    time: storable(time),
    action: storable(action),
    outcome: storable(outcome),
    actor_id: storable(a.id),
    actor_name: storable(a.name),
  };
}

/** told of each append: whether it was written, and how long it took */
export type AppendListener = (ok: boolean, seconds: number) => void;

export class AuditLog {
  private readonly listeners = new Set<AppendListener>();
  /** the latest append through this log in this process: whether it was written, and when */
  lastAppend?: { ok: boolean; at: Date };

  /** the appends of concurrent callers share one transaction (src/util/group-commit.ts) */
  private readonly appends: GroupCommit<AuditRow, number>;

  constructor(
    private readonly store: AuditStore,
    /** the key of the identifier hashes, from the installation secret; absent while locked */
    private readonly identifierKey: () => Buffer | undefined,
  ) {
    this.appends = new GroupCommit((rows) => store.appendMany(rows));
  }

  /**
   * Appends one event and returns its index; throws AuditUnavailableError when it cannot. An
   * event the catalogue does not allow (an action not in it, a field it does not declare) is a
   * programming error: CV_INTERNAL, thrown before anything is written.
   */
  async append<A extends AuditAction>(event: AuditEvent<A>, time = new Date()): Promise<number> {
    const problem = catalogueProblem(event);
    if (problem) throw new CallvaultError(ErrorCodes.INTERNAL, problem);
    const started = performance.now();
    try {
      const index = await this.write(event, time);
      this.appended(true, started);
      return index;
    } catch (err) {
      // an event that cannot be encoded is the caller's mistake, not the log's state
      if (err instanceof AuditUnavailableError) this.appended(false, started);
      throw err;
    }
  }

  private appended(ok: boolean, started: number): void {
    this.lastAppend = { ok, at: new Date() };
    const seconds = (performance.now() - started) / 1000;
    for (const listener of this.listeners) listener(ok, seconds);
  }

  /** `listener` hears of every append through this log: whether it was written and how long it took */
  onAppend(listener: AppendListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /**
   * Whether an append could be written now, without adding an entry (readiness, docs/deployment.md):
   * an update of the head row that leaves it as it was, committed. It waits for the lock every
   * append takes, so a writer stuck holding it fails the probe (by the caller's timeout), and so
   * does a database that refuses writes (closed, read-only, a PostgreSQL standby). PostgreSQL
   * writes and flushes a new row version, so a full WAL disk fails it too; SQLite writes nothing
   * for an unchanged row, so a full disk or failing journal does not. Neither writes an entry
   * row, so readiness also weighs the outcome of the latest real append (`lastAppend`).
   * `busyMs` bounds SQLite's wait for another process's write lock, which blocks the thread.
   */
  probe(busyMs: number): Promise<void> {
    return this.store.probe(busyMs);
  }

  private async write(event: AuditEvent, time: Date): Promise<number> {
    const entry = encodeEntry(event, time);
    const text = entry.toString('utf8');
    const row: AuditRow = { entry: text, leaf_hash: leafHash(entry).toString('hex'), ...entryColumns(text) };
    try {
      return await this.appends.submit(row);
    } catch (err) {
      throw new AuditUnavailableError(err);
    }
  }

  size(): Promise<number> {
    return this.store.size();
  }

  /** entries with from ≤ index < to */
  entries(from: number, to: number): Promise<StoredEntry[]> {
    return this.store.entries(from, to);
  }

  /**
   * The keyed hash under which an identifier appears in the log: HMAC-SHA256 over kind ‖ 0x00 ‖
   * canonical value, keyed from the installation secret. Authorised staff compute it for a value
   * to search the log; the log alone does not reveal the value.
   */
  identifierHash(kind: 'personnummer' | 'phone', canonicalValue: string): string {
    const key = this.identifierKey();
    if (!key) throw new CallvaultError(ErrorCodes.KEYS_LOCKED, 'identifier hashes need the unlocked keyring');
    return createHmac('sha256', key).update(kind).update(Buffer.of(0)).update(canonicalValue, 'utf8').digest('hex');
  }
}
