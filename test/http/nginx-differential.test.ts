/**
 * Range requests against nginx serving the same bytes: callvault plays a redacted rendition
 * through its audio URL, the plaintext of that rendition goes into an nginx root, and every Range
 * (and If-Range) below is sent to both. The framing differs (boundaries, header order), so what is
 * compared is the meaning: the status and, for each part, its range and its bytes. Where nginx
 * legitimately answers otherwise, the case says what each side answers and which RFC 9110 rule
 * allows both.
 *
 * nginx runs unprivileged-style as one process (`daemon off; master_process off`: no worker user
 * to switch to, so it runs as whoever runs the tests, root included) on a free port of 127.0.0.1,
 * with its pid, logs and temp paths in a temporary directory. The plaintext lives under the suite's
 * `out` folder, which the final plaintext scan does not search, and is deleted at the end.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { makeCallWav } from '../fixtures/audio.js';
import { verboseJson } from '../fixtures/transcripts.js';
import { createToken } from '../../src/identities/tokens.js';
import { MAX_RANGES } from '../../src/http/byte-ranges.js';
import { removeDir, tempDir } from '../helpers.js';
import { signedInUser, startTestServer, upload, type TestServer, type TestUser } from './harness.js';

function findNginx(): string | undefined {
  const dirs = ['/usr/sbin', ...(process.env.PATH ?? '').split(delimiter)];
  return dirs.map((d) => join(d, 'nginx')).find((p) => existsSync(p));
}
const NGINX = findNginx();
const SKIP = NGINX ? false : 'nginx is not installed (apt-get install nginx; .ci/run installs it): the differential test against nginx is skipped';

let server: TestServer;
let nurse: TestUser;
let audioUrl: string;
let rendition: Buffer;
let etag: string;
let lastModified: string;
let nginxDir: string;
let nginx: ChildProcess | undefined;
let nginxUrl: string;
let nginxEtag: string;
let nginxLastModified: string;

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function nginxConfig(dir: string, port: number, root: string): string {
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  types { audio/wav wav; }
  default_type application/octet-stream;
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location / { }
  }
}
`;
}

before(async () => {
  if (!NGINX) return;
  server = await startTestServer();
  const src = await tempDir('src', 'nginx-diff');
  const call = await makeCallWav(join(src, 'call.wav'), { seed: 31 });
  const wav = await readFile(join(src, 'call.wav'));
  const { token } = await createToken(server.vault, { name: 'recorder', scope: 'ingest', controllerId: 'region-a', days: 1 });
  const stored = await upload(server, token, wav, { agent: 'agent-7', region: 'north' }, verboseJson(call, 'words').json, 'application/json');
  assert.equal(stored.status, 201, JSON.stringify(stored.json));
  assert.equal(stored.json.redaction, 'redacted');
  nurse = await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'agent-7' });
  const access = await nurse.client.post(`/api/v1/recordings/${stored.json.id}/access`, { purpose: 'quality-review', rendition: 'redacted' });
  assert.equal(access.status, 201, access.body.toString());
  audioUrl = access.json.audioUrl;
  const whole = await nurse.client.get(audioUrl);
  assert.equal(whole.status, 200);
  rendition = whole.body;
  etag = String(whole.headers.etag);
  lastModified = String(whole.headers['last-modified']);
  assert.match(etag, /^"[A-Za-z0-9_-]{22}"$/, 'a strong entity tag');
  assert.ok(!rendition.equals(wav), 'the redacted rendition, not the original');

  nginxDir = await tempDir('out', 'nginx');
  const root = join(nginxDir, 'root');
  await mkdir(root);
  await writeFile(join(root, 'call.wav'), rendition);
  const port = await freePort();
  await writeFile(join(nginxDir, 'nginx.conf'), nginxConfig(nginxDir, port, root));
  let stderr = '';
  nginx = spawn(NGINX, ['-p', nginxDir, '-c', join(nginxDir, 'nginx.conf'), '-e', join(nginxDir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  nginx.stderr!.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  nginxUrl = `http://127.0.0.1:${port}/call.wav`;
  for (let i = 0; ; i++) {
    const res = await request(nginxUrl).catch(() => undefined);
    if (res) {
      await res.body.dump();
      nginxEtag = String(res.headers.etag);
      nginxLastModified = String(res.headers['last-modified']);
      break;
    }
    if (i > 100 || nginx.exitCode !== null) throw new Error(`nginx did not start: ${stderr}`);
    await sleep(50);
  }
  // a Last-Modified less than a second old is weak (RFC 9110 §8.8.2.2) and callvault does not let a
  // date validate it; the If-Range dates below are tried once both are older than that
  await sleep(1100);
});

after(async () => {
  if (nginx && nginx.exitCode === null) {
    nginx.kill('SIGTERM');
    await new Promise((resolve) => nginx!.once('exit', resolve));
  }
  if (nginxDir) await removeDir(nginxDir);
  await server?.close();
});

interface Part {
  start: number;
  /** exclusive */
  end: number;
  bytes: Buffer;
}

