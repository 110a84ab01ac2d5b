/**
 * Speech-to-text configuration by URL, e.g.
 *
 *   CALLVAULT_TRANSCRIBE_URL=https://stt.internal:9000/v1?model=whisper-large-v3&language=sv
 *   CALLVAULT_TRANSCRIBE_API_KEY=…            (optional, sent as a bearer token)
 *
 * The adapter POSTs to the URL's path with `/audio/transcriptions` appended (a URL with no path
 * gets `/v1/audio/transcriptions`; one already ending in `/audio/transcriptions` is used as it is).
 * Query parameters, all optional:
 *   model=NAME        the engine's model name (default whisper-1)
 *   language=TAG      the language asked for when a call names none (default sv; `auto` leaves it
 *                     to the engine's detection)
 *   timeout=SECONDS   the limit for one recording, retry included (default: 60 s + twice the
 *                     audio's length, at least 2 min; 10 min when the length cannot be read)
 *   insecure=1        allow plain http:// to a host that is not loopback
 * Plain http:// is refused unless the host is loopback (localhost, 127.0.0.0/8, ::1): the
 * recording would cross the network unencrypted. A user name or password in the URL is refused:
 * the key belongs in CALLVAULT_TRANSCRIBE_API_KEY, which no message or log shows.
 */
import { CallvaultError, ErrorCodes } from '../errors.js';
import type { TranscriptionAdapter } from './adapter.js';
import { OpenAiTranscriptionAdapter, isLoopbackHost } from './openai.js';

export type { TranscriptionAdapter, TranscribeInfo } from './adapter.js';
export { OpenAiTranscriptionAdapter, isLoopbackHost, type OpenAiAdapterOptions } from './openai.js';

export const DEFAULT_TRANSCRIBE_MODEL = 'whisper-1';
export const DEFAULT_TRANSCRIBE_LANGUAGE = 'sv';
const KNOWN_PARAMETERS = new Set(['model', 'language', 'timeout', 'insecure']);

function usage(message: string): CallvaultError {
  return new CallvaultError(ErrorCodes.USAGE, `CALLVAULT_TRANSCRIBE_URL: ${message}`);
}

/**
 * The adapter CALLVAULT_TRANSCRIBE_URL configures, or undefined when it is unset or blank; the
 * API key is CALLVAULT_TRANSCRIBE_API_KEY (both from src/config.ts). Throws CallvaultError
 * CV_USAGE for a URL or key that cannot be used.
 */
export function transcriptionAdapterFromUrl(url: string | undefined, options: { apiKey?: string } = {}): TranscriptionAdapter | undefined {
  const raw = url?.trim();
  if (!raw) return undefined;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw usage('not a URL');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw usage('use an https:// URL');
  if (u.username || u.password) throw usage('a user name or password in the URL is refused: put the key in CALLVAULT_TRANSCRIBE_API_KEY');
  for (const name of u.searchParams.keys()) {
    if (!KNOWN_PARAMETERS.has(name)) throw usage(`unknown parameter "${name.slice(0, 40)}" (known: model, language, timeout, insecure)`);
  }
  const insecureValue = u.searchParams.get('insecure');
  if (insecureValue !== null && !['1', 'true', 'yes', '0', 'false', 'no'].includes(insecureValue)) throw usage('insecure must be 1 or 0');
  const insecure = insecureValue === '1' || insecureValue === 'true' || insecureValue === 'yes';
  if (u.protocol === 'http:' && !isLoopbackHost(u.hostname) && !insecure) {
    throw usage('plain http:// to a host that is not loopback would send recordings unencrypted: use https://, or add insecure=1 to accept that');
  }

  const model = u.searchParams.get('model') ?? DEFAULT_TRANSCRIBE_MODEL;
  if (!/^[\w.:/@+-]{1,200}$/.test(model)) throw usage('model must be a model name');
  let language: string | undefined = u.searchParams.get('language') ?? DEFAULT_TRANSCRIBE_LANGUAGE;
  if (language === 'auto') language = undefined;
  else if (!/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(language)) throw usage('language must be a language tag such as sv, or auto');
  let timeoutMs: number | undefined;
  const timeout = u.searchParams.get('timeout');
  if (timeout !== null) {
    const seconds = Number(timeout);
    if (timeout.trim() === '' || !Number.isFinite(seconds) || seconds <= 0 || seconds > 24 * 3600) throw usage('timeout must be a number of seconds, at most a day');
    timeoutMs = Math.round(seconds * 1000);
  }

  const apiKey = options.apiKey || undefined;
  if (apiKey !== undefined && !/^[\x21-\x7e]+$/.test(apiKey)) {
    throw new CallvaultError(ErrorCodes.USAGE, 'CALLVAULT_TRANSCRIBE_API_KEY holds characters an HTTP header cannot carry');
  }

  const endpoint = new URL(u.href);
  endpoint.search = '';
  endpoint.hash = '';
  const path = endpoint.pathname.replace(/\/+$/, '');
  if (path === '') endpoint.pathname = '/v1/audio/transcriptions';
  else if (!path.endsWith('/audio/transcriptions')) endpoint.pathname = `${path}/audio/transcriptions`;
  else endpoint.pathname = path;
  return new OpenAiTranscriptionAdapter({ endpoint, model, language, apiKey, timeoutMs, insecure });
}
