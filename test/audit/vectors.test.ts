/**
 * Runs every audit test vector in test/fixtures/audit-vectors.json (scripts/make-audit-vectors.ts)
 * through the modules: leaf hashes, roots, proofs (both the ranges the module builds and the
 * verifiers), and every checkpoint note; and checks that the committed file is exactly what the
 * generator produces.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { auditVectorsJson, generateAuditVectors, type AuditVectors, type CheckpointFailure } from '../../scripts/make-audit-vectors.js';
import { openCheckpoint } from '../../src/audit/checkpoint.js';
import { consistencyRanges, inclusionRanges, leafHash, rootOf, TreeBuilder, verifyConsistency, verifyInclusion } from '../../src/audit/merkle.js';
import { formatVerifierKey, NoteError, parseVerifierKey } from '../../src/audit/signed-note.js';
import { REPO } from '../helpers.js';

const FILE = join(REPO, 'test', 'fixtures', 'audit-vectors.json');
const committed = readFileSync(FILE, 'utf8');
const vectors = JSON.parse(committed) as AuditVectors;

const fromHex = (h: string) => Buffer.from(h, 'hex');
const hex = (b: Buffer) => b.toString('hex');

/** the module's error message for each reason a checkpoint can fail */
const FAILURE_MESSAGE: Record<CheckpointFailure, RegExp> = {
  'malformed note': /^malformed note/,
  'signature does not verify': /does not verify/,
  'no known signature': /not signed by a known key/,
  'malformed checkpoint': /^malformed checkpoint/,
  'wrong origin': /another log/,
};

describe('audit test vectors', () => {
  const entries = vectors.entries.map((e) => Buffer.from(e, 'base64'));
  const leaves = vectors.leafHashes.map(fromHex);

  test('the file is well formed', () => {
    assert.ok(entries.length >= 5);
    assert.equal(leaves.length, entries.length);
    assert.equal(vectors.roots.length, entries.length + 1);
    for (const e of vectors.entries) assert.equal(Buffer.from(e, 'base64').toString('base64'), e, 'canonical base64');
    const names = new Set<string>();
    for (const v of vectors.checkpoints) {
      assert.match(v.name, /^[a-z0-9-]+$/);
      assert.ok(!names.has(v.name), `duplicate vector ${v.name}`);
      names.add(v.name);
      assert.ok(v.rule.length > 10 && v.rule.endsWith('.'), `${v.name}: rule is one sentence`);
      if (v.expect === 'valid') {
        assert.ok(Number.isSafeInteger(v.size) && v.root?.length === 64 && v.failure === undefined, `${v.name}: valid fields`);
      } else {
        assert.equal(v.expect, 'invalid');
        assert.ok(v.size === undefined && v.root === undefined && v.failure! in FAILURE_MESSAGE, `${v.name}: invalid fields`);
      }
    }
    // one vector per rule; removing one must be deliberate
    for (const required of [
      'valid',
      'valid-empty-log',
      'valid-with-cosignature',
      'altered-size',
      'altered-root',
      'wrong-origin',
      'other-key-same-name',
      'truncated-signature',
      'missing-blank-line',
      'size-leading-zero',
      'root-31-bytes',
      'root-non-canonical-base64',
      'non-canonical-signature-base64',
    ]) {
      assert.ok(names.has(required), `missing vector ${required}`);
    }
  });

  test('entries are canonical JSON: sorted keys, no whitespace', () => {
    const sorted = (v: unknown): unknown =>
      v && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(
            Object.entries(v)
              .sort(([a], [b]) => (a < b ? -1 : 1))
              .map(([k, x]) => [k, sorted(x)]),
          )
        : v;
    for (const e of entries) {
      const text = e.toString('utf8');
      assert.equal(JSON.stringify(sorted(JSON.parse(text))), text);
    }
  });

  test('leaf hashes', () => {
    assert.deepEqual(
      entries.map((e) => hex(leafHash(e))),
      vectors.leafHashes,
    );
  });

  test('roots for every size, with rootOf and a streaming TreeBuilder', () => {
    const builder = new TreeBuilder();
    for (const { size, root } of vectors.roots) {
      if (size > 0) builder.push(leaves[size - 1]!);
      assert.equal(hex(rootOf(leaves.slice(0, size))), root, `size ${size}`);
      assert.equal(hex(builder.root()), root, `builder at size ${size}`);
    }
  });

  for (const p of vectors.inclusionProofs) {
    test(`inclusion proof for entry ${p.index} of ${p.size}`, () => {
      assert.equal(p.leafHash, vectors.leafHashes[p.index]);
      assert.equal(p.root, vectors.roots[p.size]!.root);
      const built = inclusionRanges(p.index, p.size).map(([s, e]) => hex(rootOf(leaves.slice(s, e))));
      assert.deepEqual(built, p.path);
      const path = p.path.map(fromHex);
      assert.equal(verifyInclusion(p.index, p.size, fromHex(p.leafHash), path, fromHex(p.root)), true);
      assert.equal(verifyInclusion(p.index, p.size, fromHex(p.leafHash), path, fromHex(vectors.roots[p.size - 1]!.root)), false, 'root of another size');
    });
  }

  for (const p of vectors.consistencyProofs) {
    test(`consistency proof ${p.first} → ${p.second}`, () => {
      assert.equal(p.firstRoot, vectors.roots[p.first]!.root);
      assert.equal(p.secondRoot, vectors.roots[p.second]!.root);
      const built = consistencyRanges(p.first, p.second).map(([s, e]) => hex(rootOf(leaves.slice(s, e))));
      assert.deepEqual(built, p.proof);
      const proof = p.proof.map(fromHex);
      assert.equal(verifyConsistency(p.first, p.second, fromHex(p.firstRoot), fromHex(p.secondRoot), proof), true);
      if (p.first > 0 && p.first < p.second) {
        const wrong = fromHex(vectors.roots[p.first - 1]!.root);
        assert.equal(verifyConsistency(p.first, p.second, wrong, fromHex(p.secondRoot), proof), false, 'first root of another size');
      }
    });
  }

  describe('checkpoints', () => {
    const verifier = parseVerifierKey(vectors.vkey);

    test('the vkey round trips and names the origin', () => {
      assert.equal(formatVerifierKey(verifier), vectors.vkey);
      assert.equal(verifier.name, vectors.origin);
    });

    for (const v of vectors.checkpoints) {
      test(`${v.name} (${v.expect})`, () => {
        if (v.expect === 'valid') {
          const cp = openCheckpoint(v.note, verifier, vectors.origin);
          assert.deepEqual({ origin: cp.origin, size: cp.size, root: hex(cp.rootHash) }, { origin: vectors.origin, size: v.size, root: v.root }, v.rule);
          // a valid checkpoint states a root the entries reproduce
          assert.equal(v.root, vectors.roots[v.size!]!.root, 'the root of that size');
        } else {
          assert.throws(
            () => openCheckpoint(v.note, verifier, vectors.origin),
            (err: unknown) => err instanceof NoteError && FAILURE_MESSAGE[v.failure!].test(err.message),
            `${v.rule} (expected: ${v.failure})`,
          );
        }
      });
    }
  });

  test('the committed file is exactly what scripts/make-audit-vectors.ts generates', () => {
    assert.equal(committed, auditVectorsJson(), 'test/fixtures/audit-vectors.json is stale: run node dist/scripts/make-audit-vectors.js');
    // and generation does not depend on anything that changes between runs
    assert.deepEqual(generateAuditVectors(), generateAuditVectors());
  });
});