interface Answer {
  status: number;
  parts: Part[];
}

/** an answer's meaning: status, and each part's range and bytes, whatever the framing */
function meaning(status: number, headers: Record<string, string | string[] | undefined>, body: Buffer, who: string): Answer {
  const size = rendition.length;
  if (status === 200) return { status, parts: [{ start: 0, end: body.length, bytes: body }] };
  if (status === 416) {
    assert.equal(headers['content-range'], `bytes */${size}`, `${who}: 416 names the size`);
    return { status, parts: [] };
  }
  assert.equal(status, 206, `${who}: status ${status}`);
  const type = String(headers['content-type']);
  const boundary = /^multipart\/byteranges;\s*boundary=("?)([^";]+)\1/i.exec(type)?.[2];
  if (!boundary) {
    const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(headers['content-range']));
    assert.ok(m, `${who}: Content-Range ${headers['content-range']}`);
    assert.equal(Number(m[3]), size);
    assert.equal(body.length, Number(m[2]) - Number(m[1]) + 1, `${who}: the body is the range`);
    return { status, parts: [{ start: Number(m[1]), end: Number(m[2]) + 1, bytes: body }] };
  }
  // each part: --boundary, headers, a blank line, then exactly the bytes its Content-Range names
  const parts: Part[] = [];
  const delimiterLine = Buffer.from(`--${boundary}`, 'latin1');
  let at = body.indexOf(delimiterLine);
  while (at !== -1) {
    const afterDelimiter = at + delimiterLine.length;
    if (body.subarray(afterDelimiter, afterDelimiter + 2).toString('latin1') === '--') break;
    const headEnd = body.indexOf('\r\n\r\n', afterDelimiter);
    assert.ok(headEnd !== -1, `${who}: a part's headers end`);
    const head = body.subarray(afterDelimiter, headEnd).toString('latin1');
    const range = /content-range:\s*bytes (\d+)-(\d+)\/(\d+)/i.exec(head);
    assert.ok(range, `${who}: each part has a Content-Range`);
    assert.match(head, /content-type:\s*audio\/wav/i, `${who}: each part has the audio's Content-Type`);
    assert.equal(Number(range[3]), size);
    const start = Number(range[1]);
    const end = Number(range[2]) + 1;
    const bytes = body.subarray(headEnd + 4, headEnd + 4 + end - start);
    parts.push({ start, end, bytes });
    at = body.indexOf(delimiterLine, headEnd + 4 + end - start);
  }
  assert.ok(at !== -1, `${who}: the closing boundary`);
  assert.ok(parts.length >= 2, `${who}: a multipart answer has at least two parts`);
  return { status, parts };
}

async function askCallvault(headers: Record<string, string>): Promise<Answer> {
  const res = await nurse.client.request('GET', audioUrl, { headers });
  const length = Number(res.headers['content-length']);
  if (res.status !== 416) assert.equal(res.body.length, length, 'callvault: Content-Length is exact');
  return meaning(res.status, res.headers, res.body, 'callvault');
}

async function askNginx(headers: Record<string, string>): Promise<Answer> {
  const res = await request(nginxUrl, { headers });
  const body = Buffer.from(await res.body.arrayBuffer());
  return meaning(res.statusCode, res.headers, body, 'nginx');
}

/** status and ranges, in the order answered */
const shape = (a: Answer) => ({ status: a.status, ranges: a.parts.map((p) => [p.start, p.end]) });
/** ranges as a set (RFC 9110 §15.3.7.2 asks for request order, but only as a SHOULD) */
const sortedShape = (a: Answer) => ({ status: a.status, ranges: shape(a).ranges.sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]!) });
/** the byte offsets an answer covers */
function covered(a: Answer): Set<number> {
  const set = new Set<number>();
  for (const p of a.parts) for (let i = p.start; i < p.end; i++) set.add(i);
  return set;
}

interface Case {
  name: string;
  range?: string;
  /** the If-Range each side gets: a literal, or each server's own current validator */
  ifRange?: string | 'own-etag' | 'own-weak-etag' | 'own-date';
  /** where nginx legitimately differs: what each side answers (status, ranges) and why */
  differs?: { callvault: { status: number; ranges: number[][] }; nginx: { status: number; ranges: number[][] }; why: string };
}

