/**
 * A fuzzer with fixed seeds over what callvault reads from outside (issue 14, item 7): audio files
 * through the probe, the upload's streaming probe, the import and the CLI; multipart bodies
 * against a real server; transcripts. Every input is either accepted, and then reads back byte for
 * byte, or refused with a CallvaultError code (over HTTP: a 4xx in our error shape). Never an
 * unhandled exception, never a 500, never a connection closed without an answer, never a stored
 * recording that does not read back, never a pending row or a temporary file left behind.
 *
 * Bounded: a few hundred inputs per target, loopback only. Each part prints what it tried, what
 * was accepted, what was refused by code, and what was lost (must be 0).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile as execFileCb } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { probeAudio, StreamProbe, MAX_CHANNELS, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, type AudioInfo } from '../../src/audio/probe.js';
import { CallvaultError, ErrorCodes } from '../../src/errors.js';
import { createToken } from '../../src/identities/tokens.js';
import { createServices } from '../../src/services/index.js';
import { operatorActor } from '../../src/services/actor.js';
import { plaintextSha256 } from '../../src/recordings/read.js';
import { verifyStore } from '../../src/recordings/verify.js';
import { parseTranscript, serializeTranscript } from '../../src/transcripts/index.js';
import { Vault } from '../../src/vault.js';
import { cli, PASSPHRASE, REPO, tempDir } from '../helpers.js';
import { wavHeader } from '../fixtures/audio.js';
import { assertErrorAnswer, filesUnder, rawRequest } from '../http/fixtures.js';
import { startTestServer, TEST_KDF, type TestServer } from '../http/harness.js';

const execFile = promisify(execFileCb);
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const tallies: Tally[] = [];

/** What one target held: inputs, how they came out, and what broke the rules (must stay empty). */
class Tally {
  tried = 0;
  accepted = 0;
  readonly refused: Record<string, number> = {};
  /** accepted (stored, or answered 2xx) but not readable back as sent */
  readonly lost: string[] = [];
  /** anything else against the rules: an unhandled exception, a 500, no answer */
  readonly problems: string[] = [];

  constructor(readonly target: string) {
    tallies.push(this);
  }

  refuse(code: string): void {
    this.refused[code] = (this.refused[code] ?? 0) + 1;
  }

  report(): void {
    const refused = Object.entries(this.refused)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([code, n]) => `${code} ${n}`)
      .join(', ');
    console.log(
      `fuzz ${this.target}: ${this.tried} inputs tried, ${this.accepted} accepted, refused: ${refused || 'none'}; problems: ${this.problems.length}; lost: ${this.lost.length}`,
    );
    assert.deepEqual(this.problems, [], `${this.target}: ${this.problems.length} problem(s)`);
    assert.deepEqual(this.lost, [], `${this.target}: ${this.lost.length} lost`);
  }
}

// ---------------------------------------------------------------------------------------------
// Audio: valid files of every kind import reads, and mutations of them

/** `seconds` of a tone as little-endian samples of `bytes` bytes, `channels` interleaved */
function tone(rate: number, seconds: number, channels: number, bytes: number): Buffer {
  const frames = Math.round(rate * seconds);
  const out = Buffer.alloc(frames * channels * bytes);
  for (let i = 0; i < frames * channels; i++) {
    const v = Math.sin((2 * Math.PI * 440 * Math.floor(i / channels)) / rate);
    if (bytes === 1) out[i] = Math.round(128 + 100 * v);
    else if (bytes === 2) out.writeInt16LE(Math.round(12000 * v), 2 * i);
    else if (bytes === 3) out.writeIntLE(Math.round(3_000_000 * v), 3 * i, 3);
    else out.writeFloatLE(0.4 * v, 4 * i);
  }
  return out;
}

function wav(o: { formatTag: number; channels: number; rate: number; bits: number; extensible?: boolean; riffSize?: number; dataSize?: number }, samples: Buffer): Buffer {
  return Buffer.concat([wavHeader({ ...o, dataBytes: samples.length }), samples]);
}

