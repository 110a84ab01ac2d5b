/**
 * Who may call what: every route the server registers, called by every kind of caller, against
 * a table of expected statuses written out by hand. The table is an independent statement of the
 * access rules (docs and src/policy/policy.ts say the same in prose and code); it does not ask the
 * policy module. A route the OpenAPI document lists without a row here fails the first test.
 * A second hand-written table (AUDITED) states which audit entries each call adds, success and
 * denial alike; the entries the log gained are read back after every call and compared.
 *
 * The world: controllers region-a and region-b; processor callco with a contract in force for
 * region-a (nurse, supervisor; region north), processor oldco whose contract with region-a has
 * ended. Recordings R1 region-a/north/a1, R2 region-a/north/a2, R3 region-a/south/a1,
 * R4 region-b/north/b1, each uploaded with a transcript, so each has a redacted rendition.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { allowInsecureRequests } from 'openid-client';
import { createToken } from '../../src/identities/tokens.js';
import { createUser } from '../../src/identities/users.js';
import { AdministrationService } from '../../src/services/administration.js';
import { RetentionService } from '../../src/services/retention.js';
import { WatchlistsService } from '../../src/services/watchlists.js';
import { AuditTrail } from '../../src/services/audit-trail.js';
import { operatorActor } from '../../src/services/actor.js';
import { currentPeriod } from '../../src/services/log-review.js';
import { addContract, addController, addProcessor } from '../../src/tenancy/tenancy.js';
import type { ContractRow } from '../../src/db/tenancy-repository.js';
import { Client, signedInUser, startTestServer, strongPassword, totp, upload, type Response, type TestServer, type TestUser } from './harness.js';
import { assertErrorAnswer, callVariants, db, ingestBody, type SyntheticCall } from './fixtures.js';
import { verboseJson } from '../fixtures/transcripts.js';
import { openStoredRecording } from '../../src/recordings/read.js';
import { findDataChunk, syntheticPersonnummer } from '../fixtures/audio.js';

const API = '/api/v1';
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

// ---------------------------------------------------------------------------------------------
// Callers, in the column order of the table

const CALLERS = [
  'anon', // no credentials at all
  'expired', // a session idle for 31 minutes
  'revoked', // a session signed out
  'nurseA', // region-a staff nurse, agent a1
  'supCallco', // callco supervisor, team t1 (agents a1, a2)
  'nurseCallco', // callco nurse, agent a2
  'nurseOldco', // oldco nurse, agent a1; oldco's contract has ended
  'nurseB', // region-b staff nurse, agent b1: a foreign tenant
  'dpoA', // region-a privacy officer
  'auditor',
  'admin',
  'token', // ingest token for region-a
  'tokenRevoked',
  'tokenExpired',
] as const;
type CallerName = (typeof CALLERS)[number];

interface Caller {
  name: CallerName;
  cookie?: string;
  csrf?: string;
  bearer?: string;
  user?: TestUser;
}

let server: TestServer;
/** serves only an OpenID discovery document: enough for the sign-in start to redirect */
let idp: Server;
let issuer: string;
let call: SyntheticCall;
let wavs: Buffer[];
/** the redacted rendition of each recording, read from the store */
const redacted = new Map<string, Buffer>();
const R: Record<'R1' | 'R2' | 'R3' | 'R4', string> = { R1: '', R2: '', R3: '', R4: '' };
const MISSING = randomUUID();
let callcoContract: ContractRow;
let spareContract: ContractRow;
let throwawayTokenId: string;
let victimId: string;
/** a legal hold placed on the host, for region-a's privacy officer to release */
let holdId = '';
/** persons marked protected: on the host (every controller), and for region-b only */
const protectedIds = { placed: '', regionB: '' };
/** four-eyes: accounts and contracts an administrator asked for, waiting for region-a's privacy officer */
const waiting = { user: '', user2: '', contract: '', contract2: '' };
let reviewPeriodId: string;
/** insider-misuse alerts: one about a callco nurse in region-a, one about region-b's nurse */
const alertIds = { a: randomUUID(), b: randomUUID() };
/** a sampled access of this month's log review, drawn by the auditor's row */
let reviewSampleId = '';
/** the period nurseA starts in the table, which she then ends */
let nurseAPeriodId = randomUUID();
const callers = new Map<CallerName, Caller>();
/** audio URLs from the access rows, by caller and recording */
const audioUrls = new Map<string, string>();

function clientOf(c: Caller): Client {
  // a fresh client per request: a sign-in answer must not replace the caller's own cookie
  const k = new Client(server);
  k.cookie = c.cookie;
  k.csrf = c.csrf;
  k.bearer = c.bearer;
  return k;
}

before(async () => {
  idp = createServer((req, res) => {
    if (req.url !== '/.well-known/openid-configuration') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['ES256'],
        code_challenge_methods_supported: ['S256'],
      }),
    );
  });
  await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(idp.address() as { port: number }).port}`;
  server = await startTestServer({
    controllerId: 'region-a',
    oidc: [
      {
        id: 'idp',
        label: 'Region IdP',
        issuer,
        clientId: 'callvault',
        clientSecret: 'a secret for the matrix test only',
        redirectBaseUrl: 'https://callvault.test',
        execute: [allowInsecureRequests],
      },
    ],
  });
  const vault = server.vault;
  const now = Date.now();
  await addController(vault, 'region-b', 'Region B');
  await addProcessor(vault, 'callco', 'Call Co');
  await addProcessor(vault, 'oldco', 'Old Co');
  await addProcessor(vault, 'spareco', 'Spare Co');
  callcoContract = await addContract(vault, {
    processorId: 'callco',
    controllerId: 'region-a',
    roles: ['nurse', 'supervisor'],
    regions: ['north'],
    validFrom: iso(now - DAY),
    validTo: iso(now + 30 * DAY),
  });
  await addContract(vault, { processorId: 'oldco', controllerId: 'region-a', roles: ['nurse', 'supervisor'], validFrom: iso(now - 60 * DAY), validTo: iso(now - DAY) });
  spareContract = await addContract(vault, { processorId: 'spareco', controllerId: 'region-a', roles: ['nurse'], validFrom: iso(now - DAY), validTo: iso(now + DAY) });

  // recordings: one real call, four byte-distinct copies
  ({ call, wavs } = await callVariants(11, 4));
  const tokenA = await createToken(vault, { name: 'recorder-a', scope: 'ingest', controllerId: 'region-a', days: 30 });
  const tokenB = await createToken(vault, { name: 'recorder-b', scope: 'ingest', controllerId: 'region-b', days: 30 });
  const ids = { caller: call.phone, personnummer: call.personnummer, direction: 'inbound' };
  const specs = [
    ['R1', tokenA.token, wavs[0]!, { agent: 'a1', region: 'north', startedAt: '2026-01-10T10:00:00Z' }],
    ['R2', tokenA.token, wavs[1]!, { agent: 'a2', region: 'north', startedAt: '2026-01-10T11:00:00Z' }],
    ['R3', tokenA.token, wavs[2]!, { agent: 'a1', region: 'south', startedAt: '2026-01-10T12:00:00Z' }],
    ['R4', tokenB.token, wavs[3]!, { agent: 'b1', region: 'north', startedAt: '2026-01-10T13:00:00Z' }],
  ] as const;
  for (const [name, token, wav, meta] of specs) {
    const res = await upload(server, token, wav, { ...ids, ...meta }, verboseJson(call).json, 'application/json');
    assert.equal(res.status, 201, `upload ${name}: ${JSON.stringify(res.json)}`);
    assert.equal(res.json.redaction, 'redacted');
    R[name] = res.json.id;
    const row = (await vault.recordings.get(res.json.id))!;
    const chunks: Buffer[] = [];
    for await (const c of (await openStoredRecording(vault, row, await vault.recordings.rendition(row.id))).read()) chunks.push(c);
    redacted.set(name, Buffer.concat(chunks));
    assert.equal(redacted.get(name)!.length, wav.length);
    assert.ok(!redacted.get(name)!.equals(wav));
  }

  const tokenRevoked = await createToken(vault, { name: 'recorder-revoked', scope: 'ingest', controllerId: 'region-a', days: 30 });
  assert.ok(await vault.sessions.revokeToken(tokenRevoked.id, new Date().toISOString()));
  const tokenExpired = await createToken(vault, { name: 'recorder-expired', scope: 'ingest', controllerId: 'region-a', days: 30 });
  await db(server)
    .updateTable('api_tokens')
    .set({ expires_at: iso(now - 60_000) })
    .where('id', '=', tokenExpired.id)
    .execute();
  throwawayTokenId = (await createToken(vault, { name: 'to-revoke', scope: 'ingest', controllerId: 'region-b', days: 1 })).id;

  // people
  const user = async (name: CallerName, spec: Parameters<typeof signedInUser>[1]) => {
    const u = await signedInUser(server, spec);
    callers.set(name, { name, cookie: u.client.cookie, csrf: u.client.csrf, user: u });
    return u;
  };
  callers.set('anon', { name: 'anon' });
  const expired = await user('expired', { role: 'nurse', controllerId: 'region-a', agent: 'a1' });
  await db(server)
    .updateTable('sessions')
    .set({ last_seen_at: iso(Date.now() - 31 * 60_000) })
    .where('user_id', '=', expired.id)
    .execute();
  const revoked = await user('revoked', { role: 'nurse', controllerId: 'region-a', agent: 'a1' });
  const cookie = revoked.client.cookie;
  assert.equal((await revoked.client.post(`${API}/auth/signout`)).status, 204);
  callers.get('revoked')!.cookie = cookie; // the browser kept the old cookie
  await user('nurseA', { role: 'nurse', controllerId: 'region-a', agent: 'a1' });
  await user('supCallco', { role: 'supervisor', processorId: 'callco', team: 't1' });
  await user('nurseCallco', { role: 'nurse', processorId: 'callco', agent: 'a2', team: 't1' });
  const teammate = await createUser(vault, { username: 'callco-a1', role: 'nurse', processorId: 'callco', agent: 'a1', team: 't1' });
  await user('nurseOldco', { role: 'nurse', processorId: 'oldco', agent: 'a1' });
  await user('nurseB', { role: 'nurse', controllerId: 'region-b', agent: 'b1' });
  await user('dpoA', { role: 'dpo', controllerId: 'region-a' });
  await user('auditor', { role: 'auditor' });
  await user('admin', { role: 'admin' });
  callers.set('token', { name: 'token', bearer: tokenA.token });
  callers.set('tokenRevoked', { name: 'tokenRevoked', bearer: tokenRevoked.token });
  callers.set('tokenExpired', { name: 'tokenExpired', bearer: tokenExpired.token });
  victimId = (await createUser(vault, { username: 'victim', role: 'nurse', controllerId: 'region-b', agent: 'v1' })).id;
  for (const key of ['user', 'user2'] as const) {
    waiting[key] = (await createUser(vault, { username: `waiting-${key}`, role: 'nurse', controllerId: 'region-a', agent: `w-${key}` })).id;
    await db(server).updateTable('users').set({ approval: 'pending', approval_request: 'create' }).where('id', '=', waiting[key]).execute();
  }
  holdId = (
    await new RetentionService(vault, new AuditTrail(vault.audit)).addHold(operatorActor('matrix'), { agent: 'nobody-yet', case: 'matrix-case', reason: 'a hold to release' })
  ).id;
  for (const [key, controller, who] of [
    ['a', 'region-a', 'nurseCallco'],
    ['b', 'region-b', 'nurseB'],
  ] as const) {
    const at = iso(now);
    await vault.alerts.insert({
      id: alertIds[key],
      rule: 'volume',
      severity: 'medium',
      user_id: callers.get(who)!.user!.id,
      username: who,
      role: 'nurse',
      controllers: controller,
      dedup_key: `volume|${key}|matrix`,
      state: 'open',
      created_at: at,
      updated_at: at,
      evidence: 'reached 50 calls today; the fixed defaults apply',
      evidence_facts: null,
      entries: '[]',
      recordings: '[]',
      outcome: null,
      note: null,
      resolved_by: null,
      resolved_at: null,
    });
  }
  protectedIds.placed = (
    await new WatchlistsService(vault, new AuditTrail(vault.audit)).protect(operatorActor('matrix'), { personnummer: syntheticPersonnummer(4343), reason: 'a mark to release' })
  ).id;
  protectedIds.regionB = randomUUID();
  await db(server)
    .insertInto('protected_subjects')
    .values({ id: protectedIds.regionB, reason: 'region-b only', created_by: 'cli:matrix', created_at: iso(now), released_at: null, released_by: null })
    .execute();
  await db(server)
    .insertInto('protected_digests')
    .values({ protected_id: protectedIds.regionB, controller_id: 'region-b', kind: 'personnummer', digest: 'ab'.repeat(32) })
    .execute();
  for (const key of ['contract', 'contract2'] as const) {
    waiting[key] = (await addContract(vault, { processorId: 'spareco', controllerId: 'region-a', roles: ['nurse'], validFrom: iso(now - DAY), validTo: iso(now + DAY) })).id;
    await db(server).updateTable('contracts').set({ approval: 'pending', approval_request: 'create' }).where('id', '=', waiting[key]).execute();
  }

  // a past break-the-glass period in region-a, waiting for review
  reviewPeriodId = randomUUID();
  await vault.grants.addBreakGlass({
    id: reviewPeriodId,
    user_id: teammate.id,
    controller_id: 'region-a',
    reason: 'an earlier emergency, waiting for review',
    started_at: iso(now - 2 * 3_600_000),
    expires_at: iso(now - 3_600_000),
    reviewed_at: null,
    reviewed_by: null,
    review_note: null,
  });
});

after(async () => {
  await server?.close();
  idp?.closeAllConnections();
  await new Promise<void>((resolve) => (idp ? idp.close(() => resolve()) : resolve()));
});

// ---------------------------------------------------------------------------------------------
// The table

interface RequestSpec {
  path: string;
  json?: unknown;
  body?: Buffer;
  headers?: Record<string, string>;
}

interface Row {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** the route as the OpenAPI document names it */
  route: string;
  /** which instance, when the route takes an id */
  on?: string;
  expect: readonly number[];
  send: (c: Caller) => RequestSpec | Promise<RequestSpec>;
  /** more checks on an answer that had the expected 2xx status; returns a problem or nothing */
  check?: (c: Caller, res: Response) => string | undefined;
}

function row(method: Row['method'], route: string, on: string | undefined, expect: readonly number[], send: Row['send'], check?: Row['check']): Row {
  assert.equal(expect.length, CALLERS.length, `${method} ${route} ${on ?? ''}: one status per caller`);
  return { method, route, on, expect, send, check };
}

const purpose = { purpose: 'quality-review' };
const original = { purpose: 'patient-follow-up', rendition: 'original' };
const rec = (name: keyof typeof R | 'missing') => (name === 'missing' ? MISSING : R[name]);
const wavOf = (name: keyof typeof R) => wavs[['R1', 'R2', 'R3', 'R4'].indexOf(name)]!;

/** the recordings each caller finds, when listing is allowed at all */
const LISTED: Partial<Record<CallerName, (keyof typeof R)[]>> = {
  nurseA: ['R1', 'R3'],
  supCallco: ['R1', 'R2'],
  nurseCallco: ['R2'],
  nurseOldco: [],
  nurseB: ['R4'],
  dpoA: ['R1', 'R2', 'R3'],
};

function listCheck(c: Caller, res: Response): string | undefined {
  const got = (res.json.recordings as { id: string }[]).map((r) => r.id).sort();
  const want = (LISTED[c.name] ?? []).map((n) => R[n]).sort();
  const name = (id: string) => Object.entries(R).find(([, v]) => v === id)?.[0] ?? id;
  return JSON.stringify(got) === JSON.stringify(want) ? undefined : `lists ${got.map(name).join(',') || 'nothing'}, expected ${want.map(name).join(',') || 'nothing'}`;
}

/** the identifiers as labels for every role: in clear only under a purpose stated for the original (identifiersCheck) */
const viewCheck = (name: keyof typeof R) => (_c: Caller, res: Response) =>
  res.json.id === R[name] && res.json.personnummer === '[PERSONNUMMER]' && res.json.caller === '[TELEFON]' ? undefined : `answered ${res.body.toString().slice(0, 200)}`;
const identifiersCheck = (_c: Caller, res: Response) =>
  res.json.personnummer === call.personnummer && res.json.caller === `+46${call.phone.replace(/\D/g, '').slice(1)}` ? undefined : `answered ${res.body.toString().slice(0, 200)}`;
const accessCheck = (name: keyof typeof R) => (c: Caller, res: Response) => {
  audioUrls.set(`${c.name}:${name}${res.json.rendition === 'original' ? ':original' : ''}`, res.json.audioUrl);
  return res.json.breakGlass === false && res.json.audioUrl.startsWith(`${API}/recordings/${R[name]}/audio?access=`) ? undefined : `answered ${res.body.toString()}`;
};
const bytesCheck = (name: keyof typeof R) => (_c: Caller, res: Response) => (res.body.equals(wavOf(name)) ? undefined : `served ${res.body.length} bytes that are not ${name}`);
const redactedCheck = (name: keyof typeof R) => (_c: Caller, res: Response) =>
  res.body.equals(redacted.get(name)!) ? undefined : `served ${res.body.length} bytes that are not ${name}'s redacted rendition`;
