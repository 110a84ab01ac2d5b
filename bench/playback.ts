/**
 * Playback of one encrypted one-hour recording through `callvault serve` against nginx serving the
 * same WAV in plaintext, side by side in the same run. Both speak HTTPS on 127.0.0.1 with the same
 * self-signed certificate (the one callvault makes in its data directory) and both are one process:
 * callvault is `node bin/callvault.js serve` as a child process (so its memory is its own), nginx
 * runs with `daemon off; master_process off; worker_processes 1`.
 *
 * Setup (not timed): a one-hour 8 kHz 16-bit mono WAV (57.6 MB) with a sidecar naming its agent
 * and a transcript in which the caller says a phone number in the first minute, a data directory
 * made with `Vault.create` (weak KDF), `importPaths`, `redactPending` (so the call has a redacted
 * rendition, which is what a nurse hears by default: docs/redaction.md §6), `indexPending`, a nurse
 * account for that agent; the bench signs in over HTTP (TOTP enrolment and new password, like a
 * person) and states the purpose `quality-review` to get the audio URL. nginx serves the redacted
 * rendition's plaintext (decrypted once in setup), so both servers answer the same bytes.
 *
 * Smaller runs (the smoke round in the tests): BENCH_PLAYBACK_AUDIO_SECONDS (default 3600, at
 * least 70 for the 1 MiB range), BENCH_PLAYBACK_STREAMS (default 100), BENCH_PLAYBACK_TTFB
 * (sequential requests per server per round, default 50), BENCH_PLAYBACK_PHASE_SECONDS (each
 * phase of the streams, default max(3, BENCH_SECONDS / 2)), BENCH_PLAYBACK_CONNECTIONS (load
 * connections, default 16).
 *
 * Measured, in every round (the order of the two servers rotates each round):
 *   load    16 connections for BENCH_SECONDS (default 10) each, every request `Range:` 1 MiB from
 *           the middle of the file (callvault: with the session cookie): requests/s, MB/s of
 *           audio, latency p50/p99 (to the last byte), CPU of the server process; wrk (one thread)
 *           or, with BENCH_LOADGEN=autocannon or without wrk, autocannon in this process
 *   TTFB    N sequential requests of the same range on one kept-alive connection, alternating the
 *           two servers, time from sending to the response headers (undici)
 * Once, after the rounds: 100 concurrent full-file GETs held against each server in three phases
 * (paused, read slowly, read at full speed), sampling the server process's VmRSS every 50 ms.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { open, readdir, readFile, writeFile, mkdir, stat } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request, type Dispatcher } from 'undici';
import { generate } from 'otplib';
import { Vault } from '../src/vault.js';
import { createServices } from '../src/services/index.js';
import { operatorActor } from '../src/services/actor.js';
import { indexPending } from '../src/recordings/indexer.js';
import { redactPending } from '../src/redaction/backlog.js';
import { DEFAULT_REDACTION } from '../src/redaction/redact-recording.js';
import { createUser, type NewUserCredentials } from '../src/identities/users.js';
import { ensureSelfSignedCertificate } from '../src/http/tls.js';
import { openStoredRecording, unwrapRecordingKey } from '../src/recordings/read.js';
import {
  BENCH_PASSPHRASE,
  BYTES_PER_SECOND,
  CLI,
  envWithoutPassphrase,
  fmt,
  makeScratch,
  median,
  nowSeconds,
  run,
  writeWav,
  type Benchmark,
  type BenchOptions,
  type BenchResult,
  type Row,
} from './common.js';

const RANGE_BYTES = 1 << 20;
/** concurrent load connections: BENCH_PLAYBACK_CONNECTIONS, default 16 (set in run) */
let CONNECTIONS = 16;
const TTFB_WARMUP = 5;
/** per stream, in the "slow" phase: 16 × real time for 8 kHz 16-bit mono, a player buffering ahead */
const SLOW_BYTES_PER_SECOND = 256 * 1024;
const SAMPLE_MS = 50;
const BREAKDOWN_REPEATS = 100;
const THROUGHPUT_TARGET = 0.5;
const TTFB_TARGET = 3;
const RSS_TARGET_MB = 300;
const AGENT = 'agent-bench';
const CONTROLLER = 'region-a';

type Server = 'callvault' | 'nginx';
const SERVERS: Server[] = ['callvault', 'nginx'];

interface Target {
  who: Server;
  pid: number;
  /** full URL of the audio */
  url: string;
  /** headers every request carries (the session cookie for callvault) */
  headers: Record<string, string>;
}

interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  /** MB/s of audio (response bodies), 10^6 bytes */
  mbps: number;
  p50ms: number;
  p99ms: number;
  errors: number;
  /** CPU seconds of the server process per second of load (1 = one core) */
  cpu: number;
  /** MB, peak VmRSS of the server process during the run */
  rssPeak: number;
}

function envNumber(name: string, fallback: number, min: number, integer = false): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) throw new Error(`${name} must be a number ≥ ${min}`);
  return n;
}

function benchSeconds(): number {
  return envNumber('BENCH_SECONDS', 10, 1);
}

