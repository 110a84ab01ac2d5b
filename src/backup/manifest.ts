/**
 * What `callvault backup` writes and `callvault restore` reads (docs/deployment.md, Backup and
 * restore): a directory with the snapshot of the SQLite database, the objects its rows name, the
 * configuration, the keyring only when asked for, and this manifest, written last.
 *
 *   DIR/manifest.json
 *   DIR/callvault.db            the snapshot, taken with SQLite's backup API
 *   DIR/config.json
 *   DIR/objects/…               one file per object, under the same keys as DATA/objects
 *   DIR/keys/keyring.json       only with --include-keyring, with audit-signing.key
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fsyncDir } from '../util/fs.js';
import { pipeline } from 'node:stream/promises';
import type { CiphertextSource } from '../container/decrypt.js';
import { CallvaultError, ErrorCodes, isCallvaultError } from '../errors.js';
import { assertBlobKey, type BlobStore } from '../storage/blob-store.js';

export const BACKUP_FORMAT = 'callvault-backup/v1';
export const MANIFEST_FILE = 'manifest.json';
export const DATABASE_FILE = 'callvault.db';
export const CONFIG_FILE = 'config.json';
/** what --include-keyring copies from DATA/keys, and all a restore ever writes there */
export const KEY_FILES = ['keyring.json', 'audit-signing.key'] as const;

export interface FileDigest {
  bytes: number;
  sha256: string;
}

export interface ObjectEntry extends FileDigest {
  key: string;
  recordingId: string;
  kind: 'recording' | 'rendition';
}

/**
 * An object the snapshot's rows name that the backup does not hold. `deleted-after-snapshot`: the
 * live database no longer names it either (the recording was erased, or its redaction made again,
 * after the snapshot); that is intended, and a restore applies the erasure again. `lost`: the live
 * database still names it but it is gone; `damaged`: it differs from what was written. Those two
 * are problems of the live vault, which `callvault verify` reports as well.
 */
export interface MissingObject {
  key: string;
  recordingId: string;
  kind: ObjectEntry['kind'];
  reason: 'deleted-after-snapshot' | 'lost' | 'damaged';
}

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  backupId: string;
  /** when the snapshot was started; `audit.size` marks it exactly */
  takenAt: string;
  /** the last migration applied to the snapshot */
  schema: string;
  database: FileDigest;
  config: FileDigest;
  /** the audit log in the snapshot: its size and RFC 9162 root hash (base64, as `audit verify` prints it) */
  audit: { size: number; rootHash: string };
  /** recordings that were being written at the snapshot: not in the backup, removed by a restore */
  pending: number;
  objects: ObjectEntry[];
  missing: MissingObject[];
  /** the key files copied (--include-keyring), or null */
  keyring: ({ file: (typeof KEY_FILES)[number] } & FileDigest)[] | null;
}

function damagedManifest(): CallvaultError {
  return new CallvaultError(ErrorCodes.INTEGRITY_MISMATCH, "the backup's manifest is damaged");
}

/** reads DIR/manifest.json and checks its shape; nothing in it is used as a path unchecked */
export async function readManifest(dir: string): Promise<BackupManifest> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
  } catch {
    throw new CallvaultError(ErrorCodes.USAGE, 'that directory is not a complete callvault backup (it has no manifest.json)');
  }
  let m: BackupManifest;
  try {
    m = JSON.parse(text) as BackupManifest;
  } catch {
    throw damagedManifest();
  }
  const digest = (d: FileDigest | undefined) => Boolean(d) && Number.isSafeInteger(d!.bytes) && d!.bytes >= 0 && /^[0-9a-f]{64}$/.test(d!.sha256);
  const blobKey = (key: unknown) => {
    try {
      assertBlobKey(key as string);
      return true;
    } catch {
      return false;
    }
  };
  const ok =
    m?.format === BACKUP_FORMAT &&
    typeof m.backupId === 'string' &&
    typeof m.takenAt === 'string' &&
    typeof m.schema === 'string' &&
    digest(m.database) &&
    digest(m.config) &&
    Number.isSafeInteger(m.audit?.size) &&
    Array.isArray(m.objects) &&
    m.objects.every((o) => digest(o) && blobKey(o.key) && typeof o.recordingId === 'string') &&
    Array.isArray(m.missing) &&
    m.missing.every((o) => blobKey(o.key) && typeof o.recordingId === 'string') &&
    (m.keyring === null || (Array.isArray(m.keyring) && m.keyring.every((k) => KEY_FILES.includes(k.file) && digest(k))));
  if (!ok) throw damagedManifest();
  return m;
}

