/**
 * Identity and emergency access through their services (src/services/sessions.ts,
 * src/services/break-glass.ts): sign-out stands when the audit log fails, the session answer
 * carries the role's permissions and open break-the-glass periods, and every break-the-glass step
 * leaves its entry.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { ErrorCodes } from '../../src/errors.js';
import { userPrincipal } from '../../src/identities/principal.js';
import { ROLE_PERMISSIONS } from '../../src/policy/policy.js';
import type { Actor } from '../../src/services/actor.js';
import { createServices } from '../../src/services/index.js';
import type { Role } from '../../src/identities/roles.js';
import { signedInUser, startTestServer, type Response, type TestServer, type TestUser } from '../http/harness.js';

const API = '/api/v1';
const REASON = 'the patient is unconscious and the relative calls back';
let server: TestServer;

before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.close();
});

/** the log's entries from `from` on, decoded */
async function entriesSince(from: number): Promise<any[]> {
  const log = server.vault.audit;
  return (await log.entries(from, await log.size())).map((e) => JSON.parse(e.entry.toString('utf8')));
}

/** the actor a request of this signed-in user would make (as src/http/auth.ts does) */
async function actorOf(user: TestUser): Promise<Actor> {
  const row = (await server.vault.users.get(user.id))!;
  const principal = await userPrincipal(server.vault, row);
  return {
    kind: 'user',
    principal,
    user: { id: row.id, username: row.username, role: principal.role },
    sessionIdHash: 'not-used-here',
    origin: { ip: '192.0.2.1', requestId: 'req-test' },
  };
}

test('sign-out revokes the session even when the audit log refuses the entry, and answers 204', async () => {
  const nurse = await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'a1' });
  const cookie = nurse.client.cookie;
  assert.equal((await nurse.client.get(`${API}/auth/session`)).status, 200);
  const size = await server.vault.audit.size();
  const other = new SQLite(join(server.dataDir, 'callvault.db'));
  let res: Response;
  try {
    other.exec("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_entries BEGIN SELECT RAISE(ABORT, 'refused'); END");
    res = await nurse.client.post(`${API}/auth/signout`);
  } finally {
    other.exec('DROP TRIGGER refuse_audit');
    other.close();
  }
  assert.equal(res.status, 204, res.body.toString());
  assert.equal(await server.vault.audit.size(), size, 'the log refused the entry');
  // the old cookie, sent again as it was, no longer works
  nurse.client.cookie = cookie;
  const after = await nurse.client.get(`${API}/auth/session`);
  assert.equal(after.status, 401, after.body.toString());
  assert.equal(after.json.error.code, ErrorCodes.UNAUTHENTICATED);
});

test('with the log working, sign-out is entered after the session is revoked', async () => {
  const nurse = await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'a1' });
  const from = await server.vault.audit.size();
  assert.equal((await nurse.client.post(`${API}/auth/signout`)).status, 204);
  const entries = await entriesSince(from);
  assert.deepEqual(
    entries.map((e) => [e.action, e.outcome, e.actor.id]),
    [['auth.signout', 'success', nurse.id]],
  );
  assert.equal((await nurse.client.get(`${API}/auth/session`)).status, 401);
});

test('the session answer lists the permissions of each role and the open break-the-glass periods', async () => {
  const roles: { role: Role; controllerId: string | null }[] = [
    { role: 'nurse', controllerId: 'region-a' },
    { role: 'supervisor', controllerId: 'region-a' },
    { role: 'dpo', controllerId: 'region-a' },
    { role: 'auditor', controllerId: null },
    { role: 'admin', controllerId: null },
  ];
  for (const { role, controllerId } of roles) {
    const user = await signedInUser(server, { role, controllerId, agent: role === 'nurse' ? 'a1' : undefined });
    const res = await user.client.get(`${API}/auth/session`);
    assert.equal(res.status, 200, res.body.toString());
    assert.deepEqual(res.json.permissions, [...ROLE_PERMISSIONS[role]].sort(), role);
    assert.deepEqual(res.json.breakGlass, [], role);
    assert.equal(res.json.user.role, role);
  }
  const nurse = await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'a1' });
  const admin = await signedInUser(server, { role: 'admin' });

  // display names of what answers name by id: the controllers' own, and the regions' and agents' set on the host
  const before = (await nurse.client.get(`${API}/auth/session`)).json.names;
  assert.deepEqual(before.controllers, [{ id: 'region-a', name: 'Region A' }]);
  assert.deepEqual([before.regions, before.agents], [[], []]);
  await server.vault.names.set('region', 'skane', 'Skåne', new Date().toISOString());
  await server.vault.names.set('agent', 'a1', 'Anna Lind', new Date().toISOString());
  await server.vault.names.set('region', 'skane', 'Region Skåne', new Date().toISOString());
  const named = (await nurse.client.get(`${API}/auth/session`)).json.names;
  assert.deepEqual([named.regions, named.agents], [[{ id: 'skane', name: 'Region Skåne' }], [{ id: 'a1', name: 'Anna Lind' }]], 'set again, a name is replaced');
  assert.equal(await server.vault.names.remove('region', 'skane'), true);
  assert.equal(await server.vault.names.remove('region', 'skane'), false);
  assert.deepEqual((await nurse.client.get(`${API}/auth/session`)).json.names.regions, []);

  assert.ok((await nurse.client.get(`${API}/auth/session`)).json.permissions.includes('recording:play'));
  assert.ok(!(await admin.client.get(`${API}/auth/session`)).json.permissions.includes('recording:play'));

  // emergency access shows in the session answer (a reload of the UI keeps it) until it is ended
  const started = await nurse.client.post(`${API}/break-glass`, { controllerId: 'region-a', reason: REASON, minutes: 10 });
  assert.equal(started.status, 201, started.body.toString());
  const during = (await nurse.client.get(`${API}/auth/session`)).json;
  assert.deepEqual(during.breakGlass, [{ id: started.json.id, controllerId: 'region-a', expiresAt: started.json.expiresAt }]);
  const ended = await nurse.client.post(`${API}/break-glass/${started.json.id}/end`);
  assert.equal(ended.status, 200, ended.body.toString());
  assert.deepEqual((await nurse.client.get(`${API}/auth/session`)).json.breakGlass, []);
  assert.equal((await nurse.client.post(`${API}/break-glass/${started.json.id}/end`)).status, 409, 'ended already');
});

