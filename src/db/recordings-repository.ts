/**
 * The only way the rest of callvault reads or writes recording metadata.
 */
import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Database, RecordingsTable } from './schema.js';
import type { IdentifierKind } from '../identifiers/blind-index.js';

export type RecordingRow = Selectable<RecordingsTable>;
export type NewRecording = Omit<Insertable<RecordingsTable>, 'state' | 'indexed'>;

export interface RecordingPage {
  recordings: RecordingRow[];
  /** pass as `after` for the next page; absent on the last page */
  next?: string;
}

export interface ListFilter {
  controllerIds?: string[];
  limit?: number;
  /** cursor from the previous page */
  after?: string;
}

export class RecordingsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** A pending row reserves the id and the content hash while the object is written. */
  async insertPending(row: NewRecording): Promise<void> {
    await this.db.insertInto('recordings').values({ ...row, state: 'pending', indexed: 0 }).execute();
  }

  async markStored(id: string): Promise<void> {
    await this.db.updateTable('recordings').set({ state: 'stored', writer: null }).where('id', '=', id).execute();
  }

  async findByContent(controllerId: string, contentSha256: string): Promise<RecordingRow | undefined> {
    return this.db
      .selectFrom('recordings')
      .selectAll()
      .where('controller_id', '=', controllerId)
      .where('content_sha256', '=', contentSha256)
      .executeTakeFirst();
  }

  async hasSize(controllerId: string, plaintextSize: number): Promise<boolean> {
    const row = await this.db
      .selectFrom('recordings')
      .select('id')
      .where('controller_id', '=', controllerId)
      .where('plaintext_size', '=', plaintextSize)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** a stored recording; pending ones are invisible */
  async get(id: string): Promise<RecordingRow | undefined> {
    return this.db.selectFrom('recordings').selectAll().where('id', '=', id).where('state', '=', 'stored').executeTakeFirst();
  }

  async list(filter: ListFilter = {}): Promise<RecordingPage> {
    const limit = Math.min(Math.max(filter.limit ?? 50, 1), 1000);
    let q = this.db.selectFrom('recordings').selectAll().where('state', '=', 'stored');
    if (filter.controllerIds) q = q.where('controller_id', 'in', filter.controllerIds.length ? filter.controllerIds : ['']);
    if (filter.after) q = q.where('id', '>', filter.after);
    const rows = await q.orderBy('id').limit(limit + 1).execute();
    const page = rows.slice(0, limit);
    return rows.length > limit ? { recordings: page, next: page[page.length - 1]!.id } : { recordings: page };
  }

  async *all(state: 'stored' | 'any' = 'stored'): AsyncGenerator<RecordingRow> {
    let after = '';
    for (;;) {
      let q = this.db.selectFrom('recordings').selectAll().where('id', '>', after);
      if (state === 'stored') q = q.where('state', '=', 'stored');
      const rows = await q.orderBy('id').limit(500).execute();
      yield* rows;
      if (rows.length < 500) return;
      after = rows[rows.length - 1]!.id;
    }
  }

  /** recordings still being written, or left behind by a writer that died */
  async pending(): Promise<RecordingRow[]> {
    return this.db.selectFrom('recordings').selectAll().where('state', '=', 'pending').execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('recording_identifiers').where('recording_id', '=', id).execute();
      await tx.deleteFrom('recordings').where('id', '=', id).execute();
    });
  }

  async withKey(keyId: string, limit: number): Promise<RecordingRow[]> {
    return this.db.selectFrom('recordings').selectAll().where('key_id', '=', keyId).orderBy('id').limit(limit).execute();
  }

  /** replaces a wrapped data key, only if it is still wrapped to the key it was read with */
  async replaceWrappedKey(id: string, fromKeyId: string, toKeyId: string, wrappedKey: string): Promise<boolean> {
    const r = await this.db
      .updateTable('recordings')
      .set({ key_id: toKeyId, wrapped_key: wrappedKey })
      .where('id', '=', id)
      .where('key_id', '=', fromKeyId)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async countByKey(): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('recordings')
      .select(['key_id', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('key_id')
      .execute();
    return new Map(rows.map((r) => [r.key_id, Number(r.n)]));
  }

  async unindexed(limit: number): Promise<RecordingRow[]> {
    return this.db
      .selectFrom('recordings')
      .selectAll()
      .where('state', '=', 'stored')
      .where('indexed', '=', 0)
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  async setIdentifiers(id: string, identifiers: { kind: IdentifierKind; digest: string }[]): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('recording_identifiers').where('recording_id', '=', id).execute();
      if (identifiers.length) {
        await tx
          .insertInto('recording_identifiers')
          .values(identifiers.map((i) => ({ recording_id: id, kind: i.kind, digest: i.digest })))
          .execute();
      }
      await tx.updateTable('recordings').set({ indexed: 1 }).where('id', '=', id).execute();
    });
  }

  /** stored recordings having any of the given blind-index digests */
  async findByIdentifier(kind: IdentifierKind, digests: string[]): Promise<RecordingRow[]> {
    if (digests.length === 0) return [];
    return this.db
      .selectFrom('recordings')
      .innerJoin('recording_identifiers', 'recording_identifiers.recording_id', 'recordings.id')
      .selectAll('recordings')
      .where('recording_identifiers.kind', '=', kind)
      .where('recording_identifiers.digest', 'in', digests)
      .where('recordings.state', '=', 'stored')
      .orderBy('recordings.id')
      .execute();
  }
}
