/**
 * The whole CLI on an HSM (SoftHSM over PKCS#11): init makes the keys on the token, import needs
 * no PIN, export and redaction unwrap in the token, and serve-style unattended unlocking reads
 * the PIN from its pin-source file.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cli, tempDir } from '../helpers.js';
import { makeCallWav } from '../fixtures/audio.js';
import { verboseJson } from '../fixtures/transcripts.js';
import { softHsm, type SoftHsm } from '../keys/softhsm.js';

describe('callvault on an HSM', () => {
  let hsm: SoftHsm;
  let data: string;
  let env: Record<string, string | undefined>;
  let src: string;
  let pinFile: string;

  before(async () => {
    hsm = await softHsm(['callvault-cli']);
    data = join(await tempDir('data', 'hsm'), 'data');
    pinFile = join(hsm.dir, 'pin');
    await writeFile(pinFile, `${hsm.pin}\n`, { mode: 0o600 });
    // the PIN comes from its file: nothing secret in the environment or on a terminal
    env = { SOFTHSM2_CONF: hsm.conf, CALLVAULT_KMS: hsm.url('callvault-cli', { pin: { file: pinFile } }), CALLVAULT_PASSPHRASE: undefined };
    src = await tempDir('src', 'hsm');
    const call = await makeCallWav(join(src, 'call.wav'), { seed: 801 });
    await writeFile(join(src, 'call.transcript.json'), verboseJson(call).json);
  });

  it('init makes the keys on the token; import stores with the public key alone', async () => {
    const init = await cli(['--data', data, 'init', '--json', '--controller', 'region-hsm'], env);
    assert.equal(init.code, 0, init.stderr);
    const keys = await cli(['--data', data, 'keys', 'list', '--json'], env);
    assert.equal(keys.code, 0, keys.stderr);
    assert.equal(JSON.stringify(keys.json).includes('region-hsm'), true);
    const imported = await cli(['--data', data, 'import', src, '--json'], env);
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(imported.json.imported.length, 1);
  });

  it('export and redaction unwrap in the token, unlocked by the pin-source', async () => {
    const list = await cli(['--data', data, 'recordings', 'list', '--json'], env);
    const id = list.json.recordings[0].id as string;
    const redact = await cli(['--data', data, 'redact', '--json'], env);
    assert.equal(redact.code, 0, redact.stderr);
    assert.deepEqual(redact.json.byState, { redacted: 1 });
    const out = join(await tempDir('out', 'hsm'), 'call.wav');
    const exported = await cli(['--data', data, 'export', id, '--out', out, '--json'], env);
    assert.equal(exported.code, 0, exported.stderr);
    assert.deepEqual(await readFile(out), await readFile(join(src, 'call.wav')));
    const verify = await cli(['--data', data, 'verify', '--deep', '--json'], env);
    assert.equal(verify.code, 0, verify.stdout);
  });

  it('a wrong PIN is refused with the passphrase error, and never echoed', async () => {
    const res = await cli(['--data', data, 'export', '00000000-0000-4000-8000-000000000000', '--out', '/dev/null', '--json'], {
      ...env,
      CALLVAULT_KMS: hsm.url('callvault-cli'),
      CALLVAULT_PASSPHRASE: 'not-the-pin-000',
    });
    assert.equal(res.code, 1);
    assert.equal(res.json.error.code, 'CV_WRONG_PASSPHRASE');
    assert.ok(!res.stderr.includes('not-the-pin-000') && !res.stdout.includes('not-the-pin-000'));
  });
});
