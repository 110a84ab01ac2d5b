/**
 * Lockout after failed sign-ins (issue 16, item 7): failures decay with time, a lock holds for the
 * account at one address (so a third party cannot lock a nurse out from elsewhere) with a higher
 * account-wide threshold across addresses, and changing one's password counts as a sign-in: a
 * wrong current password is a failure, and a fresh TOTP code is needed.
 *
 * Other addresses are real: the test clients connect from 127.0.0.2, 127.0.0.3, … (any 127/8
 * address is the loopback on Linux). Time is a clock passed to `signIn`, never a sleep.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generate } from 'otplib';
import { addressKey } from '../../src/identities/lockout.js';
import { signIn, SignInError } from '../../src/identities/signin.js';
import { Client, signedInUser, startTestServer, strongPassword, totp, type TestServer, type TestUser } from './harness.js';

const API = '/api/v1';
const MINUTE = 60_000;

let server: TestServer;

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await server?.close();
});

/** the `auth.signin` / `user.password-change` failure entries about one account, oldest first */
async function failures(userId: string, action = 'auth.signin'): Promise<any[]> {
  return (await server.vault.audit.entries(0, await server.vault.audit.size()))
    .map((e) => JSON.parse(e.entry.toString()))
    .filter((e) => e.action === action && e.outcome === 'failure' && e.actor.id === userId);
}

async function codeAt(user: TestUser, at: Date): Promise<string> {
  return generate({ secret: user.totpSecret, epoch: Math.floor(at.getTime() / 1000) });
}

/** what signIn throws, as the audit log names it ('password', 'locked', …), or 'ok' */
async function outcome(user: TestUser, password: string, at: Date, address: string): Promise<string> {
  try {
    await signIn(server.vault, { username: user.username, password, code: await codeAt(user, at) }, at, address);
    return 'ok';
  } catch (err) {
    if (err instanceof SignInError) return err.failedCheck ?? err.code;
    throw err;
  }
}

test('failures decay: a wrong password every 50 minutes for a day does not keep the account locked', async () => {
  const user = await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'decay-1' });
  // a day ahead of the real clock, so that the codes are newer than the one the first sign-in used
  let now = Date.now() + 24 * 60 * MINUTE;
  const checks: string[] = [];
  for (let i = 0; i < 29; i++) {
    checks.push(await outcome(user, `wrong password ${i}`, new Date(now), '192.0.2.7'));
    now += 50 * MINUTE;
  }
  assert.deepEqual(new Set(checks), new Set(['password']), `every attempt was judged on its password: ${checks}`);
  // ten minutes after the last failure, the owner signs in from the same address
  assert.equal(await outcome(user, user.password, new Date(now - 40 * MINUTE), '192.0.2.7'), 'ok');
});

test('a burst of failures locks the account at that address for a while; the lock drains away', async () => {
  const user = await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'decay-2' });
  const start = Date.now() + 24 * 60 * MINUTE;
  for (let i = 0; i < 5; i++) assert.equal(await outcome(user, `wrong password ${i}`, new Date(start + i * 1000), '192.0.2.8'), 'password');
  assert.equal(await outcome(user, user.password, new Date(start + 10_000), '192.0.2.8'), 'locked', 'locked just after the burst');
  assert.equal(await outcome(user, user.password, new Date(start + 2 * 60 * MINUTE), '192.0.2.8'), 'ok', 'two hours later the owner gets in');
});

test('a third party locks the account only at its own address: the nurse signs in from hers', async () => {
  const nurse = await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'victim-1' });
  const attacker = new Client(server, { from: '127.0.0.2' });
  for (let i = 0; i < 10; i++) {
    const res = await attacker.post(`${API}/auth/signin`, { username: nurse.username, password: `guess ${i}`, code: '000000' });
    assert.equal(res.status, 401);
  }
  // the attacker is locked out even with the right password and code…
  const right = await attacker.post(`${API}/auth/signin`, { username: nurse.username, password: nurse.password, code: await totp(nurse.totpSecret, 1) });
  assert.equal(right.status, 401, 'locked at the attacking address');
  assert.equal(right.headers['set-cookie'], undefined);
  // …the nurse, at another address, is not
  const mine = await new Client(server).post(`${API}/auth/signin`, { username: nurse.username, password: nurse.password, code: await totp(nurse.totpSecret, 1) });
  assert.equal(mine.status, 200, mine.body.toString());

  const entries = await failures(nurse.id);
  assert.deepEqual(
    entries.map((e) => e.detail.failedCheck),
    [...Array(5).fill('password'), ...Array(6).fill('locked')],
  );
  assert.ok(
    entries.every((e) => e.ip === '127.0.0.2'),
    'the failures are entered with the address they came from',
  );
  // the entry says which check failed and nothing about counts, thresholds or other addresses
  for (const e of entries) assert.deepEqual(Object.keys(e.detail).sort(), ['failedCheck', 'reason']);
});

