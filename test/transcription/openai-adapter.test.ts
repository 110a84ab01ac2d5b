/**
 * The OpenAI-compatible transcription client against a stand-in server.
 *
 * THE ONE MOCK THIS PROJECT ALLOWS: the server below stands in for a speech-to-text engine
 * (whisper.cpp server, faster-whisper-server / speaches, vLLM, OpenAI) because a real engine needs
 * model weights, which cannot be fetched or run on this machine. It is a real HTTP server on
 * 127.0.0.1:0 that reads the real multipart upload (with the web Request.formData() API), checks
 * the fields and the Authorization header as an engine would, reads the uploaded WAV's length,
 * and answers OpenAI's verbose_json shape with fixed Swedish words spread over that length. Every
 * other part of the client — multipart encoding, retries, timeouts, aborts, response limits and
 * parsing — runs for real.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCodes } from '../../src/errors.js';
import { OpenAiTranscriptionAdapter, transcriptionAdapterFromUrl, isLoopbackHost, type TranscriptionAdapter } from '../../src/transcription/index.js';
import { defaultTimeoutMs, retryAfterMs } from '../../src/transcription/openai.js';
import { transcriptionAdapterContract } from './transcription-adapter.contract.js';
import { makeWav, wavSeconds } from './wav.js';

const KEY = 'sk-synthetic-test-key-4f1c9a0e7b2d';
const MODEL = 'whisper-large-v3';
/** what the stand-in writes in error answers and broken bodies: never to be seen in an error */
const MARKER = 'Transkript: Hej, jag heter Karin, personnummer 19800412-9824';
const WORDS = ['Hej', 'jag', 'heter', 'Karin', 'och', 'ringer', 'om', 'mitt', 'provsvar.', 'Nitton', 'grader', 'i', 'feber.'];
const LANGUAGE_NAMES: Record<string, string> = { sv: 'swedish', en: 'english', fi: 'finnish', no: 'norwegian' };

interface Seen {
  path: string;
  authorization: string | undefined;
  fields: Record<string, string[]>;
  fileName?: string;
  fileType?: string;
  fileBytes?: Uint8Array;
}

type Scripted = (res: ServerResponse, req: IncomingMessage) => void;

interface StandIn {
  url: string;
  seen: Seen[];
  /** answers for the next requests, in order, instead of a transcript */
  script: Scripted[];
  close(): Promise<void>;
}

/** the verbose_json an engine would answer for `seconds` of speech */
function verboseJson(seconds: number, language: string | undefined): unknown {
  const n = WORDS.length;
  const slot = seconds / n;
  const words = WORDS.map((w, i) => ({ word: ` ${w}`, start: +(i * slot).toFixed(2), end: +((i + 0.8) * slot).toFixed(2) }));
  const half = Math.ceil(n / 2);
  const segments = [words.slice(0, half), words.slice(half)].map((ws, id) => ({
    id,
    seek: 0,
    start: ws[0]!.start,
    end: ws.at(-1)!.end,
    text: ws.map((w) => w.word).join(''),
    tokens: [50364],
    temperature: 0,
    avg_logprob: -0.25,
    compression_ratio: 1.2,
    no_speech_prob: 0.01,
  }));
  return {
    task: 'transcribe',
    language: language ? (LANGUAGE_NAMES[language] ?? language) : 'swedish',
    duration: seconds,
    text: words.map((w) => w.word).join(''),
    segments,
    words,
  };
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body);
}

