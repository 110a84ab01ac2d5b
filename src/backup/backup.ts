/**
 * `callvault backup`: a consistent copy of an embedded data directory (SQLite and DATA/objects)
 * taken while it is in use (docs/deployment.md, Backup and restore).
 *
 * Order, and why: the database first, through SQLite's backup API, so the copy is one state of it
 * whatever `serve` or an import writes meanwhile. The objects to copy are then read from the
 * SNAPSHOT's rows: an object written later belongs to a row the snapshot does not have, and a
 * committed object is never rewritten, only deleted (erasure, a redaction made again), so what is
 * copied is what the snapshot names, or it is gone and reported as missing. The keyring is read
 * last: it only ever gains keys, so a copy taken after the snapshot holds every key its rows need.
 * Everything is written to DIR.partial and renamed at the end.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from '../db/kysely.js';
import { CallvaultError, ErrorCodes } from '../errors.js';
import type { ServiceEvent } from '../services/audit-trail.js';
import { AuditTree } from '../audit/tree.js';
import type { Database } from '../db/schema.js';
import { FileBlobStore } from '../storage/file-blob-store.js';
import { writeFileAtomic } from '../util/fs.js';
import type { Vault } from '../vault.js';
import {
  assertNewDirectory,
  BACKUP_FORMAT,
  completePartial,
  CONFIG_FILE,
  copyFileChecked,
  copyObject,
  DATABASE_FILE,
  digestFile,
  KEY_FILES,
  makePartial,
  MANIFEST_FILE,
  type BackupManifest,
  type MissingObject,
  type ObjectEntry,
} from './manifest.js';

export interface BackupOptions {
  out: string;
  /** also copy DATA/keys/keyring.json and audit-signing.key */
  includeKeyring: boolean;
  /** appends an audit entry as the operator's (BackupService: through the AuditTrail) */
  record: (event: ServiceEvent) => Promise<void>;
  /** runs once the snapshot is taken and logged, before any object is copied (tests change the vault here) */
  afterSnapshot?: () => Promise<void>;
}

export interface BackupReport {
  out: string;
  backupId: string;
  takenAt: string;
  schema: string;
  audit: BackupManifest['audit'];
  /** objects copied, and their bytes */
  objects: number;
  bytes: number;
  /** recordings being written at the snapshot, not in the backup */
  pending: number;
  missing: MissingObject[];
  keyring: boolean;
}

/** the largest step better-sqlite3 accepts: the whole database in one step */
const ALL_PAGES = 0x7fffffff;

/** one line naming the documented procedure for the deployments this command does not cover */
export function embeddedOnly(): CallvaultError {
  return new CallvaultError(
    ErrorCodes.USAGE,
    'backup covers the embedded SQLite database and object directory only: with PostgreSQL (CALLVAULT_DATABASE_URL) or S3 (CALLVAULT_BLOB_URL) use pg_basebackup with WAL archiving and bucket versioning or replication, as docs/deployment.md (Backup and restore) describes',
  );
}

