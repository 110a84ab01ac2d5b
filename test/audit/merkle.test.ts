/**
 * src/audit/merkle.ts against RFC 9162 §2.1: a naive reference written straight from the RFC's
 * recursive definitions (MTH, PATH, PROOF/SUBPROOF), the Certificate Transparency reference
 * vectors (RFC 6962 test data), and fast-check properties over random tree sizes comparing the
 * module's roots, proof ranges and iterative verifiers with the reference.
 *
 * The reference hashes with node:crypto createHash, not the module's helpers, so a bug in those
 * cannot hide in both.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  consistencyRanges,
  EMPTY_ROOT,
  hashChildren,
  inclusionRanges,
  leafHash,
  rootOf,
  splitPoint,
  TreeBuilder,
  verifyConsistency,
  verifyInclusion,
  type Range,
} from '../../src/audit/merkle.js';

// ---------------------------------------------------------------------------------------------
// reference: RFC 9162 §2.1.1–2.1.4, recursive and unoptimised, over arrays of leaf hashes

function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** MTH({d(0)}) = SHA-256(0x00 || d(0)) */
const refLeaf = (entry: Uint8Array): Buffer => sha256(Buffer.of(0x00), entry);
/** SHA-256(0x01 || left || right) */
const refNode = (left: Uint8Array, right: Uint8Array): Buffer => sha256(Buffer.of(0x01), left, right);

/** "k is the largest power of two smaller than n", by a different route than splitPoint */
function refK(n: number): number {
  return 2 ** Math.floor(Math.log2(n - 1));
}

/** MTH(D[n]) where D holds leaf hashes (so MTH of one element is that element) */
function refMTH(D: readonly Buffer[]): Buffer {
  const n = D.length;
  if (n === 0) return sha256();
  if (n === 1) return D[0]!;
  const k = refK(n);
  return refNode(refMTH(D.slice(0, k)), refMTH(D.slice(k)));
}

/** PATH(m, D[n]) */
function refPATH(m: number, D: readonly Buffer[]): Buffer[] {
  const n = D.length;
  if (n === 1) return [];
  const k = refK(n);
  if (m < k) return [...refPATH(m, D.slice(0, k)), refMTH(D.slice(k))];
  return [...refPATH(m - k, D.slice(k)), refMTH(D.slice(0, k))];
}

/** PROOF(m, D[n]) = SUBPROOF(m, D[n], true), for 0 < m < n */
function refPROOF(m: number, D: readonly Buffer[]): Buffer[] {
  return refSUBPROOF(m, D, true);
}

function refSUBPROOF(m: number, D: readonly Buffer[], b: boolean): Buffer[] {
  const n = D.length;
  if (m === n) return b ? [] : [refMTH(D)];
  const k = refK(n);
  if (m <= k) return [...refSUBPROOF(m, D.slice(0, k), b), refMTH(D.slice(k))];
  return [...refSUBPROOF(m - k, D.slice(k), false), refMTH(D.slice(0, k))];
}

/**
 * A reference verifier that undoes PATH's recursion: the root a path implies for leaf m of a tree
 * of n leaves, or undefined when the path has the wrong length. Used to say what the iterative
 * verifier must answer for a proof checked against the wrong index or size, where the answer is
 * not always "no" (a proof for leaf 0 of 3 leaves has the shape of one for leaf 0 of 4).
 */
function refRootFromPath(m: number, n: number, leaf: Buffer, path: readonly Buffer[]): Buffer | undefined {
  if (n === 1) return path.length === 0 ? leaf : undefined;
  if (path.length === 0) return undefined;
  const k = refK(n);
  const last = path[path.length - 1]!;
  const rest = path.slice(0, -1);
  if (m < k) {
    const left = refRootFromPath(m, k, leaf, rest);
    return left && refNode(left, last);
  }
  const right = refRootFromPath(m - k, n - k, leaf, rest);
  return right && refNode(last, right);
}

