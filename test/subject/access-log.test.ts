/**
 * The patient's access log answers for the controllers in the caller's reach only (issue 16,
 * item 3). The attack: a privacy officer of a processor whose only contract had ended asked
 * `POST /audit/subject-access-log` for a personnummer and got another region's `subject.find`
 * and `subject.erase` entries (erasure id, reason, the officer's name): a yes/no oracle for any
 * personnummer. Searches and erasures now name the controllers they covered, the log shows an
 * entry found by the identifier only to a caller reaching one of them, and a privacy officer
 * with no contract in force is refused.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { addContract, addProcessor } from '../../src/tenancy/tenancy.js';
import { signedInUser, type TestUser } from '../http/harness.js';
import { makeWorld, type World } from './world.js';

const API = '/api/v1';
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe('the access log of a person, per controller', () => {
  let w: World;
  let endedDpo: TestUser;
  let bothDpo: TestUser;
  before(async () => {
    w = await makeWorld('sqlite', 83);
    const vault = w.server.vault;
    const now = Date.now();
    await addProcessor(vault, 'oldco', 'Old Co');
    await addContract(vault, { processorId: 'oldco', controllerId: 'region-a', roles: ['dpo'], validFrom: iso(now - 60 * DAY), validTo: iso(now - DAY) });
    endedDpo = await signedInUser(w.server, { role: 'dpo', processorId: 'oldco' });
    await addProcessor(vault, 'bothco', 'Both Co');
    for (const controllerId of ['region-a', 'region-b']) {
      await addContract(vault, { processorId: 'bothco', controllerId, roles: ['dpo'], validFrom: iso(now - DAY), validTo: iso(now + DAY) });
    }
    bothDpo = await signedInUser(w.server, { role: 'dpo', processorId: 'bothco' });

    // region-b's officer finds the person and erases their call there, S3
    const found = await w.dpoB.client.post(`${API}/subject/find`, { personnummer: w.personnummer });
    assert.equal(found.status, 200, found.body.toString());
    const erased = await w.dpoB.client.post(`${API}/subject/erase`, { personnummer: w.personnummer, recordingIds: [w.ids.S3], reason: 'Art. 17-begäran, ärende B-2026-9' });
    assert.equal(erased.status, 200, erased.body.toString());
  });
  after(async () => {
    await w?.close();
  });

  const accessLog = (user: TestUser) => user.client.post(`${API}/audit/subject-access-log`, { personnummer: w.personnummer });

  test('a privacy officer whose only contract has ended is refused, and the refusal is recorded', async () => {
    const res = await accessLog(endedDpo);
    assert.equal(res.status, 403, res.body.toString());
    assert.equal(res.json.error.code, 'CV_FORBIDDEN');
    assert.doesNotMatch(res.body.toString(), /subject\.(find|erase)|B-2026-9|region-b/);
    const last = (await w.server.vault.audit.entries((await w.server.vault.audit.size()) - 1, await w.server.vault.audit.size()))[0]!;
    const entry = JSON.parse(last.entry.toString('utf8'));
    assert.deepEqual([entry.action, entry.outcome, entry.detail.reason], ['subject.access-log', 'denied', 'contract']);
  });

  test("another controller's searches and erasures for the person are not shown", async () => {
    const res = await accessLog(w.dpoA);
    assert.equal(res.status, 200, res.body.toString());
    const body = res.body.toString();
    assert.doesNotMatch(body, /B-2026-9/, "region-b's erasure reason");
    assert.doesNotMatch(body, new RegExp(w.dpoB.username), "region-b's officer");
    assert.ok(res.json.recordings.every((r: { controllerId: string }) => r.controllerId === 'region-a'));
    assert.ok(!res.json.accesses.some((a: { recordingId: string | null }) => a.recordingId === w.ids.S3));
  });

  test("region-b's officer and the auditor see region-b's searches and the erasure", async () => {
    for (const user of [w.dpoB, w.auditor]) {
      const res = await accessLog(user);
      assert.equal(res.status, 200, res.body.toString());
      const actions = res.json.accesses.filter((a: { actor: { name?: string } }) => a.actor.name === w.dpoB.username).map((a: { action: string }) => a.action);
      assert.ok(actions.includes('subject.find') && actions.includes('subject.erase'), JSON.stringify(actions));
    }
  });

  test('a search over two controllers is shown to each, without the other controller or its counts', async () => {
    const found = await bothDpo.client.post(`${API}/subject/find`, { personnummer: w.personnummer });
    assert.equal(found.status, 200, found.body.toString());
    const seenByA = (await accessLog(w.dpoA)).json.accesses.filter((a: { actor: { name?: string } }) => a.actor.name === bothDpo.username);
    assert.equal(seenByA.length, 1);
    assert.equal(seenByA[0].action, 'subject.find');
    assert.deepEqual(seenByA[0].detail.controllers, ['region-a']);
    assert.equal(seenByA[0].detail.results, undefined, 'the count covers region-b too');
    const seenByBoth = (await accessLog(bothDpo)).json.accesses.filter(
      (a: { actor: { name?: string }; action: string }) => a.actor.name === bothDpo.username && a.action === 'subject.find',
    );
    assert.deepEqual(seenByBoth[0].detail.controllers, ['region-a', 'region-b']);
    assert.equal(typeof seenByBoth[0].detail.results, 'number');
  });
});
