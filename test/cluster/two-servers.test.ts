/**
 * Two `callvault serve` processes on one PostgreSQL database and one object store, as behind a
 * load balancer: a session made on one works on the other, sign-in limits, lockouts and one-time
 * codes hold across both, the audit log stays one gapless verified sequence, and background work
 * (the redaction backlog) runs once, on whichever server holds its lease.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { cli, PASSPHRASE, tempDir, throwawayPostgres } from '../helpers.js';
import { makeCallWav } from '../fixtures/audio.js';
import { verboseJson } from '../fixtures/transcripts.js';
import { strongPassword, totp } from '../http/harness.js';
import { startS3rver, type S3rverHandle } from '../storage/s3rver.js';
import { startServe, stopGently, type ServeProcess } from '../faults/serve-process.js';

async function call(server: ServeProcess, method: 'GET' | 'POST', path: string, body?: unknown, cookie?: string, csrf?: string) {
  const res = await request(`${server.url}${path}`, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(cookie ? { cookie } : {}), ...(csrf ? { 'x-csrf-token': csrf } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.body.text();
  const setCookie = res.headers['set-cookie'];
  return { status: res.statusCode, json: text ? JSON.parse(text) : undefined, cookie: (Array.isArray(setCookie) ? setCookie[0] : setCookie)?.split(';')[0] };
}

type Event = { action: string; recordingId?: string; actor?: { name?: string }; detail?: { failedCheck?: string } };

/** every audit entry, as `callvault audit entries --json` gives them */
async function events(data: string, env: NodeJS.ProcessEnv): Promise<Event[]> {
  const r = await cli(['--data', data, 'audit', 'entries', '--json'], env);
  return (r.json as { entry: string }[]).map((e) => JSON.parse(Buffer.from(e.entry, 'base64').toString('utf8')) as Event);
}

