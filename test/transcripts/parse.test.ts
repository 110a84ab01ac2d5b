/**
 * Transcripts: WebVTT, SRT and whisper JSON into one model, the refusals, and the round trips
 * through canonical JSON and WebVTT. Fixtures are in testdata/transcripts (synthetic Swedish text;
 * its identifiers are synthetic: birth numbers 980–989, phones 070-174 06 xx).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { REPO } from '../helpers.js';
import { ErrorCodes } from '../../src/errors.js';
import {
  MAX_TRANSCRIPT_BYTES,
  detectTranscriptFormat,
  parseTranscript,
  serializeTranscript,
  toWebVtt,
  type Transcript,
  type TranscriptSegment,
} from '../../src/transcripts/index.js';
import { compareSegments, normaliseSpace } from '../../src/transcripts/model.js';

const FIXTURES = join(REPO, 'testdata', 'transcripts');
const fixture = (name: string): Buffer => readFileSync(join(FIXTURES, name));
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** text placed in every refused input: no error message may repeat it */
const PNR = '19800412-9824';
const SECRET_WORDS = [PNR, '19800412', '9824', '070-174', 'Hemligt', 'personnummer'];

function assertInvalid(input: Uint8Array | string, mediaType: string | undefined, expected: RegExp): void {
  const bytes = typeof input === 'string' ? utf8(input) : input;
  assert.throws(
    () => parseTranscript(bytes, mediaType),
    (err: any) => {
      assert.equal(err.code, ErrorCodes.INVALID_TRANSCRIPT);
      assert.match(err.message, expected);
      for (const w of SECRET_WORDS) assert.ok(!err.message.includes(w), `the message "${err.message}" repeats transcript text`);
      return true;
    },
  );
}

const vtt = (body: string) => `WEBVTT\n\n${body}`;

describe('parseTranscript: format detection', () => {
  const cases: [string, string, Transcript['format']][] = [
    ['call.vtt', 'text/vtt', 'webvtt'],
    ['karaoke.vtt', 'text/vtt; charset=utf-8', 'webvtt'],
    ['call.srt', 'application/x-subrip', 'srt'],
    ['call-crlf-bom.srt', 'text/srt', 'srt'],
    ['openai-verbose.json', 'application/json', 'verbose_json'],
    ['whisper-cpp.json', 'application/json; charset=utf-8', 'verbose_json'],
  ];
  for (const [file, type, format] of cases) {
    it(`${file}: from the media type ${type}, and from the content for text/plain or no type`, () => {
      assert.equal(parseTranscript(fixture(file), type).format, format);
      assert.equal(parseTranscript(fixture(file), 'text/plain').format, format);
      assert.equal(parseTranscript(fixture(file)).format, format);
      assert.equal(parseTranscript(fixture(file), 'application/octet-stream').format, format);
      assert.equal(detectTranscriptFormat(fixture(file)), format);
      assert.deepEqual(parseTranscript(fixture(file), type), parseTranscript(fixture(file)));
    });
  }

  it('an SRT cue with comma milliseconds is SRT even without its number line', () => {
    assert.equal(parseTranscript(utf8('00:00:01,000 --> 00:00:02,000\nHej\n')).format, 'srt');
  });

  it('the media type decides over the content: SRT sent as text/vtt is refused', () => {
    assertInvalid(fixture('call.srt'), 'text/vtt', /line 1: missing the WEBVTT header/);
    assertInvalid(fixture('call.vtt'), 'application/x-subrip', /SRT line 1/);
    assertInvalid(fixture('call.vtt'), 'application/json', /not valid JSON/);
  });

  it('content that is none of the three is an unknown format', () => {
    assertInvalid(`Hemligt samtal med ${PNR}\n`, 'text/plain', /unknown format/);
    assertInvalid('', undefined, /unknown format/);
    assertInvalid(`[{"text": "${PNR}"}]`, undefined, /unknown format/);
    assertInvalid(`webvtt\n\n00:01.000 --> 00:02.000\n${PNR}\n`, undefined, /unknown format/);
  });
});

