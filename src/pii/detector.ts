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
 * Never logs, and never puts an identifier into an error.
 */
import { createRequire } from 'node:module';
import type PersonnummerClass from 'personnummer';
import type * as Libphonenumber from 'libphonenumber-js';
import { GAP_BRACKET, GAP_COMMA, numberRuns, type NumberRun, type NumberToken } from './numbers.js';

export type IdentifierType = 'personnummer' | 'samordningsnummer' | 'phone' | 'email';

export interface Detection {
  type: IdentifierType;
  /** UTF-16 offsets into the input, end exclusive */
  start: number;
  end: number;
  /** canonical: YYYYMMDDNNNC, E.164 or the lower-cased address */
  value: string;
  /** in (0, 1] */
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
  return (libs ??= {
    Personnummer: require('personnummer'),
    parsePhoneNumberFromString: require('libphonenumber-js/max').parsePhoneNumberFromString,
  });
}

// ---------------------------------------------------------------------------------------------
// Context words

const enum Ctx {
  None,
  Personnummer,
  Phone,
  Email,
  Generic,
  Negative,
}

/** how far before and after a candidate context words count */
const BEFORE = 64;
const AFTER = 40;

const L = String.raw`\p{L}`;
const NUM = String.raw`n(?:umm|um)(?:er|ret|ren|ers)`;
const CONTEXT_GROUPS: [Ctx, string][] = [
  [
    Ctx.Negative,
    [
      `(?:ärende|referens|order|faktura|kund|kort|post|organisations|konto|clearing|serie|artikel|recept|journal|rums?|sals?|avdelnings|bokning|lott?|batch|ocr|id|medlems|patientkort|kö|plats|sjukhus|remiss|prov|ordinations|vårdgivar|hsa|licens|säkerhets|pin|engångs)-?${NUM}`,
      'ref(?:nr)?',
      'org\\.?-?nr',
      'orgnr',
      'ocr',
      'bankgiro',
      'plusgiro',
      'bg',
      'pg',
      'kontot?',
      'clearingnummer',
      'kortet',
      'kortnr',
      'rum',
      'rummet',
      'sal',
      'salen',
      'avdelning',
      'avdelningen',
      'dosen',
      'dos',
      'klockan',
      'kl',
      'ärende',
      'ärendet',
      'faktura',
      'fakturan',
      'postnummer',
      'pinkod',
      'pinkoden',
      'koden',
      'kod',
      'lösenord',
      'blodtryck',
      'blodtrycket',
      'temperatur',
      'temperaturen',
      'feber',
      'vikt',
      'vikten',
      'summa',
      'belopp',
      'beloppet',
      'kostar',
      'kostade',
      'kronor',
    ].join('|'),
  ],
  [
    Ctx.Personnummer,
    [
      `person-?${NUM}`,
      `samordnings-?${NUM}`,
      `födelse-?${NUM}`,
      `person\\s+${NUM}`,
      'personnr',
      'pers\\.?\\s?nr',
      'pnr',
      'p-nr',
      'samordningsnr',
      'född',
      'födde',
      'sista\\s+fyra',
      'fyra\\s+sista',
      'de\\s+fyra\\s+sista',
      'sista\\s+siffrorna',
      'personuppgifter',
      'legitimera',
    ].join('|'),
  ],
  [
    Ctx.Phone,
    [
      `(?:telefon|mobil|kontakt|hem|jobb|arbets|direkt|sms|tel|mobiltelefon|växel|anknytnings|svars)-?${NUM}`,
      'telefon',
      'telefonen',
      'tel',
      'tfn',
      'mobil',
      'mobilen',
      'mobiltelefon',
      'växeln',
      'växel',
      'ring',
      'ringa',
      'ringer',
      'ringde',
      'ringt',
      'ringas',
      'ringer',
      'ringbar',
      'nå',
      'når',
      'nås',
      'nådd',
      'sms',
      'smsa',
      'sms:a',
      'messa',
      'swish',
      'swisha',
      'kontakta',
      'uppringd',
      'anknytning',
      'direktnumret',
      'numret',
    ].join('|'),
  ],
  [Ctx.Email, ['mejl', 'mejla', 'mejlen', 'mejlet', 'mejladress', 'mejladressen', 'mail', 'maila', 'mailen', 'mailadress', 'mailadressen', 'e-post', 'epost', 'e-postadress', 'e-postadressen', 'e-mail', 'e-mejl', 'adress', 'adressen'].join('|')],
  [Ctx.Generic, [`${NUM}`, 'nr', 'siffrorna', 'siffror'].join('|')],
];
const CONTEXT = new RegExp(`(?<![${L}\\p{N}])(?:${CONTEXT_GROUPS.map(([, alt]) => `(${alt})`).join('|')})(?![${L}\\p{N}])`, 'giu');

