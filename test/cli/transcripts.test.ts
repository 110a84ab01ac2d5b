/**
 * `callvault transcripts add ID FILE`: a transcript for a call stored without one is sealed like
 * one given at import, audited (`transcript.add`), and the call examined for identifiers again at
 * once; a call that has one keeps it unless `--replace`, which drops everything made from the old
 * one. A second import of the same call says how to attach its transcript instead of ignoring it.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { cli, initVault, tempDir } from '../helpers.js';
import { noiseCall } from '../faults/serve-process.js';

const PERSONNUMMER = '19850709-9805';
/** a 2.5 s call's transcript: the personnummer is said in its second cue */
const VTT = `WEBVTT\n\n00:00:00.000 --> 00:00:00.800\nHej, du har ringt vårdcentralen.\n\n00:00:01.000 --> 00:00:02.000\nMitt personnummer är ${PERSONNUMMER}.\n`;
const SRT = '1\n00:00:00,000 --> 00:00:02,000\nHej, jag vill boka en tid.\n';
const WHISPER = JSON.stringify({
  language: 'sv',
  duration: 2.5,
  words: [
    { word: ' ring', start: 0.1, end: 0.4 },
    { word: ' mig', start: 0.4, end: 0.6 },
    { word: ' på', start: 0.6, end: 0.8 },
    { word: ' 070-174', start: 1.0, end: 1.5 },
    { word: ' 06', start: 1.5, end: 1.7 },
    { word: ' 64', start: 1.7, end: 2.0 },
  ],
});

let dir: string;
let src: string;
let first: string;
let second: string;

/** the audit entries about one recording, as [action, detail] */
async function entriesAbout(id: string): Promise<[string, any][]> {
  const r = await cli(['--data', dir, 'audit', 'export', '--format', 'jsonl']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l).event)
    .filter((e) => e.recordingId === id)
    .map((e) => [e.action, e.detail]);
}

async function state(id: string): Promise<string> {
  const list = await cli(['--data', dir, 'recordings', 'list', '--json']);
  return list.json.recordings.find((r: any) => r.id === id).redaction;
}

before(async () => {
  ({ dir } = await initVault());
  src = await tempDir('src', 'transcripts');
  await writeFile(join(src, 'first.wav'), noiseCall(40_000));
  await writeFile(join(src, 'second.wav'), noiseCall(40_000));
  const imported = await cli(['--data', dir, 'import', src, '--json']);
  assert.equal(imported.code, 0, imported.stderr);
  const byName = (name: string) => imported.json.imported.find((r: any) => r.path.endsWith(name)).id;
  first = byName('first.wav');
  second = byName('second.wav');
});

