/**
 * The G.722 decoder (src/siprec/g722.ts) against ffmpeg's (libavcodec's adpcm_g722, which passes
 * the ITU-T test vectors): a spoken utterance from espeak-ng, encoded by ffmpeg, decodes to the
 * same samples, exactly (tolerance 0: both are the recommendation's fixed-point arithmetic, so any
 * difference is a bug); so do random codes, which drive the predictor into its limits and the
 * output into clipping. Decoded 20 ms packet by 20 ms packet, as the recorder does. The 8 kHz
 * output (the lower sub-band alone) is the utterance too. Audio goes through pipes: no file.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { before, test } from 'node:test';
import { G722Decoder } from '../../src/siprec/g722.js';
import { prng } from '../fixtures/audio.js';

const run = promisify(execFile);

/** runs `command`, `input` on its stdin; resolves with its stdout */
function pipe(command: string, args: string[], input?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`${command} exited ${code}`))));
    child.stdin.end(input);
  });
}

const ffmpegDecode = (codes: Buffer, rate = 16000) => pipe('ffmpeg', ['-v', 'error', '-f', 'g722', '-i', 'pipe:0', '-ar', String(rate), '-f', 's16le', 'pipe:1'], codes);

function samples(pcm: Buffer): Int16Array {
  return new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.length));
}

/** decodes in 160-byte packets (20 ms), one decoder carrying its state across them */
function decodePackets(codes: Buffer, rate: 16000 | 8000 = 16000): Int16Array {
  const decoder = new G722Decoder(rate);
  const out = new Int16Array(codes.length * decoder.samplesPerByte);
  let o = 0;
  for (let i = 0; i < codes.length; i += 160) o += decoder.decode(codes.subarray(i, i + 160), out, o);
  assert.equal(o, out.length);
  return out;
}

function firstDifference(a: Int16Array, b: Int16Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

let speech: Buffer;

before(async () => {
  const wav = (await run('espeak-ng', ['-v', 'sv', '--stdout', 'Hej, jag ringer om min tid på vårdcentralen i morgon.'], { encoding: 'buffer', maxBuffer: 1 << 26 })).stdout;
  speech = await pipe('ffmpeg', ['-v', 'error', '-i', 'pipe:0', '-ar', '16000', '-ac', '1', '-c:a', 'g722', '-f', 'g722', 'pipe:1'], wav);
  assert.ok(speech.length > 16_000, `ffmpeg encoded ${speech.length} bytes`);
});

test('a spoken utterance decodes to ffmpeg’s samples exactly', async () => {
  const ours = decodePackets(speech);
  const theirs = samples(await ffmpegDecode(speech));
  assert.equal(ours.length, speech.length * 2, 'two samples at 16 kHz per byte');
  assert.equal(firstDifference(ours, theirs), -1, 'no sample differs');
  let energy = 0;
  for (const x of ours) energy += x * x;
  assert.ok(Math.sqrt(energy / ours.length) > 500, 'the utterance is there, not silence');
});

test('random codes (the predictor at its limits, the output clipping) decode to ffmpeg’s samples exactly', async () => {
  const random = prng(7);
  const codes = Buffer.from(Array.from({ length: 16_000 }, () => Math.floor(random() * 256)));
  const ours = decodePackets(codes);
  assert.equal(firstDifference(ours, samples(await ffmpegDecode(codes))), -1);
  assert.ok(
    ours.some((x) => x === 32767 || x === -32768),
    'the run reaches the clipping limits',
  );
});

test('at 8 kHz the lower sub-band alone is the utterance: one sample per byte, correlated with ffmpeg’s decode resampled to 8 kHz', async () => {
  const low = decodePackets(speech, 8000);
  const resampled = samples(await ffmpegDecode(speech, 8000));
  assert.equal(low.length, speech.length);
  // the sub-band filter and ffmpeg's resampler differ in shape and delay: the best lag, not lag 0
  let best = 0;
  for (let lag = -16; lag <= 16; lag++) {
    let xy = 0;
    let xx = 0;
    let yy = 0;
    for (let i = 16; i < low.length - 16; i++) {
      const x = low[i]!;
      const y = resampled[i + lag]!;
      xy += x * y;
      xx += x * x;
      yy += y * y;
    }
    best = Math.max(best, xy / Math.sqrt(xx * yy));
  }
  assert.ok(best > 0.95, `correlation ${best.toFixed(3)}`);
});
