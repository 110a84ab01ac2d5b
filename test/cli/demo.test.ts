import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, stat, symlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { delimiter, join } from 'node:path';
import { cli, tempDir } from '../helpers.js';
import { TONES_NOTICE } from '../../src/cli/commands/demo.js';

it('demo creates a data directory with synthetic calls, and a second run only lists them', async () => {
  const dir = join(await tempDir('data', 'demo'), 'callvault-data');
  const first = await cli(['--data', dir, 'demo', '--calls', '3', '--no-serve', '--json'], { CALLVAULT_PASSPHRASE: undefined });
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.json.recordings.length, 3);
  assert.equal(first.json.admin.username, 'admin');
  assert.ok(first.json.passphrase, 'the demo passphrase is printed');
  assert.deepEqual(first.json.users.map((u: any) => u.role).sort(), ['auditor', 'dpo', 'nurse', 'nurse', 'supervisor']);
  for (const r of first.json.recordings) {
    assert.equal(r.codec, 'pcm_mulaw');
    assert.ok(r.durationMs > 1000);
    assert.ok(!('caller' in r) && !('personnummer' in r));
  }
  const second = await cli(['--data', dir, 'demo', '--no-serve', '--json'], { CALLVAULT_PASSPHRASE: undefined });
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.json.admin, undefined, 'credentials are shown once');
  assert.deepEqual(
    second.json.recordings.map((r: any) => r.id),
    first.json.recordings.map((r: any) => r.id),
  );
  const verify = await cli(['--data', dir, 'verify', '--deep'], { CALLVAULT_PASSPHRASE: first.json.passphrase });
  assert.equal(verify.code, 0, verify.stderr);
});

// the demo prints passwords and its passphrase: its help must not say it listens on every address
it('demo --help names the loopback address it listens on; serve --help names every address', async () => {
  const demo = await cli(['demo', '--help']);
  assert.equal(demo.code, 0, demo.stderr);
  assert.match(demo.stdout, /--host <address>\s+address to listen on \(default: "127\.0\.0\.1"\)/);
  const serve = await cli(['serve', '--help']);
  assert.match(serve.stdout, /--host <address>\s+address to listen on \(default: "0\.0\.0\.0"\)/);
});

it('demo prints the sign-ins last, in a framed block, and a second demo prints them again', async () => {
  const dir = join(await tempDir('data', 'demo'), 'callvault-data');
  const first = await cli(['--data', dir, 'demo', '--calls', '1', '--no-serve'], { CALLVAULT_PASSPHRASE: undefined });
  assert.equal(first.code, 0, first.stderr);
  const lines = first.stdout.trimEnd().split('\n');
  const top = lines.indexOf(' callvault demo: sign in');
  assert.ok(top > 0, first.stdout);
  assert.match(lines.at(-1)!, /^=+$/, 'the block is the last thing printed');
  const block = lines.slice(top).join('\n');
  assert.ok(!/recordings|try: /.test(block), 'the recordings are listed before the block');
  for (const name of ['admin', 'anna', 'erik', 'maria', 'dpo', 'auditor'])
    assert.match(block, new RegExp(`^   \\S+\\s+${name}\\s+\\S{12,}\\s+[A-Z2-7]{16,}$`, 'm'), `${name}'s sign-in row`);
  assert.match(block, /TOTP code: the first sign-in shows a QR code/);
  assert.match(block, /keyring passphrase \(demo only\): callvault demo passphrase/);
  const anna = /^\s+nurse\s+anna\s+(\S+)/m.exec(block)![1];

  const second = await cli(['--data', dir, 'demo', '--no-serve'], { CALLVAULT_PASSPHRASE: undefined });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /as made at the first `demo`/);
  assert.equal(/^\s+nurse\s+anna\s+(\S+)/m.exec(second.stdout)?.[1], anna, 'the same password again');
  const kept = await stat(join(dir, 'demo-sign-ins.json'));
  assert.equal(kept.mode & 0o077, 0, 'the kept sign-ins are readable by this user only');
});

async function listening(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

it('demo and serve say at once that the port is in use, with a usage error', async () => {
  const { server, port } = await listening();
  try {
    const dir = join(await tempDir('data', 'demo'), 'callvault-data');
    const demo = await cli(['--data', dir, 'demo', '--calls', '1', '--port', String(port)], { CALLVAULT_PASSPHRASE: undefined });
    assert.equal(demo.code, 2, demo.stderr);
    assert.equal(demo.stderr.trim(), `callvault: port ${port} is in use; try --port N with a free port [CV_USAGE]`);
    await assert.rejects(stat(dir), 'nothing was made before the port was checked');
    await cli(['--data', dir, 'demo', '--calls', '1', '--no-serve'], { CALLVAULT_PASSPHRASE: undefined });
    const serve = await cli(['--data', dir, 'serve', '--host', '127.0.0.1', '--port', String(port)], { CALLVAULT_PASSPHRASE: 'callvault demo passphrase' });
    assert.equal(serve.code, 2, serve.stderr);
    assert.equal(serve.stderr.trim(), `callvault: port ${port} is in use; try --port N with a free port [CV_USAGE]`);
  } finally {
    server.close();
  }
});

it('demo says once that its calls are tones when espeak-ng is not on the PATH', async () => {
  // every program of the PATH but espeak-ng
  const bin = await tempDir('src', 'path');
  const seen = new Set<string>();
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    const names = await readdir(d).catch(() => [] as string[]);
    for (const n of names) {
      if (n.startsWith('espeak') || seen.has(n)) continue;
      seen.add(n);
      await symlink(join(d, n), join(bin, n));
    }
  }
  const dir = join(await tempDir('data', 'demo'), 'callvault-data');
  const r = await cli(['--data', dir, 'demo', '--calls', '2', '--no-serve', '--json'], { CALLVAULT_PASSPHRASE: undefined, PATH: bin });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr.split(TONES_NOTICE).length - 1, 1, r.stderr);
  assert.equal(r.json.audio, 'tones');
  const speech = await cli(['--data', join(await tempDir('data', 'demo'), 'd'), 'demo', '--calls', '1', '--no-serve', '--json'], { CALLVAULT_PASSPHRASE: undefined });
  assert.equal(speech.json.audio, 'speech', 'espeak-ng is installed here');
  assert.ok(!speech.stderr.includes('espeak-ng not found'), speech.stderr);
});
