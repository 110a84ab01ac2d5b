/**
 * The same use case done over HTTP and from the command line goes through one service method and
 * leaves the same audit entries: same action, outcome and detail fields (the actor differs: a
 * signed-in person, the operating-system user). Reading the audit log (src/services/audit-reading.ts)
 * and a data subject's rights (src/services/subject-rights.ts), on one server and data directory.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cli, tempDir } from '../helpers.js';
import { createServices } from '../../src/services/index.js';
import { operatorActor } from '../../src/services/actor.js';
import { auditEvents, makeWorld, type World } from '../subject/world.js';

const API = '/api/v1';

describe('one path for HTTP and the command line', () => {
  let w: World;
  let env: Record<string, string | undefined>;
  before(async () => {
    w = await makeWorld('sqlite', 71);
    env = { CALLVAULT_DATABASE_URL: w.databaseUrl || undefined };
  });
  after(async () => {
    await w?.close();
  });

  /** the entries the log gained while `work` ran */
  async function gained(work: () => Promise<void>): Promise<any[]> {
    const before = (await auditEvents(w.server)).length;
    await work();
    return (await auditEvents(w.server)).slice(before);
  }

  /** what must be the same both ways: action, outcome, purpose, which members (but who and from where) and which detail fields */
  function shape(e: any) {
    return {
      action: e.action,
      outcome: e.outcome,
      purpose: e.purpose,
      members: Object.keys(e)
        .filter((k) => !['actor', 'ip', 'requestId'].includes(k))
        .sort(),
      detail: Object.keys(e.detail ?? {}).sort(),
    };
  }

  async function http(res: Promise<{ status: number; body: Buffer }>): Promise<void> {
    const r = await res;
    assert.equal(r.status, 200, r.body.toString().slice(0, 300));
  }

  async function run(args: string[]): Promise<void> {
    const r = await cli(['--data', w.server.dataDir, ...args], env);
    assert.equal(r.code, 0, r.stderr);
  }

  /** does it both ways and checks that each wrote the same entries, a person's over HTTP and the operator's on the command line */
  async function sameBothWays(viaHttp: () => Promise<void>, viaCli: () => Promise<void>, expected: string[]): Promise<{ web: any[]; shell: any[] }> {
    const web = await gained(viaHttp);
    const shell = await gained(viaCli);
    assert.deepEqual(
      web.map((e) => e.action),
      expected,
      'over HTTP',
    );
    assert.deepEqual(
      shell.map((e) => e.action),
      expected,
      'on the command line',
    );
    assert.deepEqual(shell.map(shape), web.map(shape));
    assert.ok(web.every((e) => e.actor.type === 'user'));
    assert.ok(shell.every((e) => e.actor.type === 'cli'));
    return { web, shell };
  }

  test('reading entries: audit.read with what, from and to, whichever way (the command line wrote none before)', async () => {
    const { web, shell } = await sameBothWays(
      () => http(w.auditor.client.get(`${API}/audit/entries?from=0&to=2`)),
      () => run(['audit', 'entries', '--from', '0', '--to', '2', '--json']),
      ['audit.read'],
    );
    assert.deepEqual(web[0].detail, { what: 'entries', from: 0, to: 2 });
    assert.deepEqual(shell[0].detail, web[0].detail);
  });

  test('proofs, verification and the verifier key: audit.read, the same detail', async () => {
    for (const [path, args, what] of [
      ['/audit/proof?index=1&size=3', ['audit', 'proof', '--index', '1', '--size', '3'], 'inclusion-proof'],
      ['/audit/proof?from=2&to=3', ['audit', 'proof', '--from', '2', '--to', '3'], 'consistency-proof'],
      ['/audit/verify', ['audit', 'verify'], 'verify'],
      ['/audit/key', ['audit', 'key'], 'key'],
    ] as const) {
      const { web, shell } = await sameBothWays(
        () => http(w.auditor.client.get(`${API}${path}`)),
        () => run([...args]),
        ['audit.read'],
      );
      assert.equal(web[0].detail.what, what);
      assert.deepEqual(shell[0].detail, web[0].detail, what);
    }
  });

  test('exporting the log: audit.export with from, to and format', async () => {
    const out = join(await tempDir('out', 'audit-export'), 'log.jsonl');
    const { web, shell } = await sameBothWays(
      () => http(w.auditor.client.get(`${API}/audit/export?from=0&to=3&format=syslog`)),
      () => run(['audit', 'export', '--from', '0', '--to', '3', '--format', 'syslog', '--output', out]),
      ['audit.export'],
    );
    assert.deepEqual(shell[0].detail, web[0].detail);
  });

  test("a person's access log: subject.access-log with the identifier's keyed hash and the counts", async () => {
    const { web, shell } = await sameBothWays(
      () => http(w.auditor.client.post(`${API}/audit/subject-access-log`, { phone: w.phone })),
      () => run(['subject', 'access-log', '--phone', w.phone, '--json']),
      ['subject.access-log'],
    );
    assert.equal(shell[0].detail.phoneHash, web[0].detail.phoneHash);
    assert.equal(shell[0].detail.recordings, web[0].detail.recordings, 'an auditor and the operator answer for the installation');
  });

  test("a person's export: subject.export, then recording.export for each recording, before the archive", async () => {
    const out = join(await tempDir('out', 'subject-export'), 'person.zip');
    const purposeText = 'Ärende SVC-2026-1 registerutdrag';
    // by personnummer (S2 holds the phone number only): a privacy officer of region-a reaches S1, the operator S1 and S3
    const web = await gained(() => http(w.dpoA.client.post(`${API}/subject/export`, { personnummer: w.personnummer, purposeText })));
    const shell = await gained(() => run(['subject', 'export', '--personnummer', w.personnummer, '--out', out, '--purpose-text', purposeText]));
    assert.deepEqual(
      web.map((e) => e.action),
      ['subject.export', 'recording.export'],
    );
    assert.deepEqual(
      shell.map((e) => e.action),
      ['subject.export', 'recording.export', 'recording.export'],
    );
    assert.deepEqual(shape(shell[0]), shape(web[0]));
    assert.deepEqual(
      shell.slice(1).map(shape),
      shell.slice(1).map(() => shape(web[1])),
    );
    assert.equal(shell[0].detail.personnummerHash, web[0].detail.personnummerHash);
  });

  test('an erasure without its reason is refused by the service itself, over HTTP and on the command line alike, and erases nothing', async () => {
    const erasures = async () => (await auditEvents(w.server)).filter((e) => e.action === 'subject.erase' || e.action === 'recording.erase').length;
    const before = await erasures();
    const services = createServices(w.server.vault);
    for (const reason of [undefined, '', 'too short']) {
      await assert.rejects(
        services.subjectRights.erase(operatorActor('tester'), { identifier: { personnummer: w.personnummer }, reason }),
        (err: any) => err.code === 'CV_PURPOSE_REQUIRED' && err.message === 'the reason for the erasure needs at least 10 characters',
        `reason ${JSON.stringify(reason)}`,
      );
    }
    for (const body of [
      { personnummer: w.personnummer, recordingIds: [w.ids.S1] },
      { personnummer: w.personnummer, recordingIds: [w.ids.S1], reason: 'too short' },
    ]) {
      const res = await w.dpoA.client.post(`${API}/subject/erase`, body);
      assert.equal(res.status, 400, res.body.toString());
      assert.equal(res.json.error.code, 'CV_INVALID_REQUEST');
    }
    const shell = await cli(['--data', w.server.dataDir, 'subject', 'erase', '--personnummer', w.personnummer, '--yes', '--json'], env);
    assert.equal(shell.code, 2, shell.stderr);
    assert.equal(shell.json.error.code, 'CV_USAGE');
    assert.equal(await erasures(), before, 'no erasure was logged');
    const found = await w.dpoA.client.post(`${API}/subject/find`, { personnummer: w.personnummer });
    assert.ok(
      found.json.recordings.some((r: { id: string }) => r.id === w.ids.S1),
      'the recording is still there',
    );
  });

  test("a person's erasure: subject.erase, then recording.erase for each recording, before the keys are destroyed", async () => {
    const reason = 'Art. 17-begäran, ärende SVC-2026-2';
    const web = await gained(() => http(w.dpoA.client.post(`${API}/subject/erase`, { personnummer: w.otherPersonnummer, recordingIds: [w.ids.O1], reason })));
    const shell = await gained(() => run(['subject', 'erase', '--personnummer', w.personnummer, '--yes', '--reason', reason]));
    assert.deepEqual(
      web.map((e) => e.action),
      ['subject.erase', 'recording.erase'],
    );
    assert.deepEqual(
      shell.map((e) => e.action),
      ['subject.erase', 'recording.erase', 'recording.erase'],
    );
    assert.deepEqual(shell.map(shape), [shape(web[0]), ...shell.slice(1).map(() => shape(web[1]))]);
  });
});
