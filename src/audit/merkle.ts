/**
 * RFC 9162 §2.1 Merkle tree hashing, proofs and proof verification, with no storage attached.
 *
 * Proof generation is split in two: which subtrees a proof needs (`inclusionRanges`,
 * `consistencyRanges`, pure index arithmetic that follows the RFC's recursive PATH and SUBPROOF
 * definitions) and the hashes of those subtrees, which the caller computes from whatever it
 * stores (src/audit/tree.ts). The verifiers are the RFC's iterative algorithms, §2.1.3.2 and
 * §2.1.4.2, so they never trust a hash the prover could choose.
 */
import { hash } from 'node:crypto';

export const HASH_SIZE = 32;

/** MTH({}): the hash of the empty tree */
export const EMPTY_ROOT: Buffer = hash('sha256', Buffer.alloc(0), 'buffer');

/** [start, end): the leaves a subtree covers */
export type Range = readonly [start: number, end: number];

export function leafHash(entry: Uint8Array): Buffer {
  const input = Buffer.allocUnsafe(entry.length + 1);
  input[0] = 0x00;
  input.set(entry, 1);
  return hash('sha256', input, 'buffer');
}

const nodeInput = Buffer.alloc(1 + 2 * HASH_SIZE, 0x01);

export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  // nodeInput is shared: a shorter input would hash stale bytes of the previous call, a longer
  // left one would be silently cut off by the right one
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) throw new RangeError('a Merkle tree node hash is 32 bytes');
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_SIZE);
  return hash('sha256', nodeInput, 'buffer');
}

/** the largest power of two smaller than n, for n > 1: the RFC's split point k */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * Builds MTH over leaf hashes pushed in order, keeping only the right edge: one perfect subtree
 * per set bit of the size. Memory is O(log n) whatever the size.
 */
export class TreeBuilder {
  private readonly hashes: Buffer[] = [];
  private readonly sizes: number[] = [];
  size = 0;

  /** `onSubtree` sees each complete subtree of `subtreeSize` leaves as it is formed */
  constructor(private readonly watch?: { subtreeSize: number; onSubtree: (start: number, hash: Buffer) => void }) {}

  /**
   * A builder that carries on from a tree of `size` leaves, given its right edge: the hashes of
   * the perfect subtrees `frontierRanges(size)` names, in that order. Whoever supplies them must
   * have checked them: the root of the frontier is the tree's root (`frontierRoot`).
   */
  static resume(size: number, frontier: readonly Buffer[], watch?: { subtreeSize: number; onSubtree: (start: number, hash: Buffer) => void }): TreeBuilder {
    const ranges = frontierRanges(size);
    if (frontier.length !== ranges.length || frontier.some((h) => h.length !== HASH_SIZE)) throw new RangeError('a frontier has one 32-byte hash per set bit of the size');
    const builder = new TreeBuilder(watch);
    for (let i = 0; i < ranges.length; i++) {
      builder.hashes.push(frontier[i]!);
      builder.sizes.push(ranges[i]![1] - ranges[i]![0]);
    }
    builder.size = size;
    return builder;
  }

  push(leaf: Buffer): void {
    let node = leaf;
    let size = 1;
    while (this.sizes.length > 0 && this.sizes[this.sizes.length - 1] === size) {
      node = hashChildren(this.hashes.pop()!, node);
      this.sizes.pop();
      size *= 2;
      if (size === this.watch?.subtreeSize) this.watch.onSubtree(this.size + 1 - size, node);
    }
    this.hashes.push(node);
    this.sizes.push(size);
    this.size += 1;
  }

  root(): Buffer {
    if (this.hashes.length === 0) return EMPTY_ROOT;
    let root = this.hashes[this.hashes.length - 1]!;
    for (let i = this.hashes.length - 2; i >= 0; i--) root = hashChildren(this.hashes[i]!, root);
    return root;
  }
}

/**
 * The right edge of a tree of `size` leaves: one perfect, aligned subtree per set bit of the size,
 * largest first ([0, 2^k), then the next, …). Their hashes are all a TreeBuilder keeps.
 */
export function frontierRanges(size: number): Range[] {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError('a tree size is a whole number');
  const ranges: Range[] = [];
  let start = 0;
  let top = 1;
  while (top * 2 <= size) top *= 2;
  for (let bit = top; bit >= 1; bit /= 2) {
    if (size - start >= bit) {
      ranges.push([start, start + bit]);
      start += bit;
    }
  }
  return ranges;
}

/** the root of a tree from its frontier (the hashes of `frontierRanges(size)`, in order) */
export function frontierRoot(frontier: readonly Buffer[]): Buffer {
  if (frontier.length === 0) return EMPTY_ROOT;
  let root = frontier[frontier.length - 1]!;
  for (let i = frontier.length - 2; i >= 0; i--) root = hashChildren(frontier[i]!, root);
  return root;
}

export function rootOf(leaves: readonly Buffer[]): Buffer {
  const builder = new TreeBuilder();
  for (const leaf of leaves) builder.push(leaf);
  return builder.root();
}

/** PATH(index, D[size]) as subtree ranges, in the RFC's order (the leaf's sibling first) */
export function inclusionRanges(index: number, size: number): Range[] {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    throw new RangeError('an inclusion proof needs 0 ≤ index < size');
  }
  const siblings: Range[] = [];
  let start = 0;
  let end = size;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (index < start + k) {
      siblings.push([start + k, end]);
      end = start + k;
    } else {
      siblings.push([start, start + k]);
      start += k;
    }
  }
  return siblings.reverse();
}

/** PROOF(first, D[second]) as subtree ranges, in the RFC's order; empty when first is 0 or second */
export function consistencyRanges(first: number, second: number): Range[] {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 0 || first > second) {
    throw new RangeError('a consistency proof needs 0 ≤ first ≤ second');
  }
  if (first === 0 || first === second) return [];
  const nodes: Range[] = [];
  let start = 0;
  let end = second;
  // SUBPROOF's flag b: true while the subtree in hand is the whole old tree's left edge
  let wholeOldTree = true;
  while (first !== end) {
    const k = splitPoint(end - start);
    if (first <= start + k) {
      nodes.push([start + k, end]);
      end = start + k;
    } else {
      nodes.push([start, start + k]);
      start += k;
      wholeOldTree = false;
    }
  }
  if (!wholeOldTree) nodes.push([start, end]);
  return nodes.reverse();
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** RFC 9162 §2.1.3.2 */
export function verifyInclusion(index: number, size: number, leaf: Uint8Array, path: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  if (leaf.length !== HASH_SIZE || path.some((p) => p.length !== HASH_SIZE)) return false;
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = hashChildren(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(r, root);
}

/**
 * RFC 9162 §2.1.4.2. The RFC defines proofs for 0 < first < second only; here first = second
 * needs an empty proof and equal roots, and first = 0 (the empty tree) needs an empty proof and
 * the empty-tree root.
 */
export function verifyConsistency(first: number, second: number, firstRoot: Uint8Array, secondRoot: Uint8Array, proof: readonly Uint8Array[]): boolean {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 0 || first > second) return false;
  if (firstRoot.length !== HASH_SIZE || secondRoot.length !== HASH_SIZE || proof.some((p) => p.length !== HASH_SIZE)) return false;
  if (first === 0) return proof.length === 0 && equal(firstRoot, EMPTY_ROOT);
  if (first === second) return proof.length === 0 && equal(firstRoot, secondRoot);
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : proof;
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Uint8Array = path[0]!;
  let sr: Uint8Array = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(fr, firstRoot) && equal(sr, secondRoot);
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}