const transcriptCheck = (rendition: 'redacted' | 'original') => (_c: Caller, res: Response) => {
  const text = JSON.stringify(res.json.segments);
  const shows = text.includes(`${call.personnummer.slice(2, 4)} ${call.personnummer.slice(4, 6)}`);
  return res.json.rendition === rendition && shows === (rendition === 'original') && res.json.identifiers.length === 2
    ? undefined
    : `answered ${res.body.toString().slice(0, 300)}`;
};

const waveformCheck = (_c: Caller, res: Response) =>
  res.json.peaks.length > 100 && res.json.peaks.every((p: number) => p >= 0 && p <= 1) && res.json.peaks.some((p: number) => p > 0.05)
    ? undefined
    : `answered ${res.body.toString().slice(0, 300)}`;

/** the caller's own audio URL when their access step succeeded, else one stated by someone who may play it */
function audioUrl(c: Caller, name: keyof typeof R | 'missing', rendition: '' | ':original' = ''): string {
  if (name === 'missing') return `${API}/recordings/${MISSING}/audio?access=${randomUUID()}`;
  const own = audioUrls.get(`${c.name}:${name}${rendition}`);
  const reference = audioUrls.get(`${name === 'R4' ? 'nurseB' : 'dpoA'}:${name}${rendition}`);
  assert.ok(reference, `the reference access for ${name} succeeded`);
  return own ?? reference;
}

const transcriptUrl = (c: Caller, name: keyof typeof R, rendition: '' | ':original' = '') => audioUrl(c, name, rendition).replace('/audio?', '/transcript?');

const noSecretsIn =
  (...fields: string[]) =>
  (_c: Caller, res: Response) => {
    const text = res.body.toString();
    const found = fields.filter((f) => text.includes(f));
    return found.length ? `the answer names ${found.join(', ')}` : undefined;
  };

/** the administration service over the matrix's vault, as the operator on the host uses it */
const administration = () => new AdministrationService(server.vault, new AuditTrail(server.vault.audit));

let seq = 0;
const unique = (prefix: string, c: Caller) => `${prefix}-${c.name.toLowerCase()}-${++seq}`;

/**
 * The recording the erasure row erases: another person's call in region-a (north, a1), uploaded
 * when that row is first sent, so the rows before it never see it and the tests after it never
 * reach it. R1's audio with silence added, so its content hash is its own.
 */
const ERASABLE_PERSONNUMMER = syntheticPersonnummer(4242);
let erasable: Promise<string> | undefined;
let erasableId = '';
function erasableRecording(): Promise<string> {
  erasable ??= (async () => {
    const base = wavs[0]!;
    const { sizeAt, dataAt } = findDataChunk(base);
    const wav = Buffer.concat([base, Buffer.alloc(64)]);
    wav.writeUInt32LE(wav.length - 8, 4);
    wav.writeUInt32LE(wav.length - dataAt, sizeAt);
    const res = await upload(server, callers.get('token')!.bearer!, wav, { personnummer: ERASABLE_PERSONNUMMER, agent: 'a1', region: 'north' });
    assert.equal(res.status, 201, JSON.stringify(res.json));
    erasableId = res.json.id as string;
    return erasableId;
  })();
  return erasable;
}

const isZip = (_c: Caller, res: Response) =>
  res.headers['content-type'] === 'application/zip' && res.body.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))
    ? undefined
    : `answered ${res.headers['content-type']} ${res.body.subarray(0, 40).toString()}`;

