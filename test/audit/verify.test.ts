/**
 * `verifyAuditLog` with its entries read and checked by worker threads (each on a connection of
 * its own) gives the very report the one-thread path gives, on SQLite and on a real PostgreSQL,
 * for an intact log and for every kind of tampering with the entries, with many small batches so
 * that gaps fall on batch boundaries and batches come back out of order. Also: a failing worker
 * fails the verification instead of hanging it, and an entry that is not JSON is reported instead
 * of ending the verification.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from '../../src/db/kysely.js';
import { Vault } from '../../src/vault.js';
import { AuditTree } from '../../src/audit/tree.js';
import { sqliteRowReader } from '../../src/audit/verify-rows.js';
import { verifyAuditLog, type ProblemCode, type VerifyOptions, type VerifyReport } from '../../src/audit/verify.js';
import { leafHash } from '../../src/audit/merkle.js';
import { TEST_KDF } from '../http/harness.js';
import { PASSPHRASE, tempDir } from '../helpers.js';
import { auditEvent, RECORDING, restore, seededVault, snapshot, type AuditRows, type SeededVault } from './fixtures.js';

const ENTRIES = 700;
/** small, and not a divisor of the subtree size or of the checkpoint sizes */
const BATCH = 48;

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`verify in worker threads on ${dialect}`, () => {
    let seeded: SeededVault;
    let vault: Vault;
    let good: AuditRows;

    before(async () => {
      seeded = await seededVault(dialect, 'verify', ENTRIES, 300);
      vault = seeded.vault;
      good = await snapshot(vault);
    });

    after(async () => {
      await seeded?.close();
    });

    const restoreGood = () => restore(vault, good);

    async function verify(options: VerifyOptions): Promise<VerifyReport> {
      const signer = await vault.auditSigner();
      return verifyAuditLog(vault.database.db, new AuditTree(vault.database.db), { verifier: signer.verifier, origin: signer.name }, [], options);
    }

    /** the report of every path: workers (2 and 3, small batches), one thread (small and default batches) */
    async function reports(): Promise<VerifyReport> {
      const url = vault.database.url;
      const single = await verify({});
      // on SQLite also the rows read straight from better-sqlite3 on this thread, as the vault reads them
      const raw = vault.database.sqlite ? [{ url, workers: 0, batchSize: BATCH, readRows: sqliteRowReader(vault.database.sqlite) }] : [];
      for (const options of [
        { url, workers: 2, batchSize: BATCH },
        { url, workers: 3, batchSize: 100 },
        { url, workers: 0, batchSize: BATCH },
        { url },
        ...raw,
      ] satisfies VerifyOptions[]) {
        assert.deepEqual(await verify(options), single, `the report with ${JSON.stringify({ ...options, url: undefined })} differs from the one-thread report`);
      }
      return single;
    }

    test('the intact log gives the same report on every path', async () => {
      const report = await reports();
      assert.deepEqual(report.problems, []);
      assert.equal(report.size, ENTRIES);
      assert.equal(report.checkpoints, 2);
      assert.equal(report.rootHash, (await vault.auditTree.root(ENTRIES)).toString('base64'));
    });

    const db = () => vault.database.db;
    const cases: { name: string; expect: ProblemCode[]; tamper: () => Promise<void> }[] = [
      { name: 'deleting one entry', expect: ['entry-missing'], tamper: async () => void (await db().deleteFrom('audit_entries').where('seq', '=', 10).execute()) },
      {
        name: 'deleting the entries on both sides of a batch boundary, and a whole batch',
        expect: ['entry-missing'],
        tamper: async () => {
          await db()
            .deleteFrom('audit_entries')
            .where('seq', 'in', [BATCH - 1, BATCH])
            .execute();
          await db()
            .deleteFrom('audit_entries')
            .where('seq', '>=', 3 * BATCH)
            .where('seq', '<', 4 * BATCH)
            .execute();
        },
      },
      { name: 'deleting the first entry', expect: ['entry-missing'], tamper: async () => void (await db().deleteFrom('audit_entries').where('seq', '=', 0).execute()) },
      {
        name: 'deleting the last entries (head kept)',
        expect: ['entry-missing'],
        tamper: async () =>
          void (await db()
            .deleteFrom('audit_entries')
            .where('seq', '>=', ENTRIES - 3)
            .execute()),
      },
      {
        name: 'altering entries in several batches',
        expect: ['leaf-hash', 'checkpoint-root'],
        tamper: async () => {
          for (const seq of [3, 2 * BATCH + 3, ENTRIES - 1]) {
            await db().updateTable('audit_entries').set({ entry: sql`replace(entry, 'quality-review', 'patient-follow-up')` }).where('seq', '=', seq).execute();
          }
        },
      },
      {
        name: 'altering an entry and its stored hash',
        expect: ['checkpoint-root'],
        tamper: async () => {
          const [row] = await db().selectFrom('audit_entries').selectAll().where('seq', '=', 30).execute();
          const entry = row!.entry.replace('user2', 'user3');
          await db()
            .updateTable('audit_entries')
            .set({ entry, leaf_hash: leafHash(Buffer.from(entry)).toString('hex') })
            .where('seq', '=', 30)
            .execute();
        },
      },
      {
        name: 'an entry that is not JSON any more',
        expect: ['leaf-hash', 'index-column'],
        tamper: async () => void (await db().updateTable('audit_entries').set({ entry: sql`substr(entry, 1, length(entry) - 1)` }).where('seq', '=', 6).execute()),
      },
      {
        name: 'reordering two entries across a batch boundary',
        expect: ['checkpoint-root'],
        tamper: async () => {
          const [a, b] = await db()
            .selectFrom('audit_entries')
            .selectAll()
            .where('seq', 'in', [BATCH - 1, BATCH])
            .orderBy('seq')
            .execute();
          await db()
            .updateTable('audit_entries')
            .set({ entry: b!.entry, leaf_hash: b!.leaf_hash, recording_id: b!.recording_id, identifier_hash: b!.identifier_hash })
            .where('seq', '=', BATCH - 1)
            .execute();
          await db()
            .updateTable('audit_entries')
            .set({ entry: a!.entry, leaf_hash: a!.leaf_hash, recording_id: a!.recording_id, identifier_hash: a!.identifier_hash })
            .where('seq', '=', BATCH)
            .execute();
        },
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
        name: 'adding rows beyond the head',
        expect: ['entry-extra'],
        tamper: async () => {
          for (const seq of [ENTRIES, ENTRIES + BATCH + 1]) {
            await db()
              .insertInto('audit_entries')
              .values({ seq, entry: '{}', leaf_hash: leafHash(Buffer.from('{}')).toString('hex'), recording_id: null, identifier_hash: null })
              .execute();
          }
        },
      },
      {
        name: 'lookup columns blanked and changed',
        expect: ['index-column'],
        tamper: async () => {
          await db().updateTable('audit_entries').set({ recording_id: null }).where('seq', '=', 3).execute();
          await db()
            .updateTable('audit_entries')
            .set({ identifier_hash: null })
            .where('seq', '=', BATCH + 1)
            .execute();
          await db()
            .updateTable('audit_entries')
            .set({ identifier_hash: 'f'.repeat(64) })
            .where('seq', '=', 5 * BATCH + 2)
            .execute();
          await db()
            .updateTable('audit_entries')
            .set({ recording_id: RECORDING })
            .where('seq', '=', ENTRIES - 2)
            .execute();
        },
      },
      {
        name: 'changing cached subtree hashes',
        expect: ['subtree-cache'],
        tamper: async () =>
          void (await db()
            .updateTable('audit_subtrees')
            .set({ hash: '00'.repeat(32) })
            .where('start', 'in', [0, 256])
            .execute()),
      },
    ];

    for (const c of cases) {
      test(`${c.name}: every path reports the same (${c.expect.join(', ')})`, async () => {
        try {
          await c.tamper();
          const report = await reports();
          assert.equal(report.ok, false);
          const codes = new Set(report.problems.map((p) => p.code));
          for (const code of c.expect) assert.ok(codes.has(code), `expected ${code}, got ${JSON.stringify([...codes])}`);
        } finally {
          await restoreGood();
        }
        assert.deepEqual((await verify({ url: vault.database.url, workers: 2, batchSize: BATCH })).problems, [], 'the restored log verifies again');
      });
    }

    test('a worker that cannot open the database fails the verification', async () => {
      const url = dialect === 'sqlite' ? `sqlite:${await tempDir('out', 'no-db')}/missing.db` : vault.database.url.replace(/\/[^/]+$/, '/callvault_no_such_database');
      await assert.rejects(verify({ url, workers: 2, batchSize: BATCH }));
      // and the log still verifies afterwards
      assert.deepEqual((await verify({ url: vault.database.url, workers: 2, batchSize: BATCH })).problems, []);
    });
  });
}

test('forcing workers without a database URL is refused', async () => {
  const dir = await tempDir('data', 'verify-no-url');
  const vault = await Vault.create(dir, { passphrase: PASSPHRASE, controllerId: 'region-a', controllerName: 'Region A', kdf: TEST_KDF });
  try {
    await vault.audit.append(auditEvent(0));
    const signer = await vault.auditSigner();
    const log = { verifier: signer.verifier, origin: signer.name };
    await assert.rejects(verifyAuditLog(vault.database.db, vault.auditTree, log, [], { workers: 2 }), /URL/);
    // 'auto' on a log this small stays on this thread, URL or not
    assert.equal((await verifyAuditLog(vault.database.db, vault.auditTree, log, [], { url: vault.database.url })).ok, true);
  } finally {
    await vault.close();
  }
});
