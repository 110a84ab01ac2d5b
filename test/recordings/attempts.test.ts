/**
 * Attempts at storing a recording and their housekeeping (src/recordings/attempts.ts), on SQLite
 * and PostgreSQL: a retry is never answered with a pending attempt, a dead writer's complete
 * object is completed (audited first) and an incomplete one removed, a live writer is left alone,
 * and a writer whose attempt was settled while it stalled fails instead of answering.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { Readable } from 'node:stream';
import { Vault } from '../../src/vault.js';
import { storeRecording } from '../../src/recordings/store.js';
import { cleanAttempts, WRITER, WRITER_LEASE_MS, writerDead } from '../../src/recordings/attempts.js';
import { verifyStore } from '../../src/recordings/verify.js';
import { StreamProbe } from '../../src/audio/probe.js';
import { ErrorCodes } from '../../src/errors.js';
import { PASSPHRASE, tempDir, throwawayPostgres } from '../helpers.js';
import { TEST_KDF } from '../http/harness.js';
import { noiseCall } from '../faults/serve-process.js';

const FIELDS = { sourceName: 'call.wav', sourcePath: 'test' };

async function store(vault: Vault, audio: Buffer, beforeVisible?: (id: string) => Promise<void>) {
  const probe = new StreamProbe();
  probe.push(audio);
  const info = probe.finish();
  // a copy: the encryption worker takes the chunks it is handed
  return storeRecording(vault, Readable.from([Buffer.from(audio)]), info, { controllerId: 'region-a' }, FIELDS, { beforeVisible });
}

/** an attempt as a writer on another machine left it: its row, and its object if `committed` */
async function strandedAttempt(vault: Vault, audio: Buffer, writer: string, committed: boolean): Promise<string> {
  const stored = await store(vault, audio);
  assert.equal(stored.status, 'stored');
  const row = (await vault.recordings.get(stored.id))!;
  // turn it back into the attempt it was before its last step
  await vault.database.db.updateTable('recordings').set({ state: 'pending', writer }).where('id', '=', row.id).execute();
  if (!committed) await vault.blobs.delete(row.blob_key);
  return row.id;
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`attempts and their housekeeping (${dialect})`, () => {
    let vault: Vault;
    let drop = async () => {};
    before(async () => {
      const dir = await tempDir('data', 'attempts');
      let databaseUrl: string | undefined;
      if (dialect === 'postgres') ({ url: databaseUrl, drop } = await throwawayPostgres());
      vault = await Vault.create(dir, { passphrase: PASSPHRASE, controllerId: 'region-a', controllerName: 'Region A', kdf: TEST_KDF }, { databaseUrl });
    });
    after(async () => {
      await vault.close();
      await drop();
    });

    it('a retry of audio whose attempt is still pending stores it, and the attempt becomes a duplicate', async () => {
      const audio = noiseCall(50_000);
      const dead = await strandedAttempt(vault, audio, `elsewhere:1:${randomUUID()}`, false);
      const retry = await store(vault, audio);
      assert.equal(retry.status, 'stored', 'not "duplicate" of an attempt that may never finish');
      assert.notEqual(retry.id, dead);
      assert.equal((await store(vault, audio)).status, 'duplicate');
      assert.equal((await store(vault, audio)).id, retry.id);
      const report = await cleanAttempts(vault);
      assert.equal(report?.removed, 1);
      assert.equal(await vault.recordings.attempt(dead), undefined);
    });

    it('settles dead writers only: a complete object is audited and completed, an incomplete one removed', async () => {
      const otherHost = (lease: 'expired' | 'held') => `${lease === 'held' ? 'live' : 'gone'}-host:4242:${randomUUID()}`;
      const liveWriter = otherHost('held');
      await vault.coordination.acquireLease(`writer:${liveWriter.split(':')[2]}`, liveWriter, WRITER_LEASE_MS);
      const deadWriter = otherHost('expired');
      await vault.coordination.acquireLease(`writer:${deadWriter.split(':')[2]}`, deadWriter, -1000);
      const complete = await strandedAttempt(vault, noiseCall(40_000), deadWriter, true);
      const incomplete = await strandedAttempt(vault, noiseCall(40_000), deadWriter, false);
      const live = await strandedAttempt(vault, noiseCall(40_000), liveWriter, false);
      // written before writers held leases: judged by pid, and this pid is alive
      const legacy = await strandedAttempt(vault, noiseCall(40_000), `${hostname()}:${process.pid}`, false);
      const ownGivenUp = await strandedAttempt(vault, noiseCall(40_000), WRITER, false);

      assert.equal(await writerDead(vault, { id: live, writer: liveWriter }), false);
      assert.equal(await writerDead(vault, { id: complete, writer: deadWriter }), true);
      const before = await verifyStore(vault, { deep: false });
      assert.deepEqual(before.counts, { inFlight: 2, interrupted: 3, strayObjects: 0 });
      assert.equal(before.problems.filter((p) => /interrupted/.test(p.problem)).length, 3);

      const size = await vault.audit.size();
      const report = await cleanAttempts(vault);
      assert.deepEqual({ completed: report?.completed, removed: report?.removed }, { completed: 1, removed: 2 });
      assert.equal((await vault.recordings.get(complete))?.state, 'stored', 'the complete attempt is a recording now');
      const [entry] = await vault.audit.entries(size, size + 1);
      const event = JSON.parse(entry!.entry.toString('utf8'));
      assert.equal(event.action, 'recording.ingest');
      assert.equal(event.recordingId, complete);
      assert.deepEqual(event.detail, { status: 'recovered' });
      assert.equal(await vault.audit.size(), size + 1, 'one entry: the completed attempt');
      assert.equal(await vault.recordings.attempt(incomplete), undefined);
      assert.equal(await vault.recordings.attempt(ownGivenUp), undefined, 'this process no longer works on it');
      assert.equal((await vault.recordings.attempt(live))?.state, 'pending', 'a live writer is left alone');
      assert.equal((await vault.recordings.attempt(legacy))?.state, 'pending');
      const after = await verifyStore(vault, { deep: true });
      assert.deepEqual(after.counts, { inFlight: 2, interrupted: 0, strayObjects: 0 });
      for (const id of [live, legacy]) await vault.recordings.deleteAttempt(id);
    });

    it('the housekeeping lease of a killed process on this host is taken over at once; a live holder keeps it', async () => {
      const exited = spawnSync(process.execPath, ['-e', '0']).pid;
      const dead = `${hostname()}:${exited}:${randomUUID()}`;
      await vault.coordination.acquireLease('ingest-housekeeping', dead, 10 * 60_000);
      assert.ok(await cleanAttempts(vault), 'the dead holder does not block the housekeeping for ten minutes');
      assert.equal(await vault.coordination.leaseHolder('ingest-housekeeping'), undefined, 'taken over, then released when done');
      const live = `${hostname()}:${process.ppid}:${randomUUID()}`;
      await vault.coordination.acquireLease('ingest-housekeeping', live, 10 * 60_000);
      assert.equal(await cleanAttempts(vault), undefined, 'a live holder is left alone');
      await vault.coordination.releaseLease('ingest-housekeeping', live);
    });

    it('a writer whose attempt was settled while it stalled fails with 503 and leaves nothing', async () => {
      const before = (await vault.recordings.pending()).length;
      await assert.rejects(
        store(vault, noiseCall(30_000), async (id) => {
          // another server judged this writer dead meanwhile and removed its attempt
          await vault.recordings.deleteAttempt(id);
        }),
        (e: any) => e.code === ErrorCodes.STORAGE_UNAVAILABLE,
      );
      assert.equal((await vault.recordings.pending()).length, before);
      assert.equal((await verifyStore(vault, { deep: false })).counts.strayObjects, 0, 'its object is removed too');
    });

    it('an audit entry that cannot be written stores nothing', async () => {
      const count = async () =>
        (
          await vault.database.db
            .selectFrom('recordings')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n;
      const rows = Number(await count());
      await assert.rejects(
        store(vault, noiseCall(30_000), async () => {
          throw new Error('the audit log cannot be written');
        }),
        /audit log/,
      );
      assert.equal(Number(await count()), rows, 'no row, pending or stored');
      assert.deepEqual((await verifyStore(vault, { deep: false })).counts, { inFlight: 0, interrupted: 0, strayObjects: 0 });
    });
  });
}
