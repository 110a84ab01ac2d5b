/**
 * Finds Swedish personal identifiers in transcript text: personnummer, samordningsnummer, phone
 * numbers and e-mail addresses, written or spoken the way speech-to-text writes them.
 *
 * Numbers: the text becomes runs of number tokens (numbers.ts); every window of whole tokens of a
 * run whose digits could be an identifier is checked (personnummer: date and Luhn check digit with
 * the `personnummer` package; phone: a valid Swedish number for libphonenumber-js), scored by its
 * form (separators and grouping in the right places), by the words around it and by what else the
 * run holds, and the best non-overlapping windows of each run are kept. Reported are detections
 * whose confidence reaches DETECTION_THRESHOLD, so weak candidates need context words.
 *
 * Digits that are both a valid personnummer (or samordningsnummer) and a valid phone number
 * (`0905271474`: born 2009-05-27, and an Umeå number) are reported twice over the same span: first
 * as what the words around them make likelier, then as the other kind. Words do not decide which
 * one a caller meant, so a redaction removes the span once and the blind indexes hold both.
 *
 * The text is read normalised (normalise): every decimal digit of any script as its ASCII digit,
 * full-width forms and dashes, slashes, dots and spaces of other code points as their ASCII forms,
 * invisible format characters (zero-width space, soft hyphen, bidi controls) left out; offsets are
 * mapped back, so they index the text as given.
 *
 * Never logs, and never puts an identifier into an error.
 */
import { createRequire } from 'node:module';
import type PersonnummerClass from 'personnummer';
import type * as Libphonenumber from 'libphonenumber-js';
import { contextAround, type ContextScore, type Ctx } from './context.js';
import { GAP_BRACKET, GAP_COMMA, joinSpoken, numberRuns, type NumberRun, type NumberToken } from './numbers.js';

export type IdentifierType = 'personnummer' | 'samordningsnummer' | 'phone' | 'email';

export interface Detection {
  type: IdentifierType;
  /** UTF-16 offsets into the input, end exclusive */
  start: number;
  end: number;
  /** canonical: YYYYMMDDNNNC, E.164 or the lower-cased address */
  value: string;
  /** in (0, 1]: that the span is an identifier (the second reading of a number that is both shares the first's) */
  confidence: number;
}

/** candidates below this confidence are not reported */
export const DETECTION_THRESHOLD = 0.5;

// Loaded on first use, as in identifiers/normalize.ts: libphonenumber-js takes long to load, and
// personnummer is CommonJS whose types claim an ES default. The `max` metadata validates the digits
// of a number, not only its length.
const require = createRequire(import.meta.url);
let libs: { Personnummer: typeof PersonnummerClass.default; parsePhoneNumberFromString: typeof Libphonenumber.parsePhoneNumberFromString } | undefined;
function load() {
  if (!libs) {
    libs = {
      Personnummer: require('personnummer'),
      parsePhoneNumberFromString: require('libphonenumber-js/max').parsePhoneNumberFromString,
    };
  }
  return libs;
}

// ---------------------------------------------------------------------------------------------
// Context words

function contextAdjustment(type: IdentifierType, ctx: ContextScore): number {
  const own: Ctx = type === 'samordningsnummer' ? 'personnummer' : type;
  let adj = 0;
  if (ctx.before === own) adj += ctx.beforeInSentence ? 0.3 : 0.15;
  else if (ctx.before === 'generic') adj += ctx.beforeInSentence ? 0.15 : 0.05;
  else if (ctx.before !== 'none' && type !== 'email') adj -= 0.05;
  if (ctx.negativeBefore) adj -= 0.4;
  if (ctx.after === own) adj += 0.15;
  if (ctx.unitAfter) adj -= 0.6;
  return adj;
}

// ---------------------------------------------------------------------------------------------
// E-mail

