/**
 * The SQLite writer thread (src/db/sqlite-writer.ts): its own connection to the database file,
 * the few hot durable writes prepared once, each request one IMMEDIATE transaction.
 */
import { parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import { preparedAuditAppend } from '../audit/storage/sqlite-append.js';
import type { WriterReply, WriterRequest } from './sqlite-writer.js';

const db = new SQLite((workerData as { file: string }).file);
db.pragma('synchronous = FULL');
db.pragma('foreign_keys = ON');
// No busy_timeout: SQLite's own handler sleeps 1, 2, 5 … up to 100 ms between tries, so under a
// busy importer in another process a request's commit waits whole sleeps after the lock is free,
// or loses it again each time. This thread may block, so it tries again every millisecond.
db.pragma('busy_timeout = 0');
db.pragma('secure_delete = ON');

const BUSY_GIVE_UP_MS = 10_000;
const pause = new Int32Array(new SharedArrayBuffer(4));

/** runs a write, again while another connection holds the write lock, for up to BUSY_GIVE_UP_MS */
function whenFree<T>(write: () => T): T {
  const until = Date.now() + BUSY_GIVE_UP_MS;
  for (;;) {
    try {
      return write();
    } catch (err) {
      // every write here is one IMMEDIATE transaction: BUSY comes at its BEGIN, before anything is written
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() >= until) throw err;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

const appendAudit = preparedAuditAppend(db);

/** one statement per set of columns given: rows leave out what takes the column's default */
const inserts = new Map<string, SQLite.Statement>();
const insertPending = db.transaction((rows: Record<string, unknown>[]) => {
  for (const row of rows) {
    const columns = Object.keys(row).filter((k) => row[k] !== undefined);
    const key = columns.join(',');
    let statement = inserts.get(key);
    if (!statement) {
      // the column names are the repository's own (NewRecording), never a caller's text
      statement = db.prepare(`INSERT INTO recordings (${columns.join(', ')}, state, indexed) VALUES (${columns.map(() => '?').join(', ')}, 'pending', 0)`);
      inserts.set(key, statement);
    }
    statement.run(...columns.map((c) => row[c]));
  }
});

const stored = db.prepare("UPDATE recordings SET state = 'stored', writer = NULL WHERE id = ? AND state = 'pending'");
const markStored = db.transaction((ids: string[]) => ids.map((id) => stored.run(id).changes === 1));

/** other writes (sessions, grants), by their SQL text: kysely compiles the same text each time */
const statements = new Map<string, SQLite.Statement>();
const runStatement = db.transaction((text: string, parameters: readonly unknown[]) => {
  let statement = statements.get(text);
  if (!statement) {
    statement = db.prepare(text);
    statements.set(text, statement);
  }
  statement.run(...parameters);
});

function handle(request: WriterRequest): unknown {
  switch (request.op) {
    case 'audit':
      return appendAudit(request.rows);
    case 'insert-pending':
      insertPending.immediate(request.rows as unknown as Record<string, unknown>[]);
      return undefined;
    case 'mark-stored':
      return markStored.immediate(request.ids);
    case 'run':
      runStatement.immediate(request.sql, request.parameters);
      return undefined;
    case 'close':
      db.close();
      return undefined;
  }
}

parentPort!.on('message', (request: WriterRequest) => {
  let reply: WriterReply;
  try {
    reply = { id: request.id, result: whenFree(() => handle(request)) };
  } catch (err) {
    const e = err as { message?: string; code?: string };
    reply = { id: request.id, error: { message: String(e.message ?? err), code: typeof e.code === 'string' ? e.code : undefined } };
  }
  parentPort!.postMessage(reply);
  if (request.op === 'close') parentPort!.close();
});