/** SHA-256 and size of a file */
export async function digestFile(path: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/**
 * Copies a file to a new one (made for this user only, fsynced) and returns its digest. With
 * `expected` (a restore), a copy that differs fails CV_INTEGRITY_MISMATCH naming `what`.
 */
export async function copyFileChecked(from: string, to: string, expected?: FileDigest, what = 'a file'): Promise<FileDigest> {
  const hash = createHash('sha256');
  let bytes = 0;
  const fh = await open(to, 'wx', 0o600);
  try {
    for await (const chunk of createReadStream(from)) {
      hash.update(chunk);
      bytes += chunk.length;
      await fh.write(chunk);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  const digest = { bytes, sha256: hash.digest('hex') };
  if (expected && (digest.bytes !== expected.bytes || digest.sha256 !== expected.sha256)) {
    throw new CallvaultError(ErrorCodes.INTEGRITY_MISMATCH, `the backup is damaged: ${what} differs from its manifest (size or SHA-256); nothing was restored`);
  }
  return digest;
}

/**
 * Copies one object between blob stores, hashing as it goes. It becomes visible in `to` only when
 * its size and SHA-256 are the expected ones; otherwise nothing is left and the answer says why.
 * An object deleted while it was being read counts as missing.
 */
export async function copyObject(from: BlobStore, to: BlobStore, key: string, expected: FileDigest): Promise<'copied' | 'missing' | 'differs'> {
  let source: CiphertextSource;
  try {
    source = await from.open(key);
  } catch (err) {
    if (isCallvaultError(err, ErrorCodes.BLOB_NOT_FOUND)) return 'missing';
    throw err;
  }
  if (source.size !== expected.bytes) return 'differs';
  const pending = await to.begin(key);
  const hash = createHash('sha256');
  try {
    await pipeline(
      source.read(0, source.size),
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          hash.update(chunk);
          yield chunk;
        }
      },
      pending.stream,
    );
  } catch (err) {
    await pending.abort();
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
  if (hash.digest('hex') !== expected.sha256) {
    await pending.abort();
    return 'differs';
  }
  try {
    await pending.commit();
  } catch (err) {
    await pending.abort();
    throw err;
  }
  return 'copied';
}

/** refuses a directory that exists and holds anything: a backup or a restore never overwrites */
export async function assertNewDirectory(dir: string, what: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') throw new CallvaultError(ErrorCodes.USAGE, `${what} ${dir} is a file`);
    throw err;
  }
  if (entries.length > 0) throw new CallvaultError(ErrorCodes.USAGE, `${what} ${dir} is not empty: name a new or empty directory`);
}

/** fsyncs every directory under `dir`, and `dir`: the entries made in them survive a crash */
export async function fsyncTree(dir: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) if (e.isDirectory()) await fsyncTree(join(dir, e.name));
  await fsyncDir(dir);
}

/**
 * Makes DIR.partial, where a backup or a restore is written before it is renamed to DIR: one that
 * is killed never looks complete. One left behind is refused, not reused: it may still be running.
 */
export async function makePartial(dir: string, what: 'backup' | 'restore'): Promise<string> {
  const partial = `${dir}.partial`;
  await mkdir(dirname(dir), { recursive: true, mode: 0o700 });
  try {
    await mkdir(partial, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    throw new CallvaultError(ErrorCodes.USAGE, `${partial} exists: a ${what} into it was interrupted or is still running; remove it and try again`);
  }
  return partial;
}

/** renames DIR.partial to DIR (which may be an empty directory) once everything in it is durable */
export async function completePartial(partial: string, dir: string): Promise<void> {
  await fsyncTree(partial);
  await rename(partial, dir);
  await fsyncDir(dirname(dir));
}