function cases(): Case[] {
  const size = rendition.length;
  const mid = Math.floor(size / 2);
  const spread = [9, 3, 1, 5, 7, 2, 8, 4, 6, 0].map((i) => Math.floor((i * size) / 10) + 7);
  const many = Array.from({ length: MAX_RANGES + 1 }, (_, i) => Math.floor((i * size) / (MAX_RANGES + 1)));
  return [
    { name: 'first bytes', range: 'bytes=0-99' },
    { name: 'a range in the middle', range: `bytes=${mid}-${mid + 9_999}` },
    { name: 'a suffix', range: 'bytes=-1000' },
    { name: 'a suffix longer than the file (the whole file as 206, §14.1.3)', range: `bytes=-${size * 2}` },
    { name: 'open-ended', range: `bytes=${mid}-` },
    { name: 'an end past the end', range: `bytes=10-${size * 2}` },
    { name: 'the last byte', range: `bytes=${size - 1}-` },
    { name: 'bytes=0-0,-1: two parts of one byte', range: 'bytes=0-0,-1' },
    { name: 'ten single bytes spread over the file, out of order', range: `bytes=${spread.map((o) => `${o}-${o}`).join(',')}` },
    { name: 'an unsatisfiable range among satisfiable ones is left out', range: `bytes=0-9,${size}-` },
    {
      name: 'overlapping ranges',
      range: 'bytes=0-99,50-149',
      differs: {
        callvault: { status: 206, ranges: [[0, 150]] },
        nginx: {
          status: 206,
          ranges: [
            [0, 100],
            [50, 150],
          ],
        },
        why: 'RFC 9110 §15.3.7.2: a server MAY coalesce overlapping ranges; nginx never coalesces, callvault does',
      },
    },
    {
      name: 'adjacent ranges',
      range: 'bytes=0-99,100-199',
      differs: {
        callvault: { status: 206, ranges: [[0, 200]] },
        nginx: {
          status: 206,
          ranges: [
            [0, 100],
            [100, 200],
          ],
        },
        why: 'RFC 9110 §15.3.7.2: a server MAY coalesce ranges separated by a gap smaller than the overhead of another part',
      },
    },
    {
      name: 'ranges 50 bytes apart',
      range: 'bytes=0-99,150-199',
      differs: {
        callvault: { status: 206, ranges: [[0, 200]] },
        nginx: {
          status: 206,
          ranges: [
            [0, 100],
            [150, 200],
          ],
        },
        why: 'RFC 9110 §15.3.7.2: the 50 bytes between cost less than another part (COALESCE_GAP), so callvault sends them too',
      },
    },
    { name: 'past the end: 416', range: `bytes=${size}-` },
    { name: 'a zero-length suffix: 416', range: 'bytes=-0' },
    { name: 'first > last: both refuse it (§14.2 allows ignoring or refusing an invalid range)', range: 'bytes=5-1' },
    {
      name: 'malformed',
      range: 'bytes=abc',
      differs: {
        callvault: { status: 200, ranges: [[0, size]] },
        nginx: { status: 416, ranges: [] },
        why: 'RFC 9110 §14.2: a server MAY ignore or reject a Range with an invalid ranges-specifier; callvault ignores it, nginx rejects it',
      },
    },
    { name: 'another unit is ignored (§14.2)', range: 'items=0-9' },
    { name: 'ranges adding up to more than the file: the whole file', range: 'bytes=0-,0-' },
    {
      name: `more than ${MAX_RANGES} ranges`,
      range: `bytes=${many.map((o) => `${o}-${o}`).join(',')}`,
      differs: {
        callvault: { status: 200, ranges: [[0, size]] },
        nginx: { status: 206, ranges: many.map((o) => [o, o + 1]) },
        why: `RFC 9110 §14.2: a server MAY ignore a Range with many small ranges; callvault caps them at ${MAX_RANGES} (like nginx's max_ranges), which nginx leaves unlimited by default`,
      },
    },
    { name: 'If-Range with a stale entity tag: the whole file (§13.1.5)', range: 'bytes=0-99', ifRange: '"0123456789abcdefghijkl"' },
    { name: "If-Range with the server's own entity tag: the range", range: 'bytes=0-99', ifRange: 'own-etag' },
    { name: "If-Range with the server's own tag marked weak: the whole file (strong comparison)", range: 'bytes=0-99', ifRange: 'own-weak-etag' },
    { name: "If-Range with the server's own Last-Modified: the range", range: 'bytes=100-199', ifRange: 'own-date' },
    { name: 'If-Range with another date: the whole file', range: 'bytes=100-199', ifRange: 'Thu, 01 Jan 2015 00:00:00 GMT' },
    { name: 'If-Range without Range is ignored', ifRange: '"0123456789abcdefghijkl"' },
  ];
}

