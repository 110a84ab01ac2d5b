/**
 * Slow and greedy clients against a real server over TLS on loopback, with limits of a few seconds
 * so the suite runs in seconds: headers sent a byte a second, an upload body trickled below the
 * progress threshold, a body that stops halfway, a reader that stops reading a playback stream,
 * and one address opening more connections than it may. Each is closed within its limit, and the
 * clients beside it are served: uploads answered 201 are stored, and nothing is left pending.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { createToken } from '../../src/identities/tokens.js';
import { ensureSelfSignedCertificate, readTls } from '../../src/http/tls.js';
import { enforceConnectionLimits, resolveLimits, serverCreationOptions, UPLOAD_PROGRESS_BYTES, type ConnectionLimits } from '../../src/http/connection-limits.js';
import { closedConnections, type CloseReason } from '../../src/metrics/metrics.js';
import { makeLongWav } from '../fixtures/audio.js';
import { callVariants, ingestBody } from '../http/fixtures.js';
import { signedInUser, startTestServer, upload, type TestServer } from '../http/harness.js';
import { cli, tempDir } from '../helpers.js';

/** what callvault_connections_closed_total says so far for one reason (process-wide: compare before and after) */
async function closedFor(reason: CloseReason): Promise<number> {
  return (await closedConnections.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

const LIMITS: Partial<ConnectionLimits> = { headerTimeoutSeconds: 2, idleTimeoutSeconds: 4, uploadStallSeconds: 2 };
/**
 * How late a close may come after its limit: node checks header deadlines once a second, the
 * upload rule every half second; the rest is room for a machine busy with other tests.
 */
const SLACK_MS = 3000;

/** A raw TLS connection from `localAddress`, and what happens to it. */
class RawClient {
  readonly socket: tls.TLSSocket;
  readonly received: Buffer[] = [];
  sent = 0;
  closedAt?: number;
  readonly openedAt = Date.now();
  readonly closed: Promise<void>;
  readonly secure: Promise<boolean>;

  constructor(server: TestServer, ca: Buffer, localAddress = '127.0.0.1') {
    const { port } = new URL(server.url);
    const tcp = net.connect({ host: '127.0.0.1', port: Number(port), localAddress });
    this.socket = tls.connect({ socket: tcp, ca, servername: 'localhost' });
    tcp.on('error', () => {});
    this.socket.on('data', (c: Buffer) => this.received.push(c));
    this.socket.on('error', () => {});
    // (not events.once: it rejects on the reset that a refused connection gets)
    this.closed = new Promise((resolve) => {
      this.socket.once('close', () => {
        this.closedAt = Date.now();
        resolve();
      });
    });
    this.secure = new Promise((resolve) => {
      this.socket.once('secureConnect', () => resolve(true));
      this.socket.once('close', () => resolve(false));
    });
  }

  get open(): boolean {
    return this.closedAt === undefined;
  }

  write(data: Buffer | string): void {
    if (!this.open || this.socket.destroyed) return;
    this.socket.write(data);
    this.sent += Buffer.byteLength(data);
  }

  /** sends `data` `chunk` bytes at a time, every `everyMs`, until it is all sent, the server closes, or `forMs` have passed */
  async trickle(data: Buffer, chunk: number, everyMs: number, forMs = Infinity): Promise<void> {
    const until = Date.now() + forMs;
    for (let at = 0; at < data.length && this.open && Date.now() < until; at += chunk) {
      this.write(data.subarray(at, at + chunk));
      await Promise.race([sleep(everyMs), this.closed]);
    }
  }

  status(): number | undefined {
    const m = /^HTTP\/1\.1 (\d{3})/.exec(Buffer.concat(this.received).toString('latin1'));
    return m ? Number(m[1]) : undefined;
  }

  /** the answer's JSON body (bodies this test reads are small and sent whole) */
  json(): any {
    const all = Buffer.concat(this.received).toString('utf8');
    return JSON.parse(all.slice(all.indexOf('\r\n\r\n') + 4));
  }
}

function uploadHead(token: string, contentType: string, length: number): string {
  return `POST /api/v1/recordings HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nContent-Type: ${contentType}\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n`;
}

let server: TestServer;
let ca: Buffer;
let token: string;
let wavs: Buffer[];
/** 5 s of 8 kHz 16-bit audio: 80 kB, which a steady upload at twice the progress threshold sends in 2.5 stall periods */
let shortWav: Buffer;

/** an HTTP client whose connections come from `localAddress` (any of 127.0.0.0/8 reaches the loopback server) */
function agentFrom(localAddress: string, trusted = ca): Agent {
  return new Agent({ localAddress, connect: { ca: trusted, servername: 'localhost' } });
}

/** GET /healthz from `localAddress` on a connection of its own: the status, or 0 when the connection failed */
async function healthzFrom(target: TestServer, localAddress: string, trusted = ca): Promise<number> {
  const dispatcher = agentFrom(localAddress, trusted);
  try {
    const res = await request(`${target.url}/healthz`, { dispatcher });
    await res.body.dump();
    return res.statusCode;
  } catch {
    return 0;
  } finally {
    await dispatcher.close();
  }
}

before(async () => {
  server = await startTestServer({ limits: LIMITS });
  ca = (await readTls(await ensureSelfSignedCertificate(server.dataDir))).cert;
  ({ token } = await createToken(server.vault, { name: 'recorder-slow', scope: 'ingest', controllerId: 'region-a', days: 30 }));
  ({ wavs } = await callVariants(31, 3));
  const src = await tempDir('src', 'slow-clients');
  await makeLongWav(join(src, 'short.wav'), 5);
  shortWav = await readFile(join(src, 'short.wav'));
});

after(async () => {
  await server.close();
});

test('(a) headers sent one byte a second: the connection is closed within the header timeout', async () => {
  const client = new RawClient(server, ca);
  assert.equal(await client.secure, true);
  const started = Date.now();
  const headers = Buffer.from(`GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ${'x'.repeat(60)}\r\n\r\n`);
  const trickling = client.trickle(headers, 1, 1000, LIMITS.headerTimeoutSeconds! * 1000 + SLACK_MS);
  const otherStatus = await healthzFrom(server, '127.0.0.2');
  await trickling;
  const closedByServer = !client.open;
  client.socket.destroy();
  const heldMs = client.closedAt! - started;
  const lost = otherStatus === 200 ? 0 : 1;
  console.log(
    `slow headers: held 1 connection for ${heldMs} ms (closed by the server: ${closedByServer}) with ${client.sent} header bytes sent; /healthz from another address: ${otherStatus}; lost ${lost}`,
  );
  assert.equal(closedByServer, true, 'the server closed the connection before the headers were complete');
  assert.equal(lost, 0);
  assert.ok(heldMs < LIMITS.headerTimeoutSeconds! * 1000 + SLACK_MS, `closed within the header timeout (${heldMs} ms)`);
  assert.equal(client.status(), undefined, 'no request was answered');
});

test('(b) an upload trickled below the progress threshold is closed; uploads beside it, fast and slow-but-steady, are stored', async () => {
  const stalledBefore = await closedFor('upload-stalled');
  const trickled = ingestBody(wavs[0]!, { agent: 'agent-1' });
  const steady = ingestBody(shortWav, { agent: 'agent-1' });
  const trickler = new RawClient(server, ca, '127.0.0.1');
  const steadyClient = new RawClient(server, ca, '127.0.0.3');
  assert.equal(await trickler.secure, true);
  assert.equal(await steadyClient.secure, true);
  const fast = agentFrom('127.0.0.2');
  const started = Date.now();
  // the trickle: headers and the first kilobyte at once, then 5 bytes a second
  trickler.write(uploadHead(token, trickled.contentType, trickled.body.length));
  trickler.write(trickled.body.subarray(0, 1024));
  const trickling = trickler.trickle(trickled.body.subarray(1024), 1, 200, LIMITS.uploadStallSeconds! * 1000 + SLACK_MS);
  // steady: twice the threshold per stall period, over several periods, never idle
  const stepBytes = UPLOAD_PROGRESS_BYTES / 2;
  steadyClient.write(uploadHead(token, steady.contentType, steady.body.length));
  const steadying = steadyClient.trickle(steady.body, stepBytes, (LIMITS.uploadStallSeconds! * 1000) / 4);
  // fast: an ordinary upload from another address while the two are in flight
  const fastBody = ingestBody(wavs[1]!, { agent: 'agent-1' });
  const fastRes = await request(`${server.url}/api/v1/recordings`, {
    method: 'POST',
    dispatcher: fast,
    headers: { authorization: `Bearer ${token}`, 'content-type': fastBody.contentType },
    body: fastBody.body,
  }).catch((err: Error) => err);
  await Promise.all([trickling, steadying]);
  const trickleOpen = trickler.open;
  trickler.socket.destroy();
  await Promise.all([trickler.closed, steadyClient.closed]);
  await fast.close();

  const trickleMs = trickler.closedAt! - started;
  const answered: string[] = [];
  if (steadyClient.status() === 201) answered.push(steadyClient.json().id);
  const fastStatus = fastRes instanceof Error ? fastRes.message : fastRes.statusCode;
  if (!(fastRes instanceof Error) && fastStatus === 201) answered.push(((await fastRes.body.json()) as any).id);
  let lost = 2 - answered.length;
  for (const id of answered) if ((await server.vault.recordings.get(id))?.state !== 'stored') lost += 1;
  const pending = await server.vault.recordings.pending();
  const steadySeconds = (steadyClient.closedAt! - started) / 1000;
  console.log(
    `trickled upload: held 3 uploads (1 trickled at 5 B/s, 1 steady at ${(stepBytes * 4) / LIMITS.uploadStallSeconds! / 1024} KiB/s for ${steadySeconds.toFixed(1)} s, 1 fast); ` +
      `the trickle ended after ${trickleMs} ms (closed by the server: ${!trickleOpen}) with ${trickler.sent} bytes of a ${trickled.body.length}-byte body sent; ` +
      `answered 201: ${answered.length} of 2; pending rows: ${pending.length}; lost ${lost}`,
  );
  assert.equal(trickleOpen, false, 'the server closed the trickled upload');
  assert.ok((await closedFor('upload-stalled')) > stalledBefore, 'the metrics count the stalled upload it closed');
  assert.equal(trickler.status(), undefined, 'the trickled upload got no answer');
  assert.ok(trickler.sent < trickled.body.length, 'it was closed before its body was complete');
  assert.ok(trickleMs < LIMITS.uploadStallSeconds! * 1000 + SLACK_MS, `closed within the stall limit (${trickleMs} ms)`);
  assert.equal(steadyClient.status(), 201, 'the slow but steady upload is stored');
  assert.ok(steadySeconds > 2 * LIMITS.uploadStallSeconds!, 'the steady upload lasted more than two stall periods');
  assert.equal(fastStatus, 201, 'the fast upload from another address is stored');
  assert.equal(lost, 0);
  assert.equal(pending.length, 0, 'no pending attempt is left');
  const verify = await cli(['--data', server.dataDir, 'verify', '--deep', '--json']);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  assert.equal(verify.json.ok, true);
});

test('(c) an upload that stops halfway is closed within the stall limit, before the idle timeout', async () => {
  const body = ingestBody(wavs[2]!, { agent: 'agent-1' });
  const client = new RawClient(server, ca);
  assert.equal(await client.secure, true);
  client.write(uploadHead(token, body.contentType, body.body.length));
  const half = Math.floor(body.body.length / 2);
  client.write(body.body.subarray(0, half));
  const stalledAt = Date.now();
  const otherStatus = await healthzFrom(server, '127.0.0.2');
  await Promise.race([client.closed, sleep(LIMITS.idleTimeoutSeconds! * 1000 + SLACK_MS)]);
  const closedByServer = !client.open;
  client.socket.destroy();
  const heldMs = client.closedAt! - stalledAt;
  const pending = await server.vault.recordings.pending();
  const lost = otherStatus === 200 ? 0 : 1;
  console.log(
    `stalled upload: held 1 upload with ${half} of ${body.body.length} bytes sent; it ended ${heldMs} ms after it stopped (closed by the server: ${closedByServer}); ` +
      `/healthz from another address: ${otherStatus}; pending rows: ${pending.length}; lost ${lost}`,
  );
  assert.equal(closedByServer, true, 'the server closed the stalled upload');
  assert.equal(lost, 0);
  assert.ok(heldMs < LIMITS.idleTimeoutSeconds! * 1000, `closed by the stall limit, before the idle timeout (${heldMs} ms)`);
  assert.equal(client.status(), undefined);
  assert.equal(pending.length, 0);
});

test('(e) a reader that stops reading a playback stream is closed after the idle timeout', async () => {
  // 9.6 MB: more than loopback's socket buffers hold (about 4 MB here), so the server is left with bytes it cannot write
  const src = await tempDir('src', 'slow-reader');
  await makeLongWav(join(src, 'long.wav'), 10 * 60);
  const wav = await readFile(join(src, 'long.wav'));
  const stored = await upload(server, token, wav, { agent: 'agent-7' });
  assert.equal(stored.status, 201, JSON.stringify(stored.json));
  const nurse = await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'agent-7' });
  const access = await nurse.client.post(`/api/v1/recordings/${stored.json.id}/access`, { purpose: 'patient-follow-up', rendition: 'original' });
  assert.equal(access.status, 201, JSON.stringify(access.json));

  const reader = new RawClient(server, ca);
  assert.equal(await reader.secure, true);
  reader.write(`GET ${access.json.audioUrl} HTTP/1.1\r\nHost: localhost\r\nCookie: __Host-callvault=${nurse.client.cookie}\r\n\r\n`);
  await new Promise((resolve) => reader.socket.once('data', resolve));
  reader.socket.pause();
  // node holds back the first timeout while a write is still queued: the close comes after one to two idle periods
  await sleep(2 * LIMITS.idleTimeoutSeconds! * 1000 + SLACK_MS);
  // reading again, it gets what was already in flight, then the end the server put there
  reader.socket.resume();
  await Promise.race([reader.closed, sleep(5000)]);
  const closedByServer = !reader.open;
  reader.socket.destroy();
  const all = Buffer.concat(reader.received);
  const bodyBytes = all.length - all.indexOf('\r\n\r\n') - 4;
  const otherStatus = await healthzFrom(server, '127.0.0.2');
  const lost = otherStatus === 200 ? 0 : 1;
  console.log(
    `stopped reader: held 1 playback of ${wav.length} bytes; it had ${bodyBytes} when the connection ended (closed by the server: ${closedByServer}); /healthz from another address: ${otherStatus}; lost ${lost}`,
  );
  assert.equal(reader.status(), 200);
  assert.equal(closedByServer, true, 'the server closed the connection of the reader that stopped');
  assert.ok(bodyBytes < wav.length, 'the response was cut off: the server did not wait for the reader');
  assert.equal(lost, 0);
});

