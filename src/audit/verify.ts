/**
 * Full verification of the stored audit log: every entry is re-hashed and the tree rebuilt from
 * the entries alone, then compared with every stored checkpoint and every checkpoint a witness
 * kept. Nothing stored beside the entries (leaf hashes, subtree hashes, the lookup columns) is
 * trusted; each is checked against what the entries give.
 *
 * What it can and cannot see (docs/audit-log.md): any change to entries a checkpoint covers is
 * found. Entries after the latest checkpoint are signed by nothing yet, so a rewrite of those
 * alone is indistinguishable from normal appends; the report says how many there are.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { openCheckpoint } from './checkpoint.js';
import { EMPTY_ROOT, HASH_SIZE, TreeBuilder, verifyConsistency } from './merkle.js';
import { NoteError, type NoteVerifier } from './signed-note.js';
import { SUBTREE_SIZE, type AuditTree } from './tree.js';
import {
  batchViews,
  checkRows,
  COLUMNS_MISMATCH,
  LEAF_HASH_MISMATCH,
  ROW_COLUMNS,
  SEARCH_COLUMNS_MISMATCH,
  type CheckedBatch,
  type FromVerifyWorker,
  type ToVerifyWorker,
  type WorkerSource,
} from './verify-rows.js';

export type ProblemCode =
  | 'entry-missing'
  | 'entry-extra'
  | 'leaf-hash'
  | 'index-column'
  | 'search-column'
  | 'subtree-cache'
  | 'checkpoint-signature'
  | 'checkpoint-root'
  | 'checkpoint-beyond-log'
  | 'witness-signature'
  | 'witness-root'
  | 'witness-beyond-log'
  | 'witness-consistency';

export interface VerifyProblem {
  code: ProblemCode;
  message: string;
  index?: number;
  size?: number;
}

export interface VerifyReport {
  ok: boolean;
  size: number;
  /** base64, recomputed from the entries */
  rootHash: string;
  checkpoints: number;
  latestCheckpoint: number | null;
  /** entries no checkpoint covers yet */
  unsigned: number;
  witnessed: number;
  problems: VerifyProblem[];
}

export interface VerifyOptions {
  /**
   * The database's URL (`MetadataDatabase.url`): worker threads open connections of their own to
   * it. Without it every entry is checked on this thread.
   */
  url?: string;
  /**
   * Worker threads that read and check the entries while this thread builds the tree. 'auto'
   * (the default): for a log of PARALLEL_MIN entries or more, one per core (at least 2, at most
   * MAX_WORKERS); smaller logs are checked on this thread, where starting workers would cost more
   * than they save. A number forces that many (0: none); the tests force them on small logs.
   */
  workers?: number | 'auto';
  /** entries per query; the tests make it small to get many batches */
  batchSize?: number;
}

/** entries per query: small enough that a batch's rows die young in the worker that reads them */
export const BATCH = 5_000;
const MAX_PROBLEMS = 1000;
/**
 * Below this many entries one thread is faster: starting the workers costs about 0.15 s (the
 * break-even measured on 2 cores lies between 60,000 and 100,000 entries, docs/benchmarks.md).
 */
export const PARALLEL_MIN = 75_000;
const MAX_WORKERS = 8;
/** batches sent ahead to each worker, so it never waits for the next one */
const AHEAD = 2;

