/**
 * Getting recordings in through one service (src/services/ingest.ts): an upload over HTTP and the
 * same audio imported by the CLI leave the same kind of entry; a token that claims another
 * controller is refused by the policy and the refusal is audited; a token limited to regions and
 * agents stores their calls only; a recording whose entry cannot be written never becomes visible.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createToken } from '../../src/identities/tokens.js';
import { Vault } from '../../src/vault.js';
import { AuditTrail } from '../../src/services/audit-trail.js';
import { IngestService } from '../../src/services/ingest.js';
import { operatorActor } from '../../src/services/actor.js';
import { probeAudio } from '../../src/audio/probe.js';
import { cli, initVault, tempDir } from '../helpers.js';
import { noiseCall } from '../faults/serve-process.js';
import { signedInUser, startTestServer, upload, type TestServer } from '../http/harness.js';

let server: TestServer;
let token: string;

before(async () => {
  server = await startTestServer();
  token = (await createToken(server.vault, { name: 'recorder', scope: 'ingest', controllerId: 'region-a', days: 30 })).token;
});

after(async () => {
  await server?.close();
});

async function entriesSince(vault: Vault, from: number): Promise<any[]> {
  return (await vault.audit.entries(from, await vault.audit.size())).map((e) => JSON.parse(e.entry.toString('utf8')));
}

/** what must be alike both ways: the actor differs, and so do ids and times */
const shape = (e: any) => ({
  action: e.action,
  outcome: e.outcome,
  detail: Object.keys(e.detail ?? {}).sort(),
  status: e.detail?.status,
  recording: typeof e.recordingId,
  controller: e.controllerId,
});

test('an upload over HTTP and the same audio imported by the CLI leave the same kind of entry', async () => {
  const audio = noiseCall(20_000);
  const from = await server.vault.audit.size();
  const uploaded = await upload(server, token, audio, { agent: 'a1' });
  assert.equal(uploaded.status, 201, JSON.stringify(uploaded.json));
  const overHttp = (await entriesSince(server.vault, from)).filter((e) => e.action.startsWith('recording.'));

  const { dir } = await initVault();
  const src = join(await tempDir('src', 'ingest-both-ways'), 'call.wav');
  await writeFile(src, audio);
  await writeFile(src.replace(/\.wav$/, '.json'), JSON.stringify({ agent: 'a1' }));
  const imported = await cli(['--data', dir, 'import', src, '--json']);
  assert.equal(imported.code, 0, imported.stderr);
  const vault = await Vault.open(dir);
  let byCli: any[];
  try {
    byCli = await entriesSince(vault, 0);
  } finally {
    await vault.close();
  }

  const httpIngest = overHttp.filter((e) => e.action === 'recording.ingest');
  const cliIngest = byCli.filter((e) => e.action === 'recording.ingest');
  assert.equal(httpIngest.length, 1, JSON.stringify(overHttp));
  assert.equal(cliIngest.length, 1, JSON.stringify(byCli));
  assert.deepEqual(shape(cliIngest[0]), { ...shape(httpIngest[0]), controller: cliIngest[0].controllerId });
  assert.deepEqual(shape(httpIngest[0]), { action: 'recording.ingest', outcome: 'success', detail: ['status'], status: 'stored', recording: 'string', controller: 'region-a' });
  assert.equal(httpIngest[0].recordingId, uploaded.json.id);
  assert.equal(cliIngest[0].recordingId, imported.json.imported[0].id);
  assert.equal(httpIngest[0].actor.type, 'token');
  assert.equal(cliIngest[0].actor.type, 'cli');
  // the run itself stays `recording.import`, start and end, around the recording's entry
  assert.deepEqual(
    byCli.filter((e) => e.action === 'recording.import' || e.action === 'recording.ingest').map((e) => `${e.action}:${e.detail?.stage ?? e.detail?.status}`),
    ['recording.import:start', 'recording.ingest:stored', 'recording.import:end'],
  );
});

test('a token that claims another controller in its metadata is refused by the policy, and the refusal is audited', async () => {
  const before = (await server.vault.recordings.list({ limit: 1000 })).recordings.length;
  const from = await server.vault.audit.size();
  const res = await upload(server, token, noiseCall(21_000), { agent: 'a1', controller: 'region-b' });
  assert.equal(res.status, 403);
  assert.equal(res.json.error.code, 'CV_FORBIDDEN');
  const events = (await entriesSince(server.vault, from)).filter((e) => e.action === 'recording.ingest');
  assert.equal(events.length, 1, JSON.stringify(events));
  assert.equal(events[0].outcome, 'denied');
  assert.deepEqual(events[0].detail, { reason: 'scope' });
  assert.equal(events[0].controllerId, 'region-a', "the token's own controller; the claimed one is the client's text");
  assert.equal(events[0].actor.type, 'token');
  assert.ok(!JSON.stringify(events).includes('region-b'));
  assert.equal((await server.vault.recordings.list({ limit: 1000 })).recordings.length, before, 'nothing stored');
});