/** a unit or measure right after a number: not an identifier */
const UNIT_AFTER = new RegExp(
  `^[\\s,]{0,2}(?:mg|milligram|mikrogram|µg|ml|milliliter|cl|dl|l|liter|kr|kronor|sek|öre|år|års|åring|grader|°|procent|%|st|stycken|gånger|ggr|timmar|timme|minuter|min|sekunder|dagar|dag|veckor|månader|kg|kilo|gram|g|hg|mmhg|mmol|cm|mm|km|meter|m|e|ie|enheter|tabletter|tablett|kapslar|poäng|slag)(?![${L}\\p{N}])`,
  'iu',
);

interface ContextScore {
  /** the nearest identifier word before (Personnummer, Phone, Email, Generic) or None */
  before: Ctx;
  /** … in the candidate's sentence rather than an earlier one (a question before the answer) */
  beforeInSentence: boolean;
  /** a negative word (a reference, a room, a price …) right before, in the same sentence */
  negativeBefore: boolean;
  /** the first identifier word after, in the same sentence */
  after: Ctx;
  unitAfter: boolean;
}

/** how close before a candidate a negative word must stand to speak about it */
const NEGATIVE_BEFORE = 24;
/** the end of a sentence: . ! ? followed by white space, or a line break */
const SENTENCE_END = /[.!?](?=\s)|\n/g;

function contextAround(text: string, start: number, end: number): ContextScore {
  const from = Math.max(0, start - BEFORE);
  const windowBefore = text.slice(from, start);
  let sentenceStart = 0;
  SENTENCE_END.lastIndex = 0;
  for (let m = SENTENCE_END.exec(windowBefore); m; m = SENTENCE_END.exec(windowBefore)) sentenceStart = m.index + 1;
  let before = Ctx.None;
  let beforeInSentence = false;
  let negativeBefore = false;
  CONTEXT.lastIndex = 0;
  for (let m = CONTEXT.exec(windowBefore); m; m = CONTEXT.exec(windowBefore)) {
    const kind = contextOf(m);
    if (kind !== Ctx.Negative) {
      before = kind;
      beforeInSentence = m.index >= sentenceStart;
    } else if (m.index >= sentenceStart && windowBefore.length - (m.index + m[0].length) <= NEGATIVE_BEFORE) negativeBefore = true;
  }
  let windowAfter = text.slice(end, Math.min(text.length, end + AFTER));
  SENTENCE_END.lastIndex = 0;
  const stop = SENTENCE_END.exec(windowAfter);
  if (stop) windowAfter = windowAfter.slice(0, stop.index);
  CONTEXT.lastIndex = 0;
  const m = CONTEXT.exec(windowAfter);
  // after a number, only identifier words speak about it (`… är mitt telefonnummer`); the
  // words for what else a number is (rooms, prices) come before it, and units are checked apart
  let after = m ? contextOf(m) : Ctx.None;
  if (after === Ctx.Negative) after = Ctx.None;
  return { before, beforeInSentence, negativeBefore, after, unitAfter: UNIT_AFTER.test(windowAfter) };
}

function contextOf(m: RegExpExecArray): Ctx {
  for (let g = 0; g < CONTEXT_GROUPS.length; g++) if (m[g + 1] !== undefined) return CONTEXT_GROUPS[g]![0];
  return Ctx.None;
}

