/**
 * Dependencies that come and go while `callvault serve` runs: a private PostgreSQL cluster stopped
 * and started, and frozen with SIGSTOP; s3rver killed and started again; a small tmpfs that fills
 * up. Through each, the server stays up, answers 503 with Retry-After and a stable code while the
 * dependency is down, and recovers by itself; recorders that retry lose nothing.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { REPO, cli, initVault, tempDir } from '../helpers.js';
import { S3RVER_CREDENTIALS } from '../storage/s3rver.js';
import { ingestToken, newRecorderLog, noiseCall, startServe, stopGently, upload, uploadUntilKept, type Answer, type ServeProcess } from './serve-process.js';

const run = promisify(execFile);

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function get(server: ServeProcess, path: string): Promise<{ status: number; json: any }> {
  const res = await request(`${server.url}${path}`, { headersTimeout: 30_000 });
  const text = await res.body.text();
  return { status: res.statusCode, json: text ? JSON.parse(text) : undefined };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** a refused upload as a dependency outage must be answered: 503, Retry-After, one of our codes, nothing else */
function assertOutage(answer: Answer, codes: string[], context: string): void {
  assert.equal(answer.status, 503, `${context}: ${answer.status} ${JSON.stringify(answer.json)}`);
  assert.ok(Number(answer.headers['retry-after']) > 0, `${context}: Retry-After`);
  assert.ok(codes.includes(answer.json?.error?.code), `${context}: ${JSON.stringify(answer.json)}`);
}

/** every call answered 2xx is stored under the id given, readable, once; nothing is left pending */
async function assertNothingLost(data: string, env: NodeJS.ProcessEnv, kept: Answer[], context: string, last?: ServeProcess): Promise<void> {
  const verify = await cli(['--data', data, 'verify', '--deep', '--json'], env);
  assert.equal(verify.code, 0, `${context}: ${verify.stdout}${verify.stderr}${last ? `\nthe last server said: ${last.stderr()}` : ''}`);
  const listed = await cli(['--data', data, 'recordings', 'list', '--limit', '1000', '--json'], env);
  const ids = new Set((listed.json.recordings as { id: string }[]).map((r) => r.id));
  const lost = kept.filter((a) => !ids.has(a.json.id)).length;
  console.log(`${context}: ${kept.length} uploads answered 2xx, ${ids.size} recordings listed, ${verify.json.checked} verified; lost: ${lost}`);
  assert.equal(lost, 0);
  assert.deepEqual(verify.json.counts, { inFlight: 0, interrupted: 0, strayObjects: 0 });
}

