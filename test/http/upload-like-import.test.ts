/**
 * The upload route accepts every file `callvault import` accepts, and stores the same format,
 * codec, rate, channels and duration for it: an ordinary 10-minute MP3 from ffmpeg (refused
 * before with 415 "the audio headers are not near the start of the upload", as the server probed
 * only the first MiB and the last 128 KiB), an MP3 behind a 2 MiB ID3 tag, and a WAV with 1.5 MiB
 * of metadata before its samples. Each upload reads back byte for byte.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile as execFileCb } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { createToken } from '../../src/identities/tokens.js';
import { plaintextSha256 } from '../../src/recordings/read.js';
import { cli, initVault, tempDir } from '../helpers.js';
import { wavHeader } from '../fixtures/audio.js';
import { startTestServer, upload, type TestServer } from './harness.js';

const execFile = promisify(execFileCb);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let server: TestServer;
let token: string;
let files: string[];

/** ID3v2.3 with one PRIV frame of `bytes` (what cover art looks like to a parser) */
function id3Tag(bytes: number): Buffer {
  const body = Buffer.alloc(bytes, 0x5a);
  const frame = Buffer.concat([Buffer.from('PRIV', 'latin1'), Buffer.alloc(6), body]);
  frame.writeUInt32BE(body.length, 4);
  const header = Buffer.from('ID3\x03\x00\x00\x00\x00\x00\x00', 'latin1');
  for (let i = 0; i < 4; i++) header[9 - i] = (frame.length >> (7 * i)) & 0x7f;
  return Buffer.concat([header, frame]);
}

before(async () => {
  const dir = await tempDir('src', 'upload-like-import');
  const tenMinutes = join(dir, 'ten-minutes.mp3');
  await execFile('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=600', '-ar', '22050', '-b:a', '32k', '-ac', '1', tenMinutes]);
  const short = join(dir, 'short.mp3');
  await execFile('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=300:duration=3',
    '-ar',
    '8000',
    '-b:a',
    '16k',
    '-ac',
    '1',
    '-id3v2_version',
    '0',
    short,
  ]);
  const art = join(dir, 'behind-a-large-tag.mp3');
  await writeFile(art, Buffer.concat([id3Tag(2 * 1024 * 1024), await readFile(short)]));
  // a WAV whose samples start after 1.5 MiB of LIST metadata
  const samples = Buffer.alloc(16000);
  for (let i = 0; i < 8000; i++) samples.writeInt16LE(Math.round(6000 * Math.sin(i / 3)), 2 * i);
  const header = wavHeader({ formatTag: 1, channels: 1, rate: 8000, bits: 16, dataBytes: samples.length });
  const list = Buffer.alloc(8 + 1.5 * 1024 * 1024);
  list.write('LIST', 0, 'latin1');
  list.writeUInt32LE(list.length - 8, 4);
  list.write('INFO', 8, 'latin1');
  const wav = Buffer.concat([header.subarray(0, 36), list, header.subarray(36), samples]);
  wav.writeUInt32LE(wav.length - 8, 4);
  const metadataFirst = join(dir, 'metadata-first.wav');
  await writeFile(metadataFirst, wav);
  files = [tenMinutes, art, metadataFirst];

  server = await startTestServer();
  token = (await createToken(server.vault, { name: 'recorder', scope: 'ingest', controllerId: 'region-a', days: 30 })).token;
});

after(async () => {
  await server?.close();
});

test('every file import accepts is accepted over HTTP, stored with the same format and duration, and reads back', async () => {
  const uploaded = new Map<string, { id: string; sha256: string }>();
  for (const path of files) {
    const res = await upload(server, token, await readFile(path), { agent: 'a1' });
    assert.equal(res.status, 201, `${basename(path)}: ${JSON.stringify(res.json)}`);
    uploaded.set(basename(path), res.json);
  }

  const { dir: importVault } = await initVault();
  const imported = await cli(['--data', importVault, 'import', ...files, '--json']);
  assert.equal(imported.code, 0, imported.stderr);
  assert.equal(imported.json.imported.length, files.length);
  const listed = await cli(['--data', importVault, 'recordings', 'list', '--json', '--limit', '10']);
  const byId = new Map<string, any>(listed.json.recordings.map((r: any) => [r.id, r]));

  for (const path of files) {
    const name = basename(path);
    const bytes = await readFile(path);
    const byImport = byId.get(imported.json.imported.find((i: any) => i.path === path).id);
    const row = (await server.vault.recordings.get(uploaded.get(name)!.id))!;
    const byUpload = { durationMs: row.duration_ms, format: row.format, codec: row.codec, sampleRate: row.sample_rate, channels: row.channels };
    const expected = { durationMs: byImport.durationMs, format: byImport.format, codec: byImport.codec, sampleRate: byImport.sampleRate, channels: byImport.channels };
    assert.deepEqual(byUpload, expected, name);
    assert.equal(uploaded.get(name)!.sha256, sha256(bytes), name);
    assert.equal(await plaintextSha256(server.vault, row), sha256(bytes), `${name} reads back byte for byte`);
  }
  // the 10-minute MP3 lasts what ffprobe says (22,971 frames of 576 samples at 22.05 kHz)
  const tenMinutes = (await server.vault.recordings.get(uploaded.get('ten-minutes.mp3')!.id))!;
  assert.deepEqual([tenMinutes.format, tenMinutes.sample_rate, tenMinutes.channels, tenMinutes.duration_ms], ['mp3', 22050, 1, 600_059]);
});
