/**
 * A data subject's export (GDPR art. 15) over HTTP and from the CLI, on SQLite and PostgreSQL: one
 * ZIP archive with each of the person's recordings in reach (original audio byte for byte, the
 * transcript as JSON and WebVTT, the metadata), the access log and a manifest; audited before it
 * leaves, identifiers only in the body, never in the log.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cli, tempDir } from '../helpers.js';
import { assertErrorAnswer, assertNoLeak, filesUnder, identifierForms } from '../http/fixtures.js';
import { auditEvents, makeWorld, type Dialect, type World } from './world.js';
import { unzip } from './zip.js';

const API = '/api/v1';
const PURPOSE = 'Ärende DPO-2026-17: registerutdrag, patienten ringde från 070-174 06 05';

for (const [dialect, seed] of [
  ['sqlite', 41],
  ['postgres', 42],
] as [Dialect, number][]) {
  describe(`subject export on ${dialect}`, () => {
    let w: World;
    before(async () => {
      w = await makeWorld(dialect, seed);
    });
    after(async () => {
      await w?.close();
    });

    const secrets = () => [w.personnummer, w.phone, w.otherPersonnummer, '070-174 06 05'];

    test("a privacy officer gets one ZIP archive: audio, transcripts, metadata, access log and manifest of the person's recordings in reach", async () => {
      const objectsBefore = await filesUnder(join(w.server.dataDir, 'objects'));
      const res = await w.dpoA.client.post(`${API}/subject/export`, { phone: w.phone, purposeText: PURPOSE });
      assert.equal(res.status, 200, res.body.toString().slice(0, 300));
      assert.equal(res.headers['content-type'], 'application/zip');
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.match(String(res.headers['content-disposition']), /^attachment; filename="subject-export-\d{4}-\d{2}-\d{2}-[0-9a-f]{8}\.zip"$/);
      assertNoLeak(String(res.headers['content-disposition']), secrets());

      const zip = await unzip(res.body);
      const { S1, S2 } = w.ids;
      assert.deepEqual(
        [...zip.keys()].sort(),
        [
          'README.txt',
          'access-log.json',
          `recordings/${S1}/audio.wav`,
          `recordings/${S1}/metadata.json`,
          `recordings/${S1}/transcript.json`,
          `recordings/${S1}/transcript.vtt`,
          `recordings/${S2}/audio.wav`,
          `recordings/${S2}/metadata.json`,
        ].sort(),
        "S1 and S2 (region-a); not S3 (region-b, outside the officer's reach), not the other person's O1",
      );
      assert.ok(zip.get(`recordings/${S1}/audio.wav`)!.data.equals(w.wavs.S1), 'the original audio, byte for byte');
      assert.ok(zip.get(`recordings/${S2}/audio.wav`)!.data.equals(w.wavs.S2));
      assert.equal(zip.get(`recordings/${S1}/audio.wav`)!.compressed, false, 'audio is stored, not deflated');

      const meta = JSON.parse(zip.get(`recordings/${S1}/metadata.json`)!.data.toString('utf8'));
      assert.equal(meta.id, S1);
      assert.deepEqual(meta.controller, { id: 'region-a', name: 'Region A' });
      assert.equal(meta.startedAt, '2026-02-01T08:00:00.000Z');
      assert.equal(meta.direction, 'inbound');
      assert.equal(meta.region, 'north');
      assert.equal(meta.agent, 'a1');
      assert.equal(meta.durationMs > 0, true);
      assert.equal(meta.caller, w.canonical.phone, "the person's own number");
      assert.equal(meta.personnummer, w.canonical.personnummer);
      assert.deepEqual(meta.foundIn, ['metadata', 'transcript']);
      assert.equal(meta.audio.bytes, w.wavs.S1.length);
      const meta2 = JSON.parse(zip.get(`recordings/${S2}/metadata.json`)!.data.toString('utf8'));
      assert.equal(meta2.personnummer, null);
      assert.equal(meta2.transcript, null);

      const transcript = JSON.parse(zip.get(`recordings/${S1}/transcript.json`)!.data.toString('utf8'));
      assert.ok(transcript.segments.length > 0);
      assert.ok(
        JSON.stringify(transcript.segments).includes(`${w.call.personnummer.slice(2, 4)} ${w.call.personnummer.slice(4, 6)}`),
        'the original transcript, not the redacted one',
      );
      const vtt = zip.get(`recordings/${S1}/transcript.vtt`)!.data.toString('utf8');
      assert.match(vtt, /^WEBVTT\n/);
      assert.equal(vtt.match(/-->/g)?.length, transcript.segments.length, 'one cue per segment');

      const log = JSON.parse(zip.get('access-log.json')!.data.toString('utf8'));
      assert.deepEqual(log.recordings.map((r: { id: string }) => r.id).sort(), [S1, S2].sort());
      const actions = log.accesses.map((a: { action: string }) => a.action);
      assert.ok(actions.includes('recording.redact'), 'the examination for identifiers is an access');
      assert.ok(actions.includes('subject.export'), 'this export is in the log it hands out');
      assert.equal(log.accesses.filter((a: { action: string; recordingId: string }) => a.action === 'recording.export').length, 2);

      const readme = zip.get('README.txt')!.data.toString('utf8');
      assert.match(readme, /Recordings: 2\n/);
      assert.ok(readme.includes(S1) && readme.includes(S2));
      assertNoLeak(readme, secrets(), 'the manifest names no identifier');

      // nothing decrypted reached the server's disk
      assert.deepEqual(await filesUnder(join(w.server.dataDir, 'objects')), objectsBefore);

      // audited: the request with the identifier's keyed hash, each recording as a subject request
      const events = await auditEvents(w.server);
      const exportEvent = [...events].reverse().find((e) => e.action === 'subject.export');
      assert.equal(exportEvent.outcome, 'success');
      assert.equal(exportEvent.actor.id, w.dpoA.id);
      assert.equal(exportEvent.detail.phoneHash, w.server.vault.audit.identifierHash('phone', w.canonical.phone));
      assert.equal(exportEvent.detail.recordings, 2);
      assert.equal(exportEvent.purpose, 'subject-request');
      assert.equal(exportEvent.purposeText, 'Ärende DPO-2026-17: registerutdrag, patienten ringde från [TELEFON]', 'identifiers in the case reference become labels');
      const perRecording = events.filter((e) => e.action === 'recording.export' && e.detail?.exportId === exportEvent.detail.exportId);
      assert.deepEqual(perRecording.map((e) => e.recordingId).sort(), [S1, S2].sort());
      for (const e of perRecording) {
        assert.equal(e.detail.subjectRequest, true);
        assert.equal(e.detail.rendition, 'original');
        assert.equal(e.purpose, 'subject-request');
      }
      assertNoLeak(JSON.stringify(events), secrets(), 'the audit log');
    });

    test("another controller's privacy officer exports only their own recordings; a person without recordings gets an archive that says so", async () => {
      const res = await w.dpoB.client.post(`${API}/subject/export`, { personnummer: w.personnummer, purposeText: 'Ärende B-2026-3 registerutdrag' });
      assert.equal(res.status, 200);
      const zip = await unzip(res.body);
      assert.deepEqual(
        [...zip.keys()].filter((k) => k.endsWith('.wav')),
        [`recordings/${w.ids.S3}/audio.wav`],
      );
      assert.ok(zip.get(`recordings/${w.ids.S3}/audio.wav`)!.data.equals(w.wavs.S3));

      const none = await w.dpoA.client.post(`${API}/subject/export`, { personnummer: '19121212-1212', purposeText: 'Ärende DPO-2026-18 registerutdrag' });
      assert.equal(none.status, 200);
      const empty = await unzip(none.body);
      assert.deepEqual([...empty.keys()].sort(), ['README.txt', 'access-log.json']);
      assert.match(empty.get('README.txt')!.data.toString('utf8'), /Recordings: 0\n/);
    });

    test('refused: other roles (403), no or too short a case reference, both identifiers or none (400); errors name no identifier', async () => {
      const body = { personnummer: w.personnummer, purposeText: 'Ärende DPO-2026-19 registerutdrag' };
      for (const [who, client] of [
        ['nurse', w.nurseA.client],
        ['admin', w.admin.client],
        ['auditor', w.auditor.client],
      ] as const) {
        const res = await client.post(`${API}/subject/export`, body);
        assert.equal(res.status, 403, who);
        assertErrorAnswer(res, secrets(), who);
      }
      const cases: [string, unknown][] = [
        ['no purpose text', { personnummer: w.personnummer }],
        ['short purpose text', { personnummer: w.personnummer, purposeText: 'kort' }],
        ['padded purpose text', { personnummer: w.personnummer, purposeText: '   ärende      ' }],
        ['both identifiers', { ...body, phone: w.phone }],
        ['no identifier', { purposeText: body.purposeText }],
        ['not a personnummer', { ...body, personnummer: '19121212-1213' }],
        ['unknown field', { ...body, rendition: 'original' }],
      ];
      for (const [what, json] of cases) {
        const res = await w.dpoA.client.post(`${API}/subject/export`, json);
        assert.equal(res.status, 400, `${what}: ${res.body.toString()}`);
        assertErrorAnswer(res, secrets(), what);
      }
    });

    test('callvault subject export writes the archive (every controller) through a temporary file; a bad --out leaves nothing', async () => {
      const env = { CALLVAULT_DATABASE_URL: w.databaseUrl || undefined };
      const dir = await tempDir('out', 'subject-export');
      const out = join(dir, 'person.zip');
      const r = await cli(['--data', w.server.dataDir, 'subject', 'export', '--phone', w.phone, '--out', out, '--purpose-text', 'Ärende CLI-2026-1', '--json'], env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.json.recordings, 3);
      assert.deepEqual(await readdir(dir), ['person.zip'], 'no temporary file is left');
      const { readFile } = await import('node:fs/promises');
      const zip = await unzip(await readFile(out));
      for (const name of ['S1', 'S2', 'S3'] as const) assert.ok(zip.get(`recordings/${w.ids[name]}/audio.wav`)!.data.equals(w.wavs[name]), name);
      const events = await auditEvents(w.server);
      const cliExport = [...events].reverse().find((e) => e.action === 'subject.export');
      assert.equal(cliExport.actor.type, 'cli');
      assert.equal(cliExport.detail.recordings, 3);
      assertNoLeak(r.stdout + r.stderr, secrets());

      const bad = await cli(['--data', w.server.dataDir, 'subject', 'export', '--phone', w.phone, '--out', join(dir, 'missing', 'x.zip'), '--json'], env);
      assert.equal(bad.code, 2, "a folder that does not exist is the operator's to fix");
      assert.equal(bad.json?.error?.code, 'CV_USAGE');
      assert.equal(bad.stderr.trim().split('\n').length, 1);
      assert.deepEqual(await readdir(dir), ['person.zip']);
      const usage = await cli(['--data', w.server.dataDir, 'subject', 'export', '--phone', w.phone, '--personnummer', w.personnummer, '--out', out]);
      assert.equal(usage.code, 2);
      for (const form of identifierForms(w.phone)) assert.equal(usage.stderr.includes(form), false);
    });
  });
}