// prettier-ignore
const ROWS: Row[] = [
  //                                                                 anon exp  rev  nrsA supC nrsC nrsO nrsB dpoA audr admn tok  tokR tokE
  // --- sign-in is public: every caller signs in a fresh account of their own; a bad bearer token is refused first
  row('POST', '/api/v1/auth/signin', undefined, [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401], async (c) => {
    const created = await createUser(server.vault, { username: unique('signin', c), role: 'nurse', controllerId: 'region-b' });
    return { path: `${API}/auth/signin`, json: { username: created.username, password: created.password, code: await totp(created.totpSecret), newPassword: strongPassword() } };
  }),
  // --- sign-in at an organisation's identity provider is public too; the callback without the state cookie its start set is refused
  row(
    'GET',
    '/api/v1/auth/oidc/providers',
    undefined,
    [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401],
    () => ({ path: `${API}/auth/oidc/providers` }),
    (_c, res) => (JSON.stringify(res.json) === JSON.stringify({ providers: [{ id: 'idp', label: 'Region IdP' }] }) ? undefined : `answered ${res.body.toString()}`),
  ),
  row(
    'GET',
    '/api/v1/auth/oidc/{provider}/start',
    'idp',
    [302, 302, 302, 302, 302, 302, 302, 302, 302, 302, 302, 302, 401, 401],
    () => ({ path: `${API}/auth/oidc/idp/start` }),
    (_c, res) => (String(res.headers.location).startsWith(`${issuer}/authorize?`) ? undefined : `redirects to ${res.headers.location}`),
  ),
  row('GET', '/api/v1/auth/oidc/{provider}/callback', 'no state', [401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401], () => ({
    path: `${API}/auth/oidc/idp/callback?code=abc&state=def&iss=${encodeURIComponent(issuer)}`,
  })),
  row(
    'GET',
    '/api/v1/auth/session',
    undefined,
    [401, 401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 403, 401, 401],
    () => ({ path: `${API}/auth/session` }),
    (c, res) => {
      if (res.json.user.id !== c.user?.id || res.json.csrfToken !== c.csrf) return "not the caller's own session";
      // what the web UI offers: the original only to nurses and privacy officers, playing only to those who reach recordings
      const original = ['nurseA', 'nurseCallco', 'nurseOldco', 'nurseB', 'dpoA'].includes(c.name);
      if (res.json.renditions.join() !== (original ? 'redacted,original' : 'redacted')) return `renditions ${res.json.renditions}`;
      const plays = !['auditor', 'admin'].includes(c.name);
      return res.json.permissions.includes('recording:play') === plays ? undefined : `permissions ${res.json.permissions}`;
    },
  ),

  // --- finding recordings
  row('GET', '/api/v1/recordings', undefined, [401, 401, 401, 200, 200, 200, 200, 200, 200, 403, 403, 403, 401, 401], () => ({ path: `${API}/recordings` }), listCheck),
  row(
    'POST',
    '/api/v1/recordings/search',
    'by personnummer',
    [401, 401, 401, 200, 200, 200, 200, 200, 200, 403, 403, 403, 401, 401],
    () => ({ path: `${API}/recordings/search`, json: { personnummer: call.personnummer } }),
    listCheck,
  ),

  // --- ingest: the token's only route; R1's bytes again, so a duplicate
  row(
    'POST',
    '/api/v1/recordings',
    'R1 again',
    [401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 403, 200, 401, 401],
    () => {
      const { body, contentType } = ingestBody(wavs[0]!, { agent: 'a1', region: 'north' });
      return { path: `${API}/recordings`, body, headers: { 'content-type': contentType } };
    },
    (_c, res) => (res.json.status === 'duplicate' && res.json.id === R.R1 ? undefined : `answered ${res.body.toString()}`),
  ),

  // --- one recording: out of scope answers exactly like a recording that does not exist
  row(
    'GET',
    '/api/v1/recordings/{id}',
    'R1',
    [401, 401, 401, 200, 200, 404, 404, 404, 200, 403, 403, 403, 401, 401],
    () => ({ path: `${API}/recordings/${rec('R1')}` }),
    viewCheck('R1'),
  ),
  row(
    'GET',
    '/api/v1/recordings/{id}',
    'R2',
    [401, 401, 401, 404, 200, 200, 404, 404, 200, 403, 403, 403, 401, 401],
    () => ({ path: `${API}/recordings/${rec('R2')}` }),
    viewCheck('R2'),
  ),
  row(
    'GET',
    '/api/v1/recordings/{id}',
    'R3',
    [401, 401, 401, 200, 404, 404, 404, 404, 200, 403, 403, 403, 401, 401],
    () => ({ path: `${API}/recordings/${rec('R3')}` }),
    viewCheck('R3'),
  ),
  row(
    'GET',
    '/api/v1/recordings/{id}',
    'R4',
    [401, 401, 401, 404, 404, 404, 404, 200, 404, 403, 403, 403, 401, 401],
    () => ({ path: `${API}/recordings/${rec('R4')}` }),
    viewCheck('R4'),
  ),
  row('GET', '/api/v1/recordings/{id}', 'missing', [401, 401, 401, 404, 404, 404, 404, 404, 404, 403, 403, 403, 401, 401], () => ({ path: `${API}/recordings/${rec('missing')}` })),

  // --- stating a purpose (the access step before playback)
  row(
    'POST',
    '/api/v1/recordings/{id}/access',
    'R1',
    [401, 401, 401, 201, 201, 404, 404, 404, 201, 403, 403, 403, 401, 401],
    () => ({ path: `${API}/recordings/${rec('R1')}/access`, json: purpose }),
    accessCheck('R1'),
  ),
  row(
    'POST',
    '/api/v1/recordings/{id}/access',
    'R2',
    [401, 401, 401, 404, 201, 201, 404, 404, 201, 403, 403, 403, 401, 401],
    () => ({ path: `${API}/recordings/${rec('R2')}/access`, json: purpose }),
    accessCheck('R2'),
  ),
  row(
    'POST',
    '/api/v1/recordings/{id}/access',
    'R3',
    [401, 401, 401, 201, 404, 404, 404, 404, 201, 403, 403, 403, 401, 401],
    () => ({ path: `${API}/recordings/${rec('R3')}/access`, json: purpose }),
    accessCheck('R3'),
  ),
  row(
    'POST',
    '/api/v1/recordings/{id}/access',
    'R4',
    [401, 401, 401, 404, 404, 404, 404, 201, 404, 403, 403, 403, 401, 401],
    () => ({ path: `${API}/recordings/${rec('R4')}/access`, json: purpose }),
    accessCheck('R4'),
  ),
  row('POST', '/api/v1/recordings/{id}/access', 'missing', [401, 401, 401, 404, 404, 404, 404, 404, 404, 403, 403, 403, 401, 401], () => ({
    path: `${API}/recordings/${rec('missing')}/access`,
    json: purpose,
  })),
  // the original, with identifiers: nurses and privacy officers only; a supervisor hears the redacted rendition
  row(
    'POST',
    '/api/v1/recordings/{id}/access',
    'R1 original',
    [401, 401, 401, 201, 403, 404, 404, 404, 201, 403, 403, 403, 401, 401],
    () => ({ path: `${API}/recordings/${rec('R1')}/access`, json: original }),
    accessCheck('R1'),
  ),
  row(
    'POST',
    '/api/v1/recordings/{id}/access',
    'R2 original',
    [401, 401, 401, 404, 403, 201, 404, 404, 201, 403, 403, 403, 401, 401],
    () => ({ path: `${API}/recordings/${rec('R2')}/access`, json: original }),
    accessCheck('R2'),
  ),
  row(
    'POST',
    '/api/v1/recordings/{id}/access',
    'R4 original',
    [401, 401, 401, 404, 404, 404, 404, 201, 404, 403, 403, 403, 401, 401],
    () => ({ path: `${API}/recordings/${rec('R4')}/access`, json: original }),
    accessCheck('R4'),
  ),

  // --- playback with the caller's own access, or (when they had none) someone else's
  row(
    'GET',
    '/api/v1/recordings/{id}/audio',
    'R1',
    [401, 401, 401, 200, 200, 404, 404, 404, 200, 403, 403, 403, 401, 401],
    (c) => ({ path: audioUrl(c, 'R1') }),
    redactedCheck('R1'),
  ),
  row(
    'GET',
    '/api/v1/recordings/{id}/audio',
    'R2',
    [401, 401, 401, 404, 200, 200, 404, 404, 200, 403, 403, 403, 401, 401],
    (c) => ({ path: audioUrl(c, 'R2') }),
    redactedCheck('R2'),
  ),
  row(
    'GET',
    '/api/v1/recordings/{id}/audio',
    'R3',
    [401, 401, 401, 200, 404, 404, 404, 404, 200, 403, 403, 403, 401, 401],
    (c) => ({ path: audioUrl(c, 'R3') }),
    redactedCheck('R3'),
  ),
  row(
    'GET',
    '/api/v1/recordings/{id}/audio',
    'R4',
    [401, 401, 401, 404, 404, 404, 404, 200, 404, 403, 403, 403, 401, 401],
    (c) => ({ path: audioUrl(c, 'R4') }),
    redactedCheck('R4'),
  ),
  row('GET', '/api/v1/recordings/{id}/audio', 'missing', [401, 401, 401, 404, 404, 404, 404, 404, 404, 403, 403, 403, 401, 401], (c) => ({ path: audioUrl(c, 'missing') })),
  // the supervisor holds no access to R1's original: the nurse's access URL is not theirs to use
  row(
    'GET',
    '/api/v1/recordings/{id}/audio',
    'R1 original',
    [401, 401, 401, 200, 400, 404, 404, 404, 200, 403, 403, 403, 401, 401],
    (c) => ({ path: audioUrl(c, 'R1', ':original') }),
    bytesCheck('R1'),
  ),
  row(
    'GET',
    '/api/v1/recordings/{id}/audio',
    'R4 original',
    [401, 401, 401, 404, 404, 404, 404, 200, 404, 403, 403, 403, 401, 401],
    (c) => ({ path: audioUrl(c, 'R4', ':original') }),
    bytesCheck('R4'),
  ),

  // --- the transcript of what the access was stated for: redacted unless it was the original
  row(
    'GET',
    '/api/v1/recordings/{id}/transcript',
    'R1',
    [401, 401, 401, 200, 200, 404, 404, 404, 200, 403, 403, 403, 401, 401],
    (c) => ({ path: transcriptUrl(c, 'R1') }),
    transcriptCheck('redacted'),
  ),
  row(
    'GET',
    '/api/v1/recordings/{id}/transcript',
    'R2 original',
    [401, 401, 401, 404, 400, 200, 404, 404, 200, 403, 403, 403, 401, 401],
    (c) => ({ path: transcriptUrl(c, 'R2', ':original') }),
    transcriptCheck('original'),
  ),
  row(
    'GET',
    '/api/v1/recordings/{id}/transcript',
    'R4',
    [401, 401, 401, 404, 404, 404, 404, 200, 404, 403, 403, 403, 401, 401],
    (c) => ({ path: transcriptUrl(c, 'R4') }),
    transcriptCheck('redacted'),
  ),
  row(
    'GET',
    '/api/v1/recordings/{id}/waveform',
    'R1',
    [401, 401, 401, 200, 200, 404, 404, 404, 200, 403, 403, 403, 401, 401],
    (c) => ({ path: transcriptUrl(c, 'R1').replace('/transcript?', '/waveform?') }),
    waveformCheck,
  ),
  row(
    'GET',
    '/api/v1/recordings/{id}/waveform',
    'R4',
    [401, 401, 401, 404, 404, 404, 404, 200, 404, 403, 403, 403, 401, 401],
    (c) => ({ path: transcriptUrl(c, 'R4').replace('/transcript?', '/waveform?') }),
    waveformCheck,
  ),

  // --- the identifiers in clear: under an access stated for the original only
  row(
    'GET',
    '/api/v1/recordings/{id}/identifiers',
    'R1 original',
    [401, 401, 401, 200, 400, 404, 404, 404, 200, 403, 403, 403, 401, 401],
    (c) => ({ path: audioUrl(c, 'R1', ':original').replace('/audio?', '/identifiers?') }),
    identifiersCheck,
  ),
  row('GET', '/api/v1/recordings/{id}/identifiers', 'R1', [401, 401, 401, 403, 403, 404, 404, 404, 403, 403, 403, 403, 401, 401], (c) => ({
    path: audioUrl(c, 'R1').replace('/audio?', '/identifiers?'),
  })),

  // --- export: privacy officers only
  row(
    'POST',
    '/api/v1/recordings/{id}/export',
    'R1',
    [401, 401, 401, 403, 403, 403, 403, 403, 200, 403, 403, 403, 401, 401],
    () => ({ path: `${API}/recordings/${rec('R1')}/export`, json: { purpose: 'subject-request' } }),
    redactedCheck('R1'),
  ),
  row(
    'POST',
    '/api/v1/recordings/{id}/export',
    'R2',
    [401, 401, 401, 403, 403, 403, 403, 403, 200, 403, 403, 403, 401, 401],
    () => ({ path: `${API}/recordings/${rec('R2')}/export`, json: { purpose: 'subject-request' } }),
    redactedCheck('R2'),
  ),
  row(
    'POST',
    '/api/v1/recordings/{id}/export',
    'R3',
    [401, 401, 401, 403, 403, 403, 403, 403, 200, 403, 403, 403, 401, 401],
    () => ({ path: `${API}/recordings/${rec('R3')}/export`, json: { purpose: 'subject-request' } }),
    redactedCheck('R3'),
  ),
  row(
    'POST',
    '/api/v1/recordings/{id}/export',
    'R1 original',
    [401, 401, 401, 403, 403, 403, 403, 403, 200, 403, 403, 403, 401, 401],
    () => ({ path: `${API}/recordings/${rec('R1')}/export`, json: { purpose: 'subject-request', rendition: 'original' } }),
    bytesCheck('R1'),
  ),
  row('POST', '/api/v1/recordings/{id}/export', 'R4', [401, 401, 401, 403, 403, 403, 403, 403, 404, 403, 403, 403, 401, 401], () => ({
    path: `${API}/recordings/${rec('R4')}/export`,
    json: { purpose: 'subject-request' },
  })),

  // --- a data subject's recordings, by the identifiers in their metadata and spoken in the calls: privacy officers, in their reach
  row(
    'POST',
    '/api/v1/subject/find',
    'by personnummer',
    [401, 401, 401, 403, 403, 403, 403, 403, 200, 403, 403, 403, 401, 401],
    () => ({ path: `${API}/subject/find`, json: { personnummer: call.personnummer } }),
    (_c, res) => {
      const got = (res.json.recordings as { id: string; foundIn: string[] }[]).map((r) => `${r.id}:${r.foundIn.join('+')}`).sort();
      const want = [R.R1, R.R2, R.R3].map((id) => `${id}:metadata+transcript`).sort();
      return JSON.stringify(got) === JSON.stringify(want) ? undefined : `found ${got.join(', ')}`;
    },
  ),
  row(
    'POST',
    '/api/v1/subject/export',
    'by personnummer',
    [401, 401, 401, 403, 403, 403, 403, 403, 200, 403, 403, 403, 401, 401],
    () => ({
      path: `${API}/subject/export`,
      json: { personnummer: call.personnummer, purposeText: 'Ärende DPO-2026-1 registerutdrag' },
    }),
    isZip,
  ),
  // the erasure destroys what it names: the recording of another person, uploaded for this row
  row(
    'POST',
    '/api/v1/subject/erase',
    'another person',
    [401, 401, 401, 403, 403, 403, 403, 403, 200, 403, 403, 403, 401, 401],
    async () => ({
      path: `${API}/subject/erase`,
      json: { personnummer: ERASABLE_PERSONNUMMER, recordingIds: [await erasableRecording()], reason: 'Art. 17-begäran, ärende DPO-2026-2' },
    }),
    (_c, res) => (JSON.stringify(res.json.erased) === JSON.stringify([erasableId]) ? undefined : `answered ${res.body.toString()}`),
  ),

  // --- the breach report: the privacy officer, for the controllers in reach only (R4 is region-b's)
  row(
    'POST',
    '/api/v1/breach/report',
    'every object',
    [401, 401, 401, 403, 403, 403, 403, 403, 200, 403, 403, 403, 401, 401],
    () => ({ path: `${API}/breach/report`, json: { blobPrefix: 'recordings/' } }),
    (_c, res) =>
      JSON.stringify(res.json.controllers?.map((c: { controllerId: string }) => c.controllerId)) === '["region-a"]' && res.json.controllers[0].exposure.level === 'ciphertext-only'
        ? undefined
        : `answered ${res.body.toString().slice(0, 300)}`,
  ),

  // --- key status (no key material): administrators and auditors
  row(
    'GET',
    '/api/v1/keys',
    undefined,
    [401, 401, 401, 403, 403, 403, 403, 403, 403, 200, 200, 403, 401, 401],
    () => ({ path: `${API}/keys` }),
    (_c, res) =>
      res.json.controllers?.length === 2 && !/publicKey|wrapped|sealed|private/i.test(res.body.toString()) ? undefined : `answered ${res.body.toString().slice(0, 300)}`,
  ),

  // --- administration: the admin role only
  row(
    'GET',
    '/api/v1/users',
    undefined,
    [401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 200, 403, 401, 401],
    () => ({ path: `${API}/users` }),
    noSecretsIn('password_hash', 'passwordHash', 'totp_secret', 'totpSecret'),
  ),
  row('POST', '/api/v1/users', undefined, [401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 201, 403, 401, 401], (c) => ({
    path: `${API}/users`,
    json: { username: unique('new', c), role: 'nurse', controllerId: 'region-b', agent: 'zz' },
  })),
  row('PATCH', '/api/v1/users/{id}', 'victim', [401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 200, 403, 401, 401], () => ({
    path: `${API}/users/${victimId}`,
    json: { hours: '07:00-17:00' },
  })),
  row('POST', '/api/v1/users/{id}/reset', 'victim', [401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 200, 403, 401, 401], () => ({ path: `${API}/users/${victimId}/reset` })),
  row('POST', '/api/v1/users/{id}/disable', 'victim', [401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 200, 403, 401, 401], () => ({ path: `${API}/users/${victimId}/disable` })),
  row('POST', '/api/v1/users/{id}/enable', 'victim', [401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 200, 403, 401, 401], () => ({ path: `${API}/users/${victimId}/enable` })),
  row(
    'GET',
    '/api/v1/tokens',
    undefined,
    [401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 200, 403, 401, 401],
    () => ({ path: `${API}/tokens` }),
    noSecretsIn('secret_hash', 'secretHash', 'cvt_'),
  ),
  row('POST', '/api/v1/tokens', undefined, [401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 201, 403, 401, 401], (c) => ({
    path: `${API}/tokens`,
    json: { name: unique('tok', c), scope: 'ingest', controllerId: 'region-b', days: 1 },
  })),
  row('DELETE', '/api/v1/tokens/{id}', 'throwaway', [401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 204, 403, 401, 401], () => ({ path: `${API}/tokens/${throwawayTokenId}` })),
  row('GET', '/api/v1/controllers', undefined, [401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 200, 403, 401, 401], () => ({ path: `${API}/controllers` })),
  row('POST', '/api/v1/controllers', undefined, [401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 201, 403, 401, 401], (c) => ({
    path: `${API}/controllers`,
    json: { id: unique('ctl', c), name: 'New controller' },
  })),
  row('GET', '/api/v1/processors', undefined, [401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 200, 403, 401, 401], () => ({ path: `${API}/processors` })),
  row('POST', '/api/v1/processors', undefined, [401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 201, 403, 401, 401], (c) => ({
    path: `${API}/processors`,
    json: { id: unique('proc', c), name: 'New processor' },
  })),
  row('GET', '/api/v1/contracts', undefined, [401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 200, 403, 401, 401], () => ({ path: `${API}/contracts` })),
  row('POST', '/api/v1/contracts', undefined, [401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 201, 403, 401, 401], () => ({
    path: `${API}/contracts`,
    json: { processorId: 'spareco', controllerId: 'region-b', roles: ['nurse'], regions: ['east'], validFrom: iso(Date.now() - DAY), validTo: iso(Date.now() + DAY) },
  })),
  row('POST', '/api/v1/contracts/{id}/end', 'spareco', [401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 200, 403, 401, 401], () => ({
    path: `${API}/contracts/${spareContract.id}/end`,
  })),

  // --- retention and legal holds: the controller's privacy officer
  row('GET', '/api/v1/retention', undefined, [401, 401, 401, 403, 403, 403, 403, 403, 200, 403, 403, 403, 401, 401], () => ({ path: `${API}/retention` })),
  row('PUT', '/api/v1/retention', undefined, [401, 401, 401, 403, 403, 403, 403, 403, 200, 403, 403, 403, 401, 401], () => ({
    path: `${API}/retention`,
    json: { controllerId: 'region-a', class: 'matrix', days: 3650 },
  })),
  row('POST', '/api/v1/recordings/{id}/class', 'R4', [401, 401, 401, 403, 403, 403, 403, 403, 404, 403, 403, 403, 401, 401], () => ({
    path: `${API}/recordings/${rec('R4')}/class`,
    json: { class: 'journal' },
  })),
  row('POST', '/api/v1/recordings/{id}/class', 'R2', [401, 401, 401, 403, 403, 403, 403, 403, 200, 403, 403, 403, 401, 401], () => ({
    path: `${API}/recordings/${rec('R2')}/class`,
    json: { class: 'journal' },
  })),
  row(
    'GET',
    '/api/v1/holds',
    undefined,
    [401, 401, 401, 403, 403, 403, 403, 403, 200, 403, 403, 403, 401, 401],
    () => ({ path: `${API}/holds` }),
    (_c, res) => (res.json.holds.some((h: { id: string }) => h.id === holdId) ? undefined : `answered ${res.body.toString().slice(0, 200)}`),
  ),
  row('POST', '/api/v1/holds', 'R4', [401, 401, 401, 403, 403, 403, 403, 403, 404, 403, 403, 403, 401, 401], () => ({
    path: `${API}/holds`,
    json: { recordingId: rec('R4'), case: 'matrix-case', reason: 'region-b is not region-a' },
  })),
  row('POST', '/api/v1/holds', 'R2', [401, 401, 401, 403, 403, 403, 403, 403, 201, 403, 403, 403, 401, 401], () => ({
    path: `${API}/holds`,
    json: { recordingId: rec('R2'), case: 'matrix-case', reason: 'a complaint about the call' },
  })),
  row('POST', '/api/v1/holds/{id}/release', 'placed', [401, 401, 401, 403, 403, 403, 403, 403, 200, 403, 403, 403, 401, 401], () => ({
    path: `${API}/holds/${holdId}/release`,
    json: { reason: 'the case is closed' },
  })),

  // --- insider-misuse alerts: auditors everywhere, a privacy officer within reach
  row('GET', '/api/v1/alerts', undefined, [401, 401, 401, 403, 403, 403, 403, 403, 200, 200, 403, 403, 401, 401], () => ({ path: `${API}/alerts?state=all` })),
  // region-a's privacy officer resolves it first; the auditor then finds it closed
  row('POST', '/api/v1/alerts/{id}/resolve', 'region-a', [401, 401, 401, 403, 403, 403, 403, 403, 200, 409, 403, 403, 401, 401], () => ({
    path: `${API}/alerts/${alertIds.a}/resolve`,
    json: { outcome: 'justified', note: 'a busy shift, agreed with her supervisor' },
  })),
  row('POST', '/api/v1/alerts/{id}/resolve', 'region-b', [401, 401, 401, 403, 403, 403, 403, 403, 404, 200, 403, 403, 401, 401], () => ({
    path: `${API}/alerts/${alertIds.b}/resolve`,
    json: { outcome: 'false-positive', note: 'the calls were her own follow-ups' },
  })),
  row('GET', '/api/v1/alert-settings/{controllerId}', 'region-a', [401, 401, 401, 403, 403, 403, 403, 403, 200, 200, 403, 403, 401, 401], () => ({
    path: `${API}/alert-settings/region-a`,
  })),
  row('GET', '/api/v1/alert-settings/{controllerId}', 'region-b', [401, 401, 401, 403, 403, 403, 403, 403, 404, 200, 403, 403, 401, 401], () => ({
    path: `${API}/alert-settings/region-b`,
  })),
  row('PUT', '/api/v1/alert-settings/{controllerId}', 'region-a', [401, 401, 401, 403, 403, 403, 403, 403, 200, 200, 403, 403, 401, 401], () => ({
    path: `${API}/alert-settings/region-a`,
    json: { volumeFactor: 5 },
  })),
  row('POST', '/api/v1/alerts/backtest', undefined, [401, 401, 401, 403, 403, 403, 403, 403, 200, 200, 403, 403, 401, 401], () => ({
    path: `${API}/alerts/backtest`,
    json: { from: iso(Date.now() - DAY), to: iso(Date.now() + 60_000) },
  })),

  // --- persons marked protected: the controller's privacy officer, within the controllers in reach
  row(
    'GET',
    '/api/v1/protected',
    undefined,
    [401, 401, 401, 403, 403, 403, 403, 403, 200, 403, 403, 403, 401, 401],
    () => ({ path: `${API}/protected` }),
    (_c, res) => {
      const ids = res.json.protected.map((p: { id: string }) => p.id);
      return ids.includes(protectedIds.placed) && !ids.includes(protectedIds.regionB) ? undefined : `answered ${res.body.toString().slice(0, 300)}`;
    },
  ),
  row(
    'POST',
    '/api/v1/protected',
    undefined,
    [401, 401, 401, 403, 403, 403, 403, 403, 201, 403, 403, 403, 401, 401],
    () => ({ path: `${API}/protected`, json: { personnummer: call.personnummer, reason: 'skyddad identitet' } }),
    (_c, res) => (JSON.stringify(res.json.controllers) === JSON.stringify(['region-a']) ? undefined : `answered ${res.body.toString()}`),
  ),
  row('POST', '/api/v1/protected/{id}/release', 'region-b', [401, 401, 401, 403, 403, 403, 403, 403, 404, 403, 403, 403, 401, 401], () => ({
    path: `${API}/protected/${protectedIds.regionB}/release`,
    json: { reason: 'not in reach' },
  })),
  row('POST', '/api/v1/protected/{id}/release', 'placed', [401, 401, 401, 403, 403, 403, 403, 403, 200, 403, 403, 403, 401, 401], () => ({
    path: `${API}/protected/${protectedIds.placed}/release`,
    json: { reason: 'no longer protected' },
  })),

  // --- four-eyes: what an administrator asked for waits for the controller's privacy officer
  row(
    'GET',
    '/api/v1/approvals',
    undefined,
    [401, 401, 401, 403, 403, 403, 403, 403, 200, 403, 403, 403, 401, 401],
    () => ({ path: `${API}/approvals` }),
    (_c, res) =>
      res.json.users.some((u: { id: string }) => u.id === waiting.user) && res.json.contracts.some((k: { id: string }) => k.id === waiting.contract)
        ? undefined
        : `answered ${res.body.toString().slice(0, 300)}`,
  ),
  row('POST', '/api/v1/users/{id}/approve', 'waiting', [401, 401, 401, 403, 403, 403, 403, 403, 200, 403, 403, 403, 401, 401], () => ({
    path: `${API}/users/${waiting.user}/approve`,
  })),
  row('POST', '/api/v1/users/{id}/refuse', 'waiting', [401, 401, 401, 403, 403, 403, 403, 403, 200, 403, 403, 403, 401, 401], () => ({
    path: `${API}/users/${waiting.user2}/refuse`,
  })),
  row('POST', '/api/v1/contracts/{id}/approve', 'waiting', [401, 401, 401, 403, 403, 403, 403, 403, 200, 403, 403, 403, 401, 401], () => ({
    path: `${API}/contracts/${waiting.contract}/approve`,
  })),
  row('POST', '/api/v1/contracts/{id}/refuse', 'waiting', [401, 401, 401, 403, 403, 403, 403, 403, 200, 403, 403, 403, 401, 401], () => ({
    path: `${API}/contracts/${waiting.contract2}/refuse`,
  })),
  // enrolment is public: every caller enrols a fresh account with its code (the first step, which shows the authenticator secret, done before)
  row('POST', '/api/v1/auth/enrol', undefined, [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401], async (c) => {
    const username = unique('enrol', c);
    const { enrolment } = await administration().createUser(operatorActor('matrix'), { username, role: 'auditor' });
    const first = await new Client(server).post(`${API}/auth/enrol`, { username, enrolmentCode: enrolment!.code });
    return { path: `${API}/auth/enrol`, json: { username, enrolmentCode: enrolment!.code, code: await totp(first.json.totpSecret), newPassword: strongPassword() } };
  }),

  // --- break-the-glass: nurses and supervisors start it for a controller they work for; privacy officers review
  row(
    'POST',
    '/api/v1/break-glass',
    'region-a',
    [401, 401, 401, 201, 201, 201, 403, 403, 403, 403, 403, 403, 401, 401],
    () => ({
      path: `${API}/break-glass`,
      json: { controllerId: 'region-a', reason: 'the patient is unconscious and the relative calls back', minutes: 5 },
    }),
    (c, res) => {
      if (c.name === 'nurseA') nurseAPeriodId = res.json.id;
      return undefined;
    },
  ),
  // only the one who started a period ends it; anyone else's is not found
  row(
    'POST',
    '/api/v1/break-glass/{id}/end',
    "nurseA's period",
    [401, 401, 401, 200, 404, 404, 404, 404, 403, 403, 403, 403, 401, 401],
    () => ({ path: `${API}/break-glass/${nurseAPeriodId}/end` }),
    (_c, res) => (res.json.expiresAt > new Date().toISOString() ? 'the period is still in force' : undefined),
  ),
  row(
    'GET',
    '/api/v1/break-glass',
    undefined,
    [401, 401, 401, 403, 403, 403, 403, 403, 200, 200, 403, 403, 401, 401],
    () => ({ path: `${API}/break-glass` }),
    (c, res) => {
      const periods = res.json.periods as { controllerId: string; id: string }[];
      if (!periods.some((p) => p.id === reviewPeriodId)) return 'the period to review is not listed';
      return c.name === 'dpoA' && periods.some((p) => p.controllerId !== 'region-a') ? "a privacy officer sees another controller's periods" : undefined;
    },
  ),
  row('POST', '/api/v1/break-glass/{id}/review', 'past period', [401, 401, 401, 403, 403, 403, 403, 403, 200, 403, 403, 403, 401, 401], () => ({
    path: `${API}/break-glass/${reviewPeriodId}/review`,
    json: { note: 'reviewed: justified' },
  })),

  // --- the audit log: auditors only
  row('GET', '/api/v1/audit/entries', undefined, [401, 401, 401, 403, 403, 403, 403, 403, 403, 200, 403, 403, 401, 401], () => ({ path: `${API}/audit/entries` })),
  row('GET', '/api/v1/audit/search', undefined, [401, 401, 401, 403, 403, 403, 403, 403, 403, 200, 403, 403, 401, 401], () => ({
    path: `${API}/audit/search?action=recording.&outcome=denied&limit=10`,
  })),
  row('GET', '/api/v1/audit/checkpoint', undefined, [401, 401, 401, 403, 403, 403, 403, 403, 403, 200, 403, 403, 401, 401], () => ({ path: `${API}/audit/checkpoint` })),
  row('GET', '/api/v1/audit/key', undefined, [401, 401, 401, 403, 403, 403, 403, 403, 403, 200, 403, 403, 401, 401], () => ({ path: `${API}/audit/key` })),
  row('GET', '/api/v1/audit/proof', undefined, [401, 401, 401, 403, 403, 403, 403, 403, 403, 200, 403, 403, 401, 401], () => ({ path: `${API}/audit/proof?index=0&size=1` })),
  row('GET', '/api/v1/audit/verify', undefined, [401, 401, 401, 403, 403, 403, 403, 403, 403, 200, 403, 403, 401, 401], () => ({ path: `${API}/audit/verify` })),
  row('GET', '/api/v1/audit/export', undefined, [401, 401, 401, 403, 403, 403, 403, 403, 403, 200, 403, 403, 401, 401], () => ({ path: `${API}/audit/export` })),
  row('POST', '/api/v1/audit/subject-access-log', undefined, [401, 401, 401, 403, 403, 403, 403, 403, 200, 200, 403, 403, 401, 401], () => ({
    path: `${API}/audit/subject-access-log`,
    json: { personnummer: '19121212-1212' },
  })),
  // --- the log review (loggkontroll): auditors only; the sample of this month is drawn once, by the auditor's row
  row(
    'POST',
    '/api/v1/audit/review/{period}/sample',
    'this month',
    [401, 401, 401, 403, 403, 403, 403, 403, 403, 201, 403, 403, 401, 401],
    () => ({ path: `${API}/audit/review/${currentPeriod()}/sample`, json: { count: 5 } }),
    (_c, res) => {
      reviewSampleId = res.json.samples?.[0]?.id ?? '';
      return res.json.samples?.length > 0 && res.json.seed ? undefined : `answered ${res.body.toString().slice(0, 300)}`;
    },
  ),
  row('GET', '/api/v1/audit/review/{period}', 'this month', [401, 401, 401, 403, 403, 403, 403, 403, 403, 200, 403, 403, 401, 401], () => ({
    path: `${API}/audit/review/${currentPeriod()}`,
  })),
  row('POST', '/api/v1/audit/review/{period}/samples/{id}', 'sampled', [401, 401, 401, 403, 403, 403, 403, 403, 403, 200, 403, 403, 401, 401], () => ({
    path: `${API}/audit/review/${currentPeriod()}/samples/${reviewSampleId || MISSING}`,
    json: { outcome: 'justified', note: 'her own call, follow-up' },
  })),
  row('GET', '/api/v1/audit/review/{period}/report', 'this month', [401, 401, 401, 403, 403, 403, 403, 403, 403, 200, 403, 403, 401, 401], () => ({
    path: `${API}/audit/review/${currentPeriod()}/report`,
  })),

  // --- own account; sign-out last, as it ends the session the rows above use
  row('POST', '/api/v1/auth/password', undefined, [401, 401, 401, 204, 204, 204, 204, 204, 204, 204, 204, 403, 401, 401], async (c) => ({
    path: `${API}/auth/password`,
    // a code newer than the sign-in's (which the change would refuse as used)
    json: { password: c.user?.password ?? 'not a password at all', newPassword: strongPassword(), code: c.user ? await totp(c.user.totpSecret, 1) : '000000' },
  })),
  row('POST', '/api/v1/auth/signout', undefined, [401, 401, 401, 204, 204, 204, 204, 204, 204, 204, 204, 403, 401, 401], () => ({ path: `${API}/auth/signout` })),
];

