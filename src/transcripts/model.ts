/**
 * One model for every transcript callvault reads: WebVTT, SRT and whisper's verbose_json.
 *
 * Times are seconds, rounded to the millisecond when parsed. Transcript text holds personal
 * identifiers (names, personnummer, phone numbers), so nothing here writes it anywhere: no files,
 * no logs, and error messages name a line, cue or segment number only, never the text.
 */
import { CallvaultError, ErrorCodes } from '../errors.js';

export interface TranscriptWord {
  text: string;
  /** seconds */
  start: number;
  /** seconds */
  end: number;
}

export interface TranscriptSegment {
  start: number;
  end: number;
  text: string;
  speaker?: string;
  words?: TranscriptWord[];
}

export type TranscriptFormat = 'webvtt' | 'srt' | 'verbose_json';

export interface Transcript {
  /** the format the transcript was read from */
  format: TranscriptFormat;
  /** a language tag such as `sv` (whisper's language names are mapped to their codes) */
  language?: string;
  durationSeconds?: number;
  /** sorted by start, then end */
  segments: TranscriptSegment[];
}

/** the largest transcript accepted, in bytes (as the ingest route) */
export const MAX_TRANSCRIPT_BYTES = 4 * 1024 * 1024;
/** the most words accepted: word timings, or words of text where there are no timings */
export const MAX_TRANSCRIPT_WORDS = 200_000;
/** the most segments (cues) accepted */
export const MAX_TRANSCRIPT_SEGMENTS = 200_000;

export function invalidTranscript(reason: string): CallvaultError {
  return new CallvaultError(ErrorCodes.INVALID_TRANSCRIPT, `invalid transcript: ${reason}`);
}

/** whitespace runs (line breaks included) become one space; ends are trimmed */
export function normaliseSpace(s: string): string {
  return s.replace(/[ \t\n\r\f\v]+/g, ' ').trim();
}

/** seconds rounded to the millisecond, without negative zero */
export function roundMs(seconds: number): number {
  return Math.round(seconds * 1000) / 1000 + 0;
}

/** a stable order: by start, then end (equal cues keep their order) */
export function compareSegments(a: { start: number; end: number }, b: { start: number; end: number }): number {
  return a.start - b.start || a.end - b.end;
}

/**
 * Checks one timed item (segment or word) and returns its times rounded to the millisecond.
 * `where` names the item for the error message ("cue 3 (line 12)", "segment 4 word 2").
 */
export function checkTimes(start: unknown, end: unknown, where: string): { start: number; end: number } {
  if (typeof start !== 'number' || typeof end !== 'number') throw invalidTranscript(`${where}: start and end must be numbers`);
  if (!Number.isFinite(start) || !Number.isFinite(end)) throw invalidTranscript(`${where}: times must be finite numbers`);
  if (start < 0 || end < 0) throw invalidTranscript(`${where}: negative time`);
  if (end < start) throw invalidTranscript(`${where}: ends before it starts`);
  return { start: roundMs(start), end: roundMs(end) };
}

