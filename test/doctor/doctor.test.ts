/**
 * `callvault doctor` against a good deployment and against each misconfiguration it names: the
 * finding it must report, and the exit status (1 on a failure, 0 with warnings only).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { MAGIC } from '../../src/container/header.js';
import { audioSignature } from '../../src/audio/signature.js';
import { checkCheckpoint } from '../../src/doctor/vault.js';
import { Vault } from '../../src/vault.js';
import { cli, initVault, PASSPHRASE, removeDir, tempDir, type CliResult } from '../helpers.js';
import { wavHeader } from '../fixtures/audio.js';

interface Finding {
  check: string;
  status: 'ok' | 'warn' | 'fail';
  message: string;
  fix: string;
}

const DAY_MS = 86_400_000;

let witnessDir: string;

before(async () => {
  witnessDir = await tempDir('out', 'witness');
});
after(async () => {
  await removeDir(witnessDir);
});

/** a fresh, empty temporary directory for each doctor run: the host's own holds other runs' work */
async function doctor(dir: string, args: string[] = [], env: Record<string, string | undefined> = {}): Promise<CliResult & { findings: Finding[] }> {
  const tmp = await tempDir('out', 'tmp');
  try {
    const r = await cli(['--data', dir, 'doctor', '--json', ...args], {
      TMPDIR: tmp,
      CALLVAULT_AUDIT_WITNESS: `file:${join(witnessDir, 'checkpoints')}`,
      CALLVAULT_PASSPHRASE: undefined,
      ...env,
    });
    assert.ok(r.json, `doctor printed no JSON: ${r.stderr}`);
    assert.equal(r.json.ok, r.code === 0);
    return { ...r, findings: r.json.findings };
  } finally {
    await removeDir(tmp);
  }
}

function only(findings: Finding[], check: string): Finding[] {
  return findings.filter((f) => f.check === check);
}

function failures(findings: Finding[]): Finding[] {
  return findings.filter((f) => f.status === 'fail');
}

async function controllerOf(dir: string): Promise<string> {
  return JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')).defaultController;
}

/** a deployment done right: keyring apart from the data, retention set, a checkpoint witnessed */
async function goodDeployment(): Promise<{ dir: string; keysDir: string; env: Record<string, string> }> {
  const keysDir = await tempDir('src', 'keys');
  const env = { CALLVAULT_KMS: `file:${join(keysDir, 'keyring.json')}`, CALLVAULT_AUDIT_WITNESS: `file:${join(witnessDir, 'checkpoints')}` };
  const { dir } = await initVault([], env);
  const controller = await controllerOf(dir);
  assert.equal((await cli(['--data', dir, 'retention', 'set', '--controller', controller, '--days', '3650', '--yes'], env)).code, 0);
  assert.equal((await cli(['--data', dir, 'audit', 'checkpoint'], env)).code, 0);
  return { dir, keysDir, env };
}

