/**
 * The recordings and playback services: the same use case through HTTP and through the command
 * line leaves the same audit entry (action, outcome, detail fields; only the actor differs), reads
 * the command line had left unaudited now write theirs, and a refusal is recorded by the service
 * whichever adapter asked.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { cli, PASSPHRASE, tempDir } from '../helpers.js';
import { wavHeader } from '../fixtures/audio.js';
import { createToken } from '../../src/identities/tokens.js';
import { createServices } from '../../src/services/index.js';
import type { Actor } from '../../src/services/actor.js';
import { isCallvaultError, ErrorCodes } from '../../src/errors.js';
import { signedInUser, startTestServer, upload, type TestServer, type TestUser } from '../http/harness.js';

let server: TestServer;
let dpo: TestUser;
let recordingId: string;
const env = { CALLVAULT_PASSPHRASE: PASSPHRASE };

/** the audit entries appended while `work` ran */
async function entriesDuring(work: () => Promise<unknown>): Promise<any[]> {
  const from = await server.vault.audit.size();
  await work();
  const to = await server.vault.audit.size();
  return (await server.vault.audit.entries(from, to)).map((e) => JSON.parse(e.entry.toString('utf8')));
}

/** what must be the same whichever adapter asked */
function shape(entry: any) {
  return { action: entry.action, outcome: entry.outcome, recordingId: entry.recordingId, detail: Object.keys(entry.detail ?? {}).sort() };
}

before(async () => {
  server = await startTestServer();
  const samples = randomBytes(16_000);
  const wav = Buffer.concat([wavHeader({ formatTag: 1, channels: 1, rate: 8000, bits: 16, dataBytes: samples.length }), samples]);
  const { token } = await createToken(server.vault, { name: 'recorder', scope: 'ingest', controllerId: 'region-a', days: 1 });
  const res = await upload(server, token, wav, { agent: 'agent-7', region: 'north', direction: 'inbound', startedAt: '2026-11-20T10:00:00Z' });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  recordingId = res.json.id;
  dpo = await signedInUser(server, { role: 'dpo', controllerId: 'region-a' });
});

after(async () => {
  await server.close();
});

describe('the same use case both ways', () => {
  it('export: HTTP and `callvault export` write the same recording.export entry, before the audio', async () => {
    const overHttp = await entriesDuring(async () => {
      const res = await dpo.client.post(`/api/v1/recordings/${recordingId}/export`, { purpose: 'subject-request', rendition: 'original' });
      assert.equal(res.status, 200, res.body.toString());
    });
    const out = join(await tempDir('out', 'svc'), 'call.wav');
    const overCli = await entriesDuring(async () => {
      const r = await cli(['--data', server.dataDir, 'export', recordingId, '--out', out, '--json'], env);
      assert.equal(r.code, 0, r.stderr);
    });
    const http = overHttp.filter((e) => e.action === 'recording.export');
    const command = overCli.filter((e) => e.action === 'recording.export');
    assert.equal(http.length, 1);
    assert.equal(command.length, 1);
    assert.deepEqual(shape(command[0]), shape(http[0]));
    assert.deepEqual(shape(http[0]), { action: 'recording.export', outcome: 'success', recordingId, detail: ['rendition'] });
    assert.equal(command[0].detail.rendition, 'original');
    assert.equal(command[0].controllerId, http[0].controllerId);
    assert.equal(http[0].actor.type, 'user');
    assert.equal(command[0].actor.type, 'cli');
  });

  it('export of a rendition that does not exist is refused the same way both ways, with an entry', async () => {
    // no transcript was uploaded: nothing could be redacted, so there is no redacted rendition
    const overHttp = await entriesDuring(async () => {
      const res = await dpo.client.post(`/api/v1/recordings/${recordingId}/export`, { purpose: 'subject-request', rendition: 'redacted' });
      assert.equal(res.status, 409);
      assert.equal(res.json.error.code, ErrorCodes.REDACTION_UNAVAILABLE);
    });
    const overCli = await entriesDuring(async () => {
      const r = await cli(['--data', server.dataDir, 'export', recordingId, '--redacted', '--out', join(await tempDir('out', 'svc'), 'r.wav')], env);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /CV_REDACTION_UNAVAILABLE|no transcript/);
    });
    assert.deepEqual(overCli.map(shape), overHttp.map(shape));
    assert.deepEqual(
      overHttp.map((e) => [e.action, e.outcome, e.detail.reason]),
      [['recording.export', 'denied', 'redaction-none']],
    );
  });

  it('`callvault recordings list` writes recordings.list like GET /recordings', async () => {
    const overHttp = await entriesDuring(async () => {
      const res = await dpo.client.get('/api/v1/recordings?limit=50');
      assert.equal(res.status, 200);
      assert.deepEqual(
        res.json.recordings.map((r: any) => r.id),
        [recordingId],
      );
    });
    const overCli = await entriesDuring(async () => {
      const r = await cli(['--data', server.dataDir, 'recordings', 'list', '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        r.json.recordings.map((x: any) => x.id),
        [recordingId],
      );
    });
    assert.deepEqual(overCli.map(shape), overHttp.map(shape));
    assert.deepEqual(
      overCli.map((e) => [e.action, e.outcome, e.actor.type, e.detail]),
      [['recordings.list', 'success', 'cli', { limit: 50, results: 1 }]],
    );
  });
});

