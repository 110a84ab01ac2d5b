/**
 * An OpenAI-compatible speech-to-text client: `POST {base}/audio/transcriptions` as multipart
 * form data, as served by OpenAI, whisper.cpp's server, faster-whisper-server / speaches and vLLM.
 *
 * Node's own fetch, FormData and Blob are used rather than the `openai` package: the request is
 * one multipart POST, and owning it keeps what matters here in view — no redirects followed (a
 * redirect could carry the audio elsewhere), one bounded retry, a timeout that fits the audio,
 * a response read with a size limit, and error messages that carry the HTTP status only (the
 * package's errors include the response body, which may hold transcript text).
 *
 * The audio stays in memory: it goes from the caller's buffer into the request body. The API key
 * is sent as a bearer token and appears in no message.
 */
import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { CallvaultError, ErrorCodes, isCallvaultError } from '../errors.js';
import { probeSource } from '../audio/probe.js';
import { MAX_TRANSCRIPT_BYTES, parseTranscript, type Transcript } from '../transcripts/index.js';
import type { TranscribeInfo, TranscriptionAdapter } from './adapter.js';

/** the longest Retry-After waited for before the one retry; a longer one fails at once */
export const DEFAULT_MAX_RETRY_AFTER_MS = 30_000;
/** without a Retry-After header, the retry waits this long */
const DEFAULT_RETRY_DELAY_MS = 1000;
/** when the audio's length cannot be read */
const FALLBACK_TIMEOUT_MS = 10 * 60_000;
const MIN_TIMEOUT_MS = 2 * 60_000;

export interface OpenAiAdapterOptions {
  /** the full endpoint, e.g. https://stt.internal:9000/v1/audio/transcriptions */
  endpoint: URL;
  /** e.g. whisper-1, whisper-large-v3, Systran/faster-whisper-large-v3 */
  model: string;
  /** sent when a call names none; undefined leaves the language to the engine's detection */
  language?: string;
  /** sent as `Authorization: Bearer …` */
  apiKey?: string;
  /** the whole call's limit, retry included; by default 60 s + twice the audio's length, at least 2 min (10 min when the length cannot be read) */
  timeoutMs?: number;
  maxRetryAfterMs?: number;
  /** allow plain http:// to a host that is not loopback (the recording crosses the network unencrypted) */
  insecure?: boolean;
}

const LANGUAGE_RE = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;

function failed(message: string, cause?: unknown): CallvaultError {
  return new CallvaultError(ErrorCodes.TRANSCRIPTION_FAILED, `transcription failed: ${message}`, cause === undefined ? undefined : { cause });
}

/** whether `hostname` (as URL.hostname gives it) is this machine's loopback */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const kind = isIP(host);
  if (kind === 4) return host.startsWith('127.');
  if (kind === 6) {
    // URL writes IPv6 in its shortest form: ::1, and ::ffff:127.0.0.1 as ::ffff:7f00:1
    let canonical: string;
    try {
      canonical = new URL(`http://[${host}]/`).hostname;
    } catch {
      return false; // a zone index (fe80::1%eth0) is no loopback
    }
    return canonical === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(canonical);
  }
  return false;
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date */
export function retryAfterMs(value: string | null, now = Date.now()): number {
  if (value === null || value.trim() === '') return DEFAULT_RETRY_DELAY_MS;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const date = Date.parse(v);
  if (Number.isNaN(date)) return DEFAULT_RETRY_DELAY_MS;
  return Math.max(0, date - now);
}

/** the default limit for one recording: 60 s + twice its length, at least 2 min; 10 min when its length is unknown */
export function defaultTimeoutMs(audioSeconds: number | undefined): number {
  if (audioSeconds === undefined || !Number.isFinite(audioSeconds) || audioSeconds < 0) return FALLBACK_TIMEOUT_MS;
  return Math.max(MIN_TIMEOUT_MS, Math.ceil(60_000 + 2000 * audioSeconds));
}

/** how long the audio plays, from its headers; undefined when they cannot be read */
async function audioSeconds(audio: Uint8Array): Promise<number | undefined> {
  const buf = Buffer.from(audio.buffer, audio.byteOffset, audio.byteLength);
  try {
    const info = await probeSource({ size: buf.length, read: async (position, length) => buf.subarray(position, position + length) });
    return info.durationMs / 1000;
  } catch {
    return undefined;
  }
}

export class OpenAiTranscriptionAdapter implements TranscriptionAdapter {
  readonly name: string;
  private readonly endpoint: URL;
  private readonly model: string;
  private readonly language: string | undefined;
  private readonly apiKey: string | undefined;
  private readonly timeoutMs: number | undefined;
  private readonly maxRetryAfterMs: number;

