/**
 * JSON transcripts:
 *  - OpenAI/whisper `verbose_json`: `{ task?, language?, duration?, text?, segments?: [{ id?, start,
 *    end, text, speaker?, words? }], words?: [{ word, start, end }] }`. Top-level words (OpenAI's
 *    `timestamp_granularities[]=word`) are attached to the segment whose time range holds them;
 *    words without segments are grouped into segments. faster-whisper/WhisperX put `words` inside
 *    each segment, and WhisperX adds `speaker`: both are read.
 *  - whisper.cpp's `--output-json`: `{ result?: { language }, transcription: [{ offsets: { from, to }
 *    (ms), timestamps: { from, to }, text }] }`.
 *  - callvault's own canonical form (serialize.ts), which also keeps the source format.
 */
import {
  MAX_TRANSCRIPT_SEGMENTS,
  MAX_TRANSCRIPT_WORDS,
  checkTimes,
  compareSegments,
  finish,
  invalidTranscript,
  normaliseLanguage,
  normaliseSpace,
  type Transcript,
  type TranscriptFormat,
  type TranscriptSegment,
  type TranscriptWord,
} from './model.js';
import { parseSrtTimestamp } from './srt.js';

export const CANONICAL_SCHEMA = 'callvault.transcript.v1';

/** when words are grouped into segments: a pause longer than this ends a segment */
const SEGMENT_GAP_SECONDS = 1;
/** …and so does sentence-final punctuation, or a segment reaching this length */
const SEGMENT_MAX_SECONDS = 30;
const SENTENCE_END_RE = /[.!?…]["'”’»)\]]*$/;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optionalString(v: unknown, where: string, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidTranscript(`${where}: ${field} must be a string`);
  return v;
}

function parseWords(list: unknown, where: string): TranscriptWord[] {
  if (!Array.isArray(list)) throw invalidTranscript(`${where}: words must be an array`);
  if (list.length > MAX_TRANSCRIPT_WORDS) throw invalidTranscript(`more than ${MAX_TRANSCRIPT_WORDS} words`);
  const out: TranscriptWord[] = [];
  list.forEach((w, j) => {
    const at = `${where} word ${j + 1}`;
    if (!isObject(w)) throw invalidTranscript(`${at}: not an object`);
    const raw = typeof w.word === 'string' ? w.word : typeof w.text === 'string' ? w.text : undefined;
    if (raw === undefined) throw invalidTranscript(`${at}: has no word text`);
    const times = checkTimes(w.start, w.end, at);
    // whisper's word strings carry a leading space (" nitton"); an empty word is dropped
    const text = normaliseSpace(raw);
    if (text !== '') out.push({ text, ...times });
  });
  return out;
}

