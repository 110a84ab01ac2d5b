/**
 * The per-row check of `audit verify` (src/audit/verify-rows.ts) against the definitions it
 * shortcuts: its leaf hash of the entry string is leafHash(Buffer.from(entry)) for any string
 * (lone surrogates, U+0000 and non-ASCII included), and its lookup-column flag is exactly
 * "indexedColumns(entry) differs from the stored columns".
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { encodeEntry, indexedColumns, type AuditEvent } from '../../src/audit/audit-log.js';
import { leafHash } from '../../src/audit/merkle.js';
import { batchViews, checkRows, COLUMNS_MISMATCH, LEAF_HASH_MISMATCH, type StoredRow } from '../../src/audit/verify-rows.js';

const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('"recordingId":"x"', 'a\\"b', '\u0000', '\ud800', 'Hash":'));

test('the leaf hash of the entry string is leafHash of its UTF-8 bytes, for any string', () => {
  fc.assert(
    fc.property(fc.array(text, { minLength: 1, maxLength: 20 }), (entries) => {
      const rows: StoredRow[] = entries.map((entry, i) => [i, entry, leafHash(Buffer.from(entry, 'utf8')).toString('hex'), null, null]);
      const checked = checkRows(rows);
      const { seqs, hashes, flags } = batchViews(checked);
      entries.forEach((entry, i) => {
        assert.equal(seqs[i], i);
        assert.deepEqual(hashes.subarray(i * 32, i * 32 + 32), leafHash(Buffer.from(entry, 'utf8')));
        assert.equal(flags[i]! & LEAF_HASH_MISMATCH, 0);
      });
    }),
    { numRuns: 300 },
  );
});

const events: fc.Arbitrary<AuditEvent> = fc.record(
  {
    action: fc.constantFrom('recording.play', 'recordings.list', 'auth.signin'),
    outcome: fc.constantFrom('success' as const, 'denied' as const),
    actor: fc.record({ type: fc.constant('user' as const), id: fc.uuid(), name: text }, { requiredKeys: ['type'] }),
    recordingId: fc.oneof(fc.uuid(), text),
    purposeText: text,
    detail: fc.dictionary(
      fc.oneof(fc.constantFrom('personnummerHash', 'phoneHash', 'recordingId', 'range'), fc.string()),
      fc.oneof(text, fc.integer(), fc.constant(null), fc.dictionary(fc.constantFrom('recordingId', 'personnummerHash', 'phoneHash'), text)),
    ),
  },
  { requiredKeys: ['action', 'outcome', 'actor'] },
);

test('the lookup-column flag says exactly whether indexedColumns differs from the stored columns', () => {
  fc.assert(
    fc.property(events, fc.option(text), fc.option(text), fc.boolean(), (event, otherRecording, otherHash, keep) => {
      const entry = encodeEntry(event, new Date(0)).toString('utf8');
      const right = indexedColumns(entry);
      const recording = keep ? right.recording_id : (otherRecording ?? null);
      const hash = keep ? right.identifier_hash : (otherHash ?? null);
      const { flags } = batchViews(checkRows([[0, entry, '', recording, hash]]));
      const differs = recording !== right.recording_id || hash !== right.identifier_hash;
      assert.equal((flags[0]! & COLUMNS_MISMATCH) !== 0, differs);
      assert.equal(flags[0]! & LEAF_HASH_MISMATCH, LEAF_HASH_MISMATCH);
    }),
    { numRuns: 500 },
  );
});