describe('parseTranscript: WebVTT', () => {
  it('reads call.vtt: header language, NOTE/STYLE/REGION skipped, identifiers, settings, voices, tags, entities, order', () => {
    const t = parseTranscript(fixture('call.vtt'), 'text/vtt');
    assert.deepEqual(t, {
      format: 'webvtt',
      language: 'sv',
      segments: [
        { start: 0.5, end: 3.25, speaker: 'Anna', text: 'Hej, du har kommit till vårdcentralen i Åby.' },
        { start: 3.25, end: 6, speaker: 'Erik', text: 'Hej! Jag vill boka en tid hos sjuksköterskan, tack.' },
        // one cue with two voices: two segments with the cue's times
        { start: 6, end: 10, speaker: 'Anna', text: 'Vad är ditt personnummer?' },
        { start: 6, end: 10, speaker: 'Erik', text: `Det är ${PNR}.` },
        // listed before cue 3 in the file: sorted
        { start: 10, end: 13.5, speaker: 'Anna', text: 'Då ringer vi upp dig på 070-174 06 42 & skickar en kallelse.' },
        { start: 13.5, end: 15, text: 'Tack <3 > hejdå\u00a0då \u200eoch\u200f välkommen' },
      ],
    });
  });

  it('reads inline timestamps as word timings (karaoke.vtt)', () => {
    const t = parseTranscript(fixture('karaoke.vtt'));
    assert.deepEqual(t.segments, [
      {
        start: 1,
        end: 3,
        speaker: 'Anna',
        text: 'Hej och välkommen',
        words: [
          { text: 'Hej', start: 1, end: 1.4 },
          { text: 'och', start: 1.5, end: 1.8 },
          { text: 'välkommen', start: 1.8, end: 2.6 },
        ],
      },
      {
        start: 3,
        end: 5,
        speaker: 'Erik',
        // text before the first timestamp starts with the cue; the last word ends with it
        text: 'Jag heter Erik',
        words: [
          { text: 'Jag', start: 3, end: 3.6 },
          { text: 'heter', start: 3.6, end: 4.1 },
          { text: 'Erik', start: 4.1, end: 5 },
        ],
      },
    ]);
  });

  it('accepts mm:ss.ttt, hh:mm:ss.ttt and hours past 99, with or without spaces around the arrow', () => {
    const t = parseTranscript(utf8(vtt('01:02.003 --> 01:02:03.004\na\n\n100:00:00.000-->100:00:01.500 position:10%\nb\n')));
    assert.deepEqual(
      t.segments.map((s) => [s.start, s.end]),
      [
        [62.003, 3723.004],
        [360000, 360001.5],
      ],
    );
  });

  it('reads an old-style header block, a cue right after the header and cues without a blank line between them', () => {
    const t = parseTranscript(utf8('WEBVTT\nKind: captions\n00:00.000 --> 00:01.000\nett\n00:01.000 --> 00:02.000\ntvå\n'));
    assert.deepEqual(t.segments, [
      { start: 0, end: 1, text: 'ett' },
      { start: 1, end: 2, text: 'två' },
    ]);
  });

  it('strips <c>, <i>, <b>, <u>, <ruby>, <rt>, <lang> and unknown tags, keeps their text, joins lines with a space', () => {
    const t = parseTranscript(
      utf8(vtt('00:00.000 --> 00:02.000\n<c.a.b>Jag</c> <i>har</i>   <b>ont</b>\n<u>i</u> <lang en>the</lang> <ruby>huvudet<rt>hh</rt></ruby> <font>nu</font>\n')),
    );
    assert.equal(t.segments[0]!.text, 'Jag har ont i the huvudethh nu');
    assert.equal(t.segments[0]!.speaker, undefined);
    assert.equal(t.segments[0]!.words, undefined);
  });

  it('decodes named and numeric character references, and keeps an unclosed < as text', () => {
    const t = parseTranscript(utf8(vtt('00:00.000 --> 00:02.000\n&amp; &lt; &gt; &nbsp; &lrm; &rlm; &quot; &#229; &#xE4; &okänd; a < b\n')));
    assert.equal(t.segments[0]!.text, '& < > \u00a0 \u200e \u200f " å ä &okänd; a < b');
  });

  it('voice spans: classes, entities in the name, a voice left open, the same voice twice, an empty voiced cue', () => {
    const t = parseTranscript(
      utf8(
        vtt(
          '00:00.000 --> 00:01.000\n<v.loud.agent Dr.  Åsa &amp; Co>Hej\n\n' +
            '00:01.000 --> 00:02.000\n<v Bo>Ett</v> <v Bo>två</v>\n\n' +
            '00:02.000 --> 00:03.000\n<v Bo></v>\n\n' +
            '00:03.000 --> 00:04.000\n<v>utan namn</v>\n',
        ),
      ),
    );
    assert.deepEqual(t.segments, [
      { start: 0, end: 1, speaker: 'Dr. Åsa & Co', text: 'Hej' },
      { start: 1, end: 2, speaker: 'Bo', text: 'Ett två' },
      { start: 2, end: 3, speaker: 'Bo', text: '' },
      { start: 3, end: 4, text: 'utan namn' },
    ]);
  });

  it('a cue without text is an empty segment', () => {
    assert.deepEqual(parseTranscript(utf8(vtt('00:00.000 --> 00:01.000\n\n00:01.000 --> 00:02.000\nx\n'))).segments[0], { start: 0, end: 1, text: '' });
  });

  it('an empty WebVTT file has no segments', () => {
    assert.deepEqual(parseTranscript(utf8('WEBVTT\n')), { format: 'webvtt', segments: [] });
  });

  it('refuses a file without the WEBVTT header, or with it not on line 1', () => {
    assertInvalid(`\nWEBVTT\n\n00:00.000 --> 00:01.000\n${PNR}\n`, 'text/vtt', /WebVTT line 1: missing the WEBVTT header/);
    assertInvalid(`WEBVTTX\n\n00:00.000 --> 00:01.000\n${PNR}\n`, 'text/vtt', /missing the WEBVTT header/);
  });

  it('refuses malformed timestamps, naming the cue and line', () => {
    for (const [timing, line] of [
      ['00:00:3.000 --> 00:00:04.000', 6],
      ['00:60.000 --> 01:00.000', 6],
      ['0:00.000 --> 00:01.000', 6],
      ['00:00.000 --> 1:00:01.000', 6],
      ['00:00.00 --> 00:01.000', 6],
      ['00:00,000 --> 00:01,000', 6],
      ['00:00.000 --> ', 6],
      ['00:00.000 -> 00:01.000 -->', 6],
      ['00:00.000 --> 00:01.000x', 6],
    ] as const) {
      assertInvalid(vtt(`00:00.000 --> 00:01.000\nett\n\n${timing}\nHemligt ${PNR}\n`), 'text/vtt', new RegExp(`WebVTT cue 2 \\(line ${line}\\): malformed timestamp`));
    }
    assertInvalid(fixture('bad-timestamp.vtt'), undefined, /WebVTT cue 2 \(line 8\): malformed timestamp/);
  });

  it('refuses a cue that ends before it starts, and times too large to be finite', () => {
    assertInvalid(vtt(`id\n00:05.000 --> 00:04.000\n${PNR}\n`), 'text/vtt', /WebVTT cue 1 \(line 4\): ends before it starts/);
    assertInvalid(vtt(`${'9'.repeat(400)}:00:00.000 --> ${'9'.repeat(401)}:00:00.000\n${PNR}\n`), 'text/vtt', /cue 1 \(line 3\): times must be finite/);
  });

  it('refuses a block that is neither a cue nor NOTE, STYLE or REGION', () => {
    assertInvalid(vtt(`00:00.000 --> 00:01.000\nett\n\nHemligt\n${PNR}\n`), 'text/vtt', /WebVTT line 6: a block that is neither a cue/);
    assertInvalid(vtt(`NOTES sade\n${PNR}\n`), 'text/vtt', /WebVTT line 3/);
  });

  it('refuses malformed inline timestamps and inline timestamps that run backwards', () => {
    assertInvalid(vtt(`00:00.000 --> 00:02.000\n<00:01>Hemligt <00:01.500>${PNR}\n`), 'text/vtt', /WebVTT cue 1 \(line 3\): malformed inline timestamp/);
    assertInvalid(vtt(`00:00.000 --> 00:02.000\n<00:01.500>Hemligt <00:01.000>${PNR}\n`), 'text/vtt', /WebVTT cue 1 \(line 3\) word 1: ends before it starts/);
    // an inline timestamp past the cue's end: the last word would end before it starts
    assertInvalid(vtt(`00:00.000 --> 00:02.000\nHemligt <00:03.000>${PNR}\n`), 'text/vtt', /word 2: ends before it starts/);
  });
});

