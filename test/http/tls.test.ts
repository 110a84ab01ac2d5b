/**
 * The TLS the server offers, asked one cipher suite at a time as a scanner (testssl.sh) would:
 * TLS 1.3, and on TLS 1.2 only ECDHE with AES-GCM or ChaCha20-Poly1305 (the certificate made at
 * init is ECDSA P-256). TLS 1.1 and older are refused.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, getCiphers, type SecureVersion } from 'node:tls';
import { startTestServer, type TestServer } from './harness.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => server.close());

function handshake(options: { ciphers?: string; minVersion?: SecureVersion; maxVersion?: SecureVersion }): Promise<{ version: string | null; cipher: string } | undefined> {
  const { port } = new URL(server.url);
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port), servername: 'localhost', rejectUnauthorized: false, ...options }, () => {
      const answer = { version: socket.getProtocol(), cipher: socket.getCipher().standardName };
      socket.destroy();
      resolve(answer);
    });
    socket.on('error', () => resolve(undefined));
  });
}

test('on TLS 1.2 exactly the ECDHE-ECDSA AEAD suites are accepted', async () => {
  const accepted: string[] = [];
  for (const cipher of getCiphers()) {
    if (cipher.startsWith('tls_')) continue; // TLS 1.3 suites are not chosen by this list
    const answer = await handshake({ ciphers: cipher.toUpperCase(), maxVersion: 'TLSv1.2' });
    if (answer) accepted.push(answer.cipher);
  }
  assert.deepEqual(accepted.sort(), ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256']);
});

test('TLS 1.3 is offered, TLS 1.1 is not', async () => {
  assert.equal((await handshake({}))?.version, 'TLSv1.3');
  assert.equal(await handshake({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' }), undefined);
});