/** the call's length, the concurrent streams and the TTFB requests; smaller for a smoke round */
function sizes(seconds: number) {
  return {
    audioSeconds: envNumber('BENCH_PLAYBACK_AUDIO_SECONDS', 3600, 70),
    streams: envNumber('BENCH_PLAYBACK_STREAMS', 100, 1, true),
    ttfbRequests: envNumber('BENCH_PLAYBACK_TTFB', 50, 1, true),
    phaseSeconds: envNumber('BENCH_PLAYBACK_PHASE_SECONDS', Math.max(3, seconds / 2), 1),
    connections: envNumber('BENCH_PLAYBACK_CONNECTIONS', 16, 1, true),
  };
}

/**
 * The caller says a phone number between 10 and 14 s (verbose_json with word timings), so
 * redaction writes a rendition with a tone there; the rest of the audio is the original's.
 */
const TRANSCRIPT = JSON.stringify({
  text: 'Hej, jag ringer om min dotter. Ring mig på 070 174 06 05 om något händer.',
  segments: [
    {
      id: 0,
      start: 2,
      end: 6,
      text: 'Hej, jag ringer om min dotter.',
      words: ['Hej,', 'jag', 'ringer', 'om', 'min', 'dotter.'].map((word, i) => ({ word, start: 2 + i * 0.6, end: 2.5 + i * 0.6 })),
    },
    {
      id: 1,
      start: 8,
      end: 16,
      text: 'Ring mig på 070 174 06 05 om något händer.',
      words: ['Ring', 'mig', 'på', '070', '174', '06', '05', 'om', 'något', 'händer.'].map((word, i) => ({ word, start: 8 + i * 0.8, end: 8.7 + i * 0.8 })),
    },
  ],
});

// ---------------------------------------------------------------------------------------------
// /proc

/** a field of /proc/PID/status in MB (10^6 bytes); the kernel reports kB = KiB */
async function procStatusMB(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return (Number(m[1]) * 1024) / 1e6;
}

let clockTicks = 100;

/** user + system CPU seconds of a process so far */
async function cpuSeconds(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

async function openFds(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}

/** samples VmRSS of a process every SAMPLE_MS until stopped; keeps the peak */
class RssSampler {
  peak = 0;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;

  constructor(readonly pid: number) {}

  start(): this {
    this.#timer = setInterval(() => void this.sample(), SAMPLE_MS);
    return this;
  }

  /** one reading; while one is in flight, that one */
  sample(): Promise<void> {
    this.#inFlight ??= procStatusMB(this.pid, 'VmRSS').then(
      (mb) => {
        this.peak = Math.max(this.peak, mb);
      },
      () => {
        // the process has gone; the caller notices
      },
    );
    const current = this.#inFlight;
    void current.finally(() => {
      if (this.#inFlight === current) this.#inFlight = undefined;
    });
    return current;
  }

  /**
   * returns the peak and starts a fresh one; it waits for a reading in flight and takes one of
   * its own, so a phase whose interval readings were starved (a busy event loop) still has one
   */
  async take(): Promise<number> {
    await this.#inFlight;
    await this.sample();
    const peak = this.peak;
    this.peak = 0;
    return peak;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

// ---------------------------------------------------------------------------------------------
// child processes

export async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  s.close();
  await once(s, 'close');
  return port;
}

export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** the negotiated TLS version and cipher, or throws when nothing listens (yet) */
export async function tlsInfo(port: number, ca: Buffer): Promise<string> {
  const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost' });
  try {
    await once(socket, 'secureConnect');
    return `${socket.getProtocol()} ${socket.getCipher().standardName}`;
  } finally {
    socket.destroy();
  }
}

export async function waitForTls(port: number, ca: Buffer, child: ChildProcess, what: string, detail: () => Promise<string>): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}: ${await detail()}`);
    try {
      return await tlsInfo(port, ca);
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what} does not answer on port ${port}: ${(err as Error).message}; ${await detail()}`);
      await sleep(100);
    }
  }
}

/**
 * `callvault serve` on a random port; its request log (pino, on stdout) goes to a file. Every
 * client here is one address (127.0.0.1), so the per-address rate limit and connection cap (64 by
 * default: the 100 streams would be refused) are lifted, as nginx has neither.
 */
export async function startCallvault(data: string, logFile: string): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const log = await open(logFile, 'w');
  // BENCH_SERVER_NODE_ARGS: extra node options for the server only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(
    process.execPath,
    [...nodeArgs, CLI, '--data', data, 'serve', '--host', '127.0.0.1', '--port', '0', '--rate-limit', '1000000000', '--max-connections-per-address', '10000'],
    {
      stdio: ['ignore', log.fd, 'pipe'],
      env: { ...envWithoutPassphrase(), CALLVAULT_PASSPHRASE: BENCH_PASSPHRASE },
    },
  );
  await log.close();
  let err = '';
  child.stderr!.on('data', (b: Buffer) => {
    if (err.length < 65536) err += b.toString('utf8');
  });
  const url = await new Promise<string>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`callvault serve did not start: ${err.trim().slice(0, 500)}`)), 30_000);
    const check = () => {
      const m = /serving on (https:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        child.stderr!.off('data', check);
        resolvePromise(m[1]!);
      }
    };
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`callvault serve exited with ${code}: ${err.trim().slice(0, 500)}`));
    });
  });
  return { child, url, stderr: () => err };
}

