/**
 * The stored audit log on SQLite and on a real PostgreSQL: proofs from the database agree with
 * the tree computed in memory; every kind of tampering with the stored rows is found by
 * verification; a rewritten log is not signed; witnesses catch a history rewritten and re-signed;
 * two processes appending at once leave no gaps or forks.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { sql } from '../../src/db/kysely.js';
import fc from 'fast-check';
import { Vault } from '../../src/vault.js';
import { AuditTree } from '../../src/audit/tree.js';
import { verifyAuditLog, type ProblemCode } from '../../src/audit/verify.js';
import { leafHash, rootOf, verifyConsistency, verifyInclusion } from '../../src/audit/merkle.js';
import { NoteSigner } from '../../src/audit/signed-note.js';
import { openCheckpoint, signCheckpoint } from '../../src/audit/checkpoint.js';
import { startCheckpointTimer } from '../../src/audit/checkpoint-timer.js';
import { AuditCheckpoints } from '../../src/audit/checkpoints.js';
import { isCallvaultError, ErrorCodes } from '../../src/errors.js';
import { entryColumns } from '../../src/audit/audit-log.js';
import { TEST_KDF } from '../http/harness.js';
import { auditEvent, restore, seededVault, snapshot, type AuditRows, type SeededVault } from './fixtures.js';
import { PASSPHRASE, REPO, tempDir } from '../helpers.js';

const run = promisify(execFile);
const ENTRIES = 700;

async function verify(vault: Vault, witnessNotes: string[] = []) {
  const signer = await vault.auditSigner();
  return verifyAuditLog(vault.database.db, new AuditTree(vault.database.db), { verifier: signer.verifier, origin: signer.name }, witnessNotes);
}

async function leafHashesOf(vault: Vault): Promise<Buffer[]> {
  return (await vault.audit.entries(0, await vault.audit.size())).map((e) => leafHash(e.entry));
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`audit log on ${dialect}`, () => {
    let seeded: SeededVault;
    let vault: Vault;
    let dataDir: string;
    let databaseUrl: string | undefined;
    let good: AuditRows;

    before(async () => {
      seeded = await seededVault(dialect, 'audit', ENTRIES, ENTRIES / 2);
      ({ vault, dataDir, databaseUrl } = seeded);
      good = await snapshot(vault);
    });

    after(async () => {
      await seeded?.close();
    });

    test('roots and proofs read from the database equal the tree computed in memory, for random sizes', async () => {
      const leaves = await leafHashesOf(vault);
      const tree = new AuditTree(vault.database.db);
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: ENTRIES }), fc.integer({ min: 0, max: ENTRIES }), async (size, other) => {
          const root = rootOf(leaves.slice(0, size));
          assert.deepEqual(await tree.root(size), root);
          const index = other % size;
          assert.ok(verifyInclusion(index, size, leaves[index]!, await tree.inclusionProof(index, size), root));
          const first = other % (size + 1);
          assert.ok(verifyConsistency(first, size, rootOf(leaves.slice(0, first)), root, await tree.consistencyProof(first, size)));
        }),
        { numRuns: 60 },
      );
    });

    test('the untouched log verifies against both checkpoints', async () => {
      const report = await verify(vault);
      assert.deepEqual(report.problems, []);
      assert.equal(report.size, ENTRIES);
      assert.equal(report.checkpoints, 2);
      assert.equal(report.unsigned, 0);
    });

    const db = () => vault.database.db;
    const otherSigner = new NoteSigner('x', Buffer.alloc(32, 7));
    const cases: { name: string; expect: ProblemCode; tamper: () => Promise<void> }[] = [
      { name: 'deleting an entry', expect: 'entry-missing', tamper: async () => void (await db().deleteFrom('audit_entries').where('seq', '=', 10).execute()) },
      {
        name: 'altering an entry',
        expect: 'leaf-hash',
        tamper: async () =>
          void (await db().updateTable('audit_entries').set({ entry: sql`replace(entry, 'quality-review', 'patient-follow-up')` }).where('seq', '=', 30).execute()),
      },
      {
        name: 'altering an entry and its stored hash',
        expect: 'checkpoint-root',
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
        name: 'reordering two entries',
        expect: 'checkpoint-root',
        tamper: async () => {
          const [a, b] = await db().selectFrom('audit_entries').selectAll().where('seq', 'in', [40, 41]).orderBy('seq').execute();
          await db()
            .updateTable('audit_entries')
            .set({ entry: b!.entry, leaf_hash: b!.leaf_hash, recording_id: b!.recording_id, identifier_hash: b!.identifier_hash })
            .where('seq', '=', 40)
            .execute();
          await db()
            .updateTable('audit_entries')
            .set({ entry: a!.entry, leaf_hash: a!.leaf_hash, recording_id: a!.recording_id, identifier_hash: a!.identifier_hash })
            .where('seq', '=', 41)
            .execute();
        },
      },
      {
        name: 'inserting an entry in the middle',
        expect: 'checkpoint-root',
        tamper: async () => {
          for (let seq = ENTRIES - 1; seq >= 50; seq--)
            await db()
              .updateTable('audit_entries')
              .set({ seq: seq + 1 } as any)
              .where('seq', '=', seq)
              .execute();
          const entry = JSON.stringify({ action: 'auth.signin', outcome: 'success', time: '2026-01-01T00:00:00.000Z', v: 1 });
          await db()
            .insertInto('audit_entries')
            .values({ seq: 50, entry, leaf_hash: leafHash(Buffer.from(entry)).toString('hex'), recording_id: null, identifier_hash: null })
            .execute();
          await db()
            .updateTable('audit_head')
            .set({ size: ENTRIES + 1 })
            .execute();
        },
      },
      {
        name: 'cutting entries off the end',
        expect: 'checkpoint-beyond-log',
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
        name: 'adding a row beyond the head',
        expect: 'entry-extra',
        tamper: async () =>
          void (await db()
            .insertInto('audit_entries')
            .values({ seq: ENTRIES, entry: '{}', leaf_hash: leafHash(Buffer.from('{}')).toString('hex'), recording_id: null, identifier_hash: null })
            .execute()),
      },
      {
        name: "blanking an entry's recording column (hiding a playback from a patient's access log)",
        expect: 'index-column',
        tamper: async () => void (await db().updateTable('audit_entries').set({ recording_id: null }).where('seq', '=', 3).execute()),
      },
      {
        name: "blanking an entry's identifier column (hiding a search from a patient's access log)",
        expect: 'index-column',
        tamper: async () => void (await db().updateTable('audit_entries').set({ identifier_hash: null }).where('seq', '=', 4).execute()),
      },
      {
        name: "changing an entry's action column (hiding a playback from an auditor's search by action)",
        expect: 'search-column',
        tamper: async () => void (await db().updateTable('audit_entries').set({ action: 'recordings.list' }).where('seq', '=', 3).execute()),
      },
      {
        name: "changing an entry's actor and time columns",
        expect: 'search-column',
        tamper: async () => {
          await db().updateTable('audit_entries').set({ actor_id: 'u-0', actor_name: 'user0' }).where('seq', '=', 8).execute();
          await db().updateTable('audit_entries').set({ time: '2000-01-01T00:00:00.000Z' }).where('seq', '=', 9).execute();
        },
      },
      {
        name: "blanking an entry's outcome column",
        expect: 'search-column',
        tamper: async () => void (await db().updateTable('audit_entries').set({ outcome: null }).where('seq', '=', 11).execute()),
      },
      {
        name: 'changing a cached subtree hash',
        expect: 'subtree-cache',
        tamper: async () =>
          void (await db()
            .updateTable('audit_subtrees')
            .set({ hash: '00'.repeat(32) })
            .where('start', '=', 256)
            .execute()),
      },
      {
        name: "changing a checkpoint's root and keeping its signature",
        expect: 'checkpoint-signature',
        tamper: async () => {
          const [row] = await db().selectFrom('audit_checkpoints').selectAll().orderBy('size').limit(1).execute();
          const lines = row!.note.split('\n');
          lines[2] = Buffer.alloc(32, 1).toString('base64');
          await db()
            .updateTable('audit_checkpoints')
            .set({ note: lines.join('\n') })
            .where('size', '=', row!.size)
            .execute();
        },
      },
      {
        name: 'a checkpoint re-signed by another key under the same name',
        expect: 'checkpoint-signature',
        tamper: async () => {
          const signer = await vault.auditSigner();
          const forger = new NoteSigner(signer.name, Buffer.alloc(32, 9));
          const [row] = await db().selectFrom('audit_checkpoints').selectAll().orderBy('size').limit(1).execute();
          const cp = openCheckpoint(row!.note, signer.verifier, signer.name);
          const note = signCheckpoint({ ...cp, rootHash: Buffer.alloc(32, 2) }, forger);
          await db().updateTable('audit_checkpoints').set({ note }).where('size', '=', row!.size).execute();
        },
      },
      {
        name: 'a checkpoint signed by a stranger',
        expect: 'checkpoint-signature',
        tamper: async () => {
          const [row] = await db().selectFrom('audit_checkpoints').selectAll().orderBy('size').limit(1).execute();
          await db()
            .updateTable('audit_checkpoints')
            .set({ note: otherSigner.sign(`${row!.note.split('\n\n')[0]!}\n`) })
            .where('size', '=', row!.size)
            .execute();
        },
      },
    ];

    for (const c of cases) {
      test(`${c.name} is found by verification (${c.expect})`, async () => {
        try {
          await c.tamper();
          const report = await verify(vault);
          assert.equal(report.ok, false);
          assert.ok(
            report.problems.some((p) => p.code === c.expect),
            `expected ${c.expect}, got ${JSON.stringify(report.problems.map((p) => p.code))}`,
          );
        } finally {
          await restore(vault, good);
        }
        assert.equal((await verify(vault)).ok, true, 'the restored log verifies again');
      });
    }

    test('a log rewritten under a checkpoint is not signed again', async () => {
      try {
        const [row] = await db().selectFrom('audit_entries').selectAll().where('seq', '=', 5).execute();
        const entry = row!.entry.replace('user5', 'user6');
        await db()
          .updateTable('audit_entries')
          .set({ entry, leaf_hash: leafHash(Buffer.from(entry)).toString('hex') })
          .where('seq', '=', 5)
          .execute();
        await db().deleteFrom('audit_subtrees').execute();
        await vault.audit.append(auditEvent(1));
        await assert.rejects((await freshCheckpoints(vault)).make(), (err) => isCallvaultError(err, ErrorCodes.AUDIT_INCONSISTENT));
      } finally {
        await restore(vault, good);
      }
    });

    test('a history rewritten and re-signed from scratch passes alone, and fails against what a witness kept', async () => {
      const witnessed = good.checkpoints.map((r) => r.note as string);
      try {
        const [row] = await db().selectFrom('audit_entries').selectAll().where('seq', '=', 7).execute();
        const entry = row!.entry.replace('user0', 'user1');
        // a thorough forger: the columns copied out of the entry are rewritten with it
        await db()
          .updateTable('audit_entries')
          .set({ entry, leaf_hash: leafHash(Buffer.from(entry)).toString('hex'), ...entryColumns(entry) })
          .where('seq', '=', 7)
          .execute();
        await db().deleteFrom('audit_subtrees').execute();
        await db().deleteFrom('audit_checkpoints').execute();
        await (await freshCheckpoints(vault)).make();
        // what the database alone says: the forger holds the signing key, so this verifies
        assert.equal((await verify(vault)).ok, true);
        const report = await verify(vault, witnessed);
        assert.equal(report.ok, false);
        assert.ok(report.problems.some((p) => p.code === 'witness-root'));
      } finally {
        await restore(vault, good);
      }
      const clean = await verify(vault, witnessed);
      assert.deepEqual(clean.problems, []);
      assert.equal(clean.witnessed, 2);
    });

    test('two processes appending at once leave one gapless sequence', async () => {
      const before = await vault.audit.size();
      const worker = join(REPO, 'dist', 'test', 'audit', 'append-worker.js');
      const env = { ...process.env, CALLVAULT_DATABASE_URL: databaseUrl ?? '' };
      const PER = 150;
      await Promise.all(['a', 'b'].map((w) => run(process.execPath, [worker, dataDir, w, String(PER)], { env })));
      const size = await vault.audit.size();
      assert.equal(size, before + 2 * PER);
      const appended = await vault.audit.entries(before, size);
      assert.deepEqual(
        appended.map((e) => e.index),
        Array.from({ length: 2 * PER }, (_, i) => before + i),
      );
      for (const w of ['a', 'b']) {
        const mine = appended
          .map((e) => JSON.parse(e.entry.toString()))
          .filter((e) => e.detail.what === w)
          .map((e) => e.detail.index);
        assert.deepEqual(
          mine,
          Array.from({ length: PER }, (_, i) => i),
          `worker ${w}'s entries are all there, in its order`,
        );
      }
      await (await vault.auditCheckpoints()).make();
      const report = await verify(vault);
      assert.deepEqual(report.problems, []);
      good = await snapshot(vault);
    });
  });
}

/** checkpoints over a fresh tree, so no subtree hash cached in this process hides a change */
async function freshCheckpoints(vault: Vault): Promise<AuditCheckpoints> {
  return new AuditCheckpoints(vault.database.db, new AuditTree(vault.database.db), await vault.auditSigner());
}

test('the server signs checkpoints on a timer while the log grows, and once more when it stops', async () => {
  const dir = await tempDir('data', 'audit-timer');
  const vault = await Vault.create(dir, { passphrase: PASSPHRASE, controllerId: 'region-a', controllerName: 'Region A', kdf: TEST_KDF });
  try {
    const messages: string[] = [];
    const timer = startCheckpointTimer(vault, 50, (m) => messages.push(m));
    await vault.audit.append(auditEvent(0));
    const checkpoints = await vault.auditCheckpoints();
    for (let i = 0; i < 100 && (await checkpoints.latest())?.size !== 1; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal((await checkpoints.latest())?.size, 1);
    await vault.audit.append(auditEvent(1));
    await timer.stop();
    assert.equal((await checkpoints.latest())?.size, 2);
    assert.deepEqual(messages, []);
  } finally {
    await vault.close();
  }
});
