/**
 * Verification of the stored audit log.
 *
 * Full: every entry is re-hashed and the tree rebuilt from the entries alone, then compared with
 * every stored checkpoint and every checkpoint a witness kept. Nothing stored beside the entries
 * (leaf hashes, subtree hashes, the lookup columns) is trusted; each is checked against what the
 * entries give.
 *
 * Incremental (`sinceCheckpoint`): starts from the signed checkpoint the last verification
 * reached (verifications.ts), at size m. The stored hashes of the tree's right edge at m must give
 * the root signed at m, which ties them to it; from there only the entries m… are read and
 * re-hashed, the tree is carried on to the log's size n and compared with the checkpoints signed
 * after m, and the RFC 9162 consistency proof from m to n that the store hands out must hold. Time
 * is proportional to n − m (plus about m / 256 stored hashes). It proves that the log extends the
 * signed checkpoint at m and that the entries after m are intact; it does not re-read the entries
 * before m, so an entry before m whose text was changed while its stored leaf hash was left alone
 * is found by the full verify only (docs/audit-log.md).
 *
 * What either can and cannot see (docs/audit-log.md): any change to entries a checkpoint covers is
 * found. Entries after the latest checkpoint are signed by nothing yet, so a rewrite of those
 * alone is indistinguishable from normal appends; the report says how many there are.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { openCheckpoint, type Checkpoint } from './checkpoint.js';
import { EMPTY_ROOT, frontierRoot, HASH_SIZE, TreeBuilder, verifyConsistency } from './merkle.js';
import { NoteError, type NoteVerifier } from './signed-note.js';
import { SUBTREE_SIZE, type AuditTree } from './tree.js';
import { latestFullVerification, latestVerification, recordVerification, type Verification } from './verifications.js';
import {
  batchViews,
  checkRows,
  COLUMNS_MISMATCH,
  LEAF_HASH_MISMATCH,
  ROW_COLUMNS,
  SEARCH_COLUMNS_MISMATCH,
  type CheckedBatch,
  type FromVerifyWorker,
  type RowReader,
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
  | 'witness-consistency'
  | 'checkpoint-consistency'
  | 'verification-record';

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
  /** full: every entry re-hashed; incremental: those after the checkpoint `since` */
  mode: 'full' | 'incremental';
  /** the first entry re-hashed (0 for a full verify) */
  from: number;
  /** entries re-hashed: size − from */
  checked: number;
  /** the verification an incremental one started from (its signed checkpoint); null when full */
  since: Verification | null;
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
  /**
   * Reads the rows checked on this thread as arrays straight from the driver (verify-rows.ts
   * `sqliteRowReader`; the vault gives SQLite's); without it they are read through Kysely.
   */
  readRows?: RowReader;
  /**
   * Start from the signed checkpoint the last verification reached and re-hash only the entries
   * after it; without any verification recorded yet, verify in full.
   */
  sinceCheckpoint?: boolean;
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
  return (await verifyWith(db, tree, log, witnessNotes, options)).report;
}

/** a verification as `audit verify` reports it: with what it recorded and the last full one */
export interface RecordedVerifyReport extends VerifyReport {
  /** the latest full verification that passed, this one included */
  lastFull: Verification | null;
  /** what this run recorded as verified: the latest checkpoint it reached, when it passed */
  recorded: Verification | null;
}

/**
 * verifyAuditLog, then, when it passed, records the latest checkpoint it reached (verifications.ts):
 * where the next `sinceCheckpoint` verification starts.
 */
export async function verifyAndRecord(
  db: Kysely<Database>,
  tree: AuditTree,
  log: { verifier: NoteVerifier; origin: string },
  witnessNotes: readonly string[] = [],
  options: VerifyOptions & { now?: Date } = {},
): Promise<RecordedVerifyReport> {
  const { report, run } = await verifyWith(db, tree, log, witnessNotes, options);
  let recorded: Verification | null = null;
  if (report.ok && report.latestCheckpoint !== null) {
    recorded = { size: report.latestCheckpoint, mode: report.mode, rootHash: run.signedRoot(report.latestCheckpoint)!, verifiedAt: (options.now ?? new Date()).toISOString() };
    await recordVerification(db, recorded);
  }
  return { ...report, lastFull: recorded?.mode === 'full' ? recorded : ((await latestFullVerification(db)) ?? null), recorded };
}

