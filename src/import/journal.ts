/**
 * The import journal: what `callvault import` stored, by the source file's identity (inode,
 * device, size, modification and change times in nanoseconds), so that a resumed migration of
 * millions of files skips the unchanged ones from the stat it makes anyway, without opening them,
 * instead of hashing every file the size of a stored recording.
 *
 * Crash safety: an entry is written only after its recording is stored (visible, durable), and it
 * is trusted only while that recording is still stored (the lookup joins it); a lost entry costs a
 * hash, never a file. The change time is part of the identity because no one can set it: a file
 * rewritten in place with its modification time put back (`touch -r`), or a new file that reuses a
 * deleted one's inode with a copied modification time (`rsync -a`), is read again. A chmod or a
 * rename changes it too, and makes the file be hashed once more: safe, only slower. A file changed
 * within RACY_MS of its stat is not journaled, as a write in the same clock tick would leave its
 * times as they were (git's "racy" files).
 *
 * The entries hold no path (paths hold phone numbers) and no content hash. They are written in
 * batches, off the store path, and any failure to write them costs speed only: it is told as a warning.
 */
import type { BigIntStats } from 'node:fs';
import { ImportJournalRepository, type ImportJournalRow } from '../db/import-journal-repository.js';
import type { Vault } from '../vault.js';

/** files looked up per query */
const READ_BATCH = 1000;
/** entries written per statement, and how many wait before they are written */
const WRITE_BATCH = 500;
/** a file whose times are this close to its stat may still be changing within one clock tick */
const RACY_MS = 2000;

/**
 * A file's identity as one short string (millions of them are held during a run), or undefined
 * for one too recently changed to be journaled or trusted.
 */
export function fileIdentity(s: BigIntStats, now = Date.now()): string | undefined {
  const changed = Math.max(Number(s.mtimeNs / 1_000_000n), Number(s.ctimeNs / 1_000_000n));
  if (now - changed < RACY_MS) return undefined;
  return `${s.ino}:${s.dev}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

export class ImportJournal {
  readonly #repo: ImportJournalRepository;
  /** the run's files in the order they are imported, by index; loaded batch by batch as the run reaches them */
  readonly #files: readonly (string | undefined)[];
  readonly #batches = new Map<number, Promise<Map<string, ImportJournalRow[]>>>();
  #empty: Promise<boolean> | undefined;
  #pending: ImportJournalRow[] = [];
  #writing: Promise<void> = Promise.resolve();
  #failed = false;

  constructor(vault: Pick<Vault, 'database'>, files: readonly (string | undefined)[]) {
    this.#repo = new ImportJournalRepository(vault.database.db);
    this.#files = files;
  }

  /** the recording the file at `index` was stored as, if it is unchanged since and that recording is stored under `controllerId` */
  async storedAs(index: number, controllerId: string): Promise<string | undefined> {
    const identity = this.#files[index];
    if (!identity) return undefined;
    // a first run looks nothing up
    this.#empty ??= this.#repo.isEmpty().catch(() => true);
    if (await this.#empty) return undefined;
    const batch = Math.floor(index / READ_BATCH);
    let rows = this.#batches.get(batch);
    if (!rows) {
      rows = this.#load(batch);
      this.#batches.set(batch, rows);
      // the run takes its files in order, a few at a time: batches behind the last two are done with
      for (const b of this.#batches.keys()) if (b < batch - 1) this.#batches.delete(b);
    }
    const [ino, dev, size, mtime, ctime] = identity.split(':');
    const entry = (await rows).get(`${ino}:${dev}`)?.find((r) => r.controller_id === controllerId && String(r.size) === size && r.mtime_ns === mtime && r.ctime_ns === ctime);
    return entry?.recording_id;
  }

  /** the file at `index` is stored as `recordingId` (stored now, or found stored before) */
  record(index: number, controllerId: string, recordingId: string): void {
    const identity = this.#files[index];
    if (!identity) return;
    const [inode, device, size, mtime_ns, ctime_ns] = identity.split(':') as [string, string, string, string, string];
    this.#pending.push({ inode, device, controller_id: controllerId, size: Number(size), mtime_ns, ctime_ns, recording_id: recordingId });
    if (this.#pending.length >= WRITE_BATCH) void this.flush();
  }

  /** writes what is recorded so far; never throws (a journal that cannot be written only makes the next run slower) */
  flush(): Promise<void> {
    const rows = this.#pending;
    this.#pending = [];
    if (rows.length > 0) {
      this.#writing = this.#writing.then(() =>
        this.#repo.record(rows).catch(() => {
          this.#failed = true;
        }),
      );
    }
    return this.#writing;
  }

  /** flushes; a warning for the report when entries could not be written */
  async close(): Promise<string | undefined> {
    await this.flush();
    return this.#failed ? 'the import journal could not be written: the next run reads the files again to find what is stored' : undefined;
  }

  async #load(batch: number): Promise<Map<string, ImportJournalRow[]>> {
    const inodes: string[] = [];
    for (const identity of this.#files.slice(batch * READ_BATCH, (batch + 1) * READ_BATCH)) if (identity) inodes.push(identity.slice(0, identity.indexOf(':')));
    const byFile = new Map<string, ImportJournalRow[]>();
    // a journal that cannot be read is an empty one: the files are hashed as without it
    for (const row of await this.#repo.storedByInode(inodes).catch(() => [])) {
      const key = `${row.inode}:${row.device}`;
      byFile.set(key, [...(byFile.get(key) ?? []), row]);
    }
    return byFile;
  }
}