/**
 * What each call adds to the audit log, written out by hand like the statuses: per row, the
 * row's action and one cell per caller (same column order). A cell is `-` (nothing), or entries
 * joined by `+`, each `S`, `D` or `F` (the row's action with outcome success, denied or failure)
 * or `action:S|D|F`, with `*n` for n in a row. On top of its cell, every request with the valid
 * ingest token first adds `token.use` (success). A HEAD request adds what its GET adds.
 * A route that forgets an entry, or writes one it should not, fails the matrix.
 */
// prettier-ignore
const AUDITED: Record<string, [string, string]> = {
  //                                                                          anon exp rev nrsA supC nrsC nrsO nrsB dpoA audr admn tok tokR tokE
  'POST /api/v1/auth/signin': ['auth.signin', 'S S S S S S S S S S S S - -'],
  'GET /api/v1/auth/oidc/providers': ['', '- - - - - - - - - - - - - -'],
  'GET /api/v1/auth/oidc/{provider}/start [idp]': ['', '- - - - - - - - - - - - - -'],
  'GET /api/v1/auth/oidc/{provider}/callback [no state]': ['auth.signin', 'F F F F F F F F F F F F - -'],
  'GET /api/v1/auth/session': ['', '- - - - - - - - - - - - - -'],

  'GET /api/v1/recordings': ['recordings.list', '- - - S S S S S S D D D - -'],
  'POST /api/v1/recordings/search [by personnummer]': ['recordings.list', '- - - S S S S S S D D D - -'],
  'POST /api/v1/recordings [R1 again]': ['recording.ingest', '- - - D D D D D D D D S - -'],

  'GET /api/v1/recordings/{id} [R1]': ['recording.view', '- - - S S D D D S D D D - -'],
  'GET /api/v1/recordings/{id} [R2]': ['recording.view', '- - - D S S D D S D D D - -'],
  'GET /api/v1/recordings/{id} [R3]': ['recording.view', '- - - S D D D D S D D D - -'],
  'GET /api/v1/recordings/{id} [R4]': ['recording.view', '- - - D D D D S D D D D - -'],
  'GET /api/v1/recordings/{id} [missing]': ['recording.view', '- - - D D D D D D D D D - -'],

  // stating a purpose and using it need a signed-in person: a token is turned away before any policy decision
  'POST /api/v1/recordings/{id}/access [R1]': ['recording.access', '- - - S S D D D S D D - - -'],
  'POST /api/v1/recordings/{id}/access [R2]': ['recording.access', '- - - D S S D D S D D - - -'],
  'POST /api/v1/recordings/{id}/access [R3]': ['recording.access', '- - - S D D D D S D D - - -'],
  'POST /api/v1/recordings/{id}/access [R4]': ['recording.access', '- - - D D D D S D D D - - -'],
  'POST /api/v1/recordings/{id}/access [missing]': ['recording.access', '- - - D D D D D D D D - - -'],
  'POST /api/v1/recordings/{id}/access [R1 original]': ['recording.access', '- - - S D D D D S D D - - -'],
  'POST /api/v1/recordings/{id}/access [R2 original]': ['recording.access', '- - - D D S D D S D D - - -'],
  'POST /api/v1/recordings/{id}/access [R4 original]': ['recording.access', '- - - D D D D S D D D - - -'],

  'GET /api/v1/recordings/{id}/audio [R1]': ['recording.play', '- - - S S D D D S D D - - -'],
  'GET /api/v1/recordings/{id}/audio [R2]': ['recording.play', '- - - D S S D D S D D - - -'],
  'GET /api/v1/recordings/{id}/audio [R3]': ['recording.play', '- - - S D D D D S D D - - -'],
  'GET /api/v1/recordings/{id}/audio [R4]': ['recording.play', '- - - D D D D S D D D - - -'],
  'GET /api/v1/recordings/{id}/audio [missing]': ['recording.play', '- - - D D D D D D D D - - -'],
  'GET /api/v1/recordings/{id}/audio [R1 original]': ['recording.play', '- - - S D D D D S D D - - -'],
  'GET /api/v1/recordings/{id}/audio [R4 original]': ['recording.play', '- - - D D D D S D D D - - -'],

  'GET /api/v1/recordings/{id}/transcript [R1]': ['recording.transcript', '- - - S S D D D S D D - - -'],
  'GET /api/v1/recordings/{id}/transcript [R2 original]': ['recording.transcript', '- - - D D S D D S D D - - -'],
  'GET /api/v1/recordings/{id}/transcript [R4]': ['recording.transcript', '- - - D D D D S D D D - - -'],
  'GET /api/v1/recordings/{id}/waveform [R1]': ['recording.waveform', '- - - S S D D D S D D - - -'],
  'GET /api/v1/recordings/{id}/waveform [R4]': ['recording.waveform', '- - - D D D D S D D D - - -'],
  'GET /api/v1/recordings/{id}/identifiers [R1 original]': ['recording.identifiers', '- - - S D D D D S D D - - -'],
  'GET /api/v1/recordings/{id}/identifiers [R1]': ['recording.identifiers', '- - - D D D D D D D D - - -'],

  'POST /api/v1/recordings/{id}/export [R1]': ['recording.export', '- - - D D D D D S D D D - -'],
  'POST /api/v1/recordings/{id}/export [R2]': ['recording.export', '- - - D D D D D S D D D - -'],
  'POST /api/v1/recordings/{id}/export [R3]': ['recording.export', '- - - D D D D D S D D D - -'],
  'POST /api/v1/recordings/{id}/export [R1 original]': ['recording.export', '- - - D D D D D S D D D - -'],
  'POST /api/v1/recordings/{id}/export [R4]': ['recording.export', '- - - D D D D D D D D D - -'],

  'POST /api/v1/subject/find [by personnummer]': ['subject.find', '- - - D D D D D S D D D - -'],
  // the export names R1, R2 and R3: one recording.export each
  'POST /api/v1/subject/export [by personnummer]': ['subject.export', '- - - D D D D D S+recording.export:S*3 D D D - -'],
  'POST /api/v1/subject/erase [another person]': ['subject.erase', '- - - D D D D D S+recording.erase:S D D D - -'],

  'POST /api/v1/breach/report [every object]': ['breach.report', '- - - D D D D D S D D D - -'],

  'GET /api/v1/keys': ['keys.read', '- - - D D D D D D S S D - -'],

  'GET /api/v1/users': ['user.list', '- - - D D D D D D D S D - -'],
  'POST /api/v1/users': ['user.create', '- - - D D D D D D D S D - -'],
  'PATCH /api/v1/users/{id} [victim]': ['user.edit', '- - - D D D D D D D S D - -'],
  'POST /api/v1/users/{id}/reset [victim]': ['user.reset', '- - - D D D D D D D S D - -'],
  'GET /api/v1/approvals': ['approval.list', '- - - D D D D D S D D D - -'],
  'GET /api/v1/retention': ['retention.show', '- - - D D D D D S D D D - -'],
  'GET /api/v1/alerts': ['alert.list', '- - - D D D D D S S D D - -'],
  'POST /api/v1/alerts/{id}/resolve [region-a]': ['alert.resolve', '- - - D D D D D S - D D - -'],
  'POST /api/v1/alerts/{id}/resolve [region-b]': ['alert.resolve', '- - - D D D D D D S D D - -'],
  'GET /api/v1/alert-settings/{controllerId} [region-a]': ['alert.list', '- - - D D D D D S S D D - -'],
  'GET /api/v1/alert-settings/{controllerId} [region-b]': ['alert.list', '- - - D D D D D D S D D - -'],
  'PUT /api/v1/alert-settings/{controllerId} [region-a]': ['alert.settings', '- - - D D D D D S S D D - -'],
  'POST /api/v1/alerts/backtest': ['alert.backtest', '- - - D D D D D S S D D - -'],
  'PUT /api/v1/retention': ['retention.set', '- - - D D D D D S D D D - -'],
  'POST /api/v1/recordings/{id}/class [R4]': ['recording.class', '- - - D D D D D D D D D - -'],
  'POST /api/v1/recordings/{id}/class [R2]': ['recording.class', '- - - D D D D D S D D D - -'],
  'GET /api/v1/holds': ['retention.show', '- - - D D D D D S D D D - -'],
  'POST /api/v1/holds [R4]': ['hold.add', '- - - D D D D D D D D D - -'],
  'POST /api/v1/holds [R2]': ['hold.add', '- - - D D D D D S D D D - -'],
  'POST /api/v1/holds/{id}/release [placed]': ['hold.release', '- - - D D D D D S D D D - -'],
  'GET /api/v1/protected': ['protected.list', '- - - D D D D D S D D D - -'],
  'POST /api/v1/protected': ['subject.protect', '- - - D D D D D S D D D - -'],
  'POST /api/v1/protected/{id}/release [region-b]': ['subject.unprotect', '- - - D D D D D D D D D - -'],
  'POST /api/v1/protected/{id}/release [placed]': ['subject.unprotect', '- - - D D D D D S D D D - -'],
  'POST /api/v1/users/{id}/approve [waiting]': ['user.approve', '- - - D D D D D S D D D - -'],
  'POST /api/v1/users/{id}/refuse [waiting]': ['user.refuse', '- - - D D D D D S D D D - -'],
  'POST /api/v1/contracts/{id}/approve [waiting]': ['contract.approve', '- - - D D D D D S D D D - -'],
  'POST /api/v1/contracts/{id}/refuse [waiting]': ['contract.refuse', '- - - D D D D D S D D D - -'],
  'POST /api/v1/auth/enrol': ['user.enrol', 'S S S S S S S S S S S S - -'],
  'POST /api/v1/users/{id}/disable [victim]': ['user.disable', '- - - D D D D D D D S D - -'],
  'POST /api/v1/users/{id}/enable [victim]': ['user.enable', '- - - D D D D D D D S D - -'],
  'GET /api/v1/tokens': ['token.list', '- - - D D D D D D D S D - -'],
  'POST /api/v1/tokens': ['token.create', '- - - D D D D D D D S D - -'],
  'DELETE /api/v1/tokens/{id} [throwaway]': ['token.revoke', '- - - D D D D D D D S D - -'],
  'GET /api/v1/controllers': ['controller.list', '- - - D D D D D D D S D - -'],
  'POST /api/v1/controllers': ['controller.create', '- - - D D D D D D D S D - -'],
  'GET /api/v1/processors': ['processor.list', '- - - D D D D D D D S D - -'],
  'POST /api/v1/processors': ['processor.create', '- - - D D D D D D D S D - -'],
  'GET /api/v1/contracts': ['contract.list', '- - - D D D D D D D S D - -'],
  'POST /api/v1/contracts': ['contract.create', '- - - D D D D D D D S D - -'],
  'POST /api/v1/contracts/{id}/end [spareco]': ['contract.end', '- - - D D D D D D D S D - -'],

  // starting and reviewing need a signed-in person: a token is turned away before any policy decision
  'POST /api/v1/break-glass [region-a]': ['break-glass.start', '- - - S S S D D D D D - - -'],
  'GET /api/v1/break-glass': ['break-glass.list', '- - - D D D D D S S D D - -'],
  // only the period's owner ends it; anyone else's try is refused and recorded
  "POST /api/v1/break-glass/{id}/end [nurseA's period]": ['break-glass.end', '- - - S D D D D D D D - - -'],
  'POST /api/v1/break-glass/{id}/review [past period]': ['break-glass.review', '- - - D D D D D S D D - - -'],

  'GET /api/v1/audit/entries': ['audit.read', '- - - D D D D D D S D D - -'],
  'GET /api/v1/audit/search': ['audit.read', '- - - D D D D D D S D D - -'],
  'GET /api/v1/audit/checkpoint': ['audit.read', '- - - D D D D D D S D D - -'],
  'GET /api/v1/audit/key': ['audit.read', '- - - D D D D D D S D D - -'],
  'GET /api/v1/audit/proof': ['audit.read', '- - - D D D D D D S D D - -'],
  'GET /api/v1/audit/verify': ['audit.read', '- - - D D D D D D S D D - -'],
  // refused as a read of the log, served as an export of it
  'GET /api/v1/audit/export': ['audit.read', '- - - D D D D D D audit.export:S D D - -'],
  'POST /api/v1/audit/subject-access-log': ['subject.access-log', '- - - D D D D D S S D D - -'],
  'POST /api/v1/audit/review/{period}/sample [this month]': ['review.sample', '- - - D D D D D D S D D - -'],
  'GET /api/v1/audit/review/{period} [this month]': ['review.read', '- - - D D D D D D S D D - -'],
  'POST /api/v1/audit/review/{period}/samples/{id} [sampled]': ['review.outcome', '- - - D D D D D D S D D - -'],
  'GET /api/v1/audit/review/{period}/report [this month]': ['review.read', '- - - D D D D D D S D D - -'],

  'POST /api/v1/auth/password': ['user.password-change', '- - - S S S S S S S S - - -'],
  'POST /api/v1/auth/signout': ['auth.signout', '- - - S S S S S S S S - - -'],
};

