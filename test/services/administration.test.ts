/**
 * Administration (src/services/administration.ts): the admin API and the CLI commands go through
 * the same methods, so each use case leaves the same entry both ways (only the actor differs); a
 * change never commits without its entry (issue 15: with the audit log failing, admin changes
 * answered 503 but stayed); a change that fails after its entry gets a second one, `failure`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from '../../src/db/kysely.js';
import { cli } from '../helpers.js';
import { signedInUser, startTestServer, type TestServer, type TestUser } from '../http/harness.js';
import { AuditTrail } from '../../src/services/audit-trail.js';
import { AdministrationService } from '../../src/services/administration.js';
import { operatorActor } from '../../src/services/actor.js';
import { AuditUnavailableError } from '../../src/audit/audit-log.js';

const API = '/api/v1';
const FROM = '2025-01-01T00:00:00.000Z';
const TO = '2099-01-01T00:00:00.000Z';

async function entries(server: TestServer): Promise<any[]> {
  const stored = await server.vault.audit.entries(0, await server.vault.audit.size());
  return stored.map((e) => JSON.parse(e.entry.toString('utf8')));
}

/** what must be the same both ways: action, outcome, which fields and detail fields it carries */
function shape(e: any) {
  return {
    action: e.action,
    outcome: e.outcome,
    fields: Object.keys(e)
      .filter((k) => !['actor', 'ip', 'requestId', 'time', 'v', 'detail'].includes(k))
      .sort(),
    detail: Object.keys(e.detail ?? {}).sort(),
  };
}