/** RF64 as ffmpeg writes it: the sizes in a ds64 chunk first, 0xFFFFFFFF in their 32-bit fields */
function rf64(samples: Buffer): Buffer {
  const ds64 = Buffer.alloc(8 + 28);
  ds64.write('ds64', 0, 'latin1');
  ds64.writeUInt32LE(28, 4);
  const riff = wav({ formatTag: 1, channels: 1, rate: 8000, bits: 16 }, samples);
  ds64.writeBigUInt64LE(BigInt(riff.length - 8 + ds64.length), 8);
  ds64.writeBigUInt64LE(BigInt(samples.length), 16);
  ds64.writeBigUInt64LE(BigInt(samples.length / 2), 24);
  const out = Buffer.concat([riff.subarray(0, 12), ds64, riff.subarray(12)]);
  out.write('RF64', 0, 'latin1');
  out.writeUInt32LE(0xffffffff, 4);
  out.writeUInt32LE(0xffffffff, out.length - samples.length - 4);
  return out;
}

/**
 * A WAV with an odd-sized LIST chunk whose pad byte its writer left out. (The data size must not
 * end in a printable byte: "ata" and that byte would pass for the next chunk's id.)
 */
function unpaddedList(samples: Buffer): Buffer {
  const plain = wav({ formatTag: 1, channels: 1, rate: 8000, bits: 16 }, samples);
  const list = Buffer.from('LIST\x05\x00\x00\x00INFOx', 'latin1');
  const out = Buffer.concat([plain.subarray(0, 36), list, plain.subarray(36)]);
  out.writeUInt32LE(out.length - 8, 4);
  return out;
}

let bases: { name: string; bytes: Buffer }[];

before(async () => {
  const dir = await tempDir('src', 'fuzz');
  const mp3 = async (name: string, args: string[]) => {
    const path = join(dir, name);
    await execFile('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', ...args, path]);
    return { name, bytes: await readFile(path) };
  };
  const mono8k = (bytes: number) => tone(8000, 0.5, 1, bytes);
  bases = [
    { name: 'pcm16', bytes: wav({ formatTag: 1, channels: 1, rate: 8000, bits: 16 }, mono8k(2)) },
    { name: 'pcm-u8', bytes: wav({ formatTag: 1, channels: 1, rate: 8000, bits: 8 }, mono8k(1)) },
    { name: 'pcm24-stereo-16k', bytes: wav({ formatTag: 1, channels: 2, rate: 16000, bits: 24 }, tone(16000, 0.25, 2, 3)) },
    { name: 'float32', bytes: wav({ formatTag: 3, channels: 1, rate: 8000, bits: 32 }, mono8k(4)) },
    { name: 'mulaw', bytes: wav({ formatTag: 7, channels: 1, rate: 8000, bits: 8 }, mono8k(1)) },
    { name: 'alaw', bytes: wav({ formatTag: 6, channels: 1, rate: 8000, bits: 8 }, mono8k(1)) },
    { name: 'extensible-stereo', bytes: wav({ formatTag: 1, channels: 2, rate: 8000, bits: 16, extensible: true }, tone(8000, 0.5, 2, 2)) },
    { name: 'rf64', bytes: rf64(mono8k(2)) },
    { name: 'recorder-sizes-0', bytes: wav({ formatTag: 1, channels: 1, rate: 8000, bits: 16, riffSize: 0, dataSize: 0 }, mono8k(2)) },
    { name: 'recorder-sizes-ffffffff', bytes: wav({ formatTag: 1, channels: 1, rate: 8000, bits: 16, riffSize: 0xffffffff, dataSize: 0xffffffff }, mono8k(2)) },
    { name: 'unpadded-list', bytes: unpaddedList(tone(8000, 0.512, 1, 2)) },
    await mp3('id3-8k.mp3', ['-ar', '8000', '-ac', '1', '-b:a', '16k', '-id3v2_version', '3', '-metadata', 'title=fuzz']),
    await mp3('plain-44k-stereo-id3v1.mp3', ['-ar', '44100', '-ac', '2', '-b:a', '64k', '-id3v2_version', '0', '-write_id3v1', '1']),
  ];
  for (const b of bases) assert.ok(await acceptedByProbe(b.bytes, join(dir, 'base-check')), `the base ${b.name} is valid`);
});

async function acceptedByProbe(bytes: Buffer, path: string): Promise<boolean> {
  await writeFile(path, bytes);
  return probeAudio(path).then(
    () => true,
    () => false,
  );
}

type Op =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'u16' | 'u32'; at: number; value: number }
  | { op: 'cut'; at: number }
  | { op: 'delete'; at: number; length: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'chunk'; at: number; id: string; size: number; body: Uint8Array };

