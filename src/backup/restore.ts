/**
 * `callvault restore`: a backup (src/backup/backup.ts) made into a new data directory. Every file
 * is checked against the manifest (size and SHA-256) as it is copied, and the directory is
 * written as DIR.partial and renamed at the end: a damaged backup leaves no data directory.
 *
 * The restored directory is the vault as it was at the snapshot, with three changes, each logged
 * in its audit log after a `vault.restore` entry:
 *  - recordings being written at the snapshot are removed: their writers are not coming back;
 *  - recordings erased between the snapshot and the copy of their objects are erased again (the
 *    backup does not hold their objects); a redacted rendition replaced in that time is dropped
 *    and made again by the redaction backlog;
 *  - every session is ended: signing out after the snapshot must not be undone.
 * Everything else done after the snapshot is undone, erasures included (docs/deployment.md).
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CallvaultError, ErrorCodes } from '../errors.js';
import { AuditLog } from '../audit/audit-log.js';
import { AuditTrail } from '../services/audit-trail.js';
import type { Actor } from '../services/actor.js';
import { openDatabase } from '../db/database.js';
import { migrationProvider } from '../db/migrations.js';
import { RecordingsRepository } from '../db/recordings-repository.js';
import { FileBlobStore } from '../storage/file-blob-store.js';
import type { VaultConfig } from '../vault.js';
import {
  assertNewDirectory,
  completePartial,
  CONFIG_FILE,
  copyFileChecked,
  copyObject,
  DATABASE_FILE,
  makePartial,
  readManifest,
  type BackupManifest,
  type MissingObject,
} from './manifest.js';

export interface RestoreOptions {
  from: string;
  dataDir: string;
  actor: Actor;
}

export interface RestoreReport {
  dataDir: string;
  backupId: string;
  takenAt: string;
  /** the audit log's size in the backup: entries from this index on were written by the restore */
  auditSize: number;
  objects: number;
  bytes: number;
  /** recordings erased after the snapshot whose objects the backup does not hold: erased again */
  erasedAgain: string[];
  renditionsDropped: number;
  pendingRemoved: number;
  sessionsEnded: number;
  /** objects the vault had lost (or held damaged) when the backup was taken: `verify` lists them */
  lost: MissingObject[];
  keyring: boolean;
  /** where the restored directory expects its keys (config.json): in DATA/keys, or apart (CALLVAULT_KMS) */
  keysAt: VaultConfig['keyring'];
}

