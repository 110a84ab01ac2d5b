/**
 * Runs in a worker thread of `audit verify` (verify.ts): reads the batches of audit entries it is
 * sent on a connection of its own (a read-only SQLite handle on the file, or a pg client), checks
 * every row (verify-rows.ts) and hands back the seqs, leaf hashes and mismatch flags in one
 * transferred buffer. The main thread builds the tree from them in order. Any failure (cannot
 * connect, a query fails) is thrown, which ends the worker with an 'error' the main thread reports.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { checkRows, SELECT_ROWS, type FromVerifyWorker, type StoredRow, type ToVerifyWorker, type WorkerSource } from './verify-rows.js';

const port = parentPort!;
const source = workerData as WorkerSource;

function reply(batch: number, rows: StoredRow[]): void {
  const checked = checkRows(rows);
  port.postMessage({ batch, checked } satisfies FromVerifyWorker, [checked.buffer]);
}

if (source.dialect === 'sqlite') {
  const { default: SQLite } = await import('better-sqlite3');
  const db = new SQLite(source.file, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 10000');
  const select = db.prepare(`${SELECT_ROWS} WHERE seq >= ? AND seq < ? ORDER BY seq`).raw(true);
  // better-sqlite3 is synchronous: one batch at a time, in the order they were sent
  port.on('message', (m: ToVerifyWorker) => {
    if ('close' in m) {
      db.close();
      port.close();
      return;
    }
    reply(m.batch, select.all(m.from, m.to) as StoredRow[]);
  });
} else {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: source.url });
  client.on('error', (err) => {
    throw err;
  });
  await client.connect();
  const text = `${SELECT_ROWS} WHERE seq >= $1 AND seq < $2 ORDER BY seq`;
  // one query at a time on the one connection, in the order the batches were sent
  let queue = Promise.resolve();
  port.on('message', (m: ToVerifyWorker) => {
    queue = queue
      .then(async () => {
        if ('close' in m) {
          await client.end();
          port.close();
          return;
        }
        reply(m.batch, (await client.query<StoredRow>({ text, values: [m.from, m.to], rowMode: 'array' })).rows);
      })
      // rethrown outside the promise: it ends the worker with an 'error'
      .catch((err: unknown) => {
        setImmediate(() => {
          throw err;
        });
      });
  });
}