/** header fields of a canonical WAV (sizes, tag, channels, rates, block, bits, extension, data size) */
const HEADER_OFFSETS = [4, 16, 20, 22, 24, 28, 32, 34, 36, 38, 40, 44, 46, 50, 60, 64];
const position = fc.oneof(
  { arbitrary: fc.constantFrom(...HEADER_OFFSETS), weight: 2 },
  { arbitrary: fc.nat({ max: 127 }), weight: 2 },
  { arbitrary: fc.nat({ max: 1 << 20 }), weight: 1 },
);
const fieldValue = fc.oneof(fc.constantFrom(0, 1, 2, 3, 8, 255, 4000, 7999, 8000, 192_001, 0x7fff, 0xfffe, 0xffff, 0x10000, 0x7fffffff, 0xffffffff), fc.nat());
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('flip' as const), at: position, bit: fc.nat({ max: 7 }) }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constantFrom('u16' as const, 'u32' as const), at: position, value: fieldValue }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('cut' as const), at: fc.nat({ max: 1 << 20 }) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 64 }) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }), weight: 1 },
  {
    arbitrary: fc.record({
      op: fc.constant('chunk' as const),
      at: position,
      id: fc.constantFrom('LIST', 'JUNK', 'fmt ', 'data', 'ds64', 'bext', '\0\0\0\0', 'ID3\x03', 'TAG!', '\xff\xfb\x90\x00'),
      size: fieldValue,
      body: fc.uint8Array({ maxLength: 256 }),
    }),
    weight: 1,
  },
);
/** a base file and one to four mutations of it */
const mutant = fc.record({ base: fc.nat(), ops: fc.array(op, { minLength: 1, maxLength: 4 }) });

function mutate(which: { base: number; ops: Op[] }): { name: string; bytes: Buffer } {
  const base = bases[which.base % bases.length]!;
  let b = Buffer.from(base.bytes);
  for (const o of which.ops) {
    const at = o.at % (b.length + 1);
    if (o.op === 'flip' && at < b.length) b[at]! ^= 1 << o.bit;
    else if (o.op === 'u16' && at + 2 <= b.length) b.writeUInt16LE(o.value & 0xffff, at);
    else if (o.op === 'u32' && at + 4 <= b.length) b.writeUInt32LE(o.value >>> 0, at);
    else if (o.op === 'cut') b = b.subarray(0, at);
    else if (o.op === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + o.length)]);
    else if (o.op === 'insert') b = Buffer.concat([b.subarray(0, at), o.bytes, b.subarray(at)]);
    else if (o.op === 'chunk') {
      const header = Buffer.alloc(8);
      header.write(o.id, 0, 'latin1');
      header.writeUInt32LE(o.size >>> 0, 4);
      b = Buffer.concat([b.subarray(0, at), header, o.body, b.subarray(at)]);
    }
  }
  return { name: `${base.name} ${JSON.stringify(which.ops, (_k, v) => (v instanceof Uint8Array ? `${v.length} bytes` : v))}`, bytes: b };
}

/** the probe's answer, or the code and message of its refusal; anything else is thrown on */
type Outcome = AudioInfo | { code: string; message: string };
async function outcome(probe: () => AudioInfo | Promise<AudioInfo>): Promise<Outcome> {
  try {
    return await probe();
  } catch (err) {
    if (!(err instanceof CallvaultError)) throw err;
    return { code: err.code, message: err.message };
  }
}

function streamed(bytes: Buffer, chunks: readonly number[]): AudioInfo {
  const probe = new StreamProbe();
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = chunks[i % chunks.length]!;
    probe.push(Buffer.from(bytes.subarray(at, at + n)));
    at += n;
  }
  return probe.finish();
}

/** what is implausible about a probe's answer for `bytes`, or undefined */
function implausible(info: AudioInfo, bytes: Buffer): string | undefined {
  if (info.sampleRate < MIN_SAMPLE_RATE || info.sampleRate > MAX_SAMPLE_RATE) return `sample rate ${info.sampleRate}`;
  if (info.channels < 1 || info.channels > MAX_CHANNELS) return `${info.channels} channels`;
  if (!(info.durationMs > 0)) return `duration ${info.durationMs}`;
  if (info.wav) {
    const w = info.wav;
    if (w.blockAlign !== info.channels * Math.ceil(w.bitsPerSample / 8)) return 'block size';
    if (w.dataOffset + w.dataBytes > bytes.length) return 'data beyond the end';
    if (info.durationMs !== Math.round(((w.dataBytes / w.blockAlign) * 1000) / info.sampleRate)) return 'duration is not the data size';
  } else {
    // an MP3 holds at most 1 ms of audio per byte: 8 kbit/s is its lowest bitrate
    if (info.durationMs > bytes.length) return `an MP3 of ${bytes.length} bytes lasting ${info.durationMs} ms`;
  }
  return undefined;
}