describe('parseTranscript: SRT', () => {
  it('reads call.srt: numbers, tags, ASS codes, multi-line cues, position after the timing', () => {
    assert.deepEqual(parseTranscript(fixture('call.srt'), 'application/x-subrip'), {
      format: 'srt',
      segments: [
        { start: 0.5, end: 3.25, text: 'Hej, du har kommit till vårdcentralen i Åby.' },
        { start: 3.25, end: 6, text: 'Hej! Jag vill boka en tid hos sjuksköterskan, tack.' },
        { start: 6, end: 10, text: 'Mitt personnummer är 19650923-9858.' },
        { start: 10, end: 13.5, text: 'Vi ringer upp dig på 070-174 06 17.' },
      ],
    });
  });

  it('tolerates a BOM, CRLF, a dot before the milliseconds and a cue without its number', () => {
    assert.deepEqual(parseTranscript(fixture('call-crlf-bom.srt')).segments, [
      { start: 0, end: 2, text: 'God morgon, det är Maria.' },
      { start: 2, end: 4.5, text: 'Jag ringer om mitt provsvar.' },
      { start: 3723.004, end: 3725, text: 'Tack så mycket, hejdå.' },
    ]);
  });

  it('sorts cues out of order and keeps trailing blank lines harmless', () => {
    const t = parseTranscript(utf8('2\n00:00:05,000 --> 00:00:06,000\ntvå\n\n1\n00:00:01,000 --> 00:00:02,000\nett\n\n\n\n'), 'text/srt');
    assert.deepEqual(
      t.segments.map((s) => s.text),
      ['ett', 'två'],
    );
  });

  it('refuses a cue that ends before it starts', () => {
    assertInvalid(fixture('bad-end-before-start.srt'), undefined, /SRT cue 2 \(line 6\): ends before it starts/);
  });

  it('refuses malformed timestamps', () => {
    for (const timing of [
      '00:00:01,00 --> 00:00:02,000',
      '00:00:01 --> 00:00:02',
      '00:61:01,000 --> 00:62:00,000',
      '00:00:01,000 -> 00:00:02,000',
      '00:00:01,000 --> 00:00:02,000,5',
    ]) {
      assertInvalid(
        `1\n00:00:00,000 --> 00:00:01,000\nett\n\n2\n${timing}\nHemligt ${PNR}\n`,
        'text/srt',
        /SRT (cue 2 \(line 6\): malformed timestamp|line 6: expected a cue timing line)/,
      );
    }
  });

  it('refuses a number without a timing line, a block of text only, and cues run together', () => {
    assertInvalid(`1\n\nHemligt ${PNR}\n`, 'text/srt', /SRT line 1: cue 1 has a number but no timing line/);
    assertInvalid(`1\n00:00:00,000 --> 00:00:01,000\nett\n\nHemligt ${PNR}\n`, 'text/srt', /SRT line 5: expected a cue timing line/);
    assertInvalid(`1\n00:00:00,000 --> 00:00:01,000\nHemligt\n2\n00:00:01,000 --> 00:00:02,000\n${PNR}\n`, 'text/srt', /SRT line 5: a timing line inside cue 1/);
  });
});

