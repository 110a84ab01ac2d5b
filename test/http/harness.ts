/**
 * A real callvault server over HTTPS on a random port, on a data directory made for the test, and
 * a small client that keeps a session cookie and CSRF token like a browser would.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Agent, FormData, request as undiciRequest, type Dispatcher } from 'undici';
import { generate } from 'otplib';
import { Vault } from '../../src/vault.js';
import { buildServer } from '../../src/http/server.js';
import type { OidcProviderConfig } from '../../src/identities/oidc.js';
import type { ConnectionLimits } from '../../src/http/connection-limits.js';
import { ensureSelfSignedCertificate, readTls } from '../../src/http/tls.js';
import { createUser } from '../../src/identities/users.js';
import type { Role } from '../../src/identities/roles.js';
import { PASSPHRASE, tempDir } from '../helpers.js';

/** fast Argon2 for the keyring: the tests exercise the server, not the KDF */
export const TEST_KDF = { memoryKiB: 8192, iterations: 1, parallelism: 1 };

export interface TestServer {
  vault: Vault;
  url: string;
  dataDir: string;
  dispatcher: Dispatcher;
  /** a dispatcher whose connections come from another loopback address (e.g. 127.0.0.2), as a second client machine would */
  dispatcherFrom?(localAddress: string): Dispatcher;
  close(): Promise<void>;
}

export async function startTestServer(
  options: { controllerId?: string; rateLimitPerMinute?: number; signInPerMinute?: number; oidc?: OidcProviderConfig[]; limits?: Partial<ConnectionLimits> } = {},
): Promise<TestServer> {
  const dataDir = await tempDir('data', 'http');
  const vault = await Vault.create(dataDir, { passphrase: PASSPHRASE, controllerId: options.controllerId ?? 'region-a', controllerName: 'Region A', kdf: TEST_KDF });
  const files = await ensureSelfSignedCertificate(dataDir);
  const tls = await readTls(files);
  const app = await buildServer({
    vault,
    tls,
    rateLimitPerMinute: options.rateLimitPerMinute ?? 100_000,
    signInPerMinute: options.signInPerMinute ?? 100_000,
    oidc: options.oidc,
    limits: options.limits,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as { port: number };
  const dispatcher = new Agent({ connect: { ca: tls.cert, servername: 'localhost' } });
  const others = new Map<string, Agent>();
  return {
    vault,
    url: `https://127.0.0.1:${address.port}`,
    dataDir,
    dispatcher,
    dispatcherFrom(localAddress) {
      let agent = others.get(localAddress);
      if (!agent) {
        agent = new Agent({ localAddress, connect: { ca: tls.cert, servername: 'localhost' } });
        others.set(localAddress, agent);
      }
      return agent;
    },
    async close() {
      await app.close();
      await dispatcher.close();
      await Promise.all([...others.values()].map((a) => a.close()));
      await vault.close();
    },
  };
}

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json: any;
}

export class Client {
  cookie?: string;
  csrf?: string;
  bearer?: string;

  readonly #dispatcher: Dispatcher;

  /** `from`: the loopback address this client's connections come from (default 127.0.0.1) */
  constructor(
    readonly server: TestServer,
    options: { from?: string } = {},
  ) {
    if (options.from && !server.dispatcherFrom) throw new Error('this test server cannot connect from another address');
    this.#dispatcher = options.from ? server.dispatcherFrom!(options.from) : server.dispatcher;
  }

  async request(method: string, path: string, options: { json?: unknown; body?: Buffer | string; headers?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.cookie) headers.cookie = `__Host-callvault=${this.cookie}`;
    if (this.csrf && !['GET', 'HEAD'].includes(method)) headers['x-csrf-token'] ??= this.csrf;
    if (this.bearer) headers.authorization = `Bearer ${this.bearer}`;
    let body = options.body;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    }
    const res = await undiciRequest(`${this.server.url}${path}`, { method: method as Dispatcher.HttpMethod, headers, body, dispatcher: this.#dispatcher });
    const buf = Buffer.from(await res.body.arrayBuffer());
    const setCookie = res.headers['set-cookie'];
    for (const c of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const m = /^__Host-callvault=([^;]*)/.exec(c);
      if (m) this.cookie = m[1] || undefined;
    }
    let json: any;
    try {
      json = JSON.parse(buf.toString('utf8'));
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, headers: res.headers, body: buf, json };
  }

  get(path: string) {
    return this.request('GET', path);
  }

  post(path: string, json?: unknown) {
    return this.request('POST', path, { json: json ?? {} });
  }
}

/**
 * A strong password that zxcvbn scores quickly: 72 random bits in a short string. (zxcvbn's time
 * grows with length; the tests exercise the server, not the checker.)
 */
export function strongPassword(): string {
  return `Pw ${randomBytes(9).toString('base64url')} lamp`;
}

/** a TOTP code for `secret`, `offsetSteps` periods from now (sign-in refuses a code used before) */
export async function totp(secret: string, offsetSteps = 0): Promise<string> {
  return generate({ secret, epoch: Math.floor(Date.now() / 1000) + offsetSteps * 30 });
}

export interface TestUser {
  id: string;
  username: string;
  password: string;
  totpSecret: string;
  client: Client;
}

/**
 * Creates an account and signs it in, completing the first sign-in (TOTP enrolment and a new
 * password) the way a person would.
 */
export async function signedInUser(
  server: TestServer,
  spec: { role: Role; controllerId?: string | null; processorId?: string | null; agent?: string; team?: string; username?: string },
): Promise<TestUser> {
  const created = await createUser(server.vault, { username: spec.username ?? `${spec.role}-${randomUUID().slice(0, 8)}`, ...spec });
  const client = new Client(server);
  const password = strongPassword();
  const res = await client.post('/api/v1/auth/signin', { username: created.username, password: created.password, code: await totp(created.totpSecret), newPassword: password });
  if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${res.body.toString()}`);
  client.csrf = res.json.csrfToken;
  return { id: created.id, username: created.username, password, totpSecret: created.totpSecret, client };
}

/** an upload as a recorder sends it: multipart metadata, optional transcript, then the audio */
export async function upload(server: TestServer, token: string, audio: Buffer, metadata: Record<string, unknown>, transcript?: string, transcriptType = 'text/vtt') {
  const form = new FormData();
  form.append('metadata', JSON.stringify(metadata));
  if (transcript) form.append('transcript', new Blob([transcript], { type: transcriptType }), transcriptType === 'application/json' ? 'call.json' : 'call.vtt');
  form.append('audio', new Blob([new Uint8Array(audio)], { type: 'audio/wav' }), 'call.wav');
  const res = await undiciRequest(`${server.url}/api/v1/recordings`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` }, dispatcher: server.dispatcher });
  return { status: res.statusCode, json: (await res.body.json()) as any };
}