function refVerifyInclusion(m: number, n: number, leaf: Buffer, path: readonly Buffer[], root: Buffer): boolean {
  if (!(Number.isSafeInteger(m) && Number.isSafeInteger(n) && 0 <= m && m < n)) return false;
  return refRootFromPath(m, n, leaf, path)?.equals(root) ?? false;
}

/** undoes SUBPROOF's recursion: the [old root, new root] a proof implies, or undefined */
function refRootsFromProof(m: number, n: number, b: boolean, proof: readonly Buffer[], firstRoot: Buffer): [Buffer, Buffer] | undefined {
  if (m === n) {
    if (b) return proof.length === 0 ? [firstRoot, firstRoot] : undefined;
    return proof.length === 1 ? [proof[0]!, proof[0]!] : undefined;
  }
  if (proof.length === 0) return undefined;
  const k = refK(n);
  const last = proof[proof.length - 1]!;
  const rest = proof.slice(0, -1);
  if (m <= k) {
    const r = refRootsFromProof(m, k, b, rest, firstRoot);
    return r && [r[0], refNode(r[1], last)];
  }
  const r = refRootsFromProof(m - k, n - k, false, rest, firstRoot);
  return r && [refNode(last, r[0]), refNode(last, r[1])];
}

/** the RFC's verification for 0 < m < n; the module's conventions for m = 0 and m = n */
function refVerifyConsistency(m: number, n: number, firstRoot: Buffer, secondRoot: Buffer, proof: readonly Buffer[]): boolean {
  if (!(Number.isSafeInteger(m) && Number.isSafeInteger(n) && 0 <= m && m <= n)) return false;
  if (m === 0) return proof.length === 0 && firstRoot.equals(sha256());
  if (m === n) return proof.length === 0 && firstRoot.equals(secondRoot);
  const r = refRootsFromProof(m, n, true, proof, firstRoot);
  if (r === undefined) return false;
  return r[0].equals(firstRoot) && r[1].equals(secondRoot);
}

// ---------------------------------------------------------------------------------------------
// shared fixtures

const MAX_LEAVES = 5000;
/** distinct leaf hashes, so no two subtrees of any tree here share a hash */
const LEAVES: Buffer[] = Array.from({ length: MAX_LEAVES }, (_, i) => refLeaf(Buffer.from(`audit entry ${i}`, 'utf8')));
const D = (n: number): Buffer[] => LEAVES.slice(0, n);

const hex = (bs: readonly Buffer[]): string[] => bs.map((b) => b.toString('hex'));
const fromHex = (h: string): Buffer => Buffer.from(h, 'hex');

/** a proof built the way src/audit/tree.ts builds one: the ranges, each hashed on its own */
const hashRanges = (leaves: readonly Buffer[], ranges: readonly Range[], mth: (d: Buffer[]) => Buffer = refMTH): Buffer[] => ranges.map(([s, e]) => mth(leaves.slice(s, e)));

function flipped(b: Buffer, byte: number, bit = 0): Buffer {
  const c = Buffer.from(b);
  c[byte % c.length]! ^= 1 << bit;
  return c;
}

