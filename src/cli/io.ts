/**
 * What every command shares: the configuration, the data directory, the passphrase, and output
 * as text or JSON.
 */
import { createHash } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { userInfo } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { CallvaultError, ErrorCodes, isCallvaultError } from '../errors.js';
import type { AuditActor } from '../audit/audit-log.js';
import type { Config } from '../config.js';
import { redactionOptionsFrom } from '../redaction/options.js';
import type { Vault, VaultEnvironment } from '../vault.js';
import { operatorActor, type Actor } from '../services/actor.js';
import type { Services } from '../services/index.js';

export interface GlobalOptions {
  data?: string;
  json?: boolean;
  /** the environment's configuration, read once by main (src/config.ts) */
  config: Config;
}

export function dataDir(opts: GlobalOptions): string {
  return opts.data ?? opts.config.dataDir;
}

/** what the configuration says about the vault */
export function environment(config: Config): VaultEnvironment {
  return {
    databaseUrl: config.databaseUrl,
    kms: config.kms,
    pinEnvironment: config.pinEnvironment,
    witnesses: config.auditWitness,
    auditOrigin: config.auditOrigin,
    blobUrl: config.blobUrl,
    awsRegion: config.awsRegion,
    redaction: redactionOptionsFrom(config),
    timeZone: config.timeZone,
    alertOutput: config.alertOutput,
  };
}

/**
 * The vault and the services are loaded when a command opens them, not when it is registered:
 * `--help`, `pii detect` or a usage error need neither the database drivers nor the services.
 */
export async function openVault(opts: GlobalOptions): Promise<Vault> {
  const { Vault } = await import('../vault.js');
  return Vault.open(dataDir(opts), environment(opts.config));
}

/** CALLVAULT_PASSPHRASE, or a prompt without echo on a terminal */
export async function passphrase(config: Config, prompt = 'Passphrase: ', confirm = false): Promise<string> {
  const fromEnv = config.passphrase;
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
    // an HSM whose URL names a pin-source unlocks unattended (serve behind a load balancer)
    const unattended = (vault.keys as { pinConfigured?: boolean }).pinConfigured && !opts.config.passphrase;
    await vault.unlock(unattended ? '' : await passphrase(opts.config));
    const { indexPending } = await import('../recordings/indexer.js');
    await indexPending(vault);
    return vault;
  } catch (err) {
    await vault.close();
    throw err;
  }
}

/** runs `work` on the opened (or opened and unlocked) vault and closes it whatever happens */
export async function withVault<T>(opts: GlobalOptions, work: (vault: Vault) => Promise<T>, unlocked = false): Promise<T> {
  const vault = unlocked ? await openUnlocked(opts) : await openVault(opts);
  try {
    return await work(vault);
  } finally {
    await vault.close();
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

/** commander option parser: a usage error (exit 2) unless the value is a whole number ≥ 0 */
export function wholeNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('must be a whole number');
  return n;
}

/** commander option parser: a comma-separated list, blanks left out */
export function commaList(value: string): string[] {
  return value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

/** commander option parser: text of 1 to `max` characters */
export function text(max: number): (value: string) => string {
  return (value) => {
    if (value.trim().length === 0 || value.length > max) throw new InvalidArgumentError(`must be 1 to ${max} characters`);
    return value;
  };
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/**
 * commander option parser: an ISO 8601 date (`2025-01-31`, midnight UTC) or date-time with a time
 * zone (`2025-01-31T08:00:00Z`). Stricter than Date.parse, which takes `1` or `2025-02-30`.
 */
export function isoDate(value: string): string {
  const m = ISO_DATE.exec(value);
  if (!m || Number.isNaN(Date.parse(value)) || !isCalendarDay(Number(m[1]), Number(m[2]), Number(m[3]))) {
    throw new InvalidArgumentError('must be an ISO 8601 date or date-time with a time zone, e.g. 2025-01-31 or 2025-01-31T08:00:00Z');
  }
  return value;
}

function isCalendarDay(year: number, month: number, day: number): boolean {
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

/**
 * The domain functions shared with the HTTP API report bad input as INVALID_REQUEST (HTTP 400); on
 * the command line that is a usage error (exit 2), with the same message.
 */
export async function asUsage<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isCallvaultError(err, ErrorCodes.INVALID_REQUEST)) throw new CallvaultError(ErrorCodes.USAGE, err.message, { cause: err });
    throw err;
  }
}

/** the operator of this command, as services see them */
export function operator(): Actor {
  return operatorActor(cliActor().name!);
}

/** runs `work` with the services over the opened (or unlocked) vault and closes it whatever happens */
export async function withServices<T>(opts: GlobalOptions, work: (services: Services, actor: Actor) => Promise<T>, unlocked = false): Promise<T> {
  const { createServices } = await import('../services/index.js');
  return withVault(opts, (vault) => work(createServices(vault), operator()), unlocked);
}

/** who did it, for the audit log: the operating-system user running the command */
/**
 * who did it, for the audit log: the operating-system user running the command. A uid without a
 * passwd entry (some containers) is named by its number: not by $USER, which whoever runs the
 * command sets as they please.
 */
export function cliActor(): AuditActor {
  let name: string | undefined;
  try {
    name = userInfo().username;
  } catch {
    name = undefined;
  }
  return { type: 'cli', name: name || `uid ${process.getuid?.() ?? 'unknown'}` };
}

export function print(opts: GlobalOptions, json: unknown, text: () => string): void {
  process.stdout.write(opts.json ? `${JSON.stringify(json, null, 2)}\n` : `${text()}\n`);
}

/**
 * Writes what `chunks` gives to a temporary file beside `out`, made for this user only, and
 * renames it into place once complete and `check` (given its SHA-256) has passed: a failure leaves
 * no partial file. The file is made before `chunks` is called, so a bad `out` fails first.
 */
export async function writeThroughTemporary(
  out: string,
  chunks: () => Promise<AsyncIterable<Buffer>>,
  check?: (sha256: string) => void,
): Promise<{ sha256: string; bytes: number }> {
  const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.partial`);
  const fh = await open(tmp, 'wx', 0o600).catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'ENOENT' || err.code === 'ENOTDIR' ? new CallvaultError(ErrorCodes.USAGE, 'the folder named by --out does not exist') : err;
  });
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of await chunks()) {
      hash.update(chunk);
      bytes += chunk.length;
      await fh.write(chunk);
    }
    await fh.sync();
    await fh.close();
    const sha256 = hash.digest('hex');
    check?.(sha256);
    await rename(tmp, out);
    return { sha256, bytes };
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw err;
  }
}
