/**
 * The labelled sentence set for the identifier detector: the parser, and the labels themselves.
 * Every labelled personnummer, samordningsnummer and phone number (written or spoken in Swedish
 * words) must be valid and synthetic, and no synthetic identifier may be left unlabelled.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Personnummer from 'personnummer';
import { isValidPhoneNumber, parsePhoneNumberFromString } from 'libphonenumber-js';
import { loadLabelledSet, parseLabelledSet, LabelledSetError, type EntityType, type LabelledSentence } from '../../bench/labelled-set.js';

// personnummer is CommonJS (`module.exports = Personnummer`) with types that declare an ES default
// export, so under NodeNext the default import is typed as the module object: retype it.
const Pnr = Personnummer as unknown as typeof Personnummer.default;

// ---- the parser ------------------------------------------------------------------------------

test('parser: plain sentences, comments, blank lines and line numbers', () => {
  const set = parseLabelledSet('# heading\n\nTack för samtalet.\r\n  # indented comment\n   Hej då.  \n');
  assert.deepEqual(set, [
    { text: 'Tack för samtalet.', entities: [], line: 3 },
    { text: 'Hej då.', entities: [], line: 5 },
  ]);
});

test('parser: entity spans index the sentence without markup', () => {
  const [s] = parseLabelledSet('Mitt nummer är [[phone:070-174 06 05]] och mejlen [[email:a.b@example.se]].');
  assert.ok(s);
  assert.equal(s.text, 'Mitt nummer är 070-174 06 05 och mejlen a.b@example.se.');
  assert.deepEqual(s.entities, [
    { type: 'phone', start: 15, end: 28 },
    { type: 'email', start: 40, end: 54 },
  ]);
  assert.equal(s.text.slice(15, 28), '070-174 06 05');
  assert.equal(s.text.slice(40, 54), 'a.b@example.se');
});

test('parser: entities at the start and end, adjacent, with colons and brackets inside', () => {
  const [s] = parseLabelledSet('[[personnummer:19850709-9805]][[samordningsnummer:850769-9802]] (<[[email:x:y@example.org]]>)');
  assert.ok(s);
  assert.equal(s.text, '19850709-9805850769-9802 (<x:y@example.org>)');
  assert.deepEqual(
    s.entities.map((e) => [e.type, s.text.slice(e.start, e.end)]),
    [
      ['personnummer', '19850709-9805'],
      ['samordningsnummer', '850769-9802'],
      ['email', 'x:y@example.org'],
    ],
  );
  const [t] = parseLabelledSet('ring [[phone:plus fyrtiosex sjuttio ett sju fyra noll sex noll fem]]');
  assert.ok(t);
  assert.deepEqual(t.entities, [{ type: 'phone', start: 5, end: t.text.length }]);
});

test('parser: malformed markup and unknown types throw with the line number', () => {
  const cases: [string, RegExp][] = [
    ['ok\n\nMitt nummer [[phone:070-174 06 05 saknar slut', /line 3: .*not closed/],
    ['# x\n[[telefon:070-174 06 05]]', /line 2: unknown entity type 'telefon'/],
    ['[[Phone:070-174 06 05]]', /line 1: unknown entity type 'Phone'/],
    ['a\nb\nc\n[[070-174 06 05]]', /line 4: .*no 'type:' prefix/],
    ['[[email:]]', /line 1: empty email entity/],
    ['[[email: a@example.se]]', /line 1: .*whitespace/],
    ['[[email:a@example.se ]]', /line 1: .*whitespace/],
    ['x\nfel ]] här', /line 2: ']]' without a matching '\[\['/],
    ['[[phone:[[phone:0701740605]]', /line 1: nested/],
  ];
  for (const [source, message] of cases) {
    assert.throws(
      () => parseLabelledSet(source),
      (err: unknown) => {
        assert.ok(err instanceof LabelledSetError, `${source}: not a LabelledSetError`);
        assert.match(err.message, message, source);
        return true;
      },
    );
  }
  assert.throws(
    () => parseLabelledSet('rad\nrad\n[[phone:1'),
    (err: unknown) => err instanceof LabelledSetError && err.line === 3,
  );
});

// ---- Swedish number words --------------------------------------------------------------------

const UNITS: Record<string, number> = { noll: 0, ett: 1, en: 1, två: 2, tre: 3, fyra: 4, fem: 5, sex: 6, sju: 7, åtta: 8, nio: 9 };
const TEENS: Record<string, number> = {
  tio: 10,
  elva: 11,
  tolv: 12,
  tretton: 13,
  fjorton: 14,
  femton: 15,
  sexton: 16,
  sjutton: 17,
  arton: 18,
  aderton: 18,
  nitton: 19,
};
const TENS: Record<string, number> = {
  tjugo: 20,
  trettio: 30,
  tretti: 30,
  fyrtio: 40,
  fyrti: 40,
  femtio: 50,
  femti: 50,
  sextio: 60,
  sexti: 60,
  sjuttio: 70,
  sjutti: 70,
  åttio: 80,
  åtti: 80,
  nittio: 90,
  nitti: 90,
};
type Morpheme = { word: string; kind: 'U' | 'T' | 'D' | 'H' | 'K'; value: number };
const MORPHEMES: Morpheme[] = [
  ...Object.entries(UNITS).map(([word, value]): Morpheme => ({ word, kind: 'U', value })),
  ...Object.entries(TEENS).map(([word, value]): Morpheme => ({ word, kind: 'T', value })),
  ...Object.entries(TENS).map(([word, value]): Morpheme => ({ word, kind: 'D', value })),
  { word: 'hundra', kind: 'H', value: 100 } satisfies Morpheme,
  { word: 'tusen', kind: 'K', value: 1000 } satisfies Morpheme,
].sort((a, b) => b.word.length - a.word.length); // longest first: 'sjuttio' before 'sju'
// (below 100)? tusen, (below 100)? hundra, below 100 — each part optional; noll only on its own
const NUMBER_SHAPE = /^(?:(?:[UT]|DU?)?K)?(?:(?:[UT]|DU?)?H)?(?:[UT]|DU?)?$/;

/** The value of one Swedish number word ('nittioåtta' → 98, 'nittonhundraåttiofem' → 1985), or undefined. */
function numberWord(word: string): number | undefined {
  const w = word.toLowerCase();
  if (w === 'noll') return 0;
  let shape = '';
  let total = 0;
  let current = 0;
  let i = 0;
  while (i < w.length) {
    const m = MORPHEMES.find((x) => w.startsWith(x.word, i));
    if (!m || m.word === 'noll') return undefined;
    const { kind, value } = m;
    shape += kind;
    if (kind === 'H') current = (current || 1) * 100;
    else if (kind === 'K') {
      total += (current || 1) * 1000;
      current = 0;
    } else current += value;
    i += m.word.length;
  }
  return shape !== '' && NUMBER_SHAPE.test(shape) ? total + current : undefined;
}

