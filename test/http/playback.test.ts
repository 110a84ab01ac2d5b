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
import { cli, tempDir } from '../helpers.js';
import { parseVerifierKey } from '../../src/audit/signed-note.js';
import { openCheckpoint } from '../../src/audit/checkpoint.js';
import { rootOf, verifyConsistency, verifyInclusion } from '../../src/audit/merkle.js';
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
  const res = await upload(
    server,
    token,
    wav,
    { agent: 'agent-7', region: 'north', direction: 'inbound', startedAt: '2026-11-20T10:00:00Z', caller: call.phone, personnummer: call.personnummer },
    'WEBVTT\n\n00:00.000 --> 00:01.000\nHej\n',
  );
  assert.equal(res.status, 201, JSON.stringify(res.json));
  assert.equal(res.json.status, 'stored');
  assert.equal(res.json.sha256, createHash('sha256').update(wav).digest('hex'));
  recordingId = res.json.id;

  const again = await upload(server, token, wav, { agent: 'agent-7' });
  assert.equal(again.status, 200);
  assert.deepEqual(again.json, { id: recordingId, sha256: res.json.sha256, status: 'duplicate', redaction: 'clean' });

  // the token can upload and nothing else
  const reader = new Client(server);
  reader.bearer = token;
  assert.equal((await reader.get('/api/v1/recordings')).status, 403);
  assert.equal((await reader.get(`/api/v1/recordings/${recordingId}`)).status, 403);
});

test('the nurse who handled the call finds it by personnummer, and the URL never carries it', async () => {
  const list = await nurse.client.get('/api/v1/recordings?region=north');
  assert.equal(list.status, 200);
  assert.deepEqual(
    list.json.recordings.map((r: any) => r.id),
    [recordingId],
  );
  assert.equal(list.json.recordings[0].hasTranscript, true);
  assert.equal('caller' in list.json.recordings[0], false);

  const found = await nurse.client.post('/api/v1/recordings/search', { personnummer: call.personnummer });
  assert.deepEqual(
    found.json.recordings.map((r: any) => r.id),
    [recordingId],
  );
  const none = await nurse.client.post('/api/v1/recordings/search', { personnummer: '19121212-1212' });
  assert.deepEqual(none.json.recordings, []);
});

