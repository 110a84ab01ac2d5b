/**
 * The only way the rest of callvault reads or writes recording metadata.
 */
import type { Insertable, Kysely, Selectable } from 'kysely';
import { sql } from './kysely.js';
import { CallvaultError, ErrorCodes } from '../errors.js';
import type { Scope } from '../policy/policy.js';
import type { Database, DestroyedIdentifiersTable, RecordingRenditionsTable, RecordingsTable, RedactionState } from './schema.js';
import type { IdentifierKind } from '../identifiers/blind-index.js';
import { keepSubjectLinks } from '../recordings/destroyed.js';
import { GroupCommit } from '../util/group-commit.js';

export type RecordingRow = Selectable<RecordingsTable>;
export type NewRecording = Omit<Insertable<RecordingsTable>, 'state' | 'indexed'>;
export type RenditionRow = Selectable<RecordingRenditionsTable>;

/** the writes a writer thread does for this repository (src/db/sqlite-writer.ts) */
export interface RecordingWriter {
  insertPending(rows: NewRecording[]): Promise<void>;
  markStored(ids: string[]): Promise<boolean[]>;
}

/** what examining a recording's transcript for identifiers came to (src/redaction) */
export interface RedactionRecord {
  state: Exclude<RedactionState, 'pending'>;
  problem: string | null;
  /** set when the transcript came from a transcription service during this examination */
  sealedTranscript?: string;
  sealedRedactedTranscript: string | null;
  sealedDetections: string | null;
  /** the redacted audio, its object already durable */
  rendition?: RenditionRow;
}

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

/** a search on behalf of someone whose reach the policy has turned into scopes */
export interface ScopedSearch {
  scopes: readonly Scope[];
  /** ISO 8601; on the call's start time (its import time when the recorder gave none) */
  from?: string;
  to?: string;
  region?: string;
  agent?: string;
  direction?: string;
  /** blind-index digests of one identifier, one per controller in scope */
  identifier?: { kind: IdentifierKind; digests: string[] };
  limit?: number;
  cursor?: string;
}

const callTime = sql<string>`coalesce(started_at, imported_at)`;
/** recordings per statement when erasing: 2 parameters each in the debris update, far below SQLite's 32766 */
const ERASE_BATCH = 500;

