/**
 * What a real server does with bad input: malformed and oversize JSON, wrong content types,
 * oversize headers, path tricks in ids, odd byte ranges, broken uploads (one cut off mid-stream
 * over a raw TLS socket), wrong passwords until lockout, a reused TOTP code. Nothing may answer
 * 500 or 2xx where it must not, nothing may be stored from a failed upload, and every error answer
 * is `{error: {code, message}}` with no stack trace and no identifier used in the test.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { createToken } from '../../src/identities/tokens.js';
import { createUser } from '../../src/identities/users.js';
import { Client, signedInUser, startTestServer, strongPassword, totp, upload, type Response, type TestServer, type TestUser } from './harness.js';
import {
  assertErrorAnswer,
  assertNoLeak,
  callVariants,
  connectTls,
  db,
  filesUnder,
  ingestBody,
  multipart,
  rawGet,
  rawRequest,
  recordingIds,
  withOwnConnections,
  type RawAnswer,
  type SyntheticCall,
} from './fixtures.js';

const API = '/api/v1';

let server: TestServer;
let call: SyntheticCall;
let wav: Buffer;
/** a second, never stored, byte-distinct copy of the call */
let otherWav: Buffer;
/** a third copy, for an upload that is to be stored */
let thirdWav: Buffer;
let token: string;
let nurse: TestUser;
let recordingId: string;
let secrets: string[];

before(async () => {
  server = await startTestServer();
  const made = await callVariants(11, 3);
  call = made.call;
  [wav, otherWav, thirdWav] = made.wavs as [Buffer, Buffer, Buffer];
  secrets = [call.personnummer, call.phone];
  token = (await createToken(server.vault, { name: 'recorder', scope: 'ingest', controllerId: 'region-a', days: 30 })).token;
  const res = await upload(server, token, wav, { agent: 'a1', region: 'north', caller: call.phone, personnummer: call.personnummer });
  assert.equal(res.status, 201);
  recordingId = res.json.id;
  nurse = await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'a1' });
});

after(async () => {
  await server?.close();
});

type Answer = Response | RawAnswer;

/**
 * Collects every way answers differ from what is right, so that one run reports all of them (the
 * test fails at the end, listing each).
 */
class Problems {
  readonly list: string[] = [];

  ok(condition: unknown, message: string): boolean {
    if (!condition) this.list.push(message);
    return Boolean(condition);
  }

  /** an error answer with one of `statuses` (and `code`), in the shape every error answer has */
  error(res: Answer, statuses: number | number[], code: string | undefined, label: string): void {
    const allowed = Array.isArray(statuses) ? statuses : [statuses];
    const text = res.body.toString('utf8').slice(0, 200);
    if (!this.ok(res.status !== undefined && allowed.includes(res.status), `${label}: status ${res.status}, expected ${allowed.join(' or ')}: ${text}`)) return;
    try {
      assertNoLeak(res.body.toString('utf8'), secrets, `${label} → ${text}`);
    } catch (err) {
      this.list.push((err as Error).message.split('\n')[0]!);
    }
    try {
      assertErrorAnswer(res, [], label);
    } catch (err) {
      this.list.push((err as Error).message.split('\n')[0]!);
      return;
    }
    if (code) this.ok(res.json.error.code === code, `${label}: code ${res.json.error.code}, expected ${code}`);
  }

  done(): void {
    assert.deepEqual(this.list, [], `${this.list.length} problem(s):\n${this.list.join('\n')}`);
  }
}

// ---------------------------------------------------------------------------------------------
// JSON bodies

test('malformed JSON is 400 CV_INVALID_REQUEST, and the answer does not echo the body', async () => {
  const p = new Problems();
  const anon = new Client(server);
  const bodies = [
    `{"username": "${call.personnummer}" x}`,
    `{"username": "nurse", "password": ${call.phone}}`,
    '{"username": "nurse", "password": "p"',
    '[1, 2',
    '{"__proto__": {"admin": true}, "username": "a", "password": "b"}',
    '{"constructor": {"prototype": {"admin": true}}, "username": "a", "password": "b"}',
    '',
  ];
  for (const body of bodies) {
    const res = await anon.request('POST', `${API}/auth/signin`, { body, headers: { 'content-type': 'application/json' } });
    p.error(res, 400, 'CV_INVALID_REQUEST', `sign-in with ${JSON.stringify(body)}`);
  }
  const res = await nurse.client.request('POST', `${API}/recordings/search`, {
    body: `{"personnummer": "${call.personnummer}",}`,
    headers: { 'content-type': 'application/json' },
  });
  p.error(res, 400, 'CV_INVALID_REQUEST', 'search with malformed JSON');
  p.done();
});

