/**
 * WebVTT (https://www.w3.org/TR/webvtt1/), read by hand: see index.ts for why no library.
 *
 * What is read: the `WEBVTT` header (and a `Language:` header line), cues with or without an
 * identifier, `hh:mm:ss.ttt` and `mm:ss.ttt` timestamps, cue settings (ignored), NOTE, STYLE and
 * REGION blocks (skipped). In cue text, voice spans `<v Anna>` give the speaker (a cue with two
 * voices becomes two segments with the cue's times), inline timestamps `<00:00:01.500>` give word
 * timings (each stretch of text runs from its timestamp to the next one, or to the cue's end),
 * every other tag is dropped and character references are decoded.
 *
 * Where the W3C parser would silently drop a cue (a malformed timing line, a block that is no
 * cue) this parser refuses the file: a transcript with cues missing must not be stored as whole.
 */
import { checkTimes, finish, invalidTranscript, normaliseLanguage, normaliseSpace, type Transcript, type TranscriptSegment, type TranscriptWord } from './model.js';

const TIMESTAMP_RE = /^(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})$/;
const TIMING_RE = /^[ \t]*([^ \t]+?)[ \t]*-->[ \t]*([^ \t]+)(?:[ \t]+.*)?$/;

/** a WebVTT timestamp in seconds, or undefined when it is not one */
export function parseVttTimestamp(s: string): number | undefined {
  const m = TIMESTAMP_RE.exec(s);
  if (!m) return undefined;
  const ms = Number(m[1] ?? 0) * 3_600_000 + Number(m[2]) * 60_000 + Number(m[3]) * 1000 + Number(m[4]);
  return ms / 1000;
}

export function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

function isBlank(line: string | undefined): boolean {
  return line === undefined || /^[ \t\f]*$/.test(line);
}

const NAMED_REFERENCES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  nbsp: '\u00a0',
  lrm: '\u200e',
  rlm: '\u200f',
  quot: '"',
  apos: "'",
};

/** character references: the named ones WebVTT writers use, and numeric ones */
export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));/g, (whole, dec: string | undefined, hex: string | undefined, name: string | undefined) => {
    if (name !== undefined) return NAMED_REFERENCES[name] ?? whole;
    const cp = dec !== undefined ? Number(dec) : parseInt(hex!, 16);
    if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return '\ufffd';
    return String.fromCodePoint(cp);
  });
}

/** no text but whitespace, line breaks included */
function isEmptyText(s: string): boolean {
  return normaliseSpace(s) === '';
}

interface Run {
  speaker: string | undefined;
  raw: string;
  words: TranscriptWord[];
}

/**
 * Cue text to one segment per voice. `where` names the cue for errors.
 */
