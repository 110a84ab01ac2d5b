/**
 * The interface's text and background colour pairs (web/src/styles.css) against WCAG 2.1's
 * contrast minimum for normal text, 4.5:1 (success criterion 1.4.3). The colours are read from the
 * stylesheet, so a changed colour is checked as it is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const css = readFileSync(new URL('../../../web/src/styles.css', import.meta.url), 'utf8');
const vars = Object.fromEntries([...css.matchAll(/--([a-z-]+):\s*(#[0-9a-f]{3,6})\s*;/gi)].map((m) => [m[1]!, m[2]!]));

function colour(name: string): string {
  const c = name.startsWith('#') ? name : vars[name];
  assert.ok(c, `styles.css defines --${name}`);
  return c;
}

function luminance(hex: string): number {
  const h = hex.length === 4 ? [...hex.slice(1)].map((x) => x + x).join('') : hex.slice(1);
  const [r, g, b] = [0, 2, 4].map((i) => {
    const v = parseInt(h.slice(i, i + 2), 16) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(colour(a)), luminance(colour(b))].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

// [text, background]: body text, hints and links on the page and on cards, the header, buttons,
// errors, warnings (and the open-alerts banner with its link), break-the-glass, the current transcript word, verified and in-force states
const PAIRS: Array<[string, string]> = [
  ['ink', 'bg'],
  ['ink', 'card'],
  ['muted', 'bg'],
  ['muted', 'card'],
  ['muted', '#f1f2f4'],
  ['brand', 'card'],
  ['brand', 'bg'],
  ['brand-ink', 'brand'],
  ['#fff', 'danger'],
  ['danger', 'danger-bg'],
  ['danger', 'card'],
  ['ink', 'warn-bg'],
  ['brand', 'warn-bg'],
  ['muted', 'warn-bg'],
  ['ink', '#eceff3'],
  ['#000', 'focus'],
  ['#0b6b2b', 'card'],
  ['#0b6b2b', '#e6f4ea'],
  ['#7a4d00', 'card'],
];

test('every text colour on its background meets WCAG AA (4.5:1)', () => {
  for (const c of ['#fff', '#000', '#0b6b2b', '#7a4d00', '#e6f4ea', '#f1f2f4', '#eceff3']) assert.ok(css.includes(c), `styles.css still uses ${c}`);
  const failing = PAIRS.map(([t, b]) => ({ t, b, ratio: contrast(t, b) })).filter((p) => p.ratio < 4.5);
  assert.deepEqual(failing, []);
});