describe('callvault doctor', () => {
  test('a good deployment passes every check, with exit status 0', async () => {
    const { dir, keysDir, env } = await goodDeployment();
    try {
      const r = await doctor(dir, [], env);
      assert.equal(r.code, 0, JSON.stringify(r.findings, null, 2));
      assert.deepEqual(
        r.findings.filter((f) => f.status !== 'ok'),
        [],
      );
      for (const check of ['keyring', 'signing-key', 'permissions', 'plaintext-audio', 'temporary', 'audit-witness', 'audit-checkpoint', 'retention'])
        assert.ok(only(r.findings, check).length, `no ${check} finding`);
      assert.ok(!r.stdout.includes(PASSPHRASE));
      // the human output: one line per finding
      const own = await tempDir('out', 'tmp');
      const text = await cli(['--data', dir, 'doctor'], { ...env, TMPDIR: own, CALLVAULT_PASSPHRASE: undefined });
      await removeDir(own);
      assert.equal(text.code, 0);
      assert.equal(text.stdout.trim().split('\n').length, r.findings.length);
      assert.match(text.stdout, /^OK +keyring: the keyring .* is for its owner only \(mode 600\)$/m);
    } finally {
      await removeDir(dir);
      await removeDir(keysDir);
    }
  });

  test('a keyring or signing key open to others fails; a keyring in the data directory warns', async () => {
    const { dir } = await initVault();
    try {
      const inside = await doctor(dir);
      assert.equal(inside.code, 0);
      const kept = only(inside.findings, 'keyring').find((f) => f.status === 'warn');
      assert.match(kept?.message ?? '', /kept with the data: a backup of the data directory carries it/);
      assert.match(kept?.fix ?? '', /CALLVAULT_KMS=file:PATH/);

      await chmod(join(dir, 'keys', 'keyring.json'), 0o644);
      const keyring = await doctor(dir);
      assert.equal(keyring.code, 1);
      assert.deepEqual(
        failures(keyring.findings).map((f) => f.check),
        ['keyring'],
      );
      assert.match(failures(keyring.findings)[0]!.message, /mode 644/);
      assert.match(failures(keyring.findings)[0]!.fix, /^chmod 600 /);

      await chmod(join(dir, 'keys', 'keyring.json'), 0o600);
      await chmod(join(dir, 'keys', 'audit-signing.key'), 0o640);
      const signing = await doctor(dir);
      assert.equal(signing.code, 1);
      assert.deepEqual(
        failures(signing.findings).map((f) => f.check),
        ['signing-key'],
      );
    } finally {
      await removeDir(dir);
    }
  });

  test('a data directory, database or objects directory open to others fails', async () => {
    const { dir } = await initVault();
    try {
      await chmod(dir, 0o755);
      await chmod(join(dir, 'callvault.db'), 0o644);
      await chmod(join(dir, 'objects'), 0o750);
      const r = await doctor(dir);
      assert.equal(r.code, 1);
      const failed = failures(r.findings);
      assert.deepEqual(new Set(failed.map((f) => f.check)), new Set(['permissions']));
      assert.equal(failed.length, 3);
      for (const [f, mode] of failed.map((f, i) => [f, ['755', '750', '644'][i]] as const)) assert.match(f.message, new RegExp(`mode ${mode}`));
    } finally {
      await removeDir(dir);
    }
  });

  test('plaintext audio anywhere in the data directory fails; encrypted objects do not', async () => {
    const { dir } = await initVault();
    try {
      const wav = Buffer.concat([wavHeader({ formatTag: 1, channels: 1, rate: 8000, bits: 16, dataBytes: 1600 }), Buffer.alloc(1600)]);
      await writeFile(join(dir, 'call-20180402.wav.bak'), wav);
      await mkdir(join(dir, 'objects', 'ab'), { recursive: true });
      // an MPEG-1 layer III frame header, 128 kbit/s, 44.1 kHz
      await writeFile(join(dir, 'objects', 'ab', 'leftover'), Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x64]), randomBytes(400)]));
      await writeFile(join(dir, 'objects', 'ab', 'sealed'), Buffer.concat([MAGIC, Buffer.from('RIFF\0\0\0\0WAVE'), randomBytes(400)]));
      const r = await doctor(dir);
      assert.equal(r.code, 1);
      const [finding, ...more] = failures(r.findings);
      assert.equal(more.length, 0);
      assert.equal(finding!.check, 'plaintext-audio');
      assert.match(finding!.message, /^2 plaintext audio files/);
      assert.match(finding!.message, /call-20180402\.wav\.bak \(WAV\)/);
      assert.match(finding!.message, /objects\/ab\/leftover \(MP3\)/);
    } finally {
      // the suite's last test searches every data directory for plaintext audio
      await removeDir(dir);
    }
  });

  test('audio signatures: WAV, RF64, ID3, an MPEG frame; not random bytes or a container', () => {
    assert.equal(audioSignature(Buffer.from('RIFF\x24\0\0\0WAVEfmt ', 'latin1')), 'WAV');
    assert.equal(audioSignature(Buffer.from('RF64\xff\xff\xff\xffWAVEds64', 'latin1')), 'WAV');
    assert.equal(audioSignature(Buffer.from('ID3\x03\0\0\0\0\0\0', 'latin1')), 'MP3 (ID3)');
    assert.equal(audioSignature(Buffer.from([0xff, 0xf3, 0x64, 0xc4])), 'MP3');
    assert.equal(audioSignature(Buffer.from([0xff, 0xff, 0xff, 0xff])), undefined, 'reserved layer and bitrate');
    assert.equal(audioSignature(Buffer.from('SQLite format 3\0', 'latin1')), undefined);
    assert.equal(audioSignature(MAGIC), undefined);
  });

  test("callvault's leftovers in the temporary directory warn", async () => {
    const { dir, keysDir, env } = await goodDeployment();
    try {
      // doctor() makes the temporary directory; a leftover is planted by a TMPDIR of our own
      const own = await tempDir('out', 'tmp');
      await mkdir(join(own, 'callvault-demo-x1y2z3'));
      const r = await cli(['--data', dir, 'doctor', '--json'], { ...env, TMPDIR: own, CALLVAULT_PASSPHRASE: undefined });
      await removeDir(own);
      assert.equal(r.code, 0);
      const finding = only(r.json.findings, 'temporary')[0]!;
      assert.equal(finding.status, 'warn');
      assert.match(finding.message, /^1 callvault leftovers in /);
    } finally {
      await removeDir(dir);
      await removeDir(keysDir);
    }
  });

  test('no witness, no checkpoint and no retention each warn, with exit status 0', async () => {
    const { dir } = await initVault();
    try {
      const r = await doctor(dir, [], { CALLVAULT_AUDIT_WITNESS: undefined });
      assert.equal(r.code, 0);
      assert.equal(only(r.findings, 'audit-witness')[0]!.status, 'warn');
      assert.match(only(r.findings, 'audit-witness')[0]!.fix, /CALLVAULT_AUDIT_WITNESS/);
      assert.equal(only(r.findings, 'audit-checkpoint')[0]!.status, 'warn');
      assert.match(only(r.findings, 'audit-checkpoint')[0]!.message, /no signed checkpoint/);
      const controller = await controllerOf(dir);
      const retention = only(r.findings, 'retention');
      assert.equal(retention.length, 1);
      assert.equal(retention[0]!.status, 'warn');
      assert.match(retention[0]!.fix, new RegExp(`retention set --controller ${controller} --days`));
    } finally {
      await removeDir(dir);
    }
  });

  test('a checkpoint more than a day old with entries after it warns; an idle log does not', async () => {
    const { dir } = await initVault();
    const vault = await Vault.open(dir);
    try {
      const checkpoints = await vault.auditCheckpoints();
      await checkpoints.make();
      const now = Date.now();
      assert.equal((await checkCheckpoint(vault, new Date(now + 2 * DAY_MS)))[0]!.status, 'ok', 'nothing unsigned');
      // an audited change: the log grows past the checkpoint
      const set = await cli(['--data', dir, 'retention', 'set', '--controller', await controllerOf(dir), '--days', '3650', '--yes']);
      assert.equal(set.code, 0, set.stderr);
      assert.equal((await checkCheckpoint(vault, new Date(now + 2 * DAY_MS)))[0]!.status, 'warn');
      assert.equal((await checkCheckpoint(vault, new Date(now + DAY_MS / 2)))[0]!.status, 'ok');
    } finally {
      await vault.close();
      await removeDir(dir);
    }
  });
});

