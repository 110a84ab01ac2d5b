/**
 * Swedish numbers as speech-to-text writes them: number words (one word or compounds) to digits,
 * runs of tokens with their source offsets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { numberRuns, parseNumberWord, spokenDigits, GAP_COMMA, GAP_SEPARATOR } from '../../src/pii/numbers.js';

test('number words: units, teens, tens and their short forms', () => {
  const words: [string, number][] = [
    ['noll', 0],
    ['ett', 1],
    ['en', 1],
    ['två', 2],
    ['tre', 3],
    ['fyra', 4],
    ['fem', 5],
    ['sex', 6],
    ['sju', 7],
    ['åtta', 8],
    ['nio', 9],
    ['tio', 10],
    ['elva', 11],
    ['tolv', 12],
    ['tretton', 13],
    ['fjorton', 14],
    ['femton', 15],
    ['sexton', 16],
    ['sjutton', 17],
    ['arton', 18],
    ['nitton', 19],
    ['tjugo', 20],
    ['trettio', 30],
    ['tretti', 30],
    ['fyrtio', 40],
    ['fyrti', 40],
    ['femtio', 50],
    ['femti', 50],
    ['sextio', 60],
    ['sexti', 60],
    ['sjuttio', 70],
    ['sjutti', 70],
    ['åttio', 80],
    ['åtti', 80],
    ['nittio', 90],
    ['nitti', 90],
    ['hundra', 100],
    ['tusen', 1000],
  ];
  for (const [word, value] of words) assert.equal(parseNumberWord(word), value, word);
});

test('number words: compounds written as one word', () => {
  const words: [string, number][] = [
    ['åttiofem', 85],
    ['nittioåtta', 98],
    ['tjugoett', 21],
    ['tjugoen', 21],
    ['trettiotre', 33],
    ['sextiosex', 66],
    ['femtifem', 55],
    ['åttifem', 85],
    ['nittonhundraåttiofem', 1985],
    ['nittonhundra', 1900],
    ['tvåtusenfem', 2005],
    ['tvåtusentjugofyra', 2024],
    ['etthundrasjuttiofyra', 174],
    ['hundrafyrtio', 140],
    ['sjuhundrafyrtio', 740],
    ['tusenfemhundra', 1500],
    ['tretusen', 3000],
    ['nittonhundranio', 1909],
    ['tolvhundra', 1200],
    ['tjugohundrasju', 2007],
  ];
  for (const [word, value] of words) assert.equal(parseNumberWord(word), value, word);
});

test('number words: case-insensitive, and words that are no number', () => {
  assert.equal(parseNumberWord('Åttiofem'), 85);
  assert.equal(parseNumberWord('NITTONHUNDRAÅTTIOFEM'), 1985);
  assert.equal(parseNumberWord('Noll'), 0);
  for (const word of ['femfem', 'nollsju', 'fyrafyra', 'tjugotjugo', 'hundrahundra', 'tiotre', 'fems', 'tretto', 'tjugonoll', 'sexa', 'enkel', 'tresteg', 'e', ''])
    assert.equal(parseNumberWord(word), -1, word);
});

test('a spoken personnummer becomes its digits, each token keeping its offsets', () => {
  const text = 'Det är nitton åttiofem noll sju noll nio nio åtta noll fem.';
  const [run, ...rest] = spokenDigits(text);
  assert.equal(rest.length, 0);
  assert.equal(run!.digits, '198507099805');
  assert.equal(text.slice(run!.start, run!.end), 'nitton åttiofem noll sju noll nio nio åtta noll fem');
  assert.deepEqual(
    run!.tokens.map((t) => [t.digits, text.slice(t.start, t.end)]),
    [
      ['19', 'nitton'],
      ['85', 'åttiofem'],
      ['0', 'noll'],
      ['7', 'sju'],
      ['0', 'noll'],
      ['9', 'nio'],
      ['9', 'nio'],
      ['8', 'åtta'],
      ['0', 'noll'],
      ['5', 'fem'],
    ],
  );
});

test('commas and hyphens separate tokens of one run; other punctuation and words end it', () => {
  const text = 'noll sju noll, ett sju fyra; 070-174 06 05. Sen 14.30 och 38,5 grader';
  const runs = spokenDigits(text);
  // `_`, `/` and `.` straight between digits join them like a space (`14.30`), a decimal comma does not
  assert.deepEqual(
    runs.map((r) => r.digits),
    ['070174', '0701740605', '1430', '38', '5'],
  );
  assert.deepEqual(
    numberRuns('a 19121212_1212 b 12.12.12-1212 c 070.174.06.05 d 12 / 5').map((r) =>
      r.tokens.map((t) => (t.kind === 'number' ? `${t.digits}${t.gap & GAP_SEPARATOR ? '^' : ''}` : t.kind)),
    ),
    [['19121212', '1212^'], ['12', '12^', '12^', 'dash', '1212'], ['070', 'dash', '174', '06^', '05^'], ['12'], ['5']],
  );
  const first = numberRuns(text)[0]!;
  assert.equal(first.tokens[3]!.gap & GAP_COMMA, GAP_COMMA);
  const written = numberRuns(text)[1]!;
  assert.deepEqual(
    written.tokens.map((t) => t.kind),
    ['number', 'dash', 'number', 'number', 'number'],
  );
});

test('mixed digits and words, compound years, `plus`', () => {
  assert.deepEqual(
    spokenDigits('född nittonhundraåttiofem noll sju noll nio').map((r) => r.digits),
    ['19850709'],
  );
  assert.deepEqual(
    spokenDigits('år tvåtusenfem').map((r) => r.digits),
    ['2005'],
  );
  assert.deepEqual(
    spokenDigits('070 ett sju fyra 06 05').map((r) => r.digits),
    ['0701740605'],
  );
  const run = numberRuns('ring plus fyrtiosex sjuttio')[0]!;
  assert.deepEqual(
    run.tokens.map((t) => [t.kind, t.digits]),
    [
      ['plus', ''],
      ['number', '46'],
      ['number', '70'],
    ],
  );
  const dashed = numberRuns('åttiofem noll sju noll nio streck nio åtta noll fem')[0]!;
  assert.equal(dashed.tokens.filter((t) => t.kind === 'dash').length, 1);
});

test('a year said in parts adds up: nitton hundra åttiofem, tvåtusen fem', () => {
  assert.deepEqual(
    spokenDigits('nitton hundra åttiofem').map((r) => r.digits),
    ['1985'],
  );
  assert.deepEqual(
    spokenDigits('nittonhundra åttiofem').map((r) => r.digits),
    ['1985'],
  );
  assert.deepEqual(
    spokenDigits('tvåtusen fem').map((r) => r.digits),
    ['2005'],
  );
  // but digits said one by one stay one by one
  assert.deepEqual(
    spokenDigits('noll sju noll').map((r) => r.digits),
    ['070'],
  );
});

test('digit groups glued to letters are tokens marked glued, in runs of their own; `en`/`ett` alone are weak', () => {
  const glued = numberRuns('500mg och A12 och covid19 och pnr19121212-1212a');
  assert.deepEqual(
    glued.map((r) => r.tokens.map((t) => [t.kind, t.digits, t.glued])),
    [
      [['number', '500', true]],
      [['number', '12', true]],
      [['number', '19', true]],
      [
        ['number', '19121212', true],
        ['dash', '', false],
        ['number', '1212', true],
      ],
    ],
  );
  const run = numberRuns('ring en gång')[0]!;
  assert.equal(run.tokens[0]!.weak, true);
  const tokens = numberRuns('nittioett')[0]!.tokens;
  assert.equal(tokens[0]!.weak, false);
});

test('offsets are UTF-16 indices, also after characters outside the BMP', () => {
  const text = '😀 ring 070 174';
  const [run] = spokenDigits(text);
  assert.equal(run!.start, text.indexOf('070'));
  assert.equal(text.slice(run!.start, run!.end), '070 174');
});

test('skipped spans (e-mail addresses) hold no tokens', () => {
  const text = 'anna1985@example.se 12';
  const runs = numberRuns(text, [[0, 19]]);
  assert.deepEqual(
    runs.map((r) => r.tokens.map((t) => t.digits)),
    [['12']],
  );
});