export async function restoreBackup(options: RestoreOptions): Promise<RestoreReport> {
  const from = resolve(options.from);
  const target = resolve(options.dataDir);
  const manifest = await readManifest(from);
  if (!Object.keys(await migrationProvider.getMigrations()).includes(manifest.schema)) {
    throw new CallvaultError(ErrorCodes.USAGE, `this backup was made by a newer callvault (schema ${manifest.schema}): restore it with that version`);
  }
  await assertNewDirectory(target, 'the data directory');
  const partial = await makePartial(target, 'restore');
  try {
    await copyFileChecked(join(from, DATABASE_FILE), join(partial, DATABASE_FILE), manifest.database, 'the database');
    await copyFileChecked(join(from, CONFIG_FILE), join(partial, CONFIG_FILE), manifest.config, CONFIG_FILE);
    const config = JSON.parse(await readFile(join(partial, CONFIG_FILE), 'utf8')) as VaultConfig;
    await mkdir(join(partial, 'keys'), { mode: 0o700 });
    for (const key of manifest.keyring ?? []) await copyFileChecked(join(from, 'keys', key.file), join(partial, 'keys', key.file), key, key.file);

    const source = new FileBlobStore(join(from, 'objects'));
    const objects = new FileBlobStore(join(partial, 'objects'));
    await mkdir(join(partial, 'objects'), { mode: 0o700 });
    for (const o of manifest.objects) {
      const result = await copyObject(source, objects, o.key, o);
      if (result !== 'copied') {
        const what = `the ${o.kind === 'rendition' ? 'redacted rendition' : 'object'} of recording ${o.recordingId}`;
        throw new CallvaultError(
          ErrorCodes.INTEGRITY_MISMATCH,
          `the backup is damaged: ${what} ${result === 'missing' ? 'is missing' : 'differs from its manifest (size or SHA-256)'}; nothing was restored`,
        );
      }
    }
    await rm(join(partial, 'objects', '.tmp'), { recursive: true, force: true });

    const changes = await applyRestore(join(partial, DATABASE_FILE), manifest, options.actor);
    await completePartial(partial, target);
    return {
      dataDir: target,
      backupId: manifest.backupId,
      takenAt: manifest.takenAt,
      auditSize: manifest.audit.size,
      objects: manifest.objects.length,
      bytes: manifest.objects.reduce((sum, o) => sum + o.bytes, 0),
      ...changes,
      lost: manifest.missing.filter((m) => m.reason !== 'deleted-after-snapshot'),
      keyring: manifest.keyring !== null,
      keysAt: config.keyring,
    };
  } catch (err) {
    await rm(partial, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
}

/**
 * The restored database, brought to this version's schema, with the changes the header lists.
 * `vault.restore` is appended first; each erasure is logged before it is made, as erasures are.
 */
async function applyRestore(
  file: string,
  manifest: BackupManifest,
  actor: Actor,
): Promise<Pick<RestoreReport, 'erasedAgain' | 'renditionsDropped' | 'pendingRemoved' | 'sessionsEnded'>> {
  const database = await openDatabase(`sqlite:${file}`);
  try {
    const db = database.db;
    const recordings = new RecordingsRepository(db);
    // the identifier hashes' key is not needed: none of these entries names an identifier
    const audit = new AuditTrail(new AuditLog(database.auditStore, () => undefined));
    const deleted = manifest.missing.filter((m) => m.reason === 'deleted-after-snapshot');
    const erased = [...new Set(deleted.filter((m) => m.kind === 'recording').map((m) => m.recordingId))];
    const replaced = deleted.filter((m) => m.kind === 'rendition' && !erased.includes(m.recordingId));
    const pending = await recordings.pending();
    const sessions = await db
      .selectFrom('sessions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('revoked_at', 'is', null)
      .executeTakeFirstOrThrow();

    await audit.record(actor, {
      action: 'vault.restore',
      outcome: 'success',
      detail: {
        backupId: manifest.backupId,
        takenAt: manifest.takenAt,
        auditSize: manifest.audit.size,
        objects: manifest.objects.length,
        erasedAgain: erased.length,
        renditionsDropped: replaced.length,
        pendingRemoved: pending.length,
        sessionsEnded: Number(sessions.n),
      },
    });
    for (const row of pending) await recordings.delete(row.id);
    await db.updateTable('sessions').set({ revoked_at: new Date().toISOString() }).where('revoked_at', 'is', null).execute();
    for (const id of erased) {
      const row = await recordings.get(id);
      await audit.record(actor, {
        action: 'recording.erase',
        outcome: 'success',
        recordingId: id,
        controllerId: row?.controller_id,
        detail: { backupId: manifest.backupId, erasedAfterSnapshot: true },
      });
    }
    await recordings.erase(erased, new Date().toISOString());
    // their objects were never restored: nothing is left for an erasure to delete
    for (const id of erased) await recordings.setErasureDebris(id, []);
    await database.forgetOverwritten();
    for (const m of replaced) {
      await db.deleteFrom('recording_renditions').where('blob_key', '=', m.key).execute();
      await db.updateTable('recordings').set({ redaction: 'pending' }).where('id', '=', m.recordingId).where('state', '=', 'stored').execute();
    }
    return { erasedAgain: erased, renditionsDropped: replaced.length, pendingRemoved: pending.length, sessionsEnded: Number(sessions.n) };
  } finally {
    await database.close();
  }
}