function contextAdjustment(type: IdentifierType, ctx: ContextScore): number {
  const own = type === 'phone' ? Ctx.Phone : type === 'email' ? Ctx.Email : Ctx.Personnummer;
  let adj = 0;
  if (ctx.before === own) adj += ctx.beforeInSentence ? 0.3 : 0.15;
  else if (ctx.before === Ctx.Generic) adj += ctx.beforeInSentence ? 0.15 : 0.05;
  else if (ctx.before !== Ctx.None && type !== 'email') adj -= 0.05;
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
    while (s < at && (text.charCodeAt(s) === 46 || text.charCodeAt(s) === 45)) s++; // no leading . or -
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
}

/** a window of a run, described for the checks */
interface Window {
  tokens: NumberToken[];
  first: number;
  last: number;
  digits: string;
  /** digit offset of each number token's start, in window order (number tokens only) */
  offsets: number[];
  numbers: NumberToken[];
  /** digit offsets at which a dash or plus marker stands (inside the window) */
  dashAt: number[];
  plusAt: number[];
  leadingPlus: boolean;
}

export function detectIdentifiers(text: string): Detection[] {
  const emails = text.indexOf('@') === -1 ? [] : findEmails(text);
  const skip = emails.map((d) => [d.start, d.end] as const);
  const found: Detection[] = [...emails];
  try {
    for (const run of numberRuns(text, skip)) detectInRun(text, run, found);
  } finally {
    phoneCache.clear();
  }
  found.sort((a, b) => a.start - b.start);
  return found;
}

function detectInRun(text: string, run: NumberRun, out: Detection[]): void {
  const tokens = run.tokens;
  const candidates: Candidate[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const first = tokens[i]!;
    if (first.kind === 'dash') continue;
    let digits = '';
    const offsets: number[] = [];
    const numbers: NumberToken[] = [];
    const dashAt: number[] = [];
    const plusAt: number[] = [];
    for (let j = i; j < tokens.length && j - i < MAX_TOKENS; j++) {
      const t = tokens[j]!;
      if (t.kind === 'number') {
        offsets.push(digits.length);
        numbers.push(t);
        digits += t.digits;
        if (digits.length > MAX_DIGITS) break;
        if (digits.length >= 7) {
          const w: Window = { tokens, first: i, last: j, digits, offsets, numbers, dashAt, plusAt, leadingPlus: first.kind === 'plus' };
          evaluateWindow(text, w, candidates);
        }
      } else if (j > i) {
        if (t.kind === 'dash') dashAt.push(digits.length);
        else plusAt.push(digits.length);
        if (dashAt.length + plusAt.length > 3) break;
      }
    }
  }
  if (candidates.length === 0) return;
  const chosen = choose(tokens, candidates);
  const owner = new Int32Array(tokens.length).fill(-1);
  chosen.forEach((c, k) => owner.fill(k, c.first, c.last + 1));
  for (let k = 0; k < chosen.length; k++) {
    const c = chosen[k]!;
    const confidence = clamp(c.confidence - runPenalty(tokens, owner, chosen, k));
    if (confidence >= DETECTION_THRESHOLD) {
      out.push({ type: c.type, start: tokens[c.first]!.start, end: tokens[c.last]!.end, value: c.value, confidence: round(confidence) });
    }
  }
}

function evaluateWindow(text: string, w: Window, out: Candidate[]): void {
  const start = w.tokens[w.first]!.start;
  const end = w.tokens[w.last]!.end;
  let ctx: ContextScore | undefined;
  const context = () => (ctx ??= contextAround(text, start, end));

  const pn = w.leadingPlus ? undefined : personnummerOf(w);
  if (pn) {
    const confidence = pn.form + contextAdjustment(pn.type, context());
    if (confidence >= DETECTION_THRESHOLD) out.push({ first: w.first, last: w.last, type: pn.type, value: pn.value, confidence, digitCount: w.digits.length });
  }
  const phone = phoneOf(w);
  if (phone) {
    const confidence = phone.form + contextAdjustment('phone', context());
    if (confidence >= DETECTION_THRESHOLD) out.push({ first: w.first, last: w.last, type: 'phone', value: phone.value, confidence, digitCount: w.digits.length });
  }
}

// ---------------------------------------------------------------------------------------------
// Personnummer