test('break-the-glass start, list, review and end are each audited through the service, refusals too', async () => {
  const services = createServices(server.vault);
  const nurse = await actorOf(await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'a1' }));
  const dpo = await actorOf(await signedInUser(server, { role: 'dpo', controllerId: 'region-a' }));
  const auditor = await actorOf(await signedInUser(server, { role: 'auditor' }));
  const from = await server.vault.audit.size();

  await assert.rejects(services.breakGlass.start(nurse, { controllerId: 'region-b', reason: REASON }), { code: ErrorCodes.FORBIDDEN });
  const period = await services.breakGlass.start(nurse, { controllerId: 'region-a', reason: `  ${REASON} `, minutes: 5 });
  assert.equal(period.reason, REASON);
  await assert.rejects(services.breakGlass.list(nurse, {}), { code: ErrorCodes.FORBIDDEN });
  assert.ok((await services.breakGlass.list(auditor, { unreviewed: true })).some((p) => p.id === period.id));
  const reviewed = await services.breakGlass.review(dpo, period.id, 'justified: unconscious caller');
  assert.equal(reviewed.reviewNote, 'justified: unconscious caller');
  // the reviewer reads who opened it and who reviewed it by name, not by account id
  assert.deepEqual(
    [reviewed.username, reviewed.role, reviewed.reviewedByName],
    [nurse.kind === 'user' ? nurse.user.username : '?', 'nurse', dpo.kind === 'user' ? dpo.user.username : '?'],
  );
  await assert.rejects(services.breakGlass.review(dpo, period.id, 'again'), { code: ErrorCodes.CONFLICT });
  const ended = await services.breakGlass.end(nurse, period.id);
  assert.ok(ended.expiresAt <= new Date().toISOString());
  await assert.rejects(services.breakGlass.end(dpo, period.id), { code: ErrorCodes.FORBIDDEN }, 'a privacy officer does not start nor end periods');

  const entries = (await entriesSince(from)).map((e) => ({
    action: e.action,
    outcome: e.outcome,
    actor: e.actor.role,
    breakGlassId: e.breakGlassId,
    reason: e.detail?.reason,
    ip: e.ip,
  }));
  assert.deepEqual(entries, [
    { action: 'break-glass.start', outcome: 'denied', actor: 'nurse', breakGlassId: undefined, reason: 'contract', ip: '192.0.2.1' },
    { action: 'break-glass.start', outcome: 'success', actor: 'nurse', breakGlassId: period.id, reason: REASON, ip: '192.0.2.1' },
    { action: 'break-glass.list', outcome: 'denied', actor: 'nurse', breakGlassId: undefined, reason: 'role', ip: '192.0.2.1' },
    { action: 'break-glass.list', outcome: 'success', actor: 'auditor', breakGlassId: undefined, reason: undefined, ip: '192.0.2.1' },
    { action: 'break-glass.review', outcome: 'success', actor: 'dpo', breakGlassId: period.id, reason: undefined, ip: '192.0.2.1' },
    // the second review is refused before any entry: the conflict is known beforehand
    { action: 'break-glass.end', outcome: 'success', actor: 'nurse', breakGlassId: period.id, reason: undefined, ip: '192.0.2.1' },
    { action: 'break-glass.end', outcome: 'denied', actor: 'dpo', breakGlassId: undefined, reason: 'role', ip: '192.0.2.1' },
  ]);
  const listed = (await services.breakGlass.list(auditor, {})).find((p) => p.id === period.id);
  assert.deepEqual([listed?.username, listed?.role, listed?.reviewedByName], [reviewed.username, 'nurse', reviewed.reviewedByName], 'the list names them too');
});

test('break-the-glass start refused by the audit log starts nothing', async () => {
  const nurse = await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'a1' });
  const other = new SQLite(join(server.dataDir, 'callvault.db'));
  let res: Response;
  try {
    other.exec("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_entries BEGIN SELECT RAISE(ABORT, 'refused'); END");
    res = await nurse.client.post(`${API}/break-glass`, { controllerId: 'region-a', reason: REASON });
  } finally {
    other.exec('DROP TRIGGER refuse_audit');
    other.close();
  }
  assert.equal(res.status, 503, res.body.toString());
  assert.equal(res.json.error.code, ErrorCodes.AUDIT_UNAVAILABLE);
  assert.deepEqual(await server.vault.grants.activeBreakGlass(nurse.id, new Date().toISOString()), []);
});
