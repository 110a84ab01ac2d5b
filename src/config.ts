/**
 * The configuration from the environment: every CALLVAULT_* variable (and the few others
 * callvault reads) parsed once, into one typed, frozen object. This is the only module that
 * reads `process.env` (test/config/config.test.ts checks it); the CLI's entry calls loadConfig
 * once and hands the values down, so every other module takes what it needs as a parameter.
 *
 * A bad value is one CallvaultError CV_USAGE (exit status 2), naming the variable and what it
 * takes, never the value itself: several of these hold secrets (a passphrase, an API key, a PIN
 * in a PKCS#11 URL, a password in a database URL). The secrets are non-enumerable properties of
 * the object, so printing or serialising the configuration does not show them either.
 *
 * docs/configuration.md's table is generated from VARIABLES (the test compares them).
 */
import { parseAlertOutputs } from './alerts/outputs.js';
import { resolve } from 'node:path';
import { CallvaultError, ErrorCodes, isCallvaultError } from './errors.js';
import { parseWitnesses } from './audit/witnesses/index.js';
import { isValidKeyName } from './audit/signed-note.js';
import { parsePkcs11Url } from './keys/pkcs11/url.js';
import { parseBlobUrl } from './storage/blob-url.js';
import { transcriptionAdapterFromUrl } from './transcription/index.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  /** CALLVAULT_DATA, resolved; `--data` takes precedence */
  readonly dataDir: string;
  /** CALLVAULT_DATABASE_URL: PostgreSQL; absent, SQLite in the data directory (secret: may hold a password) */
  readonly databaseUrl?: string;
  /** CALLVAULT_KMS: file:PATH or pkcs11:… (secret: may hold pin-value) */
  readonly kms?: string;
  /**
   * the variable a `pin-source=env:NAME` in CALLVAULT_KMS names, when it is set: { NAME: PIN }
   * (secret). Any variable name is allowed there, so it is read here like the others.
   */
  readonly pinEnvironment: Readonly<Record<string, string>>;
  /** CALLVAULT_AUDIT_WITNESS as given: comma-separated witnesses (secret: a URL may carry a token) */
  readonly auditWitness?: string;
  /** CALLVAULT_BLOB_URL: s3://bucket[/prefix]?…; absent, files in DATA/objects */
  readonly blobUrl?: string;
  /** AWS_REGION, else AWS_DEFAULT_REGION: the region of an S3 endpoint named without one */
  readonly awsRegion?: string;
  /** CALLVAULT_AUDIT_ORIGIN: the name of a new checkpoint signing key */
  readonly auditOrigin?: string;
  /** CALLVAULT_PASSPHRASE (secret); set but empty is kept as '' (an HSM's pin-source) */
  readonly passphrase?: string;
  /** CALLVAULT_LOG_LEVEL of the server's request log */
  readonly logLevel: LogLevel;
  /** CALLVAULT_DEBUG: stack traces of unexpected errors on stderr */
  readonly debug: boolean;
  /** CALLVAULT_REDACTION_FILL */
  readonly redactionFill: 'tone' | 'silence';
  /** CALLVAULT_REDACTION_PADDING_MS */
  readonly redactionPaddingMs: number;
  /** CALLVAULT_TRANSCRIBE_URL: an OpenAI-compatible transcription service */
  readonly transcribeUrl?: string;
  /** CALLVAULT_TRANSCRIBE_API_KEY (secret) */
  readonly transcribeApiKey?: string;
  /** CALLVAULT_TIME_ZONE: an IANA zone; absent, Europe/Stockholm */
  readonly timeZone?: string;
  /** CALLVAULT_ALERT_OUTPUT (secret: a webhook URL may carry a token) */
  readonly alertOutput?: string;
}

export interface VariableDoc {
  name: string;
  /** what it takes, and its default */
  takes: string;
  description: string;
  /** never shown in a message or log */
  secret?: boolean;
}