const OUTCOMES: Record<string, string> = { S: 'success', D: 'denied', F: 'failure' };

/** the entries a row's cell promises a caller, as `action:outcome` in order */
function expectedEntries(label: string, caller: CallerName): string[] {
  const spec = AUDITED[label];
  assert.ok(spec, `${label}: no row in the audit table`);
  const cells = spec[1].trim().split(/\s+/);
  assert.equal(cells.length, CALLERS.length, `${label}: one audit cell per caller`);
  const cell = cells[CALLERS.indexOf(caller)]!;
  const out = caller === 'token' ? ['token.use:success'] : [];
  if (cell === '-') return out;
  for (const item of cell.split('+')) {
    const m = /^(?:([a-z.-]+):)?([SDF])(?:\*(\d+))?$/.exec(item);
    assert.ok(m, `${label}: bad audit cell ${cell}`);
    const action = m[1] ?? spec[0];
    for (let i = 0; i < Number(m[3] ?? 1); i++) out.push(`${action}:${OUTCOMES[m[2]!]}`);
  }
  return out;
}

/** what the log gained while `during` ran, as `action:outcome` in order */
async function gained(during: () => Promise<Response>): Promise<{ res: Response; entries: string[] }> {
  const from = await server.vault.audit.size();
  const res = await during();
  const to = await server.vault.audit.size();
  const entries = (await server.vault.audit.entries(from, to)).map((e) => {
    const event = JSON.parse(e.entry.toString('utf8')) as { action: string; outcome: string };
    return `${event.action}:${event.outcome}`;
  });
  return { res, entries };
}

