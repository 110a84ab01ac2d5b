/**
 * No identifier in the audit log or the database in the clear (issue 16, item 4), through the real
 * server: a break-the-glass reason and review note, the `agent`/`region` filters of a recordings
 * list and the auditor's `actor` filter are kept with each identifier replaced by its label; and a
 * number said in a call that is both a personnummer and a phone number is found by either.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { wavHeader } from '../fixtures/audio.js';
import { createToken } from '../../src/identities/tokens.js';
import { signedInUser, startTestServer, upload, type TestServer } from '../http/harness.js';

const API = '/api/v1';
// the personnummer project's test number, in the forms the issue found slipping through
const PNR = '19121212-1212';
const PHONE = '070-174 06 05';
const TYPED = `Patient ${PNR} (även skrivet 19121212_1212, 19121212/1212, 12.12.12-1212 och １９１２１２１２-１２１２) medvetslös, anhörig ringer från ${PHONE} eller 070.174.06.05`;
/** what must appear nowhere: each form as typed, and the canonical values */
const NEEDLES = [
  PNR,
  '19121212_1212',
  '19121212/1212',
  '12.12.12-1212',
  '１９１２１２１２',
  '191212121212',
  '121212-1212',
  '1212121212',
  PHONE,
  '070.174.06.05',
  '0701740605',
  '+46701740605',
];

let server: TestServer;

before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.close();
});

function leaks(text: string | Buffer): string[] {
  const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  return NEEDLES.filter((n) => buf.includes(Buffer.from(n, 'utf8')));
}

/** the database's files as they lie on disk */
async function databaseBytes(): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const suffix of ['', '-wal', '-shm']) parts.push(await readFile(join(server.dataDir, `callvault.db${suffix}`)).catch(() => Buffer.alloc(0)));
  return Buffer.concat(parts);
}

async function entriesSince(from: number): Promise<any[]> {
  const log = server.vault.audit;
  return (await log.entries(from, await log.size())).map((e) => JSON.parse(e.entry.toString('utf8')));
}

test('a break-the-glass reason and its review note are stored and logged with labels, nowhere as typed', async () => {
  const nurse = await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'scrub-a1' });
  const dpo = await signedInUser(server, { role: 'dpo', controllerId: 'region-a' });
  const auditor = await signedInUser(server, { role: 'auditor' });
  const from = await server.vault.audit.size();

  const started = await nurse.client.post(`${API}/break-glass`, { controllerId: 'region-a', reason: TYPED, minutes: 5 });
  assert.equal(started.status, 201, started.body.toString());
  assert.deepEqual(leaks(started.body), []);
  assert.match(started.json.reason, /^Patient \[PERSONNUMMER\] .*medvetslös, anhörig ringer från \[TELEFON\] eller \[TELEFON\]$/);
  const reviewed = await dpo.client.post(`${API}/break-glass/${started.json.id}/review`, { note: `rätt: ${PNR} var medvetslös` });
  assert.equal(reviewed.status, 200, reviewed.body.toString());
  assert.equal(reviewed.json.reviewNote, 'rätt: [PERSONNUMMER] var medvetslös');

  const listed = await auditor.client.get(`${API}/break-glass`);
  assert.equal(listed.status, 200);
  assert.ok(listed.json.periods.some((p: { id: string }) => p.id === started.json.id));
  assert.deepEqual(leaks(listed.body), []);

  const search = await auditor.client.get(`${API}/audit/search?action=break-glass.start`);
  assert.equal(search.status, 200);
  const entry = search.json.entries.find((e: any) => e.event.breakGlassId === started.json.id);
  assert.equal(entry.event.detail.reason, started.json.reason);
  assert.deepEqual(leaks(search.body), []);

  for (const e of await entriesSince(from)) assert.deepEqual(leaks(JSON.stringify(e)), [], e.action);
  assert.deepEqual(leaks(await databaseBytes()), []);
});

test('the agent and region filters of a recordings list and the auditor’s actor filter are logged with labels', async () => {
  const supervisor = await signedInUser(server, { role: 'supervisor', controllerId: 'region-a', team: 'scrub-t' });
  const auditor = await signedInUser(server, { role: 'auditor' });
  const from = await server.vault.audit.size();

  const typed = new URLSearchParams({ agent: PNR, region: PHONE });
  const listed = await supervisor.client.get(`${API}/recordings?${typed}`);
  assert.equal(listed.status, 200, listed.body.toString());
  const searched = await supervisor.client.post(`${API}/recordings/search`, { agent: '１９１２１２１２-１２１２', region: '070.174.06.05' });
  assert.equal(searched.status, 200, searched.body.toString());
  // ordinary values stay as they are
  assert.equal((await supervisor.client.get(`${API}/recordings?agent=agent-7&region=north`)).status, 200);

  const actorSearch = await auditor.client.get(`${API}/audit/search?${new URLSearchParams({ actor: `${PNR}_x` })}`);
  assert.equal(actorSearch.status, 200, actorSearch.body.toString());
  const id = randomUUID();
  assert.equal((await auditor.client.get(`${API}/audit/search?actor=${id}`)).status, 200);
  assert.equal((await auditor.client.get(`${API}/audit/search?actor=${encodeURIComponent('070_174_06_05')}`)).status, 200);

  const entries = await entriesSince(from);
  assert.deepEqual(
    entries.filter((e) => e.action === 'recordings.list').map((e) => [e.detail.agent, e.detail.region]),
    [
      ['[PERSONNUMMER]', '[TELEFON]'],
      ['[PERSONNUMMER]', '[TELEFON]'],
      ['agent-7', 'north'],
    ],
  );
  assert.deepEqual(
    entries.filter((e) => e.action === 'audit.read' && e.detail.what === 'search').map((e) => e.detail.actor),
    ['[PERSONNUMMER]_x', id, '[TELEFON]'],
  );
  for (const e of entries) assert.deepEqual(leaks(JSON.stringify(e)), [], e.action);
  assert.deepEqual(leaks(await databaseBytes()), []);
});

test('a number said in a call that is both a personnummer and a phone number is found as either', async () => {
  const samples = randomBytes(16_000);
  const wav = Buffer.concat([wavHeader({ formatTag: 1, channels: 1, rate: 8000, bits: 16, dataBytes: samples.length }), samples]);
  const { token } = await createToken(server.vault, { name: 'scrub-recorder', scope: 'ingest', controllerId: 'region-a', days: 1 });
  // 0905271474: born 2009-05-27 with a valid check digit, and an Umeå (090) number; no word says which
  const transcript = 'WEBVTT\n\n00:00.000 --> 00:00.900\nHan sa 0905271474 i går\n';
  const res = await upload(server, token, wav, { agent: 'agent-7', region: 'north', direction: 'inbound', startedAt: '2026-11-20T10:00:00Z' }, transcript);
  assert.equal(res.status, 201, JSON.stringify(res.json));
  assert.equal(res.json.redaction, 'redacted');
  const dpo = await signedInUser(server, { role: 'dpo', controllerId: 'region-a' });
  for (const query of [{ personnummer: '0905271474' }, { personnummer: '20090527-1474' }, { phone: '+46905271474' }, { phone: '090-527 14 74' }]) {
    const found = await dpo.client.post(`${API}/subject/find`, query);
    assert.equal(found.status, 200, found.body.toString());
    assert.deepEqual(
      found.json.recordings.map((r: { id: string; foundIn: string[] }) => [r.id, r.foundIn]),
      [[res.json.id, ['transcript']]],
      JSON.stringify(query),
    );
  }
});