test('a JSON body over 64 KiB is 413, whether or not its length is announced', async () => {
  const p = new Problems();
  const anon = new Client(server);
  const big = JSON.stringify({ username: 'nurse', password: 'x'.repeat(70 * 1024) });
  p.error(await anon.request('POST', `${API}/auth/signin`, { body: big, headers: { 'content-type': 'application/json' } }), 413, undefined, 'sign-in, 70 KiB');
  const search = JSON.stringify({ personnummer: call.personnummer, region: 'r'.repeat(70 * 1024) });
  p.error(await nurse.client.request('POST', `${API}/recordings/search`, { body: search, headers: { 'content-type': 'application/json' } }), 413, undefined, 'search, 70 KiB');

  // chunked, no Content-Length: the limit holds while the body streams in
  const socket = await connectTls(server);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => {});
  const closed = new Promise((resolve) => socket.on('close', resolve));
  socket.write('POST /api/v1/auth/signin HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n');
  const piece = Buffer.from(`{"username":"nurse","password":"${'y'.repeat(100 * 1024)}"}`);
  socket.write(`${piece.length.toString(16)}\r\n`);
  socket.write(piece);
  socket.write('\r\n0\r\n\r\n');
  await Promise.race([closed, sleep(5000)]);
  socket.destroy();
  const answer = Buffer.concat(chunks).toString('latin1');
  p.ok(/^HTTP\/1\.1 413 /.test(answer), `chunked 100 KiB sign-in: ${answer.slice(0, 100)}`);
  p.done();
});

test('a JSON route refuses other content types with 415', async () => {
  const p = new Problems();
  const anon = new Client(server);
  const signin = JSON.stringify({ username: 'nurse', password: 'not the password' });
  const cases: [string, string, string][] = [
    ['application/xml', '<signin/>', 'XML'],
    ['application/x-www-form-urlencoded', 'username=nurse&password=x', 'a form'],
    // text/plain and multipart/form-data are what a cross-site form can send without a preflight
    ['text/plain', signin, 'text/plain'],
    ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="username"\r\n\r\nnurse\r\n--x--\r\n', 'multipart'],
  ];
  for (const [type, body, what] of cases) {
    p.error(await anon.request('POST', `${API}/auth/signin`, { body, headers: { 'content-type': type } }), 415, undefined, `POST /auth/signin as ${what}`);
    p.error(
      await nurse.client.request('POST', `${API}/recordings/search`, { body: what === 'text/plain' ? '{}' : body, headers: { 'content-type': type } }),
      415,
      undefined,
      `POST /recordings/search as ${what}`,
    );
  }
  p.error(await anon.request('POST', `${API}/auth/signin`, { body: signin }), 415, undefined, 'POST /auth/signin without a content type');
  p.done();
});

// ---------------------------------------------------------------------------------------------
// Headers and paths

test('headers over 16 KiB are refused (431 or the connection closes), never served', async () => {
  const p = new Problems();
  const many = Object.fromEntries(Array.from({ length: 90 }, (_, i) => [`X-H${i}`, 'c'.repeat(250)]));
  const cases: [string, Record<string, string>][] = [
    ['one 20 KiB header', { 'X-Filler': 'a'.repeat(20 * 1024) }],
    ['a 20 KiB cookie', { Cookie: `__Host-callvault=${nurse.client.cookie}; pad=${'b'.repeat(20 * 1024)}` }],
    ['90 headers of 250 bytes', many],
  ];
  for (const [what, headers] of cases) {
    const res = await rawRequest(server, rawGet(`${API}/auth/session`, headers));
    if (p.ok(res.status === undefined || res.status === 431, `${what}: got ${res.status}`) && res.status !== undefined) p.error(res, 431, undefined, what);
  }
  // the server is fine afterwards
  p.ok((await nurse.client.get(`${API}/auth/session`)).status === 200, 'the server answers afterwards');
  p.done();
});

