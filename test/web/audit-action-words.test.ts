/**
 * Every action of the audit catalogue (src/audit/catalogue.ts) is said in words on the auditor's
 * page, in English and in Swedish (web/src/features/audit/i18n.ts): a log entry shown by its code
 * alone (`review.read`) tells an auditor nothing. The dictionary is read as text, as
 * error-messages.test.ts reads the errors'.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AUDIT_CATALOGUE } from '../../src/audit/catalogue.js';

const dictionary = readFileSync(new URL('../../../web/src/features/audit/i18n.ts', import.meta.url), 'utf8');

/** the actions one language's `actions` block gives words to */
function worded(lang: 'en' | 'sv'): Map<string, string> {
  const start = dictionary.search(new RegExp(`const ${lang}\\b[^=]*= \\{`));
  assert.ok(start >= 0, `a dictionary for ${lang}`);
  const block = dictionary.slice(dictionary.indexOf('\n  actions: {', start), dictionary.indexOf('\n  },', dictionary.indexOf('\n  actions: {', start)));
  return new Map([...block.matchAll(/^\s*'([a-z.-]+)':\s*'((?:[^'\\]|\\.)*)'/gm)].map((m) => [m[1]!, m[2]!]));
}

const actions = Object.keys(AUDIT_CATALOGUE);

test('the catalogue is read', () => {
  assert.ok(actions.includes('recording.play') && actions.includes('review.read'));
  assert.ok(actions.length >= 70, `${actions.length} actions`);
});

for (const lang of ['en', 'sv'] as const) {
  test(`every audit action has words in ${lang === 'en' ? 'English' : 'Swedish'}, and none is for an action the catalogue lacks`, () => {
    const words = worded(lang);
    assert.deepEqual(
      actions.filter((a) => !words.has(a)),
      [],
    );
    assert.deepEqual(
      [...words.keys()].filter((a) => !actions.includes(a)),
      [],
    );
  });
}

test('the Swedish words are not the English ones', () => {
  const en = worded('en');
  assert.deepEqual(
    [...worded('sv')].filter(([a, w]) => en.get(a) === w).map(([a]) => a),
    [],
  );
});