describe('callvault doctor --url', () => {
  let dir: string;
  let keysDir: string;
  let env: Record<string, string>;
  const servers: Server[] = [];

  before(async () => {
    ({ dir, keysDir, env } = await goodDeployment());
  });
  after(async () => {
    for (const s of servers) s.close();
    await removeDir(dir);
    await removeDir(keysDir);
  });

  async function listen(server: Server): Promise<number> {
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  async function https(options: { validDays: number; minVersion?: 'TLSv1' }, status: (path: string) => number): Promise<number> {
    const now = Date.now();
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notBeforeDate: new Date(now - 400 * DAY_MS),
      notAfterDate: new Date(now + options.validDays * DAY_MS),
    });
    const tls = options.minVersion ? { minVersion: options.minVersion, ciphers: 'DEFAULT:@SECLEVEL=0' } : { minVersion: 'TLSv1.2' as const };
    return listen(
      createHttpsServer({ key: pems.private, cert: pems.cert, ...tls }, (req, res) => {
        res.statusCode = status(req.url ?? '');
        res.end();
      }),
    );
  }

  test('an unauthenticated plain HTTP server answering 200 fails', async () => {
    const seen: string[] = [];
    const port = await listen(
      createHttpServer((req, res) => {
        seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`.trim());
        res.end('[]');
      }),
    );
    const r = await doctor(dir, ['--url', `http://127.0.0.1:${port}`], env);
    assert.equal(r.code, 1);
    assert.deepEqual(
      failures(r.findings)
        .map((f) => f.check)
        .sort(),
      ['http-audio', 'http-recordings', 'plain-http'],
    );
    assert.equal(only(r.findings, 'http-docs')[0]!.status, 'warn');
    assert.match(only(r.findings, 'http-docs')[0]!.message, /API documentation is public/);
    assert.ok(seen.includes('GET /api/v1/recordings'));
    assert.ok(seen.some((s) => /^GET \/api\/v1\/recordings\/[0-9a-f-]{36}\/audio$/.test(s)));
  });

  test('an HTTPS server that refuses without credentials passes; its certificate near expiry warns', async () => {
    const port = await https({ validDays: 10 }, (path) => (path === '/api/docs' ? 200 : 401));
    const r = await doctor(dir, ['--url', `https://127.0.0.1:${port}`], env);
    assert.equal(r.code, 0, JSON.stringify(failures(r.findings)));
    for (const check of ['http-recordings', 'http-audio', 'plain-http', 'tls-protocols']) assert.equal(only(r.findings, check)[0]!.status, 'ok', check);
    assert.equal(only(r.findings, 'tls-certificate')[0]!.status, 'warn');
    assert.match(only(r.findings, 'tls-certificate')[0]!.message, /expires in 9 days|expires in 10 days/);
    assert.equal(only(r.findings, 'tls-trust')[0]!.status, 'warn');
  });

  test('an expired certificate fails', async () => {
    const port = await https({ validDays: -1 }, () => 404);
    const r = await doctor(dir, ['--url', `https://127.0.0.1:${port}`], env);
    assert.equal(r.code, 1);
    assert.deepEqual(
      failures(r.findings).map((f) => f.check),
      ['tls-certificate'],
    );
    assert.match(failures(r.findings)[0]!.message, /expired/);
  });

  test('TLS below 1.2 offered fails', async () => {
    const port = await https({ validDays: 90, minVersion: 'TLSv1' }, () => 403);
    const r = await doctor(dir, ['--url', `https://127.0.0.1:${port}`], env);
    assert.equal(r.code, 1);
    assert.deepEqual(
      failures(r.findings).map((f) => f.check),
      ['tls-protocols'],
    );
    assert.match(failures(r.findings)[0]!.message, /TLSv1 and TLSv1\.1/);
  });

  test('plain HTTP answering at the HTTPS port fails', async () => {
    // one port that answers both: a server that sniffs the first byte, as some proxies do
    const plain = createHttpServer((_req, res) => {
      res.statusCode = 401;
      res.end();
    });
    const port = await listen(plain);
    const r = await doctor(dir, ['--url', `https://127.0.0.1:${port}`], env);
    const finding = only(r.findings, 'plain-http')[0]!;
    assert.equal(finding.status, 'fail');
    assert.match(finding.message, /answers plain HTTP \(401\)/);
    assert.equal(r.code, 1);
  });
});
