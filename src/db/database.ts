/**
 * Opens the metadata database: SQLite in the data directory by default, PostgreSQL when given a
 * postgres:// URL. Both run the same migrations and serve the same repositories.
 */
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import { CallvaultError, ErrorCodes } from '../errors.js';
import { migrationProvider } from './migrations.js';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

export interface MetadataDatabase {
  db: Kysely<Database>;
  dialect: Dialect;
  /** what it was opened from: worker threads open connections of their own with it (audit verify) */
  url: string;
  /** the SQLite handle under `db`, for the few hot paths that prepare their statements once */
  sqlite?: SQLite.Database;
  close(): Promise<void>;
}

export async function openDatabase(url: string): Promise<MetadataDatabase> {
  const dialect: Dialect = /^postgres(ql)?:\/\//.test(url) ? 'postgres' : 'sqlite';
  let db: Kysely<Database>;
  let sqlite: SQLite.Database | undefined;
  if (dialect === 'postgres') {
    const { default: pg } = await import('pg');
    // int8 columns (sizes, durations) fit in a double for any file this system will hold
    pg.types.setTypeParser(20, (v) => Number(v));
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 10 }) }) });
  } else {
    const file = url.replace(/^sqlite:/, '');
    sqlite = new SQLite(file);
    // WAL lets a server read while an importer writes; FULL makes each commit durable
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 10000');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  }
  await migrate(db);
  return { db, dialect, url, sqlite, close: () => db.destroy() };
}

async function migrate(db: Kysely<Database>): Promise<void> {
  const { error } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
  if (error) {
    throw new CallvaultError(ErrorCodes.STORAGE_FAILED, 'the metadata database could not be migrated', { cause: error });
  }
}
