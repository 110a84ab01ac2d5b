/**
 * Two `callvault serve` processes on one PostgreSQL database keep a person's session and stated
 * purpose in memory between range requests (issue 21), and a revocation made anywhere still ends
 * playback on both within a second: signing out on the other server, an account disabled by a
 * command (what a suspension by an alert writes: the account disabled, its sessions ended), and a
 * stated purpose ended by SQL on the database itself, which no server's code saw. Real
 * PostgreSQL, real HTTP, real processes.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { request } from 'undici';
import { cli, PASSPHRASE, tempDir, throwawayPostgres } from '../helpers.js';
import { strongPassword, totp } from '../http/harness.js';
import { noiseCall, startServe, stopGently, type ServeProcess } from '../faults/serve-process.js';

const NAMES = ['dora', 'erik', 'frida'];

/** revocation must be seen within this, on the server that did not make it */
const WITHIN_MS = 1000;

async function call(server: ServeProcess, method: 'GET' | 'POST', path: string, options: { body?: unknown; cookie?: string; csrf?: string; range?: string } = {}) {
  const { body, cookie, csrf, range } = options;
  const res = await request(`${server.url}${path}`, {
    method,
    headers: {
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...(cookie ? { cookie } : {}),
      ...(csrf ? { 'x-csrf-token': csrf } : {}),
      ...(range ? { range } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  const setCookie = res.headers['set-cookie'];
  const json = res.headers['content-type']?.toString().startsWith('application/json') ? JSON.parse(bytes.toString('utf8')) : undefined;
  return { status: res.statusCode, json, bytes, cookie: (Array.isArray(setCookie) ? setCookie[0] : setCookie)?.split(';')[0] };
}

describe('revocation reaches a server that keeps sessions and purposes in memory, within a second', () => {
  let db: { url: string; drop: () => Promise<void> };
  let data: string;
  let env: NodeJS.ProcessEnv;
  let a: ServeProcess;
  let b: ServeProcess;
  /** the call under agent NAMES[i]: noise, each its own */
  const calls = NAMES.map(() => noiseCall(400_000));
  const callOf = (i: number) => calls[i]!;
  const users = new Map<string, { username: string; password: string; totpSecret: string }>();

  before(async () => {
    db = await throwawayPostgres();
    data = join(await tempDir('data', 'revocation'), 'data');
    env = { CALLVAULT_DATABASE_URL: db.url, CALLVAULT_PASSPHRASE: PASSPHRASE };
    assert.equal((await cli(['--data', data, 'init', '--json', '--controller', 'region-a'], env)).code, 0);
    const src = await tempDir('src', 'revocation');
    // a nurse hears the calls she handled: one call each
    for (const [i, name] of NAMES.entries()) {
      await writeFile(join(src, `${name}.wav`), callOf(i));
      await writeFile(join(src, `${name}.json`), JSON.stringify({ agent: `agent-${name}` }));
      await writeFile(join(src, `${name}.vtt`), 'WEBVTT\n\n00:00.000 --> 00:01.000\nHej\n');
    }
    const imported = await cli(['--data', data, 'import', src, '--json'], env);
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(imported.json.imported.length, NAMES.length);
    [a, b] = (await Promise.all([0, 1].map(() => startServe(data, env)))) as [ServeProcess, ServeProcess];
    for (const name of NAMES) {
      const r = await cli(['--data', data, 'users', 'add', name, '--role', 'nurse', '--controller', 'region-a', '--agent', `agent-${name}`, '--json'], env);
      assert.equal(r.code, 0, r.stderr);
      const enrolmentCode = r.json.enrolment.code;
      const first = await call(a, 'POST', '/api/v1/auth/enrol', { body: { username: name, enrolmentCode } });
      assert.equal(first.status, 401, JSON.stringify(first.json));
      const password = strongPassword();
      const done = await call(a, 'POST', '/api/v1/auth/enrol', { body: { username: name, enrolmentCode, code: await totp(first.json.totpSecret), newPassword: password } });
      assert.equal(done.status, 200, JSON.stringify(done.json));
      users.set(name, { username: name, password, totpSecret: first.json.totpSecret });
    }
  });

  after(async () => {
    for (const s of [a, b]) if (s) await stopGently(s);
    await db?.drop();
  });

  /** signs in on A, states a purpose on A, and plays ranges on B until B keeps both in memory */
  async function listening(name: string) {
    const u = users.get(name)!;
    // the enrolment spent this time step's code: each person signs in once, with the next step's
    const signin = await call(a, 'POST', '/api/v1/auth/signin', { body: { username: u.username, password: u.password, code: await totp(u.totpSecret, 1) } });
    assert.equal(signin.status, 200, JSON.stringify(signin.json));
    const cookie = signin.cookie!;
    const csrf = signin.json.csrfToken as string;
    const mine = await call(a, 'GET', '/api/v1/recordings', { cookie });
    assert.equal(mine.json.recordings.length, 1, JSON.stringify(mine.json));
    const access = await call(a, 'POST', `/api/v1/recordings/${mine.json.recordings[0].id}/access`, { body: { purpose: 'quality-review' }, cookie, csrf });
    assert.equal(access.status, 201, JSON.stringify(access.json));
    const audio = access.json.audioUrl as string;
    for (let i = 0; i < 5; i++) {
      const first = i * 70_000;
      const res = await call(b, 'GET', audio, { cookie, range: `bytes=${first}-${first + 65_535}` });
      assert.equal(res.status, 206, JSON.stringify(res.json));
      assert.ok(res.bytes.equals(callOf(NAMES.indexOf(name)).subarray(first, first + 65_536)));
    }
    return { cookie, csrf, audio };
  }

  /** ms until B refuses the next range; fails past WITHIN_MS */
  async function refusedWithin(audio: string, cookie: string, expected: number[]): Promise<number> {
    const started = Date.now();
    for (;;) {
      const res = await call(b, 'GET', audio, { cookie, range: 'bytes=0-65535' });
      const elapsed = Date.now() - started;
      if (expected.includes(res.status)) return elapsed;
      assert.equal(res.status, 206, JSON.stringify(res.json));
      assert.ok(elapsed < WITHIN_MS, `B still played ${elapsed} ms after the revocation`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('signing out on A ends playback on B', async () => {
    const { cookie, csrf, audio } = await listening('dora');
    assert.equal((await call(a, 'POST', '/api/v1/auth/signout', { cookie, csrf })).status, 204);
    const ms = await refusedWithin(audio, cookie, [401]);
    assert.ok(ms < WITHIN_MS);
  });

  it('an account disabled by a command (its sessions ended) can play nothing more on B', async () => {
    const { cookie, audio } = await listening('erik');
    const r = await cli(['--data', data, 'users', 'disable', 'erik'], env);
    assert.equal(r.code, 0, r.stderr);
    const ms = await refusedWithin(audio, cookie, [401]);
    assert.ok(ms < WITHIN_MS);
  });

  it('a stated purpose ended in the database itself ends playback on B, and the session lives on', async () => {
    const { cookie, audio } = await listening('frida');
    const accessId = new URL(audio, 'http://x').searchParams.get('access')!;
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const ended = await client.query('UPDATE access_grants SET expires_at = $1 WHERE id = $2', [new Date(Date.now() - 1000).toISOString(), accessId]);
      assert.equal(ended.rowCount, 1);
    } finally {
      await client.end();
    }
    const ms = await refusedWithin(audio, cookie, [400]);
    assert.ok(ms < WITHIN_MS);
    const res = await call(b, 'GET', audio, { cookie, range: 'bytes=0-9' });
    assert.equal(res.json.error.code, 'CV_PURPOSE_REQUIRED');
    assert.equal((await call(b, 'GET', '/api/v1/auth/session', { cookie })).status, 200, 'the session is still good');
  });

  it('a change a server did not make moves the revocation epoch: the grants, sessions and users tables carry its triggers', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const before = Number((await client.query('SELECT epoch FROM revocation_epoch')).rows[0].epoch);
      await client.query('UPDATE sessions SET revoked_at = revoked_at');
      await client.query("UPDATE users SET disabled = disabled WHERE username = 'dora'");
      const after = Number((await client.query('SELECT epoch FROM revocation_epoch')).rows[0].epoch);
      assert.equal(after, before + 2);
      // the last-seen time, written every minute a session is used, does not
      await client.query('UPDATE sessions SET last_seen_at = last_seen_at');
      assert.equal(Number((await client.query('SELECT epoch FROM revocation_epoch')).rows[0].epoch), after);
    } finally {
      await client.end();
    }
  });
});