test('failures from many addresses lock the account everywhere once they pass the account-wide threshold', async () => {
  const nurse = await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'victim-2' });
  // 11 addresses × 5 failures = 55, past the account-wide 50
  for (let a = 2; a <= 12; a++) {
    const attacker = new Client(server, { from: `127.0.1.${a}` });
    for (let i = 0; i < 5; i++) {
      const res = await attacker.post(`${API}/auth/signin`, { username: nurse.username, password: `guess ${a}.${i}`, code: '000000' });
      assert.equal(res.status, 401);
    }
  }
  const mine = await new Client(server).post(`${API}/auth/signin`, { username: nurse.username, password: nurse.password, code: await totp(nurse.totpSecret, 1) });
  assert.equal(mine.status, 401, 'locked at every address');
  assert.deepEqual((await failures(nurse.id)).at(-1).detail, { reason: 'CV_SIGNIN_FAILED', failedCheck: 'locked-account' });
});

test('POST /auth/password needs a fresh TOTP code: none, a wrong one or the sign-in code again is refused', async () => {
  const nurse = await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'pw-1' });
  const newPassword = strongPassword();
  const withoutCode = await nurse.client.post(`${API}/auth/password`, { password: nurse.password, newPassword });
  assert.equal(withoutCode.status, 400, `no code: ${withoutCode.body.toString()}`);
  const wrong = await nurse.client.post(`${API}/auth/password`, { password: nurse.password, newPassword, code: '000000' });
  assert.equal(wrong.status, 401, `a wrong code: ${wrong.body.toString()}`);
  assert.equal(wrong.json.error.code, 'CV_SIGNIN_FAILED');
  // the code the sign-in used (signedInUser signs in with the current step's code)
  const replay = await nurse.client.post(`${API}/auth/password`, { password: nurse.password, newPassword, code: await totp(nurse.totpSecret) });
  assert.equal(replay.status, 401, `the sign-in's code again: ${replay.body.toString()}`);
  assert.deepEqual(
    (await failures(nurse.id, 'user.password-change')).map((e) => e.detail),
    [
      { reason: 'CV_SIGNIN_FAILED', failedCheck: 'mfa' },
      { reason: 'CV_SIGNIN_FAILED', failedCheck: 'mfa' },
    ],
  );
  // the old password still signs in: nothing was changed
  const fresh = await nurse.client.post(`${API}/auth/password`, { password: nurse.password, newPassword, code: await totp(nurse.totpSecret, 1) });
  assert.equal(fresh.status, 204, fresh.body.toString());
  // and that code is spent too
  const again = await nurse.client.post(`${API}/auth/password`, { password: newPassword, newPassword: strongPassword(), code: await totp(nurse.totpSecret, 1) });
  assert.equal(again.status, 401);
});

test('wrong current passwords on POST /auth/password count toward the lockout', async () => {
  const nurse = await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'pw-2' });
  for (let i = 0; i < 5; i++) {
    const res = await nurse.client.post(`${API}/auth/password`, { password: `guess ${i}`, newPassword: strongPassword(), code: await totp(nurse.totpSecret, 1) });
    assert.equal(res.status, 401, res.body.toString());
  }
  // locked at this address: the right password and a fresh code no longer change it…
  const right = await nurse.client.post(`${API}/auth/password`, { password: nurse.password, newPassword: strongPassword(), code: await totp(nurse.totpSecret, 1) });
  assert.equal(right.status, 401, right.body.toString());
  // …nor sign in here
  const signIn = await new Client(server).post(`${API}/auth/signin`, { username: nurse.username, password: nurse.password, code: await totp(nurse.totpSecret, 1) });
  assert.equal(signIn.status, 401);
  assert.deepEqual(
    (await failures(nurse.id, 'user.password-change')).map((e) => e.detail.failedCheck),
    ['password', 'password', 'password', 'password', 'password', 'locked'],
  );
  assert.equal((await failures(nurse.id)).at(-1).detail.failedCheck, 'locked');
});

test('failures are counted per IPv4 address, and per /64 for IPv6', () => {
  const cases: [string | undefined, string][] = [
    ['192.0.2.7', '192.0.2.7'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:DB8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff::', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::192.0.2.7', '64:ff9b:0:0::/64'],
    [undefined, 'unknown'],
    ['not an address', 'unknown'],
  ];
  for (const [ip, key] of cases) assert.equal(addressKey(ip), key, String(ip));
});