const HAS_LETTER = /\p{L}/u;

/**
 * The digits an entity stands for: written forms keep their digits (and a '+' separator or
 * international prefix); spoken forms are read word by word, so 'nitton åttiofem noll sju' is
 * '19' '85' '0' '7' and 'plus fyrtiosex' is '+46'. Throws on a word that is not a number.
 */
function entityDigits(text: string): string {
  if (!HAS_LETTER.test(text)) return text.replace(/[^\d+]/g, '');
  let out = '';
  for (const token of text.split(/[\s,.;:\-–()]+/).filter((t) => t !== '')) {
    if (/^\+?\d+$/.test(token)) out += token;
    else if (token.toLowerCase() === 'plus') out += '+';
    else {
      const v = numberWord(token);
      if (v === undefined) throw new Error(`'${token}' in '${text}' is not a Swedish number word`);
      out += String(v);
    }
  }
  return out;
}

test('number words: compounds, colloquial tens, years and hundreds', () => {
  const cases: [string, number][] = [
    ['noll', 0],
    ['sju', 7],
    ['tolv', 12],
    ['nittioåtta', 98],
    ['nittiåtta', 98],
    ['åttiofem', 85],
    ['åttifem', 85],
    ['tjugotre', 23],
    ['tjugoett', 21],
    ['sjuttiofyra', 74],
    ['fyrtiosex', 46],
    ['tjugo', 20],
    ['sextio', 60],
    ['nittonhundraåttiofem', 1985],
    ['etthundrasjuttiofyra', 174],
    ['hundrafyrtio', 140],
    ['tvåtusenfjorton', 2014],
  ];
  for (const [w, v] of cases) assert.equal(numberWord(w), v, w);
  for (const w of ['femfem', 'nollsju', 'fyrtiotjugo', 'hundrahundra', 'personnummer', 'sjuttioelva']) assert.equal(numberWord(w), undefined, w);
  assert.equal(entityDigits('nitton åttiofem noll sju noll nio nittioåtta noll fem'), '198507099805');
  assert.equal(entityDigits('åttiofem, noll sju, noll nio, nittioåtta noll fem'), '8507099805');
  assert.equal(entityDigits('19 85 noll sju noll nio 98 05'), '198507099805');
  assert.equal(entityDigits('plus fyrtiosex sjuttio ett sju fyra noll sex noll fem'), '+46701740605');
  assert.equal(entityDigits('070 etthundrasjuttiofyra noll sex noll fem'), '0701740605');
  assert.equal(entityDigits('850709+9805'), '850709+9805');
  assert.equal(entityDigits('85 07 09 - 98 05'), '8507099805');
});

