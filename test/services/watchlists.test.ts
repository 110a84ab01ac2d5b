/**
 * What the insider-misuse detector matches against (src/services/watchlists.ts): staff
 * identifiers and working hours (`users add|edit`, PATCH /users/{id}) and protected persons
 * (`subject protect|unprotect|protected`, /protected). Identifiers are stored only as digests, one
 * per controller and kind, and name no value in the log; reasons lose their identifiers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addController } from '../../src/tenancy/tenancy.js';
import { blindIndexFor } from '../../src/recordings/indexer.js';
import { parseWorkHours } from '../../src/services/watchlists.js';
import { syntheticPersonnummer, syntheticPhone } from '../../src/demo/synthetic-identity.js';
import { signedInUser, startTestServer, type TestServer, type TestUser } from '../http/harness.js';
import { cli } from '../helpers.js';

const API = '/api/v1';
const PN = syntheticPersonnummer(77);
const PHONE = syntheticPhone(77);
const E164 = `+46${PHONE.replace(/\D/g, '').slice(1)}`;
const KINDS = ['personnummer', 'phone', 'transcript_personnummer', 'transcript_phone'];

async function entriesSince(server: TestServer, from: number): Promise<any[]> {
  return (await server.vault.audit.entries(from, await server.vault.audit.size())).map((e) => JSON.parse(e.entry.toString('utf8')));
}

describe('staff identifiers, working hours and protected persons', () => {
  let server: TestServer;
  let admin: TestUser;
  let dpoA: TestUser;
  let dpoB: TestUser;
  const run = (...args: string[]) => cli(['--data', server.dataDir, ...args, '--json']);
  const db = () => server.vault.database.db;

  before(async () => {
    server = await startTestServer();
    await addController(server.vault, 'region-b', 'Region B');
    admin = await signedInUser(server, { role: 'admin' });
    dpoA = await signedInUser(server, { role: 'dpo', controllerId: 'region-a' });
    dpoB = await signedInUser(server, { role: 'dpo', controllerId: 'region-b' });
  });
  after(async () => server?.close());

  it('working hours: HH:MM-HH:MM, across midnight too, not of no length', () => {
    assert.equal(parseWorkHours('07:00-17:00'), '07:00-17:00');
    assert.equal(parseWorkHours('22:00-06:00'), '22:00-06:00');
    for (const bad of ['7:00-17:00', '07:00-24:00', '07:00', '07:00-07:00', '07:60-08:00', 'none'])
      assert.throws(
        () => parseWorkHours(bad),
        (err: any) => err.code === 'CV_INVALID_REQUEST',
        bad,
      );
  });

  it('users add stores hours and one digest per controller and kind, and the entry names no value', async () => {
    const from = await server.vault.audit.size();
    const r = await run(
      'users',
      'add',
      'staff-one',
      '--role',
      'nurse',
      '--controller',
      'region-a',
      '--agent',
      's1',
      '--personnummer',
      PN,
      '--phone',
      PHONE,
      '--hours',
      '07:00-17:00',
    );
    assert.equal(r.code, 0, r.stderr);
    const user = (await server.vault.users.byUsername('staff-one'))!;
    assert.equal(user.work_hours, '07:00-17:00');
    const rows = await db().selectFrom('staff_identifiers').selectAll().where('user_id', '=', user.id).execute();
    assert.equal(rows.length, 2 * KINDS.length);
    for (const controller of ['region-a', 'region-b']) {
      const index = blindIndexFor(server.vault, controller);
      for (const kind of KINDS) {
        const value = kind.endsWith('phone') ? E164 : PN;
        assert.ok(
          rows.some((row) => row.controller_id === controller && row.kind === kind && row.digest === index.digest(kind as 'phone', value)),
          `${controller} ${kind}`,
        );
      }
    }
    const entries = await entriesSince(server, from);
    assert.deepEqual(
      entries.map((e) => e.action),
      ['user.create'],
    );
    const text = JSON.stringify(entries);
    for (const v of [PN, PN.slice(2), E164, PHONE]) assert.ok(!text.includes(v));
  });

  it('users edit replaces one kind, leaves the other, clears, and writes user.edit with the fields only', async () => {
    const user = (await server.vault.users.byUsername('staff-one'))!;
    const other = syntheticPersonnummer(78);
    const from = await server.vault.audit.size();
    const r = await run('users', 'edit', 'staff-one', '--personnummer', other, '--hours', '22:00-06:00');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json, { id: user.id, username: 'staff-one', workHours: '22:00-06:00', identifiers: { personnummer: true, phone: true } });
    const index = blindIndexFor(server.vault, 'region-a');
    const digests = (await db().selectFrom('staff_identifiers').select('digest').where('user_id', '=', user.id).execute()).map((d) => d.digest);
    assert.ok(digests.includes(index.digest('personnummer', other)));
    assert.ok(!digests.includes(index.digest('personnummer', PN)), 'the old personnummer is gone');
    assert.ok(digests.includes(index.digest('phone', E164)), 'the phone is kept');
    const [entry] = await entriesSince(server, from);
    assert.equal(entry.action, 'user.edit');
    assert.deepEqual(entry.detail, { userId: user.id, fields: ['personnummer', 'hours'] });
    assert.ok(!JSON.stringify(entry).includes(other));

    const cleared = await run('users', 'edit', 'staff-one', '--clear-identifiers', '--hours', 'none');
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.deepEqual(cleared.json.identifiers, { personnummer: false, phone: false });
    assert.equal(cleared.json.workHours, null);
    assert.equal((await db().selectFrom('staff_identifiers').selectAll().where('user_id', '=', user.id).execute()).length, 0);

    for (const args of [['--hours', '25:00-06:00'], ['--personnummer', '123'], ['--phone', '12'], []]) {
      const bad = await run('users', 'edit', 'staff-one', ...args);
      assert.equal(bad.code, 2, `${args.join(' ')}: ${bad.stderr}`);
      assert.ok(!bad.stderr.includes('123 '));
    }
    assert.notEqual((await run('users', 'edit', 'nobody-here', '--hours', '07:00-16:00')).code, 0);
  });

  it('PATCH /users/{id}: the admin, the same entry; anyone else refused', async () => {
    const user = (await server.vault.users.byUsername('staff-one'))!;
    const res = await admin.client.request('PATCH', `${API}/users/${user.id}`, { json: { phone: PHONE, hours: '08:00-16:30' } });
    assert.equal(res.status, 200, res.body.toString());
    assert.deepEqual(res.json, { id: user.id, username: 'staff-one', workHours: '08:00-16:30', identifiers: { personnummer: false, phone: true } });
    const bad = await admin.client.request('PATCH', `${API}/users/${user.id}`, { json: { personnummer: '19850709-0000' } });
    assert.equal(bad.status, 400);
    assert.ok(!bad.body.toString().includes('0000'));
    assert.equal((await dpoA.client.request('PATCH', `${API}/users/${user.id}`, { json: { hours: null } })).status, 403);
  });

  it('subject protect: digests for every controller on the host, scrubbed reason, hashes in the entry', async () => {
    const from = await server.vault.audit.size();
    const r = await run('subject', 'protect', '--personnummer', PN, '--phone', PHONE, '--reason', `skyddad identitet, ring ${PHONE}`);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(Object.keys(r.json).sort(), ['controllers', 'id']);
    assert.deepEqual(r.json.controllers, ['region-a', 'region-b']);
    const digests = await db().selectFrom('protected_digests').selectAll().where('protected_id', '=', r.json.id).execute();
    assert.equal(digests.length, 2 * KINDS.length);
    const subject = await db().selectFrom('protected_subjects').selectAll().where('id', '=', r.json.id).executeTakeFirstOrThrow();
    assert.ok(!subject.reason.includes('174'), subject.reason);
    const [entry] = await entriesSince(server, from);
    assert.equal(entry.action, 'subject.protect');
    assert.equal(entry.detail.protectedId, r.json.id);
    assert.deepEqual(entry.detail.controllers, ['region-a', 'region-b']);
    assert.equal(entry.detail.personnummerHash, server.vault.audit.identifierHash('personnummer', PN));
    assert.equal(entry.detail.phoneHash, server.vault.audit.identifierHash('phone', E164));
    assert.ok(!JSON.stringify(entry).includes(PN));

    const list = await run('subject', 'protected');
    assert.equal(list.code, 0, list.stderr);
    const mine = list.json.find((p: { id: string }) => p.id === r.json.id);
    assert.equal(mine.released, false);
    assert.equal(mine.reason, subject.reason);

    const released = await run('subject', 'unprotect', r.json.id, '--reason', 'no longer protected');
    assert.equal(released.code, 0, released.stderr);
    assert.equal(released.json.released, true);
    assert.equal((await run('subject', 'unprotect', r.json.id, '--reason', 'again please')).code, 1);
    assert.equal((await run('subject', 'protect', '--reason', 'nobody named')).code, 2);
  });

  it('over HTTP a privacy officer marks within the controllers in reach, and sees and releases only those marks', async () => {
    const from = await server.vault.audit.size();
    const res = await dpoA.client.post(`${API}/protected`, { personnummer: PN, reason: 'a named VIP' });
    assert.equal(res.status, 201, res.body.toString());
    assert.deepEqual(res.json.controllers, ['region-a']);
    const controllers = await db().selectFrom('protected_digests').select('controller_id').distinct().where('protected_id', '=', res.json.id).execute();
    assert.deepEqual(
      controllers.map((c) => c.controller_id),
      ['region-a'],
    );
    const listA = await dpoA.client.get(`${API}/protected`);
    assert.ok(listA.json.protected.some((p: { id: string }) => p.id === res.json.id));
    const listB = await dpoB.client.get(`${API}/protected`);
    assert.ok(!listB.json.protected.some((p: { id: string }) => p.id === res.json.id));
    assert.equal((await dpoB.client.post(`${API}/protected/${res.json.id}/release`, { reason: 'not mine' })).status, 404);
    assert.equal((await admin.client.post(`${API}/protected`, { personnummer: PN, reason: 'an admin may not' })).status, 403);
    assert.equal((await dpoA.client.post(`${API}/protected`, { personnummer: '19850709-0000', reason: 'bad number' })).status, 400);
    const ok = await dpoA.client.post(`${API}/protected/${res.json.id}/release`, { reason: 'the case is closed' });
    assert.equal(ok.status, 200, ok.body.toString());
    assert.deepEqual(
      (await entriesSince(server, from)).map((e) => `${e.action}:${e.outcome}`),
      ['subject.protect:success', 'protected.list:success', 'protected.list:success', 'subject.unprotect:denied', 'subject.protect:denied', 'subject.unprotect:success'],
    );
  });
});