describe('administration: the admin API and the CLI write the same entries', () => {
  let server: TestServer;
  let admin: TestUser;
  const run = (...args: string[]) => cli(['--data', server.dataDir, ...args, '--json']);

  before(async () => {
    server = await startTestServer();
    admin = await signedInUser(server, { role: 'admin' });
  });
  after(async () => server.close());

  /**
   * Runs `http` then `command`, and compares the entries each added (one action each): same
   * action, outcome and fields; the actor is the signed-in admin, then the operating-system user.
   */
  async function bothWays(action: string, http: () => Promise<{ status: number; body: Buffer }>, command: string[], status: number) {
    const start = (await entries(server)).length;
    const answer = await http();
    assert.equal(answer.status, status, `${action} over HTTP: ${answer.body.toString()}`);
    const middle = (await entries(server)).length;
    const r = await run(...command);
    assert.equal(r.code, 0, `${action} by the CLI: ${r.stdout}${r.stderr}`);
    const all = await entries(server);
    const byHttp = all.slice(start, middle).filter((e) => e.action === action);
    const byCli = all.slice(middle).filter((e) => e.action === action);
    assert.equal(byHttp.length, 1, `one ${action} entry over HTTP: ${JSON.stringify(all.slice(start, middle))}`);
    assert.equal(byCli.length, 1, `one ${action} entry by the CLI: ${JSON.stringify(all.slice(middle))}`);
    assert.deepEqual(byHttp[0].actor, { type: 'user', id: admin.id, name: admin.username, role: 'admin' });
    assert.equal(byCli[0].actor.type, 'cli');
    assert.deepEqual(shape(byCli[0]), shape(byHttp[0]), action);
    assert.equal(byHttp[0].outcome, 'success');
    return { http: byHttp[0], cli: byCli[0], answer, command: r };
  }

  it('processors, controllers, contracts: create, list, end', async () => {
    await bothWays('processor.create', () => admin.client.post(`${API}/processors`, { id: 'p-http', name: 'By HTTP' }), ['processors', 'add', 'p-cli'], 201);
    await bothWays('controller.create', () => admin.client.post(`${API}/controllers`, { id: 'c-http', name: 'By HTTP' }), ['controllers', 'add', 'c-cli'], 201);
    const created = await bothWays(
      'contract.create',
      () => admin.client.post(`${API}/contracts`, { processorId: 'p-http', controllerId: 'region-a', roles: ['supervisor'], regions: ['north'], validFrom: FROM, validTo: TO }),
      ['contracts', 'add', '--processor', 'p-cli', '--controller', 'region-a', '--roles', 'supervisor', '--regions', 'north', '--from', FROM, '--to', TO],
      201,
    );
    assert.deepEqual(created.http.detail, { ...created.http.detail, processorId: 'p-http', regions: 'north', validFrom: FROM, validTo: TO });
    assert.equal(created.http.controllerId, 'region-a');
    await bothWays('controller.list', () => admin.client.get(`${API}/controllers`), ['controllers', 'list'], 200);
    await bothWays('processor.list', () => admin.client.get(`${API}/processors`), ['processors', 'list'], 200);
    await bothWays('contract.list', () => admin.client.get(`${API}/contracts`), ['contracts', 'list'], 200);
    const httpContract = (created.answer as any).json ?? JSON.parse(created.answer.body.toString());
    const ended = await bothWays('contract.end', () => admin.client.post(`${API}/contracts/${httpContract.id}/end`), ['contracts', 'end', created.command.json.id], 200);
    assert.equal(ended.http.detail.validTo, JSON.parse(ended.answer.body.toString()).validTo, 'the entry names the end the contract got');
  });

  it('users and tokens: create, list, reset, disable, enable, revoke', async () => {
    const user = await bothWays(
      'user.create',
      () => admin.client.post(`${API}/users`, { username: 'made-by-http', role: 'nurse', controllerId: 'region-a', agent: 'a1' }),
      ['users', 'add', 'made-by-cli', '--role', 'nurse', '--controller', 'region-a', '--agent', 'a2'],
      201,
    );
    const httpUserId = JSON.parse(user.answer.body.toString()).id;
    assert.equal(user.http.detail.userId, httpUserId);
    await bothWays('user.list', () => admin.client.get(`${API}/users`), ['users', 'list'], 200);
    await bothWays('user.reset', () => admin.client.post(`${API}/users/${httpUserId}/reset`), ['users', 'reset', 'made-by-cli'], 200);
    await bothWays('user.disable', () => admin.client.post(`${API}/users/${httpUserId}/disable`), ['users', 'disable', 'made-by-cli'], 200);
    await bothWays('user.enable', () => admin.client.post(`${API}/users/${httpUserId}/enable`), ['users', 'enable', 'made-by-cli'], 200);
    const token = await bothWays(
      'token.create',
      () => admin.client.post(`${API}/tokens`, { name: 'by http', scope: 'ingest', controllerId: 'region-a', days: 5 }),
      ['tokens', 'create', '--name', 'by cli', '--scope', 'ingest', '--controller', 'region-a', '--days', '5'],
      201,
    );
    await bothWays('token.list', () => admin.client.get(`${API}/tokens`), ['tokens', 'list'], 200);
    const revoked = await bothWays(
      'token.revoke',
      () => admin.client.request('DELETE', `${API}/tokens/${JSON.parse(token.answer.body.toString()).id}`),
      ['tokens', 'revoke', token.command.json.id],
      204,
    );
    assert.equal(revoked.http.controllerId, 'region-a');
    const raw = JSON.stringify(await entries(server));
    assert.doesNotMatch(raw, /cvt_|otpauth|"password"|totpSecret/);
  });
});