function lastAtOrBefore(sortedStarts: number[], t: number): number {
  let lo = 0;
  let hi = sortedStarts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sortedStarts[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** each word to the segment that holds it, else the one holding its middle, else the nearest */
function attachWords(segments: TranscriptSegment[], words: TranscriptWord[]): void {
  const order = segments.map((_, i) => i).sort((a, b) => compareSegments(segments[a]!, segments[b]!));
  const starts = order.map((i) => segments[i]!.start);
  const eps = 0.0005;
  for (const w of words) {
    const mid = (w.start + w.end) / 2;
    const k = lastAtOrBefore(starts, w.start + eps);
    const candidates = [k, k - 1, k + 1, k - 2].filter((c) => c >= 0 && c < order.length).map((c) => segments[order[c]!]!);
    const best =
      candidates.find((s) => s.start - eps <= w.start && w.end <= s.end + eps) ??
      candidates.find((s) => s.start <= mid && mid <= s.end) ??
      candidates.reduce((a, b) => (distance(b, mid) < distance(a, mid) ? b : a));
    if (!best.words) best.words = [];
    best.words.push(w);
  }
}

function distance(s: TranscriptSegment, t: number): number {
  return t < s.start ? s.start - t : t > s.end ? t - s.end : 0;
}

/** words without segments: a segment ends at a pause over 1 s, at a sentence end, or at 30 s */
function segmentsFromWords(words: TranscriptWord[]): TranscriptSegment[] {
  const sorted = [...words].sort(compareSegments);
  const out: TranscriptSegment[] = [];
  let cur: TranscriptWord[] = [];
  let curEnd = 0;
  const close = () => {
    if (cur.length === 0) return;
    out.push({ start: cur[0]!.start, end: curEnd, text: cur.map((w) => w.text).join(' '), words: cur });
    cur = [];
  };
  for (const w of sorted) {
    const last = cur[cur.length - 1];
    if (last && (w.start - curEnd > SEGMENT_GAP_SECONDS || SENTENCE_END_RE.test(last.text) || w.end - cur[0]!.start > SEGMENT_MAX_SECONDS)) close();
    if (cur.length === 0) curEnd = w.end;
    cur.push(w);
    curEnd = Math.max(curEnd, w.end);
  }
  close();
  return out;
}

function parseWhisperCpp(obj: Json): Transcript {
  const list = obj.transcription as unknown[];
  if (list.length > MAX_TRANSCRIPT_SEGMENTS) throw invalidTranscript(`more than ${MAX_TRANSCRIPT_SEGMENTS} segments`);
  const result = isObject(obj.result) ? obj.result : {};
  const params = isObject(obj.params) ? obj.params : {};
  const lang = result.language ?? params.language;
  const language = lang === 'auto' ? undefined : normaliseLanguage(lang, 'JSON');
  const segments: TranscriptSegment[] = list.map((entry, i) => {
    const at = `JSON transcription entry ${i + 1}`;
    if (!isObject(entry)) throw invalidTranscript(`${at}: not an object`);
    let start: unknown;
    let end: unknown;
    if (isObject(entry.offsets)) {
      const { from, to } = entry.offsets;
      start = typeof from === 'number' ? from / 1000 : from;
      end = typeof to === 'number' ? to / 1000 : to;
    } else if (isObject(entry.timestamps)) {
      const { from, to } = entry.timestamps;
      start = typeof from === 'string' ? parseSrtTimestamp(from) : undefined;
      end = typeof to === 'string' ? parseSrtTimestamp(to) : undefined;
      if (start === undefined || end === undefined) throw invalidTranscript(`${at}: malformed timestamp`);
    } else throw invalidTranscript(`${at}: has no offsets or timestamps`);
    const times = checkTimes(start, end, at);
    return { ...times, text: normaliseSpace(optionalString(entry.text, at, 'text') ?? '') };
  });
  return finish('verbose_json', segments, (k) => `JSON transcription entry ${k + 1}`, { language });
}

export function parseJsonTranscript(text: string): Transcript {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the input: never passed on
    throw invalidTranscript('not valid JSON');
  }
  if (!isObject(obj)) throw invalidTranscript('JSON transcript must be an object');
  if (Array.isArray(obj.transcription)) return parseWhisperCpp(obj);

  let format: TranscriptFormat = 'verbose_json';
  if (obj.schema === CANONICAL_SCHEMA && (obj.format === 'webvtt' || obj.format === 'srt' || obj.format === 'verbose_json')) format = obj.format;
  const language = normaliseLanguage(obj.language, 'JSON');
  let durationSeconds: number | undefined;
  if (obj.duration !== undefined && obj.duration !== null) {
    if (typeof obj.duration !== 'number' || !Number.isFinite(obj.duration) || obj.duration < 0) {
      throw invalidTranscript('JSON duration must be a finite number of seconds, not negative');
    }
    durationSeconds = obj.duration;
  }

  let segments: TranscriptSegment[] | undefined;
  if (obj.segments !== undefined && obj.segments !== null) {
    if (!Array.isArray(obj.segments)) throw invalidTranscript('JSON segments must be an array');
    if (obj.segments.length > MAX_TRANSCRIPT_SEGMENTS) throw invalidTranscript(`more than ${MAX_TRANSCRIPT_SEGMENTS} segments`);
    segments = obj.segments.map((s: unknown, i: number) => {
      const at = `JSON segment ${i + 1}`;
      if (!isObject(s)) throw invalidTranscript(`${at}: not an object`);
      const times = checkTimes(s.start, s.end, at);
      const seg: TranscriptSegment = { ...times, text: normaliseSpace(optionalString(s.text, at, 'text') ?? '') };
      const speaker = normaliseSpace(optionalString(s.speaker, at, 'speaker') ?? '');
      if (speaker !== '') seg.speaker = speaker;
      if (s.words !== undefined && s.words !== null) {
        const words = parseWords(s.words, at);
        if (words.length > 0) seg.words = words;
      }
      return seg;
    });
  }
  let words: TranscriptWord[] | undefined;
  if (obj.words !== undefined && obj.words !== null) words = parseWords(obj.words, 'JSON');

  if (segments && words && words.length > 0) {
    // segment-level words win: top-level ones then repeat them
    if (!segments.some((s) => s.words)) {
      if (segments.length > 0) attachWords(segments, words);
      else segments = segmentsFromWords(words);
    }
  } else if (!segments && words) {
    segments = segmentsFromWords(words);
  } else if (!segments) {
    // `response_format=json`: text only. Times come from the duration, if there is one.
    const whole = normaliseSpace(optionalString(obj.text, 'JSON', 'text') ?? '');
    if (obj.text === undefined) throw invalidTranscript('JSON is not a transcript: it has no segments, words or text');
    if (whole === '') segments = [];
    else if (durationSeconds !== undefined) segments = [{ start: 0, end: durationSeconds, text: whole }];
    else throw invalidTranscript('JSON transcript has text but no segments, words or duration to time it');
  }
  return finish(format, segments, (k) => `JSON segment ${k + 1}`, { language, durationSeconds });
}
