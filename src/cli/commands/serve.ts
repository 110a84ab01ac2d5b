import type { Command } from 'commander';
import { open } from 'node:fs/promises';
import { createServer, isIP } from 'node:net';
import { join } from 'node:path';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import { defaultTlsFiles, ensureSelfSignedCertificate, readTls } from '../../http/tls.js';
import { parseProviderConfigs, type OidcProviderConfig } from '../../identities/oidc.js';
import { indexPending } from '../../recordings/indexer.js';
import type { Vault } from '../../vault.js';
import type { LogLevel } from '../../config.js';
import { commaList, openUnlocked, positiveInt, untilSignalled, wholeNumber, type GlobalOptions } from '../io.js';
import { startBackgroundJobs } from '../../services/background.js';
import { listenMetrics, settledAttempts } from '../../metrics/metrics.js';
import { DEFAULT_LIMITS } from '../../http/connection-limits.js';

export interface ServeOptions {
  host: string;
  port: number;
  tlsCert?: string;
  tlsKey?: string;
  insecureHttp?: boolean;
  rateLimit?: number;
  /** seconds between audit checkpoints; 0 signs only at shutdown */
  checkpointInterval?: number;
  trustProxy?: string[];
  /** HOST:PORT of a plain-HTTP listener for GET /metrics; absent, none is opened */
  metricsListen?: string;
  /** lets --metrics-listen name an address other than a loopback one */
  metricsAllowRemote?: boolean;
  /** timeouts in seconds, and connection caps (src/http/connection-limits.ts) */
  headerTimeout?: number;
  requestTimeout?: number;
  idleTimeout?: number;
  uploadStallTimeout?: number;
  maxConnections?: number;
  maxConnectionsPerAddress?: number;
  /** CALLVAULT_LOG_LEVEL and CALLVAULT_DEBUG (src/config.ts) */
  logLevel?: LogLevel;
  debug?: boolean;
  /** where the request log goes instead of stdout */
  logStream?: NodeJS.WritableStream;
}

const DEFAULT_CHECKPOINT_SECONDS = 60;
const HOUSEKEEPING_INTERVAL_MS = 5 * 60_000;

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * Starts the server on an opened, unlocked vault; resolves with its URL, the metrics URL when
 * --metrics-listen asked for one, and a stop function.
 */
export async function startServer(vault: Vault, opts: ServeOptions, log = true): Promise<{ url: string; metricsUrl?: string; stop: () => Promise<void> }> {
  if (opts.insecureHttp && !LOOPBACK.has(opts.host)) {
    throw new CallvaultError(ErrorCodes.USAGE, '--insecure-http is allowed only on a loopback address (127.0.0.1, ::1, localhost)');
  }
  const metricsAddress = opts.metricsListen === undefined ? undefined : parseMetricsListen(opts.metricsListen, opts.metricsAllowRemote ?? false);
  if (Boolean(opts.tlsCert) !== Boolean(opts.tlsKey)) throw new CallvaultError(ErrorCodes.USAGE, '--tls-cert and --tls-key go together');
  let tls: { cert: Buffer; key: Buffer } | undefined;
  if (!opts.insecureHttp) {
    const files = opts.tlsCert ? { cert: opts.tlsCert, key: opts.tlsKey! } : await ensureSelfSignedCertificate(vault.dataDir).then(() => defaultTlsFiles(vault.dataDir));
    tls = await readTls(files).catch(() => {
      throw new CallvaultError(ErrorCodes.USAGE, 'the TLS certificate or key cannot be read');
    });
  }
  const oidc = await loadOidcProviders(vault.dataDir);
  const limits = {
    headerTimeoutSeconds: opts.headerTimeout,
    requestTimeoutSeconds: opts.requestTimeout,
    idleTimeoutSeconds: opts.idleTimeout,
    uploadStallSeconds: opts.uploadStallTimeout,
    maxConnections: opts.maxConnections,
    maxConnectionsPerAddress: opts.maxConnectionsPerAddress,
  };
  // a request's durable writes must not stop every other request while they commit
  vault.database.startWriter();
  // loaded here, not at the top: every other command starts without fastify, its plugins and the route schemas
  const { buildServer } = await import('../../http/server.js');
  const app = await buildServer({
    vault,
    tls,
    logger: log,
    logLevel: opts.logLevel,
    logStream: opts.logStream,
    debug: opts.debug,
    rateLimitPerMinute: opts.rateLimit,
    oidc,
    trustProxy: opts.trustProxy,
    limits,
  });
  await app.listen({ host: opts.host, port: opts.port }).catch(async (err: NodeJS.ErrnoException) => {
    await app.close();
    // taken between assertPortFree and now: the same message
    throw err.code === 'EADDRINUSE' ? portInUse(opts.port) : err;
  });
  const metrics = metricsAddress
    ? await listenMetrics(app.metrics, metricsAddress.host, metricsAddress.port).catch(async (err: NodeJS.ErrnoException) => {
        await app.close();
        throw new CallvaultError(ErrorCodes.USAGE, `--metrics-listen: cannot listen on ${opts.metricsListen}${err.code ? ` (${err.code})` : ''}`);
      })
    : undefined;
  const jobs = startBackgroundJobs(vault, {
    checkpointIntervalMs: (opts.checkpointInterval ?? DEFAULT_CHECKPOINT_SECONDS) * 1000,
    housekeepingIntervalMs: HOUSEKEEPING_INTERVAL_MS,
    warn: (message) => app.log.warn(message),
    redactionStopped: (code) => app.log.error({ code }, 'redaction backlog stopped'),
    housekeepingReport: (report) => {
      settledAttempts.inc({ outcome: 'completed' }, report.completed);
      settledAttempts.inc({ outcome: 'removed' }, report.removed);
    },
    // the alert's id, rule and severity: its evidence and account are for the auditor's page
    onAlert: (alert) => app.log.warn({ alert: alert.id, rule: alert.rule, severity: alert.severity }, 'insider-misuse alert raised'),
  });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const host = isIP(opts.host) === 6 ? `[${opts.host}]` : opts.host === '0.0.0.0' ? 'localhost' : opts.host;
  return {
    url: `${opts.insecureHttp ? 'http' : 'https'}://${host}:${port}`,
    metricsUrl: metrics?.url,
    stop: async () => {
      await metrics?.close();
      await app.close();
      await jobs.stop();
    },
  };
}

