/**
 * Purpose-bound access grants (one user, one recording, a stated purpose, minutes long) and
 * break-the-glass periods.
 */
import type { Kysely, Selectable } from 'kysely';
import type { AccessGrantsTable, BreakGlassTable, Database } from './schema.js';
import { type SqliteWriter, writeDurably } from './sqlite-writer.js';

export type AccessGrant = Selectable<AccessGrantsTable>;
export type BreakGlassRow = Selectable<BreakGlassTable>;

export class GrantsRepository {
  constructor(
    private readonly db: Kysely<Database>,
    /** the SQLite writer thread, when this process started one: stating a purpose does not stop other requests */
    private readonly writer: () => SqliteWriter | undefined = () => undefined,
  ) {}

  async addGrant(grant: AccessGrant): Promise<void> {
    await writeDurably(this.writer(), this.db.insertInto('access_grants').values(grant));
  }

  async grant(id: string): Promise<AccessGrant | undefined> {
    return this.db.selectFrom('access_grants').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async addBreakGlass(row: BreakGlassRow): Promise<void> {
    await this.db.insertInto('break_glass').values(row).execute();
  }

  async breakGlass(id: string): Promise<BreakGlassRow | undefined> {
    return this.db.selectFrom('break_glass').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async activeBreakGlass(userId: string, now: string): Promise<BreakGlassRow[]> {
    return this.db.selectFrom('break_glass').selectAll().where('user_id', '=', userId).where('expires_at', '>', now).execute();
  }

  /** ends a period that is still in force now; false when it was over already */
  async endBreakGlass(id: string, at: string): Promise<boolean> {
    const r = await this.db.updateTable('break_glass').set({ expires_at: at }).where('id', '=', id).where('expires_at', '>', at).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async breakGlassList(filter: { unreviewed?: boolean; controllerIds?: string[] } = {}): Promise<BreakGlassRow[]> {
    let q = this.db.selectFrom('break_glass').selectAll();
    if (filter.unreviewed) q = q.where('reviewed_at', 'is', null);
    if (filter.controllerIds) q = q.where('controller_id', 'in', filter.controllerIds.length ? filter.controllerIds : ['']);
    return q.orderBy('started_at', 'desc').limit(500).execute();
  }

  async review(id: string, reviewer: string, note: string, at: string): Promise<boolean> {
    const r = await this.db
      .updateTable('break_glass')
      .set({ reviewed_at: at, reviewed_by: reviewer, review_note: note })
      .where('id', '=', id)
      .where('reviewed_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }
}
