/**
 * Transcripts: WebVTT, SRT and whisper JSON read into one model, checked, and written back as
 * canonical JSON (for storage) or WebVTT (for export and players).
 *
 * The two text formats are read by a small parser of our own, not a library. Checked against the
 * npm packages for them: media-captions 1.0.4 (vidstack), the best of them, tokenises voice spans
 * and inline timestamps well, but its API is async only (parseTranscript is synchronous, and is
 * called where a Promise does not fit); without `strict` it drops a cue with a malformed timing
 * line silently, with `strict` its error messages quote the offending line's text; and its SRT
 * reader takes any line with `-->` as a timing line, with no check of the block structure, so
 * cues run together without a blank line become one cue's text. node-webvtt 2.0.0 keeps tags in
 * the cue text and has no voice or inline-timestamp model; @plussub/srt-vtt-parser 2.0.5 likewise.
 * What we need — voice spans as speakers, inline timestamps as word timings, refusal of any
 * malformed cue with a line number and no content in the message — is a few hundred lines over
 * two simple line-based formats.
 *
 * Everything stays in memory: nothing here writes transcript text to a file or a log.
 */
import { MAX_TRANSCRIPT_BYTES, invalidTranscript, type Transcript, type TranscriptFormat } from './model.js';
import { parseWebVtt } from './webvtt.js';
import { parseSrt } from './srt.js';
import { parseJsonTranscript } from './verbose-json.js';

export type { Transcript, TranscriptSegment, TranscriptWord, TranscriptFormat } from './model.js';
export { MAX_TRANSCRIPT_BYTES, MAX_TRANSCRIPT_WORDS, MAX_TRANSCRIPT_SEGMENTS } from './model.js';
export { serializeTranscript, toWebVtt } from './serialize.js';

type Detected = 'webvtt' | 'srt' | 'json';

const BY_MEDIA_TYPE: Record<string, Detected> = {
  'text/vtt': 'webvtt',
  'application/x-subrip': 'srt',
  'text/srt': 'srt',
  'application/srt': 'srt',
  'text/x-srt': 'srt',
  'application/x-srt': 'srt',
  'application/json': 'json',
};

/** the format named by a media type, or undefined for text/plain and types we do not know */
function fromMediaType(mediaType: string | undefined): Detected | undefined {
  if (!mediaType) return undefined;
  const type = mediaType.split(';')[0]!.trim().toLowerCase();
  if (BY_MEDIA_TYPE[type]) return BY_MEDIA_TYPE[type];
  if (/^application\/[a-z0-9.+-]+\+json$/.test(type)) return 'json';
  return undefined;
}

/** an SRT cue: a number line and a timing line, or a timing line with comma milliseconds */
const SRT_START_RE = /^(?:[ \t]*\d+[ \t]*\r?\n[ \t]*\d{1,3}:\d{2}:\d{2}[,.]\d{3}|[ \t]*\d{1,3}:\d{2}:\d{2},\d{3})[ \t]*-->/;

/** the format by content: the WEBVTT header, an SRT cue (number and timing line), a JSON object */
function fromContent(text: string): Detected | undefined {
  if (/^WEBVTT(?:[ \t\r\n]|$)/.test(text.slice(0, 7))) return 'webvtt';
  const head = text.slice(0, 256).replace(/^(?:[ \t]*\r?\n)+/, '');
  if (head.trimStart().startsWith('{')) return 'json';
  if (SRT_START_RE.test(head)) return 'srt';
  return undefined;
}

/**
 * Reads a transcript. The format comes from `mediaType` (`text/vtt`, `application/x-subrip`,
 * `text/srt`, `application/json`); for `text/plain`, no type or a type we do not know it comes
 * from the content. Throws CallvaultError CV_INVALID_TRANSCRIPT for anything that is not a whole,
 * valid transcript: not UTF-8, an unknown format, a malformed timestamp, a cue that ends before it
 * starts, negative or non-finite times, over 4 MiB, over 200,000 words. The message names a line,
 * cue or segment number and never quotes the transcript. Segments come back sorted by start time.
 */
export function parseTranscript(bytes: Uint8Array, mediaType?: string): Transcript {
  if (bytes.length > MAX_TRANSCRIPT_BYTES) throw invalidTranscript('larger than 4 MiB');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalidTranscript('not UTF-8 text');
  }
  const format = fromMediaType(mediaType) ?? fromContent(text);
  if (format === undefined) throw invalidTranscript('unknown format: expected WebVTT, SRT or whisper JSON');
  switch (format) {
    case 'webvtt':
      return parseWebVtt(text);
    case 'srt':
      return parseSrt(text);
    case 'json':
      return parseJsonTranscript(text);
  }
}

/** the format parseTranscript would read `bytes` as, without reading the whole transcript */
export function detectTranscriptFormat(bytes: Uint8Array, mediaType?: string): TranscriptFormat | undefined {
  const detected = fromMediaType(mediaType) ?? fromContent(new TextDecoder('utf-8').decode(bytes.subarray(0, 256)));
  return detected === 'json' ? 'verbose_json' : detected;
}