export class RecordingsRepository {
  /**
   * The two writes of every stored recording, each shared by the recordings being stored at the
   * same moment (an import's files, concurrent uploads): one durable commit for many of them.
   */
  // one statement each: a batch of 256 rows of about 25 columns stays far below SQLite's 32766 parameters
  readonly #pending = new GroupCommit<NewRecording, void>(async (rows) => {
    const writer = this.writer();
    if (writer) return writer.insertPending(rows).then(() => rows.map(() => undefined));
    await this.db
      .insertInto('recordings')
      .values(rows.map((row) => ({ ...row, state: 'pending' as const, indexed: 0 })))
      .execute();
    return rows.map(() => undefined);
  }, 256);
  readonly #stored = new GroupCommit<string, boolean>(async (ids) => {
    const writer = this.writer();
    if (writer) return writer.markStored(ids);
    const rows = await this.db.updateTable('recordings').set({ state: 'stored', writer: null }).where('id', 'in', ids).where('state', '=', 'pending').returning('id').execute();
    const updated = new Set(rows.map((r) => r.id));
    return ids.map((id) => updated.has(id));
  }, 256);

  constructor(
    private readonly db: Kysely<Database>,
    /** the SQLite writer thread, when this process started one (src/db/sqlite-writer.ts) */
    private readonly writer: () => RecordingWriter | undefined = () => undefined,
  ) {}

  /** A pending row reserves the id and the content hash while the object is written. */
  insertPending(row: NewRecording): Promise<void> {
    return this.#pending.submit(row);
  }

  /**
   * Stored recordings whose objects are already durable, with their blind indexes, in one
   * transaction: for moving an existing archive's metadata in (and the scale benchmark), where
   * one commit per recording would cost more than the rows themselves.
   */
  async loadStored(rows: NewRecording[], identifiers: { recording_id: string; kind: IdentifierKind; digest: string }[]): Promise<void> {
    // SQLite binds at most 32766 parameters per statement
    const chunk = <T>(list: T[], size: number) => Array.from({ length: Math.ceil(list.length / size) }, (_, i) => list.slice(i * size, (i + 1) * size));
    await this.db.transaction().execute(async (tx) => {
      for (const part of chunk(rows, 500))
        await tx
          .insertInto('recordings')
          .values(part.map((r) => ({ ...r, state: 'stored' as const, indexed: 1 })))
          .execute();
      for (const part of chunk(identifiers, 5000)) await tx.insertInto('recording_identifiers').values(part).execute();
    });
  }

  /** one controller's recordings whose call time lies in [from, to), oldest first, after the one given: retention's work list */
  async callsBetween(controllerId: string, from: string, to: string, limit: number, after?: { time: string; id: string }): Promise<{ id: string; time: string }[]> {
    let q = this.db
      .selectFrom('recordings')
      .select(['id', callTime.as('time')])
      .where('controller_id', '=', controllerId)
      .where('state', '!=', 'erased')
      .where(callTime, '>=', from)
      .where(callTime, '<', to);
    if (after) q = q.where((eb) => eb.or([eb(callTime, '>', after.time), eb.and([eb(callTime, '=', after.time), eb('id', '>', after.id)])]));
    return q.orderBy(callTime).orderBy('id').limit(limit).execute();
  }

  /**
   * Makes a pending attempt a stored recording, if it is still pending: false when it is not (a
   * housekeeper judged its writer dead and removed or completed it). Throws on the unique index
   * when another attempt stored the same content first.
   */
  markStored(id: string): Promise<boolean> {
    return this.#stored.submit(id);
  }

  /** the stored recording with this content, if any; pending attempts do not count */
  async findByContent(controllerId: string, contentSha256: string): Promise<RecordingRow | undefined> {
    return this.db
      .selectFrom('recordings')
      .selectAll()
      .where('controller_id', '=', controllerId)
      .where('content_sha256', '=', contentSha256)
      .where('state', '=', 'stored')
      .executeTakeFirst();
  }

  /** the row of an attempt in whatever state it is now (stored, still pending, or undefined when removed) */
  async attempt(id: string): Promise<Pick<RecordingRow, 'id' | 'state'> | undefined> {
    return this.db.selectFrom('recordings').select(['id', 'state']).where('id', '=', id).executeTakeFirst();
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
    const rows = await q
      .orderBy('id')
      .limit(limit + 1)
      .execute();
    const page = rows.slice(0, limit);
    return rows.length > limit ? { recordings: page, next: page[page.length - 1]!.id } : { recordings: page };
  }

  /** newest first; only recordings inside at least one scope */
  async search(search: ScopedSearch): Promise<RecordingPage> {
    const limit = Math.min(Math.max(search.limit ?? 50, 1), 500);
    if (search.scopes.length === 0) return { recordings: [] };
    let q = this.db
      .selectFrom('recordings')
      .selectAll()
      .where('state', '=', 'stored')
      .where((eb) =>
        eb.or(
          search.scopes.map((s) => {
            const terms = [eb('controller_id', '=', s.controllerId)];
            if (s.regions) terms.push(eb('region', 'in', s.regions.length ? [...s.regions] : ['']));
            if (s.agents) terms.push(eb('agent', 'in', s.agents.length ? [...s.agents] : ['']));
            return eb.and(terms);
          }),
        ),
      );
    if (search.from) q = q.where(callTime, '>=', search.from);
    if (search.to) q = q.where(callTime, '<', search.to);
    if (search.region) q = q.where('region', '=', search.region);
    if (search.agent) q = q.where('agent', '=', search.agent);
    if (search.direction) q = q.where('direction', '=', search.direction);
    if (search.identifier) {
      const { kind, digests } = search.identifier;
      q = q.where('id', 'in', (eb) =>
        eb
          .selectFrom('recording_identifiers')
          .select('recording_id')
          .where('kind', '=', kind)
          .where('digest', 'in', digests.length ? digests : ['']),
      );
    }
    if (search.cursor) {
      const [time, id] = decodeCursor(search.cursor);
      q = q.where((eb) => eb.or([eb(callTime, '<', time), eb.and([eb(callTime, '=', time), eb('id', '<', id)])]));
    }
    const rows = await q
      .orderBy(callTime, 'desc')
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .execute();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return rows.length > limit && last ? { recordings: page, next: encodeCursor(last.started_at ?? last.imported_at, last.id) } : { recordings: page };
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
      await tx.deleteFrom('recording_renditions').where('recording_id', '=', id).execute();
      await tx.deleteFrom('recordings').where('id', '=', id).execute();
    });
  }

  /** removes an attempt that never became a recording; a row that is no longer pending is left alone */
  async deleteAttempt(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('recordings').where('id', '=', id).where('state', '=', 'pending').executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }

  async setRetentionClass(id: string, cls: string): Promise<void> {
    await this.db.updateTable('recordings').set({ retention_class: cls }).where('id', '=', id).where('state', '=', 'stored').execute();
  }

  /**
   * `after`: only ids after it, for walking a key's recordings in batches; `classNot`: only those
   * whose retention class is not this one (moved to another class since they were wrapped)
   */
  async withKey(keyId: string, limit: number, after = '', filter: { classNot?: string } = {}): Promise<RecordingRow[]> {
    // an erased recording's data key is destroyed: nothing to rewrap
    let q = this.db.selectFrom('recordings').selectAll().where('key_id', '=', keyId).where('state', '!=', 'erased').where('id', '>', after);
    if (filter.classNot !== undefined) q = q.where('retention_class', '!=', filter.classNot);
    return q.orderBy('id').limit(limit).execute();
  }

  /**
   * replaces a wrapped data key, only if it is still wrapped to the key it was read with, and
   * never on an erased recording (a rewrap that read the key before the erasure must not restore it)
   */
  async replaceWrappedKey(id: string, fromKeyId: string, toKeyId: string, wrappedKey: string): Promise<boolean> {
    const r = await this.db
      .updateTable('recordings')
      .set({ key_id: toKeyId, wrapped_key: wrappedKey })
      .where('id', '=', id)
      .where('key_id', '=', fromKeyId)
      .where('state', '!=', 'erased')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** data keys wrapped to each controller key: erased recordings hold none; `stored` leaves out pending ones too */
  async countByKey(state: 'stored' | 'any' = 'any'): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('recordings')
      .select(['key_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('state', state === 'stored' ? '=' : '!=', state === 'stored' ? 'stored' : 'erased')
      .groupBy('key_id')
      .execute();
    return new Map(rows.map((r) => [r.key_id, Number(r.n)]));
  }

  async unindexed(limit: number): Promise<RecordingRow[]> {
    return this.db.selectFrom('recordings').selectAll().where('state', '=', 'stored').where('indexed', '=', 0).orderBy('id').limit(limit).execute();
  }

  async setIdentifiers(id: string, identifiers: { kind: IdentifierKind; digest: string }[]): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      // the row first: it locks it, and an indexer that read the recording before it was erased
      // writes no blind index for the tombstone
      const r = await tx.updateTable('recordings').set({ indexed: 1 }).where('id', '=', id).where('state', '!=', 'erased').executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) return;
      await tx.deleteFrom('recording_identifiers').where('recording_id', '=', id).execute();
      if (identifiers.length) {
        await tx
          .insertInto('recording_identifiers')
          .values(identifiers.map((i) => ({ recording_id: id, kind: i.kind, digest: i.digest })))
          .execute();
      }
    });
  }

  /** stored recordings having any of the given blind-index digests */
  async findByIdentifier(kinds: IdentifierKind | IdentifierKind[], digests: string[]): Promise<(RecordingRow & { kind: IdentifierKind })[]> {
    if (digests.length === 0) return [];
    return this.db
      .selectFrom('recordings')
      .innerJoin('recording_identifiers', 'recording_identifiers.recording_id', 'recordings.id')
      .selectAll('recordings')
      .select('recording_identifiers.kind as kind')
      .where('recording_identifiers.kind', 'in', Array.isArray(kinds) ? kinds : [kinds])
      .where('recording_identifiers.digest', 'in', digests)
      .where('recordings.state', '=', 'stored')
      .orderBy('recordings.id')
      .execute() as Promise<(RecordingRow & { kind: IdentifierKind })[]>;
  }

  /**
   * destroyed recordings of the given controllers linked to any of the given blind-index digests
   * (src/recordings/destroyed.ts): for the person's access log only
   */
  async destroyedByIdentifier(
    kinds: IdentifierKind[],
    digests: string[],
    controllerIds: readonly string[],
  ): Promise<Omit<Selectable<DestroyedIdentifiersTable>, 'kind' | 'digest'>[]> {
    if (digests.length === 0 || controllerIds.length === 0) return [];
    return this.db
      .selectFrom('destroyed_identifiers')
      .select(['recording_id', 'controller_id', 'started_at', 'destruction', 'destroyed_at'])
      .distinct()
      .where('kind', 'in', kinds)
      .where('digest', 'in', digests)
      .where('controller_id', 'in', [...controllerIds])
      .orderBy('recording_id')
      .execute();
  }

  /** stored recordings whose redaction is in one of `states`, oldest id first */
  async awaitingRedaction(states: readonly RedactionState[], limit: number, after = ''): Promise<RecordingRow[]> {
    return this.db
      .selectFrom('recordings')
      .selectAll()
      .where('state', '=', 'stored')
      .where('redaction', 'in', [...states])
      .where('id', '>', after)
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  /** stored recordings by redaction state */
  async redactionCounts(): Promise<Partial<Record<RedactionState, number>>> {
    const rows = await this.db
      .selectFrom('recordings')
      .select(['redaction', (eb) => eb.fn.countAll<number>().as('n')])
      .where('state', '=', 'stored')
      .groupBy('redaction')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.redaction, Number(r.n)]));
  }

  async rendition(recordingId: string): Promise<RenditionRow | undefined> {
    return this.db.selectFrom('recording_renditions').selectAll().where('recording_id', '=', recordingId).where('kind', '=', 'redacted').executeTakeFirst();
  }

  async renditions(): Promise<RenditionRow[]> {
    return this.db.selectFrom('recording_renditions').selectAll().orderBy('id').execute();
  }

  /**
   * Records a redaction in one transaction: the new rendition replaces any earlier one.
   * Returns the blob keys of renditions replaced, for the caller to delete once this commits.
   */
  async saveRedaction(id: string, record: RedactionRecord): Promise<string[]> {
    return this.db.transaction().execute(async (tx) => {
      // the row first: it locks it, and an examination that began before the recording was
      // erased saves nothing; its new rendition object is handed back for deletion
      const updated = await tx
        .updateTable('recordings')
        .set({
          redaction: record.state,
          redaction_problem: record.problem,
          sealed_redacted_transcript: record.sealedRedactedTranscript,
          sealed_detections: record.sealedDetections,
          ...(record.sealedTranscript ? { sealed_transcript: record.sealedTranscript } : {}),
        })
        .where('id', '=', id)
        .where('state', '!=', 'erased')
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) return record.rendition ? [record.rendition.blob_key] : [];
      const old = await tx.selectFrom('recording_renditions').select('blob_key').where('recording_id', '=', id).execute();
      await tx.deleteFrom('recording_renditions').where('recording_id', '=', id).execute();
      if (record.rendition) await tx.insertInto('recording_renditions').values(record.rendition).execute();
      return old.map((r) => r.blob_key).filter((k) => k !== record.rendition?.blob_key);
    });
  }

  /**
   * Attaches a transcript (sealed) to a stored recording, in one transaction: the recording goes
   * back to `pending` and whatever an earlier transcript gave is dropped with it (the redacted
   * transcript, the identifiers' spans, the redacted rendition), so nothing made from another
   * transcript is served until this one is examined. Without `replace` only a recording that has
   * no transcript takes one. Returns false when nothing was changed (no such stored recording,
   * or one with a transcript), and the blob keys of renditions dropped, for the caller to delete.
   */
  async attachTranscript(id: string, sealedTranscript: string, replace: boolean): Promise<{ attached: boolean; blobKeys: string[] }> {
    return this.db.transaction().execute(async (tx) => {
      let update = tx
        .updateTable('recordings')
        .set({
          sealed_transcript: sealedTranscript,
          redaction: 'pending',
          redaction_problem: null,
          sealed_redacted_transcript: null,
          sealed_detections: null,
        })
        .where('id', '=', id)
        .where('state', '=', 'stored');
      if (!replace) update = update.where('sealed_transcript', 'is', null);
      const updated = await update.executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) return { attached: false, blobKeys: [] };
      const old = await tx.selectFrom('recording_renditions').select('blob_key').where('recording_id', '=', id).execute();
      await tx.deleteFrom('recording_renditions').where('recording_id', '=', id).execute();
      return { attached: true, blobKeys: old.map((r) => r.blob_key) };
    });
  }

  /** marks recordings to be examined again (a new detector, a transcription service configured) */
  async resetRedaction(states: readonly RedactionState[]): Promise<number> {
    const r = await this.db
      .updateTable('recordings')
      .set({ redaction: 'pending' })
      .where('redaction', 'in', [...states])
      .where('state', '!=', 'erased')
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /**
   * Erases stored recordings in one transaction (crypto-shredding, docs/subject-rights.md): the
   * wrapped data key and every sealed field are cleared, the blind indexes deleted (but for the
   * person links the access log keeps: keepSubjectLinks), renditions and access grants deleted,
   * the content hash replaced (a tombstone must not fingerprint the audio, nor make a later
   * import of the same file a "duplicate" of nothing). The row stays, state
   * `erased`, so audit entries naming its id still resolve. Returns the recordings erased now
   * (those already erased, or not stored, are left alone) and the blob keys to delete, which
   * the row keeps in `erasure_debris` until they are deleted (`setErasureDebris`).
   */
  /** `shredded`: retention erased them by destroying their period's key (CV_SHREDDED from then on) */
  async erase(ids: readonly string[], at: string, options: { shredded?: boolean } = {}): Promise<{ id: string; blobKeys: string[] }[]> {
    if (ids.length === 0) return [];
    return this.db.transaction().execute(async (tx) => {
      const erased: { id: string; blobKeys: string[] }[] = [];
      // set-based, ERASE_BATCH recordings per statement: a month's shredding is tens of thousands
      for (let i = 0; i < ids.length; i += ERASE_BATCH) {
        const batch = ids.slice(i, i + ERASE_BATCH);
        // the rows first: their locks order this after a redaction or rewrap that holds one, so
        // the renditions read below are all there are
        const rows = await tx
          .updateTable('recordings')
          .set({
            state: 'erased',
            wrapped_key: '',
            sealed_metadata: '',
            sealed_transcript: null,
            sealed_redacted_transcript: null,
            sealed_detections: null,
            redaction_problem: null,
            content_sha256: sql<string>`${'erased:'} || id`,
            writer: null,
            erased_at: at,
            shredded_at: options.shredded ? at : null,
          })
          .where('id', 'in', batch)
          .where('state', '=', 'stored')
          .returning(['id', 'blob_key'])
          .execute();
        if (rows.length === 0) continue;
        const done = rows.map((r) => r.id);
        const renditions = await tx.selectFrom('recording_renditions').select(['recording_id', 'blob_key']).where('recording_id', 'in', done).execute();
        const blobKeys = new Map(rows.map((r) => [r.id, [r.blob_key]]));
        for (const r of renditions) blobKeys.get(r.recording_id)!.push(r.blob_key);
        await keepSubjectLinks(tx, done, options.shredded ? 'shredded' : 'erased', at);
        await tx.deleteFrom('recording_renditions').where('recording_id', 'in', done).execute();
        await tx.deleteFrom('access_grants').where('recording_id', 'in', done).execute();
        // the import journal's entries of them: their files are read again if imported again
        await tx.deleteFrom('import_journal').where('recording_id', 'in', done).execute();
        await tx
          .updateTable('recordings')
          .set({
            erasure_debris: sql<string>`CASE id ${sql.join(
              done.map((id) => sql`WHEN ${id} THEN ${JSON.stringify(blobKeys.get(id))}`),
              sql` `,
            )} END`,
          })
          .where('id', 'in', done)
          .execute();
        // in the order asked for, as the per-recording erasure gave them
        const order = new Map(batch.map((id, k) => [id, k]));
        for (const id of done.sort((a, b) => order.get(a)! - order.get(b)!)) erased.push({ id, blobKeys: blobKeys.get(id)! });
      }
      return erased;
    });
  }

  /** an erased recording's tombstone: what the policy needs to tell whether it was in reach */
  async tombstone(id: string): Promise<Pick<RecordingRow, 'id' | 'controller_id' | 'region' | 'agent' | 'erased_at' | 'shredded_at'> | undefined> {
    return this.db
      .selectFrom('recordings')
      .select(['id', 'controller_id', 'region', 'agent', 'erased_at', 'shredded_at'])
      .where('id', '=', id)
      .where('state', '=', 'erased')
      .executeTakeFirst();
  }

  /** erased recordings whose objects are not all deleted yet, by id, after `after` */
  async erasureDebris(limit = 1000, after = ''): Promise<{ id: string; blobKeys: string[] }[]> {
    const rows = await this.db
      .selectFrom('recordings')
      .select(['id', 'erasure_debris'])
      .where('state', '=', 'erased')
      .where('erasure_debris', 'is not', null)
      .where('id', '>', after)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ id: r.id, blobKeys: JSON.parse(r.erasure_debris!) as string[] }));
  }

  /** erased recordings whose objects are all deleted: one statement per ERASE_BATCH of them */
  async clearErasureDebris(ids: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += ERASE_BATCH) {
      await this.db
        .updateTable('recordings')
        .set({ erasure_debris: null })
        .where('id', 'in', ids.slice(i, i + ERASE_BATCH))
        .where('state', '=', 'erased')
        .execute();
    }
  }

  /** what is left of an erased recording's objects after a round of deletes; none left clears the column */
  async setErasureDebris(id: string, remaining: readonly string[]): Promise<void> {
    await this.db
      .updateTable('recordings')
      .set({ erasure_debris: remaining.length ? JSON.stringify(remaining) : null })
      .where('id', '=', id)
      .where('state', '=', 'erased')
      .execute();
  }
}

function encodeCursor(time: string, id: string): string {
  return Buffer.from(JSON.stringify([time, id]), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string') return [v[0], v[1]];
  } catch {
    // fall through
  }
  throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'the cursor is not one this server gave out');
}
