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

  abstract appendMany(rows: AuditRow[]): Promise<number[]>;
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

  async append(row: AuditRow): Promise<number> {
    return (await this.appendMany([row]))[0]!;
  }

  /** the generic append: the head row's update takes its lock, which orders appenders */
  protected appendInTransaction(rows: AuditRow[]): Promise<number[]> {
    return this.db.transaction().execute(async (tx) => {
      const head = await tx
        .updateTable('audit_head')
        .set((eb) => ({ size: eb('size', '+', rows.length) }))
        .where('id', '=', 1)
        .returning('size')
        .executeTakeFirstOrThrow();
      const first = Number(head.size) - rows.length;
      const seqs = rows.map((_, i) => first + i);
      // PostgreSQL and SQLite bind at most 65535 and 32766 parameters per statement; 10 columns a row
      for (let i = 0; i < rows.length; i += 1000) {
        await tx
          .insertInto('audit_entries')
          .values(rows.slice(i, i + 1000).map((row, j) => ({ seq: first + i + j, ...row })))
          .execute();
      }
      return seqs;
    });
  }
}
