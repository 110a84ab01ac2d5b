/**
 * Sign-in at an organisation's own OpenID Connect provider, end to end.
 *
 * THE IDENTITY PROVIDER HERE IS A REAL `oidc-provider` INSTANCE, NOT A MOCK: it runs in this
 * process on 127.0.0.1 (plain http, on a random port), publishes its discovery document and keys,
 * renders its development login and consent pages, issues signed ID tokens, and checks the client
 * secret, the redirect URI and the PKCE verifier at its token endpoint. The browser is played by
 * hand with undici: every redirect is followed explicitly and cookies are kept per origin.
 *
 * callvault is configured with redirectBaseUrl https://callvault.test, as it would be behind a
 * reverse proxy: the provider sends the browser there and the test delivers that request to the
 * real test server, so the callback is proved to build its redirect URI from the configuration and
 * not from the request.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { request as undiciRequest, type Dispatcher } from 'undici';
import { allowInsecureRequests } from 'openid-client';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createUser } from '../../src/identities/users.js';
import { loadOidcProviders } from '../../src/cli/commands/serve.js';
import { mfaShown } from '../../src/identities/oidc.js';
import { tempDir } from '../helpers.js';
import { Client, startTestServer, type TestServer } from './harness.js';

const PUBLIC_URL = 'https://callvault.test';
const CLIENT_ID = 'callvault';
const CLIENT_SECRET = 'a client secret only this test knows, long enough for HS256';
const MFA_ACR = 'urn:example:loa:mfa';

/**
 * The provider's accounts, by the login typed on its login page (= `sub`). What the account's
 * claims() say about authentication (amr, acr) is also what its login session records, so it is
 * what the ID token carries.
 */
const ACCOUNTS: Record<string, { amr?: string[]; acr?: string }> = {
  alice: { amr: ['pwd', 'otp'] },
  mallory: { amr: ['pwd', 'otp'] },
  bob: { amr: ['pwd'] },
  carol: { amr: ['pwd'], acr: MFA_ACR },
  dave: { amr: ['pwd', 'hwk'] },
  // one factor only: a code from an authenticator, without a password (issue 16, item 7)
  erin: { amr: ['otp'] },
};

let idp: Server;
let issuer: string;
let server: TestServer;
const users: Record<string, string> = {};

