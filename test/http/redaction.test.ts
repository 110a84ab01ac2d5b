/**
 * Redaction over HTTP: a recorder uploads calls with transcripts, the server examines each at
 * once; a supervisor hears and reads only the redacted rendition, a nurse may ask for the
 * original, a call that cannot be redacted is refused to those who may not hear the original, and
 * every step names its rendition in the audit log. Real server, real espeak-ng audio.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeCallWav, type SyntheticCall } from '../fixtures/audio.js';
import { verboseJson } from '../fixtures/transcripts.js';
import { createToken } from '../../src/identities/tokens.js';
import { cli, tempDir } from '../helpers.js';
import { signedInUser, startTestServer, upload, type TestServer, type TestUser } from './harness.js';

const API = '/api/v1';
let server: TestServer;
let token: string;
let call: SyntheticCall;
let wav: Buffer;
let nurse: TestUser;
let supervisor: TestUser;
let dpo: TestUser;
let redactedId: string;
let untranscribedId: string;

const meta = { agent: 'agent-7', region: 'north', direction: 'inbound' };

before(async () => {
  server = await startTestServer();
  const src = await tempDir('src', 'redact-http');
  call = await makeCallWav(join(src, 'call.wav'), { seed: 21, encoding: 'mulaw' });
  wav = await readFile(join(src, 'call.wav'));
  ({ token } = await createToken(server.vault, { name: 'recorder', scope: 'ingest', controllerId: 'region-a', days: 1 }));
  nurse = await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'agent-7', team: 't7' });
  supervisor = await signedInUser(server, { role: 'supervisor', controllerId: 'region-a', team: 't7' });
  dpo = await signedInUser(server, { role: 'dpo', controllerId: 'region-a' });
});

after(async () => {
  await server.close();
});

test('an upload with a transcript is examined at once: the answer says it was redacted', async () => {
  const res = await upload(server, token, wav, meta, verboseJson(call, 'words').json, 'application/json');
  assert.equal(res.status, 201, JSON.stringify(res.json));
  assert.equal(res.json.redaction, 'redacted');
  redactedId = res.json.id;

  // without a transcript nothing says where identifiers are spoken
  const dir = await tempDir('src', 'redact-http');
  await makeCallWav(join(dir, 'other.wav'), { seed: 22 });
  const bare = await upload(server, token, await readFile(join(dir, 'other.wav')), meta);
  assert.equal(bare.status, 201);
  assert.equal(bare.json.redaction, 'none');
  untranscribedId = bare.json.id;

  // examining a call decrypts it: the audit log says so, with what came of it and no identifier
  const entries = (await server.vault.audit.entries(0, await server.vault.audit.size())).map((e) => JSON.parse(e.entry.toString('utf8')));
  const examined = entries.filter((e) => e.action === 'recording.redact').map((e) => [e.recordingId, e.actor.type, e.detail.state, e.detail.identifiers]);
  assert.deepEqual(examined, [
    [redactedId, 'system', 'redacted', 2],
    [untranscribedId, 'system', 'none', 0],
  ]);

  const list = await supervisor.client.get(`${API}/recordings`);
  const states = Object.fromEntries(list.json.recordings.map((r: { id: string; redaction: string }) => [r.id, r.redaction]));
  assert.deepEqual(states, { [redactedId]: 'redacted', [untranscribedId]: 'none' });
});

test('a supervisor hears and reads the redacted rendition only', async () => {
  const access = await supervisor.client.post(`${API}/recordings/${redactedId}/access`, { purpose: 'quality-review' });
  assert.equal(access.status, 201, access.body.toString());
  assert.equal(access.json.rendition, 'redacted');
  const audio = await supervisor.client.get(access.json.audioUrl);
  assert.equal(audio.status, 200);
  assert.equal(audio.body.length, wav.length, 'same length: only the samples in the spans differ');
  assert.ok(!audio.body.equals(wav));
  // a range inside the personnummer's span is the tone, not the caller's voice
  const span = call.phrases.find((p) => p.identifier === 'personnummer')!.identifierSpan!;
  const at = 44 + Math.floor(((span.startMs + span.endMs) / 2000) * call.sampleRate);
  const ranged = await supervisor.client.request('GET', access.json.audioUrl, { headers: { range: `bytes=${at}-${at + 99}` } });
  assert.equal(ranged.status, 206);
  assert.ok(!ranged.body.equals(wav.subarray(at, at + 100)));

  const transcript = await supervisor.client.get(access.json.transcriptUrl);
  assert.equal(transcript.status, 200);
  const text = transcript.json.segments.map((s: { text: string }) => s.text).join(' ');
  assert.match(text, /\[PERSONNUMMER\].*\[TELEFON\]/);
  assert.doesNotMatch(text, /nitton|åttio|noll sju/);
  assert.deepEqual(
    transcript.json.identifiers.map((i: { type: string }) => i.type),
    ['personnummer', 'phone'],
  );
  const vtt = await supervisor.client.get(`${access.json.transcriptUrl}&format=vtt`);
  assert.match(vtt.body.toString(), /^WEBVTT/);
  assert.match(vtt.body.toString(), /\[TELEFON\]/);

  const original = await supervisor.client.post(`${API}/recordings/${redactedId}/access`, { purpose: 'quality-review', rendition: 'original' });
  assert.equal(original.status, 403);
  assert.equal(original.json.error.code, 'CV_FORBIDDEN');
});

test('the audio ETag names the rendition served: redact --again gives a new one, and If-Range with the old one gets the whole new audio', async () => {
  const redacted = await supervisor.client.post(`${API}/recordings/${redactedId}/access`, { purpose: 'quality-review' });
  const original = await nurse.client.post(`${API}/recordings/${redactedId}/access`, { purpose: 'patient-follow-up', rendition: 'original' });
  const first = await supervisor.client.request('GET', redacted.json.audioUrl, { headers: { range: 'bytes=0-99' } });
  const ofOriginal = await nurse.client.request('HEAD', original.json.audioUrl);
  const etag = String(first.headers.etag);
  assert.match(etag, /^"[A-Za-z0-9_-]{22}"$/);
  assert.match(String(ofOriginal.headers.etag), /^"[A-Za-z0-9_-]{22}"$/);
  assert.notEqual(ofOriginal.headers.etag, etag, 'each rendition has its own tag');
  assert.ok(!Number.isNaN(Date.parse(String(first.headers['last-modified']))));
  assert.ok(!etag.includes(redactedId.slice(0, 8)));

  const again = await cli(['--data', server.dataDir, 'redact', '--again', 'redacted', '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.json.byState.redacted, 1);

  // the same access goes on playing, from the new rendition
  const stale = await supervisor.client.request('GET', redacted.json.audioUrl, { headers: { range: 'bytes=0-99', 'if-range': etag } });
  assert.equal(stale.status, 200, 'a stale validator gets the whole new audio (RFC 9110 §13.1.5)');
  assert.equal(stale.body.length, wav.length);
  const fresh = String(stale.headers.etag);
  assert.notEqual(fresh, etag);
  const current = await supervisor.client.request('GET', redacted.json.audioUrl, { headers: { range: 'bytes=0-99', 'if-range': fresh } });
  assert.equal(current.status, 206);
  assert.ok(current.body.equals(stale.body.subarray(0, 100)));
  assert.equal((await nurse.client.request('HEAD', original.json.audioUrl)).headers.etag, ofOriginal.headers.etag, 'the original is unchanged');
});

test('a nurse asks for the original of her own call and gets it, named so in the audit log', async () => {
  const access = await nurse.client.post(`${API}/recordings/${redactedId}/access`, { purpose: 'patient-follow-up', rendition: 'original' });
  assert.equal(access.status, 201);
  const audio = await nurse.client.get(access.json.audioUrl);
  assert.ok(audio.body.equals(wav));
  const transcript = await nurse.client.get(access.json.transcriptUrl);
  assert.match(transcript.json.segments.map((s: { text: string }) => s.text).join(' '), /nitton|tjugo|trettio|fyrtio|femtio|sextio|sjuttio|åttio|nittio/);
  const entries = (await server.vault.audit.entries(0, await server.vault.audit.size())).map((e) => JSON.parse(e.entry.toString('utf8')));
  const mine = entries.filter((e) => e.actor?.id === nurse.id && e.recordingId === redactedId && e.outcome === 'success');
  for (const action of ['recording.access', 'recording.play', 'recording.transcript']) {
    assert.equal(mine.find((e) => e.action === action)?.detail?.rendition, 'original', action);
  }
  const denied = entries.find((e) => e.actor?.id === supervisor.id && e.action === 'recording.access' && e.outcome === 'denied');
  assert.equal(denied?.detail?.reason, 'unredacted');
});

test('fail closed: a call that could not be redacted is refused to the supervisor and open to the nurse', async () => {
  const refused = await supervisor.client.post(`${API}/recordings/${untranscribedId}/access`, { purpose: 'quality-review' });
  assert.equal(refused.status, 409);
  assert.equal(refused.json.error.code, 'CV_REDACTION_UNAVAILABLE');
  const nurseDefault = await nurse.client.post(`${API}/recordings/${untranscribedId}/access`, { purpose: 'patient-follow-up' });
  assert.equal(nurseDefault.status, 409, 'the original is never given without being asked for');
  const nurseOriginal = await nurse.client.post(`${API}/recordings/${untranscribedId}/access`, { purpose: 'patient-follow-up', rendition: 'original' });
  assert.equal(nurseOriginal.status, 201);
  assert.equal(nurseOriginal.json.transcriptUrl, null);
});

test('identifiers written into a purpose are replaced before the purpose reaches the audit log', async () => {
  const text = `återuppringning till ${call.phone} enligt patientens önskan`;
  const access = await nurse.client.post(`${API}/recordings/${redactedId}/access`, { purpose: 'other', purposeText: text });
  assert.equal(access.status, 201);
  const entries = (await server.vault.audit.entries(0, await server.vault.audit.size())).map((e) => e.entry.toString('utf8'));
  assert.ok(!entries.some((e) => e.includes(call.phone)));
  assert.ok(entries.some((e) => e.includes('återuppringning till [TELEFON] enligt patientens önskan')));
});

test('a privacy officer finds the call by the personnummer said in it, though its metadata holds none', async () => {
  const found = await dpo.client.post(`${API}/subject/find`, { personnummer: call.personnummer });
  assert.equal(found.status, 200);
  assert.deepEqual(
    found.json.recordings.map((r: { id: string; foundIn: string[] }) => [r.id, r.foundIn]),
    [[redactedId, ['transcript']]],
  );
  const byPhone = await dpo.client.post(`${API}/subject/find`, { phone: call.phone.replace(/^0/, '+46') });
  assert.deepEqual(
    byPhone.json.recordings.map((r: { id: string }) => r.id),
    [redactedId],
  );
  const bad = await dpo.client.post(`${API}/subject/find`, { personnummer: '19850709-0000' });
  assert.equal(bad.status, 400);
  assert.ok(!bad.body.toString().includes('19850709'));
});

test('a broken transcript refuses the upload with a clear error, and nothing is stored', async () => {
  const before = (await server.vault.recordings.list({ limit: 500 })).recordings.length;
  for (const [transcript, type] of [
    ['WEBVTT\n\n00:05.000 --> 00:01.000\nbakvänd tid\n', 'text/vtt'],
    ['{"segments": [{"start": "a", "end": 1, "text": "x"}]}', 'application/json'],
    ['1\n00:00:01,000 --> nonsense\ntext\n', 'application/x-subrip'],
  ] as const) {
    const res = await upload(server, token, wav, meta, transcript, type);
    assert.equal(res.status, 422, JSON.stringify(res.json));
    assert.equal(res.json.error.code, 'CV_INVALID_TRANSCRIPT');
  }
  assert.equal((await server.vault.recordings.list({ limit: 500 })).recordings.length, before);
});
