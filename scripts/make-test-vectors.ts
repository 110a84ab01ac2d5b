/**
 * Generates the recording-container test vectors in testdata/container/, in the manner of age's
 * testkit (C2SP/age): one vector per rule, each a container file plus an entry in vectors.json
 * stating what a conforming decoder must do with it.
 *
 *   npx tsc -p . && node dist/scripts/make-test-vectors.js
 *
 * Everything is deterministic (fixed data keys, recording ids and nonce prefixes, plaintext from a
 * SHA-256 counter stream), so re-running produces byte-identical files; the test suite checks
 * that by regenerating the vectors in memory (generateVectors) and comparing.
 *
 * Invalid containers are built from the real primitives (encodeHeader, payloadKey, sealSegment),
 * so each one breaks exactly the rule it is named after and is otherwise well formed.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encryptBuffer } from '../src/container/encrypt.js';
import { encodeHeader, HEADER_SIZE, NONCE_PREFIX_SIZE, SEGMENT_SIZE, type Header } from '../src/container/header.js';
import { payloadKey, sealSegment, TAG_SIZE } from '../src/container/segments.js';

export type Expectation = 'success' | 'decryption failure' | 'unsupported container';

export interface VectorEntry {
  name: string;
  /** one sentence: what the vector tests */
  rule: string;
  expect: Expectation;
  /** hex, 32 bytes */
  dataKey: string;
  /** the recording id the decoder is asked to open the container as */
  recordingId: string;
  file: string;
  /** only for expect = success */
  plaintextSha256?: string;
  plaintextSize?: number;
}

export interface GeneratedVectors {
  entries: VectorEntry[];
  /** file name → contents, every .cvr file and vectors.json */
  files: Map<string, Buffer>;
}

export const VECTORS_JSON = 'vectors.json';

/** testdata/container/ of the repository, from dist/scripts/ or scripts/ */
export function vectorsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = resolve(here, basename(dirname(here)) === 'dist' ? '../..' : '..');
  return join(root, 'testdata', 'container');
}

// ---------------------------------------------------------------------------------------------
// deterministic inputs

/** SHA-256(label ‖ u32 BE counter) for counter = 0, 1, 2, … concatenated, cut to `size` bytes */
export function deterministicBytes(label: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  const counter = Buffer.alloc(4);
  for (let i = 0, off = 0; off < size; i++, off += 32) {
    counter.writeUInt32BE(i);
    createHash('sha256').update(label, 'utf8').update(counter).digest().copy(out, off);
  }
  return out;
}

const DATA_KEY_A = deterministicBytes('callvault test vectors: data key A', 32);
const DATA_KEY_B = deterministicBytes('callvault test vectors: data key B', 32);
const RECORDING_A = '0e4a1c6d-8b2f-4f3a-9c5e-7d1b2a3c4d5e';
const RECORDING_B = '5b7e2f90-1a3c-4d6e-8f01-23456789abcd';
/** plaintext length of the partial final segment in multi-segment vectors */
const PARTIAL = 1000;

function noncePrefixFor(name: string): Buffer {
  return deterministicBytes(`callvault test vectors: nonce prefix\n${name}`, NONCE_PREFIX_SIZE);
}

