import type { Command } from 'commander';
import { isIP } from 'node:net';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import { buildServer } from '../../http/server.js';
import { defaultTlsFiles, ensureSelfSignedCertificate, readTls } from '../../http/tls.js';
import { indexPending } from '../../recordings/indexer.js';
import type { Vault } from '../../vault.js';
import { openUnlocked, positiveInt, type GlobalOptions } from '../io.js';

export interface ServeOptions {
  host: string;
  port: number;
  tlsCert?: string;
  tlsKey?: string;
  insecureHttp?: boolean;
  rateLimit?: number;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Starts the server on an opened, unlocked vault; resolves with its URL and a stop function. */
export async function startServer(vault: Vault, opts: ServeOptions, log = true): Promise<{ url: string; stop: () => Promise<void> }> {
  if (opts.insecureHttp && !LOOPBACK.has(opts.host)) {
    throw new CallvaultError(ErrorCodes.USAGE, '--insecure-http is allowed only on a loopback address (127.0.0.1, ::1, localhost)');
  }
  if (Boolean(opts.tlsCert) !== Boolean(opts.tlsKey)) throw new CallvaultError(ErrorCodes.USAGE, '--tls-cert and --tls-key go together');
  let tls;
  if (!opts.insecureHttp) {
    const files = opts.tlsCert ? { cert: opts.tlsCert, key: opts.tlsKey! } : await ensureSelfSignedCertificate(vault.dataDir).then(() => defaultTlsFiles(vault.dataDir));
    tls = await readTls(files).catch(() => {
      throw new CallvaultError(ErrorCodes.USAGE, 'the TLS certificate or key cannot be read');
    });
  }
  const app = await buildServer({ vault, tls, logger: log, rateLimitPerMinute: opts.rateLimit });
  await app.listen({ host: opts.host, port: opts.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const host = isIP(opts.host) === 6 ? `[${opts.host}]` : opts.host === '0.0.0.0' ? 'localhost' : opts.host;
  return { url: `${opts.insecureHttp ? 'http' : 'https'}://${host}:${port}`, stop: () => app.close() };
}

/** Serves until SIGINT or SIGTERM, then finishes the requests in flight and closes the database. */
export async function serveUntilSignalled(vault: Vault, opts: ServeOptions, announce: (url: string) => void): Promise<void> {
  const server = await startServer(vault, opts);
  announce(server.url);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.stop();
}

export function addServeOptions(cmd: Command): Command {
  return cmd
    .option('--host <address>', 'address to listen on', '0.0.0.0')
    .option('--port <n>', 'port to listen on', (v) => (v === '0' ? 0 : positiveInt(v)), 8443)
    .option('--tls-cert <file>', 'PEM certificate (default: the self-signed one made at init)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--insecure-http', 'plain HTTP, only on a loopback address (behind a TLS-terminating proxy on the same host)')
    .option('--rate-limit <n>', 'requests per minute per client address', positiveInt);
}

export function register(program: Command, globals: () => GlobalOptions): void {
  addServeOptions(program.command('serve').description('the HTTPS API (OpenAPI at /api/docs); needs the passphrase to play audio')).action(async (cmd: ServeOptions) => {
    const opts = globals();
    const vault = await openUnlocked(opts);
    try {
      await indexPending(vault);
      await serveUntilSignalled(vault, cmd, (url) => process.stderr.write(`callvault serving on ${url} (API documentation: ${url}/api/docs)\n`));
    } finally {
      await vault.close();
    }
  });
}
