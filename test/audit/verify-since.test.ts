/**
 * `audit verify --since-checkpoint` (src/audit/verify.ts): it starts from the signed checkpoint the
 * last verification reached, re-hashes only the entries after it and carries the tree on from the
 * stored right edge, which must give the signed root. On SQLite and PostgreSQL: it gives the root
 * the full verify gives from any starting size; it finds what is done to the entries after its
 * checkpoint, to the stored hashes it starts from and to the record of the last verification; and
 * it does not find a change to the text alone of an entry before its checkpoint, which the full
 * verify does (the limit docs/audit-log.md states).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from '../../src/db/kysely.js';
import type { Vault } from '../../src/vault.js';
import { AuditTree } from '../../src/audit/tree.js';
import { sqliteRowReader } from '../../src/audit/verify-rows.js';
import { verifyAndRecord, verifyAuditLog, type ProblemCode, type VerifyOptions, type VerifyReport } from '../../src/audit/verify.js';
import { latestVerification, recordVerification } from '../../src/audit/verifications.js';
import { signCheckpoint } from '../../src/audit/checkpoint.js';
import { frontierRanges, frontierRoot, leafHash, rootOf, TreeBuilder } from '../../src/audit/merkle.js';
import { auditEvent, restore, seededVault, snapshot, type AuditRows, type SeededVault } from './fixtures.js';

/** the full verify reaches the checkpoint at FIRST; the log then grows to ENTRIES, signed at the end */
const FIRST = 700;
const ENTRIES = 1100;
const BATCH = 48;

