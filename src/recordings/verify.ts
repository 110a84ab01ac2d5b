/**
 * `callvault verify`: every stored object against its recorded ciphertext hash, and with `deep`
 * every segment decrypted and the plaintext compared with the original's hash.
 */
import { createHash } from 'node:crypto';
import { isCallvaultError, ErrorCodes } from '../errors.js';
import type { CiphertextSource } from '../container/decrypt.js';
import type { Vault } from '../vault.js';
import { openStoredRecording, plaintextSha256 } from './read.js';
import { writerDead } from './attempts.js';

export interface VerifyProblem {
  recordingId?: string;
  object?: string;
  problem: string;
}

export interface VerifyReport {
  checked: number;
  deep: boolean;
  problems: VerifyProblem[];
  /** attempts being written now (not problems), interrupted ones and objects of no recording (problems) */
  counts: { inFlight: number; interrupted: number; strayObjects: number };
}

export async function verifyStore(vault: Vault, options: { deep: boolean }): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  const known = new Set<string>();
  const counts = { inFlight: 0, interrupted: 0, strayObjects: 0 };
  let checked = 0;
  for await (const row of vault.recordings.all('any')) {
    if (row.state === 'erased') {
      // a tombstone: its objects were deleted with it. Any an erasure could not delete are
      // listed in the row, unreadable (the key is gone) but still to be removed: reported, once.
      for (const key of row.erasure_debris ? (JSON.parse(row.erasure_debris) as string[]) : []) {
        known.add(key);
        if (await vault.blobs.exists(key))
          problems.push({
            recordingId: row.id,
            object: key,
            problem: 'erased recording: its object is still stored (unreadable, its key is destroyed); the next `callvault subject erase` deletes it',
          });
      }
      continue;
    }
    known.add(row.blob_key);
    if (row.state === 'pending') {
      if (!(await writerDead(vault, row))) counts.inFlight += 1;
      else {
        counts.interrupted += 1;
        problems.push({
          recordingId: row.id,
          problem: `an interrupted upload or import (begun ${row.imported_at}); the server's housekeeping or the next import completes or removes it`,
        });
      }
      continue;
    }
    checked += 1;
    const fail = (problem: string) => problems.push({ recordingId: row.id, problem });
    const result = await checkObject(vault, row.blob_key, row.ciphertext_size, row.ciphertext_sha256);
    if (result) {
      fail(result);
      continue;
    }
    if (options.deep) {
      try {
        if ((await plaintextSha256(vault, row)) !== row.content_sha256) fail('decrypted audio differs from the original');
      } catch (err) {
        if (!isCallvaultError(err)) throw err;
        fail(err.code === ErrorCodes.DECRYPTION_FAILED ? 'does not decrypt' : err.message);
      }
    }
  }
  // redacted renditions: the same checks, under the recording's data key
  for (const rendition of await vault.recordings.renditions()) {
    known.add(rendition.blob_key);
    checked += 1;
    const row = await vault.recordings.get(rendition.recording_id);
    const fail = (problem: string) => problems.push({ recordingId: rendition.recording_id, object: rendition.blob_key, problem: `redacted rendition: ${problem}` });
    const result = await checkObject(vault, rendition.blob_key, rendition.ciphertext_size, rendition.ciphertext_sha256);
    if (result) {
      fail(result);
      continue;
    }
    if (options.deep && row) {
      try {
        for await (const _ of (await openStoredRecording(vault, row, rendition)).read()) void _;
      } catch (err) {
        if (!isCallvaultError(err)) throw err;
        fail(err.code === ErrorCodes.DECRYPTION_FAILED ? 'does not decrypt' : err.message);
      }
    }
  }
  for await (const key of vault.blobs.list()) {
    // a live call's crash journal (src/siprec/journal.ts) belongs to a call in progress
    if (known.has(key) || key.startsWith('siprec-journal/')) continue;
    counts.strayObjects += 1;
    problems.push({ object: key, problem: 'stored object belongs to no recording' });
  }
  return { checked, deep: options.deep, problems, counts };
}

/** what is wrong with a stored object, or undefined when it is what was written */
async function checkObject(vault: Vault, key: string, size: number, sha256: string): Promise<string | undefined> {
  let source: CiphertextSource;
  try {
    source = await vault.blobs.open(key);
  } catch (err) {
    if (isCallvaultError(err, ErrorCodes.BLOB_NOT_FOUND)) return 'stored object is missing';
    throw err;
  }
  if (source.size !== size) return `stored object has ${source.size} bytes, ${size} were written`;
  const hash = createHash('sha256');
  for await (const chunk of source.read(0, source.size)) hash.update(chunk);
  return hash.digest('hex') === sha256 ? undefined : 'stored object differs from what was written';
}