describe('parseTranscript: whisper JSON', () => {
  it('reads OpenAI verbose_json: language name to code, top-level words into their segments, leading spaces trimmed', () => {
    const t = parseTranscript(fixture('openai-verbose.json'), 'application/json');
    assert.equal(t.format, 'verbose_json');
    assert.equal(t.language, 'sv');
    assert.equal(t.durationSeconds, 8.5);
    assert.deepEqual(
      t.segments.map((s) => s.text),
      ['Hej, jag heter Karin.', 'Mitt nummer är 070-174 06 23.'],
    );
    assert.deepEqual(
      t.segments[0]!.words!.map((w) => w.text),
      // "hallå" lies between the segments: it joins the nearest
      ['Hej', 'jag', 'heter', 'Karin', 'hallå'],
    );
    // "23" ends 20 ms after its segment: still its segment's word, and not clamped
    assert.deepEqual(t.segments[1]!.words!.at(-1), { text: '23', start: 6.9, end: 8.02 });
    assert.equal(t.segments[1]!.words!.length, 6);
  });

  it('makes segments from words when there are none: a pause over 1 s or a sentence end closes one', () => {
    const t = parseTranscript(fixture('openai-words-only.json'));
    assert.deepEqual(
      t.segments.map((s) => [s.start, s.end, s.text]),
      [
        [0, 1, 'Hej Lars.'],
        [1.1, 1.9, 'Hur mår du'],
        [3.5, 5.9, 'idag nitton grader feber'],
      ],
    );
    assert.deepEqual(t.segments[2]!.words![1], { text: 'nitton', start: 4.1, end: 4.6 });
  });

  it('closes a segment made from words at 30 s of unbroken speech', () => {
    const words = Array.from({ length: 80 }, (_, i) => ({ word: ` ord${i}`, start: i * 0.5, end: i * 0.5 + 0.5 }));
    const t = parseTranscript(utf8(JSON.stringify({ words })));
    assert.equal(t.segments.length, 2);
    assert.ok(t.segments.every((s) => s.end - s.start <= 30));
    assert.equal(t.segments.flatMap((s) => s.words!).length, 80);
  });

  it('reads words inside segments and speakers (faster-whisper, WhisperX)', () => {
    const t = parseTranscript(fixture('whisperx.json'));
    assert.deepEqual(t.segments[0], {
      start: 0.031,
      end: 2.5,
      speaker: 'SPEAKER_00',
      text: 'Vårdcentralen, Sara här.',
      words: [
        { text: 'Vårdcentralen,', start: 0.031, end: 1.2 },
        { text: 'Sara', start: 1.3, end: 1.8 },
        { text: 'här.', start: 1.9, end: 2.5 },
      ],
    });
    assert.equal(t.segments[1]!.speaker, 'SPEAKER_01');
  });

  it("reads whisper.cpp's JSON", () => {
    assert.deepEqual(parseTranscript(fixture('whisper-cpp.json')), {
      format: 'verbose_json',
      language: 'sv',
      segments: [
        { start: 0, end: 2.48, text: 'Hej, det är Emma på mottagningen.' },
        { start: 2.48, end: 5.12, text: 'Jag ringer om ditt recept.' },
      ],
    });
  });

  it('text only (response_format=json): one segment over the duration, none when silent', () => {
    assert.deepEqual(parseTranscript(utf8('{"text":" Hej då.","duration":4.25,"language":"sv"}')).segments, [{ start: 0, end: 4.25, text: 'Hej då.' }]);
    assert.deepEqual(parseTranscript(utf8('{"text":""}')).segments, []);
    assert.deepEqual(parseTranscript(utf8('{"text":"","segments":[],"language":"Swedish"}')), { format: 'verbose_json', language: 'sv', segments: [] });
    assertInvalid(`{"text":"Hemligt ${PNR}"}`, 'application/json', /has text but no segments, words or duration/);
  });

  it('rounds times to the millisecond', () => {
    const t = parseTranscript(utf8('{"segments":[{"start":0.12345,"end":1.9996,"text":"a"}]}'));
    assert.deepEqual([t.segments[0]!.start, t.segments[0]!.end], [0.123, 2]);
  });

  it('refuses what is not a whisper transcript, with no JSON parser message (it quotes the input)', () => {
    assertInvalid(`{"text": "Hemligt ${PNR}",}`, 'application/json', /^invalid transcript: not valid JSON$/);
    assertInvalid(`{"segments": [{"start": NaN, "end": 1, "text": "${PNR}"}]}`, 'application/json', /not valid JSON/);
    assertInvalid(`["Hemligt ${PNR}"]`, 'application/json', /must be an object/);
    assertInvalid(`{"hemligt": "${PNR}"}`, 'application/json', /not a transcript/);
    assertInvalid(`{"segments": {"text": "${PNR}"}}`, 'application/json', /segments must be an array/);
    assertInvalid(`{"segments": ["${PNR}"]}`, 'application/json', /JSON segment 1: not an object/);
    assertInvalid(`{"segments": [{"start": "0", "end": 1, "text": "${PNR}"}]}`, 'application/json', /JSON segment 1: start and end must be numbers/);
    assertInvalid(`{"segments": [{"start": 0, "text": "${PNR}"}]}`, 'application/json', /JSON segment 1: start and end must be numbers/);
    assertInvalid(`{"segments": [{"start": 0, "end": 1, "text": 4}]}`, 'application/json', /JSON segment 1: text must be a string/);
    assertInvalid(`{"segments": [{"start": 0, "end": 1, "text": "a", "speaker": 3}]}`, 'application/json', /speaker must be a string/);
    assertInvalid(`{"segments": [{"start": 0, "end": 1, "text": "${PNR}"}], "language": "Hemligt ${PNR}"}`, 'application/json', /language is not a language tag/);
    assertInvalid(`{"segments": [], "duration": -1}`, 'application/json', /duration/);
    assertInvalid(`{"segments": [], "duration": "12"}`, 'application/json', /duration/);
  });

  it('refuses negative, reversed and non-finite times of segments and words', () => {
    assertInvalid(`{"segments": [{"start": 1, "end": 2, "text": "a"}, {"start": -0.5, "end": 1, "text": "${PNR}"}]}`, undefined, /JSON segment 2: negative time/);
    assertInvalid(`{"segments": [{"start": 3, "end": 2, "text": "${PNR}"}]}`, undefined, /JSON segment 1: ends before it starts/);
    assertInvalid(`{"segments": [{"start": 0, "end": 1e999, "text": "${PNR}"}]}`, undefined, /JSON segment 1: times must be finite/);
    assertInvalid(fixture('bad-word-times.json'), undefined, /JSON word 2: times must be finite/);
    assertInvalid(`{"words": [{"word": "${PNR}", "start": 2, "end": 1}]}`, undefined, /JSON word 1: ends before it starts/);
    assertInvalid(`{"words": [{"word": "${PNR}", "start": 1}]}`, undefined, /JSON word 1: start and end must be numbers/);
    assertInvalid(`{"words": [{"start": 1, "end": 2}]}`, undefined, /JSON word 1: has no word text/);
    assertInvalid(
      `{"segments": [{"start": 0, "end": 1, "text": "a", "words": [{"word": "${PNR}", "start": null, "end": 1}]}]}`,
      undefined,
      /JSON segment 1 word 1: start and end must be numbers/,
    );
    assertInvalid(`{"transcription": [{"offsets": {"from": 2000, "to": 1000}, "text": "${PNR}"}]}`, undefined, /JSON transcription entry 1: ends before it starts/);
    assertInvalid(
      `{"transcription": [{"timestamps": {"from": "00:00:0x,000", "to": "00:00:01,000"}, "text": "${PNR}"}]}`,
      undefined,
      /JSON transcription entry 1: malformed timestamp/,
    );
  });

  it('keeps words outside their segment as they are (no clamping), and drops empty words', () => {
    const t = parseTranscript(
      utf8('{"segments":[{"start":1,"end":2,"text":"a b","words":[{"word":" a","start":0.5,"end":1.2},{"word":" ","start":1.3,"end":1.4},{"word":"b","start":1.5,"end":2.5}]}]}'),
    );
    assert.deepEqual(t.segments[0]!.words, [
      { text: 'a', start: 0.5, end: 1.2 },
      { text: 'b', start: 1.5, end: 2.5 },
    ]);
  });
});

