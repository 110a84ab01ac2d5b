/**
 * The SQLite append of a group of audit entries, prepared once on a connection: the head moves by
 * the group's size and the entries take the positions before it, in one IMMEDIATE transaction.
 * Used by the store on the main connection and by the writer thread on its own (src/db/sqlite-writer.ts).
 */
import type SQLite from 'better-sqlite3';
import type { AuditRow } from './audit-store.js';

export function preparedAuditAppend(sqlite: SQLite.Database): (rows: AuditRow[]) => number[] {
  const bump = sqlite.prepare('UPDATE audit_head SET size = size + ? WHERE id = 1 RETURNING size');
  const insert = sqlite.prepare(
    'INSERT INTO audit_entries (seq, entry, leaf_hash, recording_id, identifier_hash, time, action, outcome, actor_id, actor_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const append = sqlite.transaction((rows: AuditRow[]) => {
    const first = Number((bump.get(rows.length) as { size: number }).size) - rows.length;
    return rows.map((row, i) => {
      insert.run(first + i, row.entry, row.leaf_hash, row.recording_id, row.identifier_hash, row.time, row.action, row.outcome, row.actor_id, row.actor_name);
      return first + i;
    });
  });
  return (rows) => append.immediate(rows);
}
