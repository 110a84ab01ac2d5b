/**
 * The patient's access log outlives the recordings (issue 17, item 6; PDL 8 kap.): a nurse plays
 * a call, the privacy officer erases it, and the person's access log still lists the call, marked
 * erased and when, with the nurse's entries from before. Before this, the erasure deleted the
 * blind indexes that led from the person to the call, and with them the only way to find who had
 * listened to it. `subject find` still finds nothing of it, and another controller's privacy
 * officer still sees nothing of it. On SQLite and PostgreSQL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertNoLeak, db } from '../http/fixtures.js';
import { makeWorld, type Dialect, type World } from './world.js';
import { unzip } from './zip.js';

const API = '/api/v1';
const REASON = 'Art. 17-begäran, ärende DPO-2026-31';

interface LoggedRecording {
  id: string;
  controllerId: string;
  state: string;
  destroyedAt: string | null;
}
interface Access {
  action: string;
  outcome: string;
  recordingId: string | null;
  actor: { name?: string };
}

for (const [dialect, seed] of [
  ['sqlite', 61],
  ['postgres', 62],
] as [Dialect, number][]) {
  describe(`the access log of an erased call on ${dialect}`, () => {
    let w: World;
    let erasedAt: number;
    /** S1's blind indexes before the erasure */
    let indexedBefore: { kind: string; digest: string }[];
    before(async () => {
      w = await makeWorld(dialect, seed);
      const { S1 } = w.ids;
      indexedBefore = await db(w.server).selectFrom('recording_identifiers').select(['kind', 'digest']).where('recording_id', '=', S1).execute();
      // the nurse who took the call plays it back, for follow-up
      const access = await w.nurseA.client.post(`${API}/recordings/${S1}/access`, { purpose: 'patient-follow-up' });
      assert.equal(access.status, 201, access.body.toString());
      const played = await w.nurseA.client.get(access.json.audioUrl);
      assert.equal(played.status, 200, played.body.toString().slice(0, 200));
      // then the person has it erased
      const found = await w.dpoA.client.post(`${API}/subject/find`, { personnummer: w.personnummer });
      assert.ok(found.json.recordings.some((r: { id: string }) => r.id === S1));
      erasedAt = Date.now();
      const erased = await w.dpoA.client.post(`${API}/subject/erase`, { personnummer: w.personnummer, recordingIds: [S1], reason: REASON });
      assert.equal(erased.status, 200, erased.body.toString());
      assert.deepEqual(erased.json.erased, [S1]);
    });
    after(async () => {
      await w?.close();
    });

    const accessLog = (client = w.dpoA.client, body: unknown = { personnummer: w.personnummer }) => client.post(`${API}/audit/subject-access-log`, body);

    test("the person's access log still lists the erased call, marked erased, with the nurse's playback from before", async () => {
      const { S1, S2 } = w.ids;
      // by personnummer (S1's metadata and transcript) and by phone number (its metadata)
      for (const body of [{ personnummer: w.personnummer }, { phone: w.phone }]) {
        for (const user of [w.dpoA, w.auditor]) {
          const res = await accessLog(user.client, body);
          assert.equal(res.status, 200, res.body.toString());
          const recordings = res.json.recordings as LoggedRecording[];
          const s1 = recordings.find((r) => r.id === S1);
          assert.ok(s1, `${JSON.stringify(body)} for ${user.username}: the erased call is listed`);
          assert.equal(s1.controllerId, 'region-a');
          assert.equal(s1.state, 'erased');
          assert.ok(s1.destroyedAt && Date.parse(s1.destroyedAt) >= erasedAt - 1000 && Date.parse(s1.destroyedAt) <= Date.now());
          if ('phone' in body) assert.equal(recordings.find((r) => r.id === S2)?.state, 'stored', 'S2 is still stored');
          const onS1 = (res.json.accesses as Access[]).filter((a) => a.recordingId === S1);
          const nurses = onS1.filter((a) => a.actor.name === w.nurseA.username).map((a) => `${a.action}:${a.outcome}`);
          assert.ok(nurses.includes('recording.access:success') && nurses.includes('recording.play:success'), JSON.stringify(nurses));
          assert.ok(
            onS1.some((a) => a.action === 'recording.erase'),
            'and its erasure',
          );
        }
      }
    });

    test('subject find does not return it, nor does any list or search', async () => {
      const { S1, S2 } = w.ids;
      const found = await w.dpoA.client.post(`${API}/subject/find`, { phone: w.phone });
      assert.deepEqual(
        found.json.recordings.map((r: { id: string }) => r.id),
        [S2],
      );
      assert.deepEqual((await w.dpoA.client.post(`${API}/subject/find`, { personnummer: w.personnummer })).json.recordings, []);
      assert.deepEqual((await w.dpoA.client.post(`${API}/recordings/search`, { personnummer: w.personnummer })).json.recordings, []);
      assert.ok(!(await w.dpoA.client.get(`${API}/recordings`)).json.recordings.some((r: { id: string }) => r.id === S1));
      assert.equal((await w.dpoA.client.get(`${API}/recordings/${S1}`)).status, 404);
    });

    test("another controller's privacy officer sees nothing of it", async () => {
      const { S1, S3 } = w.ids;
      const res = await accessLog(w.dpoB.client);
      assert.equal(res.status, 200, res.body.toString());
      assert.deepEqual(
        (res.json.recordings as LoggedRecording[]).map((r) => r.id),
        [S3],
      );
      assert.ok(!(res.json.accesses as Access[]).some((a) => a.recordingId === S1));
      assert.doesNotMatch(res.body.toString(), new RegExp(`${S1}|${w.nurseA.username}|DPO-2026-31`));
    });

    test("the export's access log lists it too, and the archive holds nothing of it but that", async () => {
      const { S1 } = w.ids;
      const res = await w.dpoA.client.post(`${API}/subject/export`, { personnummer: w.personnummer, purposeText: 'Ärende DPO-2026-32: registerutdrag' });
      assert.equal(res.status, 200, res.body.toString().slice(0, 300));
      const zip = await unzip(res.body);
      assert.ok(![...zip.keys()].some((name) => name.startsWith('recordings/')), [...zip.keys()].join(', '));
      const log = JSON.parse(zip.get('access-log.json')!.data.toString('utf8'));
      assert.equal(log.recordings.find((r: LoggedRecording) => r.id === S1)?.state, 'erased');
      assert.ok(log.accesses.some((a: Access) => a.recordingId === S1 && a.action === 'recording.play' && a.actor.name === w.nurseA.username));
      const readme = zip.get('README.txt')!.data.toString('utf8');
      assert.match(readme, new RegExp(`${S1}\\s+erased \\d{4}-\\d{2}-\\d{2}`));
    });

    test('what is kept is keyed digests of the personnummer and phone number, not the source file name, and nothing in clear', async () => {
      const { S1 } = w.ids;
      const links = await db(w.server).selectFrom('destroyed_identifiers').selectAll().where('recording_id', '=', S1).execute();
      const key = (l: { kind: string; digest: string }) => `${l.kind}:${l.digest}`;
      assert.deepEqual(
        links.map(key).sort(),
        indexedBefore
          .filter((i) => i.kind !== 'source_name')
          .map(key)
          .sort(),
      );
      assert.ok(
        ['personnummer', 'phone', 'transcript_personnummer'].every((k) => links.some((l) => l.kind === k)),
        JSON.stringify(links.map((l) => l.kind)),
      );
      for (const l of links) {
        assert.match(l.digest, /^[0-9a-f]{64}$/);
        assert.equal(l.controller_id, 'region-a');
        assert.equal(l.destruction, 'erased');
      }
      assertNoLeak(JSON.stringify(links), [w.personnummer, w.phone, w.canonical.personnummer, w.canonical.phone], 'the kept links');
      assert.equal((await db(w.server).selectFrom('recording_identifiers').select('kind').where('recording_id', '=', S1).execute()).length, 0);
      // a repeated erasure keeps them as they are
      const again = await w.dpoA.client.post(`${API}/subject/erase`, { personnummer: w.personnummer, recordingIds: [S1], reason: REASON });
      assert.deepEqual(again.json.alreadyErased, [S1]);
      assert.equal((await db(w.server).selectFrom('destroyed_identifiers').select('kind').where('recording_id', '=', S1).execute()).length, links.length);
    });
  });
}
