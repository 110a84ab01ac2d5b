/**
 * A player's range requests (issue 21): each is one read of the sealed segments it covers,
 * decrypted into one buffer. The answers are the plaintext's bytes for ranges anywhere (segment
 * boundaries, the first and the last byte, one byte, across many segments), and a damaged
 * segment inside a range fails opaque before any byte is sent, while ranges beside it still play.
 * Real server over HTTPS, real file store.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { createToken } from '../../src/identities/tokens.js';
import { recordingBlobKey } from '../../src/storage/blob-store.js';
import { HEADER_SIZE, SEGMENT_SIZE } from '../../src/container/header.js';
import { sealedSegmentOffset } from '../../src/container/segments.js';
import { prng } from '../fixtures/audio.js';
import { noiseCall } from '../faults/serve-process.js';
import { assertErrorAnswer } from './fixtures.js';
import { signedInUser, startTestServer, upload, type TestServer, type TestUser } from './harness.js';

let server: TestServer;
let nurse: TestUser;
let wav: Buffer;
let recordingId: string;
let audioUrl: string;

before(async () => {
  server = await startTestServer();
  // eleven and a bit segments of noise: ranges can start and end anywhere
  wav = noiseCall(11 * SEGMENT_SIZE + 12_345 - 44);
  const { token } = await createToken(server.vault, { name: 'recorder-range', scope: 'ingest', controllerId: 'region-a', days: 1 });
  const res = await upload(server, token, wav, { agent: 'agent-r' }, 'WEBVTT\n\n00:00.000 --> 00:01.000\nHej\n');
  assert.equal(res.status, 201, JSON.stringify(res.json));
  recordingId = res.json.id;
  nurse = await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'agent-r' });
  const access = await nurse.client.post(`/api/v1/recordings/${recordingId}/access`, { purpose: 'quality-review' });
  assert.equal(access.status, 201, JSON.stringify(access.json));
  audioUrl = access.json.audioUrl;
});

after(async () => {
  await server.close();
});

async function range(first: number, last: number) {
  return nurse.client.request('GET', audioUrl, { headers: { range: `bytes=${first}-${last}` } });
}

test('range answers are the plaintext, byte for byte, at segment boundaries, the last byte and random places', async () => {
  const size = wav.length;
  const spans: [number, number][] = [
    [0, 0],
    [0, SEGMENT_SIZE - 1],
    [SEGMENT_SIZE - 1, SEGMENT_SIZE],
    [SEGMENT_SIZE, 2 * SEGMENT_SIZE - 1],
    [3 * SEGMENT_SIZE - 10, 5 * SEGMENT_SIZE + 10],
    [11 * SEGMENT_SIZE - 1, size - 1],
    [size - 1, size - 1],
    [size - 256 * 1024, size - 1],
    [0, size - 1],
  ];
  const random = prng(2121);
  for (let i = 0; i < 60; i++) {
    const first = Math.floor(random() * size);
    const length = 1 + Math.floor(random() * (i % 3 === 0 ? 300 * 1024 : 5000));
    spans.push([first, Math.min(size - 1, first + length - 1)]);
  }
  for (const [first, last] of spans) {
    const res = await range(first, last);
    assert.equal(res.status, 206, `${first}-${last}`);
    assert.equal(res.headers['content-range'], `bytes ${first}-${last}/${size}`);
    assert.equal(Number(res.headers['content-length']), last - first + 1);
    assert.ok(res.body.equals(wav.subarray(first, last + 1)), `bytes ${first}-${last} differ from the plaintext`);
  }
});

test('a damaged segment inside a range fails opaque; ranges that do not touch it still play', async () => {
  const path = join(server.dataDir, 'objects', ...recordingBlobKey(recordingId).split('/'));
  const file = await open(path, 'r+');
  const at = sealedSegmentOffset(6, SEGMENT_SIZE) + 1000;
  const original = Buffer.alloc(1);
  try {
    await file.read(original, 0, 1, at);
    await file.write(Buffer.from([original[0]! ^ 0x20]), 0, 1, at);
    assert.ok(at > HEADER_SIZE);
    for (const [first, last] of [
      [6 * SEGMENT_SIZE + 5, 6 * SEGMENT_SIZE + 10],
      [5 * SEGMENT_SIZE, 7 * SEGMENT_SIZE + 100],
      [6 * SEGMENT_SIZE - 1, 6 * SEGMENT_SIZE],
    ] as const) {
      const res = await range(first, last);
      assertErrorAnswer(res, [], `bytes ${first}-${last}`);
      assert.equal(res.status, 500);
      assert.equal(res.json.error.code, 'CV_DECRYPTION_FAILED');
      assert.equal(res.headers['content-range'], undefined, 'no range header on a failure');
    }
    const before6 = await range(5 * SEGMENT_SIZE, 6 * SEGMENT_SIZE - 1);
    assert.equal(before6.status, 206);
    assert.ok(before6.body.equals(wav.subarray(5 * SEGMENT_SIZE, 6 * SEGMENT_SIZE)));
    const after6 = await range(7 * SEGMENT_SIZE, 7 * SEGMENT_SIZE + 99);
    assert.equal(after6.status, 206);
    assert.ok(after6.body.equals(wav.subarray(7 * SEGMENT_SIZE, 7 * SEGMENT_SIZE + 100)));
  } finally {
    await file.write(original, 0, 1, at);
    await file.close();
  }
  // repaired, the same range plays again
  const res = await range(6 * SEGMENT_SIZE + 5, 6 * SEGMENT_SIZE + 10);
  assert.equal(res.status, 206);
  assert.ok(res.body.equals(wav.subarray(6 * SEGMENT_SIZE + 5, 6 * SEGMENT_SIZE + 11)));
});
