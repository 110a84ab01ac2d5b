/**
 * Canary recordings (src/alerts/canaries.ts): planted through the ingest path, they list like any
 * other recording; the log counts them (`canary.add`) and never names them in a `recording.ingest`;
 * the record of which recordings are canaries opens only with the keyring, and an altered record
 * fails opaquely; their synthetic identities are nobody's (born 2090–2099) yet found by the detector.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { plantCanaries, readCanaries } from '../../src/alerts/canaries.js';
import { createServices } from '../../src/services/index.js';
import { createToken } from '../../src/identities/tokens.js';
import { detectIdentifiers } from '../../src/pii/detector.js';
import { blindIndexFor } from '../../src/recordings/indexer.js';
import { readSealedFields } from '../../src/recordings/read.js';
import { operatorActor } from '../../src/services/actor.js';
import { AuditTrail } from '../../src/services/audit-trail.js';
import { Vault } from '../../src/vault.js';
import { noiseCall } from '../faults/serve-process.js';
import { signedInUser, startTestServer, upload, type TestServer, type TestUser } from '../http/harness.js';
import { cli, initVault } from '../helpers.js';

const require = createRequire(import.meta.url);
const Personnummer = require('personnummer') as { valid(v: string): boolean };

async function entriesSince(vault: Vault, from: number): Promise<any[]> {
  return (await vault.audit.entries(from, await vault.audit.size())).map((e) => JSON.parse(e.entry.toString('utf8')));
}

describe('canary recordings', () => {
  let server: TestServer;
  let dpo: TestUser;
  let nurse: TestUser;
  const real: string[] = [];
  let canaries: string[] = [];
  let from = 0;

  before(async () => {
    server = await startTestServer();
    const { token } = await createToken(server.vault, { name: 'recorder', scope: 'ingest', controllerId: 'region-a', days: 30 });
    for (const [i, meta] of [
      { agent: 'a1', region: 'north' },
      { agent: 'a2', region: 'south' },
    ].entries()) {
      const res = await upload(server, token, noiseCall(20_000 + i * 1000), { ...meta, startedAt: new Date(Date.now() - 86_400_000).toISOString() });
      assert.equal(res.status, 201, JSON.stringify(res.json));
      real.push(res.json.id);
    }
    dpo = await signedInUser(server, { role: 'dpo', controllerId: 'region-a' });
    nurse = await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'a1' });
    // a threshold set before: planting with --suspend must leave it as it is
    await server.vault.database.db
      .insertInto('alert_settings')
      .values({ controller_id: 'region-a', settings: JSON.stringify({ volumeHour: 40 }), updated_at: new Date().toISOString() })
      .execute();
    from = await server.vault.audit.size();
    const result = await plantCanaries(server.vault, new AuditTrail(server.vault.audit), createServices(server.vault).alerts, operatorActor('custodian'), {
      controllerId: 'region-a',
      count: 2,
      suspend: true,
    });
    assert.deepEqual(result, { controller: 'region-a', planted: 2, suspend: true });
    canaries = [...(await readCanaries(server.vault)).keys()];
  });
  after(async () => server?.close());

  it('plants the count asked, stored and examined like an upload, and only the sealed record says which', async () => {
    const record = await readCanaries(server.vault);
    assert.equal(record.size, 2);
    for (const [id, c] of record) {
      assert.equal(c.controllerId, 'region-a');
      assert.ok(!real.includes(id));
      const row = (await server.vault.recordings.get(id))!;
      assert.equal(row.state, 'stored');
      assert.equal(row.controller_id, 'region-a');
      assert.equal(row.redaction, 'redacted', 'redacted like any call with a transcript');
      assert.ok(await server.vault.recordings.rendition(id), 'it has a redacted rendition');
    }
    assert.equal((await server.vault.database.db.selectFrom('canaries').selectAll().execute()).length, 2);
  });

  it('looks like the others: an agent shaped like theirs that no account holds, one of their regions, a weekday daytime within 60 days', async () => {
    for (const id of canaries) {
      const row = (await server.vault.recordings.get(id))!;
      assert.match(row.agent!, /^a\d+$/);
      assert.ok(!['a1'].includes(row.agent!), `agent ${row.agent} is held by an account`);
      assert.ok(['north', 'south'].includes(row.region!), `region ${row.region}`);
      const t = new Date(row.started_at!);
      assert.ok(Date.now() - t.getTime() <= 60 * 86_400_000 && t.getTime() < Date.now(), row.started_at!);
      assert.ok(t.getUTCDay() >= 1 && t.getUTCDay() <= 5, `a weekday: ${row.started_at}`);
      assert.ok(t.getUTCHours() >= 7 && t.getUTCHours() < 15, `daytime: ${row.started_at}`);
    }
  });

  it('lists like any other recording for whoever reaches it, and not for a nurse, whose agent it is not', async () => {
    const listed = (await dpo.client.get('/api/v1/recordings')).json.recordings.map((r: { id: string }) => r.id);
    for (const id of [...real, ...canaries]) assert.ok(listed.includes(id), `${id} in the privacy officer's list`);
    const nurses = (await nurse.client.get('/api/v1/recordings')).json.recordings.map((r: { id: string }) => r.id);
    assert.deepEqual(nurses, [real[0]]);
  });

  it('the log counts them in one canary.add entry before they are stored, and no recording.ingest names them', async () => {
    const entries = await entriesSince(server.vault, from);
    const adds = entries.filter((e) => e.action === 'canary.add');
    assert.equal(adds.length, 1);
    assert.equal(adds[0].controllerId, 'region-a');
    assert.deepEqual(adds[0].detail, { count: 2 });
    assert.equal(adds[0].actor.type, 'cli');
    assert.deepEqual(
      entries.filter((e) => e.action === 'recording.ingest'),
      [],
    );
    const all = await entriesSince(server.vault, 0);
    assert.deepEqual(
      all.filter((e) => e.action === 'recording.ingest' && canaries.includes(e.recordingId)),
      [],
    );
    // the examination is logged as the background worker's, as for an upload
    for (const e of entries.filter((x) => canaries.includes(x.recordingId))) assert.deepEqual([e.action, e.actor], ['recording.redact', { type: 'system', name: 'redaction' }]);
  });

  it('says a personnummer nobody holds (born 2090–2099, birth number 980–989) that the detector and the personnummer package accept, and a fiction-series phone', async () => {
    for (const id of canaries) {
      const row = (await server.vault.recordings.get(id))!;
      const fields = await readSealedFields(server.vault, row);
      const p = fields.personnummer!;
      assert.match(p, /^\d{12}$/);
      assert.ok(Number(p.slice(0, 4)) >= 2090 && Number(p.slice(0, 4)) <= 2099, p.slice(0, 4));
      assert.ok(Number(p.slice(8, 11)) >= 980 && Number(p.slice(8, 11)) <= 989);
      assert.ok(Personnummer.valid(p));
      assert.deepEqual(
        detectIdentifiers(`Mitt personnummer är ${p.slice(0, 8)}-${p.slice(8)}.`).map((d) => [d.type, d.value]),
        [['personnummer', p]],
      );
      assert.match(fields.caller!, /^\+467017406(0[5-9]|[1-9][0-9])$/);
      // found in the call's transcript too: indexed under the transcript's kind, as a spoken number is
      const digest = blindIndexFor(server.vault, 'region-a').digest('transcript_personnummer', p);
      assert.deepEqual(
        (await server.vault.recordings.findByIdentifier('transcript_personnummer', [digest])).map((r) => r.id),
        [id],
      );
    }
  });

  it("merges the controller's choice into its settings, leaving the other keys, as an audited threshold", async () => {
    const row = await server.vault.database.db.selectFrom('alert_settings').select('settings').where('controller_id', '=', 'region-a').executeTakeFirstOrThrow();
    assert.deepEqual(JSON.parse(row.settings), { volumeHour: 40, canarySuspend: true });
    const settings = await server.vault.database.db.selectFrom('audit_entries').select('entry').where('action', '=', 'alert.settings').execute();
    assert.deepEqual(JSON.parse(settings.at(-1)!.entry).detail.settings, ['canarySuspend']);
  });

  it('the record opens only with the keyring; an altered or moved record fails opaquely', async () => {
    const locked = await Vault.open(server.dataDir);
    try {
      await assert.rejects(readCanaries(locked), (err: any) => err.code === 'CV_KEYS_LOCKED');
    } finally {
      await locked.close();
    }
    const db = server.vault.database.db;
    const rows = await db.selectFrom('canaries').selectAll().orderBy('id').execute();
    const [a, b] = rows as [(typeof rows)[0], (typeof rows)[0]];
    const flipped = Buffer.from(a.sealed, 'base64');
    flipped[20]! ^= 1;
    await db
      .updateTable('canaries')
      .set({ sealed: flipped.toString('base64') })
      .where('id', '=', a.id)
      .execute();
    await assert.rejects(readCanaries(server.vault), (err: any) => err.code === 'CV_DECRYPTION_FAILED' && err.message === 'decryption failed');
    // a record moved to another row does not open either: the row id is bound in
    await db.updateTable('canaries').set({ sealed: b.sealed }).where('id', '=', a.id).execute();
    await assert.rejects(readCanaries(server.vault), (err: any) => err.code === 'CV_DECRYPTION_FAILED');
    await db.updateTable('canaries').set({ sealed: a.sealed }).where('id', '=', a.id).execute();
    assert.equal((await readCanaries(server.vault)).size, 2);
  });

  it('refuses anyone but the operator on the host, writing the refusal', async () => {
    const before = await server.vault.audit.size();
    const actor = { kind: 'system', principal: { kind: 'system', job: 'x' } } as const;
    await assert.rejects(
      plantCanaries(server.vault, new AuditTrail(server.vault.audit), createServices(server.vault).alerts, actor, { controllerId: 'region-a' }),
      (err: any) => err.code === 'CV_FORBIDDEN',
    );
    assert.deepEqual(
      (await entriesSince(server.vault, before)).map((e) => [e.action, e.outcome]),
      [['canary.add', 'denied']],
    );
  });
});

describe('callvault canary add|list', () => {
  it('plants through the command line, prints the count and no recording id, and lists for the key custodian only', async () => {
    const { dir, init } = await initVault();
    const controller = init.controller.id as string;
    const added = await cli(['--data', dir, 'canary', 'add', '--controller', controller, '--count', '1', '--json']);
    assert.equal(added.code, 0, added.stderr);
    assert.deepEqual(added.json, { controller, planted: 1, suspend: false });
    const listed = await cli(['--data', dir, 'recordings', 'list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(listed.json.recordings.length, 1);
    const id = listed.json.recordings[0].id as string;
    assert.ok(!added.stdout.includes(id) && !added.stderr.includes(id));

    const canaries = await cli(['--data', dir, 'canary', 'list', '--json']);
    assert.equal(canaries.code, 0, canaries.stderr);
    assert.deepEqual(
      canaries.json.map((c: { recordingId: string; controllerId: string }) => [c.recordingId, c.controllerId]),
      [[id, controller]],
    );
    const locked = await cli(['--data', dir, 'canary', 'list', '--json'], { CALLVAULT_PASSPHRASE: undefined });
    assert.notEqual(locked.code, 0);
    assert.ok(!locked.stdout.includes(id));

    const suspend = await cli(['--data', dir, 'canary', 'add', '--controller', controller, '--count', '1', '--suspend', '--json']);
    assert.equal(suspend.code, 0, suspend.stderr);
    assert.deepEqual(suspend.json, { controller, planted: 1, suspend: true });
    const bad = await cli(['--data', dir, 'canary', 'add', '--controller', 'nowhere', '--json']);
    assert.notEqual(bad.code, 0);
    const tooMany = await cli(['--data', dir, 'canary', 'add', '--controller', controller, '--count', '500']);
    assert.equal(tooMany.code, 2, tooMany.stderr);

    const log = await cli(['--data', dir, 'audit', 'entries', '--json']);
    assert.ok(Array.isArray(log.json), log.stdout.slice(0, 200));
    const actions = (log.json as { entry: string }[]).map((e) => JSON.parse(Buffer.from(e.entry, 'base64').toString('utf8')).action);
    assert.equal(actions.filter((a) => a === 'canary.add').length, 2);
    assert.equal(actions.filter((a) => a === 'canary.list').length, 1);
    assert.ok(!actions.includes('recording.ingest'));
  });
});