test('path tricks in ids are 400 or 404, never 500 and never another resource', async () => {
  const p = new Problems();
  const cookie = { Cookie: `__Host-callvault=${nurse.client.cookie}` };
  const paths = [
    `${API}/recordings/..`,
    `${API}/recordings/../users`,
    `${API}/recordings/../../../etc/passwd`,
    `${API}/recordings/%2e%2e%2f`,
    `${API}/recordings/%2e%2e%2fusers`,
    `${API}/recordings/%2e%2e/%2e%2e/users`,
    `${API}/recordings/%252e%252e%252f`,
    `${API}/recordings/..%5c..%5cusers`,
    `${API}/recordings/${recordingId}%2f..%2f..%2fusers`,
    `${API}/recordings/${recordingId}/../../users`,
    `${API}/recordings/${recordingId}%00`,
    `${API}/recordings/${recordingId.toUpperCase()}`,
    `${API}/recordings/${recordingId}x`,
    `${API}/recordings/not-a-uuid`,
    `${API}/recordings/${'a'.repeat(300)}`,
    `${API}/recordings/${recordingId}${'0'.repeat(100)}`,
    `${API}/recordings/${call.personnummer}`,
    `${API}/recordings/${call.personnummer}%ZZ`,
    `${API}/recordings/%E0%A4%A`,
    `${API}/recordings/${recordingId}/audio?access=../../etc/passwd`,
    `${API}/recordings/${recordingId}/audio?access=${'f'.repeat(36)}&access=x`,
    `${API}/users/..%2f..%2fetc%2fpasswd/reset`,
    `/api/v1/../v1/recordings/${recordingId}/../${recordingId}`,
  ];
  for (const path of paths) {
    const res = await rawRequest(server, rawGet(path, cookie));
    // 414 is fastify's answer for a parameter over maxParamLength; it is an error all the same
    p.error(res, [400, 404, 414], undefined, `GET ${path.length > 90 ? `${path.slice(0, 60)}…(${path.length} chars)` : path}`);
  }
  p.done();
});

// ---------------------------------------------------------------------------------------------
// Byte ranges