const EXPECTED_CODE: Record<number, string> = { 401: 'CV_UNAUTHENTICATED', 403: 'CV_FORBIDDEN', 404: 'CV_NOT_FOUND' };

// ---------------------------------------------------------------------------------------------

test('outside the API: /healthz and /readyz answer every caller alike, name nothing and write no audit entry', async () => {
  // they are left out of the OpenAPI document (not part of the API); /metrics is not on this port at all
  const before = await server.vault.audit.size();
  for (const name of CALLERS) {
    const c = callers.get(name)!;
    const health = await clientOf(c).get('/healthz');
    assert.equal(health.status, 200, `/healthz as ${name}`);
    assert.deepEqual(health.json, { status: 'ok' });
    const ready = await clientOf(c).get('/readyz');
    assert.equal(ready.status, 200, `/readyz as ${name}`);
    assert.deepEqual(ready.json, { status: 'ready', checks: { database: 'ok', blobs: 'ok', keys: 'ok', audit: 'ok' } });
  }
  assert.equal(await server.vault.audit.size(), before);
  for (const name of CALLERS) {
    const metrics = await clientOf(callers.get(name)!).get('/metrics');
    assert.ok([401, 404].includes(metrics.status) && !metrics.body.toString().includes('callvault_'), `/metrics as ${name}: ${metrics.status}`);
  }
});