test('a tree carried on from its frontier is the tree of all the leaves, for every split', () => {
  const leaves = Array.from({ length: 600 }, (_, i) => leafHash(Buffer.from(`entry ${i}`)));
  for (const m of [0, 1, 2, 3, 7, 8, 255, 256, 257, 300, 511, 512, 513, 599]) {
    const full = new TreeBuilder();
    for (const l of leaves.slice(0, m)) full.push(l);
    const frontier = frontierRanges(m).map(([s, e]) => rootOf(leaves.slice(s, e)));
    assert.deepEqual(frontierRoot(frontier), rootOf(leaves.slice(0, m)), `root of ${m}`);
    const resumed = TreeBuilder.resume(m, frontier);
    for (let n = m; n < leaves.length; n++) {
      resumed.push(leaves[n]!);
      full.push(leaves[n]!);
      if (n % 37 === 0 || n === leaves.length - 1) assert.deepEqual(resumed.root(), full.root(), `from ${m} to ${n + 1}`);
    }
  }
  assert.deepEqual(frontierRanges(13), [
    [0, 8],
    [8, 12],
    [12, 13],
  ]);
  assert.throws(() => TreeBuilder.resume(13, [Buffer.alloc(32)]));
});

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`audit verify --since-checkpoint on ${dialect}`, () => {
    let seeded: SeededVault;
    let vault: Vault;
    let good: AuditRows;
    const db = () => vault.database.db;

    before(async () => {
      seeded = await seededVault(dialect, 'verify-since', FIRST, 300);
      vault = seeded.vault;
      // the full verify reaches the checkpoint at FIRST; the log grows on and is signed again
      const full = await verifyAndRecord(db(), new AuditTree(db()), await log());
      assert.equal(full.ok, true, JSON.stringify(full.problems));
      assert.deepEqual(full.recorded && { size: full.recorded.size, mode: full.recorded.mode }, { size: FIRST, mode: 'full' });
      for (let i = FIRST; i < ENTRIES; i++) await vault.audit.append(auditEvent(i));
      await (await vault.auditCheckpoints()).make();
      good = await snapshot(vault);
    });

    after(async () => {
      await seeded?.close();
    });

    async function log() {
      const signer = await vault.auditSigner();
      return { verifier: signer.verifier, origin: signer.name };
    }

    /** a fresh tree each time: AuditTree keeps the subtree hashes it has read */
    async function since(options: VerifyOptions = {}, witnessNotes: string[] = []): Promise<VerifyReport> {
      return verifyAuditLog(db(), new AuditTree(db()), await log(), witnessNotes, { ...options, sinceCheckpoint: true });
    }

    /** the report on every path (workers with small batches, one thread) must be the same */
    async function reports(witnessNotes: string[] = []): Promise<VerifyReport> {
      const single = await since({}, witnessNotes);
      const url = vault.database.url;
      const raw = vault.database.sqlite ? [{ url, workers: 0, batchSize: BATCH, readRows: sqliteRowReader(vault.database.sqlite) }] : [];
      for (const options of [{ url, workers: 2, batchSize: BATCH }, { url, workers: 0, batchSize: BATCH }, ...raw] satisfies VerifyOptions[])
        assert.deepEqual(await since(options, witnessNotes), single, JSON.stringify({ ...options, url: undefined }));
      return single;
    }

    const restoreGood = async () => {
      await restore(vault, good);
      await db().deleteFrom('audit_verifications').execute();
      await recordVerification(db(), { size: FIRST, mode: 'full', rootHash: (await rootAt(FIRST)).toString('base64'), verifiedAt: '2026-01-01T00:00:00.000Z' });
    };

    async function rootAt(size: number): Promise<Buffer> {
      const row = await db().selectFrom('audit_checkpoints').select('note').where('size', '=', size).executeTakeFirstOrThrow();
      return Buffer.from(row.note.split('\n')[2]!, 'base64');
    }

    test('the intact log: only the entries after the checkpoint are re-hashed, to the root the full verify gives', async () => {
      const report = await reports();
      assert.deepEqual(report.problems, []);
      assert.equal(report.mode, 'incremental');
      assert.equal(report.from, FIRST);
      assert.equal(report.checked, ENTRIES - FIRST);
      assert.equal(report.since?.size, FIRST);
      assert.equal(report.since?.mode, 'full');
      assert.equal(report.latestCheckpoint, ENTRIES);
      assert.equal(report.checkpoints, 2, 'the checkpoint it starts from and the one after it');
      const full = await verifyAuditLog(db(), new AuditTree(db()), await log(), []);
      assert.equal(full.mode, 'full');
      assert.equal(full.checked, ENTRIES);
      assert.equal(report.rootHash, full.rootHash);

      // recorded: the next incremental check starts from the newer checkpoint, and finds nothing to re-hash
      const recorded = await verifyAndRecord(db(), new AuditTree(db()), await log(), [], { sinceCheckpoint: true, now: new Date('2026-02-01T00:00:00Z') });
      assert.deepEqual(recorded.recorded, { size: ENTRIES, mode: 'incremental', rootHash: report.rootHash, verifiedAt: '2026-02-01T00:00:00.000Z' });
      assert.equal(recorded.lastFull?.size, FIRST);
      const next = await since();
      assert.deepEqual([next.ok, next.from, next.checked, next.since?.mode], [true, ENTRIES, 0, 'incremental']);
      await restoreGood();
    });

    test('from any signed checkpoint it gives the root the full verify gives', async () => {
      try {
        const tree = new AuditTree(db());
        const checkpoints = await vault.auditCheckpoints();
        const signer = await vault.auditSigner();
        const fullRoot = (await verifyAuditLog(db(), new AuditTree(db()), await log(), [])).rootHash;
        for (const m of [1, 2, 3, 255, 256, 257, 300, 511, 512, 513, 1024, ENTRIES - 1]) {
          // a checkpoint signed at m as the server would have (the log extends it)
          const note = signCheckpoint({ origin: checkpoints.origin, size: m, rootHash: await tree.root(m) }, signer);
          await db()
            .insertInto('audit_checkpoints')
            .values({ size: m, note, created_at: new Date().toISOString() })
            .onConflict((oc) => oc.column('size').doNothing())
            .execute();
          await db().deleteFrom('audit_verifications').execute();
          await recordVerification(db(), { size: m, mode: 'full', rootHash: (await tree.root(m)).toString('base64'), verifiedAt: '2026-01-01T00:00:00.000Z' });
          const report = await since();
          assert.deepEqual(report.problems, [], `from ${m}`);
          assert.equal(report.rootHash, fullRoot, `from ${m}`);
          assert.equal(report.checked, ENTRIES - m);
        }
      } finally {
        await restoreGood();
      }
    });

    const cases: { name: string; expect: ProblemCode[]; tamper: () => Promise<void> }[] = [
      {
        name: 'altering an entry after the checkpoint',
        expect: ['leaf-hash', 'checkpoint-root'],
        tamper: async () =>
          void (await db()
            .updateTable('audit_entries')
            .set({ entry: sql`replace(entry, 'user', 'resu')` })
            .where('seq', '=', FIRST + 5)
            .execute()),
      },
      {
        name: 'altering an entry after the checkpoint and its stored hash',
        expect: ['checkpoint-root'],
        tamper: async () => {
          const [row] = await db()
            .selectFrom('audit_entries')
            .selectAll()
            .where('seq', '=', FIRST + 60)
            .execute();
          const entry = row!.entry.replace(/user\d/, 'userX');
          await db()
            .updateTable('audit_entries')
            .set({ entry, leaf_hash: leafHash(Buffer.from(entry)).toString('hex') })
            .where('seq', '=', FIRST + 60)
            .execute();
        },
      },
      {
        name: 'deleting entries after the checkpoint',
        expect: ['entry-missing'],
        tamper: async () =>
          void (await db()
            .deleteFrom('audit_entries')
            .where('seq', 'in', [FIRST, FIRST + BATCH, ENTRIES - 1])
            .execute()),
      },
      {
        name: 'altering an entry before the checkpoint and its stored hash, with the cached hashes made again from them',
        expect: ['checkpoint-root'],
        tamper: async () => {
          const [row] = await db().selectFrom('audit_entries').selectAll().where('seq', '=', 30).execute();
          const entry = row!.entry.replace(/user\d/, 'userX');
          await db()
            .updateTable('audit_entries')
            .set({ entry, leaf_hash: leafHash(Buffer.from(entry)).toString('hex') })
            .where('seq', '=', 30)
            .execute();
          await db().deleteFrom('audit_subtrees').execute();
        },
      },
      {
        name: 'a wrong cached hash the stored right edge uses',
        expect: ['checkpoint-root'],
        tamper: async () =>
          void (await db()
            .updateTable('audit_subtrees')
            .set({ hash: '00'.repeat(32) })
            .where('start', '=', 256)
            .execute()),
      },
      {
        name: 'a wrong cached hash after the checkpoint',
        expect: ['subtree-cache'],
        tamper: async () =>
          void (await db()
            .updateTable('audit_subtrees')
            .set({ hash: '00'.repeat(32) })
            .where('start', '=', 768)
            .execute()),
      },
      {
        name: 'cutting entries off the end',
        expect: ['checkpoint-beyond-log'],
        tamper: async () => {
          await db()
            .deleteFrom('audit_entries')
            .where('seq', '>=', ENTRIES - 5)
            .execute();
          await db()
            .updateTable('audit_head')
            .set({ size: ENTRIES - 5 })
            .execute();
        },
      },
      {
        name: 'the checkpoint the last verification reached removed',
        expect: ['verification-record'],
        tamper: async () => void (await db().deleteFrom('audit_checkpoints').where('size', '=', FIRST).execute()),
      },
      {
        name: 'the record of the last verification pointed at a size nothing signed',
        expect: ['verification-record'],
        tamper: async () => {
          await db().deleteFrom('audit_verifications').execute();
          await recordVerification(db(), { size: FIRST + 1, mode: 'full', rootHash: (await rootAt(FIRST)).toString('base64'), verifiedAt: '2026-01-01T00:00:00.000Z' });
        },
      },
      {
        name: 'the record of the last verification given another root',
        expect: ['verification-record'],
        tamper: async () =>
          void (await db()
            .updateTable('audit_verifications')
            .set({ root_hash: Buffer.alloc(32, 7).toString('base64') })
            .execute()),
      },
    ];

    for (const c of cases) {
      test(`${c.name}: found (${c.expect.join(', ')}) on every path`, async () => {
        try {
          await c.tamper();
          const report = await reports();
          assert.equal(report.ok, false);
          assert.equal(report.mode, 'incremental');
          const codes = new Set(report.problems.map((p) => p.code));
          for (const code of c.expect) assert.ok(codes.has(code), `expected ${code}, got ${JSON.stringify(report.problems)}`);
          const recorded = await verifyAndRecord(db(), new AuditTree(db()), await log(), [], { sinceCheckpoint: true });
          assert.equal(recorded.recorded, null, 'a failed verification records nothing');
        } finally {
          await restoreGood();
        }
        assert.deepEqual((await since()).problems, [], 'the restored log verifies again');
      });
    }

    test('the text alone of an entry before the checkpoint changed: not found here, found by the full verify', async () => {
      try {
        await db().updateTable('audit_entries').set({ entry: sql`replace(entry, 'quality-review', 'patient-follow-up')` }).where('seq', '=', 3).execute();
        assert.deepEqual((await since()).problems, [], 'the entries before the checkpoint are not read again');
        const full = await verifyAuditLog(db(), new AuditTree(db()), await log(), []);
        const codes = new Set(full.problems.map((p) => p.code));
        for (const code of ['leaf-hash', 'checkpoint-root'] as const) assert.ok(codes.has(code), JSON.stringify(full.problems));
      } finally {
        await restoreGood();
      }
    });

    test('witnessed checkpoints before and after the one it starts from are checked', async () => {
      const signer = await vault.auditSigner();
      const checkpoints = await vault.auditCheckpoints();
      const stored = await checkpoints.list();
      const honest = await since(
        {},
        stored.map((c) => c.note),
      );
      assert.deepEqual(honest.problems, []);
      assert.equal(honest.witnessed, stored.length);
      // a witness saw another log at size 300: it cannot extend to the root signed at FIRST
      const forked = signCheckpoint({ origin: checkpoints.origin, size: 300, rootHash: Buffer.alloc(32, 1) }, signer);
      const report = await since({}, [forked]);
      assert.deepEqual(
        report.problems.map((p) => [p.code, p.size]),
        [['witness-consistency', 300]],
      );
    });

    test('with no verification recorded it verifies the whole log, and records that', async () => {
      try {
        await db().deleteFrom('audit_verifications').execute();
        assert.equal(await latestVerification(db()), undefined);
        const report = await verifyAndRecord(db(), new AuditTree(db()), await log(), [], { sinceCheckpoint: true });
        assert.deepEqual([report.ok, report.mode, report.from, report.checked, report.since], [true, 'full', 0, ENTRIES, null]);
        assert.deepEqual([report.recorded?.size, report.recorded?.mode, report.lastFull?.size], [ENTRIES, 'full', ENTRIES]);
      } finally {
        await restoreGood();
      }
    });
  });
}