function plaintextFor(name: string, size: number): Buffer {
  return deterministicBytes(`callvault test vectors: plaintext\n${name}`, size);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// ---------------------------------------------------------------------------------------------
// building blocks

const SEALED_SEGMENT = SEGMENT_SIZE + TAG_SIZE;

/** the sealed segments of a container produced by encryptBuffer (all full but the last) */
function splitSegments(container: Buffer): { header: Buffer; segments: Buffer[] } {
  const header = container.subarray(0, HEADER_SIZE);
  const segments: Buffer[] = [];
  for (let off = HEADER_SIZE; off < container.length; off += SEALED_SEGMENT) {
    segments.push(container.subarray(off, Math.min(off + SEALED_SEGMENT, container.length)));
  }
  return { header, segments };
}

interface ManualSegment {
  plaintext: Buffer;
  index: number;
  last: boolean;
}

/** header ‖ segments sealed exactly as given: the only way to build non-canonical containers */
function manualContainer(header: Header, dataKey: Buffer, segments: ManualSegment[]): Buffer {
  const key = payloadKey(dataKey, header);
  const parts: Buffer[] = [header.bytes];
  for (const s of segments) parts.push(...sealSegment(key, header, s.index, s.last, s.plaintext));
  return Buffer.concat(parts);
}

function flipBit(b: Buffer, offset: number, bit = 0): Buffer {
  const out = Buffer.from(b);
  out[offset]! ^= 1 << bit;
  return out;
}

// ---------------------------------------------------------------------------------------------
// the vectors

interface Vector {
  name: string;
  rule: string;
  expect: Expectation;
  dataKey: Buffer;
  recordingId: string;
  container: Buffer;
  plaintext?: Buffer;
}

function valid(name: string, rule: string, size: number): Vector {
  const plaintext = plaintextFor(name, size);
  const container = encryptBuffer(plaintext, DATA_KEY_A, RECORDING_A, { noncePrefix: noncePrefixFor(name) });
  return { name, rule, expect: 'success', dataKey: DATA_KEY_A, recordingId: RECORDING_A, container, plaintext };
}

/** a valid container for recording A under data key A, as the starting point of an invalid vector */
function base(name: string, size: number): Buffer {
  return encryptBuffer(plaintextFor(name, size), DATA_KEY_A, RECORDING_A, { noncePrefix: noncePrefixFor(name) });
}

function invalid(name: string, rule: string, expect: Expectation, container: Buffer, more: Partial<Vector> = {}): Vector {
  return { name, rule, expect, dataKey: DATA_KEY_A, recordingId: RECORDING_A, container, ...more };
}

function buildVectors(): Vector[] {
  const v: Vector[] = [];

  // --- valid containers ---------------------------------------------------------------------
  v.push(
    valid('empty', 'An empty recording is the header followed by one empty final segment (a bare tag) and decrypts to zero bytes.', 0),
    valid('one-byte', 'A one-byte recording is a single final segment holding one byte.', 1),
    valid('one-full-segment', 'A recording of exactly 65536 bytes is one full segment flagged final, with no empty segment after it.', SEGMENT_SIZE),
    valid('full-plus-partial', 'A recording of 65536 + 1000 bytes is a full non-final segment followed by a 1000-byte final segment.', SEGMENT_SIZE + PARTIAL),
    valid(
      'two-full-segments',
      'A recording of exactly 131072 bytes ends in a full final segment: the decoder must find the final segment from the container length, not expect an empty segment after it.',
      2 * SEGMENT_SIZE,
    ),
  );

  // --- header: unsupported containers -------------------------------------------------------
  {
    const c = Buffer.from(base('bad-magic', 100));
    c[0] = 'X'.charCodeAt(0);
    v.push(invalid('bad-magic', 'A file whose first byte differs from the magic "CVREC\\r\\n\\x1a" is not a recording container.', 'unsupported container', c));
  }
  {
    const good = base('magic-crlf-mangled', 100);
    // what a text-mode transfer does to the file: the \r\n of the magic becomes \n
    const c = Buffer.concat([good.subarray(0, 5), good.subarray(6)]);
    v.push(
      invalid('magic-crlf-mangled', 'A container whose magic had its \\r\\n translated to \\n (a text-mode transfer) is not a recording container.', 'unsupported container', c),
    );
  }
  {
    const c = Buffer.from(base('unsupported-version', 100));
    c[8] = 2;
    v.push(invalid('unsupported-version', 'A container with version byte 0x02 is rejected as an unsupported container version.', 'unsupported container', c));
  }
  v.push(
    invalid(
      'truncated-header',
      'A file that has the magic and version but ends inside the 36-byte header is a damaged recording: the opaque decryption failure.',
      'decryption failure',
      base('truncated-header', 100).subarray(0, 20),
    ),
    invalid('empty-file', 'A zero-length file is not a recording container.', 'unsupported container', Buffer.alloc(0)),
  );

  // --- header: decryption failures ----------------------------------------------------------
  {
    // a self-consistent container with 1024-byte segments: a decoder that trusted the field would
    // decrypt it, but v1 fixes the segment size at 65536
    const name = 'segment-size-not-65536';
    const prefix = noncePrefixFor(name);
    const std = encodeHeader(RECORDING_A, prefix);
    const bytes = Buffer.from(std.bytes);
    bytes.writeUInt32BE(1024, 9);
    const header: Header = { ...std, segmentSize: 1024, bytes };
    const plaintext = plaintextFor(name, 2500);
    const c = manualContainer(header, DATA_KEY_A, [
      { plaintext: plaintext.subarray(0, 1024), index: 0, last: false },
      { plaintext: plaintext.subarray(1024, 2048), index: 1, last: false },
      { plaintext: plaintext.subarray(2048), index: 2, last: true },
    ]);
    v.push(invalid(name, 'A container declaring a segment size other than 65536 (here 1024, with segments sealed consistently for it) must be rejected.', 'decryption failure', c));
  }
  {
    const name = 'header-recording-id-mismatch';
    const c = encryptBuffer(plaintextFor(name, 100), DATA_KEY_A, RECORDING_B, { noncePrefix: noncePrefixFor(name) });
    v.push(invalid(name, 'A container that is valid for another recording id under the same data key must fail when opened as this recording.', 'decryption failure', c));
  }
  v.push(
    invalid(
      'header-nonce-prefix-altered',
      'Flipping one bit of the nonce prefix in the header must make every segment fail to authenticate.',
      'decryption failure',
      flipBit(base('header-nonce-prefix-altered', 100), HEADER_SIZE - NONCE_PREFIX_SIZE + 3, 5),
    ),
    invalid(
      'header-only',
      'A header with no segment at all (not even the empty final segment of an empty recording) must fail.',
      'decryption failure',
      base('header-only', 0).subarray(0, HEADER_SIZE),
    ),
  );

  // --- lengths and truncation --------------------------------------------------------------
  {
    const c = base('truncated-at-segment-boundary', SEGMENT_SIZE + PARTIAL);
    v.push(
      invalid(
        'truncated-at-segment-boundary',
        'A two-segment container cut after its first (non-final) segment must fail: the remaining last segment is not flagged final.',
        'decryption failure',
        c.subarray(0, HEADER_SIZE + SEALED_SEGMENT),
      ),
    );
  }
  {
    const c = base('truncated-mid-segment', SEGMENT_SIZE + PARTIAL);
    v.push(invalid('truncated-mid-segment', 'A container cut 500 bytes into its final segment must fail to authenticate.', 'decryption failure', c.subarray(0, c.length - 500)));
  }
  {
    const c = base('truncated-partial-tag', SEGMENT_SIZE + PARTIAL);
    v.push(
      invalid(
        'truncated-partial-tag',
        'A container whose length leaves only 10 bytes (less than a 16-byte tag) after the last full segment must be rejected.',
        'decryption failure',
        c.subarray(0, HEADER_SIZE + SEALED_SEGMENT + 10),
      ),
    );
  }
  {
    const c = base('body-shorter-than-tag', 0);
    v.push(
      invalid(
        'body-shorter-than-tag',
        'A container with only 15 bytes after the header (an empty recording missing one tag byte) must be rejected.',
        'decryption failure',
        c.subarray(0, c.length - 1),
      ),
    );
  }
  {
    const c = base('trailing-garbage', SEGMENT_SIZE);
    const garbage = deterministicBytes('callvault test vectors: trailing garbage', 32);
    v.push(
      invalid(
        'trailing-garbage',
        'Bytes appended after the final segment (32 bytes after a full final segment) must cause failure, not be ignored.',
        'decryption failure',
        Buffer.concat([c, garbage]),
      ),
    );
  }

  // --- segment order, count and origin ------------------------------------------------------
  {
    const { header, segments } = splitSegments(base('appended-segment-copy', 2 * SEGMENT_SIZE));
    v.push(
      invalid(
        'appended-segment-copy',
        'A valid two-segment container with a copy of its segment 0 appended must fail: a segment is only valid at its own position.',
        'decryption failure',
        Buffer.concat([header, segments[0]!, segments[1]!, segments[0]!]),
      ),
    );
  }
  {
    const { header, segments } = splitSegments(base('segments-reordered', 2 * SEGMENT_SIZE + PARTIAL));
    v.push(
      invalid(
        'segments-reordered',
        'A three-segment container with its first two (full, non-final) segments swapped must fail.',
        'decryption failure',
        Buffer.concat([header, segments[1]!, segments[0]!, segments[2]!]),
      ),
    );
  }
  {
    const { header, segments } = splitSegments(base('middle-segment-dropped', 2 * SEGMENT_SIZE + PARTIAL));
    v.push(
      invalid(
        'middle-segment-dropped',
        'A three-segment container with its middle segment removed must fail.',
        'decryption failure',
        Buffer.concat([header, segments[0]!, segments[2]!]),
      ),
    );
  }
  {
    // recordings A and B share data key, nonce prefix and plaintext: only the recording id differs
    const name = 'segment-from-other-recording';
    const plaintext = plaintextFor(name, SEGMENT_SIZE + PARTIAL);
    const prefix = noncePrefixFor(name);
    const a = splitSegments(encryptBuffer(plaintext, DATA_KEY_A, RECORDING_A, { noncePrefix: prefix }));
    const b = splitSegments(encryptBuffer(plaintext, DATA_KEY_A, RECORDING_B, { noncePrefix: prefix }));
    v.push(
      invalid(
        name,
        'Segment 0 replaced by segment 0 of another recording with the same data key, nonce prefix and plaintext must fail: segments are bound to their recording.',
        'decryption failure',
        Buffer.concat([a.header, b.segments[0]!, a.segments[1]!]),
      ),
    );
  }
  {
    const name = 'headers-swapped';
    const plaintext = plaintextFor(name, 100);
    const prefix = noncePrefixFor(name);
    const a = splitSegments(encryptBuffer(plaintext, DATA_KEY_A, RECORDING_A, { noncePrefix: prefix }));
    const b = splitSegments(encryptBuffer(plaintext, DATA_KEY_A, RECORDING_B, { noncePrefix: prefix }));
    v.push(
      invalid(
        name,
        "Recording B's header followed by recording A's segments (same data key, nonce prefix and plaintext), opened as B, must fail: the header is bound to the payload.",
        'decryption failure',
        Buffer.concat([b.header, ...a.segments]),
        { recordingId: RECORDING_B },
      ),
    );
  }

  // --- final-segment flag and counter -------------------------------------------------------
  {
    const name = 'empty-final-after-full';
    const plaintext = plaintextFor(name, SEGMENT_SIZE);
    const c = manualContainer(encodeHeader(RECORDING_A, noncePrefixFor(name)), DATA_KEY_A, [
      { plaintext, index: 0, last: false },
      { plaintext: Buffer.alloc(0), index: 1, last: true },
    ]);
    v.push(
      invalid(
        name,
        'A full non-final segment followed by a correctly sealed empty final segment is a non-canonical encoding and must be rejected: only an empty recording may end in an empty segment.',
        'decryption failure',
        c,
      ),
    );
  }
  {
    const name = 'final-flag-missing';
    const plaintext = plaintextFor(name, SEGMENT_SIZE + PARTIAL);
    const c = manualContainer(encodeHeader(RECORDING_A, noncePrefixFor(name)), DATA_KEY_A, [
      { plaintext: plaintext.subarray(0, SEGMENT_SIZE), index: 0, last: false },
      { plaintext: plaintext.subarray(SEGMENT_SIZE), index: 1, last: false },
    ]);
    v.push(invalid(name, 'A container whose last segment is sealed without the final flag must fail.', 'decryption failure', c));
  }
  {
    const name = 'final-flag-on-non-last';
    const plaintext = plaintextFor(name, SEGMENT_SIZE + PARTIAL);
    const c = manualContainer(encodeHeader(RECORDING_A, noncePrefixFor(name)), DATA_KEY_A, [
      { plaintext: plaintext.subarray(0, SEGMENT_SIZE), index: 0, last: true },
      { plaintext: plaintext.subarray(SEGMENT_SIZE), index: 1, last: true },
    ]);
    v.push(invalid(name, 'A container whose first segment is sealed with the final flag although another (final) segment follows must fail.', 'decryption failure', c));
  }
  {
    const name = 'counter-starts-at-one';
    const c = manualContainer(encodeHeader(RECORDING_A, noncePrefixFor(name)), DATA_KEY_A, [{ plaintext: plaintextFor(name, 100), index: 1, last: true }]);
    v.push(invalid(name, 'A single final segment sealed with segment counter 1 instead of 0 must fail.', 'decryption failure', c));
  }

  // --- keys and authentication -------------------------------------------------------------
  {
    const name = 'wrong-data-key';
    const c = encryptBuffer(plaintextFor(name, 100), DATA_KEY_B, RECORDING_A, { noncePrefix: noncePrefixFor(name) });
    v.push(invalid(name, 'A valid container opened with a different data key must fail.', 'decryption failure', c));
  }
  {
    const c = base('tag-bit-flipped', 100);
    v.push(
      invalid(
        'tag-bit-flipped',
        'Flipping the lowest bit of the last tag byte of the only segment must make it fail to authenticate.',
        'decryption failure',
        flipBit(c, c.length - 1),
      ),
    );
  }
  v.push(
    invalid(
      'ciphertext-bit-flipped',
      'Flipping one bit in the ciphertext (byte 50 of the only segment) must make it fail to authenticate.',
      'decryption failure',
      flipBit(base('ciphertext-bit-flipped', 100), HEADER_SIZE + 50, 7),
    ),
  );

  return v;
}

/** Builds every vector in memory: the .cvr files and vectors.json, exactly as written to disk. */
export function generateVectors(): GeneratedVectors {
  const vectors = buildVectors();
  const files = new Map<string, Buffer>();
  const entries: VectorEntry[] = [];
  for (const vec of vectors) {
    const file = `${vec.name}.cvr`;
    if (files.has(file)) throw new Error(`duplicate vector name ${vec.name}`);
    files.set(file, vec.container);
    const entry: VectorEntry = {
      name: vec.name,
      rule: vec.rule,
      expect: vec.expect,
      dataKey: vec.dataKey.toString('hex'),
      recordingId: vec.recordingId,
      file,
    };
    if (vec.expect === 'success') {
      if (!vec.plaintext) throw new Error(`vector ${vec.name} has no plaintext`);
      entry.plaintextSha256 = sha256(vec.plaintext);
      entry.plaintextSize = vec.plaintext.length;
    }
    entries.push(entry);
  }
  files.set(VECTORS_JSON, Buffer.from(`${JSON.stringify(entries, null, 2)}\n`, 'utf8'));
  return { entries, files };
}

/** Writes the vectors, removing .cvr files of vectors that no longer exist. */
export function writeVectors(dir = vectorsDir()): GeneratedVectors {
  const generated = generateVectors();
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir)) {
    if (name.endsWith('.cvr') && !generated.files.has(name)) rmSync(join(dir, name));
  }
  for (const [name, bytes] of generated.files) writeFileSync(join(dir, name), bytes);
  return generated;
}

const runDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (runDirectly) {
  const dir = vectorsDir();
  const { entries, files } = writeVectors(dir);
  let total = 0;
  for (const b of files.values()) total += b.length;
  console.log(`wrote ${entries.length} vectors (${total} bytes) to ${dir}`);
}