  constructor(options: OpenAiAdapterOptions) {
    this.endpoint = new URL(options.endpoint);
    const { protocol, hostname } = this.endpoint;
    if (protocol !== 'https:' && protocol !== 'http:') throw new CallvaultError(ErrorCodes.USAGE, 'the transcription endpoint needs an https:// URL');
    if (protocol === 'http:' && !isLoopbackHost(hostname) && !options.insecure) {
      throw new CallvaultError(ErrorCodes.USAGE, 'plain http:// to a transcription host that is not loopback would send recordings unencrypted');
    }
    if (this.endpoint.username || this.endpoint.password) throw new CallvaultError(ErrorCodes.USAGE, 'the transcription endpoint may not hold a user name or password');
    this.endpoint.search = '';
    this.endpoint.hash = '';
    this.model = options.model;
    this.language = options.language;
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
    this.name = `openai-compatible ${this.endpoint.origin}`;
  }

  async transcribe(audio: Uint8Array, info: TranscribeInfo): Promise<Transcript> {
    info.signal?.throwIfAborted();
    const language = info.language ?? this.language;
    if (language !== undefined && !LANGUAGE_RE.test(language)) throw new RangeError('language must be a language tag such as "sv"');
    if (info.format !== 'wav' && info.format !== 'mp3') throw new RangeError('format must be "wav" or "mp3"');

    const timeoutMs = this.timeoutMs ?? defaultTimeoutMs(await audioSeconds(audio));
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = info.signal ? AbortSignal.any([info.signal, timeout]) : timeout;
    const file = new Blob([audio as Uint8Array<ArrayBuffer>], { type: info.format === 'wav' ? 'audio/wav' : 'audio/mpeg' });
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;

    // a failure of the network, a timeout, or the caller's abort, as the right error
    const rethrow = (err: unknown): never => {
      if (info.signal?.aborted) throw info.signal.reason;
      if (isCallvaultError(err)) throw err;
      if (timeout.aborted) throw failed(`no answer within ${timeoutMs / 1000} s`);
      const code = (err as { cause?: { code?: unknown } })?.cause?.code;
      throw failed(`cannot reach the transcription service${typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? ` (${code})` : ''}`);
    };

    for (let attempt = 0; ; attempt++) {
      const form = new FormData();
      form.append('file', file, `audio.${info.format}`);
      form.append('model', this.model);
      if (language !== undefined) form.append('language', language);
      form.append('response_format', 'verbose_json');
      form.append('timestamp_granularities[]', 'word');
      form.append('timestamp_granularities[]', 'segment');
      let res: Response;
      try {
        res = await fetch(this.endpoint, { method: 'POST', headers, body: form, redirect: 'manual', signal });
      } catch (err) {
        return rethrow(err);
      }
      if (res.ok) {
        let body: Uint8Array;
        try {
          body = await readLimited(res, MAX_TRANSCRIPT_BYTES);
        } catch (err) {
          return rethrow(err);
        }
        let transcript: Transcript;
        try {
          transcript = parseTranscript(body, 'application/json');
        } catch (err) {
          // the parser's messages name positions only, never text
          throw failed(`the answer is not a usable transcript (${isCallvaultError(err) ? err.message : 'unreadable'})`, isCallvaultError(err) ? err : undefined);
        }
        transcript.format = 'verbose_json';
        if (transcript.language === undefined && language !== undefined) transcript.language = language;
        return transcript;
      }
      // the body may hold transcript text or echo the request: it is never read
      await res.body?.cancel().catch(() => undefined);
      if ((res.status === 429 || res.status === 503) && attempt === 0) {
        const wait = retryAfterMs(res.headers.get('retry-after'));
        if (wait <= this.maxRetryAfterMs) {
          try {
            await sleep(wait, undefined, { signal });
          } catch (err) {
            return rethrow(err);
          }
          continue;
        }
        throw failed(
          `the transcription service answered HTTP ${res.status} and asks to wait ${Math.ceil(wait / 1000)} s, longer than ${Math.round(this.maxRetryAfterMs / 1000)} s`,
        );
      }
      const why = res.status >= 300 && res.status < 400 ? ' (redirects are not followed)' : '';
      throw failed(`the transcription service answered HTTP ${res.status}${why}${attempt > 0 ? ' after one retry' : ''}`);
    }
  }
}

/** the whole body, refused past `limit` bytes */
async function readLimited(res: Response, limit: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await res.body?.cancel().catch(() => undefined);
    throw failed(`the answer is larger than ${limit / (1024 * 1024)} MiB`);
  }
  if (!res.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  // leaving the loop early cancels the stream
  for await (const chunk of res.body) {
    total += chunk.length;
    if (total > limit) throw failed(`the answer is larger than ${limit / (1024 * 1024)} MiB`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