/** every variable src/ reads, for docs/configuration.md */
export const VARIABLES: readonly VariableDoc[] = [
  { name: 'CALLVAULT_DATA', takes: 'a directory; default `./callvault-data`', description: 'the data directory (`--data DIR` takes precedence)' },
  {
    name: 'CALLVAULT_PASSPHRASE',
    takes: 'text',
    description: "the key custodian's passphrase, or the HSM's PIN (empty: the `pin-source` of `CALLVAULT_KMS`); unset, commands prompt on a terminal",
    secret: true,
  },
  {
    name: 'CALLVAULT_DATABASE_URL',
    takes: '`postgres://…` or `postgresql://…`; default SQLite in the data directory',
    description: 'the metadata database (docs/deployment.md)',
    secret: true,
  },
  {
    name: 'CALLVAULT_BLOB_URL',
    takes: '`s3://bucket[/prefix][?endpoint=…&region=…&forcePathStyle=true]`; default `DATA/objects`',
    description: 'where the encrypted recordings live (src/storage/blob-url.ts)',
  },
  {
    name: 'CALLVAULT_KMS',
    takes: '`file:PATH` or `pkcs11:…`; default `DATA/keys/keyring.json`',
    description: 'the keyring kept apart from the data, or keys on an HSM (docs/keys.md)',
    secret: true,
  },
  {
    name: 'CALLVAULT_AUDIT_WITNESS',
    takes: 'comma-separated `file:PATH`, `https://…`, `syslog+udp|tcp|tls://HOST:PORT`',
    description: 'witnesses that receive every new audit checkpoint (docs/audit-log.md)',
    secret: true,
  },
  {
    name: 'CALLVAULT_AUDIT_ORIGIN',
    takes: 'a name without spaces or `+`; default `callvault.local/audit/<16 hex>`',
    description: 'the origin line of the audit checkpoints, used when the signing key is created',
  },
  { name: 'CALLVAULT_REDACTION_FILL', takes: '`tone` or `silence`; default `tone`', description: 'what replaces an identifier in the redacted audio (docs/redaction.md)' },
  { name: 'CALLVAULT_REDACTION_PADDING_MS', takes: 'a whole number, 0 to 5000; default 250', description: 'milliseconds also silenced before and after each identifier' },
  {
    name: 'CALLVAULT_TRANSCRIBE_URL',
    takes: '`https://HOST/v1?model=…&language=…`; default none',
    description: 'an OpenAI-compatible service that transcribes calls that come without a transcript (docs/redaction.md)',
  },
  { name: 'CALLVAULT_TRANSCRIBE_API_KEY', takes: 'printable ASCII', description: 'the bearer token for `CALLVAULT_TRANSCRIBE_URL`', secret: true },
  {
    name: 'CALLVAULT_ALERT_OUTPUT',
    takes: 'comma-separated `file:PATH`, `https://…` (a webhook), `syslog+udp|tcp|tls://HOST:PORT`',
    description: 'where `serve` sends each new insider-misuse alert besides the database and the log (docs/alerts.md)',
    secret: true,
  },
  { name: 'CALLVAULT_TIME_ZONE', takes: 'an IANA time zone; default `Europe/Stockholm`', description: "the zone of accounts' working hours and of the alert rules' days" },
  { name: 'CALLVAULT_LOG_LEVEL', takes: `${LOG_LEVELS.map((l) => `\`${l}\``).join(', ')}; default \`info\``, description: "the level of `callvault serve`'s request log" },
  {
    name: 'CALLVAULT_DEBUG',
    takes: '`1` (or `true`, `yes`, `on`) or `0` (`false`, `no`, `off`); default off',
    description: 'prints the stack trace of an unexpected error to stderr',
  },
  {
    name: 'AWS_REGION, AWS_DEFAULT_REGION',
    takes: 'a region; default `us-east-1`',
    description: 'the region of an S3 endpoint whose `CALLVAULT_BLOB_URL` names none; the AWS SDK reads its credentials itself',
  },
];

const SECRETS: ReadonlySet<keyof Config> = new Set(['databaseUrl', 'kms', 'pinEnvironment', 'auditWitness', 'passphrase', 'transcribeApiKey', 'alertOutput']);

