/**
 * The callvault command line. Every command takes --data and --json, exits non-zero on failure
 * (2 for usage errors) and reports errors as one line, never a stack trace.
 */
import { Command, CommanderError } from 'commander';
import { CallvaultError, ErrorCodes, isCallvaultError, unavailableError } from '../errors.js';
import { forgetSecretsInEnvironment, loadConfig, type Config } from '../config.js';
import { outputGone, watchOutput, type GlobalOptions } from './io.js';
import * as init from './commands/init.js';
import * as importCommand from './commands/import.js';
import * as exportCommand from './commands/export.js';
import * as verify from './commands/verify.js';
import * as keys from './commands/keys.js';
import * as controllers from './commands/controllers.js';
import * as processors from './commands/processors.js';
import * as names from './commands/names.js';
import * as contracts from './commands/contracts.js';
import * as users from './commands/users.js';
import * as tokens from './commands/tokens.js';
import * as recordings from './commands/recordings.js';
import * as demo from './commands/demo.js';
import * as serve from './commands/serve.js';
import * as audit from './commands/audit.js';
import * as subject from './commands/subject.js';
import * as breach from './commands/breach.js';
import * as pii from './commands/pii.js';
import * as redact from './commands/redact.js';
import * as transcripts from './commands/transcripts.js';
import * as backup from './commands/backup.js';
import * as retention from './commands/retention.js';
import * as alerts from './commands/alerts.js';
import * as scan from './commands/scan.js';
import * as canary from './commands/canary.js';
import * as doctor from './commands/doctor.js';

export async function main(argv: string[]): Promise<void> {
  // everything callvault writes is for its own user only
  process.umask(0o077);
  const program = new Command('callvault')
    .description('a vault for recorded healthcare calls')
    .option('--data <dir>', 'data directory (default: $CALLVAULT_DATA or ./callvault-data)')
    .option('--json', 'machine-readable output')
    .exitOverride();
  // the environment is read once, when the first command needs it: `--help` works whatever it holds
  let config: Config | undefined;
  const globals = (): GlobalOptions => {
    if (!config) {
      config = loadConfig();
      forgetSecretsInEnvironment();
    }
    return { ...program.opts<Omit<GlobalOptions, 'config'>>(), config };
  };
  for (const command of [
    init,
    importCommand,
    exportCommand,
    verify,
    keys,
    controllers,
    processors,
    names,
    contracts,
    users,
    tokens,
    recordings,
    redact,
    transcripts,
    audit,
    subject,
    breach,
    pii,
    backup,
    retention,
    alerts,
    canary,
    scan,
    doctor,
    demo,
    serve,
  ])
    command.register(program, globals);
  // every subcommand accepts the global options after its own name too
  for (const cmd of allCommands(program)) {
    if (cmd === program) continue;
    cmd.exitOverride().option('--data <dir>', 'data directory').option('--json', 'machine-readable output');
    cmd.hook('preAction', (_this, action) => {
      const own = action.opts<GlobalOptions>();
      if (own.data) program.setOptionValue('data', own.data);
      if (own.json) program.setOptionValue('json', true);
    });
  }

  // A reader that has gone (`callvault audit tail | head -5`) ends the output: the stream's error
  // is taken here, so it is no crash with a stack trace, and the command stops at its next write
  // (io.ts write) and ends quietly, as Unix tools do.
  watchOutput();

  // a command whose promise never settles would otherwise end the process with status 0
  let settled = false;
  process.once('beforeExit', () => {
    if (!settled) {
      process.stderr.write('callvault: internal error: the command stopped before it finished\n');
      process.exitCode = 1;
    }
  });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = outputGone(err) ? 0 : report(err, argv.includes('--json'), config?.debug ?? false);
  }
  settled = true;
}

function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(allCommands)];
}

function report(err: unknown, json: boolean, debug: boolean): number {
  if (err instanceof CommanderError) {
    // help and version are not failures; commander has printed its own usage message
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
    if (json) process.stdout.write(`${JSON.stringify({ error: { code: ErrorCodes.USAGE, message: err.message.replace(/^error: /, '') } })}\n`);
    return 2;
  }
  const known: CallvaultError = isCallvaultError(err) ? err : (unavailableError(err) ?? unexpected(err));
  if (json) process.stdout.write(`${JSON.stringify({ error: { code: known.code, message: known.message } })}\n`);
  process.stderr.write(`callvault: ${known.message} [${known.code}]\n`);
  if (debug && !isCallvaultError(err)) process.stderr.write(`${(err as Error)?.stack}\n`);
  // a weak new passphrase is the operator's input to fix, like a usage error
  return known.code === ErrorCodes.USAGE || known.code === ErrorCodes.WEAK_PASSWORD ? 2 : 1;
}

/** System errors carry paths and sometimes data in their messages; keep only the kind. */
function unexpected(err: unknown): CallvaultError {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'EACCES' || code === 'EPERM') return new CallvaultError(ErrorCodes.STORAGE_FAILED, 'permission denied');
  if (code === 'EADDRINUSE') return new CallvaultError(ErrorCodes.USAGE, 'the address and port are in use by another program');
  if (code === 'EADDRNOTAVAIL') return new CallvaultError(ErrorCodes.USAGE, 'this machine has no such address to listen on');
  if (typeof code === 'string') return new CallvaultError(ErrorCodes.INTERNAL, `unexpected error (${code})`);
  return new CallvaultError(ErrorCodes.INTERNAL, 'unexpected error (set CALLVAULT_DEBUG=1 for details)');
}