function portInUse(port: number): CallvaultError {
  return new CallvaultError(ErrorCodes.USAGE, `port ${port} is in use; try --port N with a free port`);
}

/**
 * Fails with a usage error when HOST:PORT cannot be listened on, so that `serve` and `demo` say so
 * before any slow work (indexing, generating the demo's calls), not as an unexpected error after it.
 * Port 0 (any free port) is always free.
 */
export async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(portInUse(port));
      else if (err.code === 'EACCES') reject(new CallvaultError(ErrorCodes.USAGE, `port ${port} needs privileges this user does not have; try --port N above 1023`));
      else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') reject(new CallvaultError(ErrorCodes.USAGE, `--host ${host} is not an address of this machine`));
      else reject(err);
    });
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/**
 * `--metrics-listen HOST:PORT` (an IPv6 host in brackets). The listener is plain HTTP without
 * authentication: anything but a loopback address needs --metrics-allow-remote, so that exposing
 * it to a network is a decision written in the command line.
 */
export function parseMetricsListen(value: string, allowRemote: boolean): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!host || !(port >= 0 && port <= 65535)) throw new CallvaultError(ErrorCodes.USAGE, '--metrics-listen takes HOST:PORT, e.g. 127.0.0.1:9464 or [::1]:9464');
  if (!allowRemote && !LOOPBACK.has(host)) {
    throw new CallvaultError(
      ErrorCodes.USAGE,
      '--metrics-listen is plain HTTP without authentication: give a loopback address (127.0.0.1, ::1, localhost), or add --metrics-allow-remote to listen on another',
    );
  }
  return { host, port };
}

export const OIDC_CONFIG_FILE = 'oidc.json';

/**
 * The OpenID Connect providers in DATA/oidc.json (an array of provider configurations, see
 * src/identities/oidc.ts), or none when the file does not exist. The file holds client secrets, so
 * it must not be readable or writable by group or others.
 */