// ---- the synthetic ranges --------------------------------------------------------------------

/** A personnummer-shaped digit string in the normal form the personnummer package reads. */
function personnummerForm(digits: string): string | undefined {
  const m = /^(\d{6}|\d{8})(\+?)(\d{4})$/.exec(digits);
  if (!m) return undefined;
  if (m[2] === '+' && m[1]!.length !== 6) return undefined;
  return `${m[1]}${m[2]}${m[3]}`;
}

/** Birth numbers 980–989: the synthetic range the project uses. */
function syntheticSerial(form: string): boolean {
  const tail = form.replace('+', '').slice(-4);
  return tail.startsWith('98');
}

/** The PTS series reserved for fiction, as E.164. */
const FICTION_PHONE = /^\+46(?:7017406(?:0[5-9]|[1-9]\d)|8465004\d\d|3139006\d\d|4062804\d\d|9803192\d\d)$/;

function phoneE164(s: string): string | undefined {
  const p = parsePhoneNumberFromString(s, 'SE');
  return p?.isValid() ? p.number : undefined;
}

const EMAIL = /^[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)*(example\.se|example\.com|example\.org|exempel\.se)$/i;

// ---- the real file ---------------------------------------------------------------------------

type Which = 'labelled' | 'heldout';
const cached = new Map<Which, Promise<LabelledSentence[]>>();
function set(which: Which = 'labelled'): Promise<LabelledSentence[]> {
  if (!cached.has(which)) cached.set(which, loadLabelledSet(which));
  return cached.get(which)!;
}

function entityText(s: LabelledSentence, e: LabelledSentence['entities'][number]): string {
  return s.text.slice(e.start, e.end);
}

test('labelled set: size, counts per type and hard negatives', async () => {
  const sentences = await set();
  assert.ok(sentences.length >= 300, `${sentences.length} sentences`);
  const counts: Record<EntityType, number> = { personnummer: 0, samordningsnummer: 0, phone: 0, email: 0 };
  for (const s of sentences) for (const e of s.entities) counts[e.type] += 1;
  assert.ok(counts.personnummer >= 40, `personnummer: ${counts.personnummer}`);
  assert.ok(counts.phone >= 40, `phone: ${counts.phone}`);
  assert.ok(counts.samordningsnummer >= 25, `samordningsnummer: ${counts.samordningsnummer}`);
  assert.ok(counts.email >= 25, `email: ${counts.email}`);
  const negatives = sentences.filter((s) => s.entities.length === 0).length;
  assert.ok(negatives >= 100, `${negatives} sentences without an identifier`);
  const texts = new Set<string>();
  for (const s of sentences) {
    assert.ok(!texts.has(s.text), `line ${s.line}: duplicate sentence`);
    texts.add(s.text);
  }
});

/**
 * Runs of numbers outside the labelled spans: digit groups and Swedish number words separated only
 * by spaces, commas or hyphens. Any token-aligned stretch of a run that reads as a valid synthetic
 * personnummer or as a fiction phone number is an identifier someone forgot to label.
 */
