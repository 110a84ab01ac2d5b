/**
 * Runs every recording-container test vector in testdata/container/ (scripts/make-test-vectors.ts)
 * through the decoder, both whole (decryptBuffer) and through openRecording + read, and checks that
 * the committed vectors are exactly what the generator produces.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { generateVectors, vectorsDir, VECTORS_JSON, type VectorEntry } from '../../scripts/make-test-vectors.js';
import { decryptBuffer, openRecording, type CiphertextSource } from '../../src/container/decrypt.js';
import { CallvaultError, ErrorCodes, type ErrorCode } from '../../src/errors.js';

const DIR = vectorsDir();
const vectors = JSON.parse(readFileSync(join(DIR, VECTORS_JSON), 'utf8')) as VectorEntry[];

const EXPECTED_CODE: Record<Exclude<VectorEntry['expect'], 'success'>, ErrorCode> = {
  'decryption failure': ErrorCodes.DECRYPTION_FAILED,
  'unsupported container': ErrorCodes.UNSUPPORTED_CONTAINER,
};

type Outcome = { ok: true; plaintext: Buffer } | { ok: false; code: ErrorCode };

/** the result of a decode as a value; anything but a CallvaultError is a bug and is rethrown */
async function outcome(fn: () => Promise<Buffer>): Promise<Outcome> {
  try {
    return { ok: true, plaintext: await fn() };
  } catch (err) {
    if (err instanceof CallvaultError) return { ok: false, code: err.code };
    throw err;
  }
}

/** a source that hands out the requested range in chunks of `chunk` bytes */
function chunkedSource(bytes: Buffer, chunk: number): CiphertextSource {
  return {
    size: bytes.length,
    async *read(start: number, end: number) {
      for (let off = start; off < end; off += chunk) yield bytes.subarray(off, Math.min(end, off + chunk));
    },
  };
}

async function viaOpenRecording(source: CiphertextSource, dataKey: Buffer, recordingId: string): Promise<Buffer> {
  const opened = await openRecording(source, dataKey, recordingId);
  const out: Buffer[] = [];
  for await (const b of opened.read(0, opened.plaintextSize)) out.push(b);
  const plaintext = Buffer.concat(out);
  assert.equal(plaintext.length, opened.plaintextSize, 'read() returned a different length than plaintextSize');
  return plaintext;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function expectedOutcome(v: VectorEntry): { ok: true; sha256: string; size: number } | { ok: false; code: ErrorCode } {
  if (v.expect === 'success') return { ok: true, sha256: v.plaintextSha256!, size: v.plaintextSize! };
  return { ok: false, code: EXPECTED_CODE[v.expect] };
}

function summarise(o: Outcome): { ok: true; sha256: string; size: number } | { ok: false; code: ErrorCode } {
  return o.ok ? { ok: true, sha256: sha256(o.plaintext), size: o.plaintext.length } : o;
}

describe('container test vectors', () => {
  test('vectors.json is well formed', () => {
    assert.ok(Array.isArray(vectors) && vectors.length > 0);
    const names = new Set<string>();
    for (const v of vectors) {
      assert.match(v.name, /^[a-z0-9-]+$/);
      assert.ok(!names.has(v.name), `duplicate vector ${v.name}`);
      names.add(v.name);
      assert.equal(v.file, `${v.name}.cvr`);
      assert.ok(typeof v.rule === 'string' && v.rule.length > 10, `${v.name}: rule`);
      assert.ok(['success', 'decryption failure', 'unsupported container'].includes(v.expect), `${v.name}: expect`);
      assert.match(v.dataKey, /^[0-9a-f]{64}$/);
      assert.match(v.recordingId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      if (v.expect === 'success') {
        assert.match(v.plaintextSha256 ?? '', /^[0-9a-f]{64}$/, `${v.name}: plaintextSha256`);
        assert.ok(Number.isSafeInteger(v.plaintextSize) && v.plaintextSize! >= 0, `${v.name}: plaintextSize`);
      } else {
        assert.equal(v.plaintextSha256, undefined, `${v.name}: failure vectors carry no plaintext hash`);
        assert.equal(v.plaintextSize, undefined, `${v.name}: failure vectors carry no plaintext size`);
      }
    }
    // one vector per rule the format states; removing one must be deliberate
    for (const required of [
      'empty',
      'one-byte',
      'one-full-segment',
      'full-plus-partial',
      'two-full-segments',
      'bad-magic',
      'unsupported-version',
      'segment-size-not-65536',
      'header-recording-id-mismatch',
      'header-nonce-prefix-altered',
      'truncated-at-segment-boundary',
      'truncated-mid-segment',
      'truncated-partial-tag',
      'trailing-garbage',
      'appended-segment-copy',
      'segments-reordered',
      'middle-segment-dropped',
      'segment-from-other-recording',
      'headers-swapped',
      'empty-final-after-full',
      'final-flag-missing',
      'final-flag-on-non-last',
      'wrong-data-key',
      'tag-bit-flipped',
      'ciphertext-bit-flipped',
      'header-only',
    ]) {
      assert.ok(names.has(required), `missing vector ${required}`);
    }
  });

  for (const v of vectors) {
    describe(`${v.name} (${v.expect})`, () => {
      const container = () => readFileSync(join(DIR, v.file));
      const dataKey = Buffer.from(v.dataKey, 'hex');

      test('decryptBuffer', async () => {
        const got = summarise(await outcome(() => decryptBuffer(container(), dataKey, v.recordingId)));
        assert.deepEqual(got, expectedOutcome(v), v.rule);
      });

      test('openRecording + read(0, plaintextSize)', async () => {
        const bytes = container();
        for (const chunk of [bytes.length || 1, 7919, 65552 + 1]) {
          const got = summarise(await outcome(() => viaOpenRecording(chunkedSource(bytes, chunk), dataKey, v.recordingId)));
          assert.deepEqual(got, expectedOutcome(v), `${v.rule} (source chunks of ${chunk} bytes)`);
        }
      });

      if (v.expect === 'success' && v.plaintextSize! >= 2) {
        test('random access agrees with the whole plaintext', async () => {
          const whole = await decryptBuffer(container(), dataKey, v.recordingId);
          const opened = await openRecording(chunkedSource(container(), 4096), dataKey, v.recordingId);
          assert.equal(opened.plaintextSize, v.plaintextSize);
          const size = v.plaintextSize!;
          for (const [start, end] of [
            [1, size - 1],
            [size - 1, size],
            [0, 1],
            [Math.floor(size / 2), Math.floor(size / 2) + 1],
          ] as const) {
            const out: Buffer[] = [];
            for await (const b of opened.read(start, end)) out.push(b);
            assert.deepEqual(Buffer.concat(out), whole.subarray(start, end), `read(${start}, ${end})`);
          }
        });
      }
    });
  }

  test('the committed vectors are exactly what scripts/make-test-vectors.ts generates', () => {
    const { files, entries } = generateVectors();
    const onDisk = readdirSync(DIR).sort();
    assert.deepEqual(onDisk, [...files.keys()].sort(), 'testdata/container/ holds other files than the generator writes');
    for (const [name, bytes] of files) {
      const disk = readFileSync(join(DIR, name));
      assert.ok(disk.equals(bytes), `${name} differs from the regenerated vector: run npm run vectors`);
    }
    assert.deepEqual(entries, vectors);
    // and generation does not depend on anything that changes between runs
    const again = generateVectors();
    for (const [name, bytes] of files) assert.ok(again.files.get(name)?.equals(bytes), `${name} is not deterministic`);
  });
});