describe('parseTranscript: limits and encoding', () => {
  it('refuses bytes that are not UTF-8 (Latin-1, UTF-16)', () => {
    const latin1 = Buffer.from(`WEBVTT\n\n00:00.000 --> 00:01.000\nHemligt p\xe5 ${PNR}\n`, 'latin1');
    assertInvalid(latin1, 'text/vtt', /not UTF-8/);
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`WEBVTT\n\n00:00.000 --> 00:01.000\n${PNR}\n`, 'utf16le')]);
    assertInvalid(utf16, undefined, /not UTF-8/);
  });

  it('refuses more than 4 MiB and accepts 4 MiB', () => {
    const cue = `00:00.000 --> 00:01.000\nHemligt ${PNR}\n\n`;
    const header = 'WEBVTT\n\n';
    const body = header + cue.repeat(Math.floor((MAX_TRANSCRIPT_BYTES - header.length) / cue.length));
    const padded = body + ' '.repeat(MAX_TRANSCRIPT_BYTES - Buffer.byteLength(body));
    assert.equal(Buffer.byteLength(padded), MAX_TRANSCRIPT_BYTES);
    assert.ok(parseTranscript(utf8(padded)).segments.length > 80_000);
    assertInvalid(`${padded}x`, 'text/vtt', /larger than 4 MiB/);
  });

  it('refuses more than 200,000 words, counted in text or word timings', () => {
    const words = (n: number) => 'ord '.repeat(n).trim();
    assert.equal(parseTranscript(utf8(`1\n00:00:00,000 --> 01:00:00,000\n${words(200_000)}\n`)).segments.length, 1);
    assertInvalid(`1\n00:00:00,000 --> 01:00:00,000\n${words(200_001)}\n`, undefined, /more than 200000 words/);
    const two = `1\n00:00:00,000 --> 00:00:01,000\n${words(100_000)}\n\n2\n00:00:01,000 --> 00:00:02,000\n${words(100_001)}\n`;
    assertInvalid(two, undefined, /more than 200000 words/);
    assertInvalid(`{"segments":[{"start":0,"end":1,"text":"${words(200_001)}"}]}`, undefined, /more than 200000 words/);
  });

  it('keeps segments and words sorted by start, then end', () => {
    const t = parseTranscript(
      utf8(
        '{"segments":[{"start":5,"end":6,"text":"c"},{"start":1,"end":3,"text":"b","words":[{"word":"y","start":2,"end":3},{"word":"x","start":1,"end":2}]},{"start":1,"end":2,"text":"a"}]}',
      ),
    );
    assert.deepEqual(
      t.segments.map((s) => s.text),
      ['a', 'b', 'c'],
    );
    assert.deepEqual(
      t.segments[1]!.words!.map((w) => w.text),
      ['x', 'y'],
    );
  });
});

