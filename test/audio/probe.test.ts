import assert from 'node:assert/strict';
import { execFile as execFileCb } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { probeAudio, StreamProbe, type AudioInfo } from '../../src/audio/probe.js';
import { CallvaultError, ErrorCodes, type ErrorCode } from '../../src/errors.js';
import {
  findDataChunk,
  makeBrokenFiles,
  makeCallWav,
  makeLongWav,
  makeMp3,
  syntheticPersonnummer,
  syntheticPhone,
  SYNTHETIC_PHONE_COUNT,
  wavHeader,
  writeWavHeaderVariants,
  type SyntheticCall,
} from '../fixtures/audio.js';

const execFile = promisify(execFileCb);
const require = createRequire(import.meta.url);
const Personnummer = require('personnummer') as { valid(pin: string): boolean };

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'callvault-test-audio-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Reference {
  codec: string;
  sampleRate: number;
  channels: number;
  durationMs: number;
}

/** What ffprobe says about a file: the independent reference for every probe result. */
async function ffprobe(path: string): Promise<Reference> {
  const { stdout } = await execFile('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,sample_rate,channels:format=duration', '-of', 'json', path]);
  const j = JSON.parse(stdout) as { streams: { codec_name: string; sample_rate: string; channels: number }[]; format: { duration: string } };
  const s = j.streams[0]!;
  return { codec: s.codec_name, sampleRate: Number(s.sample_rate), channels: s.channels, durationMs: Number(j.format.duration) * 1000 };
}

function assertClose(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);
}

/** Probes and checks the result against ffprobe (codec, rate, channels exactly; duration within tolerance). */
async function probeMatchesFfprobe(path: string, toleranceMs: number): Promise<AudioInfo> {
  const [info, ref] = await Promise.all([probeAudio(path), ffprobe(path)]);
  assert.equal(info.codec, ref.codec);
  assert.equal(info.sampleRate, ref.sampleRate);
  assert.equal(info.channels, ref.channels);
  assertClose(info.durationMs, ref.durationMs, toleranceMs, 'duration vs ffprobe');
  return info;
}

