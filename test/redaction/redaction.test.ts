/**
 * Redaction end to end through the CLI, on calls spoken by espeak-ng phrase by phrase so that the
 * true time span of every spoken identifier is known: import with transcripts, then the redacted
 * audio is read back with `callvault export --redacted` and decoded by sox and ffmpeg.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile as execFileCb } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cli, initVault, PASSPHRASE, tempDir } from '../helpers.js';
import { makeCallWav, makeMp3, type SyntheticCall } from '../fixtures/audio.js';
import { srt, verboseJson, webVtt, type IdentifierStyle } from '../fixtures/transcripts.js';
import { linearToAlaw, linearToMulaw, TONE_HZ } from '../../src/redaction/fill.js';
import { decodeMono, toneShare, wavDifferences } from '../fixtures/redaction-check.js';
import { Vault } from '../../src/vault.js';
import { readSealedText } from '../../src/recordings/read.js';

const execFile = promisify(execFileCb);
const env = { CALLVAULT_PASSPHRASE: PASSPHRASE };
const PADDING_S = 0.25;

interface Case {
  name: string;
  style: IdentifierStyle;
  make: (path: string) => Promise<SyntheticCall>;
  ext: 'wav' | 'mp3';
}

const CASES: Case[] = [
  { name: 'pcm16-digits', style: 'digits', ext: 'wav', make: (p) => makeCallWav(p, { seed: 501 }) },
  { name: 'mulaw-words', style: 'words', ext: 'wav', make: (p) => makeCallWav(p, { seed: 502, encoding: 'mulaw' }) },
  { name: 'alaw-digits', style: 'digits', ext: 'wav', make: (p) => makeCallWav(p, { seed: 503, encoding: 'alaw' }) },
  { name: 'stereo-words', style: 'words', ext: 'wav', make: (p) => makeCallWav(p, { seed: 504, stereo: true }) },
  { name: 'mp3-digits', style: 'digits', ext: 'mp3', make: (p) => makeMp3(p, { seed: 505, id3: true }) },
];

describe('redaction of generated calls', () => {
  let data: string;
  let src: string;
  let out: string;
  const calls = new Map<string, { call: SyntheticCall; path: string; id?: string }>();

  before(async () => {
    ({ dir: data } = await initVault());
    src = await tempDir('src', 'redact');
    out = await tempDir('out', 'redact');
    for (const c of CASES) {
      const path = join(src, `${c.name}.${c.ext}`);
      const call = await c.make(path);
      await writeFile(join(src, `${c.name}.transcript.json`), verboseJson(call, c.style).json);
      // no personnummer in the metadata: the call can be found only by what was said in it
      await writeFile(join(src, `${c.name}.json`), JSON.stringify({ agent: 'nurse-anna', region: 'uppsala' }));
      calls.set(c.name, { call, path });
    }
    // cue timings only: each identifier is placed over its whole cue
    const vtt = await makeCallWav(join(src, 'vtt-cues.wav'), { seed: 506, encoding: 'mulaw' });
    await writeFile(join(src, 'vtt-cues.vtt'), webVtt(vtt));
    calls.set('vtt-cues', { call: vtt, path: join(src, 'vtt-cues.wav') });
    const srtCall = await makeCallWav(join(src, 'srt-cues.wav'), { seed: 507 });
    await writeFile(join(src, 'srt-cues.srt'), srt(srtCall));
    calls.set('srt-cues', { call: srtCall, path: join(src, 'srt-cues.wav') });

    // no identifier in the transcript: nothing to remove, the original is its own redaction
    const clean = await makeCallWav(join(src, 'clean.wav'), { seed: 508 });
    await writeFile(join(src, 'clean.vtt'), 'WEBVTT\n\n00:00.300 --> 00:02.000\nSjukvårdsrådgivningen, hej.\n');
    calls.set('clean', { call: clean, path: join(src, 'clean.wav') });
    // identifiers whose words carry no usable timing: fail closed
    const unplaced = await makeCallWav(join(src, 'unplaced.wav'), { seed: 509 });
    const json = JSON.parse(verboseJson(unplaced).json);
    for (const seg of json.segments) for (const w of seg.words) if (/\d/.test(w.word)) w.start = w.end = 0;
    delete json.words;
    await writeFile(join(src, 'unplaced.transcript.json'), JSON.stringify(json));
    calls.set('unplaced', { call: unplaced, path: join(src, 'unplaced.wav') });
    // a transcript of some other, longer call: its times lie beyond this audio
    const elsewhere = await makeCallWav(join(src, 'elsewhere.wav'), { seed: 510 });
    await writeFile(
      join(src, 'elsewhere.vtt'),
      'WEBVTT\n\n10:00.000 --> 10:04.000\nMitt personnummer är 19 85 07 09 98 05.\n'.replace('19 85 07 09 98 05', elsewhere.personnummer.match(/../g)!.join(' ')),
    );
    calls.set('elsewhere', { call: elsewhere, path: join(src, 'elsewhere.wav') });
    // no transcript at all
    const none = await makeCallWav(join(src, 'none.wav'), { seed: 511 });
    calls.set('none', { call: none, path: join(src, 'none.wav') });

    const res = await cli(['--data', data, 'import', src, '--json'], env);
    assert.equal(res.code, 0, res.stderr);
    const report = JSON.parse(res.stdout);
    for (const r of report.imported) {
      const name = Object.keys(Object.fromEntries(calls)).find((n) => r.path === calls.get(n)!.path)!;
      calls.get(name)!.id = r.id;
    }
    assert.deepEqual(report.redaction, { redacted: 7, clean: 1, failed: 2, none: 1 });
  });

  async function exportRedacted(name: string): Promise<string> {
    const { id } = calls.get(name)!;
    const file = join(out, `${name}-redacted.${name.startsWith('mp3') ? 'mp3' : 'wav'}`);
    // two tests export each call to the same file: the second replaces the first's
    const res = await cli(['--data', data, 'export', id!, '--redacted', '--out', file, '--force', '--json'], env);
    assert.equal(res.code, 0, res.stderr);
    return file;
  }

  for (const c of [...CASES.map((x) => x.name), 'vtt-cues', 'srt-cues']) {
    it(`${c}: every spoken identifier is a tone in the redacted audio`, async () => {
      const { call } = calls.get(c)!;
      const file = await exportRedacted(c);
      const redacted = await decodeMono(file, call.sampleRate);
      const original = await decodeMono(calls.get(c)!.path, call.sampleRate);
      const spans = call.phrases.filter((p) => p.identifierSpan).map((p) => p.identifierSpan!);
      assert.equal(spans.length, 2);
      for (const span of spans) {
        const r = toneShare(redacted, call.sampleRate, span.startMs / 1000, span.endMs / 1000);
        assert.ok(r.share > 0.9 && r.rms > 1000, `${c} ${span.startMs}–${span.endMs} ms: ${r.share.toFixed(3)} of the energy at ${TONE_HZ} Hz, rms ${r.rms.toFixed(0)}`);
        const before = toneShare(original, call.sampleRate, span.startMs / 1000, span.endMs / 1000);
        assert.ok(before.share < 0.3, 'the original is speech there');
      }
    });
  }

  for (const c of ['pcm16-digits', 'mulaw-words', 'alaw-digits', 'stereo-words']) {
    it(`${c}: outside the spans and their padding, the WAV samples are byte for byte the original's`, async () => {
      const { call, path } = calls.get(c)!;
      const file = await exportRedacted(c);
      const { inside: changedInside, outside: changedOutside } = wavDifferences(await readFile(path), await readFile(file), call, PADDING_S);
      assert.equal(changedOutside, 0);
      assert.ok(changedInside > 0);
    });
  }

  it('the redacted transcript carries labels and no identifier; subject find reaches the calls through what was said', async () => {
    const vault = await Vault.open(data);
    try {
      await vault.unlock(PASSPHRASE);
      for (const name of ['pcm16-digits', 'mulaw-words', 'vtt-cues']) {
        const row = (await vault.recordings.get(calls.get(name)!.id!))!;
        const redacted = JSON.parse((await readSealedText(vault, row, 'redacted-transcript'))!) as { text: string; segments: { text: string; words?: { word: string }[] }[] };
        const texts = [redacted.text, ...redacted.segments.flatMap((s) => [s.text, ...(s.words ?? []).map((w) => w.word)])].join(' ');
        assert.match(texts, /\[PERSONNUMMER\]/);
        assert.match(texts, /\[TELEFON\]/);
        assert.doesNotMatch(texts, /\d|noll|nitton/, 'no digit and no number word left');
      }
    } finally {
      await vault.close();
    }
    const { call, id } = calls.get('mulaw-words')!;
    const found = await cli(['--data', data, 'subject', 'find', '--personnummer', call.personnummer, '--json'], env);
    assert.equal(found.code, 0, found.stderr);
    assert.deepEqual(
      JSON.parse(found.stdout).recordings.map((r: { id: string; foundIn: string[] }) => [r.id, r.foundIn]),
      [[id, ['transcript']]],
    );
    const byPhone = await cli(['--data', data, 'subject', 'find', '--phone', call.phone, '--json'], env);
    assert.ok(JSON.parse(byPhone.stdout).recordings.some((r: { id: string }) => r.id === id));
  });

  it('fails closed: identifiers without timing, or timed beyond the audio, leave no redacted audio and flag the call', async () => {
    for (const name of ['unplaced', 'elsewhere', 'none']) {
      const res = await cli(['--data', data, 'export', calls.get(name)!.id!, '--redacted', '--out', join(out, `${name}.wav`), '--json'], env);
      assert.equal(res.code, 1);
      assert.equal(JSON.parse(res.stdout).error.code, 'CV_REDACTION_UNAVAILABLE');
    }
    const list = await cli(['--data', data, 'recordings', 'list', '--json'], env);
    const states = Object.fromEntries(JSON.parse(list.stdout).recordings.map((r: { id: string; redaction: string }) => [r.id, r.redaction]));
    assert.equal(states[calls.get('unplaced')!.id!], 'failed');
    assert.equal(states[calls.get('elsewhere')!.id!], 'failed');
    assert.equal(states[calls.get('none')!.id!], 'none');
    assert.equal(states[calls.get('clean')!.id!], 'clean');
  });

  it('a call with nothing to remove is its own redaction', async () => {
    const file = await exportRedacted('clean');
    assert.deepEqual(await readFile(file), await readFile(calls.get('clean')!.path));
  });

  it('verify checks the renditions too, and --again re-examines', async () => {
    const res = await cli(['--data', data, 'verify', '--deep', '--json'], env);
    assert.equal(res.code, 0, res.stdout);
    assert.equal(JSON.parse(res.stdout).checked, calls.size + 7);
    const again = await cli(['--data', data, 'redact', '--again', 'failed,none', '--json'], env);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout).byState, { failed: 2, none: 1 });
  });
});

describe('G.711 fill samples', () => {
  it('encode a tone that sox decodes back to it', async () => {
    const dir = await tempDir('out', 'g711');
    await mkdir(dir, { recursive: true });
    const rate = 8000;
    const linear = Array.from({ length: rate / 10 }, (_, i) => Math.round(0.2 * 32767 * Math.sin((2 * Math.PI * 1000 * i) / rate)));
    for (const [encoding, encode] of [
      ['u-law', linearToMulaw],
      ['a-law', linearToAlaw],
    ] as const) {
      const raw = join(dir, `${encoding}.raw`);
      await writeFile(raw, Buffer.from(linear.map(encode)));
      const { stdout } = await execFile('sox', ['-t', 'raw', '-r', '8000', '-e', encoding, '-b', '8', '-c', '1', raw, '-t', 'raw', '-e', 'signed', '-b', '16', '-L', '-'], {
        encoding: 'buffer',
      });
      const decoded = new Int16Array(stdout.buffer, stdout.byteOffset, stdout.byteLength / 2);
      assert.equal(decoded.length, linear.length);
      for (const [i, d] of decoded.entries()) assert.ok(Math.abs(d - linear[i]!) <= Math.max(16, Math.abs(linear[i]!) * 0.07), `${encoding} sample ${i}: ${d} for ${linear[i]}`);
    }
    assert.equal(linearToMulaw(0), 0xff);
    assert.equal(linearToAlaw(0), 0xd5);
  });
});
