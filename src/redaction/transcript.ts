/**
 * Identifiers in a transcript: where they are in its text, when they are spoken, and the
 * transcript with each replaced by its label.
 *
 * The text the detector reads is the transcript's words joined by spaces (segments by newlines),
 * so that every character maps back to one word and its timing. A segment without word timings
 * contributes its text, timed by the whole segment: an identifier in it is placed over the whole
 * cue, which covers it whenever the cue's own timing is right.
 */
import { detectIdentifiers, type Detection, type IdentifierType } from '../pii/detector.js';
import type { Transcript, TranscriptSegment, TranscriptWord } from '../transcripts/model.js';

export const LABELS: Record<IdentifierType, string> = {
  personnummer: '[PERSONNUMMER]',
  samordningsnummer: '[PERSONNUMMER]',
  phone: '[TELEFON]',
  email: '[E-POST]',
};

/** a transcript that ends this far past the audio is not a transcript of it */
const END_TOLERANCE_SECONDS = 1;

interface Piece {
  segment: number;
  /** index into the segment's words; absent for a segment without word timings */
  word?: number;
  from: number;
  to: number;
  start: number;
  end: number;
}

export interface TranscriptText {
  text: string;
  pieces: Piece[];
}

/** An identifier found in a transcript: what, and when it is spoken (absent: could not be placed). */
export interface FoundIdentifier {
  type: IdentifierType;
  /** canonical value (12-digit personnummer, E.164, lowercased e-mail) */
  value: string;
  span?: { start: number; end: number };
}

export function transcriptText(transcript: Transcript): TranscriptText {
  const parts: string[] = [];
  const pieces: Piece[] = [];
  let at = 0;
  const add = (text: string, piece: Omit<Piece, 'from' | 'to'>) => {
    if (parts.length) {
      parts.push(piece.word !== undefined && piece.word > 0 ? ' ' : '\n');
      at += 1;
    }
    parts.push(text);
    pieces.push({ ...piece, from: at, to: at + text.length });
    at += text.length;
  };
  for (const [s, segment] of transcript.segments.entries()) {
    if (segment.words?.length) {
      for (const [i, w] of segment.words.entries()) add(w.text, { segment: s, word: i, start: w.start, end: w.end });
    } else add(segment.text, { segment: s, start: segment.start, end: segment.end });
  }
  return { text: parts.join(''), pieces };
}

/** the pieces a detection touches; pieces are in text order */
function touched(pieces: readonly Piece[], d: Detection): Piece[] {
  return pieces.filter((p) => p.from < d.end && d.start < p.to);
}

/**
 * Every identifier in the transcript, each with the time span it is spoken in. A span is absent
 * when the timings cannot say: no timing, an empty or inverted one, or one beyond the audio.
 */
export function findIdentifiers(text: TranscriptText, detections: readonly Detection[], durationSeconds: number): FoundIdentifier[] {
  return detections.map((d) => {
    const found: FoundIdentifier = { type: d.type, value: d.value };
    const hit = touched(text.pieces, d);
    if (hit.length === 0) return found;
    const start = Math.min(...hit.map((p) => p.start));
    const end = Math.max(...hit.map((p) => p.end));
    const timed = hit.every((p) => Number.isFinite(p.start) && Number.isFinite(p.end) && p.start >= 0 && p.end >= p.start);
    if (timed && end > start && end <= durationSeconds + END_TOLERANCE_SECONDS) found.span = { start, end: Math.min(end, durationSeconds) };
    return found;
  });
}

/** The transcript with every identifier replaced by its label; a label word spans the words it replaces. */
export function redactTranscript(transcript: Transcript, text: TranscriptText, detections: readonly Detection[]): Transcript {
  const sorted = [...detections].sort((a, b) => a.start - b.start);
  // pieces are in segment and word order, so one cursor walks them alongside the segments
  let k = 0;
  const overlapping = (piece: Piece) => sorted.filter((d) => d.start < piece.to && piece.from < d.end);
  const segments: TranscriptSegment[] = transcript.segments.map((segment) => {
    if (!segment.words?.length) {
      const piece = text.pieces[k++]!;
      const local = overlapping(piece).map((d) => ({ type: d.type, start: Math.max(d.start, piece.from) - piece.from, end: Math.min(d.end, piece.to) - piece.from }));
      return { ...segment, text: redactText(segment.text, local) };
    }
    const words: TranscriptWord[] = [];
    let previous: Detection | undefined;
    for (const word of segment.words) {
      const d = overlapping(text.pieces[k++]!)[0];
      if (!d) {
        words.push(word);
        previous = undefined;
      } else if (d === previous) {
        words[words.length - 1]!.end = Math.max(words[words.length - 1]!.end, word.end);
      } else {
        words.push({ text: LABELS[d.type], start: word.start, end: word.end });
        previous = d;
      }
    }
    return { ...segment, text: words.map((w) => w.text).join(' '), words };
  });
  return { ...transcript, segments };
}

/**
 * Free text as the audit log stores it (a stated purpose, a case reference, a reason): trimmed,
 * and any identifier the writer put in ("ringde tillbaka 070-…") replaced by its label, for the
 * log must hold none. Undefined when nothing is left.
 */
export function scrubbedText(text: string | undefined): string | undefined {
  const trimmed = text?.trim();
  return trimmed ? redactText(trimmed) : undefined;
}

/**
 * A value a caller typed into a filter that the audit log records (`agent`, `region`, an actor's
 * name): kept as typed, so the log says what was asked, but with any identifier in it replaced by
 * its label (`agent=19121212-1212` is logged as `[PERSONNUMMER]`).
 */
export function scrubbedFilter(value: string): string {
  return redactText(value);
}

/** `text` with each detection's characters replaced by its label; detects when none are given */
export function redactText(text: string, detections: readonly Pick<Detection, 'type' | 'start' | 'end'>[] = detectIdentifiers(text)): string {
  let out = '';
  let at = 0;
  for (const d of [...detections].sort((a, b) => a.start - b.start)) {
    if (d.start < at) continue;
    out += text.slice(at, d.start) + LABELS[d.type];
    at = d.end;
  }
  return out + text.slice(at);
}
