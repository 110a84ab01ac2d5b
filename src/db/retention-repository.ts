/**
 * Retention policies and legal holds (docs/retention.md). What the policies decide runs in
 * src/retention/run.ts; this only reads and writes the rows.
 */
import type { Kysely, Selectable } from 'kysely';
import { sql } from './kysely.js';
import type { Database, HoldDigestsTable, HoldsTable, RetentionPoliciesTable } from './schema.js';

export type RetentionPolicy = Selectable<RetentionPoliciesTable>;
export type HoldRow = Selectable<HoldsTable>;
export type HoldDigest = Selectable<HoldDigestsTable>;

/** the call time retention counts by, as SQL */
const CALL_TIME = sql<string>`coalesce(started_at, imported_at)`;

export class RetentionRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async policies(controllerId?: string): Promise<RetentionPolicy[]> {
    let q = this.db.selectFrom('retention_policies').selectAll().orderBy('controller_id').orderBy('class');
    if (controllerId) q = q.where('controller_id', '=', controllerId);
    return q.execute();
  }

  async setPolicy(policy: RetentionPolicy): Promise<void> {
    await this.db
      .insertInto('retention_policies')
      .values(policy)
      .onConflict((oc) => oc.columns(['controller_id', 'class']).doUpdateSet({ days: policy.days, updated_at: policy.updated_at }))
      .execute();
  }

  /** stored recordings of one class with a call time before `cutoff`, and how many of them are on a hold's key */
  async countBefore(controllerId: string, cls: string, cutoff: string, holdKeyIds: readonly string[]): Promise<{ recordings: number; held: number }> {
    const rows = await this.db
      .selectFrom('recordings')
      .select((eb) => [eb.fn.countAll<number>().as('n'), (holdKeyIds.length ? eb.fn.count<number>('id').filterWhere('key_id', 'in', holdKeyIds) : sql<number>`0`).as('held')])
      .where('controller_id', '=', controllerId)
      .where('retention_class', '=', cls)
      .where('state', '=', 'stored')
      .where(CALL_TIME, '<', cutoff)
      .executeTakeFirstOrThrow();
    return { recordings: Number(rows.n), held: Number(rows.held) };
  }

  /** ids of stored recordings wrapped to `keyId` */
  async idsWithKey(keyId: string): Promise<string[]> {
    return (await this.db.selectFrom('recordings').select('id').where('key_id', '=', keyId).where('state', '=', 'stored').execute()).map((r) => r.id);
  }

  /** ids of one controller's stored recordings wrapped to any of `keyIds` */
  async idsWithKeys(controllerId: string, keyIds: readonly string[]): Promise<string[]> {
    const rows = await this.db
      .selectFrom('recordings')
      .select('id')
      .where('controller_id', '=', controllerId)
      .where('key_id', 'in', keyIds)
      .where('state', '=', 'stored')
      .execute();
    return rows.map((r) => r.id);
  }

  async countWithKey(keyId: string): Promise<number> {
    const r = await this.db
      .selectFrom('recordings')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('key_id', '=', keyId)
      .where('state', '!=', 'erased')
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  // ---- holds

  async addHold(hold: HoldRow, digests: HoldDigest[]): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.insertInto('holds').values(hold).execute();
      if (digests.length) await tx.insertInto('hold_digests').values(digests).execute();
    });
  }

  async holds(options: { active?: boolean } = {}): Promise<HoldRow[]> {
    let q = this.db.selectFrom('holds').selectAll().orderBy('created_at');
    if (options.active) q = q.where('released_at', 'is', null);
    return q.execute();
  }

  async hold(id: string): Promise<HoldRow | undefined> {
    return this.db.selectFrom('holds').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** whether an active hold names one of these digests at this controller */
  async anyHoldDigest(controllerId: string, digests: readonly { kind: string; digest: string }[]): Promise<boolean> {
    for (const d of digests) {
      const hit = await this.db
        .selectFrom('hold_digests')
        .innerJoin('holds', 'holds.id', 'hold_digests.hold_id')
        .select('hold_digests.hold_id')
        .where('hold_digests.controller_id', '=', controllerId)
        .where('hold_digests.kind', '=', d.kind)
        .where('hold_digests.digest', '=', d.digest)
        .where('holds.released_at', 'is', null)
        .executeTakeFirst();
      if (hit) return true;
    }
    return false;
  }

  async release(id: string, at: string, by: string, reason: string): Promise<boolean> {
    const r = await this.db
      .updateTable('holds')
      .set({ released_at: at, released_by: by, release_reason: reason })
      .where('id', '=', id)
      .where('released_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /**
   * The stored recordings of one controller an active hold covers: by id, by a person's digest
   * in the blind indexes, or by agent and call-time window. Each once, with the oldest hold
   * covering it (its key keeps the recording).
   */
  async covered(controllerId: string, holdId?: string): Promise<{ recordingId: string; holdId: string; keyId: string }[]> {
    const active = (await this.holds({ active: true })).filter((h) => !holdId || h.id === holdId);
    const out = new Map<string, { recordingId: string; holdId: string; keyId: string }>();
    for (const h of active) {
      let q = this.db
        .selectFrom('recordings')
        .select(['recordings.id', 'recordings.key_id'])
        .where('recordings.controller_id', '=', controllerId)
        .where('recordings.state', '=', 'stored');
      if (h.kind === 'recording') q = q.where('recordings.id', '=', h.recording_id!);
      else if (h.kind === 'agent') {
        q = q.where('recordings.agent', '=', h.agent!);
        if (h.from_time) q = q.where(CALL_TIME, '>=', h.from_time);
        if (h.to_time) q = q.where(CALL_TIME, '<', h.to_time);
      } else {
        q = q.where('recordings.id', 'in', (eb) =>
          eb
            .selectFrom('recording_identifiers')
            .innerJoin('hold_digests', (j) => j.onRef('hold_digests.digest', '=', 'recording_identifiers.digest').onRef('hold_digests.kind', '=', 'recording_identifiers.kind'))
            .select('recording_identifiers.recording_id')
            .where('hold_digests.hold_id', '=', h.id)
            .where('hold_digests.controller_id', '=', controllerId),
        );
      }
      for (const r of await q.execute()) if (!out.has(r.id)) out.set(r.id, { recordingId: r.id, holdId: h.id, keyId: r.key_id });
    }
    return [...out.values()];
  }
}
