/**
 * The whole path a recorder and a nurse take: upload with an ingest token, find the call, state a
 * purpose, play ranges, and see each step in the audit log. Real server over HTTPS, real audio
 * from espeak-ng.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeCallWav } from '../fixtures/audio.js';
import { createToken } from '../../src/identities/tokens.js';
import { tempDir } from '../helpers.js';
import { Client, signedInUser, startTestServer, upload, type TestServer, type TestUser } from './harness.js';

let server: TestServer;
let wav: Buffer;
let call: Awaited<ReturnType<typeof makeCallWav>>;
let nurse: TestUser;
let recordingId: string;

before(async () => {
  server = await startTestServer();
  const src = await tempDir('src', 'play');
  call = await makeCallWav(join(src, 'call.wav'), { seed: 7 });
  wav = await readFile(join(src, 'call.wav'));
  nurse = await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'agent-7' });
});

after(async () => {
  await server.close();
});

test('an ingest token uploads a call; the answer carries its id and content hash', async () => {
  const { token } = await createToken(server.vault, { name: 'recorder-1', scope: 'ingest', controllerId: 'region-a', days: 30 });
  const res = await upload(server, token, wav, { agent: 'agent-7', region: 'north', direction: 'inbound', startedAt: '2026-11-20T10:00:00Z', caller: call.phone, personnummer: call.personnummer }, 'WEBVTT\n\n00:00.000 --> 00:01.000\nHej\n');
  assert.equal(res.status, 201, JSON.stringify(res.json));
  assert.equal(res.json.status, 'stored');
  assert.equal(res.json.sha256, createHash('sha256').update(wav).digest('hex'));
  recordingId = res.json.id;

  const again = await upload(server, token, wav, { agent: 'agent-7' });
  assert.equal(again.status, 200);
  assert.deepEqual(again.json, { id: recordingId, sha256: res.json.sha256, status: 'duplicate' });

  // the token can upload and nothing else
  const reader = new Client(server);
  reader.bearer = token;
  assert.equal((await reader.get('/api/v1/recordings')).status, 403);
  assert.equal((await reader.get(`/api/v1/recordings/${recordingId}`)).status, 403);
});

test('the nurse who handled the call finds it by personnummer, and the URL never carries it', async () => {
  const list = await nurse.client.get('/api/v1/recordings?region=north');
  assert.equal(list.status, 200);
  assert.deepEqual(list.json.recordings.map((r: any) => r.id), [recordingId]);
  assert.equal(list.json.recordings[0].hasTranscript, true);
  assert.equal('caller' in list.json.recordings[0], false);

  const found = await nurse.client.post('/api/v1/recordings/search', { personnummer: call.personnummer });
  assert.deepEqual(found.json.recordings.map((r: any) => r.id), [recordingId]);
  const none = await nurse.client.post('/api/v1/recordings/search', { personnummer: '19121212-1212' });
  assert.deepEqual(none.json.recordings, []);

  const detail = await nurse.client.get(`/api/v1/recordings/${recordingId}`);
  assert.equal(detail.status, 200);
  assert.equal(detail.json.personnummer, call.personnummer.replace(/\D/g, '').padStart(12, '19'));
});

test('playback needs a stated purpose, serves byte ranges with 206, and 416 past the end', async () => {
  const base = `/api/v1/recordings/${recordingId}/audio`;
  const noPurpose = await nurse.client.get(base);
  assert.equal(noPurpose.status, 400);
  assert.equal(noPurpose.json.error.code, 'CV_PURPOSE_REQUIRED');

  const bad = await nurse.client.post(`/api/v1/recordings/${recordingId}/access`, { purpose: 'curiosity' });
  assert.equal(bad.status, 400);
  const other = await nurse.client.post(`/api/v1/recordings/${recordingId}/access`, { purpose: 'other' });
  assert.equal(other.json.error.code, 'CV_PURPOSE_REQUIRED');

  const access = await nurse.client.post(`/api/v1/recordings/${recordingId}/access`, { purpose: 'patient-follow-up', purposeText: 'call back about results' });
  assert.equal(access.status, 201);
  const url = access.json.audioUrl as string;

  const whole = await nurse.client.get(url);
  assert.equal(whole.status, 200);
  assert.equal(whole.headers['content-type'], 'audio/wav');
  assert.equal(whole.headers['accept-ranges'], 'bytes');
  assert.ok(whole.body.equals(wav));

  const mid = Math.floor(wav.length / 2);
  const part = await nurse.client.request('GET', url, { headers: { range: `bytes=${mid}-${mid + 99_999}` } });
  assert.equal(part.status, 206);
  assert.equal(part.headers['content-range'], `bytes ${mid}-${mid + 99_999}/${wav.length}`);
  assert.ok(part.body.equals(wav.subarray(mid, mid + 100_000)));

  const suffix = await nurse.client.request('GET', url, { headers: { range: 'bytes=-1000' } });
  assert.equal(suffix.status, 206);
  assert.ok(suffix.body.equals(wav.subarray(wav.length - 1000)));

  const past = await nurse.client.request('GET', url, { headers: { range: `bytes=${wav.length}-` } });
  assert.equal(past.status, 416);
  assert.equal(past.headers['content-range'], `bytes */${wav.length}`);

  // the access belongs to the nurse's session, not to whoever has the URL
  const other2 = await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'agent-8' });
  assert.equal((await other2.client.get(url)).status, 404);
});

test('every step is in the audit log, with ranges and purpose, and no identifier in clear', async () => {
  const entries = await server.vault.audit.entries(0, await server.vault.audit.size());
  const events = entries.map((e) => JSON.parse(e.entry.toString('utf8')));
  const plays = events.filter((e) => e.action === 'recording.play' && e.outcome === 'success');
  assert.ok(plays.length >= 3);
  assert.ok(plays.every((e) => e.purpose === 'patient-follow-up' && e.recordingId === recordingId && e.actor.id === nurse.id));
  assert.ok(plays.some((e) => e.detail.range.start === Math.floor(wav.length / 2)));
  assert.ok(events.some((e) => e.action === 'recording.ingest' && e.outcome === 'success'));
  const search = events.find((e) => e.action === 'recordings.list' && e.detail.personnummerHash);
  assert.ok(search, 'the personnummer search is logged by keyed hash');
  const text = entries.map((e) => e.entry.toString('utf8')).join('\n');
  const digits = call.personnummer.replace(/\D/g, '');
  assert.equal(text.includes(digits.slice(-10)), false);
  assert.equal(text.includes(call.phone.replace(/\D/g, '').slice(-9)), false);
});

test('fail closed: when the audit log cannot be written, nothing is served (503)', async () => {
  const access = await nurse.client.post(`/api/v1/recordings/${recordingId}/access`, { purpose: 'quality-review' });
  assert.equal(access.status, 201);
  const { sql } = await import('kysely');
  const db = server.vault.database.db;
  // the database refuses new audit entries, as a full disk or a broken replica would
  await sql`CREATE TRIGGER audit_blocked BEFORE INSERT ON audit_entries BEGIN SELECT RAISE(ABORT, 'blocked'); END`.execute(db);
  try {
    const play = await nurse.client.get(access.json.audioUrl);
    assert.equal(play.status, 503);
    assert.equal(play.json.error.code, 'CV_AUDIT_UNAVAILABLE');
    assert.ok(!play.body.includes(wav.subarray(44, 1044)), 'no audio in the answer');
    const detail = await nurse.client.get(`/api/v1/recordings/${recordingId}`);
    assert.equal(detail.status, 503);
    assert.equal(detail.json.personnummer, undefined);
    const list = await nurse.client.get('/api/v1/recordings');
    assert.equal(list.status, 503);
  } finally {
    await sql`DROP TRIGGER audit_blocked`.execute(db);
  }
  assert.equal((await nurse.client.get(access.json.audioUrl)).status, 200);
});
