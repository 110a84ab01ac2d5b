/**
 * Retention by destroying keys (issue 17, items 1 to 4), on SQLite and PostgreSQL, with the
 * subject-rights world (test/subject/world.ts): region-a's calls S1, S2 and O1 of February 2026,
 * region-b's S3. Region-a keeps calls 200 days, so February is past retention in December; a
 * legal hold on the subject's personnummer keeps S1 and a later upload of theirs.
 *
 * The backup case: the database rows and the objects are copied before the run and put back
 * after it, with the keyring as the run left it. Every expired recording must stay unreadable;
 * the held and unexpired ones readable.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createServices, type Services } from '../../src/services/index.js';
import { operatorActor } from '../../src/services/actor.js';
import { openStoredRecording } from '../../src/recordings/read.js';
import { createToken } from '../../src/identities/tokens.js';
import { verifyStore } from '../../src/recordings/verify.js';
import { upload } from '../http/harness.js';
import { callVariants } from '../http/fixtures.js';
import { db } from '../http/fixtures.js';
import { auditEvents, makeWorld, type Dialect, type World } from '../subject/world.js';

const API = '/api/v1';
const operator = operatorActor('test');

for (const dialect of ['sqlite', 'postgres'] as Dialect[]) {
  describe(`retention by destroying period keys (${dialect})`, () => {
    let w: World;
    let services: Services;
    let later: string;
    before(async () => {
      w = await makeWorld(dialect, dialect === 'sqlite' ? 101 : 103);
      services = createServices(w.server.vault);
    });
    after(async () => {
      await w?.close();
    });

    const readable = async (id: string): Promise<boolean> => {
      const row = (await db(w.server).selectFrom('recordings').selectAll().where('id', '=', id).executeTakeFirst())!;
      try {
        for await (const _ of (await openStoredRecording(w.server.vault, row)).read());
        return true;
      } catch {
        return false;
      }
    };

    test('a first run moves every recording to the key of its class and month, touching no audio', async () => {
      const before = await db(w.server).selectFrom('recordings').select(['id', 'key_id', 'ciphertext_sha256']).execute();
      const report = await services.retention.run(operator, { dryRun: false });
      assert.equal(
        report.controllers.reduce((n, c) => n + c.moved, 0),
        4,
      );
      assert.equal(
        report.controllers.reduce((n, c) => n + c.shredded, 0),
        0,
        'no retention is set yet',
      );
      const keys = new Map((await w.server.vault.keys.list()).map((k) => [k.keyId, k.scope]));
      for (const b of before) {
        const row = (await w.server.vault.recordings.get(b.id))!;
        assert.notEqual(row.key_id, b.key_id);
        assert.equal(keys.get(row.key_id), `period/default/${(row.started_at ?? row.imported_at).slice(0, 7)}`);
        assert.equal(row.ciphertext_sha256, b.ciphertext_sha256, 'the object is untouched');
        assert.equal(await readable(b.id), true);
      }
    });

    test('lowering a retention shows first how many recordings it would shred', async () => {
      const asked: number[] = [];
      const refused = await services.retention.set(operator, { controllerId: 'region-a', days: 200 }, async (n) => {
        asked.push(n);
        return false;
      });
      assert.deepEqual(refused, { applied: false, wouldShred: 3, previousDays: null });
      assert.deepEqual(await services.retention.policies(operator), []);
      const applied = await services.retention.set(operator, { controllerId: 'region-a', days: 200 }, async () => true);
      assert.equal(applied.applied, true);
      // raising it shreds nothing and asks nothing
      const raised = await services.retention.set(operator, { controllerId: 'region-a', days: 400 }, async () => assert.fail('nothing to confirm'));
      assert.deepEqual(raised, { applied: true, wouldShred: 0, previousDays: 200 });
      await services.retention.set(operator, { controllerId: 'region-a', days: 200 }, async () => true);
      assert.deepEqual(asked, [3]);
      const entries = (await auditEvents(w.server)).filter((e) => e.action === 'retention.set');
      assert.deepEqual(
        entries.map((e) => [e.controllerId, e.detail.days, e.detail.wouldShred, e.detail.applied]),
        [
          ['region-a', 200, 3, false],
          ['region-a', 200, 3, true],
          ['region-a', 400, 0, true],
          ['region-a', 200, 3, true],
        ],
      );
    });

    test('a hold on a person takes effect at once and catches a later upload of theirs', async () => {
      const hold = await services.retention.addHold(operator, { personnummer: w.personnummer, case: 'IVO 2026-77', reason: 'tillsynsärende' });
      assert.equal(hold.covered, 2, 'S1 at region-a and S3 at region-b');
      const token = await createToken(w.server.vault, { name: 'later', scope: 'ingest', controllerId: 'region-a', days: 1 });
      const { wavs } = await callVariants(dialect === 'sqlite' ? 105 : 107, 1);
      const res = await upload(w.server, token.token, wavs[0]!, { personnummer: w.personnummer, agent: 'a1', region: 'north', startedAt: '2026-02-10T08:00:00Z' });
      assert.equal(res.status, 201, JSON.stringify(res.json));
      later = res.json.id;
      const dry = await services.retention.run(operator, { dryRun: true });
      const a = dry.controllers.find((c) => c.controllerId === 'region-a')!;
      assert.equal(dry.dryRun, true);
      assert.equal(a.held, 2, 'S1 and the later upload');
      for (const id of Object.values(w.ids)) assert.equal(await readable(id), true, 'a dry run destroys nothing');
    });

    test('a run shreds what is past retention, keeps what a hold keeps, and a backup from before it opens nothing expired', async () => {
      const { S1, S2, S3, O1 } = w.ids;
      // the backup: rows and objects as they are before the run
      const rows = await db(w.server).selectFrom('recordings').selectAll().execute();
      const objects = join(w.server.dataDir, 'objects');
      const copy = `${objects}.backup`;
      await cp(objects, copy, { recursive: true });

      const report = await services.retention.run(operator, { dryRun: false });
      const a = report.controllers.find((c) => c.controllerId === 'region-a')!;
      const b = report.controllers.find((c) => c.controllerId === 'region-b')!;
      assert.equal(a.shredded, 2, JSON.stringify(a));
      assert.equal(a.held, 2);
      assert.ok(a.keysDestroyed.length >= 1);
      assert.equal(b.shredded, 0, 'region-b has no retention set');
      assert.ok(a.nextDue, 'the keys of this month and the next are made');
      const entries = (await auditEvents(w.server)).filter((e) => e.action === 'retention.run' && !e.detail.dryRun);
      assert.deepEqual(entries.filter((e) => e.controllerId === 'region-a').at(-1).detail.keysDestroyed, a.keysDestroyed);

      for (const id of [S2, O1]) {
        const row = (await db(w.server).selectFrom('recordings').selectAll().where('id', '=', id).executeTakeFirst())!;
        assert.equal(row.state, 'erased');
        assert.ok(row.shredded_at);
        assert.equal(row.wrapped_key, '');
      }
      for (const id of [S1, S3, later]) assert.equal(await readable(id), true, `${id} is kept`);
      // the patient access log still lists the shredded call, and who reached it before
      const log = await services.subjectRights.accessLog(operator, { personnummer: w.otherPersonnummer });
      assert.deepEqual(
        log.recordings.map((r) => [r.id, r.state]),
        [[O1, 'shredded']],
      );
      assert.ok(log.accesses.some((a) => a.recordingId === O1 && a.action === 'recording.ingest'));
      const shown = await w.dpoA.client.get(`${API}/recordings/${S2}`);
      assert.equal(shown.status, 410, shown.body.toString());
      assert.equal(shown.json.error.code, 'CV_SHREDDED');
      assert.deepEqual((await verifyStore(w.server.vault, { deep: true })).problems, []);

      // the backup put back, with the keyring as the run left it
      for (const row of rows) {
        const { id, ...rest } = row;
        await db(w.server).updateTable('recordings').set(rest).where('id', '=', id).execute();
      }
      await rm(objects, { recursive: true });
      await cp(copy, objects, { recursive: true });
      for (const id of [S2, O1]) assert.equal(await readable(id), false, `${id} stays shredded in the restored backup`);
      for (const id of [S1, S3]) assert.equal(await readable(id), true, `${id} reads from the backup`);
      // the later upload was moved to the hold's key only by the run, after the backup: in the
      // backup it is still wrapped to its month's key, destroyed since
      assert.equal(await readable(later), false);
      // the next run turns what the restored database lists but cannot open into tombstones
      const again = (await services.retention.run(operator, { dryRun: false })).controllers.find((c) => c.controllerId === 'region-a')!;
      assert.equal(again.shredded, 3, JSON.stringify(again));
      assert.deepEqual((await verifyStore(w.server.vault, { deep: true })).problems, []);
    });

    test('an upload already past its retention is refused unless a hold covers it; a class of its own keeps it', async () => {
      const token = await createToken(w.server.vault, { name: 'archive', scope: 'ingest', controllerId: 'region-a', days: 1 });
      const { wavs } = await callVariants(dialect === 'sqlite' ? 109 : 111, 3);
      const before = (await db(w.server).selectFrom('recordings').select('id').execute()).length;
      const old = await upload(w.server, token.token, wavs[0]!, { agent: 'a5', region: 'north', startedAt: '2025-03-01T08:00:00Z' });
      assert.equal(old.status, 422, JSON.stringify(old.json));
      assert.equal(old.json.error.code, 'CV_PAST_RETENTION');
      assert.equal((await db(w.server).selectFrom('recordings').select('id').execute()).length, before, 'nothing stored');
      const denied = (await auditEvents(w.server)).filter((e) => e.action === 'recording.ingest' && e.outcome === 'denied').at(-1);
      assert.equal(denied.detail.reason, 'past-retention');
      // a hold on the agent's calls of that spring lets it in, and wraps it to the hold's key at once
      const hold = await services.retention.addHold(operator, { agent: 'a5', from: '2025-01-01T00:00:00Z', to: '2025-06-01T00:00:00Z', case: 'JO 2026-3', reason: 'granskning' });
      const held = await upload(w.server, token.token, wavs[0]!, { agent: 'a5', region: 'north', startedAt: '2025-03-01T08:00:00Z' });
      assert.equal(held.status, 201, JSON.stringify(held.json));
      const keys = new Map((await w.server.vault.keys.list()).map((k) => [k.keyId, k.scope]));
      assert.equal(keys.get((await w.server.vault.recordings.get(held.json.id))!.key_id), `hold/${hold.id}`);
      // the journal class has a retention of its own (ten years)
      await services.retention.set(operator, { controllerId: 'region-a', class: 'journal', days: 3653 }, async () => true);
      const journal = await upload(w.server, token.token, wavs[1]!, { agent: 'a6', region: 'north', startedAt: '2025-03-02T08:00:00Z', class: 'journal' });
      assert.equal(journal.status, 201, JSON.stringify(journal.json));
      assert.equal((await w.server.vault.recordings.get(journal.json.id))!.retention_class, 'journal');
      const badClass = await upload(w.server, token.token, wavs[2]!, { agent: 'a6', class: 'Journal!' });
      assert.equal(badClass.status, 400);
      await services.retention.releaseHold(operator, hold.id, 'granskningen klar');
    });

    test('a released hold sends what it kept to the next run', async () => {
      const [hold] = (await services.retention.holds(operator)).filter((h) => !h.releasedAt);
      await services.retention.releaseHold(operator, hold!.id, 'ärendet avslutat');
      const report = await services.retention.run(operator, { dryRun: false });
      const a = report.controllers.find((c) => c.controllerId === 'region-a')!;
      assert.equal(a.shredded, 2, `S1, and the agent's call its released hold kept: ${JSON.stringify(a)}`);
      assert.equal(await readable(w.ids.S1), false);
      assert.equal(await readable(w.ids.S3), true, 'region-b keeps its calls: no retention there');
    });

    test("a recording's class set later moves it to that class's month at the next run", async () => {
      await services.retention.setClass(operator, w.ids.S3, 'journal');
      const entry = (await auditEvents(w.server)).filter((e) => e.action === 'recording.class').at(-1);
      assert.deepEqual([entry.recordingId, entry.detail], [w.ids.S3, { class: 'journal', previous: 'default' }]);
      const report = await services.retention.run(operator, { dryRun: false });
      assert.equal(report.controllers.find((c) => c.controllerId === 'region-b')!.moved, 1);
      const row = (await w.server.vault.recordings.get(w.ids.S3))!;
      const scope = (await w.server.vault.keys.list()).find((k) => k.keyId === row.key_id)?.scope;
      assert.equal(scope, 'period/journal/2026-02');
      assert.equal(await readable(w.ids.S3), true);
      // a settled vault: the next run moves nothing
      const again = await services.retention.run(operator, { dryRun: false });
      assert.deepEqual(
        again.controllers.map((c) => c.moved),
        [0, 0],
      );
    });
  });
}