function parseCueText(raw: string, cueStart: number, cueEnd: number, where: string): TranscriptSegment[] {
  const runs: Run[] = [{ speaker: undefined, raw: '', words: [] }];
  let cur = runs[0]!;
  let firstSpeaker: string | undefined;
  let hasTimestamps = false;
  let chunkStart = cueStart;
  let chunk: { run: Run; text: string }[] = [];

  const addText = (text: string) => {
    if (text === '') return;
    cur.raw += text;
    chunk.push({ run: cur, text });
  };
  const flush = (end: number) => {
    const byRun = new Map<Run, string>();
    for (const piece of chunk) byRun.set(piece.run, (byRun.get(piece.run) ?? '') + piece.text);
    for (const [run, text] of byRun) {
      const word = normaliseSpace(text);
      if (word !== '') run.words.push({ text: word, start: chunkStart, end });
    }
    chunk = [];
  };
  const switchVoice = (speaker: string | undefined) => {
    if (speaker !== undefined && firstSpeaker === undefined) firstSpeaker = speaker;
    if (isEmptyText(cur.raw)) {
      const prev = runs[runs.length - 2];
      if (prev && prev.speaker === speaker) {
        prev.raw += cur.raw;
        runs.pop();
        cur = prev;
      } else cur.speaker = speaker;
      return;
    }
    if (cur.speaker === speaker) return;
    cur = { speaker, raw: '', words: [] };
    runs.push(cur);
  };

  let pos = 0;
  while (pos < raw.length) {
    const lt = raw.indexOf('<', pos);
    const textEnd = lt === -1 ? raw.length : lt;
    if (textEnd > pos) addText(decodeEntities(raw.slice(pos, textEnd)));
    if (lt === -1) break;
    const gt = raw.indexOf('>', lt + 1);
    if (gt === -1) {
      // an unclosed `<`: kept as text rather than dropping the rest of the cue
      addText(decodeEntities(raw.slice(lt)));
      break;
    }
    const tag = raw.slice(lt + 1, gt);
    pos = gt + 1;
    if (/^[0-9]/.test(tag)) {
      const t = parseVttTimestamp(tag);
      if (t === undefined) throw invalidTranscript(`${where}: malformed inline timestamp`);
      flush(t);
      chunkStart = t;
      hasTimestamps = true;
      continue;
    }
    if (tag.startsWith('/')) {
      if (/^\/v[ \t]*$/.test(tag)) switchVoice(undefined);
      continue;
    }
    const voice = /^v(?:\.[^ \t\n\r\f]*)?(?:[ \t\n\r\f]+([\s\S]*))?$/.exec(tag);
    if (voice) {
      const name = normaliseSpace(decodeEntities(voice[1] ?? ''));
      switchVoice(name === '' ? undefined : name);
    }
    // <c>, <i>, <b>, <u>, <ruby>, <rt>, <lang>, and unknown tags: dropped, their text kept
  }
  flush(cueEnd);

  const kept = runs.filter((r) => !isEmptyText(r.raw));
  if (kept.length === 0) {
    const empty: TranscriptSegment = { start: cueStart, end: cueEnd, text: '' };
    if (firstSpeaker !== undefined) empty.speaker = firstSpeaker;
    return [empty];
  }
  return kept.map((r) => {
    const seg: TranscriptSegment = { start: cueStart, end: cueEnd, text: normaliseSpace(r.raw) };
    if (r.speaker !== undefined) seg.speaker = r.speaker;
    if (hasTimestamps && r.words.length > 0) seg.words = r.words;
    return seg;
  });
}

export function parseWebVtt(text: string): Transcript {
  const lines = splitLines(text);
  const n = lines.length;
  if (!/^WEBVTT(?:[ \t].*)?$/.test(lines[0] ?? '')) throw invalidTranscript('WebVTT line 1: missing the WEBVTT header');
  let language: string | undefined;
  let i = 1;
  // header lines (old-style metadata such as `Language: sv`) run to the first blank line
  while (i < n && !isBlank(lines[i]) && !lines[i]!.includes('-->')) {
    const m = /^Language[ \t]*:[ \t]*(.*)$/i.exec(lines[i]!);
    if (m) language = normaliseLanguage(m[1]!.trim(), `WebVTT line ${i + 1}`);
    i++;
  }

  const segments: TranscriptSegment[] = [];
  const segmentWhere: string[] = [];
  let cueIndex = 0;
  while (i < n) {
    const first = lines[i]!;
    if (isBlank(first)) {
      i++;
      continue;
    }
    if (/^(?:NOTE|STYLE|REGION)(?:[ \t]|$)/.test(first)) {
      while (i < n && !isBlank(lines[i])) i++;
      continue;
    }
    let timing: number;
    if (first.includes('-->')) timing = i;
    else if (!isBlank(lines[i + 1]) && lines[i + 1]!.includes('-->')) timing = i + 1;
    else throw invalidTranscript(`WebVTT line ${i + 1}: a block that is neither a cue nor NOTE, STYLE or REGION`);
    cueIndex++;
    const where = `WebVTT cue ${cueIndex} (line ${timing + 1})`;
    const m = TIMING_RE.exec(lines[timing]!);
    const start = m ? parseVttTimestamp(m[1]!) : undefined;
    const end = m ? parseVttTimestamp(m[2]!) : undefined;
    if (start === undefined || end === undefined) throw invalidTranscript(`${where}: malformed timestamp`);
    checkTimes(start, end, where);
    let j = timing + 1;
    const textLines: string[] = [];
    // a line with `-->` ends the cue text and starts the next cue, as in the W3C parser
    while (j < n && !isBlank(lines[j]) && !lines[j]!.includes('-->')) textLines.push(lines[j++]!);
    for (const seg of parseCueText(textLines.join('\n'), start, end, where)) {
      segments.push(seg);
      segmentWhere.push(where);
    }
    i = j;
  }
  return finish('webvtt', segments, (k) => segmentWhere[k]!, { language });
}