/** every way of damaging a proof that must make it fail whatever the sizes: all hashes are distinct */
function damagedProofs(proof: readonly Buffer[], salt: number): { what: string; proof: Buffer[] }[] {
  const out: { what: string; proof: Buffer[] }[] = [];
  const extra = refLeaf(Buffer.from(`not in the tree ${salt}`));
  proof.forEach((_, i) => {
    out.push({ what: `byte flipped in hash ${i}`, proof: proof.map((p, j) => (j === i ? flipped(p, salt + i, (salt + i) % 8) : p)) });
    out.push({ what: `hash ${i} dropped`, proof: proof.filter((_, j) => j !== i) });
    if (i + 1 < proof.length) {
      const swapped = [...proof];
      [swapped[i], swapped[i + 1]] = [swapped[i + 1]!, swapped[i]!];
      out.push({ what: `hashes ${i} and ${i + 1} swapped`, proof: swapped });
    }
  });
  out.push({ what: 'extra hash appended', proof: [...proof, extra] });
  out.push({ what: 'extra hash prepended', proof: [extra, ...proof] });
  if (proof.length > 1) out.push({ what: 'reversed', proof: [...proof].reverse() });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Certificate Transparency reference vectors (RFC 6962 test data, merkle_tree_test.cc)

const CT_ENTRIES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(fromHex);
const CT_ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const CT_EMPTY_ROOT = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const CT_INCLUSION = [
  {
    index: 0,
    size: 8,
    path: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    path: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];
const CT_CONSISTENCY = [
  {
    first: 2,
    second: 8,
    proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'],
  },
  {
    first: 6,
    second: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    first: 2,
    second: 5,
    proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'],
  },
];

describe('RFC 6962 reference vectors', () => {
  const ctLeaves = CT_ENTRIES.map(refLeaf);

  test('leaf hashing: reference and module agree', () => {
    assert.deepEqual(hex(CT_ENTRIES.map(leafHash)), hex(ctLeaves));
  });

  test('empty root', () => {
    assert.equal(refMTH([]).toString('hex'), CT_EMPTY_ROOT);
    assert.equal(EMPTY_ROOT.toString('hex'), CT_EMPTY_ROOT);
    assert.equal(rootOf([]).toString('hex'), CT_EMPTY_ROOT);
    assert.equal(new TreeBuilder().root().toString('hex'), CT_EMPTY_ROOT);
  });

  test('roots for sizes 1..8: reference, rootOf and a streaming TreeBuilder', () => {
    const builder = new TreeBuilder();
    CT_ROOTS.forEach((expected, i) => {
      const n = i + 1;
      builder.push(ctLeaves[i]!);
      assert.equal(builder.size, n);
      assert.equal(refMTH(ctLeaves.slice(0, n)).toString('hex'), expected, `reference MTH size ${n}`);
      assert.equal(rootOf(ctLeaves.slice(0, n)).toString('hex'), expected, `rootOf size ${n}`);
      assert.equal(builder.root().toString('hex'), expected, `TreeBuilder size ${n}`);
    });
  });

  for (const v of CT_INCLUSION) {
    test(`inclusion proof for leaf ${v.index} of ${v.size}`, () => {
      const leaves = ctLeaves.slice(0, v.size);
      const root = fromHex(CT_ROOTS[v.size - 1]!);
      assert.deepEqual(hex(refPATH(v.index, leaves)), v.path, 'reference PATH');
      // the module end to end: its ranges, each hashed with its own rootOf
      assert.deepEqual(hex(hashRanges(leaves, inclusionRanges(v.index, v.size), rootOf)), v.path, 'module');
      assert.equal(verifyInclusion(v.index, v.size, ctLeaves[v.index]!, v.path.map(fromHex), root), true);
      assert.equal(refVerifyInclusion(v.index, v.size, ctLeaves[v.index]!, v.path.map(fromHex), root), true);
    });
  }

  for (const v of CT_CONSISTENCY) {
    test(`consistency proof ${v.first} → ${v.second}`, () => {
      const leaves = ctLeaves.slice(0, v.second);
      const firstRoot = fromHex(CT_ROOTS[v.first - 1]!);
      const secondRoot = fromHex(CT_ROOTS[v.second - 1]!);
      assert.deepEqual(hex(refPROOF(v.first, leaves)), v.proof, 'reference PROOF');
      assert.deepEqual(hex(hashRanges(leaves, consistencyRanges(v.first, v.second), rootOf)), v.proof, 'module');
      assert.equal(verifyConsistency(v.first, v.second, firstRoot, secondRoot, v.proof.map(fromHex)), true);
      assert.equal(refVerifyConsistency(v.first, v.second, firstRoot, secondRoot, v.proof.map(fromHex)), true);
    });
  }
});

// ---------------------------------------------------------------------------------------------

describe('module against the reference, exhaustively for small trees', () => {
  test('splitPoint is the largest power of two below n', () => {
    for (let n = 2; n <= 4097; n++) assert.equal(splitPoint(n), refK(n), `n = ${n}`);
  });

  test('TreeBuilder root after every push, sizes 0..300', () => {
    const builder = new TreeBuilder();
    assert.deepEqual(builder.root(), refMTH([]));
    for (let n = 1; n <= 300; n++) {
      builder.push(LEAVES[n - 1]!);
      assert.deepEqual(builder.root(), refMTH(D(n)), `size ${n}`);
    }
  });

  test('every inclusion proof for sizes 1..40', () => {
    for (let n = 1; n <= 40; n++) {
      const leaves = D(n);
      const root = refMTH(leaves);
      for (let i = 0; i < n; i++) {
        const proof = hashRanges(leaves, inclusionRanges(i, n));
        assert.deepEqual(hex(proof), hex(refPATH(i, leaves)), `PATH(${i}, D[${n}])`);
        assert.equal(verifyInclusion(i, n, leaves[i]!, proof, root), true, `verify ${i} of ${n}`);
      }
    }
  });

  test('every consistency proof for sizes 1..40, including first = 0 and first = second', () => {
    for (let n = 1; n <= 40; n++) {
      const leaves = D(n);
      const root = refMTH(leaves);
      for (let m = 0; m <= n; m++) {
        const proof = hashRanges(leaves, consistencyRanges(m, n));
        const expected = m === 0 || m === n ? [] : refPROOF(m, leaves);
        assert.deepEqual(hex(proof), hex(expected), `PROOF(${m}, D[${n}])`);
        assert.equal(verifyConsistency(m, n, refMTH(D(m)), root, proof), true, `verify ${m} → ${n}`);
      }
    }
  });

  test('inclusion proofs checked against every other index and size agree with the recursive verifier', () => {
    let acceptedElsewhere = 0;
    for (let n = 1; n <= 16; n++) {
      const root = refMTH(D(n));
      for (let i = 0; i < n; i++) {
        const path = refPATH(i, D(n));
        for (let i2 = 0; i2 <= 20; i2++) {
          for (let n2 = 0; n2 <= 20; n2++) {
            const got = verifyInclusion(i2, n2, LEAVES[i]!, path, root);
            assert.equal(got, refVerifyInclusion(i2, n2, LEAVES[i]!, path, root), `proof for ${i} of ${n} checked as ${i2} of ${n2}`);
            // another position in the same tree never verifies
            if (n2 === n && i2 !== i) assert.equal(got, false);
            if (got && (i2 !== i || n2 !== n)) acceptedElsewhere += 1;
          }
        }
      }
    }
    // the RFC's verifier binds the size only through the path's shape: e.g. leaf 0 of 3 has the
    // shape of leaf 0 of 4. A checkpoint binds the size to the root; this pins that behaviour.
    assert.ok(acceptedElsewhere > 0);
  });

  test('consistency proofs checked against every other pair of sizes agree with the recursive verifier', () => {
    for (let n = 1; n <= 12; n++) {
      const secondRoot = refMTH(D(n));
      for (let m = 1; m < n; m++) {
        const firstRoot = refMTH(D(m));
        const proof = refPROOF(m, D(n));
        for (let m2 = 0; m2 <= 14; m2++) {
          for (let n2 = 0; n2 <= 14; n2++) {
            assert.equal(
              verifyConsistency(m2, n2, firstRoot, secondRoot, proof),
              refVerifyConsistency(m2, n2, firstRoot, secondRoot, proof),
              `proof ${m} → ${n} checked as ${m2} → ${n2}`,
            );
          }
        }
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------

/** checks one inclusion proof and every mutation of it */
function checkInclusion(n: number, i: number, other: number, salt: number): void {
  const leaves = D(n);
  const root = refMTH(leaves);
  const leaf = leaves[i]!;
  const proof = hashRanges(leaves, inclusionRanges(i, n));
  assert.deepEqual(hex(proof), hex(refPATH(i, leaves)), 'ranges hashed = PATH');
  assert.equal(verifyInclusion(i, n, leaf, proof, root), true, 'the proof verifies');

  // wrong index in the same tree: never
  const j = (i + 1 + (other % Math.max(1, n - 1))) % n;
  if (j !== i) assert.equal(verifyInclusion(j, n, leaf, proof, root), false, `wrong index ${j}`);
  // wrong size: whatever the RFC's recursion says (mostly no, see above)
  const n2 = n + 1 + (other % 64);
  assert.equal(verifyInclusion(i, n2, leaf, proof, root), refVerifyInclusion(i, n2, leaf, proof, root), `size ${n2}`);
  if (n > 1) {
    const n3 = i + 1 + (other % (n - i));
    if (n3 !== n) assert.equal(verifyInclusion(i, n3, leaf, proof, root), refVerifyInclusion(i, n3, leaf, proof, root), `size ${n3}`);
  }
  // wrong leaf, wrong root
  if (n > 1) assert.equal(verifyInclusion(i, n, leaves[j]!, proof, root), false, 'another leaf');
  assert.equal(verifyInclusion(i, n, flipped(leaf, salt), proof, root), false, 'leaf byte flipped');
  assert.equal(verifyInclusion(i, n, leaf, proof, flipped(root, salt)), false, 'root byte flipped');
  assert.equal(verifyInclusion(i, n, leaf, proof, refMTH(D(n + 1))), false, 'root of the next size');
  for (const d of damagedProofs(proof, salt)) assert.equal(verifyInclusion(i, n, leaf, d.proof, root), false, d.what);
}

/** checks one consistency proof, 0 < m < n, and every mutation of it */
function checkConsistency(n: number, m: number, other: number, salt: number): void {
  const leaves = D(n);
  const firstRoot = refMTH(D(m));
  const secondRoot = refMTH(leaves);
  const proof = hashRanges(leaves, consistencyRanges(m, n));
  assert.deepEqual(hex(proof), hex(refPROOF(m, leaves)), 'ranges hashed = PROOF');
  assert.equal(verifyConsistency(m, n, firstRoot, secondRoot, proof), true, 'the proof verifies');

  // other sizes: whatever the RFC's recursion says
  for (const [m2, n2] of [
    [1 + (other % (n - 1)), n],
    [m, n + 1 + (other % 64)],
    [m, m + 1 + (other % (n - m))],
    [m + 1, n],
    [m - 1, n],
  ] as const) {
    if (m2 === m && n2 === n) continue;
    assert.equal(verifyConsistency(m2, n2, firstRoot, secondRoot, proof), refVerifyConsistency(m2, n2, firstRoot, secondRoot, proof), `checked as ${m2} → ${n2}`);
  }
  // wrong roots
  assert.equal(verifyConsistency(m, n, flipped(firstRoot, salt), secondRoot, proof), false, 'first root flipped');
  assert.equal(verifyConsistency(m, n, firstRoot, flipped(secondRoot, salt), proof), false, 'second root flipped');
  assert.equal(verifyConsistency(m, n, secondRoot, firstRoot, proof), false, 'roots swapped');
  assert.equal(verifyConsistency(m, n, refMTH(D(m + 1)), secondRoot, proof), false, 'first root of another size');
  assert.equal(verifyConsistency(m, n, firstRoot, refMTH(D(n + 1)), proof), false, 'second root of another size');
  for (const d of damagedProofs(proof, salt)) assert.equal(verifyConsistency(m, n, firstRoot, secondRoot, d.proof), false, d.what);
}

describe('module against the reference, random sizes (fast-check)', () => {
  test('rootOf = MTH, sizes 0..600', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 600 }), (n) => {
        assert.deepEqual(rootOf(D(n)), refMTH(D(n)));
      }),
      { numRuns: 100 },
    );
  });

  test('rootOf = MTH, sizes up to 5000', () => {
    fc.assert(
      fc.property(fc.integer({ min: 600, max: MAX_LEAVES }), (n) => {
        assert.deepEqual(rootOf(D(n)), refMTH(D(n)));
      }),
      { numRuns: 10 },
    );
  });

  const inclusionCase = (maxSize: number) =>
    fc
      .record({ n: fc.integer({ min: 1, max: maxSize }), at: fc.nat(), other: fc.nat(), salt: fc.nat({ max: 1000 }) })
      .map(({ n, at, other, salt }) => ({ n, i: at % n, other, salt }));
  // bias towards the edges, where the off-by-one bugs live
  const edgeInclusionCase = (maxSize: number) =>
    fc
      .record({ n: fc.integer({ min: 1, max: maxSize }), edge: fc.constantFrom('first', 'last', 'last-but-one'), other: fc.nat(), salt: fc.nat({ max: 1000 }) })
      .map(({ n, edge, other, salt }) => ({ n, i: edge === 'first' ? 0 : edge === 'last' ? n - 1 : Math.max(0, n - 2), other, salt }));

  test('inclusion proofs, sizes 1..600', () => {
    fc.assert(
      fc.property(fc.oneof(inclusionCase(600), edgeInclusionCase(600)), ({ n, i, other, salt }) => checkInclusion(n, i, other, salt)),
      { numRuns: 150 },
    );
  });

  test('inclusion proofs, sizes up to 5000', () => {
    fc.assert(
      fc.property(fc.oneof(inclusionCase(MAX_LEAVES - 100), edgeInclusionCase(MAX_LEAVES - 100)), ({ n, i, other, salt }) => checkInclusion(n, i, other, salt)),
      { numRuns: 12 },
    );
  });

  const consistencyCase = (maxSize: number) =>
    fc.record({ n: fc.integer({ min: 2, max: maxSize }), at: fc.nat(), other: fc.nat(), salt: fc.nat({ max: 1000 }), pow2: fc.boolean() }).map(({ n, at, other, salt, pow2 }) => {
      // a power-of-two first size takes the RFC verifier's other branch; make it common
      let m = 1 + (at % (n - 1));
      if (pow2) m = 2 ** Math.floor(Math.log2(m));
      return { n, m, other, salt };
    });

  test('consistency proofs, sizes 2..600', () => {
    fc.assert(
      fc.property(consistencyCase(600), ({ n, m, other, salt }) => checkConsistency(n, m, other, salt)),
      { numRuns: 150 },
    );
  });

  test('consistency proofs, sizes up to 5000', () => {
    fc.assert(
      fc.property(consistencyCase(MAX_LEAVES - 100), ({ n, m, other, salt }) => checkConsistency(n, m, other, salt)),
      { numRuns: 12 },
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('edge cases and invalid arguments', () => {
  const root5 = refMTH(D(5));

  test('consistency from the empty tree: empty proof and the empty-tree root', () => {
    assert.deepEqual(consistencyRanges(0, 0), []);
    assert.deepEqual(consistencyRanges(0, 5), []);
    assert.equal(verifyConsistency(0, 5, EMPTY_ROOT, root5, []), true);
    assert.equal(verifyConsistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, []), true);
    assert.equal(verifyConsistency(0, 5, root5, root5, []), false, 'first root is not the empty tree');
    assert.equal(verifyConsistency(0, 5, EMPTY_ROOT, root5, [LEAVES[0]!]), false, 'a proof where none is due');
  });

  test('consistency with itself: empty proof and equal roots', () => {
    assert.deepEqual(consistencyRanges(5, 5), []);
    assert.equal(verifyConsistency(5, 5, root5, root5, []), true);
    assert.equal(verifyConsistency(5, 5, root5, refMTH(D(4)), []), false, 'different roots');
    assert.equal(verifyConsistency(5, 5, root5, root5, [LEAVES[0]!]), false, 'a proof where none is due');
    assert.equal(verifyConsistency(4, 5, refMTH(D(4)), root5, []), false, 'empty proof for 0 < first < second');
  });

  test('a tree of one leaf: the leaf is the root, the path is empty', () => {
    assert.deepEqual(inclusionRanges(0, 1), []);
    assert.equal(verifyInclusion(0, 1, LEAVES[0]!, [], LEAVES[0]!), true);
    assert.equal(verifyInclusion(0, 1, LEAVES[0]!, [LEAVES[1]!], LEAVES[0]!), false);
  });

  test('inclusionRanges and consistencyRanges throw RangeError outside their domain', () => {
    for (const [index, size] of [
      [0, 0],
      [5, 5],
      [6, 5],
      [-1, 5],
      [1.5, 5],
      [0, Number.NaN],
      [0, 2 ** 53],
    ]) {
      assert.throws(() => inclusionRanges(index!, size!), RangeError, `inclusionRanges(${index}, ${size})`);
    }
    for (const [first, second] of [
      [6, 5],
      [-1, 5],
      [-1, -1],
      [1, 1.5],
      [Number.NaN, 5],
      [0, Infinity],
    ]) {
      assert.throws(() => consistencyRanges(first!, second!), RangeError, `consistencyRanges(${first}, ${second})`);
    }
  });

  test('the verifiers answer false outside their domain', () => {
    const path = refPATH(2, D(5));
    assert.equal(verifyInclusion(2, 5, LEAVES[2]!, path, root5), true);
    for (const [index, size] of [
      [5, 5],
      [7, 5],
      [-1, 5],
      [2, 0],
      [2, -5],
      [2.5, 5],
      [Number.NaN, 5],
      [2, Infinity],
    ]) {
      assert.equal(verifyInclusion(index!, size!, LEAVES[2]!, path, root5), false, `verifyInclusion(${index}, ${size})`);
    }
    const proof = refPROOF(3, D(5));
    const root3 = refMTH(D(3));
    assert.equal(verifyConsistency(3, 5, root3, root5, proof), true);
    for (const [first, second] of [
      [5, 3],
      [-3, 5],
      [3, -5],
      [3.5, 5],
      [3, Number.NaN],
      [3, Infinity],
    ]) {
      assert.equal(verifyConsistency(first!, second!, root3, root5, proof), false, `verifyConsistency(${first}, ${second})`);
    }
  });

  test('hashes that are not 32 bytes are refused, not truncated or padded', () => {
    // hashChildren shares one input buffer: a short hash would pick up the previous call's bytes
    const long = Buffer.concat([LEAVES[0]!, Buffer.of(0xff)]);
    const short = LEAVES[0]!.subarray(0, 31);
    const root2 = refMTH(D(2));
    hashChildren(LEAVES[0]!, LEAVES[1]!); // leaves LEAVES[0]'s last byte in that buffer
    assert.equal(verifyInclusion(0, 2, long, [LEAVES[1]!], root2), false, '33-byte leaf');
    assert.equal(verifyInclusion(0, 2, short, [LEAVES[1]!], root2), false, '31-byte leaf');
    assert.equal(verifyInclusion(1, 2, LEAVES[1]!, [long], root2), false, '33-byte path hash');
    assert.equal(verifyInclusion(1, 2, LEAVES[1]!, [short], root2), false, '31-byte path hash');
    const root4 = refMTH(D(4));
    const root8 = refMTH(D(8));
    const proof = refPROOF(4, D(8));
    assert.equal(verifyConsistency(4, 8, root4, root8, proof), true);
    assert.equal(verifyConsistency(4, 8, Buffer.concat([root4, Buffer.of(1)]), root8, proof), false, '33-byte first root');
    assert.equal(verifyConsistency(4, 8, root4, Buffer.concat([root8, Buffer.of(1)]), proof), false, '33-byte second root');
    assert.equal(verifyConsistency(4, 8, root4, root8, [Buffer.concat([proof[0]!, Buffer.of(1)])]), false, '33-byte proof hash');
    assert.equal(verifyConsistency(5, 5, short, short, []), false, 'equal but short roots');
    assert.throws(() => hashChildren(short, LEAVES[1]!), RangeError);
    assert.throws(() => hashChildren(LEAVES[0]!, long), RangeError);
  });
});