test('ranges: past the end is 416 with bytes */N; malformed or unknown units give the whole file; never 500', async () => {
  const p = new Problems();
  const access = await nurse.client.post(`${API}/recordings/${recordingId}/access`, { purpose: 'quality-review', rendition: 'original' });
  assert.equal(access.status, 201);
  const url = access.json.audioUrl as string;
  const size = wav.length;
  const get = (range: string) => nurse.client.request('GET', url, { headers: { range } });

  for (const range of [`bytes=${size}-`, `bytes=${size + 100}-${size + 200}`, `bytes=${size * 10}-${size * 10 + 1}`, 'bytes=-0']) {
    const res = await get(range);
    p.error(res, 416, 'CV_RANGE_NOT_SATISFIABLE', `Range: ${range}`);
    p.ok(res.headers['content-range'] === `bytes */${size}`, `Range: ${range}: Content-Range ${res.headers['content-range']}`);
  }

  // malformed: RFC 9110 lets the server ignore the header (200, whole file) or refuse it (416)
  for (const range of ['bytes=abc', 'bytes=', 'bytes=5-1', 'bytes=--1', 'bytes=1-2-3', 'bytes 0-9', 'bytes=0x10-0x20', 'bytes=-', `bytes=${'9'.repeat(400)}-`]) {
    const res = await get(range);
    const label = `Range: ${range.slice(0, 40)}`;
    if (!p.ok([200, 416].includes(res.status), `${label}: ${res.status} ${res.headers['content-range'] ?? ''}, expected 200 (whole file) or 416`)) continue;
    if (res.status === 200) p.ok(res.body.equals(wav), `${label}: serves the whole file`);
    else {
      p.error(res, 416, 'CV_RANGE_NOT_SATISFIABLE', label);
      p.ok(res.headers['content-range'] === `bytes */${size}`, `${label}: Content-Range ${res.headers['content-range']}`);
    }
  }

  // a unit other than bytes (or none) MUST be ignored (RFC 9110 §14.2): the whole file, not a byte range
  for (const range of ['items=0-9', 'seconds=0-1', '=0-9', 'bits=0-7']) {
    const res = await get(range);
    p.ok(res.status === 200 && res.body.equals(wav), `Range: ${range}: ${res.status} ${res.headers['content-range'] ?? ''}, expected 200 with the whole file`);
  }

  // several ranges: overlapping or close ones (under COALESCE_GAP apart) are coalesced into one
  // range, the others answered as multipart/byteranges (RFC 9110 §15.3.7.2), so a small header
  // never widens the answer beyond what was asked for
  for (const [range, from, to] of [
    ['bytes=100-109,50-59', 50, 110],
    ['bytes=0-9,5-20', 0, 21],
    ['bytes=0-99,100-199', 0, 200],
  ] as const) {
    const res = await get(range);
    const ok = res.status === 206 && res.headers['content-range'] === `bytes ${from}-${to - 1}/${size}` && res.body.equals(wav.subarray(from, to));
    p.ok(ok, `Range: ${range}: ${res.status} ${res.headers['content-range']}`);
  }
  for (const [range, parts] of [
    [
      'bytes=0-9,100-109',
      [
        [0, 10],
        [100, 110],
      ],
    ],
    [
      'bytes=0-0,-1',
      [
        [0, 1],
        [size - 1, size],
      ],
    ],
    [
      `bytes=0-9,${size - 10}-`,
      [
        [0, 10],
        [size - 10, size],
      ],
    ],
  ] as const) {
    const res = await get(range);
    const boundary = /^multipart\/byteranges; boundary=(\w+)$/.exec(String(res.headers['content-type']))?.[1];
    const expected = parts.map(([a, b]) =>
      Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Type: audio/wav\r\nContent-Range: bytes ${a}-${b - 1}/${size}\r\n\r\n`), wav.subarray(a, b), Buffer.from('\r\n')]),
    );
    const ok =
      res.status === 206 &&
      boundary !== undefined &&
      res.body.equals(Buffer.concat([...expected, Buffer.from(`--${boundary}--\r\n`)])) &&
      Number(res.headers['content-length']) === res.body.length;
    p.ok(ok, `Range: ${range}: ${res.status} ${res.headers['content-type']} ${res.body.length} bytes`);
  }
  // more bytes asked for than there are (overlapping abuse): the whole file, as nginx answers
  const abuse = await get('bytes=0-,0-');
  p.ok(abuse.status === 200 && abuse.body.equals(wav), `Range: bytes=0-,0-: ${abuse.status}`);

  // edges that are valid: the last byte, a suffix longer than the file, an end past the end
  const last = await get(`bytes=${size - 1}-`);
  p.ok(last.status === 206 && last.body.equals(wav.subarray(size - 1)), `the last byte: ${last.status}`);
  const longSuffix = await get(`bytes=-${size * 2}`);
  p.ok(longSuffix.status === 206 && longSuffix.body.equals(wav), `a suffix longer than the file: ${longSuffix.status}`);
  const pastEnd = await get(`bytes=10-${size * 2}`);
  p.ok(
    pastEnd.status === 206 && pastEnd.headers['content-range'] === `bytes 10-${size - 1}/${size}` && pastEnd.body.equals(wav.subarray(10)),
    `an end past the end: ${pastEnd.status} ${pastEnd.headers['content-range']}`,
  );
  p.done();
});

// ---------------------------------------------------------------------------------------------
// Uploads

test('broken uploads are refused with the right code and leave nothing stored', async () => {
  const p = new Problems();
  const before = { rows: await recordingIds(server), files: await filesUnder(join(server.dataDir, 'objects')) };
  const meta = { agent: 'a1', region: 'north', caller: call.phone, personnummer: call.personnummer };
  const audioPart = (value: Buffer | string) => ({ name: 'audio', value, filename: 'call.wav', contentType: 'audio/wav' });
  const wrongDigit = `${call.personnummer.slice(0, -1)}${(Number(call.personnummer.slice(-1)) + 1) % 10}`;
  const cases: [string, Parameters<typeof multipart>[0], number | number[], string | undefined][] = [
    ['no audio part', [{ name: 'metadata', value: JSON.stringify(meta) }], 400, 'CV_INVALID_REQUEST'],
    ['no parts at all', [], 400, 'CV_INVALID_REQUEST'],
    ['an unknown field part', [{ name: 'metadata', value: JSON.stringify(meta) }, { name: 'comment', value: 'hello' }, audioPart(otherWav)], 400, 'CV_INVALID_REQUEST'],
    ['an unknown file part', [{ name: 'video', value: otherWav, filename: 'call.wav', contentType: 'audio/wav' }], 400, 'CV_INVALID_REQUEST'],
    [
      'text as audio',
      [{ name: 'metadata', value: JSON.stringify(meta) }, audioPart('Detta är ingen ljudfil, bara en anteckning om ett testsamtal.\n')],
      415,
      'CV_UNSUPPORTED_AUDIO',
    ],
    ['the metadata as audio', [{ name: 'metadata', value: JSON.stringify(meta) }, audioPart(Buffer.from(JSON.stringify(meta)))], 415, 'CV_UNSUPPORTED_AUDIO'],
    ['random bytes as audio', [audioPart(Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => (i * 7919 + 13) % 251)))], 415, 'CV_UNSUPPORTED_AUDIO'],
    ['empty audio', [audioPart(Buffer.alloc(0))], 415, 'CV_UNSUPPORTED_AUDIO'],
    ['a WAV cut off in its fmt chunk', [{ name: 'metadata', value: JSON.stringify(meta) }, audioPart(otherWav.subarray(0, 30))], 422, 'CV_BROKEN_AUDIO'],
    ['six bytes of RIFF', [audioPart(Buffer.from('RIFF\x00\x00', 'latin1'))], 422, 'CV_BROKEN_AUDIO'],
    ['a WAV header without samples', [audioPart(otherWav.subarray(0, 44))], 422, 'CV_BROKEN_AUDIO'],
    ['metadata that is not JSON', [{ name: 'metadata', value: '{"agent": "a1",' }, audioPart(otherWav)], 400, 'CV_INVALID_METADATA'],
    [
      'a personnummer with a wrong check digit',
      [{ name: 'metadata', value: JSON.stringify({ ...meta, personnummer: wrongDigit }) }, audioPart(otherWav)],
      400,
      'CV_INVALID_METADATA',
    ],
    ['metadata naming another controller', [{ name: 'metadata', value: JSON.stringify({ ...meta, controller: 'region-b' }) }, audioPart(otherWav)], 403, 'CV_FORBIDDEN'],
  ];
  for (const [label, parts, status, code] of cases) {
    const { body, contentType } = multipart(parts);
    // each on connections of its own (see the keep-alive test below)
    await withOwnConnections(server, async (c) => {
      c.bearer = token;
      try {
        p.error(await c.request('POST', `${API}/recordings`, { body, headers: { 'content-type': contentType } }), status, code, label);
      } catch (err) {
        p.list.push(`${label}: no answer (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
    });
  }
  const json = await withOwnConnections(server, (c) => {
    c.bearer = token;
    return c.request('POST', `${API}/recordings`, { json: { audio: otherWav.subarray(0, 1024).toString('base64') } });
  });
  p.error(json, [400, 415], undefined, 'JSON instead of multipart');

  p.ok(JSON.stringify(await recordingIds(server)) === JSON.stringify(before.rows), 'no recording row was added');
  p.ok(JSON.stringify(await filesUnder(join(server.dataDir, 'objects'))) === JSON.stringify(before.files), 'no object or temporary file was left');
  p.done();
});

