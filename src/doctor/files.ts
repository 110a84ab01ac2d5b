/**
 * Checks of the files on this host: the keyring and the signing key, the data directory's
 * permissions, and plaintext audio where only encrypted objects belong. They read modes and the
 * first bytes of files; nothing is decrypted.
 */
import { audioSignature } from '../audio/signature.js';
import { lstat, open, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { MAGIC } from '../container/header.js';
import { SIGNING_KEY_FILE } from '../audit/signing-key.js';
import { defaultTlsFiles } from '../http/tls.js';
import { fail, ok, warn, type Finding } from './finding.js';

/** DATA/config.json: which keyring and database the directory uses (it holds no secrets) */
export interface DataConfig {
  keyring: 'data-dir' | 'external' | 'pkcs11';
  database: 'sqlite' | 'postgres';
}

export async function readDataConfig(dataDir: string): Promise<DataConfig | undefined> {
  try {
    const config = JSON.parse(await readFile(join(dataDir, 'config.json'), 'utf8'));
    return config.format === 'callvault-data/v1' ? config : undefined;
  } catch {
    return undefined;
  }
}

/** the keyring file, or undefined for keys on an HSM */
export function keyringFile(dataDir: string, config: DataConfig, kms: string | undefined): string | undefined {
  if (config.keyring === 'pkcs11') return undefined;
  if (config.keyring === 'external') return kms?.startsWith('file:') ? resolve(kms.slice('file:'.length)) : undefined;
  return join(dataDir, 'keys', 'keyring.json');
}

function inside(dir: string, path: string): boolean {
  const rel = relative(resolve(dir), resolve(path));
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep));
}

async function mode(path: string): Promise<number | undefined> {
  return lstat(path).then(
    (s) => s.mode & 0o777,
    () => undefined,
  );
}

const octal = (m: number): string => m.toString(8).padStart(3, '0');

/** a secret file: no access for group or others, and not kept with the data (`dataDir` given) */
async function secretFile(check: string, what: string, path: string, dataDir?: string): Promise<Finding[]> {
  const m = await mode(path);
  if (m === undefined) return [fail(check, `${what} ${path} cannot be read`, `restore ${what} from its backup, or name it with CALLVAULT_KMS=file:PATH`)];
  const findings: Finding[] = [];
  if (m & 0o077) findings.push(fail(check, `${what} ${path} is open to its group or others (mode ${octal(m)})`, `chmod 600 ${path}`));
  else findings.push(ok(check, `${what} ${path} is for its owner only (mode ${octal(m)})`));
  if (dataDir && inside(dataDir, path))
    findings.push(
      warn(
        check,
        `${what} is kept with the data: a backup of the data directory carries it`,
        'keep the keyring apart from the data: move it and set CALLVAULT_KMS=file:PATH (docs/keys.md), or use an HSM',
      ),
    );
  return findings;
}

/** the keyring file and the audit signing key beside it (in DATA/keys with an HSM) */
export async function checkKeyring(dataDir: string, config: DataConfig, kms: string | undefined): Promise<Finding[]> {
  const keyring = keyringFile(dataDir, config, kms);
  const keysDir = keyring ? dirname(keyring) : join(dataDir, 'keys');
  const findings: Finding[] = [];
  if (keyring) findings.push(...(await secretFile('keyring', 'the keyring', keyring, dataDir)));
  else if (config.keyring === 'external') findings.push(fail('keyring', 'the keyring is kept apart but CALLVAULT_KMS names no file', 'set CALLVAULT_KMS=file:PATH'));
  else findings.push(ok('keyring', 'the keys are on an HSM'));
  const signing = join(keysDir, SIGNING_KEY_FILE);
  // with an HSM, DATA/keys is the only place the signing key can be: that is not a choice to warn about
  findings.push(...(await secretFile('signing-key', 'the audit signing key', signing, keyring ? dataDir : undefined)));
  const dirMode = await mode(keysDir);
  if (dirMode !== undefined && dirMode & 0o077)
    findings.push(fail('keyring', `the keys directory ${keysDir} is open to its group or others (mode ${octal(dirMode)})`, `chmod 700 ${keysDir}`));
  return findings;
}

/** the data directory, its database and objects, and the TLS key: the owner's only */
export async function checkPermissions(dataDir: string, config: DataConfig): Promise<Finding[]> {
  const paths: [string, string][] = [
    ['the data directory', dataDir],
    ['the objects directory', join(dataDir, 'objects')],
    ['the TLS key', defaultTlsFiles(dataDir).key],
  ];
  if (config.database === 'sqlite') for (const suffix of ['', '-wal', '-shm']) paths.push(['the database', join(dataDir, `callvault.db${suffix}`)]);
  const findings: Finding[] = [];
  for (const [what, path] of paths) {
    const m = await mode(path);
    if (m === undefined) continue;
    if (m & 0o077) findings.push(fail('permissions', `${what} ${path} is open to its group or others (mode ${octal(m)})`, `chmod go-rwx ${path}`));
  }
  if (!findings.length) findings.push(ok('permissions', `the data directory ${dataDir} and what it holds are for their owner only`));
  return findings;
}

async function head(path: string): Promise<Buffer | undefined> {
  try {
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(16);
      const { bytesRead } = await fh.read(buf, 0, 16, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch {
    return undefined;
  }
}

async function* walk(dir: string): AsyncGenerator<string> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.isFile()) yield p;
  }
}

/** every file under the data directory that starts like audio and not like an encrypted container */
export async function checkPlaintextAudio(dataDir: string): Promise<Finding[]> {
  const found: string[] = [];
  let seen = 0;
  for await (const path of walk(dataDir)) {
    seen++;
    const bytes = await head(path);
    if (!bytes || bytes.subarray(0, MAGIC.length).equals(MAGIC)) continue;
    const kind = audioSignature(bytes);
    // the path is relative to the data directory: the file names inside it are callvault's own
    if (kind) found.push(`${relative(dataDir, path)} (${kind})`);
  }
  if (!found.length) return [ok('plaintext-audio', `${seen} files in the data directory: no plaintext audio`)];
  const shown = found.slice(0, 5).join(', ') + (found.length > 5 ? ` and ${found.length - 5} more` : '');
  return [
    fail(
      'plaintext-audio',
      `${found.length} plaintext audio files in the data directory: ${shown}`,
      'import them (callvault import --shred-source) or shred them; nothing but encrypted objects belongs there',
    ),
  ];
}

/** what callvault's own commands left in the temporary directory (demo, canary, export work) */
export async function checkTemporary(tmp = tmpdir()): Promise<Finding[]> {
  let names: string[];
  try {
    names = (await readdir(tmp)).filter((n) => n.startsWith('callvault-'));
  } catch {
    return [];
  }
  if (!names.length) return [ok('temporary', `no callvault leftovers in ${tmp}`)];
  return [
    warn(
      'temporary',
      `${names.length} callvault leftovers in ${tmp} (an interrupted command's work)`,
      `check that no callvault command is running, then remove ${join(tmp, 'callvault-*')}`,
    ),
  ];
}