describe('serializeTranscript and toWebVtt', () => {
  it('writes canonical JSON: fixed keys, words in segments, the source format kept', () => {
    const t = parseTranscript(fixture('karaoke.vtt'));
    const json = serializeTranscript(t);
    assert.ok(json.startsWith('{"schema":"callvault.transcript.v1","format":"webvtt","text":"Hej och välkommen Jag heter Erik","segments":[{"id":0,"start":1,"end":3,"spe'));
    const back = JSON.parse(json);
    assert.deepEqual(back.segments[1], {
      id: 1,
      start: 3,
      end: 5,
      speaker: 'Erik',
      text: 'Jag heter Erik',
      words: [
        { word: 'Jag', start: 3, end: 3.6 },
        { word: 'heter', start: 3.6, end: 4.1 },
        { word: 'Erik', start: 4.1, end: 5 },
      ],
    });
  });

  for (const file of ['call.vtt', 'karaoke.vtt', 'call.srt', 'call-crlf-bom.srt', 'openai-verbose.json', 'openai-words-only.json', 'whisperx.json', 'whisper-cpp.json']) {
    it(`${file}: canonical JSON reads back equal, and is stable`, () => {
      const t = parseTranscript(fixture(file));
      const json = serializeTranscript(t);
      assert.deepEqual(parseTranscript(utf8(json), 'application/json'), t);
      assert.equal(serializeTranscript(parseTranscript(utf8(json))), json);
    });
  }

  it('writes WebVTT with voice spans, inline word timestamps and escapes, which reads back equal', () => {
    const t: Transcript = {
      format: 'verbose_json',
      language: 'sv',
      segments: [
        {
          start: 0,
          end: 2,
          speaker: 'Anna <sköterska> & co',
          text: 'Hej --> <b>du</b> &amp;',
          words: [
            { text: 'Hej', start: 0.2, end: 0.5 },
            { text: '-->', start: 0.5, end: 0.7 },
            { text: '<b>du</b>', start: 0.9, end: 1.2 },
            { text: '&amp;', start: 1.2, end: 1.5 },
          ],
        },
        { start: 2, end: 3, text: 'NOTE inte en kommentar' },
        { start: 3, end: 3, text: '' },
      ],
    };
    const out = toWebVtt(t);
    assert.equal(
      out,
      'WEBVTT\nLanguage: sv\n\n' +
        '1\n00:00:00.000 --> 00:00:02.000\n<v Anna &lt;sköterska&gt; &amp; co><00:00:00.200>Hej <00:00:00.500>--&gt;<00:00:00.700> <00:00:00.900>&lt;b&gt;du&lt;/b&gt; <00:00:01.200>&amp;amp;<00:00:01.500></v>\n\n' +
        '2\n00:00:02.000 --> 00:00:03.000\nNOTE inte en kommentar\n\n' +
        '3\n00:00:03.000 --> 00:00:03.000\n',
    );
    assert.deepEqual(parseTranscript(utf8(out)), { ...t, format: 'webvtt' });
  });

  it('writes words that do not spell the text (or overlap) as plain cue text', () => {
    const t: Transcript = {
      format: 'verbose_json',
      segments: [
        {
          start: 0,
          end: 2,
          text: 'Hej, Anna!',
          words: [
            { text: 'Hej', start: 0, end: 0.5 },
            { text: 'Anna', start: 0.6, end: 1 },
          ],
        },
        {
          start: 2,
          end: 4,
          text: 'a b',
          words: [
            { text: 'a', start: 2, end: 3 },
            { text: 'b', start: 2.5, end: 3.5 },
          ],
        },
      ],
    };
    const out = toWebVtt(t);
    assert.ok(!/<\d/.test(out));
    assert.deepEqual(
      parseTranscript(utf8(out)).segments,
      t.segments.map(({ words: _w, ...s }) => s),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Round trips as properties

const SWEDISH = [
  'hej',
  'vårdcentralen',
  'jag',
  'har',
  'ont',
  'i',
  'magen',
  'sedan',
  'i',
  'går',
  'tack',
  'så',
  'mycket',
  'nitton',
  'grader',
  'Åsa',
  'Örjan',
  'recept',
  'provsvar',
  'ring',
  '070-174',
  '06',
  '42',
  '19800412-9824',
  '&',
  '<3',
  '-->',
  '&amp;',
  'NOTE',
  'a<b>c',
  '…',
  '"citat"',
];
const NAMES = ['Anna', 'Erik', 'Dr. Åsa Ek', 'SPEAKER_00', 'Bo & Co', '<Lund>', 'Sköterska.vård', 'Bo --', '.', '/v'];

const token = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SWEDISH) },
  {
    weight: 1,
    arbitrary: fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 6 })
      .map(normaliseSpace)
      .filter((s) => s !== '' && !s.includes(' ')),
  },
);
const speaker = fc.option(
  fc.oneof(
    fc.constantFrom(...NAMES),
    fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 12 })
      .map(normaliseSpace)
      .filter((s) => s !== ''),
  ),
  { nil: undefined },
);