test('malformed multipart is 400 with a stable code, or what its audio part deserves; never 500 (331 of 1,500 such bodies got 500 "internal error")', async () => {
  const p = new Problems();
  const before = { rows: await recordingIds(server), files: await filesUnder(join(server.dataDir, 'objects')) };
  const b = 'cvtest';
  const part = (headers: string, body: string) => `--${b}\r\n${headers}\r\n\r\n${body}\r\n`;
  // the parser's refusals are 400; a body it can read is judged by its parts
  const cases: [string, string | undefined, Buffer | string, number?, string?][] = [
    ['no boundary, body "hello"', 'multipart/form-data', 'hello'],
    ['a boundary, body "hello"', `multipart/form-data; boundary=${b}`, 'hello'],
    ['an empty boundary', 'multipart/form-data; boundary=', 'hello'],
    ['a boundary of 300 characters', `multipart/form-data; boundary=${'x'.repeat(300)}`, `--${'x'.repeat(300)}--\r\n`],
    ['part headers cut off', `multipart/form-data; boundary=${b}`, `--${b}\r\nContent-Disposition: form-da`],
    ['a part without a name', `multipart/form-data; boundary=${b}`, `${part('Content-Disposition: form-data', '{}')}--${b}--\r\n`],
    ['a file part without a name', `multipart/form-data; boundary=${b}`, `${part('Content-Disposition: form-data; filename="a.wav"', 'RIFF')}--${b}--\r\n`],
    [
      'nested multipart as the audio',
      `multipart/form-data; boundary=${b}`,
      `${part('Content-Disposition: form-data; name="audio"; filename="a.wav"\r\nContent-Type: multipart/mixed; boundary=inner', `--inner\r\nContent-Disposition: file; filename="b.wav"\r\n\r\nRIFF\r\n--inner--`)}--${b}--\r\n`,
      415,
      'CV_UNSUPPORTED_AUDIO',
    ],
    [
      'a header line of 200 KB',
      `multipart/form-data; boundary=${b}`,
      `${part(`Content-Disposition: form-data; name="audio"; filename="${'a'.repeat(200_000)}"`, 'RIFF')}--${b}--\r\n`,
      422,
      'CV_BROKEN_AUDIO',
    ],
    [
      'invalid UTF-8 in a field name',
      `multipart/form-data; boundary=${b}`,
      Buffer.concat([Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="`), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(`"\r\n\r\n{}\r\n--${b}--\r\n`)]),
    ],
    [
      'the audio cut off before the closing boundary',
      `multipart/form-data; boundary=${b}`,
      `--${b}\r\nContent-Disposition: form-data; name="audio"; filename="a.wav"\r\n\r\nRIFF\x00\x00\x00\x00WAVEfmt `,
    ],
    [
      'metadata over 64 KiB',
      `multipart/form-data; boundary=${b}`,
      `${part('Content-Disposition: form-data; name="metadata"', `{"agent": "${'a'.repeat(70 * 1024)}"}`)}--${b}--\r\n`,
    ],
    [
      'metadata declared JSON that is not',
      `multipart/form-data; boundary=${b}`,
      `${part('Content-Disposition: form-data; name="metadata"\r\nContent-Type: application/json', '{"agent":')}--${b}--\r\n`,
    ],
    ['a part named __proto__', `multipart/form-data; boundary=${b}`, `${part('Content-Disposition: form-data; name="__proto__"', '{}')}--${b}--\r\n`],
  ];
  for (const [label, type, body, status, code] of cases) {
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1');
    const head = [
      `POST ${API}/recordings HTTP/1.1`,
      'Host: localhost',
      `Authorization: Bearer ${token}`,
      ...(type ? [`Content-Type: ${type}`] : []),
      `Content-Length: ${bytes.length}`,
      'Connection: close',
    ];
    const res = await rawRequest(server, Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), bytes]));
    p.error(res, status ?? 400, code, label);
    if (!code) p.ok(['CV_INVALID_REQUEST', 'CV_INVALID_METADATA'].includes(res.json?.error?.code), `${label}: code ${res.json?.error?.code}`);
  }
  p.ok(JSON.stringify(await recordingIds(server)) === JSON.stringify(before.rows), 'no recording row was added');
  p.ok(JSON.stringify(await filesUnder(join(server.dataDir, 'objects'))) === JSON.stringify(before.files), 'no object or temporary file was left');
  p.done();
});

test('metadata sent as an application/json part is read like a plain field', async () => {
  const { body, contentType } = multipart([
    { name: 'metadata', value: JSON.stringify({ agent: 'a1', region: 'south' }), contentType: 'application/json' },
    { name: 'audio', value: thirdWav, filename: 'call.wav', contentType: 'audio/wav' },
  ]);
  const res = await withOwnConnections(server, (c) => {
    c.bearer = token;
    return c.request('POST', `${API}/recordings`, { body, headers: { 'content-type': contentType } });
  });
  assert.equal(res.status, 201, res.body.toString());
  assert.equal((await server.vault.recordings.get(res.json.id))?.region, 'south');
});

test('an upload refused before its body was read answers, and its connection either closes or stays usable', async () => {
  const p = new Problems();
  const cases: [string, Parameters<typeof multipart>[0]][] = [
    ['an unknown file part first', [{ name: 'video', value: otherWav, filename: 'call.wav', contentType: 'audio/wav' }]],
    [
      'an unknown field before the audio',
      [
        { name: 'comment', value: 'hello' },
        { name: 'audio', value: otherWav, filename: 'call.wav', contentType: 'audio/wav' },
      ],
    ],
    [
      'another controller in the metadata',
      [
        { name: 'metadata', value: '{"controller": "region-b"}' },
        { name: 'audio', value: otherWav, filename: 'call.wav', contentType: 'audio/wav' },
      ],
    ],
  ];
  for (const [label, parts] of cases) {
    const { body, contentType } = multipart(parts);
    const socket = await connectTls(server);
    let received = '';
    let closed = false;
    socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => (closed = true));
    socket.write(`POST ${API}/recordings HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nContent-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n\r\n`);
    socket.write(body);
    for (let i = 0; i < 100 && !/\r\n\r\n\{.*\}\}$/s.test(received) && !closed; i++) await sleep(20);
    const first = received;
    if (!p.ok(/^HTTP\/1\.1 4\d\d /.test(first), `${label}: no refusal: ${first.slice(0, 80)}`)) {
      socket.destroy();
      continue;
    }
    if (/\r\nconnection: close\r\n/i.test(first)) {
      // the server said it closes: it must, cleanly
      for (let i = 0; i < 100 && !closed; i++) await sleep(20);
      p.ok(closed, `${label}: answered Connection: close but kept the connection open`);
    } else {
      // keep-alive: the next request on this connection must be answered
      socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
      for (let i = 0; i < 50 && !closed; i++) await sleep(20);
      const next = received.slice(first.length);
      p.ok(
        /^HTTP\/1\.1 200 /.test(next),
        `${label}: answered ${first.split('\r\n')[0]} with Connection: keep-alive, but the next request on that connection got ${next ? JSON.stringify(next.slice(0, 40)) : 'no answer (connection closed)'}`,
      );
    }
    socket.destroy();
  }
  p.done();
});

test('an upload cut off mid-stream stores nothing and leaves no temporary file', async () => {
  const objects = join(server.dataDir, 'objects');
  const rowsBefore = await recordingIds(server);
  const filesBefore = await filesUnder(objects);
  const auditBefore = await server.vault.audit.size();
  const { body, contentType } = ingestBody(otherWav, { agent: 'a1', region: 'north', caller: call.phone, personnummer: call.personnummer });

  const socket = await connectTls(server);
  socket.on('error', () => {});
  socket.write(`POST ${API}/recordings HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nContent-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n\r\n`);
  socket.write(body.subarray(0, Math.floor(body.length / 2)));
  // wait until the server is writing the upload (its temporary object exists), then vanish
  let sawTemporary = false;
  for (let i = 0; i < 150 && !sawTemporary; i++) {
    sawTemporary = (await filesUnder(objects)).some((f) => f.startsWith('.tmp/'));
    if (!sawTemporary) await sleep(20);
  }
  assert.ok(sawTemporary, 'the server had begun storing the upload before the client vanished');
  socket.destroy();

  // the server notices, gives up, and audits the failure
  let settled = false;
  for (let i = 0; i < 100 && !settled; i++) {
    await sleep(50);
    const leftovers = (await filesUnder(objects)).filter((f) => !filesBefore.includes(f));
    const events = (await server.vault.audit.entries(auditBefore, await server.vault.audit.size())).map((e) => JSON.parse(e.entry.toString('utf8')));
    settled = leftovers.length === 0 && events.some((e) => e.action === 'recording.ingest' && e.outcome === 'failure');
  }
  assert.deepEqual(await recordingIds(server), rowsBefore, 'no recording row, pending or stored');
  assert.deepEqual(await filesUnder(objects), filesBefore, 'no new object and no leftover temporary file');
  assert.ok(settled, 'the failed upload is in the audit log');
  // and the server still serves
  assert.equal((await nurse.client.get(`${API}/recordings/${recordingId}`)).status, 200);
});

// ---------------------------------------------------------------------------------------------
// Sign-in

test('five wrong passwords lock the account at that address: then even the right password fails with the same 401', async () => {
  const p = new Problems();
  const user = await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'a9' });
  const anon = new Client(server);
  const wrong = await anon.post(`${API}/auth/signin`, { username: user.username, password: 'wrong password 1', code: '000000' });
  p.error(wrong, 401, 'CV_SIGNIN_FAILED', 'wrong password');
  for (let i = 2; i <= 5; i++) {
    const res = await anon.post(`${API}/auth/signin`, { username: user.username, password: `wrong password ${i}`, code: '000000' });
    p.error(res, 401, 'CV_SIGNIN_FAILED', `wrong password ${i}`);
    p.ok(JSON.stringify(res.json) === JSON.stringify(wrong.json), `failure ${i} answers like the first`);
  }
  // locked at this client's address (the lock per address and its decay: signin-lockout.test.ts)
  const row = await db(server).selectFrom('signin_failures').selectAll().where('user_id', '=', user.id).where('address', '=', '127.0.0.1').executeTakeFirstOrThrow();
  p.ok(row.locked_until_ms !== null && row.locked_until_ms > Date.now(), `locked_until_ms is in the future: ${row.locked_until_ms}`);
  p.ok(Math.ceil(row.failures) >= 5, `failures ${row.failures}`);

  const right = await anon.post(`${API}/auth/signin`, { username: user.username, password: user.password, code: await totp(user.totpSecret, 1) });
  p.error(right, 401, 'CV_SIGNIN_FAILED', 'the right password while locked');
  p.ok(JSON.stringify(right.json) === JSON.stringify(wrong.json), 'a locked account answers like a wrong password');
  p.ok(right.headers['set-cookie'] === undefined, 'no session cookie while locked');
  const unknown = await anon.post(`${API}/auth/signin`, { username: 'nobody-by-this-name', password: user.password, code: '123456' });
  p.ok(JSON.stringify(unknown.json) === JSON.stringify(wrong.json), 'an unknown username answers alike');
  const checks = (await server.vault.audit.entries(0, await server.vault.audit.size()))
    .map((e) => JSON.parse(e.entry.toString()))
    .filter((e) => e.action === 'auth.signin' && e.outcome === 'failure' && e.actor.id === user.id)
    .map((e) => e.detail.failedCheck);
  p.ok(JSON.stringify(checks) === JSON.stringify(['password', 'password', 'password', 'password', 'password', 'locked']), `the log tells which check failed: ${checks}`);
  p.done();
});

test('a TOTP code is accepted once: the same code again is refused', async () => {
  const created = await createUser(server.vault, { username: 'totp-once', role: 'nurse', controllerId: 'region-a', agent: 'a8' });
  const code = await totp(created.totpSecret);
  const password = strongPassword();
  const first = await new Client(server).post(`${API}/auth/signin`, { username: created.username, password: created.password, code, newPassword: password });
  assert.equal(first.status, 200, first.body.toString());
  const again = await new Client(server).post(`${API}/auth/signin`, { username: created.username, password, code });
  assert.equal(again.status, 401, again.body.toString());
  assert.equal(again.json.error.code, 'CV_SIGNIN_FAILED');
  assertErrorAnswer(again, secrets, 'the same code again');
  assert.equal(again.headers['set-cookie'], undefined);
  // the answer is the same as for a wrong password; the audit log tells the password was right
  const entries = await server.vault.audit.entries(0, await server.vault.audit.size());
  const failures = entries.map((e) => JSON.parse(e.entry.toString())).filter((e) => e.action === 'auth.signin' && e.outcome === 'failure' && e.actor.id === created.id);
  assert.deepEqual(
    failures.map((e) => e.detail),
    [{ reason: 'CV_SIGNIN_FAILED', failedCheck: 'mfa' }],
  );
  const next = await new Client(server).post(`${API}/auth/signin`, { username: created.username, password, code: await totp(created.totpSecret, 1) });
  assert.equal(next.status, 200, 'the next code works: the refusal was the reused code');
});

// ---------------------------------------------------------------------------------------------
// Identifiers in error answers

test('error answers never carry the identifiers a request sent', async () => {
  const p = new Problems();
  const c = nurse.client;
  const bad = `${call.personnummer.slice(0, -1)}${(Number(call.personnummer.slice(-1)) + 1) % 10}`;
  const cases: [string, () => Promise<Response>][] = [
    ['search, invalid personnummer', () => c.post(`${API}/recordings/search`, { personnummer: bad })],
    ['search, personnummer too long', () => c.post(`${API}/recordings/search`, { personnummer: `${call.personnummer}${call.personnummer}` })],
    ['search, invalid phone', () => c.post(`${API}/recordings/search`, { caller: `${call.phone}99999` })],
    ['search, both', () => c.post(`${API}/recordings/search`, { caller: call.phone, personnummer: call.personnummer })],
    ['search, identifier as a key', () => c.post(`${API}/recordings/search`, { [call.personnummer]: call.phone })],
    ['search, identifier as the direction', () => c.post(`${API}/recordings/search`, { direction: call.personnummer })],
    ['list, identifier as a filter', () => c.get(`${API}/recordings?personnummer=${encodeURIComponent(call.personnummer)}`)],
    ['list, identifier as the limit', () => c.get(`${API}/recordings?region=${encodeURIComponent(call.personnummer)}&limit=${encodeURIComponent(call.phone)}`)],
    ['list, identifier as a date', () => c.get(`${API}/recordings?from=${encodeURIComponent(call.personnummer)}`)],
    ['sign-in, identifiers as credentials', () => new Client(server).post(`${API}/auth/signin`, { username: call.personnummer, password: call.phone })],
    ['access, identifier as purpose', () => c.post(`${API}/recordings/${recordingId}/access`, { purpose: call.personnummer })],
    ['access, identifier as id', () => c.post(`${API}/recordings/${call.personnummer}/access`, { purpose: 'quality-review' })],
    ['audio, identifier as access', () => c.get(`${API}/recordings/${recordingId}/audio?access=${encodeURIComponent(call.personnummer)}`)],
  ];
  for (const [label, send] of cases) p.error(await send(), [400, 401, 404], undefined, label);
  p.done();
});

test('sign-in attempts are rate-limited per address (429 CV_RATE_LIMITED), before any password is checked', async () => {
  const limited = await startTestServer({ signInPerMinute: 3 });
  try {
    const anon = new Client(limited);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await anon.post(`${API}/auth/signin`, { username: 'nobody-here', password: 'wrong password' })).status);
    assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
    const last = await anon.post(`${API}/auth/signin`, { username: 'nobody-here', password: 'wrong password' });
    assert.equal(last.json.error.code, 'CV_RATE_LIMITED');
    assert.ok(Number(last.headers['retry-after']) > 0);
  } finally {
    await limited.close();
  }
});