async function verifyWith(
  db: Kysely<Database>,
  tree: AuditTree,
  log: { verifier: NoteVerifier; origin: string },
  witnessNotes: readonly string[],
  options: VerifyOptions,
): Promise<{ report: VerifyReport; run: VerifyRun }> {
  const since = options.sinceCheckpoint ? await latestVerification(db) : undefined;
  const run = new VerifyRun(db, tree, log, options);
  return { report: since ? await run.incremental(since, witnessNotes) : await run.full(witnessNotes), run };
}

type Opened = Checkpoint | NoteError;

/** one run of verifyAuditLog */
class VerifyRun {
  private readonly problems: VerifyProblem[] = [];
  /** roots of the stored checkpoints whose signature verified, base64, by size */
  private readonly signed = new Map<number, string>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly tree: AuditTree,
    private readonly log: { verifier: NoteVerifier; origin: string },
    private readonly options: VerifyOptions,
  ) {}

  signedRoot(size: number): string | undefined {
    return this.signed.get(size);
  }

  private problem(p: VerifyProblem): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(p);
  }

  private open(note: string): Opened {
    try {
      return openCheckpoint(note, this.log.verifier, this.log.origin);
    } catch (err) {
      if (err instanceof NoteError) return err;
      throw err;
    }
  }

  private async logSize(): Promise<number> {
    return Number((await this.db.selectFrom('audit_head').select('size').where('id', '=', 1).executeTakeFirstOrThrow()).size);
  }

  /**
   * Opens the stored checkpoints of at least `from` entries and the witnessed ones; reports those
   * that do not verify or claim more entries than the log holds. Returns the rest, and adds their
   * sizes to `wanted`: the sizes whose roots the run must compute.
   */
  private async checkpoints(from: number, size: number, witnessNotes: readonly string[], wanted: Set<number>) {
    const rows = await this.db.selectFrom('audit_checkpoints').selectAll().where('size', '>=', from).orderBy('size').execute();
    const stored = rows.map((row) => ({ row, cp: this.open(row.note) }));
    const witnessed = witnessNotes.map((note) => this.open(note));
    for (const { row, cp } of stored) {
      if (cp instanceof NoteError)
        this.problem({ code: 'checkpoint-signature', size: Number(row.size), message: `the checkpoint stored for size ${row.size} does not verify: ${cp.message}` });
      else if (cp.size !== Number(row.size))
        this.problem({ code: 'checkpoint-signature', size: Number(row.size), message: `the checkpoint stored for size ${row.size} is signed for size ${cp.size}` });
      else if (cp.size > size)
        this.problem({ code: 'checkpoint-beyond-log', size: cp.size, message: `a checkpoint signed ${cp.size} entries but the log holds ${size}: entries were removed` });
      else {
        wanted.add(cp.size);
        this.signed.set(cp.size, cp.rootHash.toString('base64'));
      }
    }
    witnessed.forEach((cp, i) => {
      if (cp instanceof NoteError) this.problem({ code: 'witness-signature', message: `witnessed checkpoint ${i + 1} does not verify: ${cp.message}` });
      else if (cp.size > size)
        this.problem({ code: 'witness-beyond-log', size: cp.size, message: `a witness saw ${cp.size} entries but the log holds ${size}: entries were removed` });
      else if (cp.size >= from) wanted.add(cp.size);
    });
    return { stored, witnessed };
  }

  /**
   * Re-hashes the entries from ≤ seq < size into `builder`, checking each against its stored leaf
   * hash and columns, and the subtree cache against the runs it completes; keeps the root at
   * every size in `wanted`.
   */
  private async entries(from: number, size: number, builder: TreeBuilder, wanted: Set<number>, roots: Map<number, Buffer>): Promise<void> {
    // Entries are checked in batches of seq ranges [from, to) below the size read before, on this
    // thread or in workers with connections of their own, and consumed here strictly in order.
    // Appends only add rows at seq >= size, so the batches see one consistent log even when read on
    // different connections at different times; a row below the size tampered with while this runs
    // may be seen before or after the change, as it would be by one connection reading in batches.
    let expected = from;
    const consume = (batch: CheckedBatch) => {
      const { seqs, hashes, flags } = batchViews(batch);
      for (let i = 0; i < batch.count; i++) {
        const seq = seqs[i]!;
        if (seq !== expected) {
          this.problem({ code: 'entry-missing', index: expected, message: `entries ${expected}..${seq} are missing` });
          expected = seq;
        }
        const f = flags[i]!;
        if (f & LEAF_HASH_MISMATCH) this.problem({ code: 'leaf-hash', index: seq, message: `entry ${seq} does not match its stored hash` });
        if (f & COLUMNS_MISMATCH) this.problem({ code: 'index-column', index: seq, message: `entry ${seq}'s lookup columns differ from the entry` });
        if (f & SEARCH_COLUMNS_MISMATCH)
          this.problem({ code: 'search-column', index: seq, message: `entry ${seq}'s search columns (time, action, outcome, actor) differ from the entry` });
        builder.push(hashes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE));
        expected += 1;
        if (wanted.has(builder.size)) roots.set(builder.size, builder.root());
      }
    };
    const batchSize = this.options.batchSize ?? BATCH;
    const ranges: [from: number, to: number][] = [];
    for (let start = from; start < size; start += batchSize) ranges.push([start, Math.min(size, start + batchSize)]);
    const source = this.options.url === undefined ? undefined : workerSource(this.options.url);
    if (source === undefined && typeof this.options.workers === 'number' && this.options.workers > 0) throw new Error('verify workers need the URL of a database they can open');
    const workers = source === undefined ? 0 : Math.min(ranges.length, workerCount(this.options.workers ?? 'auto', size - from));
    if (workers > 0) {
      await checkInWorkers(source!, ranges, workers, consume);
    } else {
      const read = this.options.readRows;
      for (const [start, to] of ranges) {
        if (read) {
          consume(checkRows(read(start, to)));
          continue;
        }
        const rows = await this.db.selectFrom('audit_entries').select(ROW_COLUMNS).where('seq', '>=', start).where('seq', '<', to).orderBy('seq').execute();
        consume(checkRows(rows.map((r) => [r.seq, r.entry, r.leaf_hash, r.recording_id, r.identifier_hash, r.time, r.action, r.outcome, r.actor_id, r.actor_name])));
      }
    }
    // Rows beyond the size. One appended since the size was read is no problem: the head row moves
    // in the same transaction as the insert, so the size read after these rows covers it.
    const beyond = await this.db.selectFrom('audit_entries').select('seq').where('seq', '>=', size).orderBy('seq').limit(MAX_PROBLEMS).execute();
    if (beyond.length > 0) {
      const sizeNow = await this.logSize();
      for (const row of beyond) {
        const seq = Number(row.seq);
        if (seq >= sizeNow) this.problem({ code: 'entry-extra', index: seq, message: `entry ${seq} lies beyond the log's size ${size}` });
      }
    }
    if (expected < size) this.problem({ code: 'entry-missing', index: expected, message: `entries ${expected}..${size} are missing` });
  }

  /** the subtree cache rows from `from` on, to compare with the runs the entries complete */
  private async subtreeWatch(from: number): Promise<{ subtreeSize: number; onSubtree: (start: number, hash: Buffer) => void }> {
    const storedSubtrees = new Map<number, string>();
    const rows = await this.db.selectFrom('audit_subtrees').selectAll().where('start', '>=', from).execute();
    for (const row of rows) storedSubtrees.set(Number(row.start), row.hash);
    return {
      subtreeSize: SUBTREE_SIZE,
      onSubtree: (start, hash) => {
        const cached = storedSubtrees.get(start);
        if (cached !== undefined && cached !== hash.toString('hex'))
          this.problem({ code: 'subtree-cache', index: start, message: `the stored hash of entries ${start}..${start + SUBTREE_SIZE} is wrong` });
      },
    };
  }

  /** compares the computed roots with the checkpoints and witnesses of at least `from` entries */
  private async compare(stored: { cp: Opened }[], witnessed: Opened[], roots: Map<number, Buffer>, size: number, root: Buffer): Promise<void> {
    for (const { cp } of stored) {
      if (cp instanceof NoteError || !roots.has(cp.size)) continue;
      if (!roots.get(cp.size)!.equals(cp.rootHash)) {
        this.problem({ code: 'checkpoint-root', size: cp.size, message: `the entries no longer give the root signed at size ${cp.size}: entries before it were changed` });
      }
    }
    for (const cp of witnessed) {
      if (cp instanceof NoteError || !roots.has(cp.size)) continue;
      if (!roots.get(cp.size)!.equals(cp.rootHash)) {
        this.problem({ code: 'witness-root', size: cp.size, message: `the entries no longer give the root a witness saw at size ${cp.size}` });
        continue;
      }
      // the proof an outside party would be handed, from the stored hashes, must also hold
      if (!(await this.consistent(cp.size, size, cp.rootHash, root))) {
        this.problem({ code: 'witness-consistency', size: cp.size, message: `no valid consistency proof from the witnessed size ${cp.size} to ${size}` });
      }
    }
  }

  /** whether the consistency proof the store gives from `first` to `second` holds between the roots */
  private async consistent(first: number, second: number, firstRoot: Buffer, secondRoot: Buffer): Promise<boolean> {
    let proof: Buffer[] = [];
    try {
      proof = await this.tree.consistencyProof(first, second);
    } catch {
      proof = [];
    }
    return verifyConsistency(first, second, firstRoot, secondRoot, proof);
  }

  private report(mode: 'full' | 'incremental', from: number, size: number, root: Buffer, stored: { cp: Opened }[], witnessed: number, since: Verification | null) {
    const verified = stored.filter(({ cp }) => !(cp instanceof NoteError)).map(({ cp }) => (cp as Checkpoint).size);
    const latest = verified.length ? verified[verified.length - 1]! : null;
    return {
      ok: this.problems.length === 0,
      size,
      rootHash: root.toString('base64'),
      checkpoints: stored.length,
      latestCheckpoint: latest,
      unsigned: size - (latest ?? 0),
      witnessed,
      problems: this.problems,
      mode,
      from,
      checked: Math.max(0, size - from),
      since,
    };
  }

  async full(witnessNotes: readonly string[]): Promise<VerifyReport> {
    const size = await this.logSize();
    const wanted = new Set<number>([size]);
    const { stored, witnessed } = await this.checkpoints(0, size, witnessNotes, wanted);
    const roots = new Map<number, Buffer>([[0, EMPTY_ROOT]]);
    const builder = new TreeBuilder(await this.subtreeWatch(0));
    await this.entries(0, size, builder, wanted, roots);
    const root = roots.get(size) ?? builder.root();
    await this.compare(stored, witnessed, roots, size, root);
    return this.report('full', 0, size, root, stored, witnessed.length, null);
  }

  async incremental(since: Verification, witnessNotes: readonly string[]): Promise<VerifyReport> {
    const size = await this.logSize();
    const m = since.size;
    const wanted = new Set<number>([size]);
    const { stored, witnessed } = await this.checkpoints(m, size, witnessNotes, wanted);
    const stop = () => this.report('incremental', m, size, EMPTY_ROOT, stored, witnessed.length, since);

    // the anchor is the signed checkpoint at m, never the recorded row
    const anchor = this.signed.has(m) ? (stored.find(({ cp }) => !(cp instanceof NoteError) && cp.size === m)?.cp as Checkpoint) : undefined;
    if (!anchor) {
      if (!stored.some(({ row }) => Number(row.size) === m))
        this.problem({
          code: 'verification-record',
          size: m,
          message: `the checkpoint at size ${m}, which the last verification reached, is no longer stored: run a full \`audit verify\``,
        });
      return stop();
    }
    const signedRoot = anchor.rootHash;
    if (since.rootHash !== signedRoot.toString('base64'))
      this.problem({ code: 'verification-record', size: m, message: `the verification recorded for size ${m} names another root than the checkpoint signed there` });

    // the stored right edge of the tree at m must give the signed root: that ties it to the signature
    let frontier: Buffer[];
    try {
      frontier = await this.tree.frontier(m);
    } catch {
      this.problem({ code: 'entry-missing', size: m, message: `entries before ${m} are missing: run a full \`audit verify\`` });
      return stop();
    }
    if (!frontierRoot(frontier).equals(signedRoot)) {
      this.problem({
        code: 'checkpoint-root',
        size: m,
        message: `the stored hashes of the entries before ${m} no longer give the root signed at size ${m}: entries before it were changed; run a full \`audit verify\``,
      });
      return stop();
    }

    const roots = new Map<number, Buffer>([[m, signedRoot]]);
    const builder = TreeBuilder.resume(m, frontier, await this.subtreeWatch(Math.floor(m / SUBTREE_SIZE) * SUBTREE_SIZE));
    await this.entries(m, size, builder, wanted, roots);
    const root = roots.get(size) ?? builder.root();
    await this.compare(stored, witnessed, roots, size, root);
    // the proof an auditor holding the checkpoint at m would be handed must hold too
    if (!(await this.consistent(m, size, signedRoot, root)))
      this.problem({ code: 'checkpoint-consistency', size: m, message: `no valid consistency proof from the checkpoint at size ${m} to the log's ${size} entries` });
    // a witness that saw the log before m: its root must extend to the signed one at m
    for (const cp of witnessed) {
      if (cp instanceof NoteError || cp.size >= m || cp.size > size) continue;
      if (!(await this.consistent(cp.size, m, cp.rootHash, signedRoot)))
        this.problem({ code: 'witness-consistency', size: cp.size, message: `no valid consistency proof from the witnessed size ${cp.size} to the checkpoint at ${m}` });
    }
    return this.report('incremental', m, size, root, stored, witnessed.length, since);
  }
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