describe('PostgreSQL stopped, started and frozen under a running server', () => {
  let pgDir: string;
  let pgPort: number;
  const pgCtl = (...args: string[]) => run('runuser', ['-u', 'postgres', '--', 'pg_ctl', '-D', join(pgDir, 'db'), '-w', '-t', '30', ...args]);
  /** SIGSTOP or SIGCONT to the postmaster and every backend it started */
  const signalCluster = async (signal: 'STOP' | 'CONT') => {
    const pid = (await readFile(join(pgDir, 'db', 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0];
    if (!pid) return;
    await run('pkill', [`-${signal}`, '-P', pid]).catch(() => {});
    await run('kill', [`-${signal}`, pid]).catch(() => {});
  };

  before(async () => {
    // PostgreSQL will not run as root: its own directory, owned by its own user, outside the suite
    // root (which only root may enter); it holds sealed metadata only
    pgDir = await mkdtemp(join(tmpdir(), 'callvault-pg-'));
    await chown(pgDir, Number((await run('id', ['-u', 'postgres'])).stdout), Number((await run('id', ['-g', 'postgres'])).stdout));
    await run('runuser', ['-u', 'postgres', '--', 'initdb', '-D', join(pgDir, 'db'), '-A', 'trust', '-U', 'postgres', '--no-sync']);
    pgPort = await freePort();
    await pgCtl('start', '-o', `-p ${pgPort} -k ${pgDir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-l', join(pgDir, 'log'));
  });
  after(async () => {
    await signalCluster('CONT');
    await pgCtl('stop', '-m', 'immediate').catch(() => {});
    await rm(pgDir, { recursive: true, force: true });
  });

  it('the server outlives a restart and a freeze of its database, answering 503 meanwhile, and loses nothing', async () => {
    // short client-side limits, so that a frozen database is told within seconds in the test
    const env = { CALLVAULT_DATABASE_URL: `postgres://postgres@127.0.0.1:${pgPort}/postgres?statement_timeout=2000&query_timeout=3000` };
    const { dir } = await initVault([], env);
    const token = await ingestToken(dir, env);
    const server = await startServe(dir, env);
    const kept: Answer[] = [];
    const log = newRecorderLog();
    try {
      for (let i = 0; i < 3; i++) kept.push((await uploadUntilKept(() => server.url, token, noiseCall(), log))!);

      await pgCtl('stop', '-m', 'fast');
      const down = await upload(server.url, token, noiseCall());
      assertOutage(down, ['CV_DATABASE_UNAVAILABLE', 'CV_AUDIT_UNAVAILABLE'], 'database stopped');
      assert.equal((await get(server, '/healthz')).status, 200, 'alive');
      const ready = await get(server, '/readyz');
      assert.equal(ready.status, 503);
      assert.equal(ready.json.checks.database, 'failing');
      // a recorder keeps sending while the database comes back
      const retrying = uploadUntilKept(() => server.url, token, noiseCall(), log, 60_000);
      await sleep(1500);
      await pgCtl('start', '-o', `-p ${pgPort} -k ${pgDir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-l', join(pgDir, 'log'));
      const afterRestart = await retrying;
      assert.ok(afterRestart && afterRestart.status === 201, 'stored once the database is back');
      kept.push(afterRestart);

      // frozen: every process of the cluster stopped, connections open and silent
      await signalCluster('STOP');
      const started = Date.now();
      const frozen = await upload(server.url, token, noiseCall());
      const waited = Date.now() - started;
      assertOutage(frozen, ['CV_DATABASE_UNAVAILABLE', 'CV_AUDIT_UNAVAILABLE'], 'database frozen');
      assert.equal((await get(server, '/healthz')).status, 200, 'alive while the database is frozen');
      await signalCluster('CONT');
      kept.push((await uploadUntilKept(() => server.url, token, noiseCall(), log, 60_000))!);
      assert.ok(kept.every((a) => a?.status === 201));
      assert.equal(server.child.exitCode, null, 'the server is still running');
      console.log(`PostgreSQL: stopped, started, frozen (a request answered 503 after ${waited} ms); ${log.requests} requests`);
    } finally {
      await signalCluster('CONT');
      await stopGently(server);
    }
    // the server's housekeeping settles what the outages cut off
    const again = await startServe(dir, env);
    await stopGently(again);
    await assertNothingLost(dir, env, kept, 'PostgreSQL');
  });
});

describe('object storage killed and started again under a running server', () => {
  let s3: ChildProcess | undefined;
  let s3Dir: string;
  let s3Port: number;
  const startS3 = async () => {
    // s3rver as it is: it does not implement ListMultipartUploads (501), as some stores do not
    s3 = spawn(process.execPath, [join(REPO, 'node_modules', '.bin', 's3rver'), '-d', s3Dir, '-a', '127.0.0.1', '-p', String(s3Port), '-s', '--configure-bucket', 'calls'], {
      stdio: 'ignore',
    });
    for (let i = 0; i < 100; i++) {
      const up = await request(`http://127.0.0.1:${s3Port}/`).then(
        (r) => r.body.dump().then(() => true),
        () => false,
      );
      if (up) return;
      await sleep(100);
    }
    throw new Error('s3rver did not start');
  };
  const killS3 = async () => {
    if (!s3 || s3.exitCode !== null) return;
    const exited = new Promise((resolve) => s3!.once('exit', resolve));
    s3.kill('SIGKILL');
    await exited;
  };

  before(async () => {
    s3Dir = await tempDir('data', 's3-fault');
    s3Port = await freePort();
    await startS3();
  });
  after(killS3);

  it('an S3 outage is a 503 that recorders ride out; housekeeping the store cannot do is skipped, not fatal', async () => {
    const env = {
      CALLVAULT_BLOB_URL: `s3://calls/vault?endpoint=${encodeURIComponent(`http://127.0.0.1:${s3Port}`)}&region=us-east-1&forcePathStyle=true`,
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    };
    const { dir } = await initVault([], env);
    const src = await tempDir('src', 's3-fault');
    await writeFile(join(src, 'call.wav'), noiseCall());
    const imported = await cli(['--data', dir, 'import', src, '--json'], env);
    assert.equal(imported.code, 0, imported.stdout + imported.stderr);
    assert.equal(imported.json.imported.length, 1);
    assert.match(imported.stderr, /warning: partial objects were not cleaned: object storage ListMultipartUploads failed \(HTTP 501/);

    const token = await ingestToken(dir, env);
    const server = await startServe(dir, env);
    const kept: Answer[] = [];
    const log = newRecorderLog();
    try {
      kept.push((await uploadUntilKept(() => server.url, token, noiseCall(), log))!);
      await killS3();
      const down = await upload(server.url, token, noiseCall(300_000));
      assertOutage(down, ['CV_STORAGE_UNAVAILABLE'], 'object storage down');
      const ready = await get(server, '/readyz');
      assert.equal(ready.status, 503);
      assert.equal(ready.json.checks.blobs, 'failing');
      const exported = await cli(['--data', dir, 'export', kept[0]!.json.id, '--out', join(await tempDir('out', 's3-fault'), 'x.wav'), '--json'], env);
      assert.equal(exported.json?.error?.code, 'CV_STORAGE_UNAVAILABLE', exported.stdout + exported.stderr);
      const retrying = Promise.all([0, 1, 2].map(() => uploadUntilKept(() => server.url, token, noiseCall(), log, 60_000)));
      await sleep(2000);
      await startS3();
      for (const a of await retrying) {
        assert.equal(a?.status, 201);
        kept.push(a!);
      }
      assert.equal(server.child.exitCode, null, 'the server is still running');
      console.log(`S3: killed and started again; ${log.requests} requests (${[...log.statuses].map(([s, n]) => `${n}×${s || 'no answer'}`).join(', ')})`);
    } finally {
      await stopGently(server);
    }
    kept.push({ status: 201, json: imported.json.imported[0], headers: {} });
    // attempts whose objects could not be removed while the store was down are settled by the
    // housekeeping of the next server (or of this one, within minutes)
    const interrupted = (await cli(['--data', dir, 'verify', '--json'], env)).json.counts.interrupted;
    assert.ok(interrupted > 0, 'the outage left attempts whose objects could not be removed');
    const again = await startServe(dir, env, 0, ['--metrics-listen', '127.0.0.1:0']);
    let settled = 0;
    try {
      // its metrics count what its housekeeping settled
      for (let i = 0; i < 100 && settled < interrupted; i++) {
        const metricsUrl = /metrics on (http:\/\/\S+)/.exec(again.stderr())?.[1];
        if (metricsUrl) {
          const text = await (await request(metricsUrl)).body.text();
          settled = [...text.matchAll(/^callvault_housekeeping_attempts_total\{outcome="(?:completed|removed)"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
        }
        if (settled < interrupted) await sleep(100);
      }
    } finally {
      await stopGently(again);
    }
    assert.equal(settled, interrupted, 'callvault_housekeeping_attempts_total counts every attempt settled');
    await assertNothingLost(dir, env, kept, 'S3', again);
  });
});

describe('a full disk under a running server', () => {
  it('uploads get 503 while the disk is full and succeed once space is freed; nothing partial stays', async (t) => {
    const dir = join(await tempDir('data', 'full-serve'), 'vault');
    await mkdir(dir);
    try {
      await run('mount', ['-t', 'tmpfs', '-o', 'size=12m', 'tmpfs', dir]);
    } catch {
      t.skip('mounting a tmpfs needs root');
      return;
    }
    try {
      assert.equal((await cli(['--data', dir, 'init', '--json'])).code, 0);
      // room that the operator can free later
      const filler = join(dir, 'filler');
      await writeFile(filler, Buffer.alloc(4 * 1024 * 1024, 1));
      await chmod(filler, 0o600);
      const token = await ingestToken(dir);
      const server = await startServe(dir);
      const kept: Answer[] = [];
      let refused: Answer | undefined;
      try {
        for (let i = 0; i < 40 && !refused; i++) {
          const a = await upload(server.url, token, noiseCall(900_000));
          if (a.status === 201) kept.push(a);
          else refused = a;
        }
        assert.ok(refused, 'the disk filled up');
        assertOutage(refused, ['CV_STORAGE_UNAVAILABLE', 'CV_DATABASE_UNAVAILABLE', 'CV_AUDIT_UNAVAILABLE'], 'disk full');
        assert.equal((await get(server, '/healthz')).status, 200, 'alive with a full disk');
        await unlink(filler);
        const a = await upload(server.url, token, noiseCall(900_000));
        assert.equal(a.status, 201, `stored once space is freed: ${JSON.stringify(a.json)}`);
        kept.push(a);
        assert.equal(server.child.exitCode, null);
        console.log(`full disk: ${kept.length} uploads stored, one refused with ${refused.json.error.code}, then one stored after freeing space`);
      } finally {
        await stopGently(server);
      }
      await assertNothingLost(dir, {}, kept, 'full disk');
    } finally {
      await run('umount', ['-l', dir]).catch(() => {});
    }
  });
});