describe('administration: no change without its entry (issue 15)', () => {
  let server: TestServer;
  let admin: TestUser;

  before(async () => {
    server = await startTestServer();
    admin = await signedInUser(server, { role: 'admin' });
    assert.equal((await admin.client.post(`${API}/processors`, { id: 'callco', name: 'Call Co' })).status, 201);
  });
  after(async () => server.close());

  it('with the audit log refusing entries, every admin change answers 503 and nothing was created', async () => {
    const v = server.vault;
    const before = {
      users: (await v.users.list()).length,
      tokens: (await v.sessions.tokens()).length,
      processors: (await v.tenancy.processors()).length,
      controllers: (await v.controllers.list()).length,
      contracts: (await v.tenancy.contracts()).length,
      audit: await v.audit.size(),
    };
    const db = v.database.db;
    // the database refuses new audit entries, as a full disk or a broken replica would
    await sql`CREATE TRIGGER admin_audit_blocked BEFORE INSERT ON audit_entries BEGIN SELECT RAISE(ABORT, 'blocked'); END`.execute(db);
    try {
      const answers = {
        contract: await admin.client.post(`${API}/contracts`, {
          processorId: 'callco',
          controllerId: 'region-a',
          roles: ['supervisor'],
          regions: ['south'],
          validFrom: FROM,
          validTo: TO,
        }),
        user: await admin.client.post(`${API}/users`, { username: 'unaudited', role: 'supervisor', processorId: 'callco', team: 't1' }),
        token: await admin.client.post(`${API}/tokens`, { name: 'unaudited', scope: 'ingest', controllerId: 'region-a' }),
        processor: await admin.client.post(`${API}/processors`, { id: 'unaudited', name: 'Unaudited' }),
        controller: await admin.client.post(`${API}/controllers`, { id: 'unaudited', name: 'Unaudited' }),
      };
      for (const [what, answer] of Object.entries(answers)) {
        assert.equal(answer.status, 503, `${what}: ${answer.body.toString()}`);
        assert.equal(answer.json.error.code, 'CV_AUDIT_UNAVAILABLE', what);
      }
    } finally {
      await sql`DROP TRIGGER admin_audit_blocked`.execute(db);
    }
    assert.deepEqual(
      {
        users: (await v.users.list()).length,
        tokens: (await v.sessions.tokens()).length,
        processors: (await v.tenancy.processors()).length,
        controllers: (await v.controllers.list()).length,
        contracts: (await v.tenancy.contracts()).length,
        audit: await v.audit.size(),
      },
      before,
    );
    // the log works again: the same contract is made, with its entry
    const made = await admin.client.post(`${API}/contracts`, {
      processorId: 'callco',
      controllerId: 'region-a',
      roles: ['supervisor'],
      regions: ['south'],
      validFrom: FROM,
      validTo: TO,
    });
    assert.equal(made.status, 201);
    const last = (await entries(server)).at(-1);
    assert.equal(last.action, 'contract.create');
    assert.equal(last.detail.contractId, made.json.id);
  });

  it('the service refuses the change when the trail cannot be written (injected failing log)', async () => {
    const v = server.vault;
    const failing = new AuditTrail({
      append: async () => {
        throw new AuditUnavailableError(new Error('injected'));
      },
    });
    const service = new AdministrationService(v, failing);
    const operator = operatorActor('test');
    const contracts = (await v.tenancy.contracts()).length;
    await assert.rejects(
      service.createContract(operator, { processorId: 'callco', controllerId: 'region-a', roles: ['nurse'], validFrom: FROM, validTo: TO }),
      (err: any) => err.code === 'CV_AUDIT_UNAVAILABLE',
    );
    await assert.rejects(service.createProcessor(operator, { id: 'injected', name: 'x' }), (err: any) => err.code === 'CV_AUDIT_UNAVAILABLE');
    await assert.rejects(service.createUser(operator, { username: 'injected', role: 'nurse' }), (err: any) => err.code === 'CV_AUDIT_UNAVAILABLE');
    assert.equal((await v.tenancy.contracts()).length, contracts);
    assert.equal(await v.tenancy.processor('injected'), undefined);
    assert.equal(await v.users.byUsername('injected'), undefined);
  });

  it('a change that fails after its entry leaves a second entry, outcome failure, and the error', async () => {
    const v = server.vault;
    const tenancy = Object.create(v.tenancy, {
      addContract: {
        value: async () => {
          throw new Error('storage broke');
        },
      },
    });
    const service = new AdministrationService(
      { users: v.users, sessions: v.sessions, controllers: v.controllers, tenancy, keys: v.keys, database: v.database, names: v.names },
      new AuditTrail(v.audit),
    );
    const start = await v.audit.size();
    await assert.rejects(
      service.createContract(operatorActor('test'), { processorId: 'callco', controllerId: 'region-a', roles: ['nurse'], validFrom: FROM, validTo: TO }),
      /storage broke/,
    );
    const added = (await entries(server)).slice(start);
    assert.deepEqual(
      added.map((e) => [e.action, e.outcome]),
      [
        ['contract.create', 'success'],
        ['contract.create', 'failure'],
      ],
    );
    assert.equal(added[0].detail.contractId, added[1].detail.contractId);
    assert.equal(await v.tenancy.contract(added[0].detail.contractId), undefined);
  });

  it('a refusal known before the entry (a conflict) leaves no success entry', async () => {
    const start = await server.vault.audit.size();
    const dup = await admin.client.post(`${API}/processors`, { id: 'callco', name: 'Again' });
    assert.equal(dup.status, 409);
    assert.equal(await server.vault.audit.size(), start);
  });
});
