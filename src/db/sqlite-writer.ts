/**
 * The hot durable writes of SQLite (audit appends, a recording's pending row and its `stored`
 * mark, sessions and stated purposes) on a thread of their own. better-sqlite3 is synchronous: on the main thread every durable
 * commit (an fsync of the WAL) stops every request and every import stream for its duration, and
 * group commit (src/util/group-commit.ts) finds little to group, because nothing else runs while a
 * commit is written. On this thread a commit blocks nobody, and what arrives meanwhile is grouped
 * into the next one.
 *
 * Started by the processes that write much (the server, an import); a short command keeps its
 * few writes on the main connection rather than pay for starting a thread. Both connections are
 * to the same file in WAL mode: a write lock held by one makes the other wait (busy_timeout).
 */
import { Worker } from 'node:worker_threads';
import type { CompiledQuery } from 'kysely';
import type { AuditRow } from '../audit/storage/audit-store.js';
import type { NewRecording } from './recordings-repository.js';

export type WriterRequest =
  | { id: number; op: 'audit'; rows: AuditRow[] }
  | { id: number; op: 'insert-pending'; rows: NewRecording[] }
  | { id: number; op: 'mark-stored'; ids: string[] }
  | { id: number; op: 'run'; sql: string; parameters: readonly unknown[] }
  | { id: number; op: 'close' };

export type WriterReply = { id: number; result?: unknown; error?: { message: string; code?: string } };

type Request = WriterRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export class SqliteWriter {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  #next = 1;
  #closed?: Promise<void>;
  #failure?: Error;

  constructor(file: string) {
    this.#worker = new Worker(new URL('./sqlite-writer-worker.js', import.meta.url), { workerData: { file } });
    // an idle writer does not keep the process alive; one with work does (see #send)
    this.#worker.unref();
    this.#worker.on('message', (reply: WriterReply) => {
      const waiting = this.#waiting.get(reply.id);
      if (!waiting) return;
      this.#waiting.delete(reply.id);
      if (this.#waiting.size === 0) this.#worker.unref();
      // the driver's error code (SQLITE_FULL, SQLITE_CONSTRAINT_UNIQUE, …) is what callers tell apart
      if (reply.error) waiting.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
      else waiting.resolve(reply.result);
    });
    const fail = (err: Error) => {
      this.#failure = err;
      for (const w of this.#waiting.values()) w.reject(err);
      this.#waiting.clear();
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', () => fail(Object.assign(new Error('the database writer has stopped'), { code: 'SQLITE_MISUSE' })));
  }

  appendAudit(rows: AuditRow[]): Promise<number[]> {
    return this.#send({ op: 'audit', rows }) as Promise<number[]>;
  }

  insertPending(rows: NewRecording[]): Promise<void> {
    return this.#send({ op: 'insert-pending', rows }) as Promise<void>;
  }

  markStored(ids: string[]): Promise<boolean[]> {
    return this.#send({ op: 'mark-stored', ids }) as Promise<boolean[]>;
  }

  /** one statement (a session's or a grant's write), in a transaction of its own */
  run(query: CompiledQuery): Promise<void> {
    return this.#send({ op: 'run', sql: query.sql, parameters: query.parameters }) as Promise<void>;
  }

  /** after every write sent before it; the thread then closes its connection and ends */
  close(): Promise<void> {
    this.#closed ??= this.#failure
      ? Promise.resolve()
      : (this.#send({ op: 'close' }).then(
          () => undefined,
          () => undefined,
        ) as Promise<void>);
    return this.#closed;
  }

  #send(request: Request): Promise<unknown> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closed) return Promise.reject(Object.assign(new Error('the database is closed'), { code: 'SQLITE_MISUSE' }));
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      if (this.#waiting.size === 1) this.#worker.ref();
      this.#worker.postMessage({ ...request, id });
    });
  }
}

/** a kysely write: run on the writer thread when the process has one, else on the caller's connection */
export async function writeDurably(writer: SqliteWriter | undefined, query: { compile(): CompiledQuery; execute(): Promise<unknown> }): Promise<void> {
  if (writer) await writer.run(query.compile());
  else await query.execute();
}
