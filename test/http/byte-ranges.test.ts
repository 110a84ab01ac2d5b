/**
 * The range plan on its own: RFC 9110 §14 (Range), §13.1.5 (If-Range), §15.3.7 (206, multipart).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COALESCE_GAP, MAX_RANGES, coalesce, ifRangeMatches, multipartBody, multipartLayout, planRanges, type RangeRequest } from '../../src/http/byte-ranges.js';

const SIZE = 480_000;
const ETAG = '"abcdefghijklmnopqrstuv"';
const MODIFIED = new Date('2026-11-20T10:00:00.250Z');
const NOW = new Date('2026-11-24T09:00:00Z');
const plan = (range: string | undefined, extra: Partial<RangeRequest> = {}) => planRanges({ size: SIZE, range, etag: ETAG, lastModified: MODIFIED, now: NOW, ...extra });

test('one range: first-last, open-ended, suffix, an end past the end', () => {
  assert.deepEqual(plan(undefined), { kind: 'whole' });
  assert.deepEqual(plan('bytes=0-99'), { kind: 'single', start: 0, end: 100 });
  assert.deepEqual(plan('bytes=100-'), { kind: 'single', start: 100, end: SIZE });
  assert.deepEqual(plan('bytes=-1000'), { kind: 'single', start: SIZE - 1000, end: SIZE });
  assert.deepEqual(plan(`bytes=10-${SIZE * 2}`), { kind: 'single', start: 10, end: SIZE });
  assert.deepEqual(plan(`bytes=${SIZE - 1}-`), { kind: 'single', start: SIZE - 1, end: SIZE });
  assert.deepEqual(plan('BYTES = 0-9'), { kind: 'single', start: 0, end: 10 }, 'the unit is case-insensitive');
});

test('a suffix longer than the representation is all of it, as 206 (§14.1.3)', () => {
  assert.deepEqual(plan(`bytes=-${SIZE}`), { kind: 'single', start: 0, end: SIZE });
  assert.deepEqual(plan(`bytes=-${SIZE * 2}`), { kind: 'single', start: 0, end: SIZE });
  assert.deepEqual(plan(`bytes= - ${SIZE * 2} `), { kind: 'single', start: 0, end: SIZE });
});

test('unsatisfiable: every range starts past the end, or a zero-length suffix', () => {
  for (const range of [`bytes=${SIZE}-`, `bytes=${SIZE + 100}-${SIZE + 200}`, 'bytes=-0', `bytes=${SIZE}-,${SIZE + 5}-`, 'bytes=5-1']) {
    assert.deepEqual(plan(range), { kind: 'unsatisfiable' }, range);
  }
  assert.deepEqual(planRanges({ size: 0, range: 'bytes=0-', etag: ETAG, lastModified: MODIFIED }), { kind: 'unsatisfiable' });
  // an unsatisfiable range among satisfiable ones is left out
  assert.deepEqual(plan(`bytes=0-9,${SIZE}-`), { kind: 'single', start: 0, end: 10 });
});

test('malformed headers and other units: the whole representation (§14.2)', () => {
  for (const range of ['bytes=abc', 'bytes=', 'bytes=--1', 'bytes=1-2-3', 'bytes 0-9', 'bytes=0x10-0x20', 'bytes=-', 'items=0-9', '=0-9', 'bits=0-7', 'bytes=0-9,,']) {
    assert.deepEqual(plan(range), { kind: 'whole' }, range);
  }
});

test('several ranges: two parts for bytes=0-0,-1; ten spread bytes give ten parts, in the order asked', () => {
  assert.deepEqual(plan('bytes=0-0,-1'), {
    kind: 'multipart',
    parts: [
      { start: 0, end: 1 },
      { start: SIZE - 1, end: SIZE },
    ],
  });
  const offsets = [9, 3, 1, 5, 7, 2, 8, 4, 6, 0].map((i) => i * 40_000 + 17);
  const ten = plan(`bytes=${offsets.map((o) => `${o}-${o}`).join(',')}`);
  assert.deepEqual(ten, { kind: 'multipart', parts: offsets.map((o) => ({ start: o, end: o + 1 })) });
});

test('overlapping and nearly adjacent ranges are coalesced; ranges further apart are not', () => {
  assert.deepEqual(plan('bytes=0-9,5-20'), { kind: 'single', start: 0, end: 21 });
  assert.deepEqual(plan('bytes=0-99,100-199'), { kind: 'single', start: 0, end: 200 });
  // a gap under COALESCE_GAP bytes costs less than another part's framing
  assert.deepEqual(plan(`bytes=0-9,${10 + COALESCE_GAP - 1}-${10 + COALESCE_GAP + 9}`), { kind: 'single', start: 0, end: 10 + COALESCE_GAP + 10 });
  assert.deepEqual(plan(`bytes=0-9,${10 + COALESCE_GAP}-${10 + COALESCE_GAP + 9}`), {
    kind: 'multipart',
    parts: [
      { start: 0, end: 10 },
      { start: 10 + COALESCE_GAP, end: 20 + COALESCE_GAP },
    ],
  });
  // a coalesced part takes the place of its first member
  assert.deepEqual(plan('bytes=5000-5009,100-109,50-59'), {
    kind: 'multipart',
    parts: [
      { start: 5000, end: 5010 },
      { start: 50, end: 110 },
    ],
  });
  assert.deepEqual(
    coalesce([
      { start: 10, end: 20 },
      { start: 0, end: 30 },
      { start: 1000, end: 1001 },
    ]),
    [
      { start: 0, end: 30 },
      { start: 1000, end: 1001 },
    ],
  );
});

test('range abuse: more than MAX_RANGES ranges, or more bytes asked than there are, is answered whole', () => {
  const many = (n: number) => `bytes=${Array.from({ length: n }, (_, i) => `${i * 1000}-${i * 1000}`).join(',')}`;
  assert.equal(plan(many(MAX_RANGES)).kind, 'multipart');
  assert.deepEqual(plan(many(MAX_RANGES + 1)), { kind: 'whole' });
  assert.deepEqual(plan('bytes=0-,0-'), { kind: 'whole' });
  assert.deepEqual(plan(`bytes=0-${SIZE / 2},${SIZE / 2 - 10}-`), { kind: 'whole' });
  assert.deepEqual(plan('bytes=0-0,-1000000'), { kind: 'whole' });
  // many overlapping ranges that add up to less than the file are coalesced, not refused
  assert.deepEqual(plan(`bytes=${Array.from({ length: 20 }, () => '0-99').join(',')}`), { kind: 'single', start: 0, end: 100 });
});

test('If-Range: the current strong ETag or the exact Last-Modified date applies the range; anything else gives the whole (§13.1.5)', () => {
  assert.deepEqual(plan('bytes=0-9', { ifRange: ETAG }), { kind: 'single', start: 0, end: 10 });
  assert.deepEqual(plan('bytes=0-9', { ifRange: '"another"' }), { kind: 'whole' });
  assert.deepEqual(plan('bytes=0-9', { ifRange: `W/${ETAG}` }), { kind: 'whole' }, 'a weak tag never matches');
  assert.deepEqual(plan('bytes=0-9', { ifRange: MODIFIED.toUTCString() }), { kind: 'single', start: 0, end: 10 });
  assert.deepEqual(plan('bytes=0-9', { ifRange: new Date(MODIFIED.getTime() + 1000).toUTCString() }), { kind: 'whole' });
  assert.deepEqual(plan('bytes=0-9', { ifRange: new Date(MODIFIED.getTime() - 1000).toUTCString() }), { kind: 'whole' });
  assert.deepEqual(plan('bytes=0-9', { ifRange: 'not a date' }), { kind: 'whole' });
  // without Range, If-Range is ignored; an unsatisfiable range under a stale validator is the whole
  assert.deepEqual(plan(undefined, { ifRange: '"another"' }), { kind: 'whole' });
  assert.deepEqual(plan(`bytes=${SIZE}-`, { ifRange: '"another"' }), { kind: 'whole' });
  assert.deepEqual(plan(`bytes=${SIZE}-`, { ifRange: ETAG }), { kind: 'unsatisfiable' });
  // a Last-Modified less than a second old is weak: a date does not validate it
  assert.equal(ifRangeMatches(MODIFIED.toUTCString(), ETAG, MODIFIED, new Date(MODIFIED.getTime() + 500)), false);
  assert.equal(ifRangeMatches(MODIFIED.toUTCString(), ETAG, MODIFIED, new Date(MODIFIED.getTime() + 1000)), true);
});

test('multipart framing: exact length up front, each part with Content-Type and Content-Range', async () => {
  const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
  const parts = [
    { start: 900, end: 1000 },
    { start: 0, end: 1 },
    { start: 500, end: 510 },
  ];
  const layout = multipartLayout(parts, data.length, 'audio/wav', 'b0undary');
  assert.equal(layout.contentType, 'multipart/byteranges; boundary=b0undary');
  const chunks: Buffer[] = [];
  const reads: [number, number][] = [];
  const read = async function* (start: number, end: number) {
    reads.push([start, end]);
    yield data.subarray(start, end);
  };
  for await (const chunk of multipartBody(layout, parts, read)) chunks.push(chunk);
  const body = Buffer.concat(chunks);
  assert.equal(body.length, layout.length);
  assert.deepEqual(
    reads,
    [
      [900, 1000],
      [0, 1],
      [500, 510],
    ],
    'read once per part, only its bytes',
  );
  const text = body.toString('latin1');
  assert.ok(text.startsWith('--b0undary\r\nContent-Type: audio/wav\r\nContent-Range: bytes 900-999/1000\r\n\r\n'));
  assert.ok(text.includes('\r\n--b0undary\r\nContent-Type: audio/wav\r\nContent-Range: bytes 0-0/1000\r\n\r\n'));
  assert.ok(text.endsWith('\r\n--b0undary--\r\n'));
  const second = text.indexOf('Content-Range: bytes 500-509/1000\r\n\r\n') + 'Content-Range: bytes 500-509/1000\r\n\r\n'.length;
  assert.ok(body.subarray(second, second + 10).equals(data.subarray(500, 510)));
});