describe('two servers on one database', () => {
  let db: { url: string; drop: () => Promise<void> };
  let s3: S3rverHandle;
  let data: string;
  let env: NodeJS.ProcessEnv;
  let a: ServeProcess;
  let b: ServeProcess;
  const users = new Map<string, { username: string; enrolmentCode: string; password: string; totpSecret: string }>();

  before(async () => {
    db = await throwawayPostgres();
    s3 = await startS3rver('callvault-cluster');
    data = join(await tempDir('data', 'cluster'), 'data');
    env = {
      CALLVAULT_DATABASE_URL: db.url,
      CALLVAULT_BLOB_URL: `s3://${s3.bucket}/vault?endpoint=${encodeURIComponent(s3.endpoint)}&region=us-east-1&forcePathStyle=true`,
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      CALLVAULT_PASSPHRASE: PASSPHRASE,
    };
    assert.equal((await cli(['--data', data, 'init', '--json', '--controller', 'region-a'], env)).code, 0);
    for (const name of ['anna', 'bertil', 'cecilia']) {
      const r = await cli(['--data', data, 'users', 'add', name, '--role', 'nurse', '--controller', 'region-a', '--agent', `agent-${name}`, '--json'], env);
      assert.equal(r.code, 0, r.stderr);
      users.set(name, { username: name, enrolmentCode: r.json.enrolment.code, password: '', totpSecret: '' });
    }
    // recordings stored while the keyring was locked: waiting to be examined for identifiers
    const src = await tempDir('src', 'cluster');
    for (let i = 0; i < 4; i++) {
      const call = await makeCallWav(join(src, `call-${i}.wav`), { seed: 700 + i });
      await writeFile(join(src, `call-${i}.transcript.json`), verboseJson(call).json);
    }
    const imported = await cli(['--data', data, 'import', src, '--json'], { ...env, CALLVAULT_PASSPHRASE: undefined });
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(imported.json.imported.length, 4);
    [a, b] = (await Promise.all([0, 1].map(() => startServe(data, env, 0, ['--checkpoint-interval', '1'])))) as [ServeProcess, ServeProcess];
    // each person enrols with the code the command printed: their password and authenticator (the
    // enrolment spends the code of this time step; sign-ins below use the next one)
    for (const u of users.values()) {
      const { enrolmentCode } = u;
      const first = await call(a, 'POST', '/api/v1/auth/enrol', { username: u.username, enrolmentCode });
      assert.equal(first.status, 401, JSON.stringify(first.json));
      u.totpSecret = first.json.totpSecret;
      u.password = strongPassword();
      const done = await call(a, 'POST', '/api/v1/auth/enrol', { username: u.username, enrolmentCode, code: await totp(u.totpSecret), newPassword: u.password });
      assert.equal(done.status, 200, JSON.stringify(done.json));
    }
  });

  after(async () => {
    for (const s of [a, b]) if (s) await stopGently(s);
    await db?.drop();
    await s3?.stop();
  });

  it('a session made on one server works on the other, and signing out on one ends it on both', async () => {
    const u = users.get('anna')!;
    const signin = await call(a, 'POST', '/api/v1/auth/signin', { username: u.username, password: u.password, code: await totp(u.totpSecret, 1) });
    assert.equal(signin.status, 200, JSON.stringify(signin.json));
    const cookie = signin.cookie!;
    assert.equal((await call(b, 'GET', '/api/v1/auth/session', undefined, cookie)).status, 200);
    assert.equal((await call(b, 'POST', '/api/v1/auth/signout', undefined, cookie, signin.json.csrfToken)).status, 204);
    assert.equal((await call(a, 'GET', '/api/v1/auth/session', undefined, cookie)).status, 401);
  });

  it('a one-time code accepted by one server is refused by the other', async () => {
    const u = users.get('bertil')!;
    const code = await totp(u.totpSecret, 1);
    const first = await call(a, 'POST', '/api/v1/auth/signin', { username: u.username, password: u.password, code });
    assert.equal(first.status, 200);
    const replay = await call(b, 'POST', '/api/v1/auth/signin', { username: u.username, password: u.password, code });
    assert.equal(replay.status, 401);
  });

  it('failed sign-ins count across servers: the account locks after five, wherever they were made', async () => {
    const u = users.get('cecilia')!;
    const wrong = { username: u.username, password: 'not the password at all', code: '000000' };
    const answers = await Promise.all([a, b, a, b, a].map((s) => call(s, 'POST', '/api/v1/auth/signin', wrong)));
    assert.deepEqual(
      answers.map((r) => r.status),
      [401, 401, 401, 401, 401],
    );
    const right = await call(b, 'POST', '/api/v1/auth/signin', { username: u.username, password: u.password, code: await totp(u.totpSecret, 1) });
    assert.equal(right.status, 401, 'locked, though this server saw only two of the failures');
    const failures = (await events(data, env)).filter((e) => e.action === 'auth.signin' && e.actor?.name === u.username);
    assert.equal(failures.at(-1)?.detail?.failedCheck, 'locked');
  });

  it('the sign-in rate limit is one limit for both servers', async () => {
    // 20 attempts a minute per client address; unknown accounts, so no lockout gets in the way
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await call(i % 2 ? a : b, 'POST', '/api/v1/auth/signin', { username: `nobody-${i}`, password: 'wrong password here', code: '123456' });
      statuses.push(res.status);
    }
    const refused = statuses.filter((s) => s === 429).length;
    const tried = statuses.filter((s) => s === 401).length;
    // the tests above made 10 attempts in this minute's window already (unless a window ended in between)
    assert.ok(tried <= 20, `${tried} attempts reached the password check`);
    assert.ok(refused >= 10, `${refused} refused`);
  });

  it('the redaction backlog is worked through once, by the server holding its lease', async () => {
    const deadline = Date.now() + 60_000;
    let redact: Event[] = [];
    for (;;) {
      redact = (await events(data, env)).filter((e) => e.action === 'recording.redact');
      if (redact.length >= 4 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(redact.length, 4, 'each recording examined exactly once');
    assert.equal(new Set(redact.map((e) => e.recordingId)).size, 4);
  });

  it('the recordings and their redacted renditions are in the bucket, each verified, and no object is plaintext', async () => {
    const verify = await cli(['--data', data, 'verify', '--deep', '--json'], env);
    assert.equal(verify.code, 0, verify.stdout);
    assert.equal(verify.json.checked, 8, 'four recordings and four renditions');
    const puts = s3.requests.filter((r) => r.method === 'PUT' || r.method === 'POST').length;
    assert.ok(puts >= 8, `${puts} writes reached the bucket`);
    // what the object store holds on its disk: containers, never a WAV header
    const files = (await readdir(s3.dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile() && !e.name.endsWith('.json'));
    let containers = 0;
    for (const f of files) {
      const bytes = await readFile(join(f.parentPath, f.name));
      assert.ok(!bytes.includes('RIFF') && !bytes.includes('WAVEfmt'), `${f.name} holds plaintext audio`);
      if (bytes.subarray(0, 5).toString('latin1') === 'CVREC') containers++;
    }
    assert.equal(containers, 8);
  });

  it('the audit log written by both servers is one gapless sequence that verifies, with checkpoints signed', async () => {
    await new Promise((r) => setTimeout(r, 2500));
    const verify = await cli(['--data', data, 'audit', 'verify', '--json'], env);
    assert.equal(verify.code, 0, verify.stdout);
    assert.equal(verify.json.ok, true);
    assert.ok(verify.json.checkpoints >= 1, JSON.stringify(verify.json));
  });
});
