/**
 * What every command shares: the data directory, the passphrase, and output as text or JSON.
 */
import { createInterface } from 'node:readline';
import { InvalidArgumentError } from 'commander';
import { CallvaultError, ErrorCodes } from '../errors.js';
import { defaultDataDir, Vault } from '../vault.js';
import { indexPending } from '../recordings/indexer.js';

export interface GlobalOptions {
  data?: string;
  json?: boolean;
}

export function dataDir(opts: GlobalOptions): string {
  return opts.data ?? defaultDataDir();
}

export function environment() {
  return { databaseUrl: process.env.CALLVAULT_DATABASE_URL || undefined, kms: process.env.CALLVAULT_KMS || undefined };
}

export async function openVault(opts: GlobalOptions): Promise<Vault> {
  return Vault.open(dataDir(opts), environment());
}

/** CALLVAULT_PASSPHRASE, or a prompt without echo on a terminal */
export async function passphrase(prompt = 'Passphrase: ', confirm = false): Promise<string> {
  const fromEnv = process.env.CALLVAULT_PASSPHRASE;
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY) {
    throw new CallvaultError(ErrorCodes.PASSPHRASE_REQUIRED, 'a passphrase is needed: set CALLVAULT_PASSPHRASE or run on a terminal');
  }
  const first = await readHidden(prompt);
  if (confirm && (await readHidden('Repeat passphrase: ')) !== first) {
    throw new CallvaultError(ErrorCodes.USAGE, 'the passphrases do not match');
  }
  return first;
}

/** Opens the vault, unlocks its keyring and writes any blind indexes a locked importer left. */
export async function openUnlocked(opts: GlobalOptions): Promise<Vault> {
  const vault = await openVault(opts);
  try {
    await vault.unlock(await passphrase());
    await indexPending(vault);
    return vault;
  } catch (err) {
    await vault.close();
    throw err;
  }
}

async function readHidden(prompt: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const out = rl as unknown as { _writeToOutput: (s: string) => void };
  process.stderr.write(prompt);
  out._writeToOutput = () => {};
  try {
    return await new Promise<string>((res) => rl.question('', res));
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

/** commander option parser: a usage error (exit 2) unless the value is a whole number ≥ 1 */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of at least 1');
  return n;
}

export function print(opts: GlobalOptions, json: unknown, text: () => string): void {
  process.stdout.write(opts.json ? JSON.stringify(json, null, 2) + '\n' : text() + '\n');
}
