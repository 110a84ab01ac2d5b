/**
 * Helpers shared by the HTTP authorisation and bad-input tests: distinct call WAVs from one
 * espeak-ng synthesis, multipart bodies written by hand (so a test controls every byte), raw HTTP
 * over TLS for what a well-behaved client library will not send, and the check every error
 * answer must pass.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import tls from 'node:tls';
import { Agent } from 'undici';
import { findDataChunk, makeCallWav } from '../fixtures/audio.js';
import { ensureSelfSignedCertificate, readTls } from '../../src/http/tls.js';
import { tempDir } from '../helpers.js';
import { Client, type TestServer } from './harness.js';

export type SyntheticCall = Awaited<ReturnType<typeof makeCallWav>>;

/**
 * One real call from espeak-ng and `count` byte-distinct copies of it: copy i has i + 1 extra
 * silent samples at the end of its data chunk, with the RIFF and data sizes patched to match, so
 * each is a valid WAV with its own content hash (the vault deduplicates by content hash).
 */
export async function callVariants(seed: number, count: number): Promise<{ call: SyntheticCall; wavs: Buffer[] }> {
  const dir = await tempDir('src', 'fixtures');
  const path = join(dir, 'call.wav');
  const call = await makeCallWav(path, { seed });
  const base = await readFile(path);
  const { sizeAt, dataAt } = findDataChunk(base);
  assert.equal(base.readUInt32LE(sizeAt) + dataAt, base.length, 'the data chunk is the last chunk of the fixture');
  const wavs: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const wav = Buffer.concat([base, Buffer.alloc(2 * (i + 1))]);
    wav.writeUInt32LE(wav.length - 8, 4);
    wav.writeUInt32LE(wav.length - dataAt, sizeAt);
    wavs.push(wav);
  }
  return { call, wavs };
}

export interface Part {
  name: string;
  value: string | Buffer;
  filename?: string;
  contentType?: string;
}

/** a multipart/form-data body, byte for byte */
export function multipart(parts: Part[]): { body: Buffer; contentType: string } {
  const boundary = `----callvault-test-${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`;
    if (p.filename !== undefined) head += `; filename="${p.filename}"`;
    head += '\r\n';
    if (p.contentType) head += `Content-Type: ${p.contentType}\r\n`;
    head += '\r\n';
    chunks.push(Buffer.from(head, 'utf8'), Buffer.isBuffer(p.value) ? p.value : Buffer.from(p.value, 'utf8'), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** the parts a recorder sends: metadata, then the audio */
export function ingestBody(audio: Buffer, metadata: Record<string, unknown> = {}): { body: Buffer; contentType: string } {
  return multipart([
    { name: 'metadata', value: JSON.stringify(metadata) },
    { name: 'audio', value: audio, filename: 'call.wav', contentType: 'audio/wav' },
  ]);
}

/**
 * A client on connections of its own, closed after `fn`: a request that leaves its connection in a
 * bad state cannot then fail an unrelated request on the shared pool.
 */
export async function withOwnConnections<T>(server: TestServer, fn: (client: Client) => Promise<T>): Promise<T> {
  const { cert } = await readTls(await ensureSelfSignedCertificate(server.dataDir));
  const dispatcher = new Agent({ connect: { ca: cert, servername: 'localhost' } });
  try {
    return await fn(new Client({ ...server, dispatcher }));
  } finally {
    await dispatcher.destroy();
  }
}

/** a TLS socket to the test server, trusting its self-signed certificate */
export async function connectTls(server: TestServer): Promise<tls.TLSSocket> {
  const { cert } = await readTls(await ensureSelfSignedCertificate(server.dataDir));
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: Number(port), ca: cert, servername: 'localhost' }, () => resolve(socket));
    socket.once('error', reject);
  });
}

export interface RawAnswer {
  /** undefined when the server closed or reset the connection without an answer */
  status?: number;
  headers: Record<string, string>;
  body: Buffer;
  json: any;
  /** the socket error, if the connection was reset */
  error?: string;
}

/**
 * Writes `data` as is and reads until the server closes the connection (every request sent here
 * carries `Connection: close`) or `timeoutMs` passes. Bodies with Content-Length only.
 */
export async function rawRequest(server: TestServer, data: Buffer | string, timeoutMs = 5000): Promise<RawAnswer> {
  const socket = await connectTls(server);
  const chunks: Buffer[] = [];
  let error: string | undefined;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve();
    }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.write(data, (err) => {
      if (err) error = (err as NodeJS.ErrnoException).code ?? err.message;
    });
  });
  const all = Buffer.concat(chunks);
  const split = all.indexOf('\r\n\r\n');
  const head = (split === -1 ? all : all.subarray(0, split)).toString('latin1');
  const body = split === -1 ? Buffer.alloc(0) : all.subarray(split + 4);
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let json: any;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    json = undefined;
  }
  return { status: m ? Number(m[1]) : undefined, headers, body, json, error };
}

/** a GET as a browser would send it, with the path exactly as given (no normalisation) */
export function rawGet(path: string, headers: Record<string, string> = {}): string {
  const lines = [`GET ${path} HTTP/1.1`, 'Host: localhost', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), 'Connection: close'];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** every file under `dir`, relative to it (directories not listed) */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string) {
    let entries: Dirent[];
    try {
      entries = await readdir(join(dir, rel), { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else out.push(r);
    }
  }
  await walk('');
  return out.sort();
}

/** every recording row, whatever its state */
export async function recordingIds(server: TestServer): Promise<string[]> {
  const ids: string[] = [];
  for await (const row of server.vault.recordings.all('any')) ids.push(row.id);
  return ids.sort();
}

/** the Kysely handle of the test server's metadata database */
export function db(server: TestServer) {
  return server.vault.database.db;
}

/**
 * The shape every error answer must have: JSON `{error: {code, message}}` with a CV_ code, no
 * stack trace or source path, and none of `secrets` (identifiers used in the test) in any form.
 */
export function assertErrorAnswer(
  res: { status?: number; body: Buffer; json: any; headers: Record<string, string | string[] | undefined> },
  secrets: readonly string[] = [],
  label = '',
): void {
  const where = `${label} → ${res.status} ${res.body.toString('utf8').slice(0, 300)}`;
  assert.ok(res.status !== undefined && res.status >= 400, `an error status: ${where}`);
  assert.match(String(res.headers['content-type'] ?? ''), /^application\/json/, `JSON content type: ${where}`);
  assert.equal(typeof res.json, 'object', `a JSON body: ${where}`);
  assert.equal(typeof res.json?.error, 'object', `an error object: ${where}`);
  assert.match(String(res.json.error.code), /^CV_[A-Z_]+$/, `a CV_ code: ${where}`);
  assert.equal(typeof res.json.error.message, 'string', `a message: ${where}`);
  assertNoLeak(res.body.toString('utf8'), secrets, where);
}

export function assertNoLeak(text: string, secrets: readonly string[], where = ''): void {
  assert.doesNotMatch(text, /\n\s+at |\bat [\w.<>]+ \(|node_modules|\/work\/|\/dist\/|\.js:\d+/, `no stack trace or path: ${where}`);
  for (const secret of secrets) {
    for (const form of identifierForms(secret)) assert.equal(text.includes(form), false, `does not contain an identifier used in the test (${form}): ${where}`);
  }
}

/** the ways an identifier can be written: as given, its digits, and its last 9 or 10 digits */
export function identifierForms(value: string): string[] {
  const digits = value.replace(/\D/g, '');
  return [...new Set([value, digits, digits.slice(-10), digits.slice(-9)].filter((s) => s.length >= 9))];
}