function nginxConfig(dir: string, port: number, cert: string, key: string, root: string): string {
  return `# written by bench/playback.ts
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  types { audio/wav wav; text/html html; }
  default_type application/octet-stream;
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  sendfile on;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${cert};
    ssl_certificate_key ${key};
    ssl_protocols TLSv1.2 TLSv1.3;
    root ${root};
    location / { }
  }
}
`;
}

export async function startNginx(dir: string, port: number, cert: string, key: string, root: string): Promise<{ child: ChildProcess; stderr: () => string }> {
  await mkdir(dir, { recursive: true });
  const conf = join(dir, 'nginx.conf');
  await writeFile(conf, nginxConfig(dir, port, cert, key, root));
  const child = spawn('nginx', ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => {
    if (err.length < 65536) err += b.toString('utf8');
  });
  child.on('error', () => {});
  return { child, stderr: () => err };
}

// ---------------------------------------------------------------------------------------------
// HTTP

function cookieOf(setCookie: string | string[] | undefined): string | undefined {
  for (const c of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
    const m = /^__Host-callvault=([^;]+)/.exec(c);
    if (m) return m[1];
  }
  return undefined;
}

/** signs the nurse in (first sign-in: TOTP enrolment and a new password) and states a purpose */
export async function signInAndAccess(
  base: string,
  dispatcher: Dispatcher,
  user: { username: string; password: string; totpSecret: string },
  recordingId: string,
): Promise<{ cookie: string; audioPath: string }> {
  const code = await generate({ secret: user.totpSecret });
  const signin = await request(`${base}/api/v1/auth/signin`, {
    method: 'POST',
    dispatcher,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: user.username, password: user.password, code, newPassword: `Correct horse ${user.totpSecret} battery staple` }),
  });
  const signinBody = (await signin.body.json()) as { csrfToken?: string };
  const cookie = cookieOf(signin.headers['set-cookie']);
  if (signin.statusCode !== 200 || !cookie || !signinBody.csrfToken) throw new Error(`sign-in failed: ${signin.statusCode} ${JSON.stringify(signinBody)}`);
  const access = await request(`${base}/api/v1/recordings/${recordingId}/access`, {
    method: 'POST',
    dispatcher,
    headers: { 'content-type': 'application/json', cookie: `__Host-callvault=${cookie}`, 'x-csrf-token': signinBody.csrfToken },
    body: JSON.stringify({ purpose: 'quality-review' }),
  });
  const accessBody = (await access.body.json()) as { audioUrl?: string };
  if (access.statusCode !== 201 || !accessBody.audioUrl) throw new Error(`POST …/access failed: ${access.statusCode} ${JSON.stringify(accessBody)}`);
  return { cookie, audioPath: accessBody.audioUrl };
}

/** one range request, checked: status 206, Content-Range, Content-Length; returns the body */
async function fetchRange(t: Target, dispatcher: Dispatcher, range: string, first: number, last: number, size: number) {
  const res = await request(t.url, { dispatcher, headers: { ...t.headers, range } });
  const body = Buffer.from(await res.body.arrayBuffer());
  const problems: string[] = [];
  if (res.statusCode !== 206) problems.push(`status ${res.statusCode}`);
  if (res.headers['content-range'] !== `bytes ${first}-${last}/${size}`) problems.push(`Content-Range ${String(res.headers['content-range'])}`);
  if (Number(res.headers['content-length']) !== last - first + 1) problems.push(`Content-Length ${String(res.headers['content-length'])}`);
  if (body.length !== last - first + 1) problems.push(`body of ${body.length} bytes`);
  if (problems.length) throw new Error(`${t.who}: range request answered ${problems.join(', ')}`);
  return { body, headers: res.headers };
}

