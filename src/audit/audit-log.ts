/**
 * The audit log: an append-only sequence of canonical entries (docs/audit-log.md). Each entry's
 * RFC 9162 leaf hash is stored beside it so the Merkle tree over the log can be recomputed
 * without re-encoding. Appending takes the single `audit_head` row in the same transaction, which
 * serialises appenders across processes on SQLite and PostgreSQL alike: positions have no gaps and
 * no forks.
 *
 * Callers append before they serve. When appending fails, the caller fails too (fail closed):
 * the HTTP layer answers 503 and serves nothing.
 */
import { createHmac } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { CallvaultError, ErrorCodes } from '../errors.js';
import type { Database } from '../db/schema.js';
import type { MetadataDatabase } from '../db/database.js';
import { leafHash } from './merkle.js';

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

export interface AuditEvent {
  /** dotted name, e.g. `recording.play`, `auth.signin` */
  action: string;
  outcome: AuditOutcome;
  actor: AuditActor;
  recordingId?: string;
  controllerId?: string;
  purpose?: string;
  purposeText?: string;
  breakGlassId?: string;
  /** anything else the event needs (filters, byte ranges, target ids); never a plaintext identifier */
  detail?: Record<string, AuditValue>;
  ip?: string;
  requestId?: string;
}

interface EntryRow extends EntryColumns {
  entry: string;
  leaf_hash: string;
}

export interface StoredEntry {
  index: number;
  entry: Buffer;
  leafHash: Buffer;
}

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

export function encodeEntry(event: AuditEvent, time: Date): Buffer {
  return Buffer.from(canonicalJson({ v: 1, time: time.toISOString(), ...event }), 'utf8');
}

/** the search columns (docs/audit-log.md): copied out of the entry so an auditor's search is an index lookup */
export interface SearchColumns {
  time: string | null;
  action: string | null;
  outcome: string | null;
  actor_id: string | null;
  actor_name: string | null;
}

/** every column stored beside an entry that is copied out of it; `audit verify` checks them all */
export interface EntryColumns extends SearchColumns {
  recording_id: string | null;
  identifier_hash: string | null;
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
  private readonly appendSqlite?: (row: EntryRow) => number;
  private readonly touchSqlite?: () => void;
  private readonly listeners = new Set<AppendListener>();
  /** the latest append through this log in this process: whether it was written, and when */
  lastAppend?: { ok: boolean; at: Date };

  constructor(
    private readonly database: MetadataDatabase,
    /** the key of the identifier hashes, from the installation secret; absent while locked */
    private readonly identifierKey: () => Buffer | undefined,
  ) {
    const sqlite = database.sqlite;
    if (sqlite) {
      // Prepared once: Kysely's SQLite driver prepares every statement again, which costs as
      // much as the durable commit itself (docs/benchmarks.md). IMMEDIATE takes the write lock
      // at BEGIN, so a second process waits (busy_timeout) instead of failing to upgrade.
      const bump = sqlite.prepare('UPDATE audit_head SET size = size + 1 WHERE id = 1 RETURNING size');
      const insert = sqlite.prepare(
        'INSERT INTO audit_entries (seq, entry, leaf_hash, recording_id, identifier_hash, time, action, outcome, actor_id, actor_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      const append = sqlite.transaction((row: EntryRow) => {
        const index = Number((bump.get() as { size: number }).size) - 1;
        insert.run(index, row.entry, row.leaf_hash, row.recording_id, row.identifier_hash, row.time, row.action, row.outcome, row.actor_id, row.actor_name);
        return index;
      });
      this.appendSqlite = (row) => append.immediate(row);
      const touch = sqlite.prepare('UPDATE audit_head SET size = size WHERE id = 1');
      const probe = sqlite.transaction(() => touch.run());
      this.touchSqlite = () => probe.immediate();
    }
  }

  private get db(): Kysely<Database> {
    return this.database.db;
  }

  /** appends one event and returns its index; throws AuditUnavailableError when it cannot */
  async append(event: AuditEvent, time = new Date()): Promise<number> {
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
  async probe(busyMs: number): Promise<void> {
    const sqlite = this.database.sqlite;
    if (sqlite && this.touchSqlite && !sqlite.inTransaction) {
      const previous = sqlite.pragma('busy_timeout', { simple: true }) as number;
      sqlite.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyMs))}`);
      try {
        this.touchSqlite();
      } finally {
        sqlite.pragma(`busy_timeout = ${previous}`);
      }
      return;
    }
    await sql`UPDATE audit_head SET size = size WHERE id = 1`.execute(this.db);
  }

  private async write(event: AuditEvent, time: Date): Promise<number> {
    const entry = encodeEntry(event, time);
    const text = entry.toString('utf8');
    const row: EntryRow = { entry: text, leaf_hash: leafHash(entry).toString('hex'), ...entryColumns(text) };
    try {
      // The prepared path runs synchronously, so nothing interleaves with it; it is skipped while
      // a Kysely transaction holds the connection, which it would otherwise join.
      if (this.appendSqlite && !this.database.sqlite!.inTransaction) return this.appendSqlite(row);
      if (this.database.dialect === 'postgres') {
        // one statement, one round trip: the head row's lock still orders appenders
        const result = await sql<{ seq: number }>`
          WITH head AS (UPDATE audit_head SET size = size + 1 WHERE id = 1 RETURNING size)
          INSERT INTO audit_entries (seq, entry, leaf_hash, recording_id, identifier_hash, "time", action, outcome, actor_id, actor_name)
          SELECT size - 1, ${row.entry}, ${row.leaf_hash}, ${row.recording_id}, ${row.identifier_hash}, ${row.time}, ${row.action}, ${row.outcome}, ${row.actor_id}, ${row.actor_name} FROM head
          RETURNING seq`.execute(this.db);
        return Number(result.rows[0]!.seq);
      }
      return await this.db.transaction().execute(async (tx) => {
        const head = await tx
          .updateTable('audit_head')
          .set((eb) => ({ size: eb('size', '+', 1) }))
          .where('id', '=', 1)
          .returning('size')
          .executeTakeFirstOrThrow();
        const index = Number(head.size) - 1;
        await tx.insertInto('audit_entries').values({ seq: index, ...row }).execute();
        return index;
      });
    } catch (err) {
      throw new AuditUnavailableError(err);
    }
  }

  async size(): Promise<number> {
    const head = await this.db.selectFrom('audit_head').select('size').where('id', '=', 1).executeTakeFirstOrThrow();
    return Number(head.size);
  }

  /** entries with from ≤ index < to */
  async entries(from: number, to: number): Promise<StoredEntry[]> {
    const rows = await this.db.selectFrom('audit_entries').selectAll().where('seq', '>=', from).where('seq', '<', to).orderBy('seq').execute();
    return rows.map((r) => ({ index: Number(r.seq), entry: Buffer.from(r.entry, 'utf8'), leafHash: Buffer.from(r.leaf_hash, 'hex') }));
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
