/**
 * The per-row check of `audit verify` (src/audit/verify-rows.ts) against the definitions it
 * shortcuts: its leaf hash of the entry string is leafHash(Buffer.from(entry)) for any string
 * (lone surrogates, U+0000 and non-ASCII included); its lookup-column and search-column flags
 * are exactly "entryColumns(entry) differs from the stored columns", and entryColumns agrees with
 * indexedColumns (the 0003 backfill) wherever the database gives back what was written.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { encodeEntry, entryColumns, type EncodableEvent } from '../../src/audit/audit-log.js';
import { indexedColumns } from '../../src/db/migrations.js';
import { leafHash } from '../../src/audit/merkle.js';
import { batchViews, checkRows, COLUMNS_MISMATCH, LEAF_HASH_MISMATCH, SEARCH_COLUMNS_MISMATCH, type StoredRow } from '../../src/audit/verify-rows.js';

const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('"recordingId":"x"', 'a\\"b', '\u0000', '\ud800', 'Hash":'));

test('the leaf hash of the entry string is leafHash of its UTF-8 bytes, for any string', () => {
  fc.assert(
    fc.property(fc.array(text, { minLength: 1, maxLength: 20 }), (entries) => {
      const rows: StoredRow[] = entries.map((entry, i) => [i, entry, leafHash(Buffer.from(entry, 'utf8')).toString('hex'), null, null, null, null, null, null, null]);
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

const events: fc.Arbitrary<EncodableEvent> = fc.record(
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

test('the lookup-column flag says exactly whether the recording id or identifier hash of the entry differs from the stored columns', () => {
  fc.assert(
    fc.property(events, fc.option(text), fc.option(text), fc.boolean(), (event, otherRecording, otherHash, keep) => {
      const entry = encodeEntry(event, new Date(0)).toString('utf8');
      const right = entryColumns(entry);
      // what indexedColumns gave (0003 backfilled with it), wherever that reads back from the
      // database as written; a lone surrogate or U+0000 does not, and entryColumns replaces it
      const legacy = indexedColumns(entry);
      for (const k of ['recording_id', 'identifier_hash'] as const) {
        const v = legacy[k];
        if (v === null || (Buffer.from(v, 'utf8').toString('utf8') === v && !v.includes('\0'))) assert.equal(right[k], v);
      }
      const recording = keep ? right.recording_id : (otherRecording ?? null);
      const hash = keep ? right.identifier_hash : (otherHash ?? null);
      const { flags } = batchViews(checkRows([[0, entry, '', recording, hash, right.time, right.action, right.outcome, right.actor_id, right.actor_name]]));
      const differs = recording !== right.recording_id || hash !== right.identifier_hash;
      assert.equal((flags[0]! & COLUMNS_MISMATCH) !== 0, differs);
      assert.equal(flags[0]! & SEARCH_COLUMNS_MISMATCH, 0);
      assert.equal(flags[0]! & LEAF_HASH_MISMATCH, LEAF_HASH_MISMATCH);
    }),
    { numRuns: 500 },
  );
});

test('the search-column flag says exactly whether entryColumns differs from the stored search columns', () => {
  const column = fc.option(text, { nil: null });
  fc.assert(
    fc.property(events, fc.tuple(column, column, column, column, column), fc.integer({ min: 0, max: 31 }), (event, others, keepMask) => {
      const entry = encodeEntry(event, new Date(0)).toString('utf8');
      const right = entryColumns(entry);
      const names = ['time', 'action', 'outcome', 'actor_id', 'actor_name'] as const;
      const stored = names.map((n, i) => (keepMask & (1 << i) ? right[n] : others[i]!));
      const { flags } = batchViews(
        checkRows([[0, entry, '', right.recording_id, right.identifier_hash, ...(stored as [string | null, string | null, string | null, string | null, string | null])]]),
      );
      const differs = names.some((n, i) => stored[i] !== right[n]);
      assert.equal((flags[0]! & SEARCH_COLUMNS_MISMATCH) !== 0, differs);
      assert.equal(flags[0]! & COLUMNS_MISMATCH, 0);
    }),
    { numRuns: 500 },
  );
});

test('the columns copied out of an entry are what the databases store: no lone surrogate, no U+0000', () => {
  fc.assert(
    fc.property(events, (event) => {
      const c = entryColumns(encodeEntry(event, new Date(0)).toString('utf8'));
      for (const v of Object.values(c)) {
        if (v === null) continue;
        assert.equal(Buffer.from(v, 'utf8').toString('utf8'), v);
        assert.ok(!v.includes('\0'));
      }
      assert.equal(c.action, event.action);
      assert.equal(c.outcome, event.outcome);
      assert.equal(c.time, '1970-01-01T00:00:00.000Z');
      assert.equal(c.actor_id, event.actor.id ?? null);
    }),
    { numRuns: 300 },
  );
  assert.deepEqual(entryColumns('{"action":"a","actor":{"name":"x\\u0000\\ud800y","type":"cli"},"outcome":"success","time":"t","v":1}'), {
    recording_id: null,
    identifier_hash: null,
    time: 't',
    action: 'a',
    outcome: 'success',
    actor_id: null,
    actor_name: 'x\ufffd\ufffdy',
  });
  assert.throws(() => entryColumns('[]'));
  assert.throws(() => entryColumns('{'));
});
