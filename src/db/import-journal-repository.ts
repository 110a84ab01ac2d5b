/**
 * The import journal (src/import/journal.ts): which source file, by its identity as stat gives it,
 * became which recording.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Database, ImportJournalTable } from './schema.js';

export type ImportJournalRow = Selectable<ImportJournalTable>;

/** 7 parameters a row: far below SQLite's 32,766 a statement */
const WRITE_BATCH = 1000;

export class ImportJournalRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async isEmpty(): Promise<boolean> {
    return !(await this.db.selectFrom('import_journal').select('inode').limit(1).executeTakeFirst());
  }

  /**
   * The entries of these inodes whose recording is stored now: one that was erased, shredded or
   * never became visible is no reason to skip a file.
   */
  async storedByInode(inodes: readonly string[]): Promise<ImportJournalRow[]> {
    if (inodes.length === 0) return [];
    return this.db
      .selectFrom('import_journal as j')
      .innerJoin('recordings as r', (join) => join.onRef('r.id', '=', 'j.recording_id').onRef('r.controller_id', '=', 'j.controller_id'))
      .select(['j.inode', 'j.device', 'j.controller_id', 'j.size', 'j.mtime_ns', 'j.ctime_ns', 'j.recording_id'])
      .where('j.inode', 'in', [...new Set(inodes)])
      .where('r.state', '=', 'stored')
      .execute();
  }

  /** one statement per WRITE_BATCH rows; a file recorded again (changed, then stored anew) replaces its entry */
  async record(rows: readonly ImportJournalRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += WRITE_BATCH) {
      // the last entry of a file in the batch wins, as one statement may not touch a row twice
      const batch = [...new Map(rows.slice(i, i + WRITE_BATCH).map((r) => [`${r.inode}:${r.device}:${r.controller_id}`, r])).values()];
      await this.db
        .insertInto('import_journal')
        .values(batch)
        .onConflict((oc) =>
          oc.columns(['inode', 'device', 'controller_id']).doUpdateSet((eb) => ({
            size: eb.ref('excluded.size'),
            mtime_ns: eb.ref('excluded.mtime_ns'),
            ctime_ns: eb.ref('excluded.ctime_ns'),
            recording_id: eb.ref('excluded.recording_id'),
          })),
        )
        .execute();
    }
  }
}