function headersFor(c: Case, own: { etag: string; date: string }): Record<string, string> {
  const headers: Record<string, string> = {};
  if (c.range !== undefined) headers.range = c.range;
  if (c.ifRange === 'own-etag') headers['if-range'] = own.etag;
  else if (c.ifRange === 'own-weak-etag') headers['if-range'] = `W/${own.etag}`;
  else if (c.ifRange === 'own-date') headers['if-range'] = own.date;
  else if (c.ifRange !== undefined) headers['if-range'] = c.ifRange;
  return headers;
}

test('callvault and nginx answer the same ranges the same way, except where RFC 9110 lets them differ', { skip: SKIP }, async () => {
  const problems: string[] = [];
  for (const c of cases()) {
    const ours = await askCallvault(headersFor(c, { etag, date: lastModified }));
    const theirs = await askNginx(headersFor(c, { etag: nginxEtag, date: nginxLastModified }));
    for (const [who, answer] of [
      ['callvault', ours],
      ['nginx', theirs],
    ] as const) {
      for (const p of answer.parts) if (!p.bytes.equals(rendition.subarray(p.start, p.end))) problems.push(`${c.name}: ${who} sent other bytes for ${p.start}-${p.end - 1}`);
    }
    if (c.differs) {
      // the difference written down is the one seen, and neither side leaves out a byte the other sends for a range asked
      if (JSON.stringify(shape(ours)) !== JSON.stringify(c.differs.callvault))
        problems.push(`${c.name}: callvault ${JSON.stringify(shape(ours))}, expected ${JSON.stringify(c.differs.callvault)}`);
      if (JSON.stringify(shape(theirs)) !== JSON.stringify(c.differs.nginx))
        problems.push(`${c.name}: nginx ${JSON.stringify(shape(theirs))}, expected ${JSON.stringify(c.differs.nginx)} (${c.differs.why})`);
      if (ours.status === 206 && theirs.status === 206) {
        const mine = covered(ours);
        for (const i of covered(theirs)) if (!mine.has(i)) problems.push(`${c.name}: callvault leaves out byte ${i}`);
      }
      continue;
    }
    if (JSON.stringify(sortedShape(ours)) !== JSON.stringify(sortedShape(theirs)))
      problems.push(`${c.name}: callvault ${JSON.stringify(shape(ours))}, nginx ${JSON.stringify(shape(theirs))}`);
  }
  assert.deepEqual(problems, []);
});

test('the parts come in the order asked, like nginx, and a multipart answer is audited with its ranges', { skip: SKIP }, async () => {
  const size = rendition.length;
  const range = `bytes=-1,0-0,${Math.floor(size / 2)}-${Math.floor(size / 2) + 9}`;
  const ours = await askCallvault({ range });
  const theirs = await askNginx({ range });
  assert.deepEqual(shape(ours), shape(theirs));
  assert.deepEqual(shape(ours).ranges, [
    [size - 1, size],
    [0, 1],
    [Math.floor(size / 2), Math.floor(size / 2) + 10],
  ]);
  const entries = await server.vault.audit.entries(0, await server.vault.audit.size());
  const last = entries
    .map((e) => JSON.parse(e.entry.toString('utf8')))
    .filter((e) => e.action === 'recording.play')
    .at(-1);
  assert.deepEqual(
    last.detail.ranges,
    shape(ours).ranges.map(([start, end]) => ({ start, end })),
  );
  assert.deepEqual(last.detail.range, { start: 0, end: size });
});

test('HEAD gives the same status and Content-Range as nginx, with no body', { skip: SKIP }, async () => {
  for (const range of ['bytes=0-99', `bytes=${rendition.length}-`]) {
    const ours = await nurse.client.request('HEAD', audioUrl, { headers: { range } });
    const theirs = await request(nginxUrl, { method: 'HEAD', headers: { range } });
    await theirs.body.dump();
    assert.equal(ours.status, theirs.statusCode, range);
    assert.equal(ours.headers['content-range'], theirs.headers['content-range'], range);
    assert.equal(ours.body.length, 0);
    if (ours.status === 206) assert.equal(ours.headers['content-length'], theirs.headers['content-length']);
  }
});
