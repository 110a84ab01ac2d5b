/**
 * Numbers as speech-to-text writes them, turned into digits that keep their place in the source.
 *
 * A transcript says a personnummer or a phone number as written digit groups (`070-174 06 05`),
 * as Swedish number words (`noll sju noll, ett sju fyra, noll sex, noll fem`), or as a mix. Each
 * number becomes a token with its decimal digits (`åttiofem` → `85`, `nittonhundraåttiofem` →
 * `1985`, `noll` → `0`) and its [start, end) in the source; tokens separated only by spaces or
 * `, ` form a run, in which `+`/`plus` and `-`/`streck` stay as marker tokens without digits. A
 * detector concatenates the digits of consecutive tokens and maps a match back to a source span
 * from its first to its last token.
 *
 * One pass over the text, no regular expressions and no allocation per character: a string is made
 * only for each number token's digits.
 */

export type NumberTokenKind = 'number' | 'plus' | 'dash';

export interface NumberToken {
  kind: NumberTokenKind;
  /** UTF-16 offsets into the source, end exclusive */
  start: number;
  end: number;
  /** decimal digits; '' for plus and dash */
  digits: string;
  /** written in words rather than digits */
  spoken: boolean;
  /** `en` or `ett` on its own: as often an article as a number */
  weak: boolean;
  /**
   * written digits glued to letters before or after (`pnr19121212`, `1212a`, `500mg`): a token of
   * its own, whose run ends at the letters; the detector trusts it less
   */
  glued: boolean;
  /** what separates this token from the one before it in the run (GAP_* bits); 0 for the first */
  gap: number;
  /**
   * A number word ending in `hundra` or `tusen` (100, 1000), else 0; `bare` when it is only that
   * word. They may add up with their neighbour (`nitton hundra`, `tvåtusen fem`): see joinSpoken.
   */
  multiplier: 0 | 100 | 1000;
  bare: boolean;
}

/** the gap before a token holds a comma (`noll sju noll, ett sju fyra`) */
export const GAP_COMMA = 1;
/** the gap before a token holds a bracket (`+46 (0)70`) */
export const GAP_BRACKET = 2;
/** the gap before a token is two or more characters of white space */
export const GAP_WIDE = 4;
/** the gap before a token is a `_`, `/` or `.` between two digits (`19121212_1212`, `12.12.12`) */
export const GAP_SEPARATOR = 8;

export interface NumberRun {
  tokens: NumberToken[];
}

// ---------------------------------------------------------------------------------------------
// Number words

/** the kinds of parts a number word is made of */
const Cat = { Zero: 0, Unit: 1 /* 1–9 */, Teen: 2 /* 10–19 */, Ten: 3 /* 20, 30, … 90 */, Hundred: 4, Thousand: 5 } as const;
type Cat = (typeof Cat)[keyof typeof Cat];

interface Morpheme {
  codes: number[];
  cat: Cat;
  value: number;
}

const MORPHEMES: Morpheme[] = (
  [
    ['noll', Cat.Zero, 0],
    ['ett', Cat.Unit, 1],
    ['en', Cat.Unit, 1],
    ['två', Cat.Unit, 2],
    ['tre', Cat.Unit, 3],
    ['fyra', Cat.Unit, 4],
    ['fem', Cat.Unit, 5],
    ['sex', Cat.Unit, 6],
    ['sju', Cat.Unit, 7],
    ['åtta', Cat.Unit, 8],
    ['nio', Cat.Unit, 9],
    ['tio', Cat.Teen, 10],
    ['elva', Cat.Teen, 11],
    ['tolv', Cat.Teen, 12],
    ['tretton', Cat.Teen, 13],
    ['fjorton', Cat.Teen, 14],
    ['femton', Cat.Teen, 15],
    ['sexton', Cat.Teen, 16],
    ['sjutton', Cat.Teen, 17],
    ['arton', Cat.Teen, 18],
    ['aderton', Cat.Teen, 18],
    ['nitton', Cat.Teen, 19],
    ['tjugo', Cat.Ten, 20],
    ['tjugu', Cat.Ten, 20],
    ['tjugi', Cat.Ten, 20],
    ['trettio', Cat.Ten, 30],
    ['tretti', Cat.Ten, 30],
    ['fyrtio', Cat.Ten, 40],
    ['fyrti', Cat.Ten, 40],
    ['förti', Cat.Ten, 40],
    ['femtio', Cat.Ten, 50],
    ['femti', Cat.Ten, 50],
    ['sextio', Cat.Ten, 60],
    ['sexti', Cat.Ten, 60],
    ['sjuttio', Cat.Ten, 70],
    ['sjutti', Cat.Ten, 70],
    ['åttio', Cat.Ten, 80],
    ['åtti', Cat.Ten, 80],
    ['nittio', Cat.Ten, 90],
    ['nitti', Cat.Ten, 90],
    ['hundra', Cat.Hundred, 100],
    ['tusen', Cat.Thousand, 1000],
  ] as const
)
  .map(([word, cat, value]) => ({ codes: [...word].map((c) => c.charCodeAt(0)), cat, value }))
  // longest first, so that `tretton` is tried before `tre`
  .sort((a, b) => b.codes.length - a.codes.length);

