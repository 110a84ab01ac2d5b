/**
 * The callvault command line. Every command takes --data and --json, exits non-zero on failure
 * (2 for usage errors) and reports errors as one line, never a stack trace.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { CallvaultError, ErrorCodes, isCallvaultError, unavailableError } from '../errors.js';
import { forgetSecretsInEnvironment, loadConfig, type Config } from '../config.js';
import type { GlobalOptions } from './io.js';
import { outputGone, watchOutput } from './output.js';
/** what a command module exports: it adds its commands to the program */
interface CommandModule {
  register(program: Command, globals: () => GlobalOptions): void;
}

/**
 * Every command module, in the order `--help` lists them, with the top-level commands each adds.
 * A run loads only the module of the command it names: loading all of them (and through them the
 * S3 SDK, the HTTP server, the metrics, OpenID and ZIP libraries) cost most of a second on every
 * command. A run that names none (`--help`, a typo) loads all, so commander can list or suggest
 * them.
 * test/cli/registry.test.ts checks that the names here are the ones each module registers.
 */
export const COMMAND_MODULES: readonly { names: readonly string[]; load: () => Promise<CommandModule> }[] = [
  { names: ['init'], load: () => import('./commands/init.js') },
  { names: ['import'], load: () => import('./commands/import.js') },
  { names: ['export'], load: () => import('./commands/export.js') },
  { names: ['verify'], load: () => import('./commands/verify.js') },
  { names: ['keys'], load: () => import('./commands/keys.js') },
  { names: ['controllers'], load: () => import('./commands/controllers.js') },
  { names: ['processors'], load: () => import('./commands/processors.js') },
  { names: ['names'], load: () => import('./commands/names.js') },
  { names: ['contracts'], load: () => import('./commands/contracts.js') },
  { names: ['users'], load: () => import('./commands/users.js') },
  { names: ['tokens'], load: () => import('./commands/tokens.js') },
  { names: ['recordings'], load: () => import('./commands/recordings.js') },
  { names: ['redact'], load: () => import('./commands/redact.js') },
  { names: ['transcripts'], load: () => import('./commands/transcripts.js') },
  { names: ['audit'], load: () => import('./commands/audit.js') },
  { names: ['subject'], load: () => import('./commands/subject.js') },
  { names: ['breach'], load: () => import('./commands/breach.js') },
  { names: ['pii'], load: () => import('./commands/pii.js') },
  { names: ['backup', 'restore'], load: () => import('./commands/backup.js') },
  { names: ['retention', 'hold'], load: () => import('./commands/retention.js') },
  { names: ['alerts'], load: () => import('./commands/alerts.js') },
  { names: ['canary'], load: () => import('./commands/canary.js') },
  { names: ['scan'], load: () => import('./commands/scan.js') },
  { names: ['doctor'], load: () => import('./commands/doctor.js') },
  { names: ['demo'], load: () => import('./commands/demo.js') },
  { names: ['serve'], load: () => import('./commands/serve.js') },
  { names: ['siprec'], load: () => import('./commands/siprec.js') },
];

/** options of the program itself that take a value: their value is not a command's name */
const PROGRAM_OPTIONS_WITH_VALUE = new Set(['--data']);

/** the command modules a run with these arguments needs: the named command's, or all */
export function modulesFor(args: readonly string[]): readonly { names: readonly string[]; load: () => Promise<CommandModule> }[] {
  let name: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') break;
    if (PROGRAM_OPTIONS_WITH_VALUE.has(a)) i += 1;
    else if (!a.startsWith('-')) {
      name = a;
      break;
    }
  }
  if (name === 'help') return COMMAND_MODULES;
  const one = COMMAND_MODULES.find((m) => m.names.includes(name ?? ''));
  return one ? [one] : COMMAND_MODULES;
}

export async function main(argv: string[]): Promise<void> {
  // everything callvault writes is for its own user only
  process.umask(0o077);
  const program = new Command('callvault')
    .description('a vault for recorded healthcare calls')
    .option('--data <dir>', 'data directory (default: $CALLVAULT_DATA or ./callvault-data)')
    .option('--json', 'machine-readable output')
    .version(packageVersion(), '--version', 'the version of callvault')
    .exitOverride()
    .configureOutput(QUIET_ERRORS);
  // the environment is read once, when the first command needs it: `--help` works whatever it holds
  let config: Config | undefined;
  const globals = (): GlobalOptions => {
    if (!config) {
      config = loadConfig();
      forgetSecretsInEnvironment();
    }
    return { ...program.opts<Omit<GlobalOptions, 'config'>>(), config };
  };
  for (const command of await Promise.all(modulesFor(argv.slice(2)).map((m) => m.load()))) command.register(program, globals);
  // every subcommand accepts the global options after its own name too
  for (const cmd of allCommands(program)) {
    if (cmd === program) continue;
    cmd.exitOverride().configureOutput(QUIET_ERRORS).option('--data <dir>', 'data directory').option('--json', 'machine-readable output');
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

/**
 * Commander's own errors (an unknown command or option, a missing argument) are reported by
 * report() in callvault's one-line form, so commander prints none of its own.
 */
const QUIET_ERRORS = { outputError: () => undefined };

/** "error: unknown command 'lst'\n(Did you mean list?)" as one line: "unknown command 'lst' (did you mean list?)" */
function usageMessage(err: CommanderError): string {
  return err.message
    .replace(/^error: /, '')
    .replace(/\s*\(Did you mean (.+)\?\)\s*$/, ' (did you mean $1?)')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}

function packageVersion(): string {
  // dist/src/cli/main.js → the package's root
  return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(allCommands)];
}

function report(err: unknown, json: boolean, debug: boolean): number {
  if (err instanceof CommanderError) {
    // help and version are not failures; commander has printed its own usage message
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
    const message = usageMessage(err);
    if (json) process.stdout.write(`${JSON.stringify({ error: { code: ErrorCodes.USAGE, message } })}\n`);
    process.stderr.write(`callvault: ${message} [${ErrorCodes.USAGE}]\n`);
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
