import { it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cli, tempDir } from '../helpers.js';

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
