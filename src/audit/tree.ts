/**
 * The Merkle tree over the stored audit log: roots and proofs for any size up to the log's.
 *
 * Any subtree hash is computed from stored leaf hashes, except that a complete, aligned run of
 * SUBTREE_SIZE leaves is read from `audit_subtrees` once someone has computed it. So a root or a
 * proof for a log of n entries reads about n/256 stored hashes and at most two runs of leaves,
 * not n leaves. Nothing here is trusted: a proof built from a tampered row fails against a signed
 * checkpoint, and `audit verify` recomputes every hash from the entries themselves.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { consistencyRanges, frontierRanges, hashChildren, inclusionRanges, rootOf, splitPoint, type Range } from './merkle.js';

export const SUBTREE_SIZE = 256;
/** complete subtrees computed per query when filling the cache */
const FILL_BATCH = 64;

export class AuditTree {
  /** subtree hashes by start index; they never change once the leaves exist */
  private readonly subtrees = new Map<number, Buffer>();

  constructor(private readonly db: Kysely<Database>) {}

  async root(size: number): Promise<Buffer> {
    return size === 0 ? rootOf([]) : this.rangeHash([0, size]);
  }

  async inclusionProof(index: number, size: number): Promise<Buffer[]> {
    return this.rangeHashes(inclusionRanges(index, size));
  }

  async consistencyProof(first: number, second: number): Promise<Buffer[]> {
    return this.rangeHashes(consistencyRanges(first, second));
  }

  /**
   * The right edge of the tree of `size` leaves, from the stored hashes (merkle.ts
   * `frontierRanges`): about size / SUBTREE_SIZE stored hashes, in one query per set bit of the size.
   */
  async frontier(size: number): Promise<Buffer[]> {
    const out: Buffer[] = [];
    for (const [start, end] of frontierRanges(size)) {
      out.push(end - start >= SUBTREE_SIZE ? rootOf(await this.subtreeHashes(start, end)) : rootOf(await this.leafHashes(start, end)));
    }
    return out;
  }

  /** stored leaf hashes for from ≤ index < to; fails if any is missing */
  async leafHashes(from: number, to: number): Promise<Buffer[]> {
    if (to <= from) return [];
    const rows = await this.db.selectFrom('audit_entries').select(['seq', 'leaf_hash']).where('seq', '>=', from).where('seq', '<', to).orderBy('seq').execute();
    if (rows.length !== to - from || rows.some((r, i) => Number(r.seq) !== from + i)) {
      throw new Error(`audit entries ${from}..${to} are not all present`);
    }
    return rows.map((r) => Buffer.from(r.leaf_hash, 'hex'));
  }

  private async rangeHashes(ranges: Range[]): Promise<Buffer[]> {
    const out: Buffer[] = [];
    for (const range of ranges) out.push(await this.rangeHash(range));
    return out;
  }

  /**
   * MTH of the leaves in [start, end). Every range the RFC recursion produces starts at a
   * multiple of the smallest power of two ≥ its length, so a range of at most SUBTREE_SIZE leaves
   * lies inside one aligned run, and the left half of a longer one is whole runs.
   */
  private async rangeHash([start, end]: Range): Promise<Buffer> {
    if (end - start <= SUBTREE_SIZE) return rootOf(await this.leafHashes(start, end));
    const k = splitPoint(end - start);
    const left = rootOf(await this.subtreeHashes(start, start + k));
    return hashChildren(left, await this.rangeHash([start + k, end]));
  }

  /** hashes of the complete runs of SUBTREE_SIZE leaves between start and end (both multiples of it) */
  async subtreeHashes(start: number, end: number): Promise<Buffer[]> {
    const starts: number[] = [];
    for (let s = start; s < end; s += SUBTREE_SIZE) starts.push(s);
    const missing = starts.filter((s) => !this.subtrees.has(s));
    if (missing.length > 0) {
      const rows = await this.db.selectFrom('audit_subtrees').selectAll().where('start', '>=', missing[0]!).where('start', '<', end).execute();
      for (const row of rows) this.subtrees.set(Number(row.start), Buffer.from(row.hash, 'hex'));
    }
    const uncached = starts.filter((s) => !this.subtrees.has(s));
    for (let i = 0; i < uncached.length; i += FILL_BATCH) {
      const batch = uncached.slice(i, i + FILL_BATCH);
      const first = batch[0]!;
      const last = batch[batch.length - 1]! + SUBTREE_SIZE;
      const leaves = await this.leafHashes(first, last);
      const computed = batch.map((s) => ({ start: s, hash: rootOf(leaves.slice(s - first, s - first + SUBTREE_SIZE)) }));
      await this.db
        .insertInto('audit_subtrees')
        .values(computed.map((c) => ({ start: c.start, hash: c.hash.toString('hex') })))
        .onConflict((oc) => oc.column('start').doNothing())
        .execute();
      for (const c of computed) this.subtrees.set(c.start, c.hash);
    }
    return starts.map((s) => this.subtrees.get(s)!);
  }
}
