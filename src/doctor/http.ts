/**
 * Checks of the server at `--url`, from the outside and without credentials: what it answers about
 * recordings, audio and its documentation, whether it also answers plain HTTP, and its TLS
 * certificate and protocols. Nothing is sent but the requests named here.
 */
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, type PeerCertificate, type SecureVersion } from 'node:tls';
import { fail, ok, warn, type Finding } from './finding.js';

const TIMEOUT_MS = 10_000;
const DAY_MS = 86_400_000;
const REFUSED = new Set([401, 403, 404]);

/** the status of an unauthenticated GET, or the error's code when nothing answered */
function get(url: URL): Promise<{ status?: number; error?: string }> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolvePromise) => {
    // the certificate is checked by checkCertificate; here we only ask what the server gives away
    const req = request(url, { method: 'GET', timeout: TIMEOUT_MS, rejectUnauthorized: false }, (res) => {
      res.resume();
      resolvePromise({ status: res.statusCode });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolvePromise({ error: err.code ?? 'error' }));
    req.end();
  });
}

function at(base: URL, path: string): URL {
  return new URL(path, base.origin);
}

export async function checkEndpoints(base: URL): Promise<Finding[]> {
  const findings: Finding[] = [];
  const protectedPaths: [string, string][] = [
    ['recordings', '/api/v1/recordings'],
    ['audio', `/api/v1/recordings/${randomUUID()}/audio`],
  ];
  for (const [what, path] of protectedPaths) {
    const r = await get(at(base, path));
    const shown = path.replace(/[0-9a-f-]{36}/, '<id>');
    if (r.status === undefined) findings.push(fail(`http-${what}`, `GET ${shown} got no answer (${r.error})`, 'check that the server runs at --url'));
    else if (REFUSED.has(r.status)) findings.push(ok(`http-${what}`, `GET ${shown} without credentials is refused (${r.status})`));
    else
      findings.push(
        fail(
          `http-${what}`,
          `GET ${shown} without credentials answered ${r.status}`,
          'serve the API with `callvault serve` only, and make any proxy in front of it pass requests through, not answer them',
        ),
      );
  }
  const docs = await get(at(base, '/api/docs'));
  if (docs.status !== undefined && docs.status < 400)
    findings.push(warn('http-docs', `the API documentation is public (${docs.status})`, 'nothing to do unless you want it hidden: it holds no data, only the API description'));
  else findings.push(ok('http-docs', `the API documentation is not public (${docs.status ?? docs.error})`));
  const checkpoint = await get(at(base, '/api/v1/audit/checkpoint'));
  if (checkpoint.status !== undefined && checkpoint.status < 400)
    findings.push(warn('http-checkpoint', `the audit checkpoint is public (${checkpoint.status})`, 'nothing to do: a checkpoint holds only a size and a hash'));
  return findings;
}

/** the same host and port asked in plain HTTP must not answer */
export async function checkPlainHttp(base: URL): Promise<Finding[]> {
  const fix = 'serve HTTPS only (`callvault serve` does by default); close the port to plain HTTP or redirect it from another port';
  if (base.protocol === 'http:') return [fail('plain-http', `${base.origin} is plain HTTP: recordings and passwords cross the network in clear`, fix)];
  const plain = new URL(base.href);
  plain.protocol = 'http:';
  if (!base.port) plain.port = '443';
  const r = await get(at(plain, '/api/v1/recordings'));
  if (r.status !== undefined) return [fail('plain-http', `${plain.origin} answers plain HTTP (${r.status})`, fix)];
  return [ok('plain-http', `${plain.origin} does not answer plain HTTP`)];
}

function handshake(
  base: URL,
  options: { minVersion?: SecureVersion; maxVersion?: SecureVersion; ciphers?: string },
): Promise<{ cert?: PeerCertificate; authorized?: boolean; protocol?: string; error?: string }> {
  return new Promise((resolvePromise) => {
    const host = base.hostname.replace(/^\[|\]$/g, '');
    const socket = connect({
      host,
      port: Number(base.port || 443),
      servername: /^[\d.:]+$/.test(host) ? undefined : host,
      rejectUnauthorized: false,
      timeout: TIMEOUT_MS,
      ...options,
    });
    socket.once('secureConnect', () => {
      resolvePromise({ cert: socket.getPeerCertificate(), authorized: socket.authorized, protocol: socket.getProtocol() ?? undefined });
      socket.destroy();
    });
    socket.once('timeout', () => socket.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    socket.once('error', (err: NodeJS.ErrnoException) => resolvePromise({ error: err.code ?? 'error' }));
  });
}

export async function checkCertificate(base: URL, now = new Date()): Promise<Finding[]> {
  if (base.protocol !== 'https:') return [];
  const r = await handshake(base, {});
  if (!r.cert?.valid_to) return [fail('tls-certificate', `no TLS handshake with ${base.host} (${r.error ?? 'no certificate'})`, 'check that the server runs at --url')];
  const findings: Finding[] = [];
  const left = Date.parse(r.cert.valid_to) - now.getTime();
  const renew = 'renew the certificate and restart `callvault serve` with it (--tls-cert/--tls-key)';
  if (left <= 0) findings.push(fail('tls-certificate', `the TLS certificate expired on ${r.cert.valid_to}`, renew));
  else if (left < 30 * DAY_MS) findings.push(warn('tls-certificate', `the TLS certificate expires in ${Math.floor(left / DAY_MS)} days (${r.cert.valid_to})`, renew));
  else findings.push(ok('tls-certificate', `the TLS certificate is valid until ${r.cert.valid_to}`));
  if (!r.authorized)
    findings.push(
      warn(
        'tls-trust',
        'the TLS certificate is not trusted by this host (self-signed or an unknown CA)',
        'install a certificate from a CA the clients trust, or give them this one',
      ),
    );
  return findings;
}

export async function checkProtocols(base: URL): Promise<Finding[]> {
  if (base.protocol !== 'https:') return [];
  const old: SecureVersion[] = [];
  for (const version of ['TLSv1', 'TLSv1.1'] as const) {
    // OpenSSL refuses these at its default security level: allow them for this one probe
    const r = await handshake(base, { minVersion: version, maxVersion: version, ciphers: 'DEFAULT:@SECLEVEL=0' });
    if (r.protocol) old.push(version);
  }
  if (old.length)
    return [fail('tls-protocols', `the server offers ${old.join(' and ')}`, 'offer TLS 1.2 and 1.3 only (set the minimum version in the server or the proxy in front of it)')];
  return [ok('tls-protocols', 'the server offers no TLS version below 1.2')];
}