async function assertProbeFails(path: string, code: ErrorCode): Promise<CallvaultError> {
  let caught: unknown;
  try {
    await probeAudio(path);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof CallvaultError, `expected a CallvaultError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  // Never the path or file name in the message.
  assert.ok(!caught.message.includes(basename(path)), 'error message mentions the file name');
  assert.ok(!caught.message.includes(dir), 'error message mentions the directory');
  return caught;
}

/** What a probe finds, or the code and message of what it refuses: comparable across probes. */
async function outcome(probe: () => AudioInfo | Promise<AudioInfo>): Promise<AudioInfo | { code: string; message: string }> {
  try {
    return await probe();
  } catch (err) {
    assert.ok(err instanceof CallvaultError, `expected a CallvaultError, got ${String(err)}`);
    return { code: err.code, message: err.message };
  }
}

/** The probe of an upload: the file pushed through StreamProbe in chunks of the sizes given, in turn. */
async function streamed(path: string, sizes: readonly number[] = [1, 7, 4096, 65536, 13, 300_000]): Promise<AudioInfo> {
  const buf = await readFile(path);
  const probe = new StreamProbe();
  for (let at = 0, i = 0; at < buf.length; i++) {
    const n = sizes[i % sizes.length]!;
    // a copy, as the upload hands each chunk on
    probe.push(Buffer.from(buf.subarray(at, at + n)));
    at += n;
  }
  return probe.finish();
}

/** An upload of the same bytes is accepted or refused exactly as `callvault import` is. */
async function assertUploadSameAsImport(path: string): Promise<void> {
  assert.deepEqual(await outcome(() => streamed(path)), await outcome(() => probeAudio(path)), basename(path));
}

describe('probeAudio: synthetic calls as WAV', () => {
  test('16-bit PCM, 8 kHz mono (the default)', async () => {
    const path = join(dir, 'call-pcm16.wav');
    const call = await makeCallWav(path, { seed: 1 });
    const info = await probeMatchesFfprobe(path, 2);
    assert.deepEqual(
      { format: info.format, codec: info.codec, sampleRate: info.sampleRate, channels: info.channels },
      { format: 'wav', codec: 'pcm_s16le', sampleRate: 8000, channels: 1 },
    );
    assertClose(info.durationMs, call.durationMs, 1, 'duration vs ground truth');
    assert.equal(info.wav?.dataOffset, 44);
    assert.equal(info.wav?.sizeFromFileEnd, false);
  });

  for (const encoding of ['mulaw', 'alaw'] as const) {
    test(`G.711 ${encoding}, 8 kHz mono`, async () => {
      const path = join(dir, `call-${encoding}.wav`);
      const call = await makeCallWav(path, { seed: 2, encoding });
      const info = await probeMatchesFfprobe(path, 2);
      assert.equal(info.codec, encoding === 'mulaw' ? 'pcm_mulaw' : 'pcm_alaw');
      assert.equal(info.sampleRate, 8000);
      assert.equal(info.channels, 1);
      assert.equal(info.wav?.formatTag, encoding === 'mulaw' ? 7 : 6);
      assert.equal(info.wav?.blockAlign, 1);
      assertClose(info.durationMs, call.durationMs, 1, 'duration vs ground truth');
    });
  }

  test('stereo: caller left, agent right', async () => {
    const path = join(dir, 'call-stereo.wav');
    const call = await makeCallWav(path, { seed: 3, stereo: true });
    const info = await probeMatchesFfprobe(path, 2);
    assert.equal(info.codec, 'pcm_s16le');
    assert.equal(info.channels, 2);
    assert.equal(info.wav?.blockAlign, 4);
    assertClose(info.durationMs, call.durationMs, 1, 'duration vs ground truth');
  });

  test('stereo mu-law and a 16 kHz rate', async () => {
    const a = join(dir, 'call-stereo-mulaw.wav');
    await makeCallWav(a, { seed: 4, stereo: true, encoding: 'mulaw' });
    const ia = await probeMatchesFfprobe(a, 2);
    assert.deepEqual([ia.codec, ia.sampleRate, ia.channels], ['pcm_mulaw', 8000, 2]);
    const b = join(dir, 'call-16k.wav');
    await makeCallWav(b, { seed: 4, rate: 16000 });
    const ib = await probeMatchesFfprobe(b, 2);
    assert.deepEqual([ib.codec, ib.sampleRate, ib.channels], ['pcm_s16le', 16000, 1]);
  });
});

describe('probeAudio: WAV header variants', async () => {
  const variantDir = await mkdtemp(join(tmpdir(), 'callvault-test-audio-variants-'));
  after(() => rm(variantDir, { recursive: true, force: true }));
  const variants = await writeWavHeaderVariants(variantDir, { seed: 5 });

  test('every kind is generated', () => {
    const names = variants.map((v) => v.name);
    for (const required of [
      'pcm24',
      'pcm24-extensible',
      'pcm16-stereo-extensible',
      'pcm-u8',
      'float32',
      'rf64',
      'recorder-riff0',
      'recorder-riffffff',
      'recorder-data0',
      'recorder-dataffff',
      'recorder-both0',
      'recorder-bothffff',
    ]) {
      assert.ok(names.includes(required), required);
    }
  });

  for (const v of variants) {
    test(v.name, async () => {
      const info = await probeMatchesFfprobe(v.path, 2);
      assert.equal(info.format, 'wav');
      assert.equal(info.codec, v.expect.codec);
      assert.equal(info.sampleRate, v.expect.sampleRate);
      assert.equal(info.channels, v.expect.channels);
      assertClose(info.durationMs, v.expect.durationMs, 1, 'duration vs ground truth');
      assert.equal(info.wav?.extensible, v.expect.extensible);
      assert.equal(info.wav?.formatTag, v.expect.formatTag);
      assert.equal(info.wav?.sizeFromFileEnd, v.name.startsWith('recorder-') && v.name !== 'recorder-riff0' && v.name !== 'recorder-riffffff');
    });
  }

  test('an upload streamed through the probe reads every variant as import does', async () => {
    for (const v of variants) await assertUploadSameAsImport(v.path);
  });

  test('recorder-style sizes are really in the headers', async () => {
    for (const [name, riff, data] of [
      ['recorder-both0', 0, 0],
      ['recorder-bothffff', 0xffffffff, 0xffffffff],
    ] as const) {
      const buf = await readFile(variants.find((v) => v.name === name)!.path);
      assert.equal(buf.readUInt32LE(4), riff);
      assert.equal(buf.readUInt32LE(findDataChunk(buf).sizeAt), data);
    }
  });
});

describe('probeAudio: MP3', () => {
  test('with an ID3v2 tag', async () => {
    const path = join(dir, 'call-id3.mp3');
    const call = await makeMp3(path, { seed: 6, id3: true });
    const head = await readFile(path);
    assert.equal(head.toString('latin1', 0, 3), 'ID3');
    const info = await probeMatchesFfprobe(path, 30);
    assert.deepEqual([info.format, info.codec, info.sampleRate, info.channels], ['mp3', 'mp3', 8000, 1]);
    assert.equal(info.mp3?.hasId3v2, true);
    assert.equal(info.mp3?.mpegVersion, 2.5);
    assert.ok(info.mp3!.firstFrameOffset > 10);
    // An MP3 is at most a couple of frames (72 ms each at 8 kHz) longer than its source.
    assertClose(info.durationMs, call.durationMs, 250, 'duration vs source WAV');
    await assertUploadSameAsImport(path);
  });

  test('without any tag', async () => {
    const path = join(dir, 'call-plain.mp3');
    await makeMp3(path, { seed: 7, id3: false });
    const head = await readFile(path);
    assert.equal(head[0], 0xff);
    const info = await probeMatchesFfprobe(path, 30);
    assert.deepEqual([info.format, info.codec, info.sampleRate, info.channels], ['mp3', 'mp3', 8000, 1]);
    assert.equal(info.mp3?.hasId3v2, false);
    assert.equal(info.mp3?.firstFrameOffset, 0);
    await assertUploadSameAsImport(path);
  });

  test('MPEG-1, 44.1 kHz stereo', async () => {
    const path = join(dir, 'call-44k.mp3');
    await makeMp3(path, { seed: 8, id3: true, rate: 44100, stereo: true, bitrateKbps: 128 });
    const info = await probeMatchesFfprobe(path, 30);
    assert.deepEqual([info.codec, info.sampleRate, info.channels, info.mp3?.mpegVersion], ['mp3', 44100, 2, 1]);
    await assertUploadSameAsImport(path);
  });

  test('an ID3 tag of 2 MiB (cover art) before the audio: import and upload both find the audio after it', async () => {
    const src = join(dir, 'call-art-src.mp3');
    await makeMp3(src, { seed: 15, id3: false });
    const audio = await readFile(src);
    // ID3v2.3 with one PRIV frame of 2 MiB; the tag size is a sync-safe integer
    const frameBody = Buffer.alloc(2 * 1024 * 1024, 0x5a);
    const frame = Buffer.concat([Buffer.from('PRIV', 'latin1'), Buffer.alloc(4), Buffer.alloc(2), frameBody]);
    frame.writeUInt32BE(frameBody.length, 4);
    const header = Buffer.from('ID3\x03\x00\x00\x00\x00\x00\x00', 'latin1');
    for (let i = 0, n = frame.length; i < 4; i++) header[9 - i] = (n >> (7 * i)) & 0x7f;
    const path = join(dir, 'call-art.mp3');
    await writeFile(path, Buffer.concat([header, frame, audio]));
    const info = await probeMatchesFfprobe(path, 30);
    assert.equal(info.mp3?.firstFrameOffset, 10 + frame.length);
    assert.equal(info.durationMs, (await probeAudio(src)).durationMs);
    await assertUploadSameAsImport(path);
  });

  test('the ID3 title is not identifying', async () => {
    const path = join(dir, 'call-title.mp3');
    const call = await makeMp3(path, { seed: 9, id3: true });
    const buf = await readFile(path);
    const tag = buf.subarray(0, 10 + ((buf[6]! << 21) | (buf[7]! << 14) | (buf[8]! << 7) | buf[9]!)).toString('latin1');
    assert.match(tag, /Syntetiskt testsamtal/);
    assert.ok(!tag.includes(call.personnummer) && !tag.includes(call.phone));
  });
});

describe('probeAudio: headers that lie', () => {
  /** one second of a 16-bit 8 kHz mono tone, with `patch` applied to its 44-byte header (or 68 when extensible) */
  async function wav(name: string, o: Partial<Parameters<typeof wavHeader>[0]> = {}, patch?: (b: Buffer) => void): Promise<string> {
    const spec = { formatTag: 1, channels: 1, rate: 8000, bits: 16, dataBytes: 16000, ...o };
    const samples = Buffer.alloc(spec.dataBytes);
    for (let i = 0; i + 1 < samples.length; i += 2) samples.writeInt16LE(Math.round(8000 * Math.sin(i / 5)), i);
    const buf = Buffer.concat([wavHeader(spec), samples]);
    patch?.(buf);
    const path = join(dir, `lie-${name}.wav`);
    await writeFile(path, buf);
    return path;
  }

  test('a sample rate outside 8-192 kHz is refused (3 Hz and 255 Hz were accepted before)', async () => {
    for (const rate of [3, 255, 4000, 7999, 192_001, 1_000_000]) {
      const path = await wav(`rate-${rate}`, {}, (b) => b.writeUInt32LE(rate, 24));
      const err = await assertProbeFails(path, ErrorCodes.UNSUPPORTED_AUDIO);
      assert.match(err.message, /sample rate is outside 8-192 kHz/);
      await assertUploadSameAsImport(path);
    }
    for (const rate of [8000, 11025, 16000, 44100, 48000, 96000, 192_000]) {
      const path = await wav(`rate-ok-${rate}`, { rate });
      assert.equal((await probeAudio(path)).sampleRate, rate);
    }
  });

  test('more than 8 channels is refused; up to 8 is read', async () => {
    const nine = await wav('ch9', { channels: 9, dataBytes: 9 * 2 * 800 });
    assert.match((await assertProbeFails(nine, ErrorCodes.UNSUPPORTED_AUDIO)).message, /more than 8 channels/);
    const eight = await wav('ch8', { channels: 8, dataBytes: 8 * 2 * 800 });
    assert.deepEqual([(await probeAudio(eight)).channels, (await probeAudio(eight)).durationMs], [8, 100]);
  });

  test('a block size that does not match the samples is refused: the duration would not be what plays', async () => {
    const path = await wav('block', {}, (b) => b.writeUInt16LE(4, 32));
    assert.match((await assertProbeFails(path, ErrorCodes.BROKEN_AUDIO)).message, /block alignment does not match/);
  });

  test('WAVE_FORMAT_EXTENSIBLE: a garbage sub-format GUID or a short extension is refused', async () => {
    const ok = await wav('ext-ok', { extensible: true });
    assert.equal((await probeMatchesFfprobe(ok, 2)).wav?.extensible, true);
    const garbage = await wav('ext-guid', { extensible: true }, (b) => b.write('not a ksdataguid', 44, 'latin1'));
    assert.match((await assertProbeFails(garbage, ErrorCodes.UNSUPPORTED_AUDIO)).message, /extensible sub-format is not supported/);
    // the first two bytes (the codec) right, the rest of the GUID not: still not a format we know
    const tail = await wav('ext-guid-tail', { extensible: true }, (b) => (b[50] = 0x99));
    await assertProbeFails(tail, ErrorCodes.UNSUPPORTED_AUDIO);
    const cb = await wav('ext-cbsize', { extensible: true }, (b) => b.writeUInt16LE(0, 36));
    await assertProbeFails(cb, ErrorCodes.BROKEN_AUDIO);
    const valid = await wav('ext-valid-bits', { extensible: true }, (b) => b.writeUInt16LE(24, 38));
    await assertProbeFails(valid, ErrorCodes.BROKEN_AUDIO);
    for (const path of [garbage, tail, cb, valid]) await assertUploadSameAsImport(path);
  });

  test('RF64 without its ds64 chunk is refused; with it, read', async () => {
    const path = join(dir, 'lie-rf64.wav');
    await execFile('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:duration=1',
      '-ar',
      '8000',
      '-c:a',
      'pcm_s16le',
      '-rf64',
      'always',
      path,
    ]);
    const buf = await readFile(path);
    assert.equal(buf.toString('latin1', 12, 16), 'ds64');
    assert.equal((await probeMatchesFfprobe(path, 2)).wav?.container, 'RF64');
    const junk = join(dir, 'lie-rf64-no-ds64.wav');
    await writeFile(junk, Buffer.concat([buf.subarray(0, 12), Buffer.from('JUNK', 'latin1'), buf.subarray(16)]));
    assert.match((await assertProbeFails(junk, ErrorCodes.BROKEN_AUDIO)).message, /RF64 file has no ds64 chunk/);
    await assertUploadSameAsImport(junk);
  });

  test('an MP3 lasts what its frames hold, whatever its Info header claims (one flipped bit made 42 hours)', async () => {
    const path = join(dir, 'lie-info.mp3');
    await makeMp3(path, { seed: 16, id3: false });
    const buf = await readFile(path);
    const honest = await probeMatchesFfprobe(path, 30);
    // the Info frame count sits 8 bytes after the "Info" tag (flags, then frames)
    const info = buf.indexOf('Info', 0, 'latin1');
    assert.ok(info > 0 && info < 64, 'the fixture has an Info frame');
    const lying = Buffer.from(buf);
    lying[info + 8]! ^= 0x40;
    const lyingPath = join(dir, 'lie-info-flipped.mp3');
    await writeFile(lyingPath, lying);
    const ref = await ffprobe(lyingPath);
    assert.ok(ref.durationMs > 3600_000, `ffprobe believes the header: ${ref.durationMs} ms`);
    const probed = await probeAudio(lyingPath);
    assert.equal(probed.durationMs, honest.durationMs);
    // an MP3 cannot hold more than 1 ms of audio per byte (8 kbit/s is the lowest bitrate)
    assert.ok(probed.durationMs <= lying.length);
    await assertUploadSameAsImport(lyingPath);
  });
});

describe('probeAudio: detection by content, not by name', () => {
  test('an MP3 named .wav is an MP3', async () => {
    const path = join(dir, 'really-an-mp3.wav');
    await makeMp3(path, { seed: 10, id3: true });
    const info = await probeMatchesFfprobe(path, 30);
    assert.equal(info.format, 'mp3');
    assert.equal(info.codec, 'mp3');
  });

  test('a WAV named .mp3 is a WAV', async () => {
    const path = join(dir, 'really-a-wav.mp3');
    await makeCallWav(path, { seed: 10, encoding: 'alaw' });
    const info = await probeAudio(path);
    assert.equal(info.format, 'wav');
    assert.equal(info.codec, 'pcm_alaw');
  });

  test('a file without an extension', async () => {
    const path = join(dir, 'recording');
    await makeCallWav(path, { seed: 10 });
    assert.equal((await probeAudio(path)).format, 'wav');
  });
});

describe('probeAudio: one-hour recordings', () => {
  for (const encoding of ['pcm16', 'mulaw'] as const) {
    test(`one hour of 8 kHz ${encoding} is probed from its headers`, async () => {
      const path = join(dir, `hour-${encoding}.wav`);
      await makeLongWav(path, 3600, { encoding });
      const started = performance.now();
      const info = await probeAudio(path);
      const elapsed = performance.now() - started;
      assert.ok(elapsed < 500, `probe took ${elapsed.toFixed(0)} ms`);
      assert.equal(info.codec, encoding === 'mulaw' ? 'pcm_mulaw' : 'pcm_s16le');
      assert.equal(info.durationMs, 3_600_000);
      const ref = await ffprobe(path);
      assertClose(info.durationMs, ref.durationMs, 2, 'duration vs ffprobe');
      await rm(path);
    });
  }

  test('makeLongWav honours a duration that is not a multiple of its chunk', async () => {
    const path = join(dir, 'long-odd.wav');
    await makeLongWav(path, 23);
    assert.equal((await probeAudio(path)).durationMs, 23_000);
  });
});

describe('probeAudio: broken and unsupported files', async () => {
  const badDir = await mkdtemp(join(tmpdir(), 'callvault-test-audio-broken-'));
  after(() => rm(badDir, { recursive: true, force: true }));
  const files = await makeBrokenFiles(badDir);

  test('every kind is generated', () => {
    const names = files.map((f) => f.name);
    for (const required of [
      'empty.wav',
      'random.wav',
      'notes.wav',
      'metadata.mp3',
      'riff-header-only.wav',
      'truncated-data.wav',
      'no-data-chunk.wav',
      'zero-channels.wav',
      'mp3-header-garbage.mp3',
      'id3-garbage.mp3',
    ]) {
      assert.ok(names.includes(required), required);
    }
  });

  for (const f of files) {
    test(`${f.name} is ${f.expect}`, async () => {
      await assertProbeFails(f.path, f.expect === 'broken' ? ErrorCodes.BROKEN_AUDIO : ErrorCodes.UNSUPPORTED_AUDIO);
    });
  }

  test('an upload streamed through the probe refuses each as import does, for the same reason', async () => {
    for (const f of files) await assertUploadSameAsImport(f.path);
  });

  test('a truncated WAV says so', async () => {
    const err = await assertProbeFails(files.find((f) => f.name === 'truncated-data.wav')!.path, ErrorCodes.BROKEN_AUDIO);
    assert.match(err.message, /WAV data chunk is truncated/);
  });

  test('messages never carry identifiers from the path', async () => {
    const pnr = syntheticPersonnummer(11);
    const path = join(dir, `${pnr}.wav`);
    await writeFile(path, `samtal med ${pnr}`);
    const err = await assertProbeFails(path, ErrorCodes.UNSUPPORTED_AUDIO);
    assert.ok(!err.message.includes(pnr));
    assert.ok(!err.message.includes('samtal'));
    const missing = await assertProbeFails(join(dir, `${pnr}-missing.wav`), ErrorCodes.NOT_FOUND);
    assert.ok(!missing.message.includes(pnr));
  });

  test('a directory is not audio', async () => {
    await assertProbeFails(dir, ErrorCodes.UNSUPPORTED_AUDIO);
  });

  test('a truncated MP3 that still has whole frames is accepted', async () => {
    const src = join(dir, 'whole.mp3');
    await makeMp3(src, { seed: 12, id3: false });
    const buf = await readFile(src);
    const cut = join(dir, 'cut.mp3');
    await writeFile(cut, buf.subarray(0, Math.floor(buf.length / 2) + 7));
    const info = await probeAudio(cut);
    assert.equal(info.codec, 'mp3');
    assert.ok(info.durationMs > 0);
  });
});

// ---------------------------------------------------------------------------------------------
// The fixtures themselves: synthetic identifiers and ground-truth timings.

describe('fixtures', () => {
  test('synthetic personnummer are valid, deterministic and distinct', () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 200; seed++) {
      const pnr = syntheticPersonnummer(seed);
      assert.match(pnr, /^(19[3-9]\d|200[0-5])(0[1-9]|1[0-2])(0[1-9]|1\d|2[0-8])98\d\d$/);
      assert.ok(Personnummer.valid(pnr), pnr);
      assert.equal(syntheticPersonnummer(seed), pnr);
      seen.add(pnr);
    }
    assert.ok(seen.size >= 195);
  });

  test('synthetic phone numbers are in the fiction series 070-174 06 05 … 99', () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < SYNTHETIC_PHONE_COUNT; seed++) {
      const phone = syntheticPhone(seed);
      assert.match(phone, /^070-174 06 (0[5-9]|[1-9]\d)$/);
      seen.add(phone);
    }
    assert.equal(seen.size, SYNTHETIC_PHONE_COUNT);
    assert.equal(syntheticPhone(-1), syntheticPhone(SYNTHETIC_PHONE_COUNT - 1));
  });

  test('calls are deterministic by seed', async () => {
    const a = join(dir, 'det-a.wav');
    const b = join(dir, 'det-b.wav');
    const ca = await makeCallWav(a, { seed: 13 });
    const cb = await makeCallWav(b, { seed: 13 });
    assert.deepEqual(ca, cb);
    assert.ok((await readFile(a)).equals(await readFile(b)));
  });

  test('ground-truth timings match the audio (speech inside phrases, quiet between)', async () => {
    for (const stereo of [false, true]) {
      const path = join(dir, `timing-${stereo}.wav`);
      const call = await makeCallWav(path, { seed: 14, stereo });
      const buf = await readFile(path);
      const pcm = buf.subarray(findDataChunk(buf).dataAt);
      const rms = (channel: number, fromMs: number, toMs: number): number => {
        let sum = 0;
        let n = 0;
        for (let i = Math.round(fromMs * 8); i < Math.round(toMs * 8); i++) {
          const v = pcm.readInt16LE((i * call.channels + channel) * 2);
          sum += v * v;
          n++;
        }
        return Math.sqrt(sum / Math.max(1, n));
      };
      checkPhrases(call);
      for (const [i, p] of call.phrases.entries()) {
        const ch = stereo && p.speaker === 'agent' ? 1 : 0;
        const speech = rms(ch, p.startMs, p.endMs);
        assert.ok(speech > 1000, `phrase ${i} is silent (${speech})`);
        if (stereo) assert.ok(rms(1 - ch, p.startMs, p.endMs) < 50, `phrase ${i} leaks into the other channel`);
        if (p.identifierSpan) assert.ok(rms(ch, p.identifierSpan.startMs, p.identifierSpan.endMs) > 1000);
        const next = call.phrases[i + 1];
        if (next) assert.ok(rms(0, p.endMs + 5, next.startMs - 5) < 50, `gap after phrase ${i} is not quiet`);
      }
    }
  });
});

function checkPhrases(call: SyntheticCall): void {
  const ids = call.phrases.filter((p) => p.identifier);
  assert.deepEqual(
    ids.map((p) => p.identifier),
    ['personnummer', 'phone'],
  );
  const pnrPhrase = ids[0]!;
  assert.equal(pnrPhrase.identifierSpan!.text.replace(/ /g, ''), call.personnummer);
  assert.ok(pnrPhrase.text.includes(pnrPhrase.identifierSpan!.text));
  assert.equal(ids[1]!.identifierSpan!.text, call.phone);
  let last = 0;
  for (const p of call.phrases) {
    assert.ok(p.startMs >= last && p.endMs > p.startMs, 'phrases are ordered and non-overlapping');
    if (p.identifierSpan) assert.ok(p.identifierSpan.startMs >= p.startMs && p.identifierSpan.endMs <= p.endMs);
    last = p.endMs;
  }
  assert.ok(last <= call.durationMs);
}
