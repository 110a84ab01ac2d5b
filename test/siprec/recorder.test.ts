/**
 * The call recorder's jitter window on a clock the test moves: packets placed by their RTP
 * timestamp across the 16- and 32-bit wraps, duplicates dropped, a lost packet stored as silence
 * of its length and counted, a late reordered packet put where it belongs, telephone-events
 * counted and not heard, and the WAV's streaming header read by callvault's own probe. At 16 kHz:
 * G.722 decoded in timestamp order whatever the arrival order, G.711 beside it interpolated, a
 * lost packet 20 ms of silence at 16 kHz; at 8 kHz, G.722 by its lower sub-band.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { probeSource } from '../../src/audio/probe.js';
import { prng } from '../fixtures/audio.js';
import { decodeG711 } from '../../src/siprec/g711.js';
import { G722Decoder } from '../../src/siprec/g722.js';
import { CallRecorder, JITTER_MS } from '../../src/siprec/recorder.js';

/** µ-law byte whose expansion is `value` for a recognisable packet: each packet one constant */
const MU = { quiet: 0xff, loud: 0x80 };

function packet(seq: number, ts: number, byte: number, payloadType = 0) {
  return { payloadType, sequenceNumber: seq & 0xffff, timestamp: ts >>> 0, payload: Buffer.alloc(160, byte) };
}

async function drain(recorder: CallRecorder): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of recorder.output) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('loss, reordering and duplicates across the sequence and timestamp wraps', async () => {
  let now = 1_000_000;
  const r = new CallRecorder(['a', 'b'], { now: () => now });
  r.setPayloads(
    0,
    new Map([
      [0, 'pcmu'],
      [101, 'telephone-event'],
    ]),
  );
  r.setPayloads(1, new Map([[0, 'pcmu']]));
  const out = drain(r);
  const seq0 = 65530;
  const ts0 = 0xffffff00;
  // 20 packets of 20 ms on channel a: 5 lost, 8 sent after 9, 12 twice; one telephone-event
  const order = [0, 1, 2, 3, 4, 6, 7, 9, 8, 10, 11, 12, 12, 13, 14, 15, 16, 17, 18, 19];
  for (const [n, i] of order.entries()) {
    now = 1_000_000 + n * 20;
    r.packet(0, packet(seq0 + i, ts0 + i * 160, MU.loud));
    r.tick();
  }
  // an RFC 4733 event takes the next sequence number of the stream
  r.packet(0, packet(seq0 + 20, ts0 + 19 * 160, 0x00, 101));
  now += 1000;
  r.end();
  const wav = await out;
  const pcm = wav.subarray(44);
  const frames = pcm.length / 4;
  assert.equal(frames, ((order.length - 1) * 20 + 1000) * 8, 'the call lasts as long as its clock ran');
  const a = (i: number) => pcm.readInt16LE(i * 4);
  const b = (i: number) => pcm.readInt16LE(i * 4 + 2);
  const loud = a(0);
  assert.notEqual(loud, 0);
  for (let p = 0; p < 20; p++) {
    const first = a(p * 160);
    const last = a(p * 160 + 159);
    if (p === 5) assert.deepEqual([first, last], [0, 0], 'the lost packet is 20 ms of silence');
    else assert.deepEqual([first, last], [loud, loud], `packet ${p} is in place`);
  }
  assert.equal(a(20 * 160), 0, 'nothing after the last packet');
  assert.equal(b(0), 0, 'the silent stream is silence');
  assert.deepEqual(r.stats()[0], { label: 'a', codec: 'pcmu', received: 20, lost: 1, duplicates: 1, late: 0, telephoneEvents: 1 });

  const info = await probeSource({ size: wav.length, read: async (p, l) => wav.subarray(p, p + l) });
  assert.deepEqual([info.format, info.codec, info.channels, info.sampleRate, info.durationMs], ['wav', 'pcm_s16le', 2, 8000, 1380]);
  assert.equal(info.wav?.sizeFromFileEnd, true, 'the header says the data runs to the end');
});

test('a packet later than the jitter window is counted late, not written over what was stored', async () => {
  let now = 0;
  const r = new CallRecorder(['a'], { now: () => now });
  r.setPayloads(0, new Map([[8, 'pcma']]));
  const out = drain(r);
  r.packet(0, packet(1, 0, 0xd5, 8));
  r.packet(0, packet(3, 320, 0xd5, 8));
  now = 40 + JITTER_MS + 100;
  r.tick();
  r.packet(0, packet(2, 160, 0xd5, 8));
  r.end();
  await out;
  assert.deepEqual(r.stats()[0], { label: 'a', codec: 'pcma', received: 3, lost: 1, duplicates: 0, late: 1, telephoneEvents: 0 });
});

