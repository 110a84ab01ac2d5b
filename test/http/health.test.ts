/**
 * /healthz, /readyz and /metrics on a real server started the way `callvault serve` starts it
 * (startServer, with --metrics-listen), on SQLite and on a real PostgreSQL. Readiness is checked
 * under real faults: the objects directory gone, another connection holding the database's write
 * lock or a lock on the audit head, the database refusing audit entries, a locked key provider,
 * a closed database. The metrics are checked by Prometheus' own linter (`promtool check metrics`)
 * and by the values of named series after known requests, appends and imports.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Agent, request, type Dispatcher } from 'undici';
import { Vault } from '../../src/vault.js';
import { startServer, parseMetricsListen } from '../../src/cli/commands/serve.js';
import { defaultTlsFiles, readTls } from '../../src/http/tls.js';
import { countIngest } from '../../src/metrics/metrics.js';
import { ErrorCodes } from '../../src/errors.js';
import { wavHeader } from '../fixtures/audio.js';
import { TEST_KDF } from './harness.js';
import { cli, PASSPHRASE, tempDir, throwawayPostgres } from '../helpers.js';

interface Answer {
  status: number;
  json: any;
  text: string;
}

interface Running {
  url: string;
  metricsUrl: string;
  get(path: string, init?: { method?: Dispatcher.HttpMethod; json?: unknown; headers?: Record<string, string> }): Promise<Answer>;
  scrape(): Promise<string>;
  stop(): Promise<void>;
}

/** `callvault serve --host 127.0.0.1 --port 0 --metrics-listen 127.0.0.1:0` on an opened vault */
async function serve(vault: Vault): Promise<Running> {
  const server = await startServer(vault, { host: '127.0.0.1', port: 0, checkpointInterval: 0, metricsListen: '127.0.0.1:0' }, false);
  const tls = await readTls(defaultTlsFiles(vault.dataDir));
  const dispatcher = new Agent({ connect: { ca: tls.cert, servername: 'localhost' } });
  const metricsUrl = server.metricsUrl!;
  return {
    url: server.url,
    metricsUrl,
    async get(path, init = {}) {
      const res = await request(`${server.url}${path}`, {
        method: init.method ?? 'GET',
        dispatcher,
        headers: { ...init.headers, ...(init.json === undefined ? {} : { 'content-type': 'application/json' }) },
        body: init.json === undefined ? undefined : JSON.stringify(init.json),
      });
      const text = await res.body.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.statusCode, json, text };
    },
    async scrape() {
      const res = await request(metricsUrl);
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      return res.body.text();
    },
    async stop() {
      await server.stop();
      await dispatcher.close();
    },
  };
}

/** the value of one series in the Prometheus text format, found by name and its exact label set */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    if (m[1] !== name) continue;
    const found = [...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]);
    if (JSON.stringify(found.sort()) !== wanted) continue;
    return /^nan$/i.test(m[3]!) ? NaN : Number(m[3]);
  }
  return undefined;
}

/** `promtool check metrics` over the text: its exit status and what it printed */
async function promtool(text: string): Promise<{ code: number | null; output: string }> {
  const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (b) => (output += b));
  child.stderr.on('data', (b) => (output += b));
  child.stdin.end(text);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve(status));
  });
  return { code, output };
}

/** readyz answers until it is 200, a bounded number of times: a probe that was waiting on the fault finishes first */
async function readyAgain(server: Running): Promise<{ status: number; json: any }> {
  let answer = await server.get('/readyz');
  for (let i = 0; i < 20 && answer.status !== 200; i++) {
    await sleep(100);
    answer = await server.get('/readyz');
  }
  return answer;
}

function assertNotReady(answer: { status: number; json: any; text: string }, failing: Record<string, string | string[]>, dataDir: string): void {
  assert.equal(answer.status, 503, answer.text);
  assert.equal(answer.json.status, 'not-ready');
  assert.equal(answer.json.error.code, ErrorCodes.NOT_READY);
  for (const name of ['database', 'blobs', 'keys', 'audit']) {
    const expected = failing[name] ?? 'ok';
    if (Array.isArray(expected)) assert.ok(expected.includes(answer.json.checks[name]), `${name}: ${answer.json.checks[name]}`);
    else assert.equal(answer.json.checks[name], expected, name);
  }
  assert.equal(
    answer.json.error.message,
    `not ready: ${Object.keys(failing)
      .sort((a, b) => ['database', 'blobs', 'keys', 'audit'].indexOf(a) - ['database', 'blobs', 'keys', 'audit'].indexOf(b))
      .join(', ')}`,
  );
  // nothing identifying: no path, no host name
  assert.ok(!answer.text.includes(dataDir) && !answer.text.includes(hostname()), answer.text);
}

