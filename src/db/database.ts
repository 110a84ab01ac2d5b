/**
 * Opens the metadata database: SQLite in the data directory by default, PostgreSQL when given a
 * postgres:// URL. Both run the same migrations and serve the same repositories.
 */
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from './kysely.js';
import { CallvaultError, ErrorCodes } from '../errors.js';
import { migrationProvider } from './migrations.js';
import type { Database } from './schema.js';
import type { AuditStore } from '../audit/storage/audit-store.js';
import { SqliteAuditStore } from '../audit/storage/sqlite-audit-store.js';
import { PostgresAuditStore } from '../audit/storage/postgres-audit-store.js';
import { SqliteWriter } from './sqlite-writer.js';

export type Dialect = 'sqlite' | 'postgres';

const CONNECT_TIMEOUT_MS = 5_000;
/** longer than any statement callvault runs on a healthy database (pages of at most a few thousand rows) */
const STATEMENT_TIMEOUT_MS = 30_000;

export interface MetadataDatabase {
  db: Kysely<Database>;
  dialect: Dialect;
  /** what it was opened from: worker threads open connections of their own with it (audit verify) */
  url: string;
  /** the SQLite handle under `db`, for the few hot paths that prepare their statements once */
  sqlite?: SQLite.Database;
  /** the audit log's rows, stored the way this database does it best */
  auditStore: AuditStore;
  /**
   * SQLite: moves the hot durable writes (audit appends, recordings' pending rows and stored marks)
   * to a writer thread from now on (src/db/sqlite-writer.ts), for a process that writes much: the
   * server, an import. Does nothing on PostgreSQL, whose driver does not block the thread.
   */
  startWriter(): void;
  /** the writer thread, once started */
  readonly writer: SqliteWriter | undefined;
  /**
   * For a background job's own bookkeeping (where it stands, its lease): on SQLite a second
   * connection that does not wait for another process's write lock but fails at once
   * (SQLITE_BUSY), because a wait there blocks the thread and with it every request; the job
   * tries again on its next pass. On PostgreSQL, `db`.
   */
  background: Kysely<Database>;
  /**
   * After an erasure: leaves no old copy of overwritten rows in the database's own files where it
   * can. SQLite (with secure_delete on, freed space is zeroed) moves the WAL into the database file
   * and truncates it. PostgreSQL keeps the old versions as dead tuples: a plain VACUUM prunes them
   * but leaves bytes of them in the freed space, which only the operator's VACUUM (FULL) removes
   * (docs/subject-rights.md). Best effort on PostgreSQL: the erasure has committed by then.
   */
  forgetOverwritten(): Promise<void>;
  close(): Promise<void>;
}

export async function openDatabase(url: string): Promise<MetadataDatabase> {
  const dialect: Dialect = /^postgres(ql)?:\/\//.test(url) ? 'postgres' : 'sqlite';
  let db: Kysely<Database>;
  let sqlite: SQLite.Database | undefined;
  let background: Kysely<Database> | undefined;
  if (dialect === 'postgres') {
    const { default: pg } = await import('pg');
    // int8 columns (sizes, durations) fit in a double for any file this system will hold
    pg.types.setTypeParser(20, (v) => Number(v));
    const pool = new pg.Pool({
      // the URL's own parameters (?statement_timeout=…) take precedence over these
      connectionString: url,
      max: 10,
      // a PostgreSQL that is down or frozen makes requests fail in seconds (503), never hang
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      statement_timeout: STATEMENT_TIMEOUT_MS,
      query_timeout: STATEMENT_TIMEOUT_MS + 5_000,
      idle_in_transaction_session_timeout: 60_000,
      keepAlive: true,
    });
    // an idle connection that the server closes (a restart: 57P01) is dropped from the pool and
    // replaced on the next query; unhandled, the event would end the process
    pool.on('error', () => {});
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  } else {
    const file = url.replace(/^sqlite:/, '');
    sqlite = new SQLite(file);
    // WAL lets a server read while an importer writes; FULL makes each commit durable
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 10000');
    // erased keys and sealed fields are overwritten with zeros where they lay, not left in free space
    sqlite.pragma('secure_delete = ON');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: rollbackAfterAbort(sqlite) }) });
  }
  await migrate(db);
  // opened on first use: only a server's background jobs need it
  const openBackground = (file: string): Kysely<Database> => {
    const own = new SQLite(file, { timeout: 0 });
    own.pragma('synchronous = FULL');
    own.pragma('foreign_keys = ON');
    own.pragma('secure_delete = ON');
    return new Kysely<Database>({ dialect: new SqliteDialect({ database: rollbackAfterAbort(own) }) });
  };
  let writer: SqliteWriter | undefined;
  const file = url.replace(/^sqlite:/, '');
  const auditStore = sqlite ? new SqliteAuditStore(db, sqlite, () => writer) : new PostgresAuditStore(db);
  const forgetOverwritten = async () => {
    if (sqlite) {
      sqlite.pragma('wal_checkpoint(TRUNCATE)');
      return;
    }
    // Not VACUUM (FULL): it locks the whole archive against reads and uploads while it rewrites it.
    // SKIP_LOCKED: an autovacuum (or another server's VACUUM) already on a table would make this
    // wait for it, and an anti-wraparound one can run for hours. A VACUUM cut off by the statement
    // timeout, or not allowed to this role, leaves the dead tuples to the operator's VACUUM.
    await sql`VACUUM (SKIP_LOCKED) recordings, recording_identifiers`.execute(db).catch(() => undefined);
  };
  return {
    db,
    dialect,
    url,
    sqlite,
    auditStore,
    startWriter() {
      // an in-memory database is one connection's own: there is no file for a second to open
      if (sqlite && !writer && file !== ':memory:' && file !== '') writer = new SqliteWriter(file);
    },
    get writer() {
      return writer;
    },
    get background() {
      if (!sqlite) return db;
      background ??= openBackground(url.replace(/^sqlite:/, ''));
      return background;
    },
    forgetOverwritten,
    close: async () => {
      if (writer) await writer.close();
      if (background) await background.destroy();
      await db.destroy();
    },
  };
}

