/**
 * A private SoftHSM for one test file: its own softhsm2.conf and token directory under the suite's
 * root, and tokens initialised with softhsm2-util. SoftHSM reads SOFTHSM2_CONF, and the list of
 * tokens, at C_Initialize, and a PKCS#11 library is initialised once per process: so call
 * softHsm() once per test file, at the top, with every token the file needs, before any provider
 * opens. (Each test file runs in its own process.)
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from '../helpers.js';

const run = promisify(execFile);

const MODULE_CANDIDATES = [
  process.env.SOFTHSM2_MODULE,
  '/usr/lib/softhsm/libsofthsm2.so', // Debian
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so', // Ubuntu
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib64/pkcs11/libsofthsm2.so', // Fedora
  '/usr/local/lib/softhsm/libsofthsm2.so', // Homebrew, source builds
];

export interface SoftHsm {
  dir: string;
  conf: string;
  modulePath: string;
  /** the user PIN of every token (random per run) */
  pin: string;
  soPin: string;
  /**
   * a CALLVAULT_KMS URL for one of the tokens; `pin` puts the PIN in it as pin-value, or names
   * an environment variable or a file as pin-source
   */
  url(token: string, options?: { object?: string; pin?: 'value' | { env: string } | { file: string } }): string;
}

let made = false;

export async function softHsm(tokens: string[]): Promise<SoftHsm> {
  if (made) throw new Error('softHsm() runs once per process: SoftHSM reads its configuration and tokens at C_Initialize');
  made = true;
  const modulePath = MODULE_CANDIDATES.find((p): p is string => !!p && existsSync(p));
  if (!modulePath) throw new Error('SoftHSM is not installed (apt-get install softhsm2), or set SOFTHSM2_MODULE to libsofthsm2.so');
  const dir = await tempDir('data', 'softhsm');
  const tokenDir = join(dir, 'tokens');
  await mkdir(tokenDir, { mode: 0o700 });
  const conf = join(dir, 'softhsm2.conf');
  await writeFile(conf, `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`, { mode: 0o600 });
  process.env.SOFTHSM2_CONF = conf;
  const pin = `pin-${randomBytes(8).toString('hex')}`;
  const soPin = `so-${randomBytes(8).toString('hex')}`;
  for (const label of tokens) {
    await run('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', soPin], { env: { ...process.env, SOFTHSM2_CONF: conf } });
  }
  const enc = (v: string) => encodeURIComponent(v).replace(/%2F/g, '/').replace(/%3A/g, ':');
  return {
    dir,
    conf,
    modulePath,
    pin,
    soPin,
    url(token, options = {}) {
      let url = `pkcs11:token=${enc(token)};object=${enc(options.object ?? 'callvault')}?module-path=${enc(modulePath)}`;
      const p = options.pin;
      if (p === 'value') url += `&pin-value=${enc(pin)}`;
      else if (p && 'env' in p) url += `&pin-source=env:${p.env}`;
      else if (p && 'file' in p) url += `&pin-source=file:${enc(p.file)}`;
      return url;
    },
  };
}
