/**
 * Generates test/fixtures/audit-vectors.json: test vectors for the audit log's Merkle tree
 * (RFC 9162 leaf hashes, roots, inclusion and consistency proofs) and its signed checkpoints
 * (C2SP tlog-checkpoint in a C2SP signed note, Ed25519), for anyone writing an independent
 * verifier.
 *
 *   npx tsc -p . && node dist/scripts/make-audit-vectors.js
 *
 * Deterministic: a fixed Ed25519 seed (SHA-256 of a label), fixed entries, and Ed25519 signatures
 * are deterministic, so re-running gives byte-identical output; test/audit/vectors.test.ts checks
 * that the committed file is exactly what generateAuditVectors() produces.
 *
 * Each invalid checkpoint is the valid one with one rule broken, signed with the real key where
 * the rule is about the body, so it fails for the reason it is named after and no other.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkpointText, signCheckpoint } from '../src/audit/checkpoint.js';
import { consistencyRanges, inclusionRanges, leafHash, rootOf } from '../src/audit/merkle.js';
import { formatVerifierKey, NoteSigner } from '../src/audit/signed-note.js';

export const KEY_NAME = 'callvault.example/audit';
export const KEY_SEED_LABEL = 'callvault audit test vector key';

/** why an invalid checkpoint fails, so an implementation can check it fails for that reason */
export type CheckpointFailure = 'malformed note' | 'signature does not verify' | 'no known signature' | 'malformed checkpoint' | 'wrong origin';

export interface CheckpointVector {
  name: string;
  /** one sentence: what the vector tests */
  rule: string;
  expect: 'valid' | 'invalid';
  note: string;
  /** for expect = valid: what opening it yields */
  size?: number;
  root?: string;
  /** for expect = invalid */
  failure?: CheckpointFailure;
}

export interface AuditVectors {
  description: string;
  origin: string;
  /** the verifier key (C2SP signed-note vkey) that must have signed every valid checkpoint */
  vkey: string;
  /** the log's entries, base64 */
  entries: string[];
  /** hex; SHA-256(0x00 ‖ entry) */
  leafHashes: string[];
  /** hex; MTH of the first `size` entries, for every size 0..entries.length */
  roots: { size: number; root: string }[];
  inclusionProofs: { index: number; size: number; leafHash: string; root: string; path: string[] }[];
  consistencyProofs: { first: number; second: number; firstRoot: string; secondRoot: string; proof: string[] }[];
  checkpoints: CheckpointVector[];
}

/** test/fixtures/audit-vectors.json of the repository, from dist/scripts/ or scripts/ */
export function auditVectorsPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = resolve(here, basename(dirname(here)) === 'dist' ? '../..' : '..');
  return join(root, 'test', 'fixtures', 'audit-vectors.json');
}

const seed = (label: string): Buffer => createHash('sha256').update(label, 'utf8').digest();

/** canonical JSON audit entries (sorted keys, no whitespace), as src/audit/audit-log.ts writes them */
const ENTRIES = [
  '{"action":"vault.init","actor":{"name":"root","type":"cli"},"outcome":"success","time":"2025-01-06T09:00:00.000Z","v":1}',
  '{"action":"auth.signin","actor":{"id":"u-1","name":"alice","role":"admin","type":"user"},"ip":"192.0.2.10","outcome":"success","time":"2025-01-06T09:01:00.000Z","v":1}',
  '{"action":"recording.import","actor":{"name":"root","type":"cli"},"detail":{"count":3},"outcome":"success","time":"2025-01-06T09:02:00.000Z","v":1}',
  '{"action":"recording.play","actor":{"id":"u-2","name":"bob","role":"reviewer","type":"user"},"outcome":"denied","recordingId":"8a6e0804-2bd0-4672-b79d-d97027f9071a","time":"2025-01-06T09:03:00.000Z","v":1}',
  '{"action":"recording.play","actor":{"id":"u-1","name":"alice","role":"admin","type":"user"},"detail":{"ranges":"bytes=0-"},"outcome":"success","purpose":"complaint","recordingId":"8a6e0804-2bd0-4672-b79d-d97027f9071a","time":"2025-01-06T09:04:00.000Z","v":1}',
  '{"action":"auth.signout","actor":{"id":"u-1","name":"alice","role":"admin","type":"user"},"outcome":"success","time":"2025-01-06T09:05:00.000Z","v":1}',
  '{"action":"audit.checkpoint","actor":{"type":"system"},"outcome":"success","time":"2025-01-06T09:06:00.000Z","v":1}',
];

const INCLUSION: [index: number, size: number][] = [
  [0, 1],
  [0, 7],
  [3, 7],
  [4, 7],
  [6, 7],
  [2, 3],
  [4, 5],
];

/** 0 → n and n → n: empty proofs, the module's convention (RFC 9162 defines 0 < first < second) */
const CONSISTENCY: [first: number, second: number][] = [
  [1, 7],
  [2, 7],
  [3, 7],
  [4, 7],
  [6, 7],
  [2, 5],
  [3, 4],
  [0, 7],
  [7, 7],
];

