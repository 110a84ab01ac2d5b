/**
 * SubRip (SRT): blocks of an index line, a timing line `hh:mm:ss,mmm --> hh:mm:ss,mmm` (a `.`
 * before the milliseconds is accepted too, and so is a block without its index line) and text
 * lines, separated by blank lines. Formatting tags (`<i>`, `<b>`, `<u>`, `<font …>`) and ASS
 * override codes (`{\an8}`) are dropped; the lines of a cue are joined with a space.
 * A block without a valid timing line is refused, naming its line.
 */
import { checkTimes, finish, invalidTranscript, normaliseSpace, type Transcript, type TranscriptSegment } from './model.js';
import { splitLines } from './webvtt.js';

const SRT_TIMESTAMP = String.raw`(\d{1,3}):([0-5]\d):([0-5]\d)[,.](\d{3})`;
const SRT_TIMING_RE = new RegExp(String.raw`^[ \t]*${SRT_TIMESTAMP}[ \t]*-->[ \t]*${SRT_TIMESTAMP}(?:[ \t]+.*)?[ \t]*$`);

function seconds(h: string, m: string, s: string, ms: string): number {
  return (Number(h) * 3_600_000 + Number(m) * 60_000 + Number(s) * 1000 + Number(ms)) / 1000;
}

/** `hh:mm:ss,mmm` in seconds, or undefined */
export function parseSrtTimestamp(s: string): number | undefined {
  const m = new RegExp(`^${SRT_TIMESTAMP}$`).exec(s.trim());
  return m ? seconds(m[1]!, m[2]!, m[3]!, m[4]!) : undefined;
}

function isBlank(line: string | undefined): boolean {
  return line === undefined || /^[ \t\f]*$/.test(line);
}

function cleanText(lines: string[]): string {
  return normaliseSpace(
    lines
      .join(' ')
      .replace(/<\/?(?:i|b|u|s|font)(?:[ \t][^>]*)?>/gi, '')
      .replace(/\{\\[^}]*\}/g, ''),
  );
}

export function parseSrt(text: string): Transcript {
  const lines = splitLines(text);
  const n = lines.length;
  const segments: TranscriptSegment[] = [];
  const where: string[] = [];
  let cue = 0;
  let i = 0;
  while (i < n) {
    if (isBlank(lines[i])) {
      i++;
      continue;
    }
    cue++;
    let timing = i;
    if (/^[ \t]*\d+[ \t]*$/.test(lines[i]!)) {
      timing = i + 1;
      if (isBlank(lines[timing])) throw invalidTranscript(`SRT line ${i + 1}: cue ${cue} has a number but no timing line`);
    }
    const label = `SRT cue ${cue} (line ${timing + 1})`;
    const line = lines[timing]!;
    const m = SRT_TIMING_RE.exec(line);
    if (!m) {
      if (line.includes('-->')) throw invalidTranscript(`${label}: malformed timestamp`);
      throw invalidTranscript(`SRT line ${timing + 1}: expected a cue timing line (hh:mm:ss,mmm --> hh:mm:ss,mmm)`);
    }
    const start = seconds(m[1]!, m[2]!, m[3]!, m[4]!);
    const end = seconds(m[5]!, m[6]!, m[7]!, m[8]!);
    checkTimes(start, end, label);
    let j = timing + 1;
    const textLines: string[] = [];
    while (j < n && !isBlank(lines[j])) {
      // cues run together without their blank line: refused rather than read as one cue's text
      if (SRT_TIMING_RE.test(lines[j]!)) throw invalidTranscript(`SRT line ${j + 1}: a timing line inside cue ${cue} (a blank line is missing)`);
      textLines.push(lines[j++]!);
    }
    segments.push({ start, end, text: cleanText(textLines) });
    where.push(label);
    i = j;
  }
  return finish('srt', segments, (k) => where[k]!);
}