/** characters of the local part of an address (besides letters and digits) */
function isLocalChar(c: number): boolean {
  return isAlnum(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45 || c === 39; // . _ % + - '
}
function isDomainChar(c: number): boolean {
  return isAlnum(c) || c === 45 || c === 46; // - .
}
function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 0xc0 && c <= 0x24f && c !== 0xd7 && c !== 0xf7);
}
function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function findEmails(text: string): Detection[] {
  const out: Detection[] = [];
  let at = text.indexOf('@');
  let floor = 0;
  while (at !== -1) {
    let s = at;
    while (s > floor && isLocalChar(text.charCodeAt(s - 1))) s--;
    // no leading . - ' + (`'anna@example.se'`)
    while (s < at && (text.charCodeAt(s) === 46 || text.charCodeAt(s) === 45 || text.charCodeAt(s) === 39 || text.charCodeAt(s) === 43)) s++;
    let e = at + 1;
    while (e < text.length && isDomainChar(text.charCodeAt(e))) e++;
    while (e > at + 1 && (text.charCodeAt(e - 1) === 46 || text.charCodeAt(e - 1) === 45)) e--; // sentence punctuation
    const next = text.indexOf('@', at + 1);
    if (s < at && e > at + 1 && validDomain(text, at + 1, e) && text.charCodeAt(at - 1) !== 46) {
      const ctx = contextAround(text, s, e);
      const confidence = clamp(0.95 + contextAdjustment('email', { ...ctx, unitAfter: false }));
      out.push({ type: 'email', start: s, end: e, value: text.slice(s, e).toLowerCase(), confidence });
      floor = e;
    }
    at = next;
  }
  return out.filter((d) => d.confidence >= DETECTION_THRESHOLD);
}

