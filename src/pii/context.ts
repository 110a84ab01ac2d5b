/**
 * The words around a candidate identifier: `personnummer`, `ring mig på`, `mejl` raise its
 * confidence; `rum`, `klockan`, `ärendenummer` right before it and a unit right after it (`mg`,
 * `kronor`, `år`) lower it. One pass over at most BEFORE + AFTER characters, by words, without
 * regular expressions over the text.
 */
import { isWordChar, parseNumberWord } from './numbers.js';

/**
 * What a word says about a number near it: an identifier of one type; `generic`, some identifier
 * (`nummer`, `numret`, `siffrorna`); `negative`, something else (a room, a time, a price, a reference).
 */
export type Ctx = 'none' | 'personnummer' | 'phone' | 'email' | 'generic' | 'negative';

export interface ContextScore {
  /**
   * the nearest identifier word before the candidate (personnummer, phone, email, generic) with no
   * other number between them, or 'none'
   */
  before: Ctx;
  /** … in the candidate's sentence rather than an earlier one (a question before its answer) */
  beforeInSentence: boolean;
  /** a negative word shortly before, in the same sentence, with no other number between */
  negativeBefore: boolean;
  /** the first identifier word after, in the same sentence (`… är mitt telefonnummer`) */
  after: Ctx;
  /** a unit or measure right after (`500 mg`, `85 år`, `1 250 kronor`) */
  unitAfter: boolean;
}

/** how far before and after a candidate context words count */
const BEFORE = 64;
const AFTER = 40;
/** how close before a candidate a negative word must stand to speak about it */
const NEGATIVE_BEFORE = 24;

const WORDS = new Map<string, Ctx>();
function words(ctx: Ctx, list: string): void {
  for (const w of list.split(/\s+/)) if (w) WORDS.set(w, ctx);
}
words('personnummer', 'personnr pnr samordningsnr född födde legitimera personuppgifter');
words(
  'phone',
  'telefon telefonen tel tfn mobil mobilen mobiltelefon mobiltelefonen mobilnr telnr växel växeln ring ringa ringer ringde ringt ringas ringbar nå når nås sms smsa smsar messa swish swisha kontakta uppringd anknytning',
);
words('email', 'mejl mejla mejlen mejlet mejladress mejladressen mail maila mailen mailet mailadress mailadressen epost epostadress epostadressen adress adressen');
words('generic', 'nummer numret numren nummret nr siffror siffrorna');
words(
  'negative',
  'ref refnr ocr bankgiro plusgiro bg pg konto kontot kortet kortnr orgnr rum rummet sal salen avdelning avdelningen dos dosen klockan kl ärende ärendet ' +
    'faktura fakturan pinkod pinkoden kod koden portkod portkoden lösenord blodtryck blodtrycket temperatur temperaturen feber febern vikt vikten summa ' +
    'belopp beloppet kostar kostade vecka veckan våning plan linje buss bussen tand storlek puls pulsen lägenhet box diarienr',
);

/** what the first part of an `…nummer` compound says the number is; other compounds are references */
const STEMS: [string, Ctx][] = [
  ['person', 'personnummer'],
  ['samordning', 'personnummer'],
  ['födelse', 'personnummer'],
  ['telefon', 'phone'],
  ['mobil', 'phone'],
  ['kontakt', 'phone'],
  ['hem', 'phone'],
  ['jobb', 'phone'],
  ['arbete', 'phone'],
  ['arbet', 'phone'],
  ['direkt', 'phone'],
  ['sms', 'phone'],
  ['tel', 'phone'],
  ['växel', 'phone'],
  ['fast', 'phone'],
  ['svars', 'phone'],
];
const NUMBER_SUFFIXES = ['nummer', 'numret', 'numren', 'nummers', 'numrets', 'nummret', 'nr'];

/** identifier words that name the identifier (rather than an act, like `ring` or `född`) */
const NAMES = new Set(
  'personnr pnr samordningsnr telefon telefonen tel tfn mobil mobilen mobiltelefon mobilnr telnr mejl mejlen mejlet mejladress mejladressen mail mailen mailet mailadress mailadressen epost epostadress epostadressen adress adressen'.split(
    ' ',
  ),
);

function isNumberCompound(word: string): boolean {
  for (const suffix of NUMBER_SUFFIXES) if (word.length > suffix.length + 1 && word.endsWith(suffix)) return true;
  return false;
}

function classify(word: string): Ctx {
  const known = WORDS.get(word);
  if (known !== undefined) return known;
  for (const suffix of NUMBER_SUFFIXES) {
    if (word.length > suffix.length + 1 && word.endsWith(suffix)) {
      let stem = word.slice(0, word.length - suffix.length);
      if (stem.endsWith('-')) stem = stem.slice(0, -1);
      if (stem.endsWith('s') && stem.length > 3) stem = stem.slice(0, -1);
      for (const [s, ctx] of STEMS) if (stem.endsWith(s)) return ctx;
      return 'negative';
    }
  }
  return 'none';
}