/** time to the response headers of `count` sequential requests per server, alternating servers */
async function ttfb(targets: Target[], dispatchers: Map<Server, Dispatcher>, range: string, count: number): Promise<Map<Server, number[]>> {
  const out = new Map<Server, number[]>(targets.map((t) => [t.who, []]));
  for (let i = 0; i < TTFB_WARMUP + count; i++) {
    for (const t of i % 2 ? [...targets].reverse() : targets) {
      const started = process.hrtime.bigint();
      const res = await request(t.url, { dispatcher: dispatchers.get(t.who)!, headers: { ...t.headers, range } });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      for await (const _ of res.body) {
        // read to the end so the connection is reused
      }
      if (res.statusCode !== 206) throw new Error(`${t.who}: TTFB request answered ${res.statusCode}`);
      if (i >= TTFB_WARMUP) out.get(t.who)!.push(ms);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// load generators

const WRK_SCRIPT = `-- written by bench/playback.ts: the summary as one JSON line
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\\nWRK_JSON {"requests":%.0f,"bytes":%.0f,"duration_us":%.0f,"p50_us":%.0f,"p99_us":%.0f,"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f}\\n',
    summary.requests, summary.bytes, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
`;

type LoadGen = 'wrk' | 'autocannon';

async function loadWrk(t: Target, range: string, seconds: number, script: string) {
  const headers = Object.entries({ ...t.headers, range }).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  const { stdout } = await run('wrk', ['-t', '1', '-c', String(CONNECTIONS), '-d', `${seconds}s`, '--timeout', '30s', '-s', script, ...headers, t.url]);
  const line = stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (!line) throw new Error(`could not read wrk's summary:\n${stdout}`);
  const r = JSON.parse(line.slice('WRK_JSON '.length)) as Record<string, number>;
  return {
    requests: r.requests!,
    seconds: r.duration_us! / 1e6,
    p50ms: r.p50_us! / 1000,
    p99ms: r.p99_us! / 1000,
    errors: r.connect! + r.read! + r.write! + r.status! + r.timeout!,
  };
}

type Autocannon = (opts: Record<string, unknown>) => Promise<{
  requests: { total: number };
  latency: { p50: number; p99: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
}>;

async function loadAutocannon(t: Target, range: string, seconds: number) {
  // autocannon ships no types; a computed specifier makes the import `any`
  const name = 'autocannon';
  const autocannon = ((await import(name)) as { default: Autocannon }).default;
  const r = await autocannon({ url: t.url, connections: CONNECTIONS, duration: seconds, timeout: 30, headers: { ...t.headers, range } });
  return { requests: r['2xx'], seconds: r.duration, p50ms: r.latency.p50, p99ms: r.latency.p99, errors: r.errors + r.timeouts + r.non2xx };
}

async function load(gen: LoadGen, t: Target, range: string, seconds: number, script: string): Promise<LoadResult> {
  const sampler = new RssSampler(t.pid).start();
  const cpu0 = await cpuSeconds(t.pid);
  const wall0 = nowSeconds();
  let r: Awaited<ReturnType<typeof loadWrk>>;
  try {
    r = gen === 'wrk' ? await loadWrk(t, range, seconds, script) : await loadAutocannon(t, range, seconds);
  } finally {
    sampler.stop();
  }
  const cpu = (await cpuSeconds(t.pid)) - cpu0;
  const wall = nowSeconds() - wall0;
  const rps = r.requests / r.seconds;
  return { ...r, rps, mbps: (rps * RANGE_BYTES) / 1e6, cpu: cpu / wall, rssPeak: await sampler.take() };
}

// ---------------------------------------------------------------------------------------------
// 100 concurrent full-file streams

interface StreamPhases {
  paused: number;
  slow: number;
  fast: number;
  /** MB read by the clients in each phase */
  readMB: { slow: number; fast: number };
  fdsBefore: number;
  fdsDuring: number;
  fdsAfter: number;
  rssBefore: number;
  rssAfter: number;
  /** streams that ended or failed before the end of the fast phase */
  ended: number;
  failed: number;
}

async function manyStreams(t: Target, ca: Buffer, phaseSeconds: number, size: number, count: number): Promise<StreamPhases> {
  const dispatcher = new Agent({ connect: { ca, servername: 'localhost' }, connections: null, pipelining: 1 });
  const sampler = new RssSampler(t.pid);
  const fdsBefore = await openFds(t.pid);
  const rssBefore = await procStatusMB(t.pid, 'VmRSS');
  let ended = 0;
  let failed = 0;
  let read = 0;
  try {
    sampler.start();
    const responses = await Promise.all(
      Array.from({ length: count }, async () => {
        const res = await request(t.url, { dispatcher, headers: t.headers });
        if (res.statusCode !== 200 || Number(res.headers['content-length']) !== size) {
          throw new Error(`${t.who}: full GET answered ${res.statusCode} with Content-Length ${String(res.headers['content-length'])}`);
        }
        const body = res.body;
        body.pause();
        body.on('end', () => (ended += 1));
        body.on('error', () => (failed += 1));
        return body;
      }),
    );
    // phase 1: nobody reads; the server faces backpressure on every connection
    await sleep(phaseSeconds * 1000);
    const paused = await sampler.take();
    const fdsDuring = await openFds(t.pid);

    // phase 2: every client reads SLOW_BYTES_PER_SECOND
    const budget = new Map(responses.map((b) => [b, 0]));
    const got = new Map(responses.map((b) => [b, 0]));
    for (const b of responses) {
      b.on('data', (chunk: Buffer) => {
        read += chunk.length;
        const n = got.get(b)! + chunk.length;
        got.set(b, n);
        if (n >= budget.get(b)!) b.pause();
      });
      b.pause();
    }
    const tickMs = 100;
    const slowStart = read;
    for (let elapsed = 0; elapsed < phaseSeconds * 1000; elapsed += tickMs) {
      for (const b of responses) {
        budget.set(b, budget.get(b)! + (SLOW_BYTES_PER_SECOND * tickMs) / 1000);
        if (got.get(b)! < budget.get(b)!) b.resume();
      }
      await sleep(tickMs);
    }
    const slow = await sampler.take();
    const slowRead = read - slowStart;

    // phase 3: everybody reads as fast as they can
    const fastStart = read;
    for (const b of responses) {
      budget.set(b, Infinity);
      b.resume();
    }
    await sleep(phaseSeconds * 1000);
    const fast = await sampler.take();
    const fastRead = read - fastStart;
    const endedBefore = ended;
    const failedBefore = failed;
    for (const b of responses) b.destroy();
    await dispatcher.destroy();
    sampler.stop();
    // let the server notice the closed connections and release what they held
    await sleep(3000);
    return {
      paused,
      slow,
      fast,
      readMB: { slow: slowRead / 1e6, fast: fastRead / 1e6 },
      fdsBefore,
      fdsDuring,
      fdsAfter: await openFds(t.pid),
      rssBefore,
      rssAfter: await procStatusMB(t.pid, 'VmRSS'),
      ended: endedBefore,
      failed: failedBefore,
    };
  } finally {
    sampler.stop();
    await dispatcher.destroy().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// where a range request's time goes: its parts, one at a time, in this process before the servers start

interface Breakdown {
  unwrap: number;
  open: number;
  audit: number;
  read: number;
  firstChunk: number;
}

async function breakdown(vault: Vault, recordingId: string, first: number): Promise<Breakdown> {
  const row = (await vault.recordings.get(recordingId))!;
  // the redacted rendition, as the nurse's requests read it
  const rendition = (await vault.recordings.rendition(row.id)) ?? undefined;
  const time = async (f: () => Promise<unknown>) => {
    for (let i = 0; i < 5; i++) await f();
    const samples: number[] = [];
    for (let i = 0; i < BREAKDOWN_REPEATS; i++) {
      const t = process.hrtime.bigint();
      await f();
      samples.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    return median(samples);
  };
  const unwrap = await time(async () => (await unwrapRecordingKey(vault, row)).fill(0));
  const openAll = await time(() => openStoredRecording(vault, row, rendition));
  const audit = await time(() =>
    vault.audit.append({
      action: 'recording.play',
      outcome: 'success',
      actor: { type: 'system', name: 'bench/playback.ts' },
      recordingId: row.id,
      controllerId: row.controller_id,
      purpose: 'quality-review',
      detail: { accessId: row.id, range: { start: first, end: first + RANGE_BYTES } },
      ip: '127.0.0.1',
      requestId: 'req-1',
    }),
  );
  const opened = await openStoredRecording(vault, row, rendition);
  const read = await time(async () => {
    for await (const _ of opened.read(first, first + RANGE_BYTES)) {
      // decrypt and drop
    }
  });
  const firstChunk = await time(async () => {
    for await (const _ of opened.read(first, first + RANGE_BYTES)) break;
  });
  return { unwrap, open: openAll - unwrap, audit, read, firstChunk };
}

// ---------------------------------------------------------------------------------------------

/** what `prepareCall` made: nginx's root holds each call's plaintext as the nurse hears it */
export interface PreparedCalls {
  data: string;
  served: string;
  /** bytes of each call's audio */
  size: number;
  calls: { recordingId: string /** under `served` */; file: string; nurse: NewUserCredentials }[];
}

/**
 * A data directory under `dir` holding `count` calls of `audioSeconds` with their transcript (a
 * phone number said at 10–14 s), imported, redacted (so a nurse hears the redacted rendition, the
 * default) and indexed; a nurse for each call's agent (a nurse hears the calls she handled), or
 * with `oneNurse` every call under one agent and one nurse; and nginx's root with the redacted
 * renditions' plaintext. `inside` runs with the vault still open.
 */
export async function prepareCalls(
  dir: string,
  audioSeconds: number,
  count: number,
  options: { oneNurse?: boolean; inside?: (vault: Vault, recordingIds: string[]) => Promise<void> } = {},
): Promise<PreparedCalls> {
  const src = join(dir, 'src');
  await mkdir(src);
  const one = options.oneNurse || count === 1;
  const agentOf = (i: number) => (one ? AGENT : `${AGENT}-${i}`);
  let size = 0;
  for (let i = 0; i < count; i++) {
    size = await writeWav(join(src, `call-${i}.wav`), audioSeconds, 1 + i);
    await writeFile(join(src, `call-${i}.json`), JSON.stringify({ agent: agentOf(i), region: 'north', direction: 'inbound', startedAt: '2026-11-20T10:00:00Z' }));
    await writeFile(join(src, `call-${i}.transcript.json`), TRANSCRIPT);
  }
  const served = join(dir, 'served');
  await mkdir(served);
  const data = join(dir, 'data');
  const vault = await Vault.create(data, {
    passphrase: BENCH_PASSPHRASE,
    controllerId: CONTROLLER,
    controllerName: 'Region A',
    kdf: { memoryKiB: 8192, iterations: 1, parallelism: 1 },
  });
  try {
    const { report } = await createServices(vault).ingest.importPaths(operatorActor('bench'), [src], { examine: false });
    if (report.imported.length !== count) throw new Error(`import: ${JSON.stringify(report)}`);
    const redacted = await redactPending(vault, DEFAULT_REDACTION);
    if (redacted.byState.redacted !== count) throw new Error(`redaction: ${JSON.stringify(redacted.byState)}`);
    const calls: PreparedCalls['calls'] = [];
    const oneNurse = one ? await createUser(vault, { username: 'nurse-bench', role: 'nurse', controllerId: CONTROLLER, agent: AGENT }) : undefined;
    for (const [n, { id }] of report.imported.entries()) {
      const row = (await vault.recordings.get(id))!;
      const rendition = await vault.recordings.rendition(id);
      if (!rendition) throw new Error('redaction wrote no rendition');
      const i = one ? n : Number(row.agent!.slice(AGENT.length + 1));
      const file = `call-${i}.wav`;
      // nginx's root: the plaintext of the redacted rendition, the bytes callvault serves the nurse
      const out = await open(join(served, file), 'wx');
      try {
        for await (const chunk of (await openStoredRecording(vault, row, rendition)).read()) await out.write(chunk);
      } finally {
        await out.close();
      }
      if ((await stat(join(served, file))).size !== size) throw new Error('the redacted rendition is not the size of the original');
      const nurse = oneNurse ?? (await createUser(vault, { username: `nurse-bench-${i}`, role: 'nurse', controllerId: CONTROLLER, agent: agentOf(i) }));
      calls.push({ recordingId: id, file, nurse });
    }
    await indexPending(vault);
    await options.inside?.(
      vault,
      calls.map((c) => c.recordingId),
    );
    return { data, served, size, calls };
  } finally {
    await vault.close();
  }
}

export const playbackBenchmark: Benchmark = {
  name: 'playback',
  description: 'range requests of 1 MiB from an encrypted one-hour WAV via `callvault serve` vs nginx serving it in plaintext, both HTTPS (MB/s, TTFB, RSS with 100 streams)',
  async run(options: BenchOptions): Promise<BenchResult> {
    const rounds = options.rounds ?? 3;
    const seconds = benchSeconds();
    const { audioSeconds, streams: STREAMS, ttfbRequests: TTFB_REQUESTS, phaseSeconds, connections } = sizes(seconds);
    CONNECTIONS = connections;
    const log = options.log;
    const gen: LoadGen =
      process.env.BENCH_LOADGEN === 'autocannon'
        ? 'autocannon'
        : await run('sh', ['-c', 'command -v wrk']).then(
            () => 'wrk' as const,
            () => 'autocannon' as const,
          );
    try {
      await run('sh', ['-c', 'command -v nginx']);
    } catch {
      throw new Error('nginx is missing: apt-get install -y nginx');
    }
    clockTicks = Number((await run('getconf', ['CLK_TCK'])).stdout.trim()) || 100;
    const loadBefore = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
    const scratch = await makeScratch('playback', options.keep);
    const children: ChildProcess[] = [];
    const dispatchers: Agent[] = [];
    try {
      log(`scratch: ${scratch.filesystem}`);
      log(`load average before the run: ${loadBefore}`);
      // ---- the recording, the data directory, the nurse
      // writeWav's length: the range is planned before the call is made
      const size = (Math.round(audioSeconds * BYTES_PER_SECOND) & ~1) + 44;
      const first = Math.floor(size / 2) - RANGE_BYTES / 2;
      const last = first + RANGE_BYTES - 1;
      const range = `bytes=${first}-${last}`;
      let parts: Breakdown | undefined;
      let auditBefore = 0;
      const prepared = await prepareCalls(scratch.dir, audioSeconds, 1, {
        inside: async (vault, [id]) => {
          parts = await breakdown(vault, id!, first);
          auditBefore = await vault.audit.size();
        },
      });
      if (prepared.size !== size || !parts) throw new Error('the call is not the size planned');
      const { data, served } = prepared;
      const { recordingId, file, nurse: user } = prepared.calls[0]!;
      const wavPath = join(served, file);
      const tlsFiles = await ensureSelfSignedCertificate(data);
      const ca = await readFile(tlsFiles.cert);
      log(`one-hour WAV ${fmt(size / 1e6)} MB imported as ${recordingId}`);

      // ---- the two servers
      const cv = await startCallvault(data, join(scratch.dir, 'callvault-requests.log'));
      children.push(cv.child);
      const port = Number(new URL(cv.url).port);
      const cvTls = await tlsInfo(port, ca);
      const nginxPort = await freePort();
      const ng = await startNginx(join(scratch.dir, 'nginx'), nginxPort, tlsFiles.cert, tlsFiles.key, served);
      children.push(ng.child);
      const ngTls = await waitForTls(nginxPort, ca, ng.child, 'nginx', async () =>
        `${ng.stderr().trim()} ${await readFile(join(scratch.dir, 'nginx', 'error.log'), 'utf8').catch(() => '')}`.trim().slice(-500),
      );
      const nginxVersion = (await run('nginx', ['-v'])).stderr.trim();

      const rssStart = await procStatusMB(cv.child.pid!, 'VmRSS');
      const setup = new Agent({ connect: { ca, servername: 'localhost' } });
      dispatchers.push(setup);
      const { cookie, audioPath } = await signInAndAccess(cv.url, setup, user, recordingId);
      const targets: Record<Server, Target> = {
        callvault: { who: 'callvault', pid: cv.child.pid!, url: `${cv.url}${audioPath}`, headers: { cookie: `__Host-callvault=${cookie}` } },
        nginx: { who: 'nginx', pid: ng.child.pid!, url: `https://127.0.0.1:${nginxPort}/${file}`, headers: {} },
      };
      // both answer the same bytes with the right headers
      const a = await fetchRange(targets.callvault, setup, range, first, last, size);
      const b = await fetchRange(targets.nginx, setup, range, first, last, size);
      if (!a.body.equals(b.body)) throw new Error('callvault and nginx answer different bytes for the same range');
      const wav = await open(wavPath, 'r');
      const expected = Buffer.alloc(RANGE_BYTES);
      await wav.read(expected, 0, RANGE_BYTES, first);
      await wav.close();
      if (!a.body.equals(expected)) throw new Error("callvault answers bytes other than the redacted rendition's for the range");
      const rssIdle = await procStatusMB(targets.callvault.pid, 'VmRSS');
      log(`callvault ${cv.url} (pid ${targets.callvault.pid}, ${cvTls}), ${nginxVersion} on port ${nginxPort} (pid ${targets.nginx.pid}, ${ngTls}); range ${range}`);
      log(`load generator: ${gen}, ${CONNECTIONS} connections, ${seconds} s per server per round`);

      // ---- rounds: load, then TTFB
      const script = join(scratch.dir, 'summary.lua');
      await writeFile(script, WRK_SCRIPT);
      const loads: Record<Server, LoadResult[]> = { callvault: [], nginx: [] };
      const ttfbAll: Record<Server, number[]> = { callvault: [], nginx: [] };
      const ttfbRound: Record<Server, number[]> = { callvault: [], nginx: [] };
      for (let r = 0; r < rounds; r++) {
        const order = SERVERS.map((_, i) => SERVERS[(i + r) % SERVERS.length]!);
        for (const who of order) {
          const res = await load(gen, targets[who], range, seconds, script);
          if (res.errors > 0) throw new Error(`${who}: ${res.errors} errors or non-2xx answers under load`);
          loads[who].push(res);
          log(
            `round ${r + 1}/${rounds} ${who.padEnd(9)} ${fmt(res.rps)} req/s  ${fmt(res.mbps)} MB/s  p50 ${fmt(res.p50ms)} ms  p99 ${fmt(res.p99ms)} ms  ` +
              `CPU ${fmt(res.cpu * 100, 0)} %  RSS peak ${fmt(res.rssPeak)} MB`,
          );
        }
        const perServer = new Map<Server, Dispatcher>(
          SERVERS.map((who) => {
            const d = new Agent({ connect: { ca, servername: 'localhost' }, connections: 1 });
            dispatchers.push(d);
            return [who, d];
          }),
        );
        const t = await ttfb(
          order.map((who) => targets[who]),
          perServer,
          range,
          TTFB_REQUESTS,
        );
        for (const who of SERVERS) {
          ttfbAll[who].push(...t.get(who)!);
          ttfbRound[who].push(median(t.get(who)!));
        }
        for (const d of perServer.values()) await (d as Agent).close();
        log(`round ${r + 1}/${rounds} TTFB median of ${TTFB_REQUESTS}: callvault ${fmt(ttfbRound.callvault.at(-1)!, 2)} ms, nginx ${fmt(ttfbRound.nginx.at(-1)!, 2)} ms`);
      }

      // ---- 100 concurrent streams
      const streams = {} as Record<Server, StreamPhases>;
      for (const who of SERVERS) {
        streams[who] = await manyStreams(targets[who], ca, phaseSeconds, size, STREAMS);
        const s = streams[who];
        log(
          `${STREAMS} streams ${who.padEnd(9)} RSS ${fmt(s.rssBefore)} MB before; peak paused ${fmt(s.paused)}, slow ${fmt(s.slow)} (${fmt(s.readMB.slow)} MB read), ` +
            `fast ${fmt(s.fast)} (${fmt(s.readMB.fast)} MB read); ${fmt(s.rssAfter)} MB 3 s after; fds ${s.fdsBefore} → ${s.fdsDuring} → ${s.fdsAfter}`,
        );
      }
      const hwm = await procStatusMB(targets.callvault.pid, 'VmHWM');
      const loadAfter = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');

      // ---- stop, and count the audit entries the run wrote
      await setup.close();
      await stopChild(cv.child);
      await stopChild(ng.child);
      const closed = await Vault.open(data);
      const auditEntries = (await closed.audit.size()) - auditBefore;
      await closed.close();
      const servedByCallvault = loads.callvault.reduce((n, l) => n + l.requests, 0) + (TTFB_REQUESTS + TTFB_WARMUP) * rounds + STREAMS + 2;

      // ---- results
      const m = (who: Server, f: (l: LoadResult) => number) => median(loads[who].map(f));
      const row = (who: Server, label: string, unit: string, f: (l: LoadResult) => number, digitsNote = ''): Row => ({
        label: `${who} ${label}`,
        value: m(who, f),
        unit,
        samples: loads[who].map(f),
        note: `median of ${rounds}${digitsNote}`,
      });
      const rows: Row[] = [];
      for (const who of SERVERS) {
        rows.push(row(who, 'requests/s', 'req/s', (l) => l.rps, `; ${CONNECTIONS} connections, ${seconds} s, 1 MiB ranges`));
        rows.push(row(who, 'throughput', 'MB/s', (l) => l.mbps, '; audio bytes (1,048,576 per request)'));
        rows.push(row(who, 'latency p50', 'ms', (l) => l.p50ms, '; to the last byte'));
        rows.push(row(who, 'latency p99', 'ms', (l) => l.p99ms));
      }
      for (const who of SERVERS) {
        rows.push({
          label: `${who} TTFB, one range request`,
          value: median(ttfbAll[who]),
          unit: 'ms',
          samples: ttfbRound[who],
          note: `median of ${ttfbAll[who].length} sequential requests (samples: per-round medians); to the headers, kept-alive connection`,
        });
      }
      for (const who of SERVERS) rows.push(row(who, 'server CPU under load', '% core', (l) => l.cpu * 100, '; user+system of the server process'));
      const part = (label: string, value: number, note: string) =>
        rows.push({ label: `part: ${label}`, value, unit: 'ms', note: `median of ${BREAKDOWN_REPEATS}, in the benchmark process before the servers start; ${note}` });
      part('HPKE unwrap of the data key', parts.unwrap, 'once per request');
      part('open object, read + check header', parts.open, 'once per request (stat, a read of the header); the redacted rendition');
      part('audit append (durable commit)', parts.audit, 'once per request, blocks the event loop (better-sqlite3)');
      part('read + decrypt 1 MiB', parts.read, '16 or 17 segments of 64 KiB from a 256 KiB-buffered file stream');
      part('... of which the first chunk', parts.firstChunk, 'before the headers leave: the response is sent with its first chunk');
      rows.push({ label: 'callvault RSS, idle at start', value: rssStart, unit: 'MB', note: 'VmRSS once it listens' });
      rows.push({
        label: 'callvault RSS, idle after sign-in',
        value: rssIdle,
        unit: 'MB',
        note: 'VmRSS, after sign-in and two range requests; the first sign-in loads zxcvbn (new password) and runs Argon2id twice',
      });
      rows.push(row('callvault', 'RSS peak under load', 'MB', (l) => l.rssPeak, `; VmRSS sampled every ${SAMPLE_MS} ms`));
      for (const who of SERVERS) {
        const s = streams[who];
        rows.push({
          label: `${who} RSS peak, ${STREAMS} full-file streams${who === 'nginx' ? ' [extra]' : ''}`,
          value: Math.max(s.paused, s.slow, s.fast),
          unit: 'MB',
          samples: [s.paused, s.slow, s.fast],
          note: `paused / slow (${fmt(SLOW_BYTES_PER_SECOND / 1024, 0)} KiB/s each) / full speed, ${fmt(phaseSeconds, 0)} s each; ${fmt(s.rssBefore)} MB before, ${fmt(s.rssAfter)} MB 3 s after`,
        });
      }
      rows.push({ label: 'callvault VmHWM at the end', value: hwm, unit: 'MB', note: 'peak RSS over the whole run' });

      const thr = m('callvault', (l) => l.mbps) / m('nginx', (l) => l.mbps);
      const tt = median(ttfbAll.callvault) / median(ttfbAll.nginx);
      const rss = rows.find((x) => x.label.startsWith(`callvault RSS peak, ${STREAMS}`))!.value;
      const nginxCpu = m('nginx', (l) => l.cpu);
      const saturation =
        nginxCpu < 0.8
          ? `nginx used only ${fmt(nginxCpu * 100, 0)} % of a core under load: the load generator or other processes limited it, so the throughput ratio flatters callvault`
          : `nginx used ${fmt(nginxCpu * 100, 0)} % of a core under load (saturated), callvault ${fmt(m('callvault', (l) => l.cpu) * 100, 0)} % (more than 100 %: libuv's thread pool reads the file, and GC threads)`;
      const s = streams.callvault;
      return {
        name: 'playback',
        rows,
        ratios: [
          { label: 'throughput callvault / nginx', ratio: thr, comparator: '>=', target: THROUGHPUT_TARGET, pass: thr >= THROUGHPUT_TARGET },
          { label: 'TTFB callvault / nginx (target ≤ 3)', ratio: tt, comparator: '<', target: TTFB_TARGET, pass: tt <= TTFB_TARGET },
          { label: `peak RSS with ${STREAMS} streams / ${RSS_TARGET_MB} MB`, ratio: rss / RSS_TARGET_MB, comparator: '<', target: 1, pass: rss < RSS_TARGET_MB },
        ],
        notes: [
          `${fmt(audioSeconds / 60)}-minute 8 kHz 16-bit mono WAV, ${fmt(size / 1e6)} MB, with a transcript (a phone number said at 10–14 s): the nurse hears its redacted rendition (the default), and nginx serves that rendition's plaintext; every load request is Range: ${range} (1 MiB from the middle)`,
          `both servers HTTPS on 127.0.0.1 with the same self-signed P-256 certificate, one process each; negotiated: callvault ${cvTls}, nginx ${ngTls}; ${nginxVersion}, master_process off, worker_processes 1`,
          `the leaked 2019 server was plain HTTP with no authentication: this comparison charges callvault only for what it does beyond TLS (session, policy, grant, audit, decryption)`,
          `load generator: ${gen === 'wrk' ? 'wrk (one thread)' : 'autocannon (in the benchmark process)'}; it shares the 2 cores with the server under test`,
          saturation,
          `callvault appends one audit entry per range request (a durable SQLite commit, synchronous = FULL): the server wrote ${auditEntries} entries for about ${servedByCallvault} audio requests (the rest: sign-in, purpose); its request log (pino, 2 lines per request) goes to a file, nginx's access log too`,
          `${STREAMS} streams against callvault: open fds ${s.fdsBefore} before, ${s.fdsDuring} while open, ${s.fdsAfter} 3 s after closing; ${s.ended} ended and ${s.failed} failed before the end`,
          `load average (1, 5, 15 min) before the run ${loadBefore}, after ${loadAfter}: anything else running shares the 2 cores`,
          scratch.filesystem,
        ],
      };
    } finally {
      for (const d of dispatchers) await d.destroy().catch(() => {});
      for (const c of children) await stopChild(c).catch(() => {});
      await scratch.cleanup();
    }
  },
};
