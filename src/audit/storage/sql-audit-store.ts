/**
 * What the SQLite and PostgreSQL audit stores share: the reads, which are the same SQL on both.
 * Appending differs (one prepared transaction on SQLite, one statement on PostgreSQL) and is left
 * to each.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { AuditRow, AuditStore, StoredEntry } from './audit-store.js';

export abstract class SqlAuditStore implements AuditStore {
  constructor(protected readonly db: Kysely<Database>) {}

  abstract append(row: AuditRow): Promise<number>;
  abstract probe(busyMs: number): Promise<void>;

  async size(): Promise<number> {
    const head = await this.db.selectFrom('audit_head').select('size').where('id', '=', 1).executeTakeFirstOrThrow();
    return Number(head.size);
  }

  async entries(from: number, to: number): Promise<StoredEntry[]> {
    const rows = await this.db.selectFrom('audit_entries').select(['seq', 'entry', 'leaf_hash']).where('seq', '>=', from).where('seq', '<', to).orderBy('seq').execute();
    return rows.map((r) => ({ index: Number(r.seq), entry: Buffer.from(r.entry, 'utf8'), leafHash: Buffer.from(r.leaf_hash, 'hex') }));
  }

  async leafHashes(from: number, to: number): Promise<Buffer[]> {
    if (to <= from) return [];
    const rows = await this.db.selectFrom('audit_entries').select(['seq', 'leaf_hash']).where('seq', '>=', from).where('seq', '<', to).orderBy('seq').execute();
    if (rows.length !== to - from || rows.some((r, i) => Number(r.seq) !== from + i)) {
      throw new Error(`audit entries ${from}..${to} are not all present`);
    }
    return rows.map((r) => Buffer.from(r.leaf_hash, 'hex'));
  }

  /** the generic append: the head row's update takes its lock, which orders appenders */
  protected appendInTransaction(row: AuditRow): Promise<number> {
    return this.db.transaction().execute(async (tx) => {
      const head = await tx
        .updateTable('audit_head')
        .set((eb) => ({ size: eb('size', '+', 1) }))
        .where('id', '=', 1)
        .returning('size')
        .executeTakeFirstOrThrow();
      const index = Number(head.size) - 1;
      await tx
        .insertInto('audit_entries')
        .values({ seq: index, ...row })
        .execute();
      return index;
    });
  }
}
