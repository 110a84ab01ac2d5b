/**
 * The audit log on PostgreSQL: an append is one statement, so one round trip and one commit; a
 * group of entries is one transaction of two statements.
 */
import { sql } from '../../db/kysely.js';
import type { AuditRow } from './audit-store.js';
import { SqlAuditStore } from './sql-audit-store.js';

export class PostgresAuditStore extends SqlAuditStore {
  override async append(row: AuditRow): Promise<number> {
    // the head row's lock still orders appenders
    const result = await sql<{ seq: number }>`
      WITH head AS (UPDATE audit_head SET size = size + 1 WHERE id = 1 RETURNING size)
      INSERT INTO audit_entries (seq, entry, leaf_hash, recording_id, identifier_hash, "time", action, outcome, actor_id, actor_name)
      SELECT size - 1, ${row.entry}, ${row.leaf_hash}, ${row.recording_id}, ${row.identifier_hash}, ${row.time}, ${row.action}, ${row.outcome}, ${row.actor_id}, ${row.actor_name} FROM head
      RETURNING seq`.execute(this.db);
    return Number(result.rows[0]!.seq);
  }

  async appendMany(rows: AuditRow[]): Promise<number[]> {
    if (rows.length === 1) return [await this.append(rows[0]!)];
    return this.appendInTransaction(rows);
  }

  /** writes and flushes a new row version, so a full WAL disk or a standby fails it */
  async probe(): Promise<void> {
    await sql`UPDATE audit_head SET size = size WHERE id = 1`.execute(this.db);
  }
}
