/**
 * The audit log on SQLite. The two statements of an append are prepared once: Kysely's SQLite
 * driver prepares every statement again, which costs as much as the durable commit itself
 * (docs/benchmarks.md). IMMEDIATE takes the write lock at BEGIN, so a second process waits
 * (busy_timeout) instead of failing to upgrade.
 */
import type { Kysely } from 'kysely';
import { sql } from '../../db/kysely.js';
import type SQLite from 'better-sqlite3';
import type { Database } from '../../db/schema.js';
import type { AuditRow } from './audit-store.js';
import type { SqliteWriter } from '../../db/sqlite-writer.js';
import { SqlAuditStore } from './sql-audit-store.js';
import { preparedAuditAppend } from './sqlite-append.js';

export class SqliteAuditStore extends SqlAuditStore {
  private readonly appendPrepared: (rows: AuditRow[]) => number[];
  private readonly touchPrepared: () => void;

  constructor(
    db: Kysely<Database>,
    private readonly sqlite: SQLite.Database,
    /** the writer thread, when this process started one (src/db/sqlite-writer.ts) */
    private readonly writer: () => SqliteWriter | undefined = () => undefined,
  ) {
    super(db);
    this.appendPrepared = preparedAuditAppend(sqlite);
    const touch = sqlite.prepare('UPDATE audit_head SET size = size WHERE id = 1');
    const probe = sqlite.transaction(() => touch.run());
    this.touchPrepared = () => probe.immediate();
  }

  async appendMany(rows: AuditRow[]): Promise<number[]> {
    const writer = this.writer();
    if (writer) return writer.appendAudit(rows);
    // The prepared path runs synchronously, so nothing interleaves with it; it is skipped while
    // a Kysely transaction holds the connection, which it would otherwise join.
    if (!this.sqlite.inTransaction) return this.appendPrepared(rows);
    return this.appendInTransaction(rows);
  }

  /**
   * SQLite writes nothing for an unchanged row, so a full disk or failing journal does not fail
   * this probe; a writer holding the lock past `busyMs` does (the wait blocks the thread).
   */
  async probe(busyMs: number): Promise<void> {
    if (this.sqlite.inTransaction) {
      await sql`UPDATE audit_head SET size = size WHERE id = 1`.execute(this.db);
      return;
    }
    const previous = this.sqlite.pragma('busy_timeout', { simple: true }) as number;
    this.sqlite.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyMs))}`);
    try {
      this.touchPrepared();
    } finally {
      this.sqlite.pragma(`busy_timeout = ${previous}`);
    }
  }
}