export async function verifyAuditLog(
  db: Kysely<Database>,
  tree: AuditTree,
  log: { verifier: NoteVerifier; origin: string },
  witnessNotes: readonly string[] = [],
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  const problem = (p: VerifyProblem) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  const size = Number((await db.selectFrom('audit_head').select('size').where('id', '=', 1).executeTakeFirstOrThrow()).size);

  const open = (note: string) => {
    try {
      return openCheckpoint(note, log.verifier, log.origin);
    } catch (err) {
      if (err instanceof NoteError) return err;
      throw err;
    }
  };
  const stored = (await db.selectFrom('audit_checkpoints').selectAll().orderBy('size').execute()).map((row) => ({ row, cp: open(row.note) }));
  const witnessed = witnessNotes.map((note) => open(note));

  // the tree sizes whose roots the checkpoints claim
  const wanted = new Set<number>([size]);
  for (const { row, cp } of stored) {
    if (cp instanceof NoteError)
      problem({ code: 'checkpoint-signature', size: Number(row.size), message: `the checkpoint stored for size ${row.size} does not verify: ${cp.message}` });
    else if (cp.size !== Number(row.size))
      problem({ code: 'checkpoint-signature', size: Number(row.size), message: `the checkpoint stored for size ${row.size} is signed for size ${cp.size}` });
    else if (cp.size > size)
      problem({ code: 'checkpoint-beyond-log', size: cp.size, message: `a checkpoint signed ${cp.size} entries but the log holds ${size}: entries were removed` });
    else wanted.add(cp.size);
  }
  witnessed.forEach((cp, i) => {
    if (cp instanceof NoteError) problem({ code: 'witness-signature', message: `witnessed checkpoint ${i + 1} does not verify: ${cp.message}` });
    else if (cp.size > size) problem({ code: 'witness-beyond-log', size: cp.size, message: `a witness saw ${cp.size} entries but the log holds ${size}: entries were removed` });
    else wanted.add(cp.size);
  });

  const storedSubtrees = new Map<number, string>();
  for (const row of await db.selectFrom('audit_subtrees').selectAll().execute()) storedSubtrees.set(Number(row.start), row.hash);
  const roots = new Map<number, Buffer>([[0, EMPTY_ROOT]]);
  const builder = new TreeBuilder({
    subtreeSize: SUBTREE_SIZE,
    onSubtree: (start, hash) => {
      const cached = storedSubtrees.get(start);
      if (cached !== undefined && cached !== hash.toString('hex'))
        problem({ code: 'subtree-cache', index: start, message: `the stored hash of entries ${start}..${start + SUBTREE_SIZE} is wrong` });
    },
  });

  // Entries are checked in batches of seq ranges [from, to) below the size read above, on this
  // thread or in workers with connections of their own, and consumed here strictly in order.
  // Appends only add rows at seq >= size, so the batches see one consistent log even when read on
  // different connections at different times; a row below the size tampered with while this runs
  // may be seen before or after the change, as it would be by one connection reading in batches.
  let expected = 0;
  const consume = (batch: CheckedBatch) => {
    const { seqs, hashes, flags } = batchViews(batch);
    for (let i = 0; i < batch.count; i++) {
      const seq = seqs[i]!;
      if (seq !== expected) {
        problem({ code: 'entry-missing', index: expected, message: `entries ${expected}..${seq} are missing` });
        expected = seq;
      }
      const f = flags[i]!;
      if (f & LEAF_HASH_MISMATCH) problem({ code: 'leaf-hash', index: seq, message: `entry ${seq} does not match its stored hash` });
      if (f & COLUMNS_MISMATCH) problem({ code: 'index-column', index: seq, message: `entry ${seq}'s lookup columns differ from the entry` });
      if (f & SEARCH_COLUMNS_MISMATCH)
        problem({ code: 'search-column', index: seq, message: `entry ${seq}'s search columns (time, action, outcome, actor) differ from the entry` });
      builder.push(hashes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE));
      expected += 1;
      if (wanted.has(builder.size)) roots.set(builder.size, builder.root());
    }
  };
  const batchSize = options.batchSize ?? BATCH;
  const ranges: [from: number, to: number][] = [];
  for (let from = 0; from < size; from += batchSize) ranges.push([from, Math.min(size, from + batchSize)]);
  const source = options.url === undefined ? undefined : workerSource(options.url);
  if (source === undefined && typeof options.workers === 'number' && options.workers > 0) throw new Error('verify workers need the URL of a database they can open');
  const workers = source === undefined ? 0 : Math.min(ranges.length, workerCount(options.workers ?? 'auto', size));
  if (workers > 0) {
    await checkInWorkers(source!, ranges, workers, consume);
  } else {
    for (const [from, to] of ranges) {
      const rows = await db.selectFrom('audit_entries').select(ROW_COLUMNS).where('seq', '>=', from).where('seq', '<', to).orderBy('seq').execute();
      consume(checkRows(rows.map((r) => [r.seq, r.entry, r.leaf_hash, r.recording_id, r.identifier_hash, r.time, r.action, r.outcome, r.actor_id, r.actor_name])));
    }
  }
  // Rows beyond the size. One appended since the size was read is no problem: the head row moves
  // in the same transaction as the insert, so the size read after these rows covers it.
  const beyond = await db.selectFrom('audit_entries').select('seq').where('seq', '>=', size).orderBy('seq').limit(MAX_PROBLEMS).execute();
  if (beyond.length > 0) {
    const sizeNow = Number((await db.selectFrom('audit_head').select('size').where('id', '=', 1).executeTakeFirstOrThrow()).size);
    for (const row of beyond) {
      const seq = Number(row.seq);
      if (seq >= sizeNow) problem({ code: 'entry-extra', index: seq, message: `entry ${seq} lies beyond the log's size ${size}` });
    }
  }
  if (expected < size) problem({ code: 'entry-missing', index: expected, message: `entries ${expected}..${size} are missing` });

  for (const { cp } of stored) {
    if (cp instanceof NoteError || !roots.has(cp.size)) continue;
    if (!roots.get(cp.size)!.equals(cp.rootHash)) {
      problem({ code: 'checkpoint-root', size: cp.size, message: `the entries no longer give the root signed at size ${cp.size}: entries before it were changed` });
    }
  }
  const root = roots.get(size) ?? builder.root();
  for (const cp of witnessed) {
    if (cp instanceof NoteError || !roots.has(cp.size)) continue;
    if (!roots.get(cp.size)!.equals(cp.rootHash)) {
      problem({ code: 'witness-root', size: cp.size, message: `the entries no longer give the root a witness saw at size ${cp.size}` });
      continue;
    }
    // the proof an outside party would be handed, from the stored hashes, must also hold
    let proof: Buffer[] = [];
    try {
      proof = await tree.consistencyProof(cp.size, size);
    } catch {
      proof = [];
    }
    if (!verifyConsistency(cp.size, size, cp.rootHash, root, proof)) {
      problem({ code: 'witness-consistency', size: cp.size, message: `no valid consistency proof from the witnessed size ${cp.size} to ${size}` });
    }
  }

  const verified = stored.filter(({ cp }) => !(cp instanceof NoteError));
  const latest = verified.length ? (verified[verified.length - 1]!.cp as { size: number }).size : null;
  return {
    ok: problems.length === 0,
    size,
    rootHash: root.toString('base64'),
    checkpoints: stored.length,
    latestCheckpoint: latest,
    unsigned: size - (latest ?? 0),
    witnessed: witnessed.length,
    problems,
  };
}