function personnummerOf(w: Window): { type: 'personnummer' | 'samordningsnummer'; value: string; form: number } | undefined {
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
  if (born > now || now - born > 125 * 365.25 * 864e5) return undefined;

  let form: number;
  if (marker !== undefined) form = 0.9;
  else if (w.numbers.length === 1) form = len === 12 ? 0.8 : 0.65;
  else form = personnummerGrouping(w, serialAt) ? 0.75 : 0.3;
  // ten digits that are also a valid mobile number (0701740607) are more often the phone number
  if (len === 10 && marker === undefined && d.charCodeAt(0) === 48 && d.charCodeAt(1) === 55 && swedishNumber(d.slice(1))) form -= 0.15;
  return { type: coordination ? 'samordningsnummer' : 'personnummer', value, form: form + 0.02 };
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
    const n = w.numbers[k]!.digits.length;
    if (at < serialAt && at + n > serialAt) return false;
    if (n >= 2 && at < serialAt && at % 2 !== 0) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Phone

function phoneOf(w: Window): { value: string; form: number } | undefined {
  const d = w.digits;
  if (w.plusAt.length > 0) return undefined;
  let national: string;
  let international = false;
  if (w.leadingPlus) {
    if (!d.startsWith('46')) return undefined;
    national = d.slice(2);
    // `+46 (0)70 …`, or the trunk zero said after the country code
    if (national.charCodeAt(0) === 48) national = national.slice(1);
    international = true;
  } else if (d.startsWith('0046')) {
    national = d.slice(4);
    if (national.charCodeAt(0) === 48) national = national.slice(1);
    international = true;
  } else if (d.charCodeAt(0) === 48 && d.charCodeAt(1) !== 48) {
    national = d.slice(1);
  } else {
    return undefined;
  }
  const value = swedishNumber(national);
  if (value === undefined) return undefined;

  let form: number;
  if (international) form = 0.9;
  else if (national.charCodeAt(0) === 55 /* 7 */ && national.length === 9) form = 0.8;
  else form = national.length >= 8 ? 0.7 : 0.45;
  // a dash belongs after the area code (`070-`, `08-`, `0910-`), not anywhere
  const areaEnd = international ? -1 : 1 + areaCodeLength(national);
  for (const at of w.dashAt) form += at === areaEnd ? 0.1 : -0.25;
  if (!international && w.numbers.length > 1 && w.dashAt.length === 0 && !w.numbers.every((t) => t.spoken)) {
    // written groups: the first should end at the area code (`070 174 06 05`, `08 465 004 00`)
    const firstGroup = w.numbers[0]!.digits.length;
    if (firstGroup !== areaEnd && firstGroup < d.length - 1) form -= 0.2;
  }
  return { value, form };
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
    value = parsed && parsed.isValid() && parsed.country === 'SE' ? String(parsed.number) : '';
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
  for (const c of candidates) byFirst[c.first]!.push(c);
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
 * another identifier, lower its confidence, more the more digits they are. A neighbouring
 * identifier sets the candidate off only when both are single written groups (`0701740605
 * 0701740606`); identifiers said in parts with nothing between them are as suspicious as any digits.
 */
function runPenalty(tokens: NumberToken[], owner: Int32Array, chosen: Candidate[], index: number): number {
  const c = chosen[index]!;
  const single = c.first === c.last - (tokens[c.first]!.kind === 'plus' ? 1 : 0);
  let penalty = 0;
  for (const dir of [-1, 1] as const) {
    let digits = 0;
    for (let k = (dir === 1 ? c.last : c.first) + dir; k >= 0 && k < tokens.length; k += dir) {
      if (tokens[dir === 1 ? k : k + 1]!.gap & (GAP_COMMA | GAP_BRACKET)) break;
      const t = tokens[k]!;
      if (t.kind !== 'number') break;
      const other = owner[k]!;
      if (other >= 0 && single && chosen[other]!.first === chosen[other]!.last) break;
      if (!t.weak) digits += t.digits.length;
    }
    penalty += digits >= 6 ? 0.6 : digits >= 3 ? 0.45 : digits >= 1 ? 0.15 : 0;
  }
  return penalty;
}

function clamp(x: number): number {
  return x > 1 ? 1 : x < 0 ? 0 : x;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