before(async () => {
  // the provider's port must be known before it is configured, so listen first and attach it after
  idp = createServer();
  await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(idp.address() as { port: number }).port}`;
  const oidcProviderModule = 'oidc-provider';
  const { Provider } = (await import(oidcProviderModule)) as { Provider: new (issuer: string, config: object) => any };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [`${PUBLIC_URL}/api/v1/auth/oidc/example/callback`, `${PUBLIC_URL}/api/v1/auth/oidc/lenient/callback`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    async findAccount(_ctx: unknown, sub: string) {
      const account = ACCOUNTS[sub];
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...account }) };
    },
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    acrValues: [MFA_ACR],
    // by default oidc-provider puts neither acr nor amr into ID tokens; real providers do (Entra ID,
    // Keycloak, Okta), so the openid scope carries them here
    claims: { openid: ['sub', 'acr', 'amr'], acr: null, amr: null, auth_time: null, sid: null, iss: null },
    ttl: { AccessToken: 600, IdToken: 600, AuthorizationCode: 60, Interaction: 600, Session: 600, Grant: 600 },
    cookies: { keys: ['oidc test cookie key'] },
  });
  // oidc-provider takes amr/acr for the ID token from the login session, overriding what claims()
  // says; the development login page records only the account id, so its login result is given
  // the account's amr/acr here (without this, no ID token would show MFA)
  const finished = provider.interactionFinished.bind(provider);
  provider.interactionFinished = (req: unknown, res: unknown, result: any, options: unknown) => {
    const account = result?.login ? ACCOUNTS[result.login.accountId] : undefined;
    return finished(req, res, account ? { ...result, login: { ...result.login, amr: account.amr, acr: account.acr } } : result, options);
  };
  idp.on('request', provider.callback());

  const common = { issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectBaseUrl: PUBLIC_URL, execute: [allowInsecureRequests] };
  server = await startTestServer({
    oidc: [
      { id: 'example', label: 'Example Health IdP', ...common, mfaAcrValues: [MFA_ACR] },
      { id: 'lenient', ...common, requireMfa: false },
    ],
  });
  for (const [login, username, disabled] of [
    ['alice', 'alice-oidc', false],
    ['bob', 'bob-oidc', false],
    ['carol', 'carol-oidc', false],
    ['dave', 'dave-oidc', true],
    ['erin', 'erin-oidc', false],
  ] as const) {
    const created = await createUser(server.vault, { username, role: 'nurse', controllerId: 'region-a', agent: `agent-${login}`, oidc: { issuer, subject: login } });
    if (disabled) await server.vault.users.update(created.id, { disabled: 1 });
    users[login] = created.id;
  }
});

after(async () => {
  await server?.close();
  idp?.closeAllConnections();
  await new Promise<void>((resolve) => (idp ? idp.close(() => resolve()) : resolve()));
});

interface Page {
  url: URL;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  setCookies: string[];
  text: string;
}

/** A browser by hand: explicit redirects, a cookie jar per origin (name and path), no JavaScript. */
class Browser {
  readonly jars = new Map<string, Map<string, { name: string; value: string; path: string }>>();

  constructor(readonly cv: TestServer) {}

  cookie(origin: string, name: string): string | undefined {
    for (const c of this.jars.get(this.#origin(new URL(origin)))?.values() ?? []) if (c.name === name) return c.value;
    return undefined;
  }

  setCookie(origin: string, name: string, value: string, path = '/'): void {
    const key = this.#origin(new URL(origin));
    if (!this.jars.has(key)) this.jars.set(key, new Map());
    this.jars.get(key)!.set(`${name};${path}`, { name, value, path });
  }

  async go(url: URL, form?: Record<string, string>): Promise<Page> {
    const origin = this.#origin(url);
    // https://callvault.test is callvault's public name: deliver to the test server
    const target = origin === 'callvault' ? new URL(url.pathname + url.search, this.cv.url) : url;
    const jar = this.jars.get(origin) ?? new Map();
    this.jars.set(origin, jar);
    const headers: Record<string, string> = {};
    const cookies = [...jar.values()].filter((c) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`));
    if (cookies.length) headers.cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    let body: string | undefined;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    }
    const res = await undiciRequest(target, {
      method: form ? 'POST' : 'GET',
      headers,
      body,
      dispatcher: origin === 'callvault' ? (this.cv.dispatcher as Dispatcher) : undefined,
    });
    const text = await res.body.text();
    const raw = res.headers['set-cookie'];
    const setCookies = Array.isArray(raw) ? raw : raw ? [raw] : [];
    for (const line of setCookies) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      const path = attrs.find((a) => /^path=/i.test(a))?.slice(5) || '/';
      const expired = attrs.some((a) => /^max-age=0$/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) <= Date.now()));
      if (expired || value === '') jar.delete(`${name};${path}`);
      else jar.set(`${name};${path}`, { name, value, path });
    }
    return { url, status: res.statusCode, headers: res.headers, setCookies, text };
  }

  #origin(url: URL): string {
    return url.origin === PUBLIC_URL || url.origin === this.cv.url ? 'callvault' : url.origin;
  }
}

const location = (page: Page) => new URL(String(page.headers.location), page.url);

/**
 * Starts a sign-in at callvault and goes through the provider's login and consent pages as `login`
 * (or aborts at the login page); stops just before the provider's redirect back to callvault and
 * answers that redirect's URL, so a test can interfere before delivering it.
 */
async function toCallback(browser: Browser, provider: string, login: string, options: { abort?: boolean } = {}): Promise<{ start: Page; callback: URL }> {
  const start = await browser.go(new URL(`${PUBLIC_URL}/api/v1/auth/oidc/${provider}/start`));
  assert.equal(start.status, 302, start.text);
  let page = await browser.go(location(start));
  for (let step = 0; step < 20; step += 1) {
    if (page.status === 302 || page.status === 303) {
      const next = location(page);
      if (next.origin === PUBLIC_URL) return { start, callback: next };
      page = await browser.go(next);
      continue;
    }
    assert.equal(page.status, 200, `the provider answered ${page.status}: ${page.text.slice(0, 500)}`);
    const action = /<form[^>]*action="([^"]+)"/.exec(page.text)?.[1];
    assert.ok(action, `no form on the provider's page: ${page.text.slice(0, 500)}`);
    const fields: Record<string, string> = {};
    for (const input of page.text.matchAll(/<input[^>]*type="hidden"[^>]*>/g)) {
      const name = /name="([^"]*)"/.exec(input[0])?.[1];
      if (name) fields[name] = /value="([^"]*)"/.exec(input[0])?.[1] ?? '';
    }
    const submit = new URL(action.replace(/&amp;/g, '&'), page.url);
    if (fields.prompt === 'login') {
      if (options.abort) {
        page = await browser.go(new URL(`${submit.pathname}/abort`, submit));
        continue;
      }
      fields.login = login;
      fields.password = 'any password: the development login page takes any';
    }
    page = await browser.go(submit, fields);
  }
  throw new Error('the provider did not send the browser back');
}

