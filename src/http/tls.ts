/**
 * The server's TLS certificate: a self-signed one made at init (DATA/tls/), which operators replace
 * by naming their own with `serve --tls-cert/--tls-key` (or by overwriting these two files).
 */
import { readFile, mkdir, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/fs.js';

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
