/**
 * `callvault verify`: every stored object against its recorded ciphertext hash, and with `deep`
 * every segment decrypted and the plaintext compared with the original's hash.
 */
import { createHash } from 'node:crypto';
import { isCallvaultError, ErrorCodes } from '../errors.js';
import type { Vault } from '../vault.js';
import { plaintextSha256 } from './read.js';

export interface VerifyProblem {
  recordingId?: string;
  object?: string;
  problem: string;
}

export interface VerifyReport {
  checked: number;
  deep: boolean;
  problems: VerifyProblem[];
}

export async function verifyStore(vault: Vault, options: { deep: boolean }): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  const known = new Set<string>();
  let checked = 0;
  for await (const row of vault.recordings.all('any')) {
    known.add(row.blob_key);
    if (row.state !== 'stored') continue;
    checked += 1;
    const fail = (problem: string) => problems.push({ recordingId: row.id, problem });
    let source;
    try {
      source = await vault.blobs.open(row.blob_key);
    } catch (err) {
      if (isCallvaultError(err, ErrorCodes.BLOB_NOT_FOUND)) {
        fail('stored object is missing');
        continue;
      }
      throw err;
    }
    if (source.size !== row.ciphertext_size) {
      fail(`stored object has ${source.size} bytes, ${row.ciphertext_size} were written`);
      continue;
    }
    const hash = createHash('sha256');
    for await (const chunk of source.read(0, source.size)) hash.update(chunk);
    if (hash.digest('hex') !== row.ciphertext_sha256) {
      fail('stored object differs from what was written');
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
  for await (const key of vault.blobs.list()) {
    if (!known.has(key)) problems.push({ object: key, problem: 'stored object belongs to no recording' });
  }
  return { checked, deep: options.deep, problems };
}