describe('transcripts add', () => {
  it('a second import of a call whose transcript came later says how to attach it', async () => {
    await writeFile(join(src, 'first.vtt'), VTT);
    const again = await cli(['--data', dir, 'import', src, '--json']);
    assert.equal(again.code, 0, again.stderr);
    const skipped = again.json.skipped.find((s: any) => s.path.endsWith('first.wav'));
    // files older than the journal's 2 s window are skipped by the journal unread, younger ones by their hash: both say it
    const unread = '( \\(unchanged since: not read again\\))?';
    assert.match(skipped.reason, new RegExp(`^already stored as ${first}${unread}; its transcript is not added by an import: callvault transcripts add ${first} FILE$`));
    assert.match(again.json.skipped.find((s: any) => s.path.endsWith('second.wav')).reason, new RegExp(`^already stored as ${second}${unread}$`));
    assert.equal(await state(first), 'none');
  });

  it('attaches a WebVTT transcript, seals it, and the call is redacted at once', async () => {
    const r = await cli(['--data', dir, 'transcripts', 'add', first, join(src, 'first.vtt')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `transcript (webvtt) added for ${first}; 1 identifier removed in the redacted rendition\n`);
    assert.equal(r.stdout.includes(PERSONNUMMER), false);
    assert.equal(await state(first), 'redacted');
    assert.deepEqual((await entriesAbout(first)).slice(-2), [
      ['transcript.add', { format: 'webvtt', replaced: false }],
      ['recording.redact', { state: 'redacted', identifiers: 1 }],
    ]);
    // the person is now found by what was said in the call
    const found = await cli(['--data', dir, 'subject', 'find', '--personnummer', PERSONNUMMER, '--json']);
    assert.deepEqual(
      found.json.recordings.map((x: any) => [x.id, x.foundIn]),
      [[first, ['transcript']]],
    );
    const out = join(await tempDir('out', 'transcripts'), 'redacted.wav');
    assert.equal((await cli(['--data', dir, 'export', first, '--redacted', '--out', out])).code, 0);
    assert.equal((await readFile(out)).equals(await readFile(join(src, 'first.wav'))), false, 'the redacted audio differs from the original');
  });

  it('refuses a call that has a transcript unless --replace; replacing drops what the old one gave', async () => {
    const srt = join(src, 'first.srt');
    await writeFile(srt, SRT);
    const refused = await cli(['--data', dir, 'transcripts', 'add', first, srt]);
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      'callvault: the recording has a transcript already: give --replace to replace it (the recording is then examined again with the new one) [CV_CONFLICT]\n',
    );
    assert.equal(await state(first), 'redacted');

    const replaced = await cli(['--data', dir, 'transcripts', 'add', first, srt, '--replace', '--json']);
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.deepEqual(replaced.json, { recordingId: first, format: 'srt', replaced: true, redaction: { state: 'clean', problem: null, identifiers: 0 } });
    assert.equal(await state(first), 'clean');
    assert.deepEqual((await entriesAbout(first)).slice(-2), [
      ['transcript.add', { format: 'srt', replaced: true }],
      ['recording.redact', { state: 'clean', identifiers: 0 }],
    ]);
    // the old rendition is gone (verify would list it as an object of no recording), and so is
    // the blind index of the number only the old transcript held
    const verify = await cli(['--data', dir, 'verify', '--json']);
    assert.equal(verify.code, 0, verify.stdout);
    assert.equal(verify.json.counts.strayObjects, 0);
    const found = await cli(['--data', dir, 'subject', 'find', '--personnummer', PERSONNUMMER, '--json']);
    assert.deepEqual(found.json.recordings, []);
  });

  it('takes whisper JSON, like import', async () => {
    const file = join(src, 'second.transcript.json');
    await writeFile(file, WHISPER);
    const r = await cli(['--data', dir, 'transcripts', 'add', second, file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `transcript (verbose_json) added for ${second}; 1 identifier removed in the redacted rendition\n`);
    assert.equal(await state(second), 'redacted');
  });

  it('says what is wrong with the file, the id or the keyring, in one line', async () => {
    const missing = join(src, 'nope.vtt');
    let r = await cli(['--data', dir, 'transcripts', 'add', second, missing]);
    assert.deepEqual([r.code, r.stderr], [2, `callvault: the file ${missing} does not exist [CV_USAGE]\n`]);
    const wav = join(src, 'second.wav');
    r = await cli(['--data', dir, 'transcripts', 'add', second, wav, '--replace']);
    assert.deepEqual([r.code, r.stderr], [1, `callvault: ${wav}: invalid transcript: not UTF-8 text [CV_INVALID_TRANSCRIPT]\n`]);
    const text = join(src, 'notes.txt');
    await writeFile(text, 'just some notes');
    r = await cli(['--data', dir, 'transcripts', 'add', second, text, '--replace']);
    assert.deepEqual([r.code, r.stderr], [1, `callvault: ${text}: invalid transcript: unknown format: expected WebVTT, SRT or whisper JSON [CV_INVALID_TRANSCRIPT]\n`]);
    r = await cli(['--data', dir, 'transcripts', 'add', '00000000-0000-4000-8000-000000000000', text]);
    assert.deepEqual([r.code, r.stderr], [1, `callvault: ${text}: invalid transcript: unknown format: expected WebVTT, SRT or whisper JSON [CV_INVALID_TRANSCRIPT]\n`]);
    r = await cli(['--data', dir, 'transcripts', 'add', '00000000-0000-4000-8000-000000000000', join(src, 'first.srt')]);
    assert.deepEqual([r.code, r.stderr], [1, 'callvault: no such recording [CV_NOT_FOUND]\n']);
    r = await cli(['--data', dir, 'transcripts', 'add', 'first', join(src, 'first.srt')]);
    assert.deepEqual([r.code, r.stderr], [2, 'callvault: a recording id is a UUID (`callvault recordings list` shows the ids) [CV_USAGE]\n']);
    r = await cli(['--data', dir, 'transcripts', 'add', second, join(src, 'first.srt'), '--replace'], { CALLVAULT_PASSPHRASE: undefined });
    assert.deepEqual([r.code, r.stderr], [1, 'callvault: a passphrase is needed: set CALLVAULT_PASSPHRASE or run on a terminal [CV_PASSPHRASE_REQUIRED]\n']);
    assert.equal(await state(second), 'redacted', 'nothing was changed');
  });
});