test("the caller's identifiers are shown only under a purpose stated for the original, and that view is an entry (issue 16, item 10)", async () => {
  // before: the nurse read the number and personnummer in clear on the call page, having stated nothing
  const detail = await nurse.client.get(`/api/v1/recordings/${recordingId}`);
  assert.equal(detail.status, 200);
  assert.deepEqual([detail.json.personnummer, detail.json.caller], ['[PERSONNUMMER]', '[TELEFON]']);
  assert.equal(detail.json.participants, null, 'an imported call has no SIPREC participants (test/web/siprec-call.test.ts shows a live call’s)');

  const identifiersUrl = `/api/v1/recordings/${recordingId}/identifiers`;
  const none = await nurse.client.get(identifiersUrl);
  assert.equal(none.json.error.code, 'CV_PURPOSE_REQUIRED');
  const redacted = await nurse.client.post(`/api/v1/recordings/${recordingId}/access`, { purpose: 'quality-review' });
  assert.equal(redacted.json.identifiersUrl, null);
  const underRedacted = await nurse.client.get(`${identifiersUrl}?access=${redacted.json.accessId}`);
  assert.equal(underRedacted.status, 403);
  assert.doesNotMatch(underRedacted.body.toString(), /\d{6}/);

  const original = await nurse.client.post(`/api/v1/recordings/${recordingId}/access`, {
    purpose: 'patient-follow-up',
    purposeText: 'ringa tillbaka om provsvar',
    rendition: 'original',
  });
  assert.equal(original.status, 201, original.body.toString());
  const before = await server.vault.audit.size();
  const shown = await nurse.client.get(original.json.identifiersUrl);
  assert.equal(shown.status, 200, shown.body.toString());
  assert.equal(shown.json.personnummer, call.personnummer.replace(/\D/g, '').padStart(12, '19'));
  assert.equal(shown.json.caller, `+46${call.phone.replace(/\D/g, '').slice(1)}`);
  assert.equal(shown.json.participants, null);
  const [entry] = (await server.vault.audit.entries(before, before + 1)).map((e) => JSON.parse(e.entry.toString('utf8')));
  assert.equal(entry.action, 'recording.identifiers');
  assert.equal(entry.outcome, 'success');
  assert.equal(entry.purpose, 'patient-follow-up');
  assert.equal(entry.detail.accessId, original.json.accessId);
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
  assert.equal(whole.headers['cache-control'], 'no-store');
  assert.match(String(whole.headers.etag), /^"[A-Za-z0-9_-]{22}"$/, 'a strong entity tag');
  assert.ok(!Number.isNaN(Date.parse(String(whole.headers['last-modified']))));
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

test("the patient's access log shows who played the call, when, which bytes and why; a nurse may not ask for it", async () => {
  const dpo = await signedInUser(server, { role: 'dpo', controllerId: 'region-a' });
  const res = await dpo.client.post('/api/v1/audit/subject-access-log', { personnummer: call.personnummer });
  assert.equal(res.status, 200, res.body.toString());
  assert.deepEqual(
    res.json.recordings.map((r: { id: string }) => r.id),
    [recordingId],
  );
  const accesses = res.json.accesses as any[];
  const plays = accesses.filter((a) => a.action === 'recording.play' && a.outcome === 'success');
  assert.ok(plays.length >= 3);
  assert.ok(
    plays.every((a) => a.actor.id === nurse.id && a.actor.role === 'nurse' && a.purpose === 'patient-follow-up' && a.breakGlass === false && a.recordingId === recordingId),
  );
  assert.ok(plays.some((a) => a.detail.range.start === Math.floor(wav.length / 2)));
  assert.ok(accesses.some((a) => a.action === 'recording.access' && a.actor.id === nurse.id));
  assert.ok(
    accesses.some((a) => a.action === 'recordings.list' && a.recordingId === null),
    "the nurse's search by personnummer is listed",
  );
  assert.ok(
    accesses.every((a, i) => i === 0 || a.index > accesses[i - 1].index),
    'in log order',
  );
  assert.equal(res.body.toString().includes(call.personnummer.replace(/\D/g, '').slice(-10)), false, 'the answer does not echo the identifier');

  // a person with no recordings: only the nurse's search for them above
  const nobody = await dpo.client.post('/api/v1/audit/subject-access-log', { personnummer: '19121212-1212' });
  assert.deepEqual(nobody.json.recordings, []);
  assert.deepEqual(
    nobody.json.accesses.map((a: any) => [a.action, a.actor.id, a.detail.results]),
    [['recordings.list', nurse.id, 0]],
  );
  assert.equal((await nurse.client.post('/api/v1/audit/subject-access-log', { personnummer: call.personnummer })).status, 403);
  assert.equal((await dpo.client.post('/api/v1/audit/subject-access-log', { personnummer: 'not a number' })).status, 400);

  // the command line gives the same extract, and it now includes the privacy officer's request
  const fromCli = await cli(['--data', server.dataDir, 'subject', 'access-log', '--personnummer', call.personnummer, '--json']);
  assert.equal(fromCli.code, 0, fromCli.stderr);
  const cliPlays = (fromCli.json.accesses as any[]).filter((a) => a.action === 'recording.play' && a.outcome === 'success');
  assert.deepEqual(
    cliPlays.map((a) => a.index),
    plays.map((a) => a.index),
  );
  assert.ok((fromCli.json.accesses as any[]).some((a) => a.action === 'subject.access-log' && a.actor.id === dpo.id));
});

test('an auditor checks the log from outside: key, checkpoint, entries re-hashed, inclusion and consistency proofs, verify', async () => {
  const auditor = await signedInUser(server, { role: 'auditor', controllerId: 'region-a' });
  const vkey = (await auditor.client.get('/api/v1/audit/key')).body.toString().trim();
  const cliKey = await cli(['--data', server.dataDir, 'audit', 'key']);
  assert.equal(cliKey.stdout.trim(), vkey, 'the CLI and the API give the same key');
  const verifier = parseVerifierKey(vkey);

  const first = await auditor.client.get('/api/v1/audit/checkpoint');
  assert.equal(first.status, 200);
  assert.match(String(first.headers['content-type']), /^text\/plain/);
  const cp1 = openCheckpoint(first.body.toString(), verifier, verifier.name);

  // every leaf re-hashed here, with nothing from callvault but the bytes
  const page = await auditor.client.get(`/api/v1/audit/entries?from=0&to=${cp1.size}`);
  const leaves = (page.json.entries as { entry: string }[]).map((e) => createHash('sha256').update(Buffer.of(0)).update(Buffer.from(e.entry, 'base64')).digest());
  assert.equal(leaves.length, cp1.size);
  assert.deepEqual(rootOf(leaves), cp1.rootHash);

  for (const index of [0, Math.floor(cp1.size / 2), cp1.size - 1]) {
    const proof = await auditor.client.get(`/api/v1/audit/proof?index=${index}&size=${cp1.size}`);
    const path = (proof.json.hashes as string[]).map((h) => Buffer.from(h, 'base64'));
    assert.ok(verifyInclusion(index, cp1.size, leaves[index]!, path, cp1.rootHash), `entry ${index} is in the checkpoint`);
  }

  // the log grows (the reads above are logged too); the next checkpoint extends the first
  const second = await cli(['--data', server.dataDir, 'audit', 'checkpoint']);
  assert.equal(second.code, 0, second.stderr);
  const cp2 = openCheckpoint(second.stdout, verifier, verifier.name);
  assert.ok(cp2.size > cp1.size);
  const consistency = await cli(['--data', server.dataDir, 'audit', 'proof', '--from', String(cp1.size), '--to', String(cp2.size), '--json']);
  assert.deepEqual([consistency.json.from, consistency.json.to], [cp1.size, cp2.size]);
  assert.ok(
    verifyConsistency(
      cp1.size,
      cp2.size,
      cp1.rootHash,
      cp2.rootHash,
      (consistency.json.hashes as string[]).map((h) => Buffer.from(h, 'base64')),
    ),
  );
  const viaApi = await auditor.client.get(`/api/v1/audit/proof?from=${cp1.size}&to=${cp2.size}`);
  assert.deepEqual(viaApi.json.hashes, consistency.json.hashes);

  const entries = await cli(['--data', server.dataDir, 'audit', 'entries', '--from', '0', '--to', String(cp2.size), '--json']);
  assert.equal(entries.json.length, cp2.size);
  assert.deepEqual(rootOf(entries.json.map((e: { entry: string }) => createHash('sha256').update(Buffer.of(0)).update(Buffer.from(e.entry, 'base64')).digest())), cp2.rootHash);

  const verified = await auditor.client.get('/api/v1/audit/verify');
  assert.equal(verified.json.ok, true, JSON.stringify(verified.json.problems));
  const cliVerify = await cli(['--data', server.dataDir, 'audit', 'verify', '--json']);
  assert.equal(cliVerify.code, 0, cliVerify.stdout);
  assert.equal(cliVerify.json.checkpoints, 2);

  const exported = await auditor.client.get(`/api/v1/audit/export?format=syslog&from=0&to=${cp1.size}`);
  const lines = exported.body.toString().trimEnd().split('\n');
  assert.equal(lines.length, cp1.size);
  assert.ok(lines.every((l, i) => l.startsWith('<') && l.includes(`index="${i}"`)));
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