/** a variable's value as a string, or undefined when it is unset or empty */
function value(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

function bad(name: string, expected: string): CallvaultError {
  return new CallvaultError(ErrorCodes.USAGE, `${name} ${expected}`);
}

/** runs the parser of a value, and makes sure its error names a variable */
function checked(name: string, parse: () => unknown): void {
  try {
    parse();
  } catch (err) {
    if (!isCallvaultError(err)) throw bad(name, 'cannot be read');
    if (err.message.startsWith('CALLVAULT_')) throw err;
    throw new CallvaultError(err.code, `${name}: ${err.message}`, { cause: err });
  }
}

/**
 * Reads the configuration from `env` (the process environment unless a test gives another).
 * Throws one CV_USAGE error for the first bad value, naming the variable.
 */
/**
 * The whole environment a child process (ffmpeg decoding untrusted audio, espeak-ng, sox) gets:
 * where to find programs and a fixed locale. Never the parent's secrets.
 */
export function childEnvironment(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', LC_ALL: 'C' };
}

/**
 * Removes the secrets from this process's environment once `loadConfig` has read them, so that
 * nothing that reads the environment later (a child, a library, a crash report) finds them.
 */
export function forgetSecretsInEnvironment(): void {
  for (const v of VARIABLES) if (v.secret) for (const name of v.name.split(', ')) delete process.env[name];
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = resolve(value(env, 'CALLVAULT_DATA') ?? './callvault-data');

  const databaseUrl = value(env, 'CALLVAULT_DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\/./.test(databaseUrl)) throw bad('CALLVAULT_DATABASE_URL', 'is a postgres:// or postgresql:// URL');

  const kms = value(env, 'CALLVAULT_KMS');
  const pinEnvironment: Record<string, string> = {};
  if (kms !== undefined) {
    if (kms.startsWith('pkcs11:')) {
      let pinSource: ReturnType<typeof parsePkcs11Url>['pinSource'];
      checked('CALLVAULT_KMS', () => (pinSource = parsePkcs11Url(kms).pinSource));
      if (pinSource?.kind === 'env' && env[pinSource.name] !== undefined) pinEnvironment[pinSource.name] = env[pinSource.name]!;
    } else if (!kms.startsWith('file:') || kms.length === 'file:'.length) {
      throw bad('CALLVAULT_KMS', 'must be file:PATH or pkcs11:…');
    }
  }

  const auditWitness = value(env, 'CALLVAULT_AUDIT_WITNESS');
  if (auditWitness !== undefined) checked('CALLVAULT_AUDIT_WITNESS', () => parseWitnesses(auditWitness));

  const blobUrl = value(env, 'CALLVAULT_BLOB_URL')?.trim() || undefined;
  if (blobUrl !== undefined) checked('CALLVAULT_BLOB_URL', () => parseBlobUrl(blobUrl));

  const auditOrigin = value(env, 'CALLVAULT_AUDIT_ORIGIN');
  if (auditOrigin !== undefined && !isValidKeyName(auditOrigin)) throw bad('CALLVAULT_AUDIT_ORIGIN', 'is a name that is not empty and holds no spaces or "+"');

  const logLevel = value(env, 'CALLVAULT_LOG_LEVEL') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw bad('CALLVAULT_LOG_LEVEL', `is one of ${LOG_LEVELS.join(', ')}`);

  const debugText = (value(env, 'CALLVAULT_DEBUG') ?? '0').toLowerCase();
  const debug = ['1', 'true', 'yes', 'on'].includes(debugText);
  if (!debug && !['0', 'false', 'no', 'off'].includes(debugText)) throw bad('CALLVAULT_DEBUG', 'is 1 or 0');

  const redactionFill = value(env, 'CALLVAULT_REDACTION_FILL') ?? 'tone';
  if (redactionFill !== 'tone' && redactionFill !== 'silence') throw bad('CALLVAULT_REDACTION_FILL', 'is tone or silence');
  const paddingText = value(env, 'CALLVAULT_REDACTION_PADDING_MS');
  const redactionPaddingMs = paddingText === undefined ? 250 : Number(paddingText);
  if (!Number.isInteger(redactionPaddingMs) || redactionPaddingMs < 0 || redactionPaddingMs > 5000 || (paddingText !== undefined && paddingText.trim() === '')) {
    throw bad('CALLVAULT_REDACTION_PADDING_MS', 'is a whole number of milliseconds, 0 to 5000');
  }

  const transcribeUrl = value(env, 'CALLVAULT_TRANSCRIBE_URL')?.trim() || undefined;
  const transcribeApiKey = value(env, 'CALLVAULT_TRANSCRIBE_API_KEY');
  // the key is checked with the URL it goes to: without one it is not used
  if (transcribeUrl !== undefined) checked('CALLVAULT_TRANSCRIBE_URL', () => transcriptionAdapterFromUrl(transcribeUrl, { apiKey: transcribeApiKey }));

  const awsRegion = value(env, 'AWS_REGION') ?? value(env, 'AWS_DEFAULT_REGION');

  const timeZone = value(env, 'CALLVAULT_TIME_ZONE');
  if (timeZone !== undefined) checked('CALLVAULT_TIME_ZONE', () => new Intl.DateTimeFormat('en', { timeZone }));
  const alertOutput = value(env, 'CALLVAULT_ALERT_OUTPUT');
  if (alertOutput !== undefined) checked('CALLVAULT_ALERT_OUTPUT', () => parseAlertOutputs(alertOutput));

  const config: Record<string, unknown> = {};
  const values: Config = {
    dataDir,
    databaseUrl,
    kms,
    pinEnvironment: Object.freeze(pinEnvironment),
    auditWitness,
    blobUrl,
    awsRegion,
    auditOrigin,
    passphrase: env.CALLVAULT_PASSPHRASE,
    logLevel: logLevel as LogLevel,
    debug,
    redactionFill,
    redactionPaddingMs,
    transcribeUrl,
    transcribeApiKey,
    timeZone,
    alertOutput,
  };
  for (const [key, v] of Object.entries(values)) {
    if (v === undefined) continue;
    Object.defineProperty(config, key, { value: v, enumerable: !SECRETS.has(key as keyof Config) });
  }
  return Object.freeze(config) as unknown as Config;
}

/** the same configuration with another passphrase (the demo brings its own) */
export function withPassphrase(config: Config, passphrase: string): Config {
  const properties: PropertyDescriptorMap = Object.getOwnPropertyDescriptors(config);
  properties.passphrase = { value: passphrase, enumerable: false };
  return Object.freeze(Object.defineProperties({}, properties)) as Config;
}

/** the table of docs/configuration.md, in Markdown */
export function configurationTable(): string {
  const cell = (text: string) => text.replaceAll('|', '\\|');
  const rows = VARIABLES.map((v) => `| \`${v.name.replaceAll(', ', '`, `')}\` | ${cell(v.takes)} | ${cell(v.description)} | ${v.secret ? 'yes' : ''} |`);
  return ['| variable | takes | what it does | secret |', '|---|---|---|---|', ...rows].join('\n');
}
