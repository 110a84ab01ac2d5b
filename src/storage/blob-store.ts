/**
 * The contract every blob store implements (a local directory now, S3 later). A blob store
 * only ever sees ciphertext; it knows nothing of recordings or keys.
 */
import type { Writable } from 'node:stream';
import type { CiphertextSource } from '../container/decrypt.js';

export interface PendingBlob {
  /** write the object's bytes here */
  readonly stream: Writable;
  /** makes the object durable and visible under its key, atomically */
  commit(): Promise<void>;
  /** discards what was written; safe to call after a failed write */
  abort(): Promise<void>;
}

export interface BlobStore {
  readonly kind: string;
  /** nothing is visible under `key` until the returned blob is committed */
  begin(key: string): Promise<PendingBlob>;
  /** ranged reads of a committed object; throws CV_BLOB_NOT_FOUND */
  open(key: string): Promise<CiphertextSource>;
  exists(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  list(): AsyncIterable<string>;
  /** removes partial objects left by writers that died; returns how many */
  removeDebris(): Promise<number>;
  /**
   * Resolves when the store is there and answers now, as far as one cheap operation can tell
   * (readiness, docs/deployment.md): cheap enough to run every few seconds, it leaves nothing
   * behind, and rejects with a message that names no path, bucket or key. A probe still running
   * when `signal` aborts rejects.
   */
  probe(signal?: AbortSignal): Promise<void>;
}

const KEY = /^[a-z0-9][a-z0-9_-]*(\/[a-z0-9][a-z0-9._-]*)*$/;

export function assertBlobKey(key: string): void {
  if (!KEY.test(key) || key.includes('..')) throw new RangeError('invalid blob key');
}

export function recordingBlobKey(recordingId: string): string {
  return `recordings/${recordingId.slice(0, 2)}/${recordingId}.cvr`;
}