test('the table has a row for every route the server registers, and no row for a route it does not', async () => {
  const labels = ROWS.map((r) => `${r.method} ${r.route}${r.on ? ` [${r.on}]` : ''}`);
  assert.deepEqual(
    labels.filter((l) => !AUDITED[l]),
    [],
    'rows without a line in the audit table',
  );
  assert.deepEqual(
    Object.keys(AUDITED).filter((l) => !labels.includes(l)),
    [],
    'audit table lines for no row',
  );
  const res = await new Client(server).get('/api/docs/json');
  assert.equal(res.status, 200);
  const registered = new Set<string>();
  for (const [path, ops] of Object.entries(res.json.paths as Record<string, Record<string, unknown>>)) {
    for (const method of Object.keys(ops)) if (['get', 'post', 'put', 'patch', 'delete'].includes(method)) registered.add(`${method.toUpperCase()} ${path}`);
  }
  const covered = new Set(ROWS.map((r) => `${r.method} ${r.route}`));
  assert.deepEqual(
    [...registered].filter((r) => !covered.has(r)),
    [],
    'routes without a row in the table',
  );
  assert.deepEqual(
    [...covered].filter((r) => !registered.has(r)),
    [],
    'rows for routes the server does not register',
  );
  assert.ok(registered.size >= 29);
});

test('every caller gets exactly the status the table states on every route, and no unexpected 2xx', async () => {
  const problems: string[] = [];
  const unexpected2xx: string[] = [];
  const auditProblems: string[] = [];
  const bodies = new Map<string, unknown>();
  let cases = 0;
  for (const r of ROWS) {
    const label = `${r.method} ${r.route}${r.on ? ` [${r.on}]` : ''}`;
    for (const [i, name] of CALLERS.entries()) {
      const c = callers.get(name)!;
      const want = r.expect[i]!;
      const spec = await r.send(c);
      const { res, entries } = await gained(() => clientOf(c).request(r.method, spec.path, { json: spec.json, body: spec.body, headers: spec.headers }));
      cases += 1;
      const where = `${label} as ${name}`;
      const wantEntries = expectedEntries(label, name);
      if (JSON.stringify(entries) !== JSON.stringify(wantEntries)) auditProblems.push(`${where}: the log gained [${entries.join(', ')}], expected [${wantEntries.join(', ')}]`);
      if (r.method === 'GET') {
        // fastify answers HEAD on every GET route: it must decide exactly as GET does
        const { res: head, entries: headEntries } = await gained(() => clientOf(c).request('HEAD', spec.path, { headers: spec.headers }));
        if (JSON.stringify(headEntries) !== JSON.stringify(wantEntries))
          auditProblems.push(`HEAD ${where.slice(4)}: the log gained [${headEntries.join(', ')}], expected [${wantEntries.join(', ')}]`);
        cases += 1;
        if (head.status !== want) {
          const line = `HEAD ${label.slice(4)} as ${name}: expected ${want}, got ${head.status}`;
          problems.push(line);
          if (head.status >= 200 && head.status < 300) unexpected2xx.push(line);
        }
      }
      const code = res.json?.error?.code;
      if (res.status !== want) {
        const line = `${where}: expected ${want}, got ${res.status}${code ? ` ${code}` : ''}`;
        problems.push(line);
        if (res.status >= 200 && res.status < 300) unexpected2xx.push(line);
        continue;
      }
      if (want >= 400) {
        try {
          assertErrorAnswer(res, [call.personnummer, call.phone], where);
        } catch (err) {
          problems.push((err as Error).message.split('\n')[0]!);
        }
        const signInRoute = r.route === '/api/v1/auth/signin' || r.route.startsWith('/api/v1/auth/oidc/');
        const badToken = c.name === 'tokenRevoked' || c.name === 'tokenExpired';
        const wantCode = signInRoute && want === 401 && !badToken ? 'CV_SIGNIN_FAILED' : EXPECTED_CODE[want];
        if (wantCode && code !== wantCode) problems.push(`${where}: code ${code}, expected ${wantCode}`);
        bodies.set(`${name} ${label}`, res.json);
      } else if (r.check) {
        const problem = r.check(c, res);
        if (problem) problems.push(`${where}: ${problem}`);
      }
    }
  }
  assert.equal(cases, ROWS.length * CALLERS.length + ROWS.filter((r) => r.method === 'GET').length * CALLERS.length);
  assert.deepEqual(unexpected2xx, [], `unexpected 2xx answers:\n${unexpected2xx.join('\n')}`);
  assert.deepEqual(problems, [], `${problems.length} of ${cases} cases differ from the table:\n${problems.join('\n')}`);
  assert.deepEqual(auditProblems, [], `${auditProblems.length} of ${cases} cases left other audit entries than the table states:\n${auditProblems.join('\n')}`);
  // a recording out of scope and one that does not exist answer alike, byte for byte
  assert.ok(bodies.get('nurseA GET /api/v1/recordings/{id} [R2]'));
  assert.deepEqual(bodies.get('nurseA GET /api/v1/recordings/{id} [R2]'), bodies.get('nurseA GET /api/v1/recordings/{id} [missing]'));
  assert.deepEqual(bodies.get('nurseB POST /api/v1/recordings/{id}/access [R1]'), bodies.get('nurseB POST /api/v1/recordings/{id}/access [missing]'));

  // the break-the-glass periods started by the table end now, so the next tests start from normal scope
  await db(server)
    .updateTable('break_glass')
    .set({ expires_at: iso(Date.now() - 1000) })
    .execute();
});

