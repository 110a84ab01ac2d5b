/**
 * The contract the metadata store passes on every database: SQLite and PostgreSQL.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openDatabase, type MetadataDatabase } from '../../src/db/database.js';
import { RecordingsRepository, type NewRecording } from '../../src/db/recordings-repository.js';
import { ControllersRepository } from '../../src/db/controllers-repository.js';
import { UsersRepository } from '../../src/db/users-repository.js';
import { ImportJournalRepository } from '../../src/db/import-journal-repository.js';

function recording(controllerId: string, over: Partial<NewRecording> = {}): NewRecording {
  const id = randomUUID();
  return {
    id,
    controller_id: controllerId,
    writer: 'host:1',
    blob_key: `recordings/${id.slice(0, 2)}/${id}.cvr`,
    key_id: 'key-1',
    wrapped_key: 'd3JhcHBlZA==',
    ciphertext_size: 5_000_000_000,
    ciphertext_sha256: 'c'.repeat(64),
    content_sha256: randomUUID().replace(/-/g, '').padEnd(64, '0'),
    plaintext_size: 4_999_000_000,
    format: 'wav',
    codec: 'pcm_mulaw',
    sample_rate: 8000,
    channels: 1,
    duration_ms: 3_600_000,
    agent: 'nurse-1',
    region: 'stockholm',
    direction: 'inbound',
    started_at: '2019-02-18T08:30:00.000Z',
    sealed_metadata: 'c2VhbGVk',
    imported_at: new Date().toISOString(),
    ...over,
  };
}

export function metadataStoreContract(name: string, url: () => Promise<{ url: string; drop: () => Promise<void> }>): void {
  describe(`metadata store contract: ${name}`, () => {
    let m: MetadataDatabase;
    let drop: () => Promise<void>;
    let recordings: RecordingsRepository;
    before(async () => {
      const u = await url();
      drop = u.drop;
      m = await openDatabase(u.url);
      // migrating an up-to-date database again is a no-op
      await (await openDatabase(u.url)).close();
      recordings = new RecordingsRepository(m.db);
      const controllers = new ControllersRepository(m.db);
      await controllers.add({ id: 'region-a', name: 'Region A', created_at: new Date().toISOString() });
      await controllers.add({ id: 'region-b', name: 'Region B', created_at: new Date().toISOString() });
    });
    after(async () => {
      await m.close();
      await drop();
    });

    it('a pending recording is invisible until marked stored', async () => {
      const r = recording('region-a');
      await recordings.insertPending(r);
      assert.equal(await recordings.get(r.id), undefined);
      assert.ok(!(await recordings.list({ limit: 1000 })).recordings.some((x) => x.id === r.id));
      assert.equal((await recordings.pending()).filter((x) => x.id === r.id).length, 1);
      await recordings.markStored(r.id);
      const got = await recordings.get(r.id);
      assert.equal(got?.state, 'stored');
      assert.equal(got?.writer, null);
      assert.equal(got?.ciphertext_size, 5_000_000_000, 'sizes beyond 32 bits come back as numbers');
      assert.equal(typeof got?.duration_ms, 'number');
    });

    it('one stored recording per content hash and controller; attempts at it may be pending side by side', async () => {
      const r = recording('region-a');
      const retry = recording('region-a', { content_sha256: r.content_sha256 });
      await recordings.insertPending(r);
      await recordings.insertPending(retry);
      assert.equal(await recordings.findByContent('region-a', r.content_sha256), undefined, 'a pending attempt is no recording to point a duplicate at');
      assert.equal(await recordings.markStored(retry.id), true);
      await assert.rejects(recordings.markStored(r.id), 'the second attempt to commit is refused by the unique index');
      assert.equal((await recordings.findByContent('region-a', r.content_sha256))?.id, retry.id);
      const other = recording('region-b', { content_sha256: r.content_sha256 });
      await recordings.insertPending(other);
      assert.equal(await recordings.markStored(other.id), true, 'another controller may hold the same audio');
      assert.equal(await recordings.deleteAttempt(r.id), true);
      assert.equal(await recordings.deleteAttempt(retry.id), false, 'a stored recording is never removed as an attempt');
      assert.equal(await recordings.markStored(r.id), false, 'a removed attempt cannot become a recording');
      assert.equal((await recordings.attempt(retry.id))?.state, 'stored');
      await recordings.delete(other.id);
    });

    it('lists page by page and by controller', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        const r = recording('region-b');
        await recordings.insertPending(r);
        await recordings.markStored(r.id);
        ids.push(r.id);
      }
      const seen: string[] = [];
      let after: string | undefined;
      do {
        const page = await recordings.list({ controllerIds: ['region-b'], limit: 3, after });
        assert.ok(page.recordings.length <= 3);
        seen.push(...page.recordings.map((r) => r.id));
        after = page.next;
      } while (after);
      assert.deepEqual(seen, [...ids].sort());
      assert.equal((await recordings.list({ controllerIds: [] })).recordings.length, 0);
    });

    it('blind-index lookup finds only stored recordings with a matching digest', async () => {
      const a = recording('region-a');
      const b = recording('region-a');
      for (const r of [a, b]) {
        await recordings.insertPending(r);
        await recordings.markStored(r.id);
      }
      assert.ok((await recordings.unindexed(1000)).some((r) => r.id === a.id));
      await recordings.setIdentifiers(a.id, [
        { kind: 'personnummer', digest: 'aa' },
        { kind: 'phone', digest: 'bb' },
      ]);
      await recordings.setIdentifiers(b.id, [{ kind: 'personnummer', digest: 'aa' }]);
      assert.ok(!(await recordings.unindexed(1000)).some((r) => r.id === a.id));
      assert.deepEqual(
        (await recordings.findByIdentifier('personnummer', ['aa'])).map((r) => r.id),
        [a.id, b.id].sort(),
      );
      assert.deepEqual(
        (await recordings.findByIdentifier('phone', ['bb', 'zz'])).map((r) => r.id),
        [a.id],
      );
      assert.deepEqual(await recordings.findByIdentifier('phone', []), []);
      await recordings.delete(b.id);
      assert.deepEqual(
        (await recordings.findByIdentifier('personnummer', ['aa'])).map((r) => r.id),
        [a.id],
      );
    });

    it('replaces a wrapped key only from the key it was read with', async () => {
      const r = recording('region-a', { key_id: 'old' });
      await recordings.insertPending(r);
      await recordings.markStored(r.id);
      assert.equal(await recordings.replaceWrappedKey(r.id, 'other', 'new', 'eA=='), false);
      assert.equal(await recordings.replaceWrappedKey(r.id, 'old', 'new', 'eA=='), true);
      assert.equal((await recordings.get(r.id))?.key_id, 'new');
      assert.equal((await recordings.countByKey()).get('new'), 1);
      assert.deepEqual(
        (await recordings.withKey('new', 10)).map((x) => x.id),
        [r.id],
      );
    });

    it('the import journal: trusted while its recording is stored, replaced when the file is recorded again, gone with an erasure or a deletion', async () => {
      const journal = new ImportJournalRepository(m.db);
      const stored = async (controller = 'region-a') => {
        const r = recording(controller);
        await recordings.insertPending(r);
        await recordings.markStored(r.id);
        return r.id;
      };
      // stat values beyond 64-bit signed integers, as some filesystems give them
      const entry = (inode: string, recordingId: string, over = {}) => ({
        inode,
        device: '18446744073709551615',
        controller_id: 'region-a',
        size: 5_000_000_000,
        mtime_ns: '1550482200123456789',
        ctime_ns: '1550482200987654321',
        recording_id: recordingId,
        ...over,
      });
      const a = await stored();
      const big = '18446744073709551614';
      await journal.record([entry(big, a)]);
      assert.equal(await journal.isEmpty(), false);
      assert.deepEqual(await journal.storedByInode([big, '1']), [{ ...entry(big, a) }]);

      // a file recorded again (changed, then stored anew) replaces its entry, the last in a batch winning
      const b = await stored();
      await journal.record([entry(big, a, { mtime_ns: '1' }), entry(big, b, { mtime_ns: '2' })]);
      assert.deepEqual(await journal.storedByInode([big]), [entry(big, b, { mtime_ns: '2' })]);
      // the same file under another controller is another entry
      const c = await stored('region-b');
      await journal.record([entry(big, c, { controller_id: 'region-b' })]);
      assert.equal((await journal.storedByInode([big])).length, 2);

      // an attempt that is not (or no longer) stored is no reason to skip a file
      const attempt = recording('region-a');
      await recordings.insertPending(attempt);
      await journal.record([entry('7001', attempt.id)]);
      assert.deepEqual(await journal.storedByInode(['7001']), []);

      // erasure removes the entries of what it erases; a deleted recording takes its entries along
      await recordings.erase([b], new Date().toISOString());
      assert.deepEqual(
        (await journal.storedByInode([big])).map((r) => r.recording_id),
        [c],
      );
      assert.deepEqual(await m.db.selectFrom('import_journal').select('inode').where('recording_id', '=', b).execute(), []);
      await recordings.delete(c);
      assert.deepEqual(await m.db.selectFrom('import_journal').select('inode').where('recording_id', '=', c).execute(), []);

      // many at once: one statement per thousand rows
      const d = await stored();
      const many = Array.from({ length: 2500 }, (_, i) => entry(`9${String(i).padStart(6, '0')}`, d));
      await journal.record(many);
      assert.equal((await journal.storedByInode(many.map((e) => e.inode))).length, 2500);
    });

    it('iterates every recording across batch boundaries', async () => {
      for (let i = 0; i < 520; i++) {
        const r = recording('region-b');
        await recordings.insertPending(r);
        await recordings.markStored(r.id);
      }
      let n = 0;
      let prev = '';
      for await (const r of recordings.all()) {
        assert.ok(r.id > prev);
        prev = r.id;
        n += 1;
      }
      assert.ok(n >= 520);
    });

    it('users: unique usernames', async () => {
      const users = new UsersRepository(m.db);
      const u = { id: randomUUID(), username: 'alice', role: 'nurse', controller_id: 'region-a', password_hash: 'h', totp_secret_sealed: 's', created_at: 'now' };
      await users.add(u);
      await assert.rejects(users.add({ ...u, id: randomUUID() }));
      assert.equal((await users.byUsername('alice'))?.id, u.id);
    });

    it('failed sign-ins: counted per account and address, decaying with time, locked and cleared', async () => {
      const users = new UsersRepository(m.db);
      const id = randomUUID();
      await users.add({ id, username: 'bob', role: 'nurse', controller_id: 'region-a', password_hash: 'h', totp_secret_sealed: 's', created_at: 'now' });
      const t = 1_800_000_000_000;
      const decay = 60_000;
      assert.equal(await users.countFailedSignin(id, '192.0.2.1', t, decay), 1);
      assert.equal(await users.countFailedSignin(id, '192.0.2.1', t, decay), 2);
      assert.equal(await users.countFailedSignin(id, '192.0.2.2', t, decay), 1, 'another address counts apart');
      assert.equal(await users.countFailedSignin(id, '192.0.2.1', t + 30_000, decay), 2.5, 'half a failure drained in half the decay time');
      assert.equal(await users.countFailedSignin(id, '192.0.2.1', t + 600_000, decay), 1, 'a long pause drains it all: the count is this failure alone');
      assert.equal(await users.countFailedSignin(id, '192.0.2.1', t, decay), 2, 'a clock that went back drains nothing');
      await users.lockSignin(id, '192.0.2.1', t + 1000);
      await users.lockSignin(id, '192.0.2.1', t + 500); // a shorter lock does not shorten it
      assert.deepEqual(await users.signinLocks(id, ['192.0.2.1', '192.0.2.2', '*'], t + 999), ['192.0.2.1']);
      assert.deepEqual(await users.signinLocks(id, ['192.0.2.1'], t + 1000), []);
      await users.countFailedSignin(id, '*', t, decay);
      await users.lockSignin(id, '*', t + 1000);
      assert.ok((await users.lockedEverywhere(t)).has(id));
      await users.pruneSigninFailures(t + 600_001); // all older than this and no longer locked
      assert.deepEqual(await users.signinLocks(id, ['192.0.2.1', '*'], t), []);
      await users.countFailedSignin(id, '192.0.2.3', t, decay);
      await users.clearSigninFailures(id, '192.0.2.3');
      assert.equal(await users.countFailedSignin(id, '192.0.2.3', t, decay), 1, 'cleared');
      await users.clearSigninFailures(id);
      assert.equal(await users.countFailedSignin(id, '192.0.2.3', t, decay), 1, 'cleared with every other address');
    });
  });
}