test("(g) a server slower than the idle timeout to answer keeps the connection: the wait is not the client's", async () => {
  // the same limits on a plain node server, whose handler can be made slow on purpose
  const limits = resolveLimits({ idleTimeoutSeconds: 1 });
  const slow = https.createServer({ ...(await readTls(await ensureSelfSignedCertificate(server.dataDir))), ...serverCreationOptions(limits) }, (_req, res) => {
    setTimeout(() => res.end('late'), 3 * limits.idleTimeoutSeconds * 1000);
  });
  slow.setTimeout(limits.idleTimeoutSeconds * 1000);
  enforceConnectionLimits(slow, limits);
  await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
  const dispatcher = agentFrom('127.0.0.1');
  try {
    const res = await request(`https://127.0.0.1:${(slow.address() as net.AddressInfo).port}/`, { dispatcher });
    const body = await res.body.text();
    console.log(`slow server: held 1 request for 3 idle periods; answered ${res.statusCode} "${body}"; lost ${body === 'late' ? 0 : 1}`);
    assert.equal(body, 'late');
  } finally {
    await dispatcher.close();
    slow.closeAllConnections();
    await new Promise((resolve) => slow.close(resolve));
  }
});

describe('connection caps', () => {
  let capped: TestServer;
  before(async () => {
    capped = await startTestServer({ limits: { maxConnectionsPerAddress: 8, maxConnections: 12 } });
  });
  after(async () => {
    await capped.close();
  });

  test('(d) one address opening 20 idle connections keeps at most 8; other addresses are served, and it is again once they close', async () => {
    const capCa = (await readTls(await ensureSelfSignedCertificate(capped.dataDir))).cert;
    const refusedBefore = await closedFor('address-cap');
    const idle = Array.from({ length: 20 }, () => new RawClient(capped, capCa, '127.0.0.1'));
    try {
      const secured = await Promise.all(idle.map((c) => c.secure));
      await sleep(200);
      const held = idle.filter((c) => c.open);
      const otherStatus = await healthzFrom(capped, '127.0.0.2', capCa);
      const extra = new RawClient(capped, capCa, '127.0.0.1');
      const extraSecured = await extra.secure;
      extra.socket.destroy();
      const stillHeld = held.filter((c) => c.open).length;
      for (const c of held) c.socket.destroy();
      await Promise.all(held.map((c) => c.closed));
      await sleep(100);
      const againStatus = await healthzFrom(capped, '127.0.0.1', capCa);
      const lost = (otherStatus === 200 ? 0 : 1) + (againStatus === 200 ? 0 : 1);
      console.log(
        `per-address cap: 127.0.0.1 opened 20 idle connections, ${secured.filter(Boolean).length} finished TLS, ${held.length} held; a 21st refused: ${!extraSecured}; ` +
          `/healthz from 127.0.0.2 meanwhile: ${otherStatus}, from 127.0.0.1 after they closed: ${againStatus}; lost ${lost}`,
      );
      assert.equal(held.length, 8, 'at most 8 connections from one address stay open');
      assert.equal(stillHeld, 8, 'the 8 were still open while the other address was served');
      assert.equal(extraSecured, false, 'a further connection from the capped address is refused');
      assert.equal((await closedFor('address-cap')) - refusedBefore, 20 - 8 + 1, 'the metrics count every connection refused over the cap');
      assert.equal(otherStatus, 200, '/healthz answers another address while one is at its cap');
      assert.equal(againStatus, 200, '/healthz answers the capped address once its connections close');
    } finally {
      for (const c of idle) c.socket.destroy();
    }
  });

  test('(f) the total cap holds across addresses', async () => {
    const capCa = (await readTls(await ensureSelfSignedCertificate(capped.dataDir))).cert;
    const clients = Array.from({ length: 20 }, (_, i) => new RawClient(capped, capCa, `127.0.1.${i + 1}`));
    try {
      await Promise.all(clients.map((c) => c.secure));
      await sleep(200);
      const held = clients.filter((c) => c.open);
      for (const c of held) c.socket.destroy();
      await Promise.all(held.map((c) => c.closed));
      await sleep(100);
      const afterStatus = await healthzFrom(capped, '127.0.1.1', capCa);
      const lost = afterStatus === 200 ? 0 : 1;
      console.log(`total cap: 20 addresses opened one idle connection each; ${held.length} held, of a cap of 12; /healthz once they closed: ${afterStatus}; lost ${lost}`);
      assert.equal(held.length, 12);
      assert.equal(lost, 0);
    } finally {
      for (const c of clients) c.socket.destroy();
    }
  });
});
