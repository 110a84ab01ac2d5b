/**
 * Separation of duties (issue 16, items 1 and 2). The attack: an administrator created a `dpo`
 * (or reset the real one), read the new one-time password and TOTP secret from the answer, and
 * exported originals as that account; or gave a processor nurse a controller nurse's agent id and
 * played her calls. Now an administrator gets a single-use enrolment code, never a credential, and
 * an account that can reach recordings (or a contract) does nothing until a second person of
 * another role approves it: the controller's privacy officer, or the key custodian on the host.
 *
 * The administrator here plays the attacker to the end: they keep every enrolment code, enrol
 * with it themselves, and try to sign in. Real server over HTTPS, real calls from espeak-ng.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cli } from '../helpers.js';
import { auditEvents, makeWorld, type World } from '../subject/world.js';
import { Client, strongPassword, totp } from './harness.js';

const API = '/api/v1';
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe('four-eyes: an administrator alone reaches no recording', () => {
  let w: World;
  before(async () => {
    w = await makeWorld('sqlite', 91);
  });
  after(async () => {
    await w?.close();
  });

  /** enrols with the code as whoever holds it would, then signs in: the answer of the sign-in */
  async function enrolAndSignIn(username: string, enrolmentCode: string): Promise<{ enrolled: number; signIn: number; code?: string; client: Client }> {
    const client = new Client(w.server);
    const first = await client.post(`${API}/auth/enrol`, { username, enrolmentCode });
    if (first.status !== 401 || !first.json.totpSecret) return { enrolled: first.status, signIn: 0, client };
    const secret = first.json.totpSecret as string;
    const password = strongPassword();
    const done = await client.post(`${API}/auth/enrol`, { username, enrolmentCode, code: await totp(secret), newPassword: password });
    if (done.status !== 200) return { enrolled: done.status, signIn: 0, client };
    const signIn = await client.post(`${API}/auth/signin`, { username, password, code: await totp(secret, 1) });
    if (signIn.status === 200) client.csrf = signIn.json.csrfToken;
    return { enrolled: done.status, signIn: signIn.status, code: signIn.json?.error?.code, client };
  }

  test('a new or reset account answers with an enrolment code, never a password or an authenticator secret', async () => {
    const created = await w.admin.client.post(`${API}/users`, { username: 'new-nurse', role: 'nurse', controllerId: 'region-a', agent: 'a7' });
    assert.equal(created.status, 201, created.body.toString());
    assert.match(created.json.enrolment.code, /^[A-Z2-7]{5}(-[A-Z2-7]{5}){4}$/);
    assert.ok(Date.parse(created.json.enrolment.expiresAt) - Date.now() <= 24 * 3_600_000);
    assert.equal(created.json.approval, 'pending');
    assert.doesNotMatch(created.body.toString(), /password|totp|secret/i);
    const auditor = await w.admin.client.post(`${API}/users`, { username: 'new-auditor', role: 'auditor' });
    assert.equal(auditor.json.approval, 'approved', 'an auditor reaches no recording: no second approval');
    const reset = await w.admin.client.post(`${API}/users/${auditor.json.id}/reset`);
    assert.equal(reset.status, 200);
    assert.doesNotMatch(reset.body.toString(), /password|totp|secret/i);
    // the code works once
    const used = await enrolAndSignIn('new-auditor', reset.json.enrolment.code);
    assert.equal(used.signIn, 200);
    assert.equal((await new Client(w.server).post(`${API}/auth/enrol`, { username: 'new-auditor', enrolmentCode: reset.json.enrolment.code })).status, 401);
    // nor does the one the reset replaced
    assert.equal((await new Client(w.server).post(`${API}/auth/enrol`, { username: 'new-auditor', enrolmentCode: auditor.json.enrolment.code })).status, 401);
  });

  test('every sequence of admin calls ends in an account or contract that can do nothing', async () => {
    const admin = w.admin.client;
    const before = (await auditEvents(w.server)).length;
    const attempts: { what: string; signIn: number; code?: string }[] = [];

    // a privacy officer of region-a, made by the admin
    const dpo = await admin.post(`${API}/users`, { username: 'fake-dpo', role: 'dpo', controllerId: 'region-a' });
    attempts.push({ what: 'a new dpo', ...(await enrolAndSignIn('fake-dpo', dpo.json.enrolment.code)) });

    // the real privacy officer, reset: her session ends, and the admin enrols in her place
    const reset = await admin.post(`${API}/users/${w.dpoA.id}/reset`);
    assert.equal(reset.json.approval, 'pending');
    assert.equal((await w.dpoA.client.get(`${API}/auth/session`)).status, 401, "the real dpo's session ended");
    attempts.push({ what: 'the real dpo, reset', ...(await enrolAndSignIn(w.dpoA.username, reset.json.enrolment.code)) });

    // a processor, a contract with region-a for privacy officers, and its privacy officer
    assert.equal((await admin.post(`${API}/processors`, { id: 'evilco', name: 'Evil Co' })).status, 201);
    const contract = await admin.post(`${API}/contracts`, {
      processorId: 'evilco',
      controllerId: 'region-a',
      roles: ['dpo', 'nurse'],
      validFrom: iso(Date.now() - DAY),
      validTo: iso(Date.now() + DAY),
    });
    assert.equal(contract.status, 201, contract.body.toString());
    assert.equal(contract.json.approval, 'pending');
    const procDpo = await admin.post(`${API}/users`, { username: 'evil-dpo', role: 'dpo', processorId: 'evilco' });
    attempts.push({ what: "a processor's dpo", ...(await enrolAndSignIn('evil-dpo', procDpo.json.enrolment.code)) });

    // a nurse disabled and enabled again waits for approval as well
    assert.equal((await admin.post(`${API}/users/${w.nurseA.id}/disable`)).status, 200);
    const enabled = await admin.post(`${API}/users/${w.nurseA.id}/enable`);
    assert.equal(enabled.json.approval, 'pending');
    const nurseSignIn = await new Client(w.server).post(`${API}/auth/signin`, {
      username: w.nurseA.username,
      password: w.nurseA.password,
      code: await totp(w.nurseA.totpSecret, 1),
    });
    attempts.push({ what: 'a nurse re-enabled', signIn: nurseSignIn.status, code: nurseSignIn.json?.error?.code });

    // item 2: the agent id of region-a's nurse is hers, for region-a's staff and for a processor with a contract there
    for (const spec of [
      { username: 'twin-a1', role: 'nurse', controllerId: 'region-a', agent: 'a1' },
      { username: 'evil-a1', role: 'nurse', processorId: 'evilco', agent: 'a1' },
    ]) {
      const twin = await admin.post(`${API}/users`, spec);
      assert.equal(twin.status, 409, `${spec.username}: ${twin.body.toString()}`);
    }

    for (const a of attempts) assert.deepEqual([a.what, a.signIn, a.code], [a.what, 403, 'CV_APPROVAL_PENDING']);
    // and the admin's own session reaches nothing either
    for (const path of ['/recordings', `/recordings/${w.ids.S1}`, '/approvals']) assert.equal((await admin.get(`${API}${path}`)).status, 403, path);

    // nothing of a recording was read by anyone while the admin tried
    const events = (await auditEvents(w.server)).slice(before);
    const reads = events.filter((e) => /^recording\.|^subject\.|^recordings\./.test(e.action) && e.outcome === 'success');
    assert.deepEqual(reads, []);
    const requested = events.filter((e) => e.action === 'user.create' || e.action === 'user.reset' || e.action === 'user.enable').map((e) => e.detail.approval);
    assert.ok(requested.includes('pending'));
    assert.equal(events.filter((e) => e.action === 'user.enrol' && e.outcome === 'success').length, 6, 'three accounts, two steps each');
  });

  test("the controller's privacy officer approves; another controller's cannot; the account then works", async () => {
    const made = await w.admin.client.post(`${API}/users`, { username: 'real-nurse', role: 'nurse', controllerId: 'region-a', agent: 'a9' });
    assert.equal((await w.dpoB.client.post(`${API}/users/${made.json.id}/approve`)).status, 404, "region-b's officer");
    assert.equal((await w.auditor.client.post(`${API}/users/${made.json.id}/approve`)).status, 403, 'an auditor');
    assert.equal((await w.admin.client.post(`${API}/users/${made.json.id}/approve`)).status, 403, 'the admin who asked');
    // region-a's own officer was reset above: she enrols again and the key custodian approves her on the host
    // the approved privacy officer (signed in with the credentials set at her enrolment) sees the request and approves it
    const pending = await dpoSignIn();
    const custodian = (await auditEvents(w.server)).filter((e) => e.action === 'user.approve').at(-1);
    assert.deepEqual([custodian.outcome, custodian.actor.type, custodian.detail], ['success', 'cli', { userId: w.dpoA.id, request: 'reset' }]);
    const list = await pending.get(`${API}/approvals`);
    assert.equal(list.status, 200, list.body.toString());
    assert.ok(list.json.users.some((u: { id: string }) => u.id === made.json.id));
    const approved = await pending.post(`${API}/users/${made.json.id}/approve`);
    assert.equal(approved.status, 200, approved.body.toString());
    assert.equal(approved.json.approval, 'approved');
    const nurse = await enrolAndSignIn('real-nurse', made.json.enrolment.code);
    assert.equal(nurse.signIn, 200);
    assert.equal((await nurse.client.get(`${API}/recordings`)).status, 200);
    const again = await pending.post(`${API}/users/${made.json.id}/approve`);
    assert.equal(again.status, 409, 'nothing waits any more');

    const deciders = [w.dpoB.username, w.auditor.username, w.admin.username, w.dpoA.username];
    const entries = (await auditEvents(w.server)).filter(
      (e) => e.action === 'user.approve' && deciders.includes(e.actor.name) && (e.detail.userId ?? made.json.id) === made.json.id,
    );
    assert.deepEqual(
      entries.map((e) => [e.outcome, e.actor.name, e.detail.reason ?? null]),
      [
        ['denied', w.dpoB.username, 'scope'],
        ['denied', w.auditor.username, 'role'],
        ['denied', w.admin.username, 'role'],
        ['success', w.dpoA.username, null],
      ],
    );
  });

  /** region-a's privacy officer, enrolled afresh and approved by the key custodian */
  async function dpoSignIn(): Promise<Client> {
    const code = (await w.admin.client.post(`${API}/users/${w.dpoA.id}/reset`)).json.enrolment.code;
    const client = new Client(w.server);
    const secret = (await client.post(`${API}/auth/enrol`, { username: w.dpoA.username, enrolmentCode: code })).json.totpSecret;
    const password = strongPassword();
    assert.equal((await client.post(`${API}/auth/enrol`, { username: w.dpoA.username, enrolmentCode: code, code: await totp(secret), newPassword: password })).status, 200);
    assert.equal((await cli(['--data', w.server.dataDir, 'users', 'approve', w.dpoA.username])).code, 0);
    const res = await client.post(`${API}/auth/signin`, { username: w.dpoA.username, password, code: await totp(secret, 1) });
    assert.equal(res.status, 200, res.body.toString());
    client.csrf = res.json.csrfToken;
    return client;
  }

  test('a contract reaches nothing until the controller approves it; a refused account cannot enrol', async () => {
    const dpo = await dpoSignIn();
    assert.equal((await w.admin.client.post(`${API}/processors`, { id: 'goodco', name: 'Good Co' })).status, 201);
    const contract = await w.admin.client.post(`${API}/contracts`, {
      processorId: 'goodco',
      controllerId: 'region-a',
      roles: ['nurse'],
      validFrom: iso(Date.now() - DAY),
      validTo: iso(Date.now() + DAY),
    });
    const nurse = await w.admin.client.post(`${API}/users`, { username: 'goodco-nurse', role: 'nurse', processorId: 'goodco', agent: 'g1' });
    let pending = (await dpo.get(`${API}/approvals`)).json;
    assert.ok(pending.contracts.some((c: { id: string }) => c.id === contract.json.id));
    assert.ok(!pending.users.some((u: { id: string }) => u.id === nurse.json.id), 'no contract in force covers the nurse yet');
    assert.equal((await w.dpoB.client.post(`${API}/contracts/${contract.json.id}/approve`)).status, 404, "region-b's officer");
    const approved = await dpo.post(`${API}/contracts/${contract.json.id}/approve`);
    assert.equal(approved.json.approval, 'approved');
    pending = (await dpo.get(`${API}/approvals`)).json;
    assert.ok(pending.users.some((u: { id: string }) => u.id === nurse.json.id));
    assert.equal((await dpo.post(`${API}/users/${nurse.json.id}/approve`)).status, 200);
    assert.equal((await enrolAndSignIn('goodco-nurse', nurse.json.enrolment.code)).signIn, 200);

    const refusedUser = await w.admin.client.post(`${API}/users`, { username: 'refused-sup', role: 'supervisor', controllerId: 'region-a', team: 't9' });
    assert.equal((await dpo.post(`${API}/users/${refusedUser.json.id}/refuse`)).json.approval, 'refused');
    assert.equal((await enrolAndSignIn('refused-sup', refusedUser.json.enrolment.code)).enrolled, 401);
  });
});
