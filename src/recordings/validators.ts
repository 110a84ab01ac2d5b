/**
 * HTTP validators of a stored rendition: a strong entity tag and the time it was stored.
 */
import { createHash } from 'node:crypto';
import type { RecordingRow, RenditionRow } from '../db/recordings-repository.js';

export interface Validators {
  /** quoted strong entity tag */
  etag: string;
  lastModified: Date;
}

/**
 * The entity tag names the exact object served: its container id and the SHA-256 of its
 * ciphertext, hashed so that it carries neither the recording's id nor anything else stored. A
 * rendition made again (`callvault redact --again`) is a new container, so a new tag. Containers
 * are never changed in place, so the tag is strong (same tag, same plaintext bytes).
 */
export function renditionValidators(row: RecordingRow, rendition?: RenditionRow): Validators {
  const object = rendition ?? row;
  const tag = createHash('sha256')
    .update(`callvault rendition etag v1\0${rendition ? rendition.kind : 'original'}\0${object.id}\0${object.ciphertext_sha256}`)
    .digest()
    .subarray(0, 16)
    .toString('base64url');
  return { etag: `"${tag}"`, lastModified: new Date(rendition ? rendition.created_at : row.imported_at) };
}