export function generateAuditVectors(): AuditVectors {
  const signer = new NoteSigner(KEY_NAME, seed(KEY_SEED_LABEL));
  // same name, another key: its key id differs, so verifiers treat it as an unknown key
  const impostor = new NoteSigner(KEY_NAME, seed('callvault audit test vector impostor key'));
  const witness = new NoteSigner('witness.example/w1', seed('callvault audit test vector witness key'));
  const origin = KEY_NAME;

  const entries = ENTRIES.map((e) => Buffer.from(e, 'utf8'));
  const leaves = entries.map(leafHash);
  const rootAt = (n: number) => rootOf(leaves.slice(0, n));
  const hex = (b: Buffer) => b.toString('hex');
  const proofOf = (ranges: readonly (readonly [number, number])[]) => ranges.map(([s, e]) => hex(rootOf(leaves.slice(s, e))));

  const size = entries.length;
  const root = rootAt(size);
  const root64 = root.toString('base64');
  const text = checkpointText({ origin, size, rootHash: root });
  const valid = signCheckpoint({ origin, size, rootHash: root }, signer);
  const [, signatures] = valid.split('\n\n') as [string, string];
  const signatureLine = signatures.slice(0, -1);
  const blob = Buffer.from(signatureLine.slice(`\u2014 ${KEY_NAME} `.length), 'base64');
  const withBlob = (b: Buffer) => `${text}\n\u2014 ${KEY_NAME} ${b.toString('base64')}\n`;
  const cosignature = witness.sign(text).split('\n\n')[1]!;

  const flippedBlob = Buffer.from(blob);
  flippedBlob[20]! ^= 0x01;

  const checkpoints: CheckpointVector[] = [
    { name: 'valid', rule: 'A checkpoint of the whole log signed by the log key opens.', expect: 'valid', note: valid, size, root: hex(root) },
    {
      name: 'valid-smaller-size',
      rule: 'A checkpoint of an earlier size signed by the log key opens.',
      expect: 'valid',
      note: signCheckpoint({ origin, size: 3, rootHash: rootAt(3) }, signer),
      size: 3,
      root: hex(rootAt(3)),
    },
    {
      name: 'valid-empty-log',
      rule: 'A checkpoint of the empty log has size 0 and the SHA-256 of the empty string as its root.',
      expect: 'valid',
      note: signCheckpoint({ origin, size: 0, rootHash: rootAt(0) }, signer),
      size: 0,
      root: hex(rootAt(0)),
    },
    {
      name: 'valid-with-cosignature',
      rule: 'A signature by an unknown key (a witness cosignature) next to the log signature is skipped.',
      expect: 'valid',
      note: `${valid}${cosignature}`,
      size,
      root: hex(root),
    },
    {
      name: 'valid-cosignature-first',
      rule: 'The log signature need not be the first signature line.',
      expect: 'valid',
      note: `${text}\n${cosignature}${signatures}`,
      size,
      root: hex(root),
    },
    {
      name: 'valid-extension-line',
      rule: 'Lines after the root hash are extension lines, covered by the signature and otherwise ignored.',
      expect: 'valid',
      note: signer.sign(`${text}extension: value\n`),
      size,
      root: hex(root),
    },
    {
      name: 'altered-size',
      rule: 'Changing the size after signing breaks the signature.',
      expect: 'invalid',
      note: `${checkpointText({ origin, size: size - 1, rootHash: root })}\n${signatures}`,
      failure: 'signature does not verify',
    },
    {
      name: 'altered-root',
      rule: 'Replacing the root hash after signing (here with the root of an earlier size) breaks the signature.',
      expect: 'invalid',
      note: `${checkpointText({ origin, size, rootHash: rootAt(size - 1) })}\n${signatures}`,
      failure: 'signature does not verify',
    },
    {
      name: 'altered-extension',
      rule: 'Adding an extension line after signing breaks the signature.',
      expect: 'invalid',
      note: `${text}extension: value\n\n${signatures}`,
      failure: 'signature does not verify',
    },
    {
      name: 'signature-bit-flipped',
      rule: 'A signature with one bit flipped does not verify.',
      expect: 'invalid',
      note: withBlob(flippedBlob),
      failure: 'signature does not verify',
    },
    {
      name: 'truncated-signature',
      rule: 'A signature one byte short (well-formed base64, the right key id) does not verify.',
      expect: 'invalid',
      note: withBlob(blob.subarray(0, blob.length - 1)),
      failure: 'signature does not verify',
    },
    {
      name: 'wrong-origin',
      rule: 'A checkpoint signed by the log key for another origin is refused.',
      expect: 'invalid',
      note: signer.sign(`callvault.example/other\n${size}\n${root64}\n`),
      failure: 'wrong origin',
    },
    {
      name: 'other-key-same-name',
      rule: 'A checkpoint signed by another key under the same name carries another key id and counts as unsigned.',
      expect: 'invalid',
      note: signCheckpoint({ origin, size, rootHash: root }, impostor),
      failure: 'no known signature',
    },
    {
      name: 'witness-signature-only',
      rule: 'A checkpoint signed only by a key the verifier does not know is refused.',
      expect: 'invalid',
      note: `${text}\n${cosignature}`,
      failure: 'no known signature',
    },
    {
      name: 'missing-blank-line',
      rule: 'The signature lines must follow a blank line.',
      expect: 'invalid',
      note: `${text}${signatures}`,
      failure: 'malformed note',
    },
    {
      name: 'missing-final-newline',
      rule: 'A note ends in a newline.',
      expect: 'invalid',
      note: valid.slice(0, -1),
      failure: 'malformed note',
    },
    {
      name: 'non-canonical-signature-base64',
      rule: 'Signature base64 must be canonical: padding bits set to non-zero spell the same bytes another way.',
      expect: 'invalid',
      note: `${text}\n\u2014 ${KEY_NAME} ${nonCanonical(blob.toString('base64'))}\n`,
      failure: 'malformed note',
    },
    {
      name: 'hyphen-signature-prefix',
      rule: 'A signature line starts with an em dash (U+2014) and a space, not a hyphen.',
      expect: 'invalid',
      note: `${text}\n-${signatureLine.slice(1)}\n`,
      failure: 'malformed note',
    },
    {
      name: 'size-leading-zero',
      rule: 'The size is decimal without leading zeros (signed by the log key).',
      expect: 'invalid',
      note: signer.sign(`${origin}\n0${size}\n${root64}\n`),
      failure: 'malformed checkpoint',
    },
    {
      name: 'size-negative',
      rule: 'The size is a non-negative integer (signed by the log key).',
      expect: 'invalid',
      note: signer.sign(`${origin}\n-${size}\n${root64}\n`),
      failure: 'malformed checkpoint',
    },
    {
      name: 'root-31-bytes',
      rule: 'The root hash is 32 bytes (signed by the log key).',
      expect: 'invalid',
      note: signer.sign(`${origin}\n${size}\n${root.subarray(0, 31).toString('base64')}\n`),
      failure: 'malformed checkpoint',
    },
    {
      name: 'root-hex',
      rule: 'The root hash is base64, not hex (signed by the log key).',
      expect: 'invalid',
      note: signer.sign(`${origin}\n${size}\n${hex(root)}\n`),
      failure: 'malformed checkpoint',
    },
    {
      name: 'root-non-canonical-base64',
      rule: 'The root hash base64 must be canonical: non-zero padding bits spell the same bytes another way (signed by the log key).',
      expect: 'invalid',
      note: signer.sign(`${origin}\n${size}\n${nonCanonical(root64)}\n`),
      failure: 'malformed checkpoint',
    },
    {
      name: 'root-line-missing',
      rule: 'A checkpoint has an origin, a size and a root hash line (signed by the log key).',
      expect: 'invalid',
      note: signer.sign(`${origin}\n${size}\n`),
      failure: 'malformed checkpoint',
    },
  ];

  return {
    description:
      'callvault audit log test vectors: RFC 9162 Merkle tree over the entries, C2SP tlog-checkpoint in a C2SP signed note (Ed25519). ' +
      'Open each checkpoint with vkey and origin; generated by scripts/make-audit-vectors.ts.',
    origin,
    vkey: formatVerifierKey(signer.verifier),
    entries: entries.map((e) => e.toString('base64')),
    leafHashes: leaves.map(hex),
    roots: Array.from({ length: size + 1 }, (_, n) => ({ size: n, root: hex(rootAt(n)) })),
    inclusionProofs: INCLUSION.map(([index, n]) => ({ index, size: n, leafHash: hex(leaves[index]!), root: hex(rootAt(n)), path: proofOf(inclusionRanges(index, n)) })),
    consistencyProofs: CONSISTENCY.map(([first, second]) => ({
      first,
      second,
      firstRoot: hex(rootAt(first)),
      secondRoot: hex(rootAt(second)),
      proof: proofOf(consistencyRanges(first, second)),
    })),
    checkpoints,
  };
}

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * Padded base64 spelled another way: the character before the padding carries bits the decoder
 * drops, so setting its lowest one gives the same bytes in a spelling a strict decoder refuses.
 */
function nonCanonical(b64: string): string {
  const body = b64.replace(/=+$/, '');
  if (body === b64) throw new Error('only padded base64 has unused bits');
  const spelled = `${body.slice(0, -1)}${BASE64_ALPHABET[BASE64_ALPHABET.indexOf(body.at(-1)!) ^ 1]}${b64.slice(body.length)}`;
  if (!Buffer.from(spelled, 'base64').equals(Buffer.from(b64, 'base64'))) throw new Error('the other spelling must decode to the same bytes');
  return spelled;
}

export function auditVectorsJson(vectors = generateAuditVectors()): string {
  return `${JSON.stringify(vectors, null, 2)}\n`;
}

const runDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (runDirectly) {
  const file = auditVectorsPath();
  const vectors = generateAuditVectors();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, auditVectorsJson(vectors));
  console.log(`wrote ${vectors.checkpoints.length} checkpoint vectors to ${file}`);
}