const AUDIO_REFUSALS: string[] = [ErrorCodes.UNSUPPORTED_AUDIO, ErrorCodes.BROKEN_AUDIO];

test('audio: mutated WAV and MP3 files are probed (as a file and as an upload stream) to a plausible answer or refused', async () => {
  const tally = new Tally('audio probe');
  const scratch = join(await tempDir('src', 'fuzz-probe'), 'input');
  await fc.assert(
    fc.asyncProperty(mutant, fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 4 }), async (which, chunks) => {
      const { name, bytes } = mutate(which);
      tally.tried += 1;
      await writeFile(scratch, bytes);
      let byFile: Outcome;
      let byStream: Outcome;
      try {
        byFile = await outcome(() => probeAudio(scratch));
        byStream = await outcome(() => streamed(bytes, chunks));
      } catch (err) {
        tally.problems.push(`${name}: ${String(err)}`);
        return;
      }
      if (JSON.stringify(byStream) !== JSON.stringify(byFile)) tally.problems.push(`${name}: an upload would get ${JSON.stringify(byStream)}, import ${JSON.stringify(byFile)}`);
      if ('code' in byFile) {
        if (!AUDIO_REFUSALS.includes(byFile.code)) tally.problems.push(`${name}: refused with ${byFile.code}`);
        tally.refuse(byFile.code);
        return;
      }
      tally.accepted += 1;
      const wrong = implausible(byFile, bytes);
      if (wrong) tally.problems.push(`${name}: accepted with ${wrong}`);
    }),
    { seed: 1401, numRuns: 300, endOnFailure: true },
  );
  tally.report();
});

/** the probe's verdict on each of `files`, then `callvault import` of them; checks the import matches it */
async function checkImport(
  tally: Tally,
  vault: Vault,
  files: { path: string; name: string; bytes: Buffer }[],
  report: { imported: { path: string; id: string }[]; skipped: { path: string; reason: string }[]; failed: { path: string; reason: string }[] },
) {
  for (const f of files) {
    tally.tried += 1;
    const verdict = await outcome(() => probeAudio(f.path));
    const imported = report.imported.find((i) => i.path === f.path);
    const skipped = report.skipped.find((s) => s.path === f.path);
    const failed = report.failed.find((s) => s.path === f.path);
    if ('code' in verdict) {
      tally.refuse(verdict.code);
      const expected = verdict.code === ErrorCodes.UNSUPPORTED_AUDIO ? skipped?.reason === 'not a WAV or MP3 file' : failed?.reason === verdict.message;
      if (!expected) tally.problems.push(`${f.name}: probe refused it (${verdict.message}), import said ${JSON.stringify({ imported, skipped, failed })}`);
      continue;
    }
    // the same bytes twice: the second is skipped as already stored, and that one must read back
    const id = imported?.id ?? /already stored as ([0-9a-f-]{36})/.exec(skipped?.reason ?? '')?.[1];
    if (!id) {
      tally.problems.push(`${f.name}: probe accepted it, import said ${JSON.stringify({ skipped, failed })}`);
      continue;
    }
    tally.accepted += 1;
    const row = await vault.recordings.get(id);
    if (row?.state !== 'stored') {
      tally.lost.push(`${f.name}: imported as ${id}, but ${row ? `its row is ${row.state}` : 'there is no row'}`);
      continue;
    }
    const readBack = await plaintextSha256(vault, row).catch((err: unknown) => `unreadable: ${String(err)}`);
    if (readBack !== sha256(f.bytes)) tally.lost.push(`${f.name}: stored as ${id}, reads back ${readBack}`);
    if (row.duration_ms !== verdict.durationMs || row.format !== verdict.format)
      tally.problems.push(`${f.name}: stored ${row.format} ${row.duration_ms} ms, probed ${verdict.format} ${verdict.durationMs} ms`);
  }
}

