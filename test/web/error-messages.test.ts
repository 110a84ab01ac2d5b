/**
 * Every error code the server can answer with (src/errors.ts) has a message in the web UI, in
 * Swedish and in English (web/src/shared/i18n/errors.ts). Both files are read as text, so a code
 * added to the catalogue without its words fails here, whatever shape the catalogue takes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const catalogue = readFileSync(new URL('../../../src/errors.ts', import.meta.url), 'utf8');
const messages = readFileSync(new URL('../../../web/src/shared/i18n/errors.ts', import.meta.url), 'utf8');

/** the codes as string literals: 'CV_…' */
const codes = new Set([...catalogue.matchAll(/'(CV_[A-Z0-9_]+)'/g)].map((m) => m[1]!));

/** the codes one language's dictionary gives words to: `CV_…: '…'` between `const <lang>` and the end of that object */
function worded(lang: 'en' | 'sv'): Map<string, string> {
  const start = messages.search(new RegExp(`const ${lang}\\b[^=]*= \\{`));
  assert.ok(start >= 0, `web/src/shared/i18n/errors.ts has a dictionary for ${lang}`);
  const body = messages.slice(start, messages.indexOf('\n}', start));
  return new Map([...body.matchAll(/^\s*(CV_[A-Z0-9_]+):\s*'((?:[^'\\]|\\.)*)'/gm)].map((m) => [m[1]!, m[2]!]));
}

test('the error catalogue is read', () => {
  for (const code of ['CV_NOT_FOUND', 'CV_FORBIDDEN', 'CV_INTERNAL']) assert.ok(codes.has(code), code);
  assert.ok(codes.size >= 40, `only ${codes.size} codes found in src/errors.ts`);
});

for (const lang of ['en', 'sv'] as const) {
  test(`every CV_ code has a message in ${lang === 'en' ? 'English' : 'Swedish'}`, () => {
    const words = worded(lang);
    assert.deepEqual(
      [...codes].filter((c) => !words.has(c)),
      [],
      `codes without words in web/src/shared/i18n/errors.ts (${lang})`,
    );
    assert.deepEqual(
      [...words].filter(([, text]) => text.trim().length < 5).map(([c]) => c),
      [],
      'messages that say nothing',
    );
    // the browser's own code (no answer at all) is the only one the catalogue does not hold
    assert.deepEqual(
      [...words.keys()].filter((c) => !codes.has(c)),
      ['CV_NETWORK'],
      'words for codes the server does not have',
    );
  });
}

test('the Swedish messages are not the English ones', () => {
  const en = worded('en');
  const same = [...worded('sv')].filter(([c, text]) => en.get(c) === text).map(([c]) => c);
  assert.deepEqual(same, []);
});