/** morphemes by their first (lower-case) letter */
const BY_INITIAL = new Map<number, Morpheme[]>();
for (const m of MORPHEMES) {
  const list = BY_INITIAL.get(m.codes[0]!) ?? [];
  list.push(m);
  BY_INITIAL.set(m.codes[0]!, list);
}

const MARKERS: { codes: number[]; kind: 'plus' | 'dash' }[] = [
  { codes: codesOf('plus'), kind: 'plus' },
  { codes: codesOf('streck'), kind: 'dash' },
  { codes: codesOf('bindestreck'), kind: 'dash' },
];

function codesOf(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0));
}

/** lower case for the letters number words are made of (ASCII, å, ä, ö and the other Latin-1 letters) */
function lower(c: number): number {
  return (c >= 65 && c <= 90) || (c >= 0xc0 && c <= 0xde && c !== 0xd7) ? c + 32 : c;
}

/** letters, digits and `_`: what words are made of. Non-ASCII letters by range, without a regex. */
export function isWordChar(c: number): boolean {
  if (c < 0x80) return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
  if (c < 0xc0) return c === 0xaa || c === 0xb5 || c === 0xba;
  if (c === 0xd7 || c === 0xf7) return false;
  // general punctuation, symbols, arrows, box drawing …; CJK punctuation; specials
  if ((c >= 0x2000 && c <= 0x2bff) || (c >= 0x3000 && c <= 0x303f) || (c >= 0xfe30 && c <= 0xfe4f) || c >= 0xfff0) return false;
  return true;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * `_`, `/` or `.` straight between two digits: written into identifiers in place of a dash or a
 * space (`19121212_1212`, `19121212/1212`, `12.12.12-1212`, `070.174.06.05`), so it joins the
 * digit groups on either side into one run. A full stop or slash with a space on either side
 * still ends a run (`… 06 05. 19 år`, `12 / 5`).
 */
function isSeparatorAt(text: string, k: number): boolean {
  const c = text.charCodeAt(k);
  return (c === 95 || c === 47 || c === 46) && k > 0 && k + 1 < text.length && isDigit(text.charCodeAt(k - 1)) && isDigit(text.charCodeAt(k + 1));
}

function matchAt(text: string, pos: number, end: number, codes: number[]): boolean {
  if (pos + codes.length > end) return false;
  for (let i = 0; i < codes.length; i++) if (lower(text.charCodeAt(pos + i)) !== codes[i]) return false;
  return true;
}

/**
 * The value of one Swedish number word written as one word (`sju`, `åttiofem`,
 * `nittonhundraåttiofem`, `tvåtusenfem`, `etthundrasjuttiofyra`), or -1. Case-insensitive.
 */
export function parseNumberWord(word: string): number {
  return parseWordAt(word, 0, word.length);
}

const scratch: Morpheme[] = [];

/** text[start, end) as one number word, or -1 */
function parseWordAt(text: string, start: number, end: number): number {
  if (end - start < 2 || end - start > 48) return -1;
  if (!BY_INITIAL.has(lower(text.charCodeAt(start)))) return -1;
  scratch.length = 0;
  return segment(text, start, end, scratch);
}

/** splits text[pos, end) into morphemes (trying longer ones first) until one split is a number */
function segment(text: string, pos: number, end: number, seq: Morpheme[]): number {
  if (pos === end) return evaluate(seq);
  if (seq.length >= 8) return -1;
  const candidates = BY_INITIAL.get(lower(text.charCodeAt(pos)));
  if (!candidates) return -1;
  for (const m of candidates) {
    if (!matchAt(text, pos, end, m.codes)) continue;
    seq.push(m);
    const v = segment(text, pos + m.codes.length, end, seq);
    seq.pop();
    if (v >= 0) return v;
  }
  return -1;
}

/**
 * The value of a morpheme sequence under Swedish number grammar, or -1:
 *   number   := `noll` | [below1000] `tusen` [below1000] | below1000
 *   below1000 := [unit | teen | ten] `hundra` [below100] | below100
 *   below100  := ten [unit] | teen | unit
 */
function evaluate(seq: Morpheme[]): number {
  if (seq.length === 1 && seq[0]!.cat === Cat.Zero) return 0;
  let i = 0;
  const below100 = (): number => {
    const a = seq[i];
    if (!a) return -1;
    if (a.cat === Cat.Ten) {
      i++;
      const b = seq[i];
      if (b && b.cat === Cat.Unit) {
        i++;
        return a.value + b.value;
      }
      return a.value;
    }
    if (a.cat === Cat.Teen || a.cat === Cat.Unit) {
      i++;
      return a.value;
    }
    return -1;
  };
  const below1000 = (): number => {
    const a = seq[i];
    const b = seq[i + 1];
    let hundreds = -1;
    if (a && a.cat === Cat.Hundred) {
      i += 1;
      hundreds = 100;
    } else if (a && b && (a.cat === Cat.Unit || a.cat === Cat.Teen || a.cat === Cat.Ten) && b.cat === Cat.Hundred) {
      // `tjugohundrasju`: 2007, as a year is said
      i += 2;
      hundreds = a.value * 100;
    }
    if (hundreds < 0) return below100();
    const next = seq[i];
    if (next && (next.cat === Cat.Ten || next.cat === Cat.Teen || next.cat === Cat.Unit)) {
      const rest = below100();
      return rest < 0 ? -1 : hundreds + rest;
    }
    return hundreds;
  };

  let value: number;
  if (seq[0]!.cat === Cat.Thousand) {
    i = 1;
    value = 1000;
  } else {
    value = below1000();
    if (value < 0) return -1;
    if (seq[i]?.cat === Cat.Thousand) {
      i++;
      value *= 1000;
    } else {
      return i === seq.length ? value : -1;
    }
  }
  // after `tusen`
  if (i === seq.length) return value;
  const rest = below1000();
  if (rest < 0 || i !== seq.length) return -1;
  return value + rest;
}

/** the last morpheme of a number word is `hundra` or `tusen` (so `nittonhundra åttiofem` adds up) */
function endsWithMultiplier(text: string, start: number, end: number): 100 | 1000 | 0 {
  if (end - start >= 6 && matchAt(text, end - 6, end, HUNDRA)) return 100;
  if (end - start >= 5 && matchAt(text, end - 5, end, TUSEN)) return 1000;
  return 0;
}
const HUNDRA = codesOf('hundra');
const TUSEN = codesOf('tusen');

// ---------------------------------------------------------------------------------------------
// Tokens and runs

const MAX_GAP = 4;

/**
 * Every number token of `text` (written digit groups, number words, `+`/`plus`, `-`/`streck`),
 * grouped into runs of tokens separated only by white space on one line, `, ` or brackets.
 * `skip` lists [start, end) spans (sorted, non-overlapping) to leave out, such as e-mail addresses;
 * runs of fewer than `minDigits` digits are left out.
 */
export function numberRuns(text: string, skip: readonly (readonly [number, number])[] = [], minDigits = 1): NumberRun[] {
  const runs: NumberRun[] = [];
  let current: NumberToken[] = [];
  let lastEnd = -1;
  let skipIndex = 0;
  const n = text.length;

  let digitCount = 0;
  const flush = () => {
    if (digitCount >= minDigits && digitCount > 0) runs.push({ tokens: current });
    if (current.length > 0) current = [];
    digitCount = 0;
  };
  const push = (kind: NumberTokenKind, start: number, end: number, digits: string, spoken: boolean, weak: boolean, glued = false) => {
    let gap = 0;
    if (current.length > 0) {
      gap = gapBetween(text, lastEnd, start);
      if (gap < 0) {
        flush();
        gap = 0;
      }
    }
    digitCount += digits.length;
    const multiplier = kind === 'number' && spoken ? endsWithMultiplier(text, start, end) : 0;
    const bare = multiplier !== 0 && end - start === (multiplier === 100 ? 6 : 5);
    current.push({ kind, start, end, digits, spoken, weak, glued, gap, multiplier, bare });
    lastEnd = end;
  };

  let i = 0;
  while (i < n) {
    if (skipIndex < skip.length && i >= skip[skipIndex]![0]) {
      flush();
      i = Math.max(i, skip[skipIndex]![1]);
      skipIndex++;
      continue;
    }
    const c = text.charCodeAt(i);
    if (isDigit(c)) {
      let j = i + 1;
      while (j < n && isDigit(text.charCodeAt(j))) j++;
      // digits glued to letters (`19121212-1212a`, `pnr19121212`, `500mg`) are a number too: the
      // letters between it and its neighbours end the run (gapBetween), and the detector weighs it less
      const glued = (i > 0 && isWordChar(text.charCodeAt(i - 1)) && !isSeparatorAt(text, i - 1)) || (j < n && isWordChar(text.charCodeAt(j)) && !isSeparatorAt(text, j));
      push('number', i, j, text.slice(i, j), false, false, glued);
      i = j;
      continue;
    }
    if (isSeparatorAt(text, i)) {
      // after an area code it is the dash of older notations (`070/174 06 62`); elsewhere a space
      if (isAreaCodeSeparator(i, current)) push('dash', i, i + 1, '', false, false);
      i++;
      continue;
    }
    if (c === 43 /* + */) {
      push('plus', i, i + 1, '', false, false);
      i++;
      continue;
    }
    if (c === 45 /* - */ || c === 0x2010 || c === 0x2011 || c === 0x2013 || c === 0x2212) {
      push('dash', i, i + 1, '', false, false);
      i++;
      continue;
    }
    if (isWordChar(c)) {
      // a word ends where digits start (`pnr19121212`): they are a token of their own
      let j = i + 1;
      while (j < n && isWordChar(text.charCodeAt(j)) && !isDigit(text.charCodeAt(j))) j++;
      if (i > 0 && isWordChar(text.charCodeAt(i - 1))) {
        // inside a word (after digits, or a skipped span): not a token
      } else if (!tokenForWord(text, i, j, push)) {
        if (current.length > 0) flush();
      }
      i = j;
      continue;
    }
    i++;
  }
  flush();
  return runs;
}

/**
 * `070/174 06 62`, `070.174 06 59`, `070_174_06_05`: a separator (isSeparatorAt) written straight
 * after an area code (a written group of 2–4 digits starting with 0, where a number starts: not
 * the `06` of `174 06.05`) is the dash of older notations.
 */
function isAreaCodeSeparator(i: number, current: readonly NumberToken[]): boolean {
  const last = current[current.length - 1];
  if (last?.kind !== 'number' || last.spoken || last.end !== i) return false;
  const before = current[current.length - 2];
  if (before?.kind === 'number' && !(last.gap & (GAP_COMMA | GAP_BRACKET | GAP_WIDE))) return false;
  const len = last.digits.length;
  return len >= 2 && len <= 4 && last.digits.charCodeAt(0) === 48;
}

function tokenForWord(
  text: string,
  start: number,
  end: number,
  push: (kind: NumberTokenKind, start: number, end: number, digits: string, spoken: boolean, weak: boolean) => void,
): boolean {
  const first = lower(text.charCodeAt(start));
  if (!BY_INITIAL.has(first) && first !== 112 /* p */ && first !== 98 /* b */) return false;
  for (const m of MARKERS) {
    if (end - start === m.codes.length && matchAt(text, start, end, m.codes)) {
      push(m.kind, start, end, '', true, false);
      return true;
    }
  }
  const value = parseWordAt(text, start, end);
  if (value < 0) return false;
  const len = end - start;
  const weak = (len === 2 || len === 3) && (matchAt(text, start, end, EN) || matchAt(text, start, end, ETT));
  push('number', start, end, String(value), true, weak);
  return true;
}
const EN = codesOf('en');
const ETT = codesOf('ett');

/**
 * One number said in two words, added up: `nitton` + `hundra` → 1900, `nittonhundra` (or the
 * 1900 of `nitton hundra`) + `åttiofem` → 1985, `tvåtusen` + `fem` → 2005. `value` is what the words
 * up to `last` came to, `next` the word after it (one space between, both spoken). Undefined when
 * they do not add up; the words may still be two numbers said one after the other.
 */
export function joinSpoken(value: string, last: NumberToken, next: NumberToken): string | undefined {
  if (!last.spoken || !next.spoken || next.gap !== 0 || next.start - last.end !== 1 || next.kind !== 'number' || last.kind !== 'number') return undefined;
  const a = Number(value);
  const b = Number(next.digits);
  // `nitton hundra`, `två tusen`: the second word is the bare multiplier
  if (next.bare && !last.multiplier && a >= 1 && a < (next.multiplier === 100 ? 100 : 1000)) return String(a * b);
  // `nittonhundra åttiofem`, `tvåtusen fem`, `tvåtusen tjugofyra`
  if (last.multiplier && b > 0 && b < last.multiplier && a % last.multiplier === 0) return String(a + b);
  return undefined;
}

/**
 * What lies between two tokens of a run, as GAP_* bits (0 for one space), or -1 when it ends the
 * run: anything but white space (not a line break), a comma followed by white space, and brackets.
 */
function gapBetween(text: string, from: number, to: number): number {
  if (to - from > MAX_GAP) return -1;
  let bits = 0;
  let spaces = 0;
  for (let k = from; k < to; k++) {
    const c = text.charCodeAt(k);
    if (c === 32 || c === 9 || c === 0xa0 || c === 0x202f || c === 0x2009) spaces++;
    else if (c === 44 /* , */) {
      if (bits & GAP_COMMA) return -1;
      const next = k + 1 < to ? text.charCodeAt(k + 1) : -1;
      if (next !== 32 && next !== 0xa0) return -1; // `38,5`: a decimal comma ends the run
      bits |= GAP_COMMA;
    } else if (c === 40 || c === 41 /* ( ) */) bits |= GAP_BRACKET;
    else if (isSeparatorAt(text, k)) bits |= GAP_SEPARATOR;
    else return -1;
  }
  if (spaces >= 2) bits |= GAP_WIDE;
  return bits;
}

/**
 * Every run of `text` as a digit string with the source span of each number: the plain conversion
 * (`nitton åttiofem noll sju noll nio` → `19850709`), numbers said in parts added up
 * (`nitton hundra åttiofem` → `1985`). The detector looks at both readings; this gives one.
 */
export function spokenDigits(text: string): { digits: string; start: number; end: number; tokens: { digits: string; start: number; end: number }[] }[] {
  return numberRuns(text).map((run) => {
    const tokens: { digits: string; start: number; end: number }[] = [];
    let last: NumberToken | undefined;
    for (const t of run.tokens) {
      if (t.kind !== 'number') {
        last = undefined;
        continue;
      }
      const previous = tokens[tokens.length - 1];
      const joined = previous && last ? joinSpoken(previous.digits, last, t) : undefined;
      if (previous && joined !== undefined) {
        previous.digits = joined;
        previous.end = t.end;
      } else tokens.push({ digits: t.digits, start: t.start, end: t.end });
      last = t;
    }
    return { digits: tokens.map((t) => t.digits).join(''), start: tokens[0]!.start, end: tokens[tokens.length - 1]!.end, tokens };
  });
}