async function startStandIn(options: { key?: string } = {}): Promise<StandIn> {
  const seen: Seen[] = [];
  const script: Scripted[] = [];
  const server: Server = createServer(async (req, res) => {
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const record: Seen = { path: req.url ?? '', authorization: req.headers.authorization, fields: {} };
      seen.push(record);
      if (req.method !== 'POST' || !/\/audio\/transcriptions$/.test(new URL(req.url ?? '/', 'http://x').pathname)) return send(res, 404, '{"error":"not found"}');
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      const form = await new Request('http://stand-in/', { method: 'POST', headers, body: Buffer.concat(chunks) }).formData();
      for (const [k, v] of form.entries()) {
        if (typeof v === 'string') {
          record.fields[k] = [...(record.fields[k] ?? []), v];
        } else {
          record.fileName = v.name;
          record.fileType = v.type;
          record.fileBytes = new Uint8Array(await v.arrayBuffer());
        }
      }
      const next = script.shift();
      if (next) return next(res, req);
      if (options.key !== undefined && req.headers.authorization !== `Bearer ${options.key}`) {
        // as OpenAI does: the answer repeats part of the key it was given
        return send(res, 401, JSON.stringify({ error: { message: `Incorrect API key provided: ${req.headers.authorization ?? ''}. ${MARKER}`, code: 'invalid_api_key' } }));
      }
      const f = record.fields;
      const granularities = f['timestamp_granularities[]'] ?? [];
      if (f.model?.[0] !== MODEL || f.response_format?.[0] !== 'verbose_json' || !granularities.includes('word') || !granularities.includes('segment')) {
        return send(res, 400, JSON.stringify({ error: { message: `unexpected fields. ${MARKER}` } }));
      }
      const language = f.language?.[0];
      if (language !== undefined && !/^[a-z]{2}$/.test(language)) return send(res, 400, JSON.stringify({ error: { message: `bad language. ${MARKER}` } }));
      const seconds = record.fileBytes ? wavSeconds(record.fileBytes) : undefined;
      if (seconds === undefined) return send(res, 400, JSON.stringify({ error: { message: `Kunde inte avkoda ljudet. ${MARKER}` } }));
      send(res, 200, JSON.stringify(verboseJson(seconds, language)));
    } catch {
      if (!res.headersSent) send(res, 500, JSON.stringify({ error: { message: `stand-in failed. ${MARKER}` } }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    script,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function adapterFor(url: string, apiKey = KEY): TranscriptionAdapter {
  const adapter = transcriptionAdapterFromUrl(url, { apiKey });
  assert.ok(adapter);
  return adapter;
}

/** a rejection with CV_TRANSCRIPTION_FAILED whose message matches, and that carries no body text or key */
async function rejectsFailed(p: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(p, (err: any) => {
    assert.equal(err.code, ErrorCodes.TRANSCRIPTION_FAILED, String(err));
    assert.match(err.message, message);
    for (const text of [err.message, String(err.stack), JSON.stringify(err), String(err.cause?.message ?? '')]) {
      assert.ok(!text.includes('Karin') && !text.includes('19800412'), `body text in: ${text}`);
      assert.ok(!text.includes(KEY) && !text.includes('sk-'), `API key in: ${text}`);
    }
    return true;
  });
}

// ---------------------------------------------------------------------------------------------

transcriptionAdapterContract('openai-compatible client, stand-in server', async () => {
  const standIn = await startStandIn({ key: KEY });
  return {
    adapter: adapterFor(`${standIn.url}/v1?model=${MODEL}&language=sv`),
    errorBodyMarker: MARKER,
    cleanup: () => standIn.close(),
  };
});

describe('openai-compatible client', () => {
  let standIn: StandIn;
  before(async () => {
    standIn = await startStandIn({ key: KEY });
  });
  after(async () => standIn.close());

  it('sends the file, model, language, verbose_json, both granularities and the key as a bearer token', async () => {
    standIn.seen.length = 0;
    const wav = makeWav(2);
    const t = await adapterFor(`${standIn.url}/v1?model=${MODEL}`).transcribe(wav, { format: 'wav' });
    assert.equal(t.language, 'sv');
    assert.deepEqual(
      t.segments.flatMap((s) => s.words!.map((w) => w.text)),
      WORDS,
    );
    assert.equal(t.segments[0]!.text, 'Hej jag heter Karin och ringer om');
    const seen = standIn.seen[0]!;
    assert.equal(seen.path, '/v1/audio/transcriptions');
    assert.equal(seen.authorization, `Bearer ${KEY}`);
    assert.deepEqual(seen.fields, {
      model: [MODEL],
      language: ['sv'],
      response_format: ['verbose_json'],
      'timestamp_granularities[]': ['word', 'segment'],
    });
    assert.equal(seen.fileName, 'audio.wav');
    assert.equal(seen.fileType, 'audio/wav');
    assert.deepEqual(seen.fileBytes, wav);
  });

  it('sends MP3 as audio/mpeg, the language of the call over the configured one, and none for language=auto', async () => {
    standIn.seen.length = 0;
    standIn.script.push((res) => send(res, 200, JSON.stringify(verboseJson(1, 'fi'))));
    const t = await adapterFor(`${standIn.url}/v1?model=${MODEL}`).transcribe(new Uint8Array([0xff, 0xfb, 0x90, 0x00]), { format: 'mp3', language: 'fi' });
    assert.equal(t.language, 'fi');
    assert.equal(standIn.seen[0]!.fileName, 'audio.mp3');
    assert.equal(standIn.seen[0]!.fileType, 'audio/mpeg');
    assert.deepEqual(standIn.seen[0]!.fields.language, ['fi']);
    await adapterFor(`${standIn.url}/v1?model=${MODEL}&language=auto`).transcribe(makeWav(1), { format: 'wav' });
    assert.equal(standIn.seen[1]!.fields.language, undefined);
  });

  it('finds the endpoint: no path, a trailing slash, or the whole path given', async () => {
    standIn.seen.length = 0;
    for (const path of ['', '/', '/v1/', '/openai/v1', '/v1/audio/transcriptions']) {
      await adapterFor(`${standIn.url}${path}?model=${MODEL}`).transcribe(makeWav(1), { format: 'wav' });
    }
    assert.deepEqual(
      standIn.seen.map((s) => s.path),
      ['/v1/audio/transcriptions', '/v1/audio/transcriptions', '/v1/audio/transcriptions', '/openai/v1/audio/transcriptions', '/v1/audio/transcriptions'],
    );
  });

  it('retries once after 429, waiting as Retry-After asks', async () => {
    standIn.seen.length = 0;
    standIn.script.push((res) => send(res, 429, JSON.stringify({ error: { message: MARKER } }), { 'retry-after': '1' }));
    const started = Date.now();
    const t = await adapterFor(`${standIn.url}/v1?model=${MODEL}`).transcribe(makeWav(1.5), { format: 'wav' });
    assert.ok(Date.now() - started >= 950, 'waited for Retry-After');
    assert.equal(standIn.seen.length, 2);
    assert.ok(t.segments.length > 0);
  });

  it('retries once after 503 and then gives up with the status', async () => {
    standIn.seen.length = 0;
    standIn.script.push(
      (res) => send(res, 503, MARKER, { 'retry-after': '0' }),
      (res) => send(res, 503, MARKER, { 'retry-after': '0' }),
    );
    await rejectsFailed(adapterFor(`${standIn.url}/v1?model=${MODEL}`).transcribe(makeWav(1), { format: 'wav' }), /HTTP 503 after one retry/);
    assert.equal(standIn.seen.length, 2);
  });

  it('does not wait for a Retry-After beyond its bound', async () => {
    standIn.seen.length = 0;
    standIn.script.push((res) => send(res, 429, MARKER, { 'retry-after': '3600' }));
    const started = Date.now();
    await rejectsFailed(adapterFor(`${standIn.url}/v1?model=${MODEL}`).transcribe(makeWav(1), { format: 'wav' }), /HTTP 429 and asks to wait 3600 s/);
    assert.ok(Date.now() - started < 5000);
    assert.equal(standIn.seen.length, 1);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    assert.equal(retryAfterMs('7', now), 7000);
    assert.equal(retryAfterMs('Wed, 01 Jan 2025 00:00:05 GMT', now), 5000);
    assert.equal(retryAfterMs('Tue, 31 Dec 2024 23:00:00 GMT', now), 0);
    assert.equal(retryAfterMs(null, now), 1000);
    assert.equal(retryAfterMs('soon', now), 1000);
  });

  it('a 500 is an error with the status only, never the body', async () => {
    standIn.script.push((res) => send(res, 500, JSON.stringify({ error: { message: MARKER } })));
    await rejectsFailed(
      adapterFor(`${standIn.url}/v1?model=${MODEL}`).transcribe(makeWav(1), { format: 'wav' }),
      /^transcription failed: the transcription service answered HTTP 500$/,
    );
  });

  it('a wrong key is a 401 error that shows neither key', async () => {
    const wrong = 'sk-wrong-key-0000';
    await assert.rejects(adapterFor(`${standIn.url}/v1?model=${MODEL}`, wrong).transcribe(makeWav(1), { format: 'wav' }), (err: any) => {
      assert.equal(err.code, ErrorCodes.TRANSCRIPTION_FAILED);
      assert.match(err.message, /HTTP 401/);
      assert.ok(!err.message.includes(wrong) && !String(err.stack).includes(wrong) && !err.message.includes('Karin'));
      return true;
    });
    standIn.seen.length = 0;
    await rejectsFailed(adapterFor(`${standIn.url}/v1?model=${MODEL}`, '').transcribe(makeWav(1), { format: 'wav' }), /HTTP 401/);
    assert.equal(standIn.seen[0]!.authorization, undefined, 'no key, no Authorization header');
  });

  it('an answer that is not a transcript is an error that names the problem, not the text', async () => {
    const adapter = adapterFor(`${standIn.url}/v1?model=${MODEL}`);
    standIn.script.push((res) => send(res, 200, `{"text": "${MARKER}",`));
    await rejectsFailed(adapter.transcribe(makeWav(1), { format: 'wav' }), /not a usable transcript \(invalid transcript: not valid JSON\)/);
    standIn.script.push((res) => send(res, 200, JSON.stringify({ segments: [{ start: 2, end: 1, text: MARKER }] })));
    await rejectsFailed(adapter.transcribe(makeWav(1), { format: 'wav' }), /JSON segment 1: ends before it starts/);
    standIn.script.push((res) => send(res, 200, MARKER, { 'content-type': 'text/plain' }));
    await rejectsFailed(adapter.transcribe(makeWav(1), { format: 'wav' }), /not a usable transcript/);
  });

  it('refuses an answer over 4 MiB', async () => {
    standIn.script.push((res) => send(res, 200, `{"text": "${'Karin '.repeat(800_000)}"}`));
    await rejectsFailed(adapterFor(`${standIn.url}/v1?model=${MODEL}`).transcribe(makeWav(1), { format: 'wav' }), /larger than 4 MiB/);
    standIn.script.push((res) => {
      // no content-length: the limit holds while reading
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 6; i++) res.write('Karin '.repeat(200_000));
      res.end();
    });
    await rejectsFailed(adapterFor(`${standIn.url}/v1?model=${MODEL}`).transcribe(makeWav(1), { format: 'wav' }), /larger than 4 MiB/);
  });

  it('does not follow redirects', async () => {
    const elsewhere = await startStandIn({ key: KEY });
    try {
      standIn.script.push((res) => send(res, 307, MARKER, { location: `${elsewhere.url}/v1/audio/transcriptions` }));
      await rejectsFailed(adapterFor(`${standIn.url}/v1?model=${MODEL}`).transcribe(makeWav(1), { format: 'wav' }), /HTTP 307 \(redirects are not followed\)/);
      assert.equal(elsewhere.seen.length, 0, 'the audio went nowhere else');
    } finally {
      await elsewhere.close();
    }
  });

  it('times out as configured, and an abort ends a call that has no answer yet', async () => {
    const hang: Scripted = () => {
      // never answers: the client must give up
    };
    standIn.script.push(hang);
    const started = Date.now();
    await rejectsFailed(adapterFor(`${standIn.url}/v1?model=${MODEL}&timeout=0.3`).transcribe(makeWav(1), { format: 'wav' }), /no answer within 0.3 s/);
    assert.ok(Date.now() - started < 5000);

    standIn.script.push(hang);
    const ac = new AbortController();
    const pending = adapterFor(`${standIn.url}/v1?model=${MODEL}`).transcribe(makeWav(1), { format: 'wav', signal: ac.signal });
    setTimeout(() => ac.abort(), 150);
    await assert.rejects(pending, { name: 'AbortError' });

    // an abort while waiting to retry
    standIn.script.push((res) => send(res, 429, MARKER, { 'retry-after': '20' }));
    const ac2 = new AbortController();
    const waiting = adapterFor(`${standIn.url}/v1?model=${MODEL}`).transcribe(makeWav(1), { format: 'wav', signal: ac2.signal });
    setTimeout(() => ac2.abort(), 300);
    const t0 = Date.now();
    await assert.rejects(waiting, { name: 'AbortError' });
    assert.ok(Date.now() - t0 < 5000);
  });

  it('an unreachable endpoint is an error', async () => {
    const gone = await startStandIn();
    const url = gone.url;
    await gone.close();
    await rejectsFailed(adapterFor(`${url}/v1?model=${MODEL}`).transcribe(makeWav(1), { format: 'wav' }), /cannot reach the transcription service \(ECONNREFUSED\)/);
  });

  it('gives a default timeout that grows with the audio', () => {
    assert.equal(defaultTimeoutMs(undefined), 10 * 60_000);
    assert.equal(defaultTimeoutMs(10), 2 * 60_000);
    assert.equal(defaultTimeoutMs(3600), 60_000 + 7_200_000);
  });
});

describe('transcriptionAdapterFromUrl', () => {
  const usage = (url: string, message: RegExp, apiKey?: string) =>
    assert.throws(
      () => transcriptionAdapterFromUrl(url, { apiKey }),
      (err: any) => err.code === ErrorCodes.USAGE && message.test(err.message) && !err.message.includes('hemligt') && !err.message.includes(KEY),
    );

  it('is off without a URL', () => {
    assert.equal(transcriptionAdapterFromUrl(undefined, {}), undefined);
    assert.equal(transcriptionAdapterFromUrl('', {}), undefined);
    assert.equal(transcriptionAdapterFromUrl('  '), undefined);
    const a = transcriptionAdapterFromUrl('https://stt.internal:9000/v1?model=whisper-large-v3&language=sv');
    assert.ok(a);
    assert.equal(a.name, 'openai-compatible https://stt.internal:9000');
  });

  it('refuses plain http:// to a host that is not loopback, unless insecure=1', () => {
    usage('http://stt.internal:9000/v1', /plain http:\/\/ to a host that is not loopback/);
    usage('http://10.0.0.5/v1', /plain http/);
    usage('http://[::ffff:10.0.0.5]/v1', /plain http/);
    usage('http://127.0.0.1.example.org/v1', /plain http/);
    usage('http://stt.internal/v1?insecure=0', /plain http/);
    assert.ok(transcriptionAdapterFromUrl('http://stt.internal:9000/v1?insecure=1', {}));
    for (const url of [
      'http://localhost:9000/v1',
      'http://127.0.0.1:9000/v1',
      'http://127.8.9.10/v1',
      'http://[::1]:9000/v1',
      'http://[::ffff:127.0.0.1]/v1',
      'https://stt.example.org/v1',
    ]) {
      assert.ok(transcriptionAdapterFromUrl(url, {}), url);
    }
    // the adapter itself refuses too, when made without a URL
    const direct = (url: string, insecure?: boolean) => new OpenAiTranscriptionAdapter({ endpoint: new URL(url), model: MODEL, insecure });
    assert.throws(() => direct('http://stt.internal/v1/audio/transcriptions'), { code: ErrorCodes.USAGE });
    assert.throws(() => direct('ftp://stt.internal/v1/audio/transcriptions'), { code: ErrorCodes.USAGE });
    assert.ok(direct('http://stt.internal/v1/audio/transcriptions', true));
    assert.ok(direct('http://127.0.0.1:1/v1/audio/transcriptions'));
    assert.equal(isLoopbackHost('localhost'), true);
    assert.equal(isLoopbackHost('fe80::1%eth0'), false);
    assert.equal(isLoopbackHost('[::1]'), true);
    assert.equal(isLoopbackHost('128.0.0.1'), false);
  });

  it('refuses credentials in the URL, unknown parameters and bad values, without echoing secrets', () => {
    usage('https://user:hemligt@stt.internal/v1', /user name or password in the URL is refused/);
    usage('https://stt.internal/v1?key=hemligt', /unknown parameter "key"/);
    usage('https://stt.internal/v1?timeout=abc', /timeout must be a number/);
    usage('https://stt.internal/v1?timeout=0', /timeout must be a number/);
    usage('https://stt.internal/v1?language=svenska!', /language must be a language tag/);
    usage('https://stt.internal/v1?model=a%20b', /model must be a model name/);
    usage('https://stt.internal/v1?insecure=maybe', /insecure must be 1 or 0/);
    usage('ftp://stt.internal/v1', /use an https:\/\/ URL/);
    usage('stt.internal:9000', /use an https|not a URL/);
    usage('not a url', /not a URL/);
    usage('https://stt.internal/v1', /CALLVAULT_TRANSCRIBE_API_KEY holds characters/, `${KEY}\r\nX-Injected: 1`);
  });
});