/** where the workers connect; undefined when they cannot share the database (in memory) */
function workerSource(url: string): WorkerSource | undefined {
  if (/^postgres(ql)?:\/\//.test(url)) return { dialect: 'postgres', url };
  const file = url.replace(/^sqlite:/, '');
  return file === '' || file === ':memory:' ? undefined : { dialect: 'sqlite', file };
}

export function workerCount(workers: number | 'auto', size: number): number {
  if (workers !== 'auto') return Math.max(0, Math.floor(workers));
  return size < PARALLEL_MIN ? 0 : Math.min(MAX_WORKERS, Math.max(2, availableParallelism()));
}

/**
 * Hands the ranges to `count` workers (verify-worker.ts), AHEAD at a time each, the next one to
 * whichever answers; `consume` sees the checked batches in range order. Rejects, and stops every
 * worker, when one fails.
 */
async function checkInWorkers(source: WorkerSource, ranges: readonly [number, number][], count: number, consume: (batch: CheckedBatch) => void): Promise<void> {
  const workers: Worker[] = [];
  const pending = new Map<number, CheckedBatch>();
  let sent = 0;
  let consumed = 0;
  let closing = false;
  const send = (worker: Worker) => {
    if (sent >= ranges.length) return;
    const [from, to] = ranges[sent]!;
    worker.postMessage({ batch: sent, from, to } satisfies ToVerifyWorker);
    sent += 1;
  };
  try {
    await new Promise<void>((resolve, reject) => {
      let exited = 0;
      const fail = (err: unknown) => {
        // a worker failing to close its connection once every batch is in changes nothing
        if (consumed === ranges.length) return;
        closing = true;
        reject(err);
      };
      for (let i = 0; i < count; i++) {
        const worker = new Worker(new URL('./verify-worker.js', import.meta.url), { workerData: source });
        workers.push(worker);
        worker.on('error', fail);
        worker.on('exit', (code) => {
          if (!closing) fail(new Error(`an audit verify worker stopped (exit code ${code}) before the entries were checked`));
          else if (++exited === count) resolve();
        });
        worker.on('message', (m: FromVerifyWorker) => {
          try {
            pending.set(m.batch, m.checked);
            for (let next = pending.get(consumed); next; next = pending.get(consumed)) {
              pending.delete(consumed);
              consume(next);
              consumed += 1;
            }
            send(worker);
            if (consumed === ranges.length) {
              closing = true;
              for (const w of workers) w.postMessage({ close: true } satisfies ToVerifyWorker);
            }
          } catch (err) {
            fail(err);
          }
        });
        for (let k = 0; k < AHEAD; k++) send(worker);
      }
    });
  } finally {
    // after a failure the others are stopped mid-batch; their connections close with their threads
    if (consumed < ranges.length) await Promise.all(workers.map((w) => w.terminate()));
  }
}
