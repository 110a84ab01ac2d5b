/**
 * Runs last (scripts/run-tests.js): every data directory the suite created is searched for audio
 * headers and for the synthetic identifiers the fixtures speak and write into sidecars and names.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { suiteRoot } from './helpers.js';

const AUDIO_SIGNATURES: [string, RegExp][] = [
  ['WAV header', /RIFF[\s\S]{4}WAVE/],
  ['RF64 header', /RF64[\s\S]{4}WAVE/],
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ID3 signature is binary: a version byte 2-4 and a zero revision
  ['ID3 tag', /ID3[\x02-\x04]\x00/],
  ['LAME encoder tag', /LAME3\.\d/],
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the Xing header's flags field starts with zero bytes
  ['Xing header', /Xing\x00\x00\x00/],
];

// the fixtures' synthetic personnummer have birth numbers 980-989; phone numbers are 070-174 06 xx;
// written with any separator the detector reads (`_`, `/`, `.` as well as `-`, `+` and a space).
// A run of digits inside a hex string (hashes in the audit log and blind indexes, about one in
// 10,000 SHA-256 digests matches) is not an identifier: matches must not touch a hex digit.
const PERSONNUMMER = /(?<![0-9a-fA-F])(?:19|20)?\d{6}[-+ _/.]?98\d{2}(?![0-9a-fA-F])/g;
const PHONE = /(?:\+46|0046|0)[ _/.-]?70[ _/.-]?174[ _/.-]?06[ _/.-]?\d{2}|(?:\+46|0046|0)701740[0-9]{3}/;

// a personnummer starts with a real date (a samordningsnummer adds 60 to the day); random bytes
// in a browser's own databases matched the digit pattern and the check digit once ("872575-9875")
function dateValid(tenDigits: string): boolean {
  const month = Number(tenDigits.slice(2, 4));
  const day = Number(tenDigits.slice(4, 6)) % 60;
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

function luhnValid(tenDigits: string): boolean {
  let sum = 0;
  for (let i = 0; i < 10; i++) {
    let d = Number(tenDigits[i]) * (i % 2 === 0 ? 2 : 1);
    if (d > 9) d -= 9;
    sum += d;
  }
  return sum % 10 === 0;
}

async function* files(dir: string): AsyncGenerator<string> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.isFile()) yield p;
  }
}

it('no data directory holds plaintext audio or an identifier', async () => {
  const dataRoot = join(suiteRoot(), 'data');
  const exists = await stat(dataRoot).then(
    () => true,
    () => false,
  );
  assert.ok(exists, `the suite created no data directories under ${dataRoot}`);
  let scanned = 0;
  const findings: string[] = [];
  for await (const file of files(dataRoot)) {
    const text = (await readFile(file)).toString('latin1');
    scanned += 1;
    for (const [what, re] of AUDIO_SIGNATURES) if (re.test(text)) findings.push(`${file}: ${what}`);
    for (const m of text.matchAll(PERSONNUMMER)) {
      const digits = m[0].replace(/\D/g, '');
      if (dateValid(digits.slice(-10)) && luhnValid(digits.slice(-10)))
        findings.push(`${file}: a personnummer (${JSON.stringify(text.slice(Math.max(0, m.index! - 24), m.index! + m[0].length + 24))})`);
    }
    if (PHONE.test(text)) findings.push(`${file}: a phone number`);
  }
  assert.ok(scanned > 50, `only ${scanned} files scanned`);
  assert.deepEqual(findings, []);
});
