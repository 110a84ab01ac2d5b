/**
 * A data subject's erasure (GDPR art. 17) by crypto-shredding, over HTTP and from the CLI, on
 * SQLite and PostgreSQL: the named recordings' data keys, sealed fields, blind indexes, renditions,
 * grants and objects are gone, the tombstone stays, nothing lists, finds or serves them, the audit
 * log says so and verifies, `callvault verify` passes, a repeat is a no-op, and ids that are not
 * the person's recordings in reach refuse the whole request. And the key status admins see.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cli } from '../helpers.js';
import { assertErrorAnswer, assertNoLeak, db, filesUnder } from '../http/fixtures.js';
import { recordingBlobKey } from '../../src/storage/blob-store.js';
import { unwrapRecordingKey } from '../../src/recordings/read.js';
import { verifyStore } from '../../src/recordings/verify.js';
import { rewrapRetired } from '../../src/keys/rotation.js';
import { auditEvents, makeWorld, type Dialect, type World } from './world.js';

const API = '/api/v1';
const REASON = 'Art. 17-begäran, ärende DPO-2026-20, patienten på 070-174 06 05';

for (const [dialect, seed] of [
  ['sqlite', 51],
  ['postgres', 52],
] as [Dialect, number][]) {
  describe(`subject erasure on ${dialect}`, () => {
    let w: World;
    before(async () => {
      w = await makeWorld(dialect, seed);
    });
    after(async () => {
      await w?.close();
    });

    const secrets = () => [w.personnummer, w.phone, w.otherPersonnummer, '070-174 06 05'];
    const erase = (json: unknown, client = w.dpoA.client) => client.post(`${API}/subject/erase`, json);
    const env = () => ({ CALLVAULT_DATABASE_URL: w.databaseUrl || undefined });

    test('admins and auditors see key status: controllers, keys, provider, unlocked, recordings per key; never key material', async () => {
      for (const user of [w.admin, w.auditor]) {
        const res = await user.client.get(`${API}/keys`);
        assert.equal(res.status, 200, res.body.toString());
        assert.equal(res.json.provider, 'keyfile');
        assert.equal(res.json.unlocked, true);
        assert.deepEqual(res.json.controllers.map((c: { id: string }) => c.id).sort(), ['region-a', 'region-b']);
        const a = res.json.controllers.find((c: { id: string }) => c.id === 'region-a');
        assert.equal(a.name, 'Region A');
        assert.equal(a.keys.length, 1);
        assert.deepEqual(Object.keys(a.keys[0]).sort(), ['algorithm', 'createdAt', 'keyId', 'recordings', 'status']);
        assert.equal(a.keys[0].status, 'active');
        assert.equal(a.keys[0].recordings, 3, 'S1, S2, O1');
        assert.match(a.keys[0].algorithm, /P-256/);
        assert.doesNotMatch(res.body.toString(), /publicKey|wrapped|sealed|private/i);
      }
      for (const user of [w.dpoA, w.nurseA]) assert.equal((await user.client.get(`${API}/keys`)).status, 403);
      assert.equal((await auditEvents(w.server)).filter((e) => e.action === 'keys.read' && e.outcome === 'success').length, 2);
    });

    test("ids that are not the person's recordings in reach refuse the whole request; nothing is erased", async () => {
      const { S1, S2, S3, O1 } = w.ids;
      const cases: [string, unknown, number][] = [
        ["another person's recording among them", { phone: w.phone, recordingIds: [S1, O1], reason: REASON }, 409],
        ["the person's recording at another controller", { personnummer: w.personnummer, recordingIds: [S1, S3], reason: REASON }, 409],
        ['an id that does not exist', { phone: w.phone, recordingIds: [S1, '00000000-0000-4000-8000-000000000000'], reason: REASON }, 409],
        ['no reason', { phone: w.phone, recordingIds: [S1] }, 400],
        ['too short a reason', { phone: w.phone, recordingIds: [S1], reason: '  kort  ' }, 400],
        ['not a uuid', { phone: w.phone, recordingIds: ['S1'], reason: REASON }, 400],
        ['the same id twice', { phone: w.phone, recordingIds: [S1, S1], reason: REASON }, 400],
        ['both identifiers', { phone: w.phone, personnummer: w.personnummer, recordingIds: [S1], reason: REASON }, 400],
      ];
      for (const [what, json, status] of cases) {
        const res = await erase(json);
        assert.equal(res.status, status, `${what}: ${res.body.toString()}`);
        assertErrorAnswer(res, secrets(), what);
      }
      for (const [who, client] of [
        ['nurse', w.nurseA.client],
        ['admin', w.admin.client],
        ['auditor', w.auditor.client],
      ] as const) {
        assert.equal((await erase({ phone: w.phone, recordingIds: [S1], reason: REASON }, client)).status, 403, who);
      }
      assert.equal(
        (await erase({ personnummer: w.personnummer, recordingIds: [S1], reason: REASON }, w.dpoB.client)).status,
        409,
        "region-b's officer cannot erase region-a's recording",
      );
      for (const id of [S1, S2, S3, O1]) assert.equal((await w.server.vault.recordings.get(id))?.state, 'stored', id);
      // one denied entry per refusal: the four 409s and the three roles (the 400s never reach the handler's log)
      const denied = (await auditEvents(w.server)).filter((e) => e.action === 'subject.erase' && e.outcome === 'denied');
      assert.deepEqual(denied.map((e) => e.detail.reason).sort(), ['not-the-subjects', 'not-the-subjects', 'not-the-subjects', 'not-the-subjects', 'role', 'role', 'role']);
    });

    test('erasure destroys the data keys and everything that named the person; the tombstone stays; verify passes; a repeat is a no-op', async () => {
      const vault = w.server.vault;
      const { S1, S2, S3, O1 } = w.ids;
      // a purpose stated for S1 leaves an access grant; S1 has a redacted rendition
      assert.equal((await w.dpoA.client.post(`${API}/recordings/${S1}/access`, { purpose: 'subject-request' })).status, 201);
      const rendition = (await vault.recordings.rendition(S1))!;
      assert.ok(rendition, 'S1 has a redacted rendition');
      const objects = [recordingBlobKey(S1), recordingBlobKey(S2), rendition.blob_key];
      for (const key of objects) assert.equal(await vault.blobs.exists(key), true);
      const found = await w.dpoA.client.post(`${API}/subject/find`, { phone: w.phone });
      assert.deepEqual(found.json.recordings.map((r: { id: string }) => r.id).sort(), [S1, S2].sort());

      const res = await erase({ phone: w.phone, recordingIds: [S1, S2], reason: REASON });
      assert.equal(res.status, 200, res.body.toString());
      assert.deepEqual(res.json.erased.sort(), [S1, S2].sort());
      assert.deepEqual(res.json.alreadyErased, []);
      assert.equal(res.json.objectsLeft, 0);

      // the tombstone: id, controller and times; no key, no sealed field, no content hash
      for (const id of [S1, S2]) {
        const row = await db(w.server).selectFrom('recordings').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
        assert.equal(row.state, 'erased');
        assert.equal(row.controller_id, 'region-a');
        assert.ok(row.erased_at && Date.parse(row.erased_at) <= Date.now());
        assert.equal(row.wrapped_key, '');
        assert.equal(row.sealed_metadata, '');
        assert.equal(row.sealed_transcript, null);
        assert.equal(row.sealed_redacted_transcript, null);
        assert.equal(row.sealed_detections, null);
        assert.equal(row.erasure_debris, null, 'every object was deleted');
        assert.notEqual(row.content_sha256.length, 64);
        await assert.rejects(unwrapRecordingKey(vault, row), 'the data key is gone');
        for (const table of ['recording_identifiers', 'recording_renditions', 'access_grants'] as const) {
          const left = await db(w.server).selectFrom(table).select('recording_id').where('recording_id', '=', id).execute();
          assert.equal(left.length, 0, `${table} of ${id}`);
        }
      }
      for (const key of objects) assert.equal(await vault.blobs.exists(key), false, `${key} is deleted`);
      const stored = await filesUnder(join(w.server.dataDir, 'objects'));
      assert.equal(stored.filter((f) => f.includes(S1) || f.includes(S2)).length, 0);

      // nothing lists, finds or serves them; the others are untouched
      assert.equal((await w.dpoA.client.get(`${API}/recordings/${S1}`)).status, 404);
      assert.equal((await w.dpoA.client.post(`${API}/recordings/${S2}/access`, { purpose: 'subject-request' })).status, 404);
      assert.equal((await w.dpoA.client.post(`${API}/recordings/${S1}/export`, { purpose: 'subject-request', rendition: 'original' })).status, 404);
      const listed = await w.dpoA.client.get(`${API}/recordings`);
      assert.deepEqual(
        listed.json.recordings.map((r: { id: string }) => r.id),
        [O1],
      );
      for (const body of [{ caller: w.phone }, { personnummer: w.personnummer }]) {
        assert.deepEqual((await w.dpoA.client.post(`${API}/recordings/search`, body)).json.recordings, []);
      }
      assert.deepEqual((await w.dpoA.client.post(`${API}/subject/find`, { phone: w.phone })).json.recordings, []);
      assert.deepEqual(
        (await w.dpoB.client.post(`${API}/subject/find`, { phone: w.phone })).json.recordings.map((r: { id: string }) => r.id),
        [S3],
        "region-b's recording stays",
      );
      assert.equal((await vault.recordings.get(O1))?.state, 'stored');

      // the key status counts data keys held: the erased ones hold none
      const keys = await w.admin.client.get(`${API}/keys`);
      assert.equal(keys.json.controllers.find((c: { id: string }) => c.id === 'region-a').keys[0].recordings, 1);

      // audited, without identifiers; the log verifies; the person's access log shows the erasure
      const events = await auditEvents(w.server);
      const request = [...events].reverse().find((e) => e.action === 'subject.erase' && e.outcome === 'success');
      assert.equal(request.actor.id, w.dpoA.id);
      assert.equal(request.detail.phoneHash, vault.audit.identifierHash('phone', w.canonical.phone));
      assert.equal(request.detail.recordings, 2);
      assert.equal(request.purposeText, 'Art. 17-begäran, ärende DPO-2026-20, patienten på [TELEFON]');
      const perRecording = events.filter((e) => e.action === 'recording.erase' && e.detail.erasureId === request.detail.erasureId);
      assert.deepEqual(perRecording.map((e) => e.recordingId).sort(), [S1, S2].sort());
      assert.ok(events.indexOf(request) < events.indexOf(perRecording[0]));
      assertNoLeak(JSON.stringify(events), secrets(), 'the audit log');
      const auditReport = await vault.verifyAudit();
      assert.equal(auditReport.ok, true, JSON.stringify(auditReport.problems));
      const accessLog = await w.auditor.client.post(`${API}/audit/subject-access-log`, { phone: w.phone });
      assert.ok(accessLog.json.accesses.some((a: { action: string }) => a.action === 'subject.erase'));

      // `callvault verify`: the tombstones have no objects, and that is right
      const report = await verifyStore(vault, { deep: true });
      assert.deepEqual(report.problems, []);
      assert.equal(report.checked, 3, "S3, O1 and S3's rendition");

      // a rotation and rewrap afterwards leave the tombstones alone
      await vault.keys.generate('region-a');
      await rewrapRetired(vault);
      for (const id of [S1, S2]) assert.equal((await db(w.server).selectFrom('recordings').select('wrapped_key').where('id', '=', id).executeTakeFirstOrThrow()).wrapped_key, '');

      // a repeat: nothing to do, success
      const again = await erase({ phone: w.phone, recordingIds: [S1, S2], reason: REASON });
      assert.equal(again.status, 200, again.body.toString());
      assert.deepEqual(again.json.erased, []);
      assert.deepEqual(again.json.alreadyErased.sort(), [S1, S2].sort());
      // but region-b's officer does not reach region-a's tombstones either
      assert.equal((await erase({ phone: w.phone, recordingIds: [S1], reason: REASON }, w.dpoB.client)).status, 409);
    });

    test('callvault subject erase: refuses without --yes off a terminal, erases with it, repeats as a no-op; verify and audit verify pass', async () => {
      const { S3, O1 } = w.ids;
      const base = ['--data', w.server.dataDir, 'subject', 'erase', '--personnummer', w.personnummer];
      const refused = await cli([...base, '--reason', 'Art. 17-begäran, ärende CLI-2026-2', '--json'], env());
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /--yes/);
      const noReason = await cli([...base, '--yes', '--json'], env());
      assert.equal(noReason.code, 2, 'an erasure says why');
      assert.match(noReason.stderr, /give --reason/);
      assert.equal((await w.server.vault.recordings.get(S3))?.state, 'stored');

      const short = await cli([...base, '--yes', '--reason', 'kort'], env());
      assert.equal(short.code, 2);

      const before = (await w.server.vault.recordings.get(S3))!;
      const done = await cli([...base, '--yes', '--reason', 'Art. 17-begäran, ärende CLI-2026-2', '--json'], env());
      assert.equal(done.code, 0, done.stderr);
      assert.deepEqual(done.json.erased, [S3], 'every controller: the remaining recording of the person');
      assert.equal(done.json.objectsLeft, 0);
      assertNoLeak(done.stdout + done.stderr, secrets());
      assert.equal(await w.server.vault.recordings.get(S3), undefined);
      assert.equal((await w.server.vault.recordings.get(O1))?.state, 'stored', "the other person's recording stays");
      if (dialect === 'sqlite') {
        // with the keyring, an old wrapped key or sealed field left in the files would bring the call back
        const files = ['callvault.db', 'callvault.db-wal'].map((f) => join(w.server.dataDir, f));
        const bytes = Buffer.concat(await Promise.all(files.map((f) => readFile(f).catch(() => Buffer.alloc(0)))));
        for (const [name, value] of Object.entries({ wrapped_key: before.wrapped_key, sealed_metadata: before.sealed_metadata, sealed_transcript: before.sealed_transcript })) {
          if (value) assert.equal(bytes.indexOf(value), -1, `the erased recording's ${name} is still in the database files`);
        }
      }

      const again = await cli([...base, '--yes', '--reason', 'Art. 17-begäran, ärende CLI-2026-2', '--json'], env());
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(again.json.erased, []);

      const verify = await cli(['--data', w.server.dataDir, 'verify', '--deep', '--json'], env());
      assert.equal(verify.code, 0, verify.stdout);
      assert.equal(verify.json.ok, true);
      const auditVerify = await cli(['--data', w.server.dataDir, 'audit', 'verify', '--json'], env());
      assert.equal(auditVerify.code, 0, auditVerify.stdout);
      const cliEvents = (await auditEvents(w.server)).filter((e) => e.actor.type === 'cli' && e.action.endsWith('.erase'));
      assert.deepEqual(
        cliEvents.map((e) => `${e.action}:${e.recordingId ?? '-'}`),
        ['subject.erase:-', `recording.erase:${S3}`, 'subject.erase:-'],
      );
    });

    if (dialect === 'sqlite') {
      test('an object the store cannot delete stays listed in the tombstone: verify reports it, the next erasure deletes it', async () => {
        const vault = w.server.vault;
        const { O1 } = w.ids;
        // a real failure: a directory where the object's file was, so unlink fails
        const path = join(w.server.dataDir, 'objects', recordingBlobKey(O1));
        await rm(path);
        await mkdir(path);
        await writeFile(join(path, 'stuck'), 'x');
        const res = await erase({ personnummer: w.otherPersonnummer, recordingIds: [O1], reason: 'Art. 17-begäran, ärende DPO-2026-21' });
        assert.equal(res.status, 200, res.body.toString());
        assert.deepEqual(res.json.erased, [O1]);
        assert.equal(res.json.objectsLeft, 1);
        assert.equal(await vault.recordings.get(O1), undefined, 'erased all the same: the key is gone');
        const report = await verifyStore(vault, { deep: false });
        assert.equal(
          report.problems.some((p) => p.recordingId === O1 && /erased recording/.test(p.problem)),
          true,
          JSON.stringify(report.problems),
        );

        await rm(path, { recursive: true });
        await writeFile(path, 'ciphertext whose key is destroyed');
        const next = await erase({ personnummer: w.otherPersonnummer, recordingIds: [O1], reason: 'Art. 17-begäran, ärende DPO-2026-21' });
        assert.equal(next.status, 200);
        assert.deepEqual(next.json.alreadyErased, [O1]);
        assert.equal(next.json.objectsLeft, 0);
        assert.equal(await vault.blobs.exists(recordingBlobKey(O1)), false);
        assert.deepEqual((await verifyStore(vault, { deep: false })).problems, []);
      });
    }
  });
}