/** two-word phrases: `sista fyra`, `person nummer`, `e post`, `p nr`, `org nr` */
function classifyPair(previous: string, word: string): Ctx {
  if ((previous === 'sista' && word === 'fyra') || (previous === 'fyra' && word === 'sista')) return 'personnummer';
  if ((previous === 'person' || previous === 'pers' || previous === 'p') && (word === 'nummer' || word === 'numret' || word === 'nr')) return 'personnummer';
  if (previous === 'e' && (word === 'post' || word === 'postadress' || word === 'postadressen' || word === 'posten' || word === 'mail' || word === 'mejl')) return 'email';
  if (previous === 'org' && word === 'nr') return 'negative';
  return 'none';
}

const UNITS = new Set(
  (
    'mg milligram mikrogram µg ml milliliter cl dl liter kr kronor sek öre år års åring grader procent st stycken gånger ggr timmar timme minuter ' +
    'sekunder dagar veckor månader kg kilo gram hg mmhg mmol cm mm km meter enheter tabletter tablett kapslar poäng slag'
  ).split(' '),
);

interface Word {
  text: string;
  start: number;
  end: number;
}

/**
 * The words of text[from, to), lower-cased, into `out`; returns where the last sentence in it
 * starts (`from` if none does), or with `first` where the first one ends (`to` if none does).
 */
function wordsIn(text: string, from: number, to: number, out: Word[], first = false): number {
  let sentenceStart = from;
  let sentenceEnd = to;
  let k = from;
  while (k < to) {
    const c = text.charCodeAt(k);
    if (isWordChar(c)) {
      let e = k + 1;
      while (e < to && isWordChar(text.charCodeAt(e))) e++;
      out.push({ text: text.slice(k, e).toLowerCase(), start: k, end: e });
      k = e;
      continue;
    }
    if (c === 10 || ((c === 46 || c === 33 || c === 63) && k + 1 < text.length && isSpace(text.charCodeAt(k + 1)))) {
      sentenceStart = k + 1;
      if (first) {
        sentenceEnd = k;
        break;
      }
    }
    k++;
  }
  return first ? sentenceEnd : sentenceStart;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 0xa0;
}

/** the context of the identifier candidate text[start, end) */
export function contextAround(text: string, start: number, end: number): ContextScore {
  const before: Word[] = [];
  const from = Math.max(0, start - BEFORE);
  // start the window on a word boundary
  let k = from;
  while (k > 0 && k < start && isWordChar(text.charCodeAt(k - 1)) && isWordChar(text.charCodeAt(k))) k++;
  const sentenceStart = wordsIn(text, k, start, before);

  const score: ContextScore = { before: 'none', beforeInSentence: false, negativeBefore: false, after: 'none', unitAfter: false };
  let numberSince = false; // a number between the current word and the candidate
  for (let i = before.length - 1; i >= 0; i--) {
    const w = before[i]!;
    let ctx = classify(w.text);
    if (i > 0) {
      const pair = classifyPair(before[i - 1]!.text, w.text);
      if (pair !== 'none') ctx = pair;
    }
    if (ctx === 'negative') {
      if (!numberSince && w.start >= sentenceStart && start - w.end <= NEGATIVE_BEFORE) score.negativeBefore = true;
    } else if (ctx !== 'none' && score.before === 'none' && !numberSince) {
      // `född 1932. 070…`, `personnummer 850709-9805 och 070…`: a word followed by another
      // number speaks about that one
      score.before = ctx;
      score.beforeInSentence = w.start >= sentenceStart;
    }
    if (isNumberWord(w.text)) numberSince = true;
  }

  const after: Word[] = [];
  const to = Math.min(text.length, end + AFTER);
  wordsIn(text, end, to, after, true);
  let next = end;
  while (next < to && (text.charCodeAt(next) === 32 || text.charCodeAt(next) === 0xa0)) next++;
  if (next < to && (text.charCodeAt(next) === 37 /* % */ || text.charCodeAt(next) === 0xb0) /* ° */) score.unitAfter = true;
  for (let i = 0; i < after.length; i++) {
    const w = after[i]!;
    if (i === 0 && UNITS.has(w.text) && onlySpaceOrComma(text, end, w.start)) score.unitAfter = true;
    let ctx = classify(w.text);
    if (i > 0) {
      const pair = classifyPair(after[i - 1]!.text, w.text);
      if (pair !== 'none') ctx = pair;
    }
    // after a number only the names of identifiers speak about it (`… är mitt telefonnummer`, not
    // `…, hon är född 1932`); the words for what else a number is come before it, units are above
    if (
      ctx !== 'none' &&
      ctx !== 'negative' &&
      ctx !== 'generic' &&
      (NAMES.has(w.text) || isNumberCompound(w.text) || (i > 0 && classifyPair(after[i - 1]!.text, w.text) !== 'none'))
    ) {
      score.after = ctx;
      break;
    }
  }
  return score;
}

function onlySpaceOrComma(text: string, from: number, to: number): boolean {
  if (to - from > 2) return false;
  for (let k = from; k < to; k++) {
    const c = text.charCodeAt(k);
    if (!isSpace(c) && c !== 44) return false;
  }
  return true;
}

function isNumberWord(word: string): boolean {
  const c = word.charCodeAt(0);
  if (c >= 48 && c <= 57) return true;
  return word !== 'en' && word !== 'ett' && parseNumberWord(word) >= 0;
}