async function writeMutants(seed: number, count: number): Promise<{ path: string; name: string; bytes: Buffer }[]> {
  const dir = await tempDir('src', 'fuzz-import');
  const out = [];
  for (const [i, which] of fc.sample(mutant, { seed, numRuns: count }).entries()) {
    const { name, bytes } = mutate(which);
    // no extension: content decides, and a `.json` or `.vtt` name would make it a sidecar
    const path = join(dir, `input-${String(i).padStart(3, '0')}`);
    await writeFile(path, bytes);
    out.push({ path, name, bytes });
  }
  return out;
}

async function assertCleanStore(vault: Vault, label: string): Promise<void> {
  assert.deepEqual(
    (await vault.recordings.pending()).map((r) => r.id),
    [],
    `${label}: no pending rows`,
  );
  assert.deepEqual((await verifyStore(vault, { deep: true })).problems, [], `${label}: verify --deep is clean`);
}

test('audio: the real import stores each mutated file that probes as audio, and it reads back byte for byte', async () => {
  const tally = new Tally('audio import');
  const files = await writeMutants(1402, 60);
  const dataDir = await tempDir('data', 'fuzz-import');
  const vault = await Vault.create(dataDir, { passphrase: PASSPHRASE, controllerId: 'region-a', controllerName: 'Region A', kdf: TEST_KDF });
  try {
    const { report } = await createServices(vault).ingest.importPaths(operatorActor('fuzz'), [join(files[0]!.path, '..')], { examine: false });
    await checkImport(tally, vault, files, report);
    await assertCleanStore(vault, 'import');
    assert.deepEqual(await filesUnder(join(dataDir, 'objects', '.tmp')), [], 'no temporary object left');
  } finally {
    await vault.close();
  }
  tally.report();
});

