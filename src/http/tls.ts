/**
 * The server's TLS certificate: a self-signed one made at init (DATA/tls/), which operators replace
 * by naming their own with `serve --tls-cert/--tls-key` (or by overwriting these two files).
 */
import { readFile, mkdir, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/fs.js';

/**
 * What the server offers: TLS 1.3, and on TLS 1.2 only forward-secret ECDHE with an AEAD (AES-GCM
 * or ChaCha20-Poly1305). No CBC suites (LUCKY13), no CCM8, no ARIA, no static RSA key exchange.
 */
export const TLS_POLICY = {
  minVersion: 'TLSv1.2',
  ciphers: [
    'TLS_AES_128_GCM_SHA256',
    'TLS_AES_256_GCM_SHA384',
    'TLS_CHACHA20_POLY1305_SHA256',
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305',
    'ECDHE-RSA-CHACHA20-POLY1305',
  ].join(':'),
  honorCipherOrder: true,
} as const;

export interface TlsFiles {
  cert: string;
  key: string;
}

export function defaultTlsFiles(dataDir: string): TlsFiles {
  return { cert: join(dataDir, 'tls', 'cert.pem'), key: join(dataDir, 'tls', 'key.pem') };
}

export async function ensureSelfSignedCertificate(dataDir: string): Promise<TlsFiles> {
  const files = defaultTlsFiles(dataDir);
  if (
    await stat(files.cert).then(
      () => true,
      () => false,
    )
  )
    return files;
  const { generate } = await import('selfsigned');
  const now = new Date();
  const pems = await generate([{ name: 'commonName', value: hostname() }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: now,
    notAfterDate: new Date(now.getTime() + 825 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: hostname() },
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  await mkdir(join(dataDir, 'tls'), { recursive: true, mode: 0o700 });
  await writeFileAtomic(files.key, pems.private, 0o600);
  await writeFileAtomic(files.cert, pems.cert, 0o644);
  return files;
}

export async function readTls(files: TlsFiles): Promise<{ cert: Buffer; key: Buffer }> {
  return { cert: await readFile(files.cert), key: await readFile(files.key) };
}
