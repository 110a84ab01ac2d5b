/** The display forms of identifiers the web UI shows (src/identifiers/display.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPersonnummer, formatPhone } from '../../src/identifiers/display.js';
import { syntheticPersonnummer, syntheticPhone } from '../../src/demo/synthetic-identity.js';
import { normalizePhone } from '../../src/identifiers/normalize.js';

test('a personnummer or samordningsnummer: twelve digits with a hyphen before the last four', () => {
  assert.equal(formatPersonnummer('193710209887'), '19371020-9887');
  assert.equal(formatPersonnummer('19371020-9887'), '19371020-9887');
  assert.equal(formatPersonnummer(' 19371020+9887 '), '19371020-9887');
  // a samordningsnummer: the day plus 60, written alike
  assert.equal(formatPersonnummer('193710809885'), '19371080-9885');
  // ten digits keep their separator ("+": a hundred years or more)
  assert.equal(formatPersonnummer('3710209887'), '371020-9887');
  assert.equal(formatPersonnummer('371020+9887'), '371020+9887');
  for (const seed of [1, 2, 1000]) assert.match(formatPersonnummer(syntheticPersonnummer(seed)), /^\d{8}-\d{4}$/);
});

test('what is not a personnummer is shown as it came', () => {
  for (const v of ['[PERSONNUMMER]', '19371020988', '19371020-98871', '', 'abc']) assert.equal(formatPersonnummer(v), v);
});

test('a Swedish number in its national form, a foreign one internationally', () => {
  assert.equal(formatPhone('+46701740664'), '070-174 06 64');
  assert.equal(formatPhone('0701740664'), '070-174 06 64');
  assert.equal(formatPhone('+4687654321'), '08-765 43 21');
  assert.equal(formatPhone('+46313456789'), '031-345 67 89');
  assert.equal(formatPhone('+442079460958'), '+44 20 7946 0958');
  // the demo's numbers, as stored (E.164), come back as they were written
  for (const seed of [1000, 1001, 1050]) assert.equal(formatPhone(normalizePhone(syntheticPhone(seed))), syntheticPhone(seed));
});

test('what is not a phone number is shown as it came', () => {
  for (const v of ['[TELEFON]', '', '12', 'call me', '+']) assert.equal(formatPhone(v), v);
});