/** 160 deterministic pseudo-random bytes per packet: G.722 codes, or µ-law samples that vary */
function noise(seed: number): Buffer {
  const random = prng(seed);
  return Buffer.from(Array.from({ length: 160 }, () => Math.floor(random() * 256)));
}

test('at 16 kHz: G.722 decoded in timestamp order though packets arrive reordered, a lost packet 20 ms of silence, G.711 beside it interpolated', async () => {
  let now = 5_000;
  const r = new CallRecorder(['agent', 'caller'], { sampleRate: 16000, now: () => now });
  r.setPayloads(0, new Map([[9, 'g722']]));
  r.setPayloads(1, new Map([[0, 'pcmu']]));
  const out = drain(r);
  // packet 5 lost, 8 sent after 9; the RTP clock runs at 8000 Hz: 160 ticks per 20 ms packet
  const order = [0, 1, 2, 3, 4, 6, 7, 9, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
  const ts0 = 0xfffffe00;
  for (const [n, i] of order.entries()) {
    now = 5_000 + n * 20;
    r.packet(0, { payloadType: 9, sequenceNumber: 100 + i, timestamp: (ts0 + i * 160) >>> 0, payload: noise(i) });
    r.packet(1, { payloadType: 0, sequenceNumber: 700 + i, timestamp: (ts0 + i * 160) >>> 0, payload: noise(1000 + i) });
    r.tick();
  }
  now += 1000;
  r.end();
  const wav = await out;
  assert.equal(wav.readUInt32LE(24), 16000, 'the WAV header says 16 kHz');
  const pcm = wav.subarray(44);
  const frames = pcm.length / 4;
  assert.equal(frames, ((order.length - 1) * 20 + 1000) * 16, 'the call lasts as long as its clock ran, at 16 kHz');
  const agent = (i: number) => pcm.readInt16LE(i * 4);
  const caller = (i: number) => pcm.readInt16LE(i * 4 + 2);

  // what one decoder gives the packets in sequence order, the lost one skipped
  const decoder = new G722Decoder();
  const expected = new Int16Array(20 * 320);
  for (let i = 0; i < 20; i++) if (i !== 5) decoder.decode(noise(i), expected, i * 320);
  const got = Int16Array.from({ length: 20 * 320 }, (_, i) => agent(i));
  assert.deepEqual(got, expected, 'the agent channel is the in-order decode, packet 5 silence');
  assert.ok(
    got.subarray(5 * 320, 6 * 320).every((x) => x === 0),
    'the lost packet is 320 samples of silence',
  );
  assert.ok(got.subarray(4 * 320, 5 * 320).some((x) => x !== 0));
  for (let i = 20 * 320; i < frames; i++) assert.equal(agent(i), 0, 'nothing after the last packet');

  for (let p = 0; p < 20; p++) {
    const x = new Int16Array(160);
    // the caller's packet 5 is lost too
    if (p !== 5) decodeG711('pcmu', noise(1000 + p), x, 0);
    for (let k = 0; k < 160; k++) {
      assert.equal(caller(p * 320 + 2 * k), x[k], `caller packet ${p} sample ${k}`);
      assert.equal(caller(p * 320 + 2 * k + 1), k < 159 ? (x[k]! + x[k + 1]!) >> 1 : x[k]!, `caller packet ${p} between ${k} and ${k + 1}`);
    }
  }
  assert.deepEqual(
    r.stats().map((s) => [s.codec, s.received, s.lost]),
    [
      ['g722', 19, 1],
      ['pcmu', 19, 1],
    ],
  );
  const info = await probeSource({ size: wav.length, read: async (p, l) => wav.subarray(p, p + l) });
  assert.deepEqual([info.channels, info.sampleRate, info.durationMs], [2, 16000, 1360]);
});

test('at 8 kHz a G.722 stream is its lower sub-band: 160 samples per packet', async () => {
  let now = 0;
  const r = new CallRecorder(['a'], { now: () => now });
  r.setPayloads(0, new Map([[9, 'g722']]));
  const out = drain(r);
  for (let i = 0; i < 10; i++) {
    now = i * 20;
    r.packet(0, { payloadType: 9, sequenceNumber: i, timestamp: i * 160, payload: noise(i) });
  }
  now = 200;
  r.end();
  const pcm = (await out).subarray(44);
  assert.equal(pcm.length / 2, 1600);
  const decoder = new G722Decoder(8000);
  const expected = new Int16Array(1600);
  for (let i = 0; i < 10; i++) decoder.decode(noise(i), expected, i * 160);
  assert.deepEqual(new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.length)), expected);
});