export async function loadOidcProviders(dataDir: string): Promise<OidcProviderConfig[]> {
  const path = join(dataDir, OIDC_CONFIG_FILE);
  let file: import('node:fs/promises').FileHandle;
  try {
    file = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new CallvaultError(ErrorCodes.USAGE, `${OIDC_CONFIG_FILE} in the data directory cannot be read`);
  }
  let text: string;
  try {
    const stat = await file.stat();
    if (!stat.isFile()) throw new CallvaultError(ErrorCodes.USAGE, `${OIDC_CONFIG_FILE} in the data directory is not a regular file`);
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
      throw new CallvaultError(ErrorCodes.USAGE, `${OIDC_CONFIG_FILE} holds client secrets and must not be accessible to group or others: chmod 600 ${path}`);
    }
    text = await file.readFile('utf8');
  } finally {
    await file.close();
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CallvaultError(ErrorCodes.USAGE, `${OIDC_CONFIG_FILE} in the data directory is not valid JSON`);
  }
  return parseProviderConfigs(value);
}

/** Serves until SIGINT or SIGTERM, then finishes the requests in flight and closes the database. */
export async function serveUntilSignalled(vault: Vault, opts: ServeOptions, announce: (url: string) => void): Promise<void> {
  // listening before anything is announced: a SIGTERM sent as soon as the URL appears (a
  // supervisor, a test) must stop the server gracefully, not kill it with the default action
  const signalled = untilSignalled();
  const server = await startServer(vault, opts);
  announce(server.url);
  if (server.metricsUrl) process.stderr.write(`callvault metrics on ${server.metricsUrl}\n`);
  await signalled;
  await server.stop();
}

export function addServeOptions(cmd: Command, defaultHost = '0.0.0.0'): Command {
  return cmd
    .option('--host <address>', 'address to listen on', defaultHost)
    .option('--port <n>', 'port to listen on', (v) => (v === '0' ? 0 : positiveInt(v)), 8443)
    .option('--tls-cert <file>', 'PEM certificate (default: the self-signed one made at init)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--insecure-http', 'plain HTTP, only on a loopback address (behind a TLS-terminating proxy on the same host)')
    .option('--rate-limit <n>', 'requests per minute per client address', positiveInt)
    .option('--trust-proxy <addresses>', 'load balancers in front (comma-separated addresses or CIDR ranges): client addresses come from their X-Forwarded-For', commaList)
    .option('--checkpoint-interval <seconds>', `sign an audit checkpoint this often while the log grows (0: only at shutdown)`, wholeNumber, DEFAULT_CHECKPOINT_SECONDS)
    .option('--metrics-listen <host:port>', 'serve Prometheus metrics at http://HOST:PORT/metrics (plain HTTP, a loopback address unless --metrics-allow-remote)')
    .option('--metrics-allow-remote', 'let --metrics-listen use an address other than a loopback one')
    .option('--header-timeout <seconds>', 'time a client has for the TLS handshake, and then for the headers of each request', positiveInt, DEFAULT_LIMITS.headerTimeoutSeconds)
    .option(
      '--request-timeout <seconds>',
      'time a client has to send a whole request, body included (0: no limit; uploads are bounded by --upload-stall-timeout)',
      wholeNumber,
      DEFAULT_LIMITS.requestTimeoutSeconds,
    )
    .option(
      '--idle-timeout <seconds>',
      'close a connection that moves no bytes this long while the server waits on the client (sending or reading)',
      positiveInt,
      DEFAULT_LIMITS.idleTimeoutSeconds,
    )
    .option('--upload-stall-timeout <seconds>', 'close a request whose body does not grow by 16 KiB, or end, within this time', positiveInt, DEFAULT_LIMITS.uploadStallSeconds)
    .option('--max-connections <n>', 'connections open at once, all clients together (default: half the open-file limit, at most 8192)', positiveInt)
    .option(
      '--max-connections-per-address <n>',
      'connections open at once from one client address (--trust-proxy addresses are exempt)',
      positiveInt,
      DEFAULT_LIMITS.maxConnectionsPerAddress,
    );
}

export function register(program: Command, globals: () => GlobalOptions): void {
  addServeOptions(program.command('serve').description('the HTTPS API (OpenAPI at /api/docs); needs the passphrase to play audio')).action(async (cmd: ServeOptions) => {
    const opts = globals();
    await assertPortFree(cmd.host, cmd.port);
    const vault = await openUnlocked(opts);
    try {
      await indexPending(vault);
      await serveUntilSignalled(vault, { ...cmd, logLevel: opts.config.logLevel, debug: opts.config.debug }, (url) =>
        process.stderr.write(`callvault serving on ${url} (API documentation: ${url}/api/docs)\n`),
      );
    } finally {
      await vault.close();
    }
  });
}