/** whisper's language names (as OpenAI answers: "swedish") mapped to ISO 639-1 codes */
const LANGUAGE_NAMES: Record<string, string> = {
  swedish: 'sv',
  english: 'en',
  norwegian: 'no',
  nynorsk: 'nn',
  danish: 'da',
  finnish: 'fi',
  icelandic: 'is',
  german: 'de',
  french: 'fr',
  spanish: 'es',
  italian: 'it',
  portuguese: 'pt',
  dutch: 'nl',
  polish: 'pl',
  russian: 'ru',
  ukrainian: 'uk',
  estonian: 'et',
  latvian: 'lv',
  lithuanian: 'lt',
  arabic: 'ar',
  persian: 'fa',
  turkish: 'tr',
  kurdish: 'ku',
  somali: 'so',
  tigrinya: 'ti',
  amharic: 'am',
  bosnian: 'bs',
  croatian: 'hr',
  serbian: 'sr',
  albanian: 'sq',
  greek: 'el',
  romanian: 'ro',
  hungarian: 'hu',
  czech: 'cs',
  slovak: 'sk',
  slovenian: 'sl',
  bulgarian: 'bg',
  hebrew: 'he',
  hindi: 'hi',
  urdu: 'ur',
  bengali: 'bn',
  tamil: 'ta',
  thai: 'th',
  vietnamese: 'vi',
  chinese: 'zh',
  japanese: 'ja',
  korean: 'ko',
  indonesian: 'id',
  malay: 'ms',
  tagalog: 'tl',
  swahili: 'sw',
  pashto: 'ps',
  punjabi: 'pa',
  armenian: 'hy',
  georgian: 'ka',
  azerbaijani: 'az',
  uzbek: 'uz',
  kazakh: 'kk',
  mongolian: 'mn',
  nepali: 'ne',
  sinhala: 'si',
  catalan: 'ca',
  basque: 'eu',
  galician: 'gl',
  welsh: 'cy',
  irish: 'ga',
  maltese: 'mt',
  macedonian: 'mk',
  belarusian: 'be',
  latin: 'la',
};

/**
 * A language tag (`sv`, `sv-SE`) or a whisper language name (`Swedish`), as a tag.
 * Anything else is refused rather than stored.
 */
export function normaliseLanguage(value: unknown, where: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw invalidTranscript(`${where}: language must be a string`);
  const v = value.trim();
  const named = LANGUAGE_NAMES[v.toLowerCase()];
  if (named) return named;
  if (/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,4}$/.test(v))
    return v
      .split('-')
      .map((p, i) => (i === 0 ? p.toLowerCase() : p))
      .join('-');
  throw invalidTranscript(`${where}: language is not a language tag`);
}

/** how many words `text` has, for the word limit */
export function countWords(text: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 32 || (c >= 9 && c <= 13);
    if (!space && !inWord) n++;
    inWord = !space;
  }
  return n;
}

/**
 * The checks every parser's result passes: limits, times, and order. Segments and their words are
 * sorted (stably) by start, then end. `where(i)` names segment i as the source numbers it.
 */
export function finish(
  format: TranscriptFormat,
  segments: TranscriptSegment[],
  where: (index: number) => string,
  extra: { language?: string; durationSeconds?: number } = {},
): Transcript {
  if (segments.length > MAX_TRANSCRIPT_SEGMENTS) throw invalidTranscript(`more than ${MAX_TRANSCRIPT_SEGMENTS} segments`);
  let words = 0;
  const checked: TranscriptSegment[] = segments.map((seg, i) => {
    const times = checkTimes(seg.start, seg.end, where(i));
    const out: TranscriptSegment = { start: times.start, end: times.end, text: seg.text };
    if (seg.speaker !== undefined) out.speaker = seg.speaker;
    const textWords = countWords(seg.text);
    if (seg.words && seg.words.length > 0) {
      words += Math.max(seg.words.length, textWords);
      if (words > MAX_TRANSCRIPT_WORDS) throw invalidTranscript(`more than ${MAX_TRANSCRIPT_WORDS} words`);
      out.words = seg.words.map((w, j) => ({ text: w.text, ...checkTimes(w.start, w.end, `${where(i)} word ${j + 1}`) })).sort(compareSegments);
    } else {
      words += textWords;
      if (words > MAX_TRANSCRIPT_WORDS) throw invalidTranscript(`more than ${MAX_TRANSCRIPT_WORDS} words`);
    }
    return out;
  });
  checked.sort(compareSegments);
  const t: Transcript = { format, segments: checked };
  if (extra.language !== undefined) t.language = extra.language;
  if (extra.durationSeconds !== undefined) {
    const d = extra.durationSeconds;
    if (typeof d !== 'number' || !Number.isFinite(d) || d < 0) throw invalidTranscript('duration must be a finite number of seconds, not negative');
    t.durationSeconds = roundMs(d);
  }
  return t;
}
