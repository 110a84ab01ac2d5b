/**
 * What every command shares: the configuration, the data directory, the passphrase, and output
 * as text or JSON.
 */
import { createHash } from 'node:crypto';
import { link, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
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
export { outputGone, watchOutput, write } from './output.js';
import { scrubbedFilter } from '../redaction/transcript.js';

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

/**
 * CALLVAULT_PASSPHRASE, or a prompt without echo on a terminal. `check` says what is wrong with a
 * passphrase (undefined: nothing): at the prompt it is shown and the passphrase asked for again
 * (three times at most, as when the repeated one differs); from the environment it is the error.
 */
export async function passphrase(
  config: Config,
  prompt = 'Passphrase:',
  options: { confirm?: boolean; check?: (value: string) => Promise<CallvaultError | undefined> } = {},
): Promise<string> {
  const fromEnv = config.passphrase;
  if (fromEnv) {
    const problem = await options.check?.(fromEnv);
    if (problem) throw problem;
    return fromEnv;
  }
  if (!process.stdin.isTTY) {
    throw new CallvaultError(ErrorCodes.PASSPHRASE_REQUIRED, 'a passphrase is needed: set CALLVAULT_PASSPHRASE or run on a terminal');
  }
  for (let attempt = 1; ; attempt++) {
    const first = await readHidden(prompt);
    if (options.confirm && (await readHidden('Repeat the passphrase:')) !== first) {
      // a slip of the finger is asked again, as a weak passphrase is
      if (attempt === 3) throw new CallvaultError(ErrorCodes.USAGE, 'the passphrases do not match: run the command again and type the same passphrase twice');
      process.stderr.write('the two passphrases differ: type the same passphrase twice\n');
      continue;
    }
    // checked after both prompts: the check takes a moment, and what is typed before the next
    // prompt is drawn would be echoed by the terminal
    const problem = await options.check?.(first);
    if (!problem) return first;
    if (attempt === 3) throw problem;
    process.stderr.write(`${problem.message}\n`);
  }
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

/**
 * A prompt without echo, on stderr so that stdout stays the command's output (--json). Inquirer's
 * prompt draws it with the terminal's own escape sequences and reads keypresses; readline's
 * private `_writeToOutput`, used before, swallowed the prompt itself under tmux.
 */
async function readHidden(message: string): Promise<string> {
  const { default: password } = await import('@inquirer/password');
  try {
    // no ctrl+t to show the passphrase: someone may be looking over the custodian's shoulder
    return await password({ message, toggleMask: false }, { input: process.stdin, output: process.stderr });
  } catch (err) {
    if ((err as Error)?.name === 'ExitPromptError') throw new CallvaultError(ErrorCodes.USAGE, 'cancelled: no passphrase was given');
    throw err;
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
/** commander option parser: one of a fixed list of words */
export function oneOf<T extends string>(allowed: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(allowed as readonly string[]).includes(value)) throw new InvalidArgumentError(`is one of ${allowed.join(', ')}`);
    return value as T;
  };
}

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

/** `1 recording`, `2 recordings`; `many` when the plural is not the singular and an s */
export function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * Rows as aligned columns under a header row, two spaces apart; a column whose `align` is
 * `right` (numbers) is padded on the left. The last column is not padded.
 */
export function table(columns: { header: string; align?: 'right' }[], rows: string[][]): string {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 && columns[i]!.align !== 'right' ? cell : columns[i]!.align === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map((r) => line(r.map((cell) => cell ?? '')))].join('\n');
}

/**
 * A path the operator gave, as an error message may show it: their own path, but with any
 * personnummer or phone number in it (a file named after the caller) replaced by its label, for
 * error output ends up in terminals' scrollback and in logs.
 */
export function shownPath(path: string): string {
  return scrubbedFilter(path);
}

/** the error standard output failed with (EPIPE: its reader has gone), once it has */

/**
 * Writes what `chunks` gives to a temporary file beside `out`, made for this user only, and
 * moves it into place once complete and `check` (given its SHA-256) has passed: a failure leaves
 * no partial file. The file is made before `chunks` is called, so a bad `out` fails first. An
 * existing `out` is replaced only with `force`: otherwise it is refused before anything is
 * written, and again at the end (a hard link, which fails if the name was taken meanwhile).
 * `option` names the option that gave `out`, for the error messages.
 */
export async function writeThroughTemporary(
  out: string,
  chunks: () => Promise<AsyncIterable<Buffer>>,
  check?: (sha256: string) => void,
  options: { option?: string; force?: boolean } = {},
): Promise<{ sha256: string; bytes: number }> {
  const option = options.option ?? '--out';
  const exists = () => new CallvaultError(ErrorCodes.USAGE, `${option} ${shownPath(out)} already exists: name another file, or give --force to replace it`);
  const existing = await stat(out).catch(() => undefined);
  if (existing?.isDirectory()) throw new CallvaultError(ErrorCodes.USAGE, `${option} ${shownPath(out)} is a folder: name a file in it`);
  if (existing && !options.force) throw exists();
  const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.partial`);
  const fh = await open(tmp, 'wx', 0o600).catch((err: NodeJS.ErrnoException) => {
    throw outputError(err, option, out);
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
    if (options.force) await rename(tmp, out);
    else {
      await link(tmp, out).then(
        () => unlink(tmp),
        async (err: NodeJS.ErrnoException) => {
          if (err.code === 'EEXIST') throw exists();
          // a file system without hard links: check once more, then move it into place
          if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK'].includes(err.code ?? '')) throw err;
          if (await present(out)) throw exists();
          await rename(tmp, out);
        },
      );
    }
    return { sha256, bytes };
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

/**
 * Opens a file named on the command line for writing, for this user only: refused when it exists
 * unless `force`, and a missing folder or a denied one is said, naming it.
 */
export async function openOutput(path: string, option: string, force = false): Promise<FileHandle> {
  return open(path, force ? 'w' : 'wx', 0o600).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EEXIST') throw new CallvaultError(ErrorCodes.USAGE, `${option} ${shownPath(path)} already exists: name another file, or give --force to replace it`);
    if (err.code === 'EISDIR') throw new CallvaultError(ErrorCodes.USAGE, `${option} ${shownPath(path)} is a folder: name a file in it`);
    throw outputError(err, option, path);
  });
}

async function present(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** why a file named on the command line cannot be made there, naming it */
function outputError(err: NodeJS.ErrnoException, option: string, out: string): Error {
  const shown = shownPath(out);
  const folder = shownPath(dirname(out));
  if (err.code === 'ENOENT') return new CallvaultError(ErrorCodes.USAGE, `${option} ${shown}: the folder ${folder} does not exist; create it first or name another`);
  if (err.code === 'ENOTDIR') return new CallvaultError(ErrorCodes.USAGE, `${option} ${shown}: ${folder} is not a folder`);
  if (err.code === 'EACCES' || err.code === 'EPERM' || err.code === 'EROFS')
    return new CallvaultError(ErrorCodes.USAGE, `${option} ${shown}: the folder ${folder} cannot be written to (permission denied)`);
  return err;
}

/** resolves at the first SIGINT or SIGTERM, which then no longer kill the process: a long-running command stops gracefully */
export function untilSignalled(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