export async function backupVault(vault: Vault, options: BackupOptions): Promise<BackupReport> {
  const live = vault.database.sqlite;
  if (!live || vault.blobs.kind !== 'file') throw embeddedOnly();
  if (options.includeKeyring && vault.config.keyring !== 'data-dir') {
    throw new CallvaultError(ErrorCodes.USAGE, 'the keys of this data directory are not in it (CALLVAULT_KMS): back them up by their own procedure (docs/deployment.md)');
  }
  const out = resolve(options.out);
  const data = resolve(vault.dataDir);
  if (out === data || out.startsWith(data + sep)) throw new CallvaultError(ErrorCodes.USAGE, 'put the backup outside the data directory');
  await assertNewDirectory(out, 'the backup directory');
  const partial = await makePartial(out, 'backup');
  let loggedAs: string | undefined;
  try {
    const snapshot = await takeSnapshot(live, join(partial, DATABASE_FILE));
    const backupId = randomUUID();
    // logged before any object is copied; the snapshot does not hold this entry, the live log does
    await options.record({
      action: 'vault.backup',
      outcome: 'success',
      detail: { backupId, objects: snapshot.objects.length, auditSize: snapshot.audit.size, keyring: options.includeKeyring },
    });
    loggedAs = backupId;
    await options.afterSnapshot?.();

    const target = new FileBlobStore(join(partial, 'objects'));
    const copied: ObjectEntry[] = [];
    const missing: MissingObject[] = [];
    for (const entry of snapshot.objects) {
      const result = await copyObject(vault.blobs, target, entry.key, entry);
      if (result === 'copied') copied.push(entry);
      else {
        const reason = result === 'differs' ? 'damaged' : (await namedByLiveRows(vault, entry.key)) ? 'lost' : 'deleted-after-snapshot';
        missing.push({ key: entry.key, recordingId: entry.recordingId, kind: entry.kind, reason });
      }
    }
    await rm(join(partial, 'objects', '.tmp'), { recursive: true, force: true });

    const config = await copyFileChecked(join(vault.dataDir, CONFIG_FILE), join(partial, CONFIG_FILE));
    const keyring = options.includeKeyring ? await copyKeys(join(vault.dataDir, 'keys'), join(partial, 'keys')) : null;
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      backupId,
      takenAt: snapshot.takenAt,
      schema: snapshot.schema,
      database: await digestFile(join(partial, DATABASE_FILE)),
      config,
      audit: snapshot.audit,
      pending: snapshot.pending,
      objects: copied,
      missing,
      keyring,
    };
    await writeFileAtomic(join(partial, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    await completePartial(partial, out);
    return {
      out,
      backupId,
      takenAt: snapshot.takenAt,
      schema: snapshot.schema,
      audit: snapshot.audit,
      objects: copied.length,
      bytes: copied.reduce((sum, o) => sum + o.bytes, 0),
      pending: snapshot.pending,
      missing,
      keyring: keyring !== null,
    };
  } catch (err) {
    await rm(partial, { recursive: true, force: true }).catch(() => {});
    if (loggedAs) await options.record({ action: 'vault.backup', outcome: 'failure', detail: { backupId: loggedAs } }).catch(() => undefined);
    throw err;
  }
}

interface Snapshot {
  takenAt: string;
  schema: string;
  audit: BackupManifest['audit'];
  objects: ObjectEntry[];
  pending: number;
}

/** copies the live database to `file` and reads from the copy what the manifest needs */
async function takeSnapshot(live: SQLite.Database, file: string): Promise<Snapshot> {
  const takenAt = new Date().toISOString();
  // Every page in one step, so in one read transaction: a consistent state however busy other
  // processes are. In steps of a few pages, each write by another connection between two steps
  // starts the copy again, and a busy importer could keep it from ever finishing.
  await live.backup(file, { progress: () => ALL_PAGES });
  const handle = new SQLite(file);
  // one self-contained file: no -wal beside it
  handle.pragma('journal_mode = DELETE');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: handle }) });
  try {
    const migration = await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name DESC LIMIT 1`.execute(db);
    const size = Number((await db.selectFrom('audit_head').select('size').where('id', '=', 1).executeTakeFirstOrThrow()).size);
    // the tree caches subtree hashes in the copy as it would in the live database: same values
    const rootHash = (await new AuditTree(db).root(size)).toString('base64');
    const recordings = await db.selectFrom('recordings').select(['id', 'blob_key', 'ciphertext_size', 'ciphertext_sha256']).where('state', '=', 'stored').orderBy('id').execute();
    const renditions = await db.selectFrom('recording_renditions').select(['recording_id', 'blob_key', 'ciphertext_size', 'ciphertext_sha256']).orderBy('id').execute();
    const pending = await db
      .selectFrom('recordings')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('state', '=', 'pending')
      .executeTakeFirstOrThrow();
    return {
      takenAt,
      schema: migration.rows[0]!.name,
      audit: { size, rootHash },
      objects: [
        ...recordings.map((r) => ({ key: r.blob_key, recordingId: r.id, kind: 'recording' as const, bytes: Number(r.ciphertext_size), sha256: r.ciphertext_sha256 })),
        ...renditions.map((r) => ({ key: r.blob_key, recordingId: r.recording_id, kind: 'rendition' as const, bytes: Number(r.ciphertext_size), sha256: r.ciphertext_sha256 })),
      ],
      pending: Number(pending.n),
    };
  } finally {
    await db.destroy();
  }
}

/**
 * Whether the live database still names an object the snapshot named. An erasure and a redaction
 * made again commit their rows before they delete the old objects, so an object that is gone and
 * no longer named was deleted on purpose after the snapshot; one still named is lost.
 */
async function namedByLiveRows(vault: Vault, key: string): Promise<boolean> {
  const db = vault.database.db;
  const recording = await db.selectFrom('recordings').select('id').where('blob_key', '=', key).where('state', '=', 'stored').executeTakeFirst();
  if (recording) return true;
  return Boolean(await db.selectFrom('recording_renditions').select('id').where('blob_key', '=', key).executeTakeFirst());
}

async function copyKeys(from: string, to: string): Promise<NonNullable<BackupManifest['keyring']>> {
  await mkdir(to, { mode: 0o700 });
  const copied: NonNullable<BackupManifest['keyring']> = [];
  for (const file of KEY_FILES) {
    copied.push({ file, ...(await copyFileChecked(join(from, file), join(to, file))) });
  }
  return copied;
}