/** a second of quiet noise as an 8 kHz WAV: something `callvault import` stores */
function noiseWav(seed: number): Buffer {
  const pcm = Buffer.alloc(16_000);
  let x = seed;
  for (let i = 0; i < pcm.length; i += 2) {
    x = (x * 1103515245 + 12345) >>> 0;
    pcm.writeInt16LE(((x >>> 16) % 2000) - 1000, i);
  }
  return Buffer.concat([wavHeader({ formatTag: 1, channels: 1, rate: 8000, bits: 16, dataBytes: pcm.length }), pcm]);
}

describe('health, readiness and metrics on SQLite', () => {
  let dataDir: string;
  let vault: Vault;
  let server: Running;

  before(async () => {
    dataDir = await tempDir('data', 'health');
    vault = await Vault.create(dataDir, { passphrase: PASSPHRASE, controllerId: 'region-a', controllerName: 'Region A', kdf: TEST_KDF });
    server = await serve(vault);
  });
  after(async () => {
    await server.stop();
    await vault.close();
  });

  it('healthz answers 200, and readyz 200 with every check ok', async () => {
    const health = await server.get('/healthz');
    assert.deepEqual([health.status, health.json], [200, { status: 'ok' }]);
    const ready = await server.get('/readyz');
    assert.equal(ready.status, 200, ready.text);
    assert.deepEqual(ready.json, { status: 'ready', checks: { database: 'ok', blobs: 'ok', keys: 'ok', audit: 'ok' } });
    // no authentication is asked, and a bad credential is not looked at
    for (const path of ['/healthz', '/readyz']) assert.equal((await server.get(path, { headers: { authorization: 'Bearer cvt_not_a_token' } })).status, 200, path);
  });

  it('serves /metrics on its own listener only, in a text promtool accepts, naming nothing identifying', async () => {
    const text = await server.scrape();
    const lint = await promtool(text);
    assert.equal(lint.code, 0, lint.output);
    assert.equal(lint.output.trim(), '');
    for (const name of [
      'callvault_http_requests_total',
      'callvault_audit_appends_total',
      'callvault_ingest_total',
      'callvault_import_files_total',
      'callvault_dependency_up',
      'callvault_keys_unlocked',
      'callvault_pending_recordings',
      'callvault_audit_checkpoint_age_seconds',
      'process_cpu_seconds_total',
      'nodejs_heap_size_used_bytes',
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
    }
    assert.ok(!text.includes(dataDir) && !text.includes(hostname()));
    // the HTTPS port has no /metrics; the metrics listener has nothing else
    const onHttps = await server.get('/metrics');
    assert.equal(onHttps.status, 404);
    assert.equal(onHttps.json.error.code, ErrorCodes.NOT_FOUND);
    const elsewhere = await request(server.metricsUrl.replace(/\/metrics$/, '/readyz'));
    assert.equal(elsewhere.statusCode, 404);
    await elsewhere.body.dump();
  });

  it('counts requests by route pattern, method and status, with their latency', async () => {
    const series = { method: 'GET', route: '/api/v1/recordings', status: '401' };
    const beforeText = await server.scrape();
    const count = sample(beforeText, 'callvault_http_requests_total', series) ?? 0;
    const observed = sample(beforeText, 'callvault_http_request_duration_seconds_count', { method: 'GET', route: '/api/v1/recordings' }) ?? 0;
    const id = randomUUID();
    for (let i = 0; i < 3; i++) assert.equal((await server.get('/api/v1/recordings')).status, 401);
    assert.equal((await server.get(`/api/v1/recordings/${id}`)).status, 401);
    const afterText = await server.scrape();
    assert.equal(sample(afterText, 'callvault_http_requests_total', series), count + 3);
    assert.equal(sample(afterText, 'callvault_http_request_duration_seconds_count', { method: 'GET', route: '/api/v1/recordings' }), observed + 3);
    assert.equal(sample(afterText, 'callvault_http_request_duration_seconds_bucket', { method: 'GET', route: '/api/v1/recordings', le: '+Inf' }), observed + 3);
    // the route pattern, never the URL as sent
    assert.equal(sample(afterText, 'callvault_http_requests_total', { method: 'GET', route: '/api/v1/recordings/:id', status: '401' }), 1);
    assert.ok(!afterText.includes(id));
  });

  it('counts audit appends and ingest outcomes, and reads pending attempts and the checkpoint when scraped', async () => {
    const before = await server.scrape();
    const written = sample(before, 'callvault_audit_appends_total', { outcome: 'written' })!;
    const appendsObserved = sample(before, 'callvault_audit_append_duration_seconds_count')!;
    const stored = sample(before, 'callvault_ingest_total', { outcome: 'stored' })!;
    assert.equal(sample(before, 'callvault_pending_recordings'), 0);

    const checkpoints = await vault.auditCheckpoints();
    await checkpoints.make();
    const size = await vault.audit.size();
    for (let i = 0; i < 2; i++) await vault.audit.append({ action: 'audit.read', outcome: 'success', actor: { type: 'system' }, detail: { what: 'test' } });
    assert.equal(await vault.audit.size(), size + 2);
    countIngest('stored');
    // an attempt whose object was never committed, as a crashed upload leaves it
    const pendingId = randomUUID();
    await vault.recordings.insertPending({
      id: pendingId,
      controller_id: 'region-a',
      writer: `${hostname()}:${process.pid}`,
      blob_key: `recordings/${pendingId.slice(0, 2)}/${pendingId}.cvr`,
      key_id: (await vault.keys.activeKey('region-a')).keyId,
      wrapped_key: '',
      ciphertext_size: 0,
      ciphertext_sha256: '0'.repeat(64),
      content_sha256: randomBytes(32).toString('hex'),
      plaintext_size: 0,
      format: 'wav',
      codec: 'pcm_s16le',
      sample_rate: 8000,
      channels: 1,
      duration_ms: 0,
      agent: null,
      region: null,
      direction: null,
      started_at: null,
      sealed_metadata: '',
      imported_at: new Date().toISOString(),
    });
    try {
      const after = await server.scrape();
      assert.equal(sample(after, 'callvault_audit_appends_total', { outcome: 'written' }), written + 2);
      assert.equal(sample(after, 'callvault_audit_append_duration_seconds_count'), appendsObserved + 2);
      assert.equal(sample(after, 'callvault_ingest_total', { outcome: 'stored' }), stored + 1);
      assert.equal(sample(after, 'callvault_pending_recordings'), 1);
      assert.equal(sample(after, 'callvault_audit_unsigned_entries'), 2);
      const age = sample(after, 'callvault_audit_checkpoint_age_seconds')!;
      const made = Date.parse((await checkpoints.latest())!.createdAt);
      assert.ok(age >= 0 && age <= (Date.now() - made) / 1000, String(age));
    } finally {
      await vault.database.db.deleteFrom('recordings').where('id', '=', pendingId).execute();
    }
  });

  it('counts the files of `callvault import` runs, another process, from their audit summaries', async () => {
    const src = await tempDir('src', 'health');
    await writeFile(join(src, 'call-1.wav'), noiseWav(1));
    const before = await server.scrape();
    const imported = sample(before, 'callvault_import_files_total', { outcome: 'imported' })!;
    const duplicate = sample(before, 'callvault_import_files_total', { outcome: 'duplicate' })!;
    const first = await cli(['--data', dataDir, 'import', src], { CALLVAULT_PASSPHRASE: undefined });
    assert.equal(first.code, 0, first.stderr);
    const second = await cli(['--data', dataDir, 'import', src], { CALLVAULT_PASSPHRASE: undefined });
    assert.equal(second.code, 0, second.stderr);
    const after = await server.scrape();
    assert.equal(sample(after, 'callvault_import_files_total', { outcome: 'imported' }), imported + 1);
    assert.equal(sample(after, 'callvault_import_files_total', { outcome: 'duplicate' }), duplicate + 1);
    assert.equal(sample(after, 'callvault_import_files_total', { outcome: 'failed' }), 0);
    // counted once, however often scraped
    const again = await server.scrape();
    assert.equal(sample(again, 'callvault_import_files_total', { outcome: 'imported' }), imported + 1);
  });

  it('readyz names blobs while the objects directory is missing, and does not make it again', async () => {
    const objects = join(dataDir, 'objects');
    await rename(objects, `${objects}.away`);
    let during: Answer;
    try {
      during = await server.get('/readyz');
      assertNotReady(during, { blobs: 'failing' }, dataDir);
      assert.equal(existsSync(objects), false, 'the probe made the objects directory again');
      assert.equal(sample(await server.scrape(), 'callvault_dependency_up', { dependency: 'blobs' }), 0);
    } finally {
      await rename(`${objects}.away`, objects);
    }
    const after = await server.get('/readyz');
    assert.equal(after.status, 200, after.text);
    assert.equal(sample(await server.scrape(), 'callvault_dependency_up', { dependency: 'blobs' }), 1);
    console.log(`objects directory removed: readyz held ${during.status} ${JSON.stringify(during.json.checks)}; after it came back ${after.status}; lost: 0`);
  });

  it('readyz names audit while another connection holds the write lock, and answers within the timeout', async () => {
    const other = new SQLite(join(dataDir, 'callvault.db'));
    let during: Answer;
    try {
      other.exec('BEGIN IMMEDIATE');
      during = await server.get('/readyz');
      // SQLite's wait for the lock is bounded by the check's timeout; it then reports busy
      assertNotReady(during, { audit: ['failing', 'timeout'] }, dataDir);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    const after = await server.get('/readyz');
    assert.equal(after.status, 200, after.text);
    console.log(`write lock held by another connection: readyz held ${during.status} ${JSON.stringify(during.json.checks)}; after release ${after.status}; lost: 0`);
  });

  it('readyz names audit after an append failed, until an append succeeds again', async () => {
    const other = new SQLite(join(dataDir, 'callvault.db'));
    const before = await server.scrape();
    const failed = sample(before, 'callvault_audit_appends_total', { outcome: 'failed' })!;
    const size = await vault.audit.size();
    let refused: Answer;
    let during: Answer;
    try {
      // the database refuses every new entry; the head row (what the probe touches) stays writable
      other.exec("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_entries BEGIN SELECT RAISE(ABORT, 'refused'); END");
      // a failed sign-in is audited before it is answered: with the log refusing, nothing is answered but 503
      refused = await server.get('/api/v1/auth/signin', { method: 'POST', json: { username: 'nobody-here', password: 'not the password at all' } });
      assert.equal(refused.status, 503, refused.text);
      assert.equal(refused.json.error.code, ErrorCodes.AUDIT_UNAVAILABLE);
      during = await server.get('/readyz');
      assertNotReady(during, { audit: 'failing' }, dataDir);
      assert.equal(sample(await server.scrape(), 'callvault_audit_appends_total', { outcome: 'failed' }), failed + 1);
    } finally {
      other.exec('DROP TRIGGER refuse_audit');
      other.close();
    }
    // the probe passes again at once, but the failed append is remembered for a while
    assertNotReady(await server.get('/readyz'), { audit: 'failing' }, dataDir);
    const denied = await server.get('/api/v1/auth/signin', { method: 'POST', json: { username: 'nobody-here', password: 'not the password at all' } });
    assert.equal(denied.status, 401, denied.text);
    assert.equal(await vault.audit.size(), size + 1, 'the refused entry is not in the log; the later one is');
    const after = await server.get('/readyz');
    assert.equal(after.status, 200, after.text);
    console.log(
      `audit entries refused: held 1 request answered ${refused.status}, readyz ${during.status} ${JSON.stringify(during.json.checks)}; after an append succeeded ${after.status}; lost: 0`,
    );
  });

  it('readyz names keys while the key provider is locked', async () => {
    const locked = await Vault.open(dataDir);
    const other = await serve(locked);
    try {
      const during = await other.get('/readyz');
      assertNotReady(during, { keys: 'locked' }, dataDir);
      const text = await other.scrape();
      assert.equal(sample(text, 'callvault_keys_unlocked'), 0);
      assert.equal(sample(text, 'callvault_dependency_up', { dependency: 'keys' }), 0);
      assert.equal(sample(text, 'callvault_dependency_up', { dependency: 'database' }), 1);
      await locked.unlock(PASSPHRASE);
      const after = await other.get('/readyz');
      assert.equal(after.status, 200, after.text);
      assert.equal(sample(await other.scrape(), 'callvault_keys_unlocked'), 1);
    } finally {
      await other.stop();
      await locked.close();
    }
  });

  it('readyz names database and audit when the database is closed; healthz and the scrape still answer', async () => {
    const broken = await Vault.open(dataDir);
    await broken.unlock(PASSPHRASE);
    const other = await serve(broken);
    try {
      await broken.database.close();
      const during = await other.get('/readyz');
      assertNotReady(during, { database: 'failing', audit: 'failing' }, dataDir);
      const health = await other.get('/healthz');
      assert.deepEqual([health.status, health.json], [200, { status: 'ok' }]);
      const text = await other.scrape();
      assert.equal(sample(text, 'callvault_dependency_up', { dependency: 'database' }), 0);
      assert.equal(sample(text, 'callvault_dependency_up', { dependency: 'audit' }), 0);
      assert.ok(Number.isNaN(sample(text, 'callvault_pending_recordings')));
      assert.equal((await promtool(text)).code, 0);
      console.log(`database closed: readyz held ${during.status} ${JSON.stringify(during.json.checks)}, healthz ${health.status}; lost: 0`);
    } finally {
      // the shutdown checkpoint cannot be written to a closed database
      await other.stop().catch(() => {});
      await broken.close().catch(() => {});
    }
  });
});

describe('readiness on PostgreSQL', () => {
  it('a lock held on the audit head makes readyz answer 503 while it is held, and ready once it is released', async () => {
    const pgdb = await throwawayPostgres();
    const dataDir = await tempDir('data', 'health-pg');
    const vault = await Vault.create(dataDir, { passphrase: PASSPHRASE, controllerId: 'region-a', controllerName: 'Region A', kdf: TEST_KDF }, { databaseUrl: pgdb.url });
    const server = await serve(vault);
    const locker = new pg.Client({ connectionString: pgdb.url });
    await locker.connect();
    try {
      assert.equal((await server.get('/readyz')).status, 200);
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE audit_head IN ACCESS EXCLUSIVE MODE');
      // answered while the lock is still held: the check did not wait for it
      const first = await server.get('/readyz');
      assertNotReady(first, { audit: 'timeout' }, dataDir);
      // a second check waits on the probe still running rather than starting another
      const second = await server.get('/readyz');
      assertNotReady(second, { audit: 'timeout' }, dataDir);
      const { rows } = await locker.query("SELECT count(*)::int AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'audit_head' AND NOT l.granted");
      assert.equal(rows[0].n, 1, 'one probe waits on the lock');
      assert.equal(sample(await server.scrape(), 'callvault_dependency_up', { dependency: 'audit' }), 0);
      await locker.query('ROLLBACK');
      const after = await readyAgain(server);
      assert.equal(after.status, 200);
      console.log(
        `audit head locked on PostgreSQL: readyz held ${first.status} ${JSON.stringify(first.json.checks)} twice, with one probe waiting; after release ${after.status}; lost: 0`,
      );
    } finally {
      await locker.end();
      await server.stop();
      await vault.close();
      await pgdb.drop();
    }
  });
});

describe('--metrics-listen', () => {
  it('takes a loopback HOST:PORT, and another address only with --metrics-allow-remote', async () => {
    assert.deepEqual(parseMetricsListen('127.0.0.1:9464', false), { host: '127.0.0.1', port: 9464 });
    assert.deepEqual(parseMetricsListen('[::1]:9464', false), { host: '::1', port: 9464 });
    assert.deepEqual(parseMetricsListen('10.1.2.3:9464', true), { host: '10.1.2.3', port: 9464 });
    for (const value of ['0.0.0.0:9464', '10.1.2.3:9464', '[::]:9464', 'metrics.example:9464']) {
      assert.throws(
        () => parseMetricsListen(value, false),
        (e: any) => e.code === ErrorCodes.USAGE && /--metrics-allow-remote/.test(e.message),
        value,
      );
    }
    for (const value of ['9464', '127.0.0.1', '127.0.0.1:99999', '::1:9464', '127.0.0.1:port']) {
      assert.throws(
        () => parseMetricsListen(value, false),
        (e: any) => e.code === ErrorCodes.USAGE,
        value,
      );
    }
    // refused before anything listens
    const dataDir = await tempDir('data', 'health-listen');
    const vault = await Vault.create(dataDir, { passphrase: PASSPHRASE, controllerId: 'region-a', controllerName: 'Region A', kdf: TEST_KDF });
    try {
      await assert.rejects(startServer(vault, { host: '127.0.0.1', port: 0, metricsListen: '0.0.0.0:0' }, false), (e: any) => e.code === ErrorCodes.USAGE);
    } finally {
      await vault.close();
    }
  });
});
