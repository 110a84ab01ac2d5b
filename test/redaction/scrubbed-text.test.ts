/**
 * Free text as the audit log and the database keep it (`scrubbedText`), and a transcript's
 * redaction, for the forms issue 16 found slipping through: separators other than a dash or a
 * space, a letter glued after, digits of other scripts, invisible characters, and numbers that are
 * both a personnummer and a phone number (redacted once, found as both).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectIdentifiers } from '../../src/pii/detector.js';
import { findIdentifiers, redactTranscript, scrubbedText, transcriptText } from '../../src/redaction/transcript.js';
import type { Transcript } from '../../src/transcripts/model.js';

test('scrubbedText replaces every written form of an identifier by its label', () => {
  for (const [written, label] of [
    ['19121212-1212', '[PERSONNUMMER]'],
    ['19121212_1212', '[PERSONNUMMER]'],
    ['19121212/1212', '[PERSONNUMMER]'],
    ['12.12.12-1212', '[PERSONNUMMER]'],
    ['１９１２１２１２-１２１２', '[PERSONNUMMER]'],
    ['1912\u200b1212-1212', '[PERSONNUMMER]'],
    ['070_174_06_05', '[TELEFON]'],
    ['070.174.06.05', '[TELEFON]'],
    ['０７０-１７４ ０６ ０５', '[TELEFON]'],
  ]) {
    assert.equal(scrubbedText(`Patient ${written} ringde, se journalen`), `Patient ${label} ringde, se journalen`, written);
  }
  // the glued letter stays: it is not part of the number
  assert.equal(scrubbedText('Patient 19121212-1212a ringde'), 'Patient [PERSONNUMMER]a ringde');
  // a number that is both is replaced once
  assert.equal(scrubbedText('Han sa 0905271474 i går'), 'Han sa [PERSONNUMMER] i går');
  assert.equal(scrubbedText('  '), undefined);
});

test('a number that is both kinds: one label word in the transcript, both kinds among the identifiers found', () => {
  const transcript: Transcript = {
    format: 'verbose_json',
    language: 'sv',
    segments: [
      {
        start: 0,
        end: 3,
        text: 'Han sa 0905271474 i går',
        words: [
          { text: 'Han', start: 0, end: 0.4 },
          { text: 'sa', start: 0.4, end: 0.8 },
          { text: '0905271474', start: 0.8, end: 2.2 },
          { text: 'i', start: 2.2, end: 2.5 },
          { text: 'går', start: 2.5, end: 3 },
        ],
      },
    ],
  };
  const text = transcriptText(transcript);
  const detections = detectIdentifiers(text.text);
  assert.equal(redactTranscript(transcript, text, detections).segments[0]!.text, 'Han sa [PERSONNUMMER] i går');
  assert.deepEqual(
    findIdentifiers(text, detections, 3)
      .map((f) => [f.type, f.value, f.span?.start, f.span?.end])
      .sort(),
    [
      ['personnummer', '200905271474', 0.8, 2.2],
      ['phone', '+46905271474', 0.8, 2.2],
    ],
  );
});
