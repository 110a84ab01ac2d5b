/**
 * The checkpoint signing key: one Ed25519 key per installation, kept beside the keyring (not in
 * the database, so whoever controls the database cannot sign). It is stored in the Go signer-key
 * form, `PRIVATE+KEY+<name>+<key id>+<base64(0x01 ‖ seed)>`, which the Go note package and its
 * tools read as is. Its name is the log's origin line.
 *
 * It is not sealed under the passphrase: the server signs checkpoints on a timer and may run
 * with the keyring locked. Its protection is the file's mode (0600) and the witnesses, which
 * make any re-signed history visible.
 */
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CallvaultError, ErrorCodes } from '../errors.js';
import { fsyncDir } from '../util/fs.js';
import { NoteError, NoteSigner } from './signed-note.js';

export const SIGNING_KEY_FILE = 'audit-signing.key';

export function defaultOrigin(): string {
  return `callvault.local/audit/${randomBytes(8).toString('hex')}`;
}

export function signerKeyText(signer: NoteSigner, seed: Buffer): string {
  return `PRIVATE+KEY+${signer.name}+${signer.verifier.keyId.toString('hex')}+${Buffer.concat([Buffer.of(0x01), seed]).toString('base64')}\n`;
}

/**
 * Reads the signing key at `file`, creating it first when it does not exist, named `origin`
 * (CALLVAULT_AUDIT_ORIGIN) or else a random name. Two processes that race to create it end up
 * with the same key: the file is published with link(), which fails when another process got
 * there first, and then that process's key is read.
 */
export async function loadOrCreateSigner(file: string, origin = defaultOrigin()): Promise<NoteSigner> {
  const existing = await readSigner(file);
  if (existing) return existing;
  const seed = randomBytes(32);
  let signer: NoteSigner;
  try {
    signer = new NoteSigner(origin, seed);
  } catch (err) {
    throw new CallvaultError(ErrorCodes.USAGE, `CALLVAULT_AUDIT_ORIGIN: ${(err as Error).message}`);
  }
  const tmp = join(dirname(file), `.${SIGNING_KEY_FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  await writeFile(tmp, signerKeyText(signer, seed), { mode: 0o600, flag: 'wx', flush: true });
  try {
    await link(tmp, file);
    await fsyncDir(dirname(file));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await unlink(tmp);
  }
  return (await readSigner(file))!;
}

async function readSigner(file: string): Promise<NoteSigner | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return NoteSigner.fromSignerKey(text);
  } catch (err) {
    if (err instanceof NoteError) throw new CallvaultError(ErrorCodes.AUDIT_SIGNING_KEY, 'the audit signing key file is damaged');
    throw err;
  }
}
