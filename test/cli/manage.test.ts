/**
 * The management commands (users, tokens, processors, contracts, controllers) as real CLI
 * processes against one data directory, and the audit entries every change leaves: actor `cli`,
 * never a secret. The steps run in order and build on each other.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cli, initVault, tempDir, type CliResult } from '../helpers.js';
import { wavHeader } from '../fixtures/audio.js';
import { Vault } from '../../src/vault.js';

const USER_FIELDS = [
  'id',
  'username',
  'role',
  'controllerId',
  'processorId',
  'agent',
  'team',
  'totpEnrolled',
  'disabled',
  'locked',
  'oidcIssuer',
  'createdAt',
  'approval',
  'approvalRequest',
].sort();
const TOKEN_FIELDS = ['id', 'name', 'scope', 'controllerId', 'createdAt', 'expiresAt', 'revokedAt', 'lastUsedAt', 'regions', 'agents'].sort();

describe('callvault management commands', () => {
  let dir = '';
  let controller = '';
  /** every secret the CLI printed: none may reach the audit log or a list */
  const secrets: string[] = [];
  const run = (...args: string[]) => cli(['--data', dir, ...args]);
  const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what}: ${r.stdout}${r.stderr}`);
  const fails = (r: CliResult, code: number, what: string, message?: RegExp) => {
    assert.equal(r.code, code, `${what}: exit ${r.code}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, `${what}: one line of error: ${r.stderr}`);
    if (message) assert.match(r.stderr, message, what);
  };

  before(async () => {
    const v = await initVault();
    dir = v.dir;
    controller = v.init.controller.id;
    secrets.push(v.init.admin.password, v.init.admin.totpSecret);
  });

  it('processors: add and list; duplicates and bad ids fail', async () => {
    const added = await run('processors', 'add', 'acme', '--name', 'Acme Calls', '--json');
    ok(added, 'processors add');
    assert.deepEqual(added.json, { id: 'acme', name: 'Acme Calls' });
    ok(await run('processors', 'add', 'other'), 'processors add without a name');
    const [dup, bad, list] = await Promise.all([run('processors', 'add', 'acme', '--json'), run('processors', 'add', 'Not_An_Id'), run('processors', 'list', '--json')]);
    fails(dup, 1, 'duplicate processor');
    assert.equal(dup.json.error.code, 'CV_CONFLICT');
    fails(bad, 2, 'bad processor id');
    ok(list, 'processors list');
    assert.deepEqual(
      list.json.processors.map((p: any) => [p.id, p.name]),
      [
        ['acme', 'Acme Calls'],
        ['other', 'other'],
      ],
    );
  });

  it('controllers add goes through addController: a key pair, conflicts and bad ids', async () => {
    const added = await run('controllers', 'add', 'north', '--name', 'Region North', '--json');
    ok(added, 'controllers add');
    assert.equal(added.json.id, 'north');
    assert.equal(added.json.name, 'Region North');
    assert.match(added.json.keyId, /^[0-9a-f-]{36}$/);
    const [dup, bad] = await Promise.all([run('controllers', 'add', 'north', '--json'), run('controllers', 'add', 'North!')]);
    fails(dup, 1, 'duplicate controller');
    assert.equal(dup.json.error.code, 'CV_CONFLICT');
    fails(bad, 2, 'bad controller id');
  });

  it('users add: every role, controller or processor, and the errors', async () => {
    const cases = [
      ['nurse1', 'nurse', '--controller', controller, '--agent', 'a-17', '--team', 'red'],
      ['super1', 'supervisor', '--processor', 'acme', '--team', 'red'],
      ['dpo1', 'dpo', '--controller', 'north'],
      ['auditor1', 'auditor'],
      ['admin2', 'admin', '--oidc-issuer', 'https://idp.example.test/realm', '--oidc-subject', 'sub-42'],
    ] as const;
    const results = await Promise.all(cases.map(([name, role, ...rest]) => run('users', 'add', name, '--role', role, ...rest, '--json')));
    for (const [i, r] of results.entries()) {
      ok(r, `users add ${cases[i]![0]}`);
      assert.equal(r.json.username, cases[i]![0]);
      assert.match(r.json.id, /^[0-9a-f-]{36}$/);
      // an enrolment code for the person, never a password or an authenticator secret; the key
      // custodian on the host needs nobody's approval
      assert.equal(r.json.approval, 'approved');
      assert.equal('password' in r.json || 'totpSecret' in r.json, false);
      if (cases[i]![0] === 'admin2') assert.equal(r.json.enrolment, null, 'an OpenID account signs in at its provider');
      else {
        assert.match(r.json.enrolment.code, /^[A-Z2-7]{5}(-[A-Z2-7]{5}){4}$/);
        secrets.push(r.json.enrolment.code);
      }
    }
    // text output shows the code once too
    const text = await run('users', 'add', 'nurse2', '--role', 'nurse', '--controller', controller);
    ok(text, 'users add (text)');
    const code = /enrolment code\s+(\S+)/.exec(text.stdout)?.[1];
    assert.ok(code, text.stdout);
    secrets.push(code);

    const [both, unknownRole, noRole, dup, halfOidc, badUser, noController, noProcessor] = await Promise.all([
      run('users', 'add', 'x1', '--role', 'nurse', '--controller', controller, '--processor', 'acme'),
      run('users', 'add', 'x2', '--role', 'janitor', '--json'),
      run('users', 'add', 'x3'),
      run('users', 'add', 'nurse1', '--role', 'nurse', '--json'),
      run('users', 'add', 'x4', '--role', 'nurse', '--oidc-issuer', 'https://idp.example.test'),
      run('users', 'add', 'X Y', '--role', 'nurse'),
      run('users', 'add', 'x5', '--role', 'nurse', '--controller', 'nowhere'),
      run('users', 'add', 'x6', '--role', 'nurse', '--processor', 'nowhere'),
    ]);
    fails(both, 2, 'controller and processor', /controller|processor/);
    fails(unknownRole, 2, 'unknown role', /janitor|role/);
    assert.equal(unknownRole.json.error.code, 'CV_USAGE');
    fails(noRole, 2, 'no role', /--role/);
    fails(dup, 1, 'duplicate username');
    assert.equal(dup.json.error.code, 'CV_CONFLICT');
    fails(halfOidc, 2, 'issuer without subject', /go together/);
    fails(badUser, 2, 'malformed username', /username/);
    fails(noController, 1, 'unknown controller', /no such controller/);
    fails(noProcessor, 1, 'unknown processor', /no such processor/);
  });

  it('users list shows no password hashes or secrets', async () => {
    const [list, text] = await Promise.all([run('users', 'list', '--json'), run('users', 'list')]);
    ok(list, 'users list');
    ok(text, 'users list (text)');
    const byName = new Map<string, any>(list.json.users.map((u: any) => [u.username, u]));
    assert.deepEqual([...byName.keys()].sort(), ['admin', 'admin2', 'auditor1', 'dpo1', 'nurse1', 'nurse2', 'super1']);
    for (const u of byName.values()) assert.deepEqual(Object.keys(u).sort(), USER_FIELDS);
    assert.equal(byName.get('nurse1').controllerId, controller);
    assert.equal(byName.get('nurse1').agent, 'a-17');
    assert.equal(byName.get('super1').processorId, 'acme');
    assert.equal(byName.get('super1').controllerId, null);
    assert.equal(byName.get('admin2').oidcIssuer, 'https://idp.example.test/realm');
    for (const out of [list.stdout, text.stdout]) {
      assert.doesNotMatch(out, /argon2|password|totp_secret|sealed/i);
      for (const s of secrets) assert.ok(!out.includes(s), 'a secret in users list');
    }
  });

  it('users reset, disable and enable; disable ends sessions', async () => {
    // a live session of nurse1, made in-process
    const v = await Vault.open(dir);
    const nurse = (await v.users.byUsername('nurse1'))!;
    const now = new Date();
    await v.sessions.add({
      id_hash: randomBytes(32).toString('hex'),
      user_id: nurse.id,
      csrf_token: 'synthetic',
      created_at: now.toISOString(),
      last_seen_at: now.toISOString(),
      expires_at: new Date(now.getTime() + 3_600_000).toISOString(),
      revoked_at: null,
    });
    const oldHash = nurse.password_hash;
    await v.close();

    const reset = await run('users', 'reset', 'nurse1', '--json');
    ok(reset, 'users reset');
    assert.equal(reset.json.id, nurse.id);
    assert.ok(!secrets.includes(reset.json.enrolment.code), 'a new enrolment code');
    secrets.push(reset.json.enrolment.code);

    const [disabled, missing] = await Promise.all([run('users', 'disable', 'super1', '--json'), run('users', 'reset', 'nobody')]);
    ok(disabled, 'users disable');
    assert.equal(disabled.json.disabled, true);
    fails(missing, 1, 'reset of an unknown user', /no such user/);
    const disableNurse = await run('users', 'disable', 'nurse1');
    ok(disableNurse, 'users disable (text)');
    assert.match(disableNurse.stdout, /disabled/);
    const enabled = await run('users', 'enable', 'super1', '--json');
    ok(enabled, 'users enable');
    assert.equal(enabled.json.disabled, false);

    const after = await Vault.open(dir);
    try {
      const u = (await after.users.byUsername('nurse1'))!;
      assert.equal(u.disabled, 1);
      assert.notEqual(u.password_hash, oldHash);
      const live = await after.database.db.selectFrom('sessions').selectAll().where('user_id', '=', nurse.id).where('revoked_at', 'is', null).execute();
      assert.equal(live.length, 0, 'every session of the account ended');
    } finally {
      await after.close();
    }
  });

  it('tokens: create, list without secrets, revoke once', async () => {
    const created = await run('tokens', 'create', '--name', 'recorder-1', '--scope', 'ingest', '--controller', controller, '--json');
    ok(created, 'tokens create');
    assert.match(created.json.token, /^cvt_[0-9a-f-]{36}_[A-Za-z0-9_-]{43}$/);
    assert.ok(created.json.token.includes(created.json.id));
    const days = (Date.parse(created.json.expiresAt) - Date.now()) / 86_400_000;
    assert.ok(days > 89.9 && days <= 90, `90 days by default, got ${days}`);
    const secretPart = created.json.token.slice(`cvt_${created.json.id}_`.length);
    secrets.push(created.json.token, secretPart);

    const [short, badScope, noController, tooLong, noName, longRegion] = await Promise.all([
      run('tokens', 'create', '--name', 'recorder-2', '--scope', 'ingest', '--controller', 'north', '--days', '7', '--regions', 'north, south', '--agents', 'a-1'),
      run('tokens', 'create', '--name', 'x', '--scope', 'admin', '--controller', controller, '--json'),
      run('tokens', 'create', '--name', 'x', '--scope', 'ingest', '--controller', 'nowhere'),
      run('tokens', 'create', '--name', 'x', '--scope', 'ingest', '--controller', controller, '--days', '400'),
      run('tokens', 'create', '--scope', 'ingest', '--controller', controller),
      run('tokens', 'create', '--name', 'x', '--scope', 'ingest', '--controller', controller, '--regions', 'r'.repeat(201)),
    ]);
    ok(short, 'tokens create --days 7');
    const token2 = /(cvt_\S+)/.exec(short.stdout)?.[1];
    assert.ok(token2, short.stdout);
    secrets.push(token2);
    fails(badScope, 2, 'unknown scope');
    assert.equal(badScope.json.error.code, 'CV_USAGE');
    fails(noController, 1, 'unknown controller', /no such controller/);
    fails(tooLong, 2, 'too many days', /366/);
    fails(noName, 2, 'no name', /--name/);
    fails(longRegion, 2, 'a region name too long', /200 characters/);

    const revoked = await run('tokens', 'revoke', created.json.id, '--json');
    ok(revoked, 'tokens revoke');
    const [again, unknown, list, text] = await Promise.all([
      run('tokens', 'revoke', created.json.id, '--json'),
      run('tokens', 'revoke', '00000000-0000-4000-8000-000000000000'),
      run('tokens', 'list', '--json'),
      run('tokens', 'list'),
    ]);
    fails(again, 1, 'revoke twice', /no such live token/);
    assert.equal(again.json.error.code, 'CV_NOT_FOUND');
    fails(unknown, 1, 'revoke an unknown token');
    ok(list, 'tokens list');
    ok(text, 'tokens list (text)');
    assert.equal(list.json.tokens.length, 2);
    for (const t of list.json.tokens) assert.deepEqual(Object.keys(t).sort(), TOKEN_FIELDS);
    const first = list.json.tokens.find((t: any) => t.id === created.json.id);
    assert.ok(first.revokedAt, 'revoked');
    assert.match(text.stdout, /revoked/);
    // the limits a token was made with are listed: null (all) when it has none
    assert.deepEqual([first.regions, first.agents], [null, null]);
    const limited = list.json.tokens.find((t: any) => t.id !== created.json.id);
    assert.deepEqual([limited.regions, limited.agents], [['north', 'south'], ['a-1']]);
    assert.match(text.stdout, /regions all {2}agents all/);
    assert.match(text.stdout, /regions north,south {2}agents a-1/);
    for (const out of [list.stdout, text.stdout]) {
      assert.doesNotMatch(out, /cvt_|secret_hash/);
      for (const s of secrets) assert.ok(!out.includes(s), 'a secret in tokens list');
    }
  });

  it('contracts: add, list, end; bad dates and roles are usage errors', async () => {
    const added = await run(
      'contracts',
      'add',
      '--processor',
      'acme',
      '--controller',
      controller,
      '--roles',
      'nurse,supervisor',
      '--regions',
      'north,south',
      '--from',
      '2025-01-01',
      '--to',
      '2099-01-01T00:00:00Z',
      '--json',
    );
    ok(added, 'contracts add');
    assert.deepEqual(added.json.roles, ['nurse', 'supervisor']);
    assert.deepEqual(added.json.regions, ['north', 'south']);
    assert.equal(added.json.validFrom, '2025-01-01T00:00:00.000Z');
    assert.equal(added.json.validTo, '2099-01-01T00:00:00.000Z');

    const [other, badFrom, badDay, badRole, adminRole, backwards, noProcessor, noRoles] = await Promise.all([
      run('contracts', 'add', '--processor', 'other', '--controller', 'north', '--roles', 'dpo', '--from', '2025-01-01T00:00:00+02:00', '--to', '2026-01-01'),
      run('contracts', 'add', '--processor', 'acme', '--controller', controller, '--roles', 'nurse', '--from', 'yesterday', '--to', '2099-01-01', '--json'),
      run('contracts', 'add', '--processor', 'acme', '--controller', controller, '--roles', 'nurse', '--from', '2025-02-30', '--to', '2099-01-01'),
      run('contracts', 'add', '--processor', 'acme', '--controller', controller, '--roles', 'nurse,janitor', '--from', '2025-01-01', '--to', '2099-01-01', '--json'),
      run('contracts', 'add', '--processor', 'acme', '--controller', controller, '--roles', 'admin', '--from', '2025-01-01', '--to', '2099-01-01'),
      run('contracts', 'add', '--processor', 'acme', '--controller', controller, '--roles', 'nurse', '--from', '2099-01-01', '--to', '2025-01-01'),
      run('contracts', 'add', '--processor', 'nowhere', '--controller', controller, '--roles', 'nurse', '--from', '2025-01-01', '--to', '2099-01-01'),
      run('contracts', 'add', '--processor', 'acme', '--controller', controller, '--from', '2025-01-01', '--to', '2099-01-01'),
    ]);
    ok(other, 'contracts add (time zone offset)');
    assert.match(other.stdout, /2024-12-31T22:00:00\.000Z/);
    fails(badFrom, 2, 'a date that is not ISO 8601');
    assert.equal(badFrom.json.error.code, 'CV_USAGE');
    fails(badDay, 2, 'February 30th');
    fails(badRole, 2, 'an unknown role', /roles/);
    assert.equal(badRole.json.error.code, 'CV_USAGE');
    fails(adminRole, 2, 'a role a contract cannot grant');
    assert.notEqual(backwards.code, 0, 'to before from');
    assert.match(backwards.stderr, /end after it starts/);
    fails(noProcessor, 1, 'an unknown processor', /no such processor/);
    fails(noRoles, 2, 'no roles', /--roles/);

    const ended = await run('contracts', 'end', added.json.id, '--json');
    ok(ended, 'contracts end');
    const movedBy = Math.abs(Date.parse(ended.json.validTo) - Date.now());
    assert.ok(movedBy < 60_000, `the end moves to now: ${ended.json.validTo}`);
    const [all, acme, missing] = await Promise.all([
      run('contracts', 'list', '--json'),
      run('contracts', 'list', '--processor', 'acme', '--json'),
      run('contracts', 'end', '00000000-0000-4000-8000-000000000000'),
    ]);
    ok(all, 'contracts list');
    ok(acme, 'contracts list --processor');
    assert.equal(all.json.contracts.length, 2);
    assert.deepEqual(
      acme.json.contracts.map((c: any) => c.id),
      [added.json.id],
    );
    assert.equal(acme.json.contracts[0].validTo, ended.json.validTo);
    fails(missing, 1, 'end an unknown contract', /no such contract/);
  });

  it('import, export, keys rotate and keys rewrap are audited too', async () => {
    const src = await tempDir('src', 'manage');
    const samples = randomBytes(32_000);
    await writeFile(join(src, 'call.wav'), Buffer.concat([wavHeader({ formatTag: 1, channels: 1, rate: 8000, bits: 16, dataBytes: samples.length }), samples]));
    const imported = await run('import', src, '--json');
    ok(imported, 'import');
    const again = await run('import', src, '--json');
    ok(again, 'import of a duplicate');
    const id = imported.json.imported[0].id;
    ok(await run('keys', 'rotate', '--controller', controller), 'keys rotate');
    const rewrap = await run('keys', 'rewrap', '--json');
    ok(rewrap, 'keys rewrap');
    assert.equal(rewrap.json.rewrapped, 1);
    const out = join(await tempDir('out', 'manage'), 'call.wav');
    ok(await run('export', id, '--out', out), 'export');
    assert.equal((await readFile(out)).subarray(44).compare(samples), 0);
  });

  it('every change left one audit entry by the cli, with no secret in it', async () => {
    const v = await Vault.open(dir);
    let entries: any[];
    let raw: string;
    try {
      const stored = await v.audit.entries(0, await v.audit.size());
      raw = stored.map((e) => e.entry.toString('utf8')).join('\n');
      entries = stored.map((e) => JSON.parse(e.entry.toString('utf8')));
    } finally {
      await v.close();
    }
    const cliEntries = entries.filter((e) => e.actor?.type === 'cli');
    for (const e of cliEntries) {
      assert.equal(e.outcome, 'success', JSON.stringify(e));
      assert.ok(typeof e.actor.name === 'string' && e.actor.name.length > 0, 'the operating-system user is named');
    }
    const count = (action: string) => cliEntries.filter((e) => e.action === action).length;
    assert.deepEqual(
      Object.fromEntries(
        [
          'processor.create',
          'controller.create',
          'user.create',
          'user.reset',
          'user.disable',
          'user.enable',
          'token.create',
          'token.revoke',
          'contract.create',
          'contract.end',
          'recording.import',
          'key.rotate',
          'key.rewrap',
          'recording.export',
        ].map((a) => [a, count(a)]),
      ),
      {
        'processor.create': 2,
        'controller.create': 1,
        'user.create': 6,
        'user.reset': 1,
        'user.disable': 2,
        'user.enable': 1,
        'token.create': 2,
        'token.revoke': 1,
        'contract.create': 2,
        'contract.end': 1,
        'recording.import': 4,
        'key.rotate': 1,
        'key.rewrap': 1,
        'recording.export': 1,
      },
    );
    const imports = cliEntries.filter((e) => e.action === 'recording.import').map((e) => e.detail);
    assert.deepEqual(imports, [
      { stage: 'start', sources: 1 },
      { stage: 'end', stored: 1, duplicates: 0, skipped: 0, failed: 0 },
      { stage: 'start', sources: 1 },
      { stage: 'end', stored: 0, duplicates: 1, skipped: 0, failed: 0 },
    ]);
    const exported = cliEntries.find((e) => e.action === 'recording.export');
    assert.match(exported.recordingId, /^[0-9a-f-]{36}$/);
    assert.equal(exported.controllerId, controller);
    const rotated = cliEntries.find((e) => e.action === 'key.rotate');
    const rewrapped = cliEntries.find((e) => e.action === 'key.rewrap');
    assert.equal(rotated.controllerId, controller);
    assert.deepEqual(rewrapped.detail, { fromKeyIds: [rotated.detail.retiredKeyId], toKeyId: rotated.detail.keyId, rewrapped: 1 });
    const token = cliEntries.find((e) => e.action === 'token.create');
    assert.equal(token.controllerId, controller);
    assert.match(token.detail.tokenId, /^[0-9a-f-]{36}$/);
    assert.ok(secrets.length >= 9);
    for (const s of secrets) assert.ok(!raw.includes(s), 'a secret in the audit log');
    assert.doesNotMatch(raw, /cvt_|otpauth|"password"|totpSecret/);
  });
});