/** a segment whose words, when it has them, spell its text and follow each other in its time */
const segment: fc.Arbitrary<TranscriptSegment> = fc
  .record({
    startMs: fc.integer({ min: 0, max: 10_000_000 }),
    lengthMs: fc.integer({ min: 0, max: 60_000 }),
    tokens: fc.array(token, { minLength: 0, maxLength: 8 }),
    speaker,
    timed: fc.boolean(),
    cuts: fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 16, maxLength: 16 }),
  })
  .map(({ startMs, lengthMs, tokens, speaker, timed, cuts }) => {
    const seg: TranscriptSegment = { start: startMs / 1000, end: (startMs + lengthMs) / 1000, text: tokens.join(' ') };
    if (speaker !== undefined) seg.speaker = speaker;
    if (timed && tokens.length > 0) {
      const bounds = cuts
        .slice(0, tokens.length * 2)
        .map((c) => startMs + (c % (lengthMs + 1)))
        .sort((a, b) => a - b);
      seg.words = tokens.map((text, i) => ({ text, start: bounds[2 * i]! / 1000, end: bounds[2 * i + 1]! / 1000 }));
    }
    return seg;
  });

const transcript: fc.Arbitrary<Transcript> = fc
  .record({
    format: fc.constantFrom('webvtt', 'srt', 'verbose_json') as fc.Arbitrary<Transcript['format']>,
    language: fc.option(fc.constantFrom('sv', 'en', 'sv-SE', 'fi'), { nil: undefined }),
    durationMs: fc.option(fc.integer({ min: 0, max: 20_000_000 }), { nil: undefined }),
    segments: fc.array(segment, { maxLength: 12 }),
  })
  .map(({ format, language, durationMs, segments }) => {
    const t: Transcript = { format, segments: [...segments].sort(compareSegments) };
    if (language !== undefined) t.language = language;
    if (durationMs !== undefined) t.durationSeconds = durationMs / 1000;
    return t;
  });