describe('reads the command line left unaudited', () => {
  it('verify --deep writes vault.verify before it decrypts; plain verify writes one too', async () => {
    const deep = await entriesDuring(async () => {
      const r = await cli(['--data', server.dataDir, 'verify', '--deep', '--json'], env);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(r.json.checked, 1);
    });
    assert.deepEqual(
      deep.map((e) => [e.action, e.outcome, e.actor.type, e.detail]),
      [['vault.verify', 'success', 'cli', { deep: true, objects: 1 }]],
    );
    const plain = await entriesDuring(async () => {
      const r = await cli(['--data', server.dataDir, 'verify', '--json']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
    });
    assert.deepEqual(
      plain.map((e) => [e.action, e.detail]),
      [['vault.verify', { deep: false, objects: 1 }]],
    );
  });
});

describe('refusals are the service’s', () => {
  it('a foreign tenant’s play is denied as not found, and the entry is written by the service', async () => {
    const services = createServices(server.vault);
    const foreign: Actor = {
      kind: 'user',
      principal: {
        kind: 'user',
        userId: randomUUID(),
        role: 'nurse',
        controllerId: 'region-b',
        processorId: null,
        agent: 'agent-7',
        teamAgents: [],
        contracts: [],
        breakGlass: [],
      },
      user: { id: randomUUID(), username: 'nurse-elsewhere', role: 'nurse' },
      sessionIdHash: 'x',
      origin: { ip: '192.0.2.1', requestId: 'req-1' },
    };
    let served = false;
    const entries = await entriesDuring(async () => {
      await assert.rejects(
        services.playback.play(foreign, recordingId, randomUUID(), () => {
          served = true;
          return { kind: 'whole' as const };
        }),
        (err) => isCallvaultError(err, ErrorCodes.NOT_FOUND),
      );
    });
    assert.equal(served, false, 'nothing about the audio was planned');
    assert.deepEqual(
      entries.map((e) => [e.action, e.outcome, e.recordingId, e.detail, e.actor.name, e.ip]),
      [['recording.play', 'denied', recordingId, { reason: 'scope' }, 'nurse-elsewhere', '192.0.2.1']],
    );
  });

  it('over HTTP too: a nurse of the controller asking for a call she did not take is denied, with an entry', async () => {
    const other = await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'agent-9' });
    const entries = await entriesDuring(async () => {
      const res = await other.client.get(`/api/v1/recordings/${recordingId}/audio?access=${randomUUID()}`);
      assert.equal(res.status, 404);
    });
    assert.deepEqual(
      entries.map((e) => [e.action, e.outcome, e.detail]),
      [['recording.play', 'denied', { reason: 'scope' }]],
    );
  });
});
