/**
 * Where the audit log's rows live. One implementation per database (SQLite, PostgreSQL), chosen
 * once where the database is opened (src/db/database.ts); `AuditLog` uses only this interface.
 * Every implementation passes test/audit/audit-store.contract.ts.
 *
 * The store knows nothing of events or their encoding: it is given the canonical entry text, its
 * leaf hash and the columns copied out of it, and keeps them at the next position.
 */

/** one entry as stored: the canonical text, its RFC 9162 leaf hash in hex, the copied-out columns */
export interface AuditRow extends EntryColumns {
  entry: string;
  leaf_hash: string;
}

export interface StoredEntry {
  index: number;
  entry: Buffer;
  leafHash: Buffer;
}

export interface AuditStore {
  /**
   * Stores the row at the next position (the log's size) and returns that position, in one
   * transaction with the head: positions have no gaps and no forks, across processes too.
   * Throws when it cannot, and then nothing of the row is stored.
   */
  append(row: AuditRow): Promise<number>;
  /**
   * Stores the rows at the next positions, in order, in one transaction: all of them or none.
   * Returns their positions. What a group commit of many callers' entries uses (src/audit/audit-log.ts).
   */
  appendMany(rows: AuditRow[]): Promise<number[]>;
  /**
   * Whether an append could be written now, without adding an entry (readiness): a committed
   * update of the head that leaves it as it was. `busyMs` bounds the wait for another process's
   * write lock where that wait blocks the thread (SQLite).
   */
  probe(busyMs: number): Promise<void>;
  /** the number of entries: the head */
  size(): Promise<number>;
  /** entries with from ≤ index < to, in order */
  entries(from: number, to: number): Promise<StoredEntry[]>;
  /** stored leaf hashes for from ≤ index < to, in order; throws when any is missing */
  leafHashes(from: number, to: number): Promise<Buffer[]>;
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