function unlabelledRuns(s: LabelledSentence): string[][] {
  let masked = '';
  let pos = 0;
  for (const e of s.entities) {
    masked += `${s.text.slice(pos, e.start)} § `;
    pos = e.end;
  }
  masked += s.text.slice(pos);
  const runs: string[][] = [];
  let run: string[] = [];
  const tokens = masked.split(/(\s*[,\-–]?\s+|\s*[,\-–]\s*)/);
  for (let i = 0; i < tokens.length; i += 2) {
    const tok = (tokens[i] ?? '').replace(/^[(<"]+|[.!?:;)>"]+$/g, '');
    let digits: string | undefined;
    if (/^\+?\d+$/.test(tok)) digits = tok;
    else if (tok.toLowerCase() === 'plus') digits = '+';
    else {
      const v = numberWord(tok);
      if (v !== undefined) digits = String(v);
    }
    const raw = tokens[i] ?? '';
    if (digits !== undefined) run.push(digits);
    if (digits === undefined || /[.!?:;)>]$/.test(raw)) {
      if (run.length > 0) runs.push(run);
      run = [];
    }
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

// the same checks on the set the detector was developed against and on the held-out set
for (const which of ['labelled', 'heldout'] as const) {
  test(`${which} set: spans are trimmed, ordered and free of trailing punctuation`, async () => {
    for (const s of await set(which)) {
      let last = 0;
      for (const e of s.entities) {
        const t = entityText(s, e);
        assert.ok(e.start >= last && e.end > e.start, `line ${s.line}: overlapping or empty entity`);
        last = e.end;
        // an area code in brackets, `(070) 174 06 11`, belongs to the number
        const body = e.type === 'phone' ? t.replace(/^\(0\d{1,3}\)/, '0') : t;
        assert.doesNotMatch(body, /^[\s,.;:!?()<>"'-]|[\s,.;:!?()<>"'-]$/, `line ${s.line}: '${t}' has leading or trailing punctuation`);
        // an entity is a whole token: it neither starts nor ends inside a word or a digit run
        const before = s.text[e.start - 1] ?? ' ';
        const after = s.text[e.end] ?? ' ';
        assert.doesNotMatch(before, /[\p{L}\d@+]/u, `line ${s.line}: '${t}' starts inside a token`);
        assert.doesNotMatch(after, /[\p{L}\d@]/u, `line ${s.line}: '${t}' ends inside a token`);
      }
    }
  });

  test(`${which} set: every personnummer and samordningsnummer is valid, synthetic and of its type`, async () => {
    for (const s of await set(which)) {
      for (const e of s.entities) {
        if (e.type !== 'personnummer' && e.type !== 'samordningsnummer') continue;
        const t = entityText(s, e);
        const form = personnummerForm(entityDigits(t));
        assert.ok(form, `line ${s.line}: '${t}' does not have 10 or 12 digits`);
        assert.ok(Pnr.valid(form), `line ${s.line}: '${t}' (${form}) is not a valid personnummer`);
        assert.equal(Pnr.parse(form).isCoordinationNumber(), e.type === 'samordningsnummer', `line ${s.line}: '${t}' is labelled ${e.type}`);
        assert.ok(syntheticSerial(form), `line ${s.line}: '${t}' has a birth number outside 980–989`);
        if (!HAS_LETTER.test(t)) assert.match(t, /^\d[\d –-]*[-–+]?[\d ]*\d$/, `line ${s.line}: '${t}' is not a written personnummer`);
      }
    }
  });

  test(`${which} set: every phone number is valid for SE and in a series reserved for fiction`, async () => {
    for (const s of await set(which)) {
      for (const e of s.entities) {
        if (e.type !== 'phone') continue;
        const t = entityText(s, e);
        const written = !HAS_LETTER.test(t);
        if (written) assert.ok(isValidPhoneNumber(t, 'SE'), `line ${s.line}: '${t}' is not a valid Swedish phone number`);
        const e164 = phoneE164(written ? t : entityDigits(t));
        assert.ok(e164, `line ${s.line}: '${t}' is not a valid Swedish phone number`);
        assert.match(e164, FICTION_PHONE, `line ${s.line}: '${t}' is not in a PTS fiction series`);
      }
    }
  });

  test(`${which} set: every e-mail address is well formed and on an example domain`, async () => {
    for (const s of await set(which)) {
      for (const e of s.entities) {
        if (e.type !== 'email') continue;
        const t = entityText(s, e);
        assert.match(t, EMAIL, `line ${s.line}: '${t}'`);
      }
    }
  });

  test(`${which} set: no synthetic identifier is left unlabelled`, async () => {
    const misses: string[] = [];
    for (const s of await set(which)) {
      for (const run of unlabelledRuns(s)) {
        for (let i = 0; i < run.length; i++) {
          let digits = '';
          for (let j = i; j < run.length; j++) {
            digits += run[j];
            const form = personnummerForm(digits);
            if (form && syntheticSerial(form) && Pnr.valid(form)) misses.push(`line ${s.line}: personnummer ${run.slice(i, j + 1).join(' ')}`);
            const e164 = /^\+?\d{7,}$/.test(digits) ? phoneE164(digits) : undefined;
            if (e164 && FICTION_PHONE.test(e164)) misses.push(`line ${s.line}: phone ${run.slice(i, j + 1).join(' ')}`);
          }
        }
      }
      for (const m of s.text.matchAll(/[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*/g)) {
        const inside = s.entities.some((e) => e.type === 'email' && e.start <= m.index && m.index + m[0].length <= e.end);
        if (!inside) misses.push(`line ${s.line}: e-mail ${m[0]}`);
      }
    }
    assert.deepEqual(misses, []);
  });
}

test('held-out set: at least 200 sentences, no duplicates', async () => {
  const sentences = await set('heldout');
  assert.ok(sentences.length >= 200, `${sentences.length} sentences`);
  assert.equal(new Set(sentences.map((x) => x.text)).size, sentences.length, 'duplicate sentence');
});
