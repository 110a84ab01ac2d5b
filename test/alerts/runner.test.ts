/**
 * The detector in a running server, against a real vault: alerts appear within seconds of the
 * access, are in the log (`alert.raise`) and in the alert output, a canary suspends the account
 * when its controller says so, nothing is raised twice after a restart, and the CLI and the API
 * list, resolve and backtest the same alerts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DetectorRunner } from '../../src/alerts/runner.js';
import { parseAlertOutputs } from '../../src/alerts/outputs.js';
import { createToken } from '../../src/identities/tokens.js';
import { createServices } from '../../src/services/index.js';
import { operatorActor } from '../../src/services/actor.js';
import { seal } from '../../src/util/aead.js';
import { cli, PASSPHRASE } from '../helpers.js';
import { callVariants } from '../http/fixtures.js';
import { signedInUser, startTestServer, upload, type TestServer, type TestUser } from '../http/harness.js';

describe('the alert detector in a server', () => {
  let server: TestServer;
  let runner: DetectorRunner;
  let nurse: TestUser;
  let dpo: TestUser;
  let auditor: TestUser;
  const ids: Record<'own' | 'other' | 'canary', string> = { own: '', other: '', canary: '' };
  let outputFile: string;
  let services: ReturnType<typeof createServices>;

  const startRunner = () => {
    services = createServices(server.vault);
    runner = new DetectorRunner(server.vault, services.alerts, services.alertSources, {
      timeZone: 'Europe/Stockholm',
      outputs: parseAlertOutputs(`file:${outputFile}`),
      warn: (m) => assert.fail(`the detector warned: ${m}`),
      pollMs: 100,
    });
    runner.start();
  };

  /** the open alerts, once the detector has caught up */
  const alerts = async () => {
    await runner.idle();
    return (await auditor.client.get('/api/v1/alerts?state=all')).json as { id: string; rule: string; user: string; state: string; recordings: string[]; evidence: string }[];
  };

  before(async () => {
    server = await startTestServer();
    outputFile = join(server.dataDir, 'alerts.jsonl');
    const token = await createToken(server.vault, { name: 'recorder', scope: 'ingest', controllerId: 'region-a', days: 1 });
    const { wavs } = await callVariants(61, 3);
    for (const [key, agent, i] of [
      ['own', 'a1', 0],
      ['other', 'a9', 1],
      ['canary', 'a77', 2],
    ] as const) {
      const res = await upload(server, token.token, wavs[i]!, { agent, region: 'north', startedAt: new Date(Date.now() - 3_600_000).toISOString() });
      assert.equal(res.status, 201, JSON.stringify(res.json));
      ids[key] = res.json.id;
    }
    nurse = await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'a1', username: 'nurse-alerts' });
    dpo = await signedInUser(server, { role: 'dpo', controllerId: 'region-a', username: 'dpo-alerts' });
    auditor = await signedInUser(server, { role: 'auditor', username: 'auditor-alerts' });
    startRunner();
  });
  after(async () => {
    await runner?.stop();
    await server?.close();
  });

  test('an ordinary access raises nothing; an unexplained one is an alert in the log and the output', async () => {
    assert.equal((await nurse.client.get(`/api/v1/recordings/${ids.own}`)).status, 200);
    assert.deepEqual(await alerts(), []);
    assert.equal((await dpo.client.get(`/api/v1/recordings/${ids.other}`)).status, 200);
    const list = await alerts();
    assert.equal(list.length, 1);
    assert.equal(list[0]!.rule, 'unexplained');
    assert.equal(list[0]!.user, 'dpo-alerts');
    assert.deepEqual(list[0]!.recordings, [ids.other]);
    const raised = await server.vault.database.db.selectFrom('audit_entries').select('entry').where('action', '=', 'alert.raise').execute();
    assert.equal(raised.length, 1);
    assert.equal(JSON.parse(raised[0]!.entry).detail.alertId, list[0]!.id);
    const lines = (await readFile(outputFile, 'utf8')).trim().split('\n');
    assert.equal(JSON.parse(lines[0]!).id, list[0]!.id);
  });

  test('a second unexplained access the same day joins the open alert', async () => {
    await dpo.client.get(`/api/v1/recordings/${ids.own}`);
    const list = await alerts();
    assert.equal(list.length, 1);
    assert.deepEqual(list[0]!.recordings.sort(), [ids.other, ids.own].sort());
  });

  test('a canary reached by a controller that suspends: a canary alert, the account disabled and its sessions ended', async () => {
    const vault = server.vault;
    const rowId = randomUUID();
    const sealed = seal(vault.keys.derivedSecret('canaries'), Buffer.from(JSON.stringify({ recordingId: ids.canary, controllerId: 'region-a' })), Buffer.from(rowId, 'utf8'));
    await vault.database.db
      .insertInto('canaries')
      .values({ id: rowId, sealed: sealed.toString('base64'), created_at: new Date().toISOString() })
      .execute();
    // planted directly, so the detector is told as a `canary.add` entry would tell it
    services.alertSources.changed('canaries');
    await services.alerts.setThresholds(operatorActor('test'), 'region-a', { canarySuspend: true });
    const victim = await signedInUser(server, { role: 'dpo', controllerId: 'region-a', username: 'dpo-curious' });
    assert.equal((await victim.client.get(`/api/v1/recordings/${ids.canary}`)).status, 200);
    const canary = (await alerts()).find((a) => a.rule === 'canary');
    assert.ok(canary, 'a canary alert');
    assert.equal(canary.user, 'dpo-curious');
    assert.equal((await victim.client.get('/api/v1/recordings')).status, 401, 'the session has ended');
    const row = await vault.users.get(victim.id);
    assert.equal(row?.disabled, 1);
    const suspend = await vault.database.db.selectFrom('audit_entries').select('entry').where('action', '=', 'user.suspend').execute();
    assert.equal(suspend.length, 1);
    assert.equal(JSON.parse(suspend[0]!.entry).detail.userId, victim.id);
  });

  test('after a restart nothing is raised twice and new entries are evaluated', async () => {
    const before = await alerts();
    await runner.stop();
    await dpo.client.get(`/api/v1/recordings/${ids.canary}`);
    startRunner();
    const afterRestart = await alerts();
    const canaries = afterRestart.filter((a) => a.rule === 'canary');
    assert.equal(canaries.length, 2, 'the access made while no detector ran is evaluated when one runs again');
    assert.equal(afterRestart.length, before.length + 1);
  });

  test('the CLI lists, resolves and backtests the same alerts; nobody resolves their own', async () => {
    const env = { CALLVAULT_PASSPHRASE: PASSPHRASE };
    const listed = await cli(['alerts', 'list', '--json', '--data', server.dataDir], env);
    assert.equal(listed.code, 0, listed.stderr);
    const alertsJson = JSON.parse(listed.stdout) as {
      id: string;
      rule: string;
      user: string;
      createdAt: string;
      state: string;
      recordings: string[];
      evidence: string;
      severity: string;
    }[];
    assert.deepEqual(
      alertsJson.map((a) => a.id).sort(),
      (await alerts())
        .filter((a) => a.state === 'open')
        .map((a) => a.id)
        .sort(),
    );
    for (const a of alertsJson) for (const key of ['id', 'rule', 'severity', 'user', 'createdAt', 'state', 'recordings', 'evidence']) assert.ok(key in a, key);
    const dpoAlert = alertsJson.find((a) => a.user === 'dpo-alerts' && a.rule === 'canary')!;
    const self = await signedInUser(server, { role: 'dpo', controllerId: 'region-a', username: 'dpo-self' });
    await self.client.get(`/api/v1/recordings/${ids.other}`);
    const selfAlert = (await alerts()).find((a) => a.user === 'dpo-self')!;
    const own = await self.client.post(`/api/v1/alerts/${selfAlert.id}/resolve`, { outcome: 'false-positive', note: 'it was me, but fine' });
    assert.equal(own.status, 403);
    const resolved = await cli(
      ['alerts', 'resolve', dpoAlert.id, '--outcome', 'misuse', '--note', 'no case explains it; reported to the manager', '--json', '--data', server.dataDir],
      env,
    );
    assert.equal(resolved.code, 0, resolved.stderr);
    assert.equal(JSON.parse(resolved.stdout).state, 'closed');
    const entry = await server.vault.database.db.selectFrom('audit_entries').select('entry').where('action', '=', 'alert.resolve').where('outcome', '=', 'success').execute();
    assert.equal(JSON.parse(entry.at(-1)!.entry).detail.outcome, 'misuse');

    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const before = (await alerts()).length;
    const backtest = await cli(['alerts', 'backtest', '--from', from, '--to', to, '--json', '--data', server.dataDir], env);
    assert.equal(backtest.code, 0, backtest.stderr);
    const report = JSON.parse(backtest.stdout) as { byRule: Record<string, number>; alerts: { rule: string; user: string }[] };
    assert.ok((report.byRule.canary ?? 0) >= 2 && (report.byRule.unexplained ?? 0) >= 1, backtest.stdout);
    assert.equal((await alerts()).length, before, 'a backtest raises nothing');
    const tried = await cli(['alerts', 'backtest', '--from', from, '--to', to, '--set', 'canarySuspend=false', '--set', 'nonsense=1', '--data', server.dataDir], env);
    assert.notEqual(tried.code, 0);
    assert.match(tried.stderr, /no threshold is called "nonsense"/);
  });
});