/** words with any valid times, overlapping or outside their segment, any text */
const looseTranscript: fc.Arbitrary<Transcript> = transcript.chain((t) =>
  fc
    .array(
      fc.array(
        fc.record({
          text: fc
            .string({ unit: 'grapheme', minLength: 1, maxLength: 10 })
            .map(normaliseSpace)
            .filter((s) => s !== ''),
          a: fc.integer({ min: 0, max: 10_000_000 }),
          b: fc.integer({ min: 0, max: 10_000_000 }),
        }),
        { maxLength: 5 },
      ),
      { minLength: t.segments.length, maxLength: t.segments.length },
    )
    .map((wordLists) => ({
      ...t,
      segments: t.segments.map((s, i) => {
        const words = wordLists[i]!.map((w) => ({ text: w.text, start: Math.min(w.a, w.b) / 1000, end: Math.max(w.a, w.b) / 1000 })).sort(compareSegments);
        const { words: _old, ...rest } = s;
        return words.length > 0 ? { ...rest, words } : rest;
      }),
    })),
);

describe('round trips (fast-check)', () => {
  it('serializeTranscript then parseTranscript gives the same transcript, to the millisecond', () => {
    fc.assert(
      fc.property(fc.oneof(transcript, looseTranscript), (t) => {
        const back = parseTranscript(utf8(serializeTranscript(t)), 'application/json');
        assert.deepEqual(back, t);
      }),
      { numRuns: 300 },
    );
  });

  it('toWebVtt then parseTranscript gives the same segments, speakers, words and language, to the millisecond', () => {
    fc.assert(
      fc.property(transcript, (t) => {
        const back = parseTranscript(utf8(toWebVtt(t)));
        const { durationSeconds: _d, ...rest } = t;
        assert.deepEqual(back, { ...rest, format: 'webvtt' });
      }),
      { numRuns: 300 },
    );
  });

  it('toWebVtt keeps segment times and text even when words cannot be written inline', () => {
    fc.assert(
      fc.property(looseTranscript, (t) => {
        const back = parseTranscript(utf8(toWebVtt(t)), 'text/vtt');
        assert.deepEqual(
          back.segments.map(({ words: _w, ...s }) => s),
          t.segments.map(({ words: _w, ...s }) => s),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('damaged transcripts are read or refused with CV_INVALID_TRANSCRIPT, never another error, never quoting text', () => {
    const files = ['call.vtt', 'karaoke.vtt', 'call.srt', 'call-crlf-bom.srt', 'openai-verbose.json', 'whisperx.json', 'whisper-cpp.json'].map((f) => fixture(f).toString('utf8'));
    const edit = fc.record({
      at: fc.nat(),
      length: fc.nat({ max: 12 }),
      insert: fc.constantFrom('', '\n', '\n\n', '-->', '<', '>', '&', '<v ', '<00:', ':', ',', '.', '"', '{', '}', '[', '9', ' ', '\r'),
    });
    fc.assert(
      fc.property(
        fc.nat({ max: files.length - 1 }),
        fc.array(edit, { minLength: 1, maxLength: 4 }),
        fc.constantFrom(undefined, 'text/vtt', 'text/srt', 'application/json'),
        (which, edits, type) => {
          let text = files[which]!;
          for (const e of edits) {
            const at = e.at % (text.length + 1);
            text = text.slice(0, at) + e.insert + text.slice(at + e.length);
          }
          try {
            parseTranscript(utf8(text), type);
          } catch (err: any) {
            assert.equal(err.code, ErrorCodes.INVALID_TRANSCRIPT, String(err));
            for (const w of ['19800412', '9824', '19650923', '070-174', 'Karin', 'vårdcentralen', 'Emma', 'välkommen']) assert.ok(!err.message.includes(w), err.message);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