async function migrate(db: Kysely<Database>): Promise<void> {
  if (await upToDate(db)) return;
  const { error } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
  if (error) {
    throw new CallvaultError(ErrorCodes.STORAGE_FAILED, 'the metadata database could not be migrated', { cause: error });
  }
}

/** statements kept per connection: the distinct texts callvault runs number a few hundred */
const PREPARED_LIMIT = 1000;

/**
 * True when the database has run exactly the migrations this code knows. Every command opens the
 * database, and the Migrator's checks and its lock (a write transaction, so an fsync) cost 5 to
 * 30 ms of each command's start-up; one read answers the common case. Anything else (a new
 * database, a migration to run, one this code does not know) goes to the Migrator as before.
 */
async function upToDate(db: Kysely<Database>): Promise<boolean> {
  try {
    const { rows } = await sql<{ name: string }>`SELECT name FROM kysely_migration`.execute(db);
    const known = Object.keys(await migrationProvider.getMigrations());
    const done = new Set(rows.map((r) => r.name));
    return done.size === known.length && known.every((name) => done.has(name));
  } catch {
    return false;
  }
}

/**
 * The SQLite connection as kysely gets it, except for two statements of its transactions:
 * - a ROLLBACK after SQLite has already rolled the transaction back does nothing. SQLite ends a
 *   transaction itself on some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM); kysely then still
 *   sends ROLLBACK, whose "no transaction is active" error would replace the real one, and a full
 *   disk would answer 500 instead of 503;
 * - BEGIN takes the write lock at once (IMMEDIATE). A deferred transaction that reads, then writes
 *   after another connection (the writer thread, another process) committed cannot upgrade its
 *   stale snapshot and fails with SQLITE_BUSY at once; an immediate one waits (busy_timeout).
 */
function rollbackAfterAbort(sqlite: SQLite.Database): SQLite.Database {
  const nothing = sqlite.prepare('SELECT 1 WHERE 0');
  // Kysely prepares every statement it runs anew, which costs as much as running a small one.
  // Statements are kept by their text (the values are bound, never in the text); one still being
  // iterated (a streamed query) is busy, and another copy is prepared for the caller.
  const prepared = new Map<string, SQLite.Statement>();
  const statement = (text: string) => {
    if (text === 'rollback' && !sqlite.inTransaction) return nothing;
    const sqlText = text === 'begin' ? 'begin immediate' : text;
    const cached = prepared.get(sqlText);
    if (cached && !cached.busy) return cached;
    const fresh = sqlite.prepare(sqlText);
    if (!cached) {
      if (prepared.size >= PREPARED_LIMIT) prepared.delete(prepared.keys().next().value!);
      prepared.set(sqlText, fresh);
    }
    return fresh;
  };
  return new Proxy(sqlite, {
    get(target, prop) {
      if (prop === 'prepare') return statement;
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