test('audio: a handful through the CLI, the way an operator runs it', async () => {
  const tally = new Tally('audio import (CLI)');
  const files = await writeMutants(1403, 10);
  const dataDir = await tempDir('data', 'fuzz-cli');
  await (await Vault.create(dataDir, { passphrase: PASSPHRASE, controllerId: 'region-a', controllerName: 'Region A', kdf: TEST_KDF })).close();
  const r = await cli(['--data', dataDir, 'import', join(files[0]!.path, '..'), '--json']);
  assert.ok(r.code === 0 || r.code === 1, `import ran: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at |internal error/, 'no stack trace, no internal error');
  const vault = await Vault.open(dataDir);
  try {
    await vault.unlock(PASSPHRASE);
    await checkImport(tally, vault, files, r.json);
    await assertCleanStore(vault, 'CLI import');
  } finally {
    await vault.close();
  }
  tally.report();
});

// ---------------------------------------------------------------------------------------------
// Multipart bodies against a real server

interface PartSpec {
  name: string | undefined;
  filename: string | undefined;
  contentType: string | undefined;
  extraHeaders: string[];
  body: { kind: 'metadata' | 'bad-json' | 'transcript' | 'audio' | 'mutant' | 'random' | 'nested'; pick: number; bytes: Uint8Array };
}

const partSpec: fc.Arbitrary<PartSpec> = fc.record({
  name: fc.constantFrom('metadata', 'transcript', 'audio', 'audio', 'comment', '', undefined, '__proto__', 'constructor', 'audio\u00e9', 'a"b'),
  filename: fc.constantFrom(undefined, undefined, 'call.wav', 'call.mp3', '', '../../etc/passwd', 'x'.repeat(300), 'call\u0000.wav'),
  contentType: fc.constantFrom(
    undefined,
    'audio/wav',
    'audio/mpeg',
    'text/vtt',
    'application/x-subrip',
    'application/json',
    'text/plain; charset=utf-8',
    'multipart/mixed; boundary=inner',
    'application/octet-stream',
    'text/plain; charset=x-unknown',
  ),
  extraHeaders: fc.array(
    fc.constantFrom(
      'X-Note: b',
      'Content-Transfer-Encoding: base64',
      'a header without a colon',
      'Content-Disposition: attachment',
      `X-Long: ${'l'.repeat(9000)}`,
      ' folded continuation',
    ),
    { maxLength: 2 },
  ),
  body: fc.record({
    kind: fc.constantFrom('metadata', 'metadata', 'bad-json', 'transcript', 'audio', 'audio', 'mutant', 'random', 'nested'),
    pick: fc.nat(),
    bytes: fc.uint8Array({ maxLength: 512 }),
  }),
});

const bodySpec = fc.record({
  boundary: fc.oneof(fc.constant('cvfuzz'), fc.stringMatching(/^[A-Za-z0-9'()+_,./:=?-]{1,70}$/), fc.constantFrom('', ' ', 'x'.repeat(100), 'y'.repeat(300), 'a b')),
  contentType: fc.constantFrom('form', 'form', 'form', 'quoted', 'no-boundary', 'mixed', 'none', 'other-boundary', 'charset', 'upper'),
  preamble: fc.constantFrom('', '', 'preamble text\r\n', '\r\n'),
  parts: fc.array(partSpec, { maxLength: 4 }),
  ending: fc.constantFrom('close', 'close', 'close', 'none', 'cut', 'junk', 'lf-only'),
  cutAt: fc.nat(),
  chunked: fc.boolean(),
});

/** an upload a recorder would send, to keep some 201s and 200s among the refusals */
const wellFormed = fc.record({ audio: fc.nat(), mutant, withTranscript: fc.boolean(), mutate: fc.boolean() });

const transcriptTexts = ['call.vtt', 'call.srt', 'openai-verbose.json', 'bad-timestamp.vtt'].map((f) => readFileSync(join(REPO, 'testdata', 'transcripts', f), 'utf8'));

function partBody(spec: PartSpec['body']): Buffer {
  switch (spec.kind) {
    case 'metadata':
      return Buffer.from(
        JSON.stringify([{ agent: 'a1', region: 'north' }, {}, { direction: 'inbound', startedAt: '2024-05-01T10:00:00Z' }, { direction: 'sideways' }][spec.pick % 4]),
      );
    case 'bad-json':
      return Buffer.from(['{"agent": ', 'null', '[]', '{"__proto__": {"x": 1}}', '"text"'][spec.pick % 5]!);
    case 'transcript':
      return Buffer.from(transcriptTexts[spec.pick % transcriptTexts.length]!);
    case 'audio':
      return bases[spec.pick % bases.length]!.bytes;
    case 'mutant':
      return mutate({ base: spec.pick, ops: [{ op: 'flip', at: spec.pick % 97, bit: spec.pick % 8 }] }).bytes;
    case 'random':
      return Buffer.from(spec.bytes);
    case 'nested':
      return Buffer.from(
        `--inner\r\nContent-Disposition: form-data; name="audio"; filename="a.wav"\r\n\r\nRIFF${Buffer.from(spec.bytes).toString('latin1')}\r\n--inner--\r\n`,
        'latin1',
      );
  }
}

function multipartBody(spec: typeof bodySpec extends fc.Arbitrary<infer T> ? T : never): { contentType: string | undefined; body: Buffer } {
  const nl = spec.ending === 'lf-only' ? '\n' : '\r\n';
  const chunks: Buffer[] = [Buffer.from(spec.preamble, 'latin1')];
  for (const p of spec.parts) {
    let head = `--${spec.boundary}${nl}`;
    if (p.name !== undefined || p.filename !== undefined) {
      head += 'Content-Disposition: form-data';
      if (p.name !== undefined) head += `; name="${p.name}"`;
      if (p.filename !== undefined) head += `; filename="${p.filename}"`;
      head += nl;
    }
    if (p.contentType) head += `Content-Type: ${p.contentType}${nl}`;
    for (const h of p.extraHeaders) head += `${h}${nl}`;
    chunks.push(Buffer.from(`${head}${nl}`, 'utf8'), partBody(p.body), Buffer.from(nl));
  }
  if (spec.ending !== 'none' && spec.ending !== 'cut') chunks.push(Buffer.from(`--${spec.boundary}--${nl}`));
  if (spec.ending === 'junk') chunks.push(Buffer.from('trailing junk after the closing boundary'));
  let body = Buffer.concat(chunks);
  if (spec.ending === 'cut') body = body.subarray(0, spec.cutAt % (body.length + 1));
  const contentType = {
    form: `multipart/form-data; boundary=${spec.boundary}`,
    quoted: `multipart/form-data; boundary="${spec.boundary}"`,
    'no-boundary': 'multipart/form-data',
    mixed: `multipart/mixed; boundary=${spec.boundary}`,
    none: undefined,
    'other-boundary': 'multipart/form-data; boundary=not-the-one-used',
    charset: `multipart/form-data; charset=utf-8; boundary=${spec.boundary}`,
    upper: `MULTIPART/FORM-DATA; BOUNDARY=${spec.boundary}`,
  }[spec.contentType];
  return { contentType, body };
}

function wellFormedBody(spec: typeof wellFormed extends fc.Arbitrary<infer T> ? T : never): { contentType: string; body: Buffer } {
  const audio = spec.mutate ? mutate({ ...spec.mutant, base: spec.audio }).bytes : bases[spec.audio % bases.length]!.bytes;
  const parts: Buffer[] = [Buffer.from(`--cvfuzz\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n{"agent":"a1"}\r\n`)];
  if (spec.withTranscript)
    parts.push(
      Buffer.from(
        `--cvfuzz\r\nContent-Disposition: form-data; name="transcript"; filename="call.vtt"\r\nContent-Type: text/vtt\r\n\r\n${transcriptTexts[spec.audio % transcriptTexts.length]}\r\n`,
      ),
    );
  parts.push(
    Buffer.from('--cvfuzz\r\nContent-Disposition: form-data; name="audio"; filename="call.wav"\r\nContent-Type: audio/wav\r\n\r\n'),
    audio,
    Buffer.from('\r\n--cvfuzz--\r\n'),
  );
  return { contentType: 'multipart/form-data; boundary=cvfuzz', body: Buffer.concat(parts) };
}

function rawUpload(token: string, contentType: string | undefined, body: Buffer, chunked: boolean): Buffer {
  const lines = ['POST /api/v1/recordings HTTP/1.1', 'Host: localhost', `Authorization: Bearer ${token}`];
  if (contentType !== undefined) lines.push(`Content-Type: ${contentType}`);
  lines.push(chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${body.length}`, 'Connection: close');
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  if (!chunked) return Buffer.concat([head, body]);
  const pieces: Buffer[] = [head];
  for (let at = 0; at < body.length; at += 997) {
    const piece = body.subarray(at, at + 997);
    pieces.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  pieces.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(pieces);
}

let server: TestServer | undefined;

after(async () => {
  await server?.close();
  const sum = (f: (t: Tally) => number) => tallies.reduce((n, t) => n + f(t), 0);
  const refused = sum((t) => Object.values(t.refused).reduce((a, b) => a + b, 0));
  console.log(
    `fuzz total: ${sum((t) => t.tried)} inputs tried, ${sum((t) => t.accepted)} accepted, ${refused} refused with a code; problems: ${sum((t) => t.problems.length)}; lost: ${sum((t) => t.lost.length)}`,
  );
});

test('multipart: random and malformed upload bodies get a 4xx in our error shape or a 201/200, never a 500 or no answer; nothing is left pending', async () => {
  const tally = new Tally('multipart');
  server = await startTestServer();
  const token = (await createToken(server.vault, { name: 'fuzz', scope: 'ingest', controllerId: 'region-a', days: 1 })).token;
  const stored = new Map<string, string>();
  const send = async (label: string, request: Buffer) => {
    tally.tried += 1;
    const res = await rawRequest(server!, request, 30_000);
    if (res.status === undefined) {
      tally.problems.push(`${label}: no answer (${res.error ?? 'closed'})`);
      return;
    }
    if (res.status === 200 || res.status === 201) {
      tally.accepted += 1;
      if (res.json?.id && res.json?.sha256) stored.set(res.json.id, res.json.sha256);
      else tally.problems.push(`${label}: ${res.status} without an id`);
      return;
    }
    if (res.status >= 500) {
      tally.problems.push(`${label}: ${res.status} ${res.body.toString('utf8').slice(0, 120)}`);
      return;
    }
    try {
      assertErrorAnswer(res, [], label);
      tally.refuse(`${res.status} ${res.json.error.code}`);
    } catch (err) {
      tally.problems.push((err as Error).message.split('\n')[0]!);
    }
  };

  const inputs = [
    ...fc.sample(bodySpec, { seed: 1404, numRuns: 220 }).map((spec, i) => {
      const { contentType, body } = multipartBody(spec);
      return {
        label: `body ${i} (${JSON.stringify({ ...spec, parts: spec.parts.length, boundary: spec.boundary.slice(0, 20) })})`,
        request: rawUpload(token, contentType, body, spec.chunked),
      };
    }),
    ...fc.sample(wellFormed, { seed: 1405, numRuns: 40 }).map((spec, i) => {
      const { contentType, body } = wellFormedBody(spec);
      return { label: `recorder upload ${i}`, request: rawUpload(token, contentType, body, false) };
    }),
  ];
  // interleaved, so that refusals and stores alternate as they would on a busy server
  inputs.sort((a, b) => sha256(a.request).localeCompare(sha256(b.request)));
  for (const { label, request } of inputs) await send(label, request);

  for (const [id, answered] of stored) {
    const row = await server.vault.recordings.get(id);
    const readBack = row?.state === 'stored' ? await plaintextSha256(server.vault, row).catch((err: unknown) => String(err)) : `row ${row?.state ?? 'missing'}`;
    if (readBack !== answered) tally.lost.push(`${id}: answered ${answered}, reads back ${readBack}`);
  }
  await assertCleanStore(server.vault, 'multipart');
  assert.deepEqual(await filesUnder(join(server.dataDir, 'objects', '.tmp')), [], 'no temporary object left');
  // still serving
  assert.equal((await rawRequest(server, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')).status, 200);
  tally.report();
  assert.ok(tally.accepted > 0 && Object.keys(tally.refused).length > 3, 'the fuzzer reached both stores and several kinds of refusal');
});

// ---------------------------------------------------------------------------------------------
// Transcripts

test('transcripts: damaged WebVTT, SRT and whisper JSON are read or refused with CV_INVALID_TRANSCRIPT', () => {
  const tally = new Tally('transcripts');
  const files = ['call.vtt', 'karaoke.vtt', 'call.srt', 'call-crlf-bom.srt', 'openai-verbose.json', 'openai-words-only.json', 'whisperx.json', 'whisper-cpp.json'].map((f) =>
    readFileSync(join(REPO, 'testdata', 'transcripts', f)),
  );
  // byte-level damage, and JSON values of the wrong kind where whisper puts numbers and text
  const damage = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({
      kind: fc.constant('bytes' as const),
      at: fc.nat(),
      bytes: fc.constantFrom(Buffer.from([0xff, 0xfe]), Buffer.from([0xc3]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0]), Buffer.from('\u2028'), Buffer.from('\ufeff')),
    }),
    fc.record({
      kind: fc.constant('number' as const),
      at: fc.nat(),
      value: fc.constantFrom('-1', '1e309', 'NaN', '"12"', 'null', '[]', '{}', '99999999999999999999', '0.0000001', 'true'),
    }),
  );
  fc.assert(
    fc.property(
      fc.nat(),
      fc.array(damage, { minLength: 1, maxLength: 3 }),
      fc.constantFrom(undefined, 'text/vtt', 'application/x-subrip', 'application/json'),
      (which, edits, type) => {
        let b = Buffer.from(files[which % files.length]!);
        for (const e of edits) {
          const at = e.at % (b.length + 1);
          if (e.kind === 'flip' && at < b.length) b[at]! ^= 1 << e.bit;
          else if (e.kind === 'cut') b = b.subarray(0, at);
          else if (e.kind === 'bytes') b = Buffer.concat([b.subarray(0, at), e.bytes, b.subarray(at)]);
          else if (e.kind === 'number') {
            // replace the number that starts at or after `at`
            const text = b.toString('utf8');
            const m = /-?\d+(\.\d+)?/g;
            m.lastIndex = Math.min(at, text.length);
            const found = m.exec(text);
            if (found) b = Buffer.from(text.slice(0, found.index) + e.value + text.slice(found.index + found[0].length), 'utf8');
          }
        }
        tally.tried += 1;
        try {
          const parsed = parseTranscript(b, type);
          // what is accepted is stored in canonical form: that form must read back the same
          assert.deepEqual(parseTranscript(Buffer.from(serializeTranscript(parsed)), 'application/json').segments, parsed.segments);
          tally.accepted += 1;
        } catch (err) {
          if (err instanceof CallvaultError && err.code === ErrorCodes.INVALID_TRANSCRIPT) tally.refuse(err.code);
          else tally.problems.push(`${JSON.stringify(edits)} as ${type}: ${String(err)}`);
        }
      },
    ),
    { seed: 1406, numRuns: 400 },
  );
  tally.report();
});