/** labels of letters, digits and hyphens, at least two, the last of two or more letters */
function validDomain(text: string, start: number, end: number): boolean {
  let labels = 1;
  let labelStart = start;
  for (let k = start; k < end; k++) {
    if (text.charCodeAt(k) === 46) {
      if (k === labelStart) return false;
      labels++;
      labelStart = k + 1;
    }
  }
  if (labels < 2 || end - labelStart < 2) return false;
  for (let k = labelStart; k < end; k++) if (!isAsciiLetter(text.charCodeAt(k))) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Numbers

/** the fewest digits any identifier takes: a Swedish number of six digits after the 0 */
const MIN_DIGITS = 7;
/** the most digits any identifier takes: 0046 and nine digits */
const MAX_DIGITS = 13;
/** the most tokens one window may span (digit words, plus and dash markers) */
const MAX_TOKENS = 20;

interface Candidate {
  first: number;
  last: number;
  type: IdentifierType;
  value: string;
  confidence: number;
  digitCount: number;
  /**
   * written the way the identifier is written on paper, so that its own grouping sets it off from
   * numbers next to it: one digit group (`0701740605`, `+46701740605`), a personnummer with its
   * separator (`19850709-9805`), a phone number with a dash after the area code or a `+46`
   */
  formatted: boolean;
  /** the confidence its written or spoken form gives, before the words around it */
  form: number;
  /** its confidence reaches DETECTION_THRESHOLD; else only the second reading of a chosen number */
  reportable: boolean;
}

/** a window of a run, described for the checks */
interface Window {
  tokens: NumberToken[];
  first: number;
  last: number;
  digits: string;
  /** digit offset and length of each number (a token, or spoken words joined into one), in order */
  offsets: number[];
  lengths: number[];
  /** the (first) token of each number */
  numbers: NumberToken[];
  /** digit offsets at which a dash or plus marker stands (inside the window) */
  dashAt: number[];
  plusAt: number[];
  leadingPlus: boolean;
}

export function detectIdentifiers(input: string): Detection[] {
  const { text, from, to } = normalise(input);
  const emails = text.indexOf('@') === -1 ? [] : findEmails(text);
  const skip = emails.map((d) => [d.start, d.end] as const);
  const found: Detection[] = [...emails];
  try {
    for (const run of numberRuns(text, skip, MIN_DIGITS)) detectInRun(text, run, found);
  } finally {
    phoneCache.clear();
  }
  // stable: the second reading of a number stays after the first
  found.sort((a, b) => a.start - b.start);
  if (from && to) {
    for (const d of found) {
      d.end = to[d.end - 1]!;
      d.start = from[d.start]!;
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Normalisation

/** dashes, slashes and dots of other code points, as the ASCII character the number patterns know */
const PUNCTUATION = new Map<number, string>([
  ...[0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212, 0xfe58, 0xfe63].map((c) => [c, '-'] as [number, string]),
  ...[0x2044, 0x2215].map((c) => [c, '/'] as [number, string]),
  ...[0x00b7, 0x2024, 0x2027, 0x30fb].map((c) => [c, '.'] as [number, string]),
  [0x2017, '_'],
]);
/**
 * What normalise rewrites, outside ASCII: decimal digits, spaces, invisible format characters,
 * full-width ASCII (U+FF01–FF5E) and the punctuation above
 */
const TO_NORMALISE = /(?!\p{ASCII})[\p{Nd}\p{Zs}\p{Cf}\uff01-\uff5e\u2010-\u2015\u2017\u2212\ufe58\ufe63\u2044\u2215\u00b7\u2024\u2027\u30fb]/gu;
const DECIMAL_DIGIT = /^\p{Nd}$/u;
const FORMAT = /^\p{Cf}$/u;
/** the value of each decimal digit outside ASCII, once looked up */
const digitValues = new Map<number, string>();

/**
 * The text as the patterns read it, with `from`/`to`: the original start and end of each of its
 * UTF-16 units (absent when nothing was rewritten, as in most Swedish text). `１９１２…`, `١٩١٢…`,
 * `𝟏𝟗𝟏𝟐…` read as `1912…`; `０７０－１７４` as `070-174`; `1912\u200b1212` as `19121212`.
 */
function normalise(text: string): { text: string; from?: Int32Array; to?: Int32Array } {
  if (text.search(TO_NORMALISE) === -1) return { text };
  const out: string[] = [];
  const from = new Int32Array(text.length);
  const to = new Int32Array(text.length);
  let n = 0;
  let at = 0;
  const keep = (end: number) => {
    out.push(text.slice(at, end));
    for (let k = at; k < end; k++, n++) {
      from[n] = k;
      to[n] = k + 1;
    }
  };
  for (const m of text.matchAll(TO_NORMALISE)) {
    keep(m.index);
    const char = m[0];
    const cp = char.codePointAt(0)!;
    const mapped =
      cp >= 0xff01 && cp <= 0xff5e
        ? String.fromCharCode(cp - 0xfee0) // full-width ASCII
        : (PUNCTUATION.get(cp) ?? (DECIMAL_DIGIT.test(char) ? digitOf(cp) : FORMAT.test(char) ? '' : ' '));
    if (mapped) {
      out.push(mapped);
      from[n] = m.index;
      to[n] = m.index + char.length;
      n++;
    }
    at = m.index + char.length;
  }
  keep(text.length);
  return { text: out.join(''), from, to };
}

/**
 * The ASCII digit of a decimal digit: Unicode encodes every script's digits as contiguous runs of
 * ten, zero first, so the value is the distance from the start of the run of digits it is in,
 * modulo ten (some runs follow each other, like the mathematical digits U+1D7CE–U+1D7FF).
 */
function digitOf(cp: number): string {
  let value = digitValues.get(cp);
  if (value === undefined) {
    let zero = cp;
    while (DECIMAL_DIGIT.test(String.fromCodePoint(zero - 1))) zero--;
    value = String((cp - zero) % 10);
    digitValues.set(cp, value);
  }
  return value;
}

function detectInRun(text: string, run: NumberRun, out: Detection[]): void {
  const tokens = run.tokens;
  const candidates: Candidate[] = [];
  let lastNumber = tokens.length - 1;
  while (tokens[lastNumber]!.kind !== 'number') lastNumber--;
  // the words around the run, looked up once and only when some window is a valid identifier
  const around: RunContext = { text, start: tokens[0]!.start, end: tokens[lastNumber]!.end, score: undefined };
  // one window for the run, grown from each token in turn (extend leaves its arrays as it found them)
  const w: Window = { tokens, first: 0, last: 0, digits: '', offsets: [], lengths: [], numbers: [], dashAt: [], plusAt: [], leadingPlus: false };
  for (let i = 0; i < tokens.length; i++) {
    const first = tokens[i]!;
    if (first.kind === 'dash') continue;
    w.first = w.last = i;
    w.leadingPlus = first.kind === 'plus';
    extend(around, w, i, lastNumber, candidates);
  }
  if (!candidates.some((c) => c.reportable)) return;
  const chosen = choose(tokens, candidates);
  const owner = new Int32Array(tokens.length).fill(-1);
  for (const [k, c] of chosen.entries()) owner.fill(k, c.first, c.last + 1);
  for (let k = 0; k < chosen.length; k++) {
    const c = chosen[k]!;
    const confidence = clamp(c.confidence - runPenalty(tokens, owner, chosen, k));
    if (confidence >= DETECTION_THRESHOLD) {
      const first = tokens[c.first]!;
      let start = first.start;
      // `(070) 174 06 05`: the area code's brackets belong to the number
      if (c.last > c.first && text.charCodeAt(start - 1) === 40 && text.charCodeAt(first.end) === 41) start--;
      const end = tokens[c.last]!.end;
      out.push({ type: c.type, start, end, value: c.value, confidence: round(confidence) });
      const also = otherReading(candidates, c);
      if (also) out.push({ type: also.type, start, end, value: also.value, confidence: round(confidence) });
    }
  }
}

/**
 * The same tokens read as the other kind of number (a personnummer's digits as a phone number, or
 * the reverse), the likeliest such reading whose form alone reaches the threshold: the words around
 * a number make one reading likelier, they do not rule out the other. The form does: a dash where
 * a personnummer has it (`050216-9832`) is no phone number's.
 */
function otherReading(candidates: readonly Candidate[], c: Candidate): Candidate | undefined {
  const phone = c.type === 'phone';
  let best: Candidate | undefined;
  for (const o of candidates) {
    if (o.first !== c.first || o.last !== c.last || (o.type === 'phone') === phone || o.form < DETECTION_THRESHOLD) continue;
    if (!best || o.confidence > best.confidence) best = o;
  }
  return best;
}

/**
 * Grows window `w` by token `j` and on, evaluating every window of 7 or more digits: each number
 * token appended, and where two spoken words may add up (`nitton hundra`, `tvåtusen fem`) also
 * joined with the one before, so that both readings are tried. Bounded by MAX_DIGITS and MAX_TOKENS.
 */
function extend(around: RunContext, w: Window, j: number, lastNumber: number, out: Candidate[]): void {
  const tokens = w.tokens;
  if (j >= tokens.length || j - w.first >= MAX_TOKENS) return;
  const t = tokens[j]!;
  if (t.kind !== 'number') {
    if (j === w.first) {
      extend(around, w, j + 1, lastNumber, out); // the leading plus
      return;
    }
    if (w.dashAt.length + w.plusAt.length >= 3) return;
    const markers = t.kind === 'dash' ? w.dashAt : w.plusAt;
    markers.push(w.digits.length);
    extend(around, w, j + 1, lastNumber, out);
    markers.pop();
    return;
  }
  const saved = w.digits;
  // appended: its digits after the others
  if (saved.length + t.digits.length <= MAX_DIGITS) {
    w.offsets.push(saved.length);
    w.lengths.push(t.digits.length);
    w.numbers.push(t);
    w.digits = saved + t.digits;
    if (w.digits.length >= MIN_DIGITS) {
      w.last = j;
      evaluateWindow(around, w, j === lastNumber, out);
    }
    extend(around, w, j + 1, lastNumber, out);
    w.offsets.pop();
    w.lengths.pop();
    w.numbers.pop();
    w.digits = saved;
  }
  // joined: one number with the word before it
  const k = w.numbers.length - 1;
  if (k >= 0 && j > w.first && tokens[j - 1]!.kind === 'number') {
    const offset = w.offsets[k]!;
    const joined = joinSpoken(saved.slice(offset), tokens[j - 1]!, t);
    if (joined !== undefined && offset + joined.length <= MAX_DIGITS) {
      const length = w.lengths[k]!;
      w.digits = saved.slice(0, offset) + joined;
      w.lengths[k] = joined.length;
      if (w.digits.length >= MIN_DIGITS) {
        w.last = j;
        evaluateWindow(around, w, j === lastNumber, out);
      }
      extend(around, w, j + 1, lastNumber, out);
      w.lengths[k] = length;
      w.digits = saved;
    }
  }
}

interface RunContext {
  text: string;
  start: number;
  end: number;
  score: ContextScore | undefined;
}

function evaluateWindow(around: RunContext, w: Window, endsRun: boolean, out: Candidate[]): void {
  const context = (): ContextScore => {
    if (!around.score) around.score = contextAround(around.text, around.start, around.end);
    const score = around.score;
    // a unit after the run speaks about its last number only
    return endsRun || !score.unitAfter ? score : { ...score, unitAfter: false };
  };
  // digits glued to letters (`1212a`, `pnr19121212`) are less surely a number said on its own
  const glued = w.numbers[0]!.glued || w.numbers[w.numbers.length - 1]!.glued ? GLUED_PENALTY : 0;
  const pn = w.leadingPlus ? undefined : personnummerOf(w);
  if (pn) {
    const form = pn.form - glued;
    const confidence = form + contextAdjustment(pn.type, context());
    out.push({
      first: w.first,
      last: w.last,
      type: pn.type,
      value: pn.value,
      confidence,
      form,
      digitCount: w.digits.length,
      formatted: pn.formatted,
      reportable: confidence >= DETECTION_THRESHOLD,
    });
  }
  const phone = phoneOf(w);
  if (phone) {
    const form = phone.form - glued;
    const confidence = form + contextAdjustment('phone', context());
    out.push({
      first: w.first,
      last: w.last,
      type: 'phone',
      value: phone.value,
      confidence,
      form,
      digitCount: w.digits.length,
      formatted: phone.formatted,
      reportable: confidence >= DETECTION_THRESHOLD,
    });
  }
}

const GLUED_PENALTY = 0.1;

// ---------------------------------------------------------------------------------------------
// Personnummer

function personnummerOf(w: Window): { type: 'personnummer' | 'samordningsnummer'; value: string; form: number; formatted: boolean } | undefined {
  const d = w.digits;
  const len = d.length;
  if (len !== 10 && len !== 12) return undefined;
  // cheap checks before the library: month 01–12, day 01–31 or 61–91 (coordination)
  const y = len === 12 ? 4 : 2;
  const month = (d.charCodeAt(y) - 48) * 10 + (d.charCodeAt(y + 1) - 48);
  const day = (d.charCodeAt(y + 2) - 48) * 10 + (d.charCodeAt(y + 3) - 48);
  if (month < 1 || month > 12 || day < 1 || (day > 31 && day < 61) || day > 91) return undefined;
  if (len === 12) {
    const century = d.slice(0, 2);
    if (century !== '18' && century !== '19' && century !== '20') return undefined;
  }
  // markers: at most one, a dash or a plus between the date and the birth number
  const serialAt = len - 4;
  if (w.dashAt.length + w.plusAt.length > 1) return undefined;
  const marker = w.dashAt.length ? w.dashAt[0] : w.plusAt[0];
  if (marker !== undefined && marker !== serialAt) return undefined;
  const sep = w.plusAt.length ? '+' : '-';
  const input = marker !== undefined || len === 10 ? `${d.slice(0, serialAt)}${sep}${d.slice(serialAt)}` : d;

  // the check digit first: the library throws (and builds a stack trace) for every failure
  if (!luhnValid(d, len - 10)) return undefined;
  let parsed: PersonnummerClass.default;
  try {
    parsed = load().Personnummer.parse(input);
  } catch {
    return undefined;
  }
  const value = parsed.format(true);
  const coordination = parsed.isCoordinationNumber();
  // a birth date in the future or more than 125 years ago is a date, a reference, anything else
  const born = Date.UTC(Number(value.slice(0, 4)), Number(value.slice(4, 6)) - 1, Number(value.slice(6, 8)) - (coordination ? 60 : 0));
  const now = Date.now();
  if ((born > now && !unbornSeries(value)) || now - born > 125 * 365.25 * 864e5) return undefined;

  let form: number;
  if (marker !== undefined) form = 0.9;
  else if (w.numbers.length === 1) form = len === 12 ? 0.8 : 0.65;
  else form = personnummerGrouping(w, serialAt) ? 0.75 : 0.3;
  // ten digits that are also a valid mobile number (0701740607) are more often the phone number
  if (len === 10 && marker === undefined && d.charCodeAt(0) === 48 && d.charCodeAt(1) === 55 && swedishNumber(d.slice(1))) form -= 0.15;
  const written = !w.numbers.some((t) => t.spoken);
  const formatted = written && (w.numbers.length === 1 || (marker !== undefined && w.numbers.length === 2));
  return { type: coordination ? 'samordningsnummer' : 'personnummer', value, form: form + 0.02, formatted };
}

/**
 * Canary recordings' synthetic identities (src/alerts/canaries.ts, docs/alerts.md "Canaries"):
 * born 2090–2099 with birth numbers 980–989, so that they are nobody's. Found like any
 * personnummer although the birth date lies ahead, so that a canary is redacted and indexed like
 * any other call; any other future birth date is still not a personnummer.
 */
function unbornSeries(value: string): boolean {
  const year = Number(value.slice(0, 4));
  const serial = Number(value.slice(8, 11));
  return year >= 2090 && year <= 2099 && serial >= 980 && serial <= 989;
}

/** the Luhn check over the ten digits YYMMDDNNNC of `d` from `from` */
function luhnValid(d: string, from: number): boolean {
  let sum = 0;
  for (let k = 0; k < 10; k++) {
    let v = d.charCodeAt(from + k) - 48;
    if (k % 2 === 0) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
  }
  return sum % 10 === 0;
}

/**
 * Groups of digits that fit a personnummer: in the date, groups of two or more digits start on a
 * pair (`19 85 07 09`, `850709`), and no group runs across from the date into the birth number.
 */
function personnummerGrouping(w: Window, serialAt: number): boolean {
  for (let k = 0; k < w.numbers.length; k++) {
    const at = w.offsets[k]!;
    const n = w.lengths[k]!;
    if (at < serialAt && at + n > serialAt) return false;
    if (n >= 2 && at < serialAt && at % 2 !== 0) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Phone

function phoneOf(w: Window): { value: string; form: number; formatted: boolean } | undefined {
  const d = w.digits;
  if (w.plusAt.length > 0) return undefined;
  /** where the national number (after a country code and a trunk 0) starts in the digits */
  let nationalAt: number;
  let international = true;
  if (w.leadingPlus || d.startsWith('0046')) {
    const cc = w.leadingPlus ? 2 : 4;
    if (d.slice(cc - 2, cc) !== '46') return undefined;
    // `+46 (0)70 …`, or the trunk zero said after the country code
    nationalAt = d.charCodeAt(cc) === 48 ? cc + 1 : cc;
  } else if (d.charCodeAt(0) === 48 && d.charCodeAt(1) !== 48) {
    nationalAt = 1;
    international = false;
  } else {
    return undefined;
  }
  const national = d.slice(nationalAt);
  const value = swedishNumber(national);
  if (value === undefined) return undefined;

  let form: number;
  if (international) form = 0.9;
  else if (national.charCodeAt(0) === 55 /* 7 */ && national.length === 9) form = 0.8;
  else form = national.length >= 8 ? 0.7 : 0.45;
  // a dash belongs after the area code (`070-`, `08-`, `0910-`, `+46-70-`), not anywhere
  const areaEnd = nationalAt + areaCodeLength(national);
  for (const at of w.dashAt) form += at === areaEnd ? 0.1 : international && at === nationalAt ? 0 : -0.25;
  if (!international && w.numbers.length > 1 && w.dashAt.length === 0 && !w.numbers.every((t) => t.spoken)) {
    // written groups: the first should end at the area code (`070 174 06 05`, `08 465 004 00`)
    const firstGroup = w.lengths[0]!;
    if (firstGroup !== areaEnd && firstGroup < d.length - 1) form -= 0.2;
  }
  const written = !w.numbers.some((t) => t.spoken);
  const formatted = written && (w.numbers.length === 1 || w.leadingPlus || w.dashAt[0] === areaEnd);
  return { value, form, formatted };
}

/**
 * National significant numbers already looked up during one detectIdentifiers call (a transcript
 * repeats its numbers), to E.164 or ''. Emptied when the call returns: identifiers are not kept.
 */
const phoneCache = new Map<string, string>();

/** E.164 for a valid Swedish national significant number (no trunk 0), or undefined */
function swedishNumber(national: string): string | undefined {
  if (national.length < 6 || national.length > 9) return undefined;
  let value = phoneCache.get(national);
  if (value === undefined) {
    const parsed = load().parsePhoneNumberFromString(`+46${national}`);
    value = parsed?.isValid() && parsed.country === 'SE' ? String(parsed.number) : '';
    if (phoneCache.size >= 4096) phoneCache.clear();
    phoneCache.set(national, value);
  }
  return value || undefined;
}

/** the length of a Swedish area code without the trunk 0: 8 (Stockholm), 7x (mobile), 31, 910 … */
function areaCodeLength(national: string): number {
  const a = national.charCodeAt(0) - 48;
  if (a === 8) return 1;
  if (a === 7) return 2;
  const two = national.slice(0, 2);
  return TWO_DIGIT_AREAS.has(two) ? 2 : 3;
}
const TWO_DIGIT_AREAS = new Set(['11', '13', '16', '18', '19', '20', '21', '23', '26', '31', '33', '35', '36', '40', '42', '44', '46', '54', '60', '63', '90']);

// ---------------------------------------------------------------------------------------------
// Choosing among candidates

/**
 * The best non-overlapping set of candidates of one run: the most digits covered, then the highest
 * confidence, personnummer before phone on the same tokens. Dynamic programming over the tokens,
 * linear in the number of candidates.
 */
function choose(tokens: NumberToken[], candidates: Candidate[]): Candidate[] {
  const n = tokens.length;
  const byFirst: Candidate[][] = Array.from({ length: n }, () => []);
  for (const c of candidates) if (c.reportable) byFirst[c.first]!.push(c);
  const best = new Float64Array(n + 1);
  const pick: (Candidate | undefined)[] = new Array(n + 1).fill(undefined);
  for (let k = n - 1; k >= 0; k--) {
    best[k] = best[k + 1]!;
    pick[k] = undefined;
    for (const c of byFirst[k]!) {
      const score = c.digitCount + c.confidence + (c.type === 'phone' ? 0 : 0.05) + best[c.last + 1]!;
      if (score > best[k]!) {
        best[k] = score;
        pick[k] = c;
      }
    }
  }
  const out: Candidate[] = [];
  for (let k = 0; k < n; ) {
    const c = pick[k];
    if (c) {
      out.push(c);
      k = c.last + 1;
    } else k++;
  }
  return out;
}

/**
 * Suspicion for a candidate inside a longer run of numbers (a card or reference number, a count,
 * a list of doses): the digits next to it on either side, up to a comma, a bracket, a marker or
 * another identifier, lower its confidence, more the more digits they are. A candidate written in
 * its own format (`19850709-9805 2024-05-12`, `0701740605 0701740606`) is set off by that and pays
 * little; identifiers said in parts with nothing between them are as suspicious as any digits.
 */
function runPenalty(tokens: NumberToken[], owner: Int32Array, chosen: Candidate[], index: number): number {
  const c = chosen[index]!;
  let penalty = 0;
  for (const dir of [-1, 1] as const) {
    let digits = 0;
    for (let k = (dir === 1 ? c.last : c.first) + dir; k >= 0 && k < tokens.length; k += dir) {
      if (tokens[dir === 1 ? k : k + 1]!.gap & (GAP_COMMA | GAP_BRACKET)) break;
      const t = tokens[k]!;
      if (t.kind !== 'number') break;
      const other = owner[k]!;
      if (other >= 0 && c.formatted && chosen[other]!.formatted) break;
      if (!t.weak) digits += t.digits.length;
      if (digits >= 6) break;
    }
    if (c.formatted) penalty += digits >= 1 ? 0.15 : 0;
    else penalty += digits >= 6 ? 0.6 : digits >= 3 ? 0.45 : digits >= 1 ? 0.15 : 0;
  }
  return penalty;
}

function clamp(x: number): number {
  return Math.min(1, Math.max(0, x));
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