test('break-the-glass lets the callco nurse reach R1 (north, another agent), flagged, but never R3 (south) nor R4 (region-b)', async () => {
  const nurse = await signedInUser(server, { role: 'nurse', processorId: 'callco', agent: 'a2', team: 't1' });
  const c = nurse.client;
  assert.equal((await c.get(`${API}/recordings/${R.R1}`)).status, 404, 'before break-the-glass R1 is out of reach');
  assert.equal((await c.post(`${API}/recordings/${R.R1}/access`, purpose)).status, 404);

  const short = await c.post(`${API}/break-glass`, { controllerId: 'region-a', reason: 'urgent' });
  assert.equal(short.status, 400, 'a reason needs 20 characters');
  assert.equal(
    (await c.post(`${API}/break-glass`, { controllerId: 'region-b', reason: 'the patient is unconscious and needs help now' })).status,
    403,
    'not for a controller the nurse does not work for',
  );
  const started = await c.post(`${API}/break-glass`, { controllerId: 'region-a', reason: 'the patient is unconscious and the relative calls back' });
  assert.equal(started.status, 201, started.body.toString());
  const glassId = started.json.id as string;

  const view = await c.get(`${API}/recordings/${R.R1}`);
  assert.equal(view.status, 200);
  const access = await c.post(`${API}/recordings/${R.R1}/access`, { purpose: 'patient-follow-up' });
  assert.equal(access.status, 201);
  assert.equal(access.json.breakGlass, true, 'the access answer is flagged');
  const audio = await c.get(access.json.audioUrl);
  assert.equal(audio.status, 200);
  assert.ok(audio.body.equals(redacted.get('R1')!), 'the redacted rendition unless the original is asked for');
  const originalAccess = await c.post(`${API}/recordings/${R.R1}/access`, { purpose: 'patient-follow-up', rendition: 'original' });
  assert.equal(originalAccess.status, 201, 'a nurse may hear the original under break-the-glass');
  assert.equal(originalAccess.json.breakGlass, true);
  assert.ok((await c.get(originalAccess.json.audioUrl)).body.equals(wavs[0]!));

  // the nurse's own call is reached normally: not flagged
  const own = await c.post(`${API}/recordings/${R.R2}/access`, { purpose: 'patient-follow-up' });
  assert.equal(own.status, 201);
  assert.equal(own.json.breakGlass, false);

  for (const name of ['R3', 'R4'] as const) {
    assert.equal((await c.get(`${API}/recordings/${R[name]}`)).status, 404, `${name} stays out of reach`);
    assert.equal((await c.post(`${API}/recordings/${R[name]}/access`, purpose)).status, 404, `${name} stays out of reach`);
  }
  assert.equal((await c.post(`${API}/recordings/${R.R1}/export`, purpose)).status, 403, 'break-the-glass does not give export');
  const list = await c.get(`${API}/recordings`);
  assert.deepEqual((list.json.recordings as { id: string }[]).map((r) => r.id).sort(), [R.R1, R.R2].sort());

  const events = (await server.vault.audit.entries(0, await server.vault.audit.size())).map((e) => JSON.parse(e.entry.toString('utf8')));
  const mine = events.filter((e) => e.actor?.id === nurse.id && e.outcome === 'success');
  for (const action of ['recording.view', 'recording.access', 'recording.play']) {
    const e = mine.find((x) => x.action === action && x.recordingId === R.R1);
    assert.ok(e, `${action} of R1 is audited`);
    assert.equal(e.breakGlassId, glassId, `${action} of R1 is flagged with the break-the-glass id`);
  }
  const ownAccess = mine.find((x) => x.action === 'recording.access' && x.recordingId === R.R2);
  assert.equal(ownAccess?.breakGlassId, undefined, 'access in normal scope is not flagged');
  assert.ok(mine.some((x) => x.action === 'break-glass.start' && x.breakGlassId === glassId));
  assert.equal(mine.filter((x) => x.recordingId === R.R3 || x.recordingId === R.R4).length, 0);

  // the session answer names the period (the web UI's banner survives a reload), until she ends it
  const session = await c.get(`${API}/auth/session`);
  assert.deepEqual(session.json.breakGlass, [{ id: glassId, controllerId: 'region-a', expiresAt: started.json.expiresAt }]);
  assert.deepEqual(session.json.renditions, ['redacted', 'original']);
  assert.ok(session.json.permissions.includes('break-glass:start') && !session.json.permissions.includes('recording:export'));
  const ended = await c.post(`${API}/break-glass/${glassId}/end`);
  assert.equal(ended.status, 200);
  assert.equal((await c.post(`${API}/break-glass/${glassId}/end`)).status, 409, 'a period ends once');
  assert.deepEqual((await c.get(`${API}/auth/session`)).json.breakGlass, []);
  assert.equal((await c.get(`${API}/recordings/${R.R1}`)).status, 404, 'ended: R1 is out of reach again');
  const endEntry = (await server.vault.audit.entries(0, await server.vault.audit.size()))
    .map((e) => JSON.parse(e.entry.toString('utf8')))
    .find((e) => e.action === 'break-glass.end' && e.breakGlassId === glassId);
  assert.equal(endEntry?.actor?.id, nurse.id, 'ending is audited');
});

test("ending the callco contract turns the callco staff's access off at once", async () => {
  const nurse = await signedInUser(server, { role: 'nurse', processorId: 'callco', agent: 'a2', team: 't1' });
  const sup = await signedInUser(server, { role: 'supervisor', processorId: 'callco', team: 't1' });
  const admin = await signedInUser(server, { role: 'admin' });
  const started = await nurse.client.post(`${API}/break-glass`, { controllerId: 'region-a', reason: 'the patient is unconscious and the relative calls back' });
  assert.equal(started.status, 201);

  assert.equal((await nurse.client.get(`${API}/recordings/${R.R2}`)).status, 200);
  assert.equal((await nurse.client.get(`${API}/recordings/${R.R1}`)).status, 200, 'through break-the-glass');
  const access = await nurse.client.post(`${API}/recordings/${R.R2}/access`, purpose);
  assert.equal(access.status, 201);
  assert.equal((await nurse.client.get(access.json.audioUrl)).status, 200);
  assert.equal((await sup.client.get(`${API}/recordings/${R.R1}`)).status, 200);

  const ended = await admin.client.post(`${API}/contracts/${callcoContract.id}/end`);
  assert.equal(ended.status, 200, ended.body.toString());
  assert.ok(Date.parse(ended.json.validTo) <= Date.now());

  for (const name of ['R1', 'R2'] as const) {
    assert.equal((await nurse.client.get(`${API}/recordings/${R[name]}`)).status, 404, `nurse ${name}`);
    assert.equal((await nurse.client.post(`${API}/recordings/${R[name]}/access`, purpose)).status, 404, `nurse access ${name}`);
    assert.equal((await sup.client.get(`${API}/recordings/${R[name]}`)).status, 404, `supervisor ${name}`);
  }
  assert.equal((await nurse.client.get(access.json.audioUrl)).status, 404, 'an access stated before the end no longer plays');
  for (const c of [nurse.client, sup.client]) {
    const list = await c.get(`${API}/recordings`);
    assert.equal(list.status, 200);
    assert.deepEqual(list.json.recordings, [], 'nothing is listed');
    const search = await c.post(`${API}/recordings/search`, { personnummer: call.personnummer });
    assert.deepEqual(search.json.recordings, [], 'nothing is found');
  }
  assert.equal((await nurse.client.post(`${API}/break-glass`, { controllerId: 'region-a', reason: 'the patient is unconscious and the relative calls back' })).status, 403);
});

test("a state-changing request with the session cookie needs the session's own X-CSRF-Token (403 CV_CSRF)", async () => {
  const nurse = await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'a1' });
  const other = await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'a1' });
  const admin = await signedInUser(server, { role: 'admin' });
  const bare = new Client(server);
  bare.cookie = nurse.client.cookie; // csrf left unset: the header is not sent

  const attempts: [string, Client, string, unknown, Record<string, string>][] = [
    ['no header', bare, `${API}/recordings/${R.R1}/access`, purpose, {}],
    ['wrong header', bare, `${API}/recordings/${R.R1}/access`, purpose, { 'x-csrf-token': 'wrong' }],
    ['empty header', bare, `${API}/recordings/${R.R1}/access`, purpose, { 'x-csrf-token': '' }],
    ["another session's token", bare, `${API}/recordings/${R.R1}/access`, purpose, { 'x-csrf-token': other.client.csrf! }],
    ['no header, search', bare, `${API}/recordings/search`, {}, {}],
    ['no header, sign-out', bare, `${API}/auth/signout`, {}, {}],
    ['no header, password', bare, `${API}/auth/password`, { password: nurse.password, newPassword: strongPassword(), code: await totp(nurse.totpSecret, 1) }, {}],
    ['no header, break-glass', bare, `${API}/break-glass`, { controllerId: 'region-a', reason: 'the patient is unconscious and the relative calls back' }, {}],
  ];
  for (const [what, client, path, json, headers] of attempts) {
    const res = await client.request('POST', path, { json, headers });
    assert.equal(res.status, 403, `${what}: ${res.body.toString()}`);
    assert.equal(res.json.error.code, 'CV_CSRF', what);
  }
  // nothing happened: the session lives, no access or break-the-glass was granted
  assert.equal((await bare.get(`${API}/auth/session`)).status, 200, 'a GET needs no CSRF header');
  assert.equal((await server.vault.grants.activeBreakGlass(nurse.id, new Date().toISOString())).length, 0);
  const access = await nurse.client.post(`${API}/recordings/${R.R1}/access`, purpose);
  assert.equal(access.status, 201, 'with the right header it works');

  const token = await createToken(server.vault, { name: 'csrf-target', scope: 'ingest', controllerId: 'region-a', days: 1 });
  const adminBare = new Client(server);
  adminBare.cookie = admin.client.cookie;
  const del = await adminBare.request('DELETE', `${API}/tokens/${token.id}`);
  assert.equal(del.status, 403);
  assert.equal(del.json.error.code, 'CV_CSRF');
  assert.equal((await server.vault.sessions.token(token.id))?.revoked_at, null, 'the token was not revoked');
  assert.equal((await admin.client.request('DELETE', `${API}/tokens/${token.id}`)).status, 204);

  // a session past its absolute lifetime is gone, whatever the CSRF header says
  await db(server)
    .updateTable('sessions')
    .set({ expires_at: iso(Date.now() - 1000) })
    .where('user_id', '=', other.id)
    .execute();
  assert.equal((await other.client.get(`${API}/auth/session`)).status, 401);
  assert.equal((await other.client.post(`${API}/recordings/${R.R1}/access`, purpose)).status, 401);
});
