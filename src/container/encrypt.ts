/**
 * Streaming encryption of a recording into the container format (docs/format.md).
 */
import { randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { encodeHeader, NONCE_PREFIX_SIZE, SEGMENT_SIZE, type Header } from './header.js';
import { payloadKey, sealSegment } from './segments.js';

/** Fixed inputs make the output deterministic; only test-vector generation passes them. */
export interface EncryptOptions {
  noncePrefix?: Buffer;
}

export class EncryptStream extends Transform {
  readonly header: Header;
  readonly #key: Buffer;
  readonly #segment = Buffer.allocUnsafe(SEGMENT_SIZE);
  #filled = 0;
  #index = 0;

  constructor(dataKey: Buffer, recordingId: string, options: EncryptOptions = {}) {
    super();
    this.header = encodeHeader(recordingId, options.noncePrefix ?? randomBytes(NONCE_PREFIX_SIZE));
    this.#key = payloadKey(dataKey, this.header);
    this.push(this.header.bytes);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    // One output buffer per input chunk: a writer then makes one write per chunk, not two per segment.
    const out: Buffer[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      // A full segment is sealed only once more data arrives: until then it may be the last one.
      if (this.#filled === SEGMENT_SIZE) this.#seal(false, out);
      const n = chunk.copy(this.#segment, this.#filled, offset);
      this.#filled += n;
      offset += n;
    }
    if (out.length) this.push(out.length === 1 ? out[0] : Buffer.concat(out));
    done();
  }

  override _flush(done: TransformCallback): void {
    const out: Buffer[] = [];
    this.#seal(true, out);
    this.push(Buffer.concat(out));
    done();
  }

  #seal(last: boolean, out: Buffer[]): void {
    out.push(...sealSegment(this.#key, this.header, this.#index, last, this.#segment.subarray(0, this.#filled)));
    this.#index += 1;
    this.#filled = 0;
  }
}

/** Encrypts a whole buffer; for tests and test vectors. */
export function encryptBuffer(plaintext: Buffer, dataKey: Buffer, recordingId: string, options: EncryptOptions = {}): Buffer {
  const header = encodeHeader(recordingId, options.noncePrefix ?? randomBytes(NONCE_PREFIX_SIZE));
  const key = payloadKey(dataKey, header);
  const out: Buffer[] = [header.bytes];
  const count = Math.max(1, Math.ceil(plaintext.length / SEGMENT_SIZE));
  for (let i = 0; i < count; i++) {
    out.push(...sealSegment(key, header, i, i === count - 1, plaintext.subarray(i * SEGMENT_SIZE, (i + 1) * SEGMENT_SIZE)));
  }
  return Buffer.concat(out);
}
