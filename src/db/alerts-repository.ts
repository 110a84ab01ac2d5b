/**
 * Alerts of the insider-misuse detector, where it stands in the log, and the controllers'
 * thresholds (docs/alerts.md).
 */
import type { Kysely, Selectable } from 'kysely';
import type { AlertsTable, Database } from './schema.js';

export type AlertRow = Selectable<AlertsTable>;

export interface AlertFilter {
  state?: 'open' | 'closed';
  rule?: string;
  limit?: number;
}

export class AlertsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async byDedupKey(key: string): Promise<AlertRow | undefined> {
    return this.db.selectFrom('alerts').selectAll().where('dedup_key', '=', key).executeTakeFirst();
  }

  async get(id: string): Promise<AlertRow | undefined> {
    return this.db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async insert(row: AlertRow): Promise<void> {
    await this.db.insertInto('alerts').values(row).execute();
  }

  async merge(id: string, changes: Pick<AlertRow, 'evidence' | 'evidence_facts' | 'entries' | 'recordings' | 'controllers' | 'updated_at'>): Promise<void> {
    await this.db.updateTable('alerts').set(changes).where('id', '=', id).execute();
  }

  async resolve(id: string, changes: Pick<AlertRow, 'outcome' | 'note' | 'resolved_by' | 'resolved_at'>): Promise<boolean> {
    const r = await this.db
      .updateTable('alerts')
      .set({ ...changes, state: 'closed', updated_at: changes.resolved_at! })
      .where('id', '=', id)
      .where('state', '=', 'open')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async list(filter: AlertFilter): Promise<AlertRow[]> {
    let q = this.db.selectFrom('alerts').selectAll().orderBy('created_at', 'desc').orderBy('id');
    if (filter.state) q = q.where('state', '=', filter.state);
    if (filter.rule) q = q.where('rule', '=', filter.rule);
    return q.limit(filter.limit ?? 1000).execute();
  }

  /** the next audit position the detector evaluates; undefined before its first run */
  async position(name: string): Promise<number | undefined> {
    const row = await this.db.selectFrom('detector_state').select('position').where('name', '=', name).executeTakeFirst();
    return row ? Number(row.position) : undefined;
  }

  /**
   * The log's size from its entries, not its head: the head row is what an append locks, and a
   * poll must never wait behind one (PostgreSQL) or a lock held on it.
   */
  async logEnd(): Promise<number> {
    const row = await this.db
      .selectFrom('audit_entries')
      .select((eb) => eb.fn.max('seq').as('last'))
      .executeTakeFirst();
    return row?.last === null || row?.last === undefined ? 0 : Number(row.last) + 1;
  }

  async setPosition(name: string, position: number): Promise<void> {
    const updated_at = new Date().toISOString();
    await this.db
      .insertInto('detector_state')
      .values({ name, position, updated_at })
      .onConflict((oc) => oc.column('name').doUpdateSet({ position, updated_at }))
      .execute();
  }

  async settings(controllerId: string): Promise<Record<string, unknown>> {
    const row = await this.db.selectFrom('alert_settings').select('settings').where('controller_id', '=', controllerId).executeTakeFirst();
    return row ? (JSON.parse(row.settings) as Record<string, unknown>) : {};
  }

  async setSettings(controllerId: string, settings: Record<string, unknown>): Promise<void> {
    const text = JSON.stringify(settings);
    const updated_at = new Date().toISOString();
    await this.db
      .insertInto('alert_settings')
      .values({ controller_id: controllerId, settings: text, updated_at })
      .onConflict((oc) => oc.column('controller_id').doUpdateSet({ settings: text, updated_at }))
      .execute();
  }

  /** the first audit position at or after `time` (the log's size when none is) */
  async positionAt(time: Date): Promise<number | undefined> {
    const row = await this.db.selectFrom('audit_entries').select('seq').where('time', '>=', time.toISOString()).orderBy('seq').limit(1).executeTakeFirst();
    return row ? Number(row.seq) : undefined;
  }
}
