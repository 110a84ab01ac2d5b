/**
 * Keyed blind indexes for exact lookup of encrypted identifiers, docs/metadata.md §3.
 * digest = HMAC-SHA256(K_controller, kind ‖ 0x00 ‖ canonical value), K_controller derived from the
 * installation secret, which only an unlocked keyring yields.
 */
import { createHmac, hkdfSync } from 'node:crypto';

/** metadata identifiers, and those spoken in the call as its transcript shows (`transcript_…`) */
export type IdentifierKind = 'phone' | 'personnummer' | 'source_name' | 'transcript_phone' | 'transcript_personnummer';

export function transcriptKind(kind: 'phone' | 'personnummer'): IdentifierKind {
  return kind === 'phone' ? 'transcript_phone' : 'transcript_personnummer';
}

export class BlindIndex {
  readonly #key: Buffer;

  constructor(indexSecret: Buffer, controllerId: string) {
    this.#key = Buffer.from(hkdfSync('sha256', indexSecret, Buffer.alloc(0), Buffer.from(`blind-index\n${controllerId}`, 'utf8'), 32));
  }

  digest(kind: IdentifierKind, canonicalValue: string): string {
    return createHmac('sha256', this.#key).update(kind).update(Buffer.of(0)).update(canonicalValue, 'utf8').digest('hex');
  }
}