test('a token limited to regions and agents stores their calls only; an unlimited one still stores any (issue 16, item 9)', async () => {
  const admin = await signedInUser(server, { role: 'admin', controllerId: null });
  const made = await admin.client.post('/api/v1/tokens', { name: 'north recorder', scope: 'ingest', controllerId: 'region-a', regions: ['north'], agents: ['a1', 'a2'] });
  assert.equal(made.status, 201, made.body.toString());
  const limited = made.json.token as string;
  const created = (await entriesSince(server.vault, 0)).filter((e) => e.action === 'token.create' && e.detail.tokenId === made.json.id);
  assert.equal(created.length, 1);
  assert.deepEqual({ regions: created[0].detail.regions, agents: created[0].detail.agents }, { regions: 'north', agents: 'a1,a2' }, 'the limits are in the entry');
  const listed = await admin.client.get('/api/v1/tokens');
  assert.equal(listed.status, 200);
  const view = listed.json.tokens.find((t: any) => t.id === made.json.id);
  assert.deepEqual({ regions: view.regions, agents: view.agents }, { regions: ['north'], agents: ['a1', 'a2'] }, 'the limits are in the list');
  assert.ok(
    listed.json.tokens.filter((t: any) => t.id !== made.json.id).every((t: any) => t.regions === null && t.agents === null),
    'an unlimited token lists null for both',
  );

  // without limits a token stores a call of any region and agent, as before
  const any = await upload(server, token, noiseCall(23_000), { region: 'south', agent: 'a9' });
  assert.equal(any.status, 201, JSON.stringify(any.json));
  const within = await upload(server, limited, noiseCall(23_001), { region: 'north', agent: 'a2' });
  assert.equal(within.status, 201, JSON.stringify(within.json));

  const count = async () =>
    Number(
      (
        await server.vault.database.db
          .selectFrom('recordings')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const outside: [string, Record<string, string>][] = [
    ['another region', { region: 'vasterbotten', agent: 'a1' }],
    ['another agent', { region: 'north', agent: 'outsider-7' }],
    ['no region', { agent: 'a1' }],
    ['no agent', { region: 'north' }],
    ['neither', {}],
  ];
  for (const [what, metadata] of outside) {
    const [rowsBefore, from] = [await count(), await server.vault.audit.size()];
    const res = await upload(server, limited, noiseCall(23_100 + rowsBefore), metadata);
    assert.equal(res.status, 403, `${what}: ${JSON.stringify(res.json)}`);
    assert.equal(res.json.error.code, 'CV_TOKEN_LIMITS', what);
    assert.equal(await count(), rowsBefore, `${what}: no row, pending or stored`);
    const events = (await entriesSince(server.vault, from)).filter((e) => e.action === 'recording.ingest');
    assert.deepEqual(
      events.map((e) => [e.outcome, e.detail, e.controllerId, e.actor.type]),
      [['denied', { reason: 'token-limits' }, 'region-a', 'token']],
      what,
    );
    // the region and agent named are the client's text: neither is in the entry nor the answer
    for (const text of [JSON.stringify(events), JSON.stringify(res.json)]) assert.ok(!text.includes('vasterbotten') && !text.includes('outsider-7'), what);
  }
});

test('a recording whose entry cannot be written is never listed, and nothing of it is left', async () => {
  const vault = server.vault;
  const failing = new AuditTrail({
    append: async (event) => {
      if (event.action === 'recording.ingest' && event.outcome === 'success') throw new Error('the audit log cannot be written');
      return vault.audit.append(event);
    },
  });
  const service = new IngestService(vault, failing);
  const path = join(await tempDir('src', 'ingest-unlogged'), 'call.wav');
  const audio = noiseCall(22_000);
  await writeFile(path, audio);
  const listed = async () => (await vault.recordings.list({ limit: 1000 })).recordings.map((r) => r.id).sort();
  const rows = async () =>
    Number(
      (
        await vault.database.db
          .selectFrom('recordings')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const [listedBefore, rowsBefore, from] = [await listed(), await rows(), await vault.audit.size()];
  await assert.rejects(
    service.ingest(operatorActor('test'), { source: Readable.from([audio]), audio: await probeAudio(path), sidecar: {}, sourceName: 'call.wav', sourcePath: path }),
    /audit log cannot be written/,
  );
  assert.deepEqual(await listed(), listedBefore, 'not listed');
  assert.equal(await rows(), rowsBefore, 'no row, pending or stored');
  const events = (await entriesSince(vault, from)).filter((e) => e.action === 'recording.ingest');
  assert.deepEqual(
    events.map((e) => e.outcome),
    ['failure'],
    'the failure is logged; no success entry',
  );
});
