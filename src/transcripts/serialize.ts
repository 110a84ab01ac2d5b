/**
 * Writing transcripts: the canonical JSON callvault stores, and WebVTT for export and players.
 * Both return strings in memory; the caller encrypts them before anything reaches a disk.
 */
import { normaliseSpace, roundMs, type Transcript, type TranscriptSegment } from './model.js';
import { CANONICAL_SCHEMA } from './verbose-json.js';

/**
 * Canonical JSON, shaped like whisper's verbose_json (so other tools read it) with words inside
 * their segments, fixed key order, times in seconds to the millisecond, no whitespace:
 * `{"schema":"callvault.transcript.v1","format":…,"language"?,"duration"?,"text","segments":[{"id","start","end","speaker"?,"text","words"?:[{"word","start","end"}]}]}`.
 * parseTranscript reads it back to an equal Transcript (the source format included).
 */
export function serializeTranscript(t: Transcript): string {
  const out: Record<string, unknown> = { schema: CANONICAL_SCHEMA, format: t.format };
  if (t.language !== undefined) out.language = t.language;
  if (t.durationSeconds !== undefined) out.duration = roundMs(t.durationSeconds);
  out.text = t.segments
    .map((s) => s.text)
    .filter((s) => s !== '')
    .join(' ');
  out.segments = t.segments.map((s, id) => {
    const seg: Record<string, unknown> = { id, start: roundMs(s.start), end: roundMs(s.end) };
    if (s.speaker !== undefined) seg.speaker = s.speaker;
    seg.text = s.text;
    if (s.words && s.words.length > 0) seg.words = s.words.map((w) => ({ word: w.text, start: roundMs(w.start), end: roundMs(w.end) }));
    return seg;
  });
  return JSON.stringify(out);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** seconds as `hh:mm:ss.ttt` */
export function vttTimestamp(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  return `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}.${pad(ms % 1000, 3)}`;
}

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Whether the words can be written as inline timestamps that read back to the same words: they
 * spell the segment's text, lie inside the segment and follow each other without overlap.
 */
function wordsFitText(seg: TranscriptSegment): boolean {
  const words = seg.words;
  if (!words || words.length === 0) return false;
  const start = roundMs(seg.start);
  const end = roundMs(seg.end);
  let prevEnd = start;
  for (const w of words) {
    const ws = roundMs(w.start);
    const we = roundMs(w.end);
    if (w.text === '' || normaliseSpace(w.text) !== w.text) return false;
    if (ws < prevEnd || we < ws || we > end) return false;
    prevEnd = we;
  }
  return words.map((w) => w.text).join(' ') === normaliseSpace(seg.text);
}

/** cue text with inline timestamps: `<start>word` for each word, and `<end>` before each pause */
function karaoke(seg: TranscriptSegment): string {
  const words = seg.words!;
  const segStart = roundMs(seg.start);
  const segEnd = roundMs(seg.end);
  let out = '';
  let tags = 0;
  words.forEach((w, i) => {
    const ws = roundMs(w.start);
    const we = roundMs(w.end);
    if (i > 0) out += ' ';
    if (i > 0 || ws > segStart) {
      out += `<${vttTimestamp(ws)}>`;
      tags++;
    }
    out += escapeText(w.text);
    const next = words[i + 1];
    const nextStart = next ? roundMs(next.start) : segEnd;
    if (we < nextStart) {
      out += `<${vttTimestamp(we)}>`;
      tags++;
    }
  });
  // one word over the whole cue still needs a timestamp, or it reads back as untimed text
  return tags === 0 ? `<${vttTimestamp(segStart)}>${out}` : out;
}

/**
 * WebVTT for export and playback: one cue per segment, `<v Speaker>` when the speaker is known,
 * inline word timestamps when the words spell the cue text, and a `Language:` header line.
 */
export function toWebVtt(t: Transcript): string {
  const lines: string[] = ['WEBVTT'];
  if (t.language !== undefined) lines.push(`Language: ${t.language}`);
  lines.push('');
  t.segments.forEach((seg, i) => {
    lines.push(String(i + 1));
    lines.push(`${vttTimestamp(seg.start)} --> ${vttTimestamp(seg.end)}`);
    let text = wordsFitText(seg) ? karaoke(seg) : escapeText(normaliseSpace(seg.text));
    const speaker = seg.speaker === undefined ? '' : normaliseSpace(seg.speaker);
    // a name ending in `-` would close its tag as `-->`, which ends a cue: its last `-` is escaped
    if (speaker !== '') text = `<v ${escapeText(speaker).replace(/-$/, '&#45;')}>${text}</v>`;
    if (text !== '') lines.push(text);
    lines.push('');
  });
  return lines.join('\n');
}