async function signInEvents(): Promise<any[]> {
  const size = await server.vault.audit.size();
  return (await server.vault.audit.entries(0, size)).map((e) => JSON.parse(e.entry.toString('utf8'))).filter((e) => e.action === 'auth.signin');
}

/** the auth.signin entries appended while `fn` ran */
async function auditedDuring<T>(fn: () => Promise<T>): Promise<{ result: T; events: any[] }> {
  const before = (await signInEvents()).length;
  const result = await fn();
  return { result, events: (await signInEvents()).slice(before) };
}

function sessionCookieSet(page: Page): boolean {
  return page.setCookies.some((c) => /^__Host-callvault=[^;]/.test(c));
}

test('the providers are listed publicly, by id and label only', async () => {
  const res = await new Client(server).get('/api/v1/auth/oidc/providers');
  assert.equal(res.status, 200);
  assert.deepEqual(res.json, {
    providers: [
      { id: 'example', label: 'Example Health IdP' },
      { id: 'lenient', label: 'lenient' },
    ],
  });
  assert.ok(!res.body.toString().includes(CLIENT_SECRET));
});

test('start redirects to the provider with PKCE S256, state and nonce, and sets a sealed, short-lived Lax state cookie', async () => {
  const browser = new Browser(server);
  const start = await browser.go(new URL(`${PUBLIC_URL}/api/v1/auth/oidc/example/start`));
  assert.equal(start.status, 302);
  assert.equal(start.headers['cache-control'], 'no-store');
  const to = location(start);
  assert.equal(to.origin, issuer);
  const p = to.searchParams;
  assert.equal(p.get('client_id'), CLIENT_ID);
  assert.equal(p.get('response_type'), 'code');
  assert.equal(p.get('scope'), 'openid');
  assert.equal(p.get('redirect_uri'), `${PUBLIC_URL}/api/v1/auth/oidc/example/callback`);
  assert.equal(p.get('code_challenge_method'), 'S256');
  assert.match(p.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
  assert.ok(p.get('state') && p.get('nonce'));
  const cookie = start.setCookies.find((c) => c.startsWith('__Host-callvault-oidc='));
  assert.ok(cookie, 'a state cookie');
  assert.match(cookie, /; HttpOnly/i);
  assert.match(cookie, /; Secure/i);
  assert.match(cookie, /; SameSite=Lax/i);
  assert.match(cookie, /; Path=\//i);
  assert.match(cookie, /; Max-Age=600/i);
  // sealed: neither the state nor the nonce can be read from it
  const value = browser.cookie(PUBLIC_URL, '__Host-callvault-oidc')!;
  const decoded = Buffer.from(value, 'base64url').toString('latin1');
  assert.ok(!decoded.includes(p.get('state')!) && !decoded.includes(p.get('nonce')!));
  assert.ok(!sessionCookieSet(start));
});

test('a provisioned user signs in with MFA at the provider and gets a session', async () => {
  const browser = new Browser(server);
  const { result: callback, events } = await auditedDuring(async () => {
    const { callback } = await toCallback(browser, 'example', 'alice');
    assert.equal(callback.pathname, '/api/v1/auth/oidc/example/callback');
    assert.ok(callback.searchParams.get('code'));
    return browser.go(callback);
  });
  assert.equal(callback.status, 302, callback.text);
  assert.equal(callback.headers.location, '/');
  assert.ok(sessionCookieSet(callback));
  const session = callback.setCookies.find((c) => c.startsWith('__Host-callvault='))!;
  assert.match(session, /; HttpOnly/i);
  assert.match(session, /; Secure/i);
  assert.match(session, /; SameSite=Strict/i);
  // the state cookie is used up
  assert.ok(callback.setCookies.some((c) => /^__Host-callvault-oidc=;/.test(c)));
  assert.equal(browser.cookie(PUBLIC_URL, '__Host-callvault-oidc'), undefined);

  const client = new Client(server);
  client.cookie = browser.cookie(PUBLIC_URL, '__Host-callvault');
  const res = await client.get('/api/v1/auth/session');
  assert.equal(res.status, 200, res.body.toString());
  assert.equal(res.json.user.id, users.alice);
  assert.equal(res.json.user.username, 'alice-oidc');
  assert.equal(res.json.user.role, 'nurse');

  assert.equal(events.length, 1);
  const [event] = events;
  assert.equal(event.outcome, 'success');
  assert.deepEqual(event.actor, { type: 'user', id: users.alice, name: 'alice-oidc', role: 'nurse' });
  assert.deepEqual(event.detail, { method: 'oidc', provider: 'example', mfa: 'amr:otp+pwd' });
  assert.equal(event.ip, '127.0.0.1');
});

test('an unknown subject is refused and gets no session', async () => {
  const browser = new Browser(server);
  const { result: callback, events } = await auditedDuring(async () => browser.go((await toCallback(browser, 'example', 'mallory')).callback));
  assert.equal(callback.status, 401);
  assert.equal(JSON.parse(callback.text).error.code, 'CV_SIGNIN_FAILED');
  assert.ok(!sessionCookieSet(callback));
  assert.equal(browser.cookie(PUBLIC_URL, '__Host-callvault'), undefined);
  // the state cookie is used up on a refusal too
  assert.ok(callback.setCookies.some((c) => /^__Host-callvault-oidc=;/.test(c)));
  // nothing from the provider's answer comes back
  assert.ok(!callback.text.includes('mallory'));
  assert.equal(events.length, 1);
  assert.equal(events[0].outcome, 'failure');
  assert.deepEqual(events[0].actor, { type: 'anonymous' });
  assert.deepEqual(events[0].detail, { method: 'oidc', provider: 'example', step: 'callback', reason: 'no-account' });
  assert.ok(!JSON.stringify(events[0]).includes('mallory'), 'the unknown subject is not logged');
});

test('a tampered state cookie is refused, and so is a callback without one', async () => {
  const browser = new Browser(server);
  const { callback } = await toCallback(browser, 'example', 'alice');
  const value = browser.cookie(PUBLIC_URL, '__Host-callvault-oidc')!;
  const i = Math.floor(value.length / 2);
  const tampered = value.slice(0, i) + (value[i] === 'A' ? 'B' : 'A') + value.slice(i + 1);
  browser.setCookie(PUBLIC_URL, '__Host-callvault-oidc', tampered);
  const { result: res, events } = await auditedDuring(() => browser.go(callback));
  assert.equal(res.status, 401);
  assert.equal(JSON.parse(res.text).error.code, 'CV_SIGNIN_FAILED');
  assert.ok(!sessionCookieSet(res));
  assert.deepEqual(
    events.map((e) => [e.outcome, e.detail.reason]),
    [['failure', 'state']],
  );
  assert.equal(events[0].detail.method, 'oidc');

  // a fresh sign-in whose callback arrives in a browser that did not start it
  const other = new Browser(server);
  const second = await toCallback(other, 'example', 'alice');
  const elsewhere = new Browser(server);
  const { result: res2, events: events2 } = await auditedDuring(() => elsewhere.go(second.callback));
  assert.equal(res2.status, 401);
  assert.ok(!sessionCookieSet(res2));
  assert.deepEqual(
    events2.map((e) => [e.outcome, e.detail.method, e.detail.reason]),
    [['failure', 'oidc', 'state']],
  );
});

test('a state cookie from another sign-in does not fit; a callback is good once', async () => {
  const browser = new Browser(server);
  const first = await toCallback(browser, 'example', 'alice');
  const firstCookie = browser.cookie(PUBLIC_URL, '__Host-callvault-oidc')!;
  await toCallback(browser, 'example', 'alice');
  // the first callback with the second sign-in's cookie: the state does not match
  const { result: res, events } = await auditedDuring(() => browser.go(first.callback));
  assert.equal(res.status, 401);
  assert.ok(!sessionCookieSet(res));
  assert.deepEqual(
    events.map((e) => [e.detail.method, e.detail.reason]),
    [['oidc', 'state']],
  );
  // with its own cookie the first callback still works: the code was not spent on the refusal
  browser.setCookie(PUBLIC_URL, '__Host-callvault-oidc', firstCookie);
  const ok = await browser.go(first.callback);
  assert.equal(ok.status, 302, ok.text);
  assert.ok(sessionCookieSet(ok));
  // replayed (cookie and all), the provider refuses the spent code
  browser.setCookie(PUBLIC_URL, '__Host-callvault-oidc', firstCookie);
  const { result: replay, events: replayEvents } = await auditedDuring(() => browser.go(first.callback));
  assert.equal(replay.status, 401);
  assert.ok(!sessionCookieSet(replay));
  assert.deepEqual(
    replayEvents.map((e) => [e.outcome, e.detail.reason, e.detail.providerError]),
    [['failure', 'token', 'invalid_grant']],
  );
});

test('without an MFA claim the sign-in is refused when the provider requires MFA', async () => {
  const browser = new Browser(server);
  const { result: res, events } = await auditedDuring(async () => browser.go((await toCallback(browser, 'example', 'bob')).callback));
  assert.equal(res.status, 401);
  assert.equal(JSON.parse(res.text).error.code, 'CV_SIGNIN_FAILED');
  assert.match(JSON.parse(res.text).error.message, /multi-factor/);
  assert.ok(!sessionCookieSet(res));
  assert.equal(events.length, 1);
  assert.equal(events[0].outcome, 'failure');
  assert.equal(events[0].actor.id, users.bob);
  assert.deepEqual(events[0].detail, { method: 'oidc', provider: 'example', step: 'callback', reason: 'mfa' });
});

test('an amr of one factor alone (otp) is not MFA: the sign-in is refused', async () => {
  const browser = new Browser(server);
  const { result: res, events } = await auditedDuring(async () => browser.go((await toCallback(browser, 'example', 'erin')).callback));
  assert.equal(res.status, 401, res.text);
  assert.ok(!sessionCookieSet(res));
  assert.deepEqual(
    events.map((e) => [e.outcome, e.actor.id, e.detail.reason]),
    [['failure', users.erin, 'mfa']],
  );
});

test('MFA by amr needs two factors of different kinds (RFC 8176), or mfa; by acr, one the operator named', () => {
  const provider = { mfaAcrValues: [MFA_ACR] };
  const cases: [unknown, string | undefined][] = [
    [{ amr: ['otp'] }, undefined],
    [{ amr: ['sms'] }, undefined],
    [{ amr: ['swk'] }, undefined],
    [{ amr: ['hwk'] }, undefined],
    [{ amr: ['pop'] }, undefined],
    [{ amr: ['fido'] }, undefined],
    [{ amr: ['pwd'] }, undefined],
    // two of one kind: two things known, two things held
    [{ amr: ['pwd', 'pin'] }, undefined],
    [{ amr: ['otp', 'sms'] }, undefined],
    [{ amr: ['hwk', 'swk'] }, undefined],
    // values that are not factors
    [{ amr: ['otp', 'user'] }, undefined],
    [{ amr: ['otp', 'rba', 'geo', 'mca'] }, undefined],
    [{ amr: ['otp', 'otp'] }, undefined],
    [{ amr: 'pwd otp' }, undefined],
    [{ amr: ['pwd', 'otp'] }, 'amr:otp+pwd'],
    [{ amr: ['hwk', 'pin'] }, 'amr:hwk+pin'],
    [{ amr: ['hwk', 'fpt'] }, 'amr:fpt+hwk'],
    [{ amr: ['pwd', 'sms', 'otp'] }, 'amr:otp+pwd+sms'],
    [{ amr: ['mfa'] }, 'amr:mfa'],
    [{ amr: ['otp'], acr: MFA_ACR }, 'acr'],
    [{ amr: ['otp'], acr: 'urn:example:loa:low' }, undefined],
    [{ acr: MFA_ACR }, 'acr'],
  ];
  for (const [claims, expected] of cases) assert.equal(mfaShown(provider, claims as Record<string, unknown>), expected, JSON.stringify(claims));
  assert.equal(mfaShown({ requireMfa: false }, { amr: ['otp'] }), 'not-required');
});

test('a provider configured with requireMfa: false lets the same account in', async () => {
  const browser = new Browser(server);
  const { result: res, events } = await auditedDuring(async () => browser.go((await toCallback(browser, 'lenient', 'bob')).callback));
  assert.equal(res.status, 302, res.text);
  assert.ok(sessionCookieSet(res));
  assert.deepEqual(
    events.map((e) => [e.outcome, e.actor.id, e.detail.provider, e.detail.mfa]),
    [['success', users.bob, 'lenient', 'not-required']],
  );
});

test('an acr listed in mfaAcrValues counts as MFA', async () => {
  const browser = new Browser(server);
  const { result: res, events } = await auditedDuring(async () => browser.go((await toCallback(browser, 'example', 'carol')).callback));
  assert.equal(res.status, 302, res.text);
  assert.ok(sessionCookieSet(res));
  assert.deepEqual(
    events.map((e) => [e.outcome, e.actor.id, e.detail.mfa]),
    [['success', users.carol, 'acr']],
  );
});

test('a disabled account is refused', async () => {
  const browser = new Browser(server);
  const { result: res, events } = await auditedDuring(async () => browser.go((await toCallback(browser, 'example', 'dave')).callback));
  assert.equal(res.status, 401);
  assert.ok(!sessionCookieSet(res));
  assert.deepEqual(
    events.map((e) => [e.outcome, e.actor.id, e.detail.method, e.detail.reason]),
    [['failure', users.dave, 'oidc', 'disabled']],
  );
});

test('a sign-in the user abandons at the provider is refused and audited with the OAuth error', async () => {
  const browser = new Browser(server);
  const { result: res, events } = await auditedDuring(async () => browser.go((await toCallback(browser, 'example', 'alice', { abort: true })).callback));
  assert.equal(res.status, 401);
  assert.ok(!sessionCookieSet(res));
  assert.deepEqual(
    events.map((e) => [e.outcome, e.detail.method, e.detail.reason, e.detail.providerError]),
    [['failure', 'oidc', 'provider-error', 'access_denied']],
  );
});

test('an unknown provider is 404 and audited', async () => {
  const { result: res, events } = await auditedDuring(() => new Client(server).get('/api/v1/auth/oidc/nobody/start'));
  assert.equal(res.status, 404);
  assert.deepEqual(
    events.map((e) => [e.outcome, e.detail.method, e.detail.provider, e.detail.reason]),
    [['failure', 'oidc', 'nobody', 'unknown-provider']],
  );
});

test('the routes are in the OpenAPI document', async () => {
  const res = await new Client(server).get('/api/docs/json');
  assert.equal(res.status, 200);
  const paths = res.json.paths;
  assert.ok(paths['/api/v1/auth/oidc/providers'].get.responses['200']);
  assert.ok(paths['/api/v1/auth/oidc/{provider}/start'].get.responses['302']);
  const callback = paths['/api/v1/auth/oidc/{provider}/callback'].get;
  assert.ok(callback.responses['302'].headers.location);
  assert.ok(callback.parameters.some((p: any) => p.in === 'query' && p.name === 'code'));
});

test('serve reads DATA/oidc.json: absent is none, group/world access and bad entries are usage errors', async () => {
  const dir = await tempDir('out', 'oidc-config');
  assert.deepEqual(await loadOidcProviders(dir), []);
  const file = join(dir, 'oidc.json');
  const good = [
    {
      id: 'region-idp',
      label: 'Region IdP',
      issuer: 'https://idp.example.org/realms/region',
      clientId: 'callvault',
      clientSecret: 's3cret',
      redirectBaseUrl: 'https://callvault.example.org',
      mfaAcrValues: ['gold'],
    },
  ];
  await writeFile(file, JSON.stringify(good));
  await chmod(file, 0o644);
  await assert.rejects(loadOidcProviders(dir), (err: any) => err.code === 'CV_USAGE' && /chmod 600/.test(err.message));
  await chmod(file, 0o640);
  await assert.rejects(loadOidcProviders(dir), (err: any) => err.code === 'CV_USAGE');
  await chmod(file, 0o600);
  assert.deepEqual(await loadOidcProviders(dir), good);
  const refused = async (entries: unknown, pattern: RegExp) => {
    await writeFile(file, typeof entries === 'string' ? entries : JSON.stringify(entries));
    await assert.rejects(loadOidcProviders(dir), (err: any) => err.code === 'CV_USAGE' && pattern.test(err.message) && !err.message.includes('s3cret'));
  };
  await refused('{not json', /not valid JSON/);
  await refused({ id: 'x' }, /array/);
  await refused([{ ...good[0], issuer: 'http://idp.example.org' }], /issuer/);
  await refused([{ ...good[0], redirectBaseUrl: undefined }], /redirectBaseUrl/);
  await refused([{ ...good[0], redirectBaseUrl: 'https://callvault.example.org/vault' }], /redirectBaseUrl/);
  await refused([{ ...good[0], clientSecret: '' }], /clientSecret/);
  await refused([{ ...good[0], id: 'Region IdP' }], /id/);
  await refused([good[0], good[0]], /twice/);
  await refused([{ ...good[0], execute: [] }], /unknown field "execute"/);
  await refused([{ ...good[0], requireMfa: 'no' }], /requireMfa/);
});
