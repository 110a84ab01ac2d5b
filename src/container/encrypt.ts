/**
 * Encryption of a recording into the container format (docs/format.md).
 */
import { randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { encodeHeader, NONCE_PREFIX_SIZE, SEGMENT_SIZE, type Header } from './header.js';
import { payloadKey, sealSegment } from './segments.js';

/** Fixed inputs make the output deterministic; only test-vector generation passes them. */
export interface EncryptOptions {
  noncePrefix?: Buffer;
}

/**
 * The synchronous core: feed plaintext in chunks of any size, get container bytes back. The
 * first output starts with the header. Every returned buffer is newly allocated and owned by the
 * caller (it may be transferred to another thread).
 */
export class RecordingEncryptor {
  readonly header: Header;
  readonly #key: Buffer;
  readonly #segment = Buffer.allocUnsafe(SEGMENT_SIZE);
  #filled = 0;
  #index = 0;
  #headerPending = true;

  constructor(dataKey: Buffer, recordingId: string, options: EncryptOptions = {}) {
    this.header = encodeHeader(recordingId, options.noncePrefix ?? randomBytes(NONCE_PREFIX_SIZE));
    this.#key = payloadKey(dataKey, this.header);
  }

  /** One output buffer per input chunk, so a writer makes one write per chunk, not two per segment. */
  update(chunk: Buffer): Buffer {
    const out = this.#start();
    let offset = 0;
    while (offset < chunk.length) {
      // A full segment is sealed only once more data arrives: until then it may be the last one.
      if (this.#filled === SEGMENT_SIZE) this.#seal(false, out);
      const n = chunk.copy(this.#segment, this.#filled, offset);
      this.#filled += n;
      offset += n;
    }
    return Buffer.concat(out);
  }

  final(): Buffer {
    const out = this.#start();
    this.#seal(true, out);
    return Buffer.concat(out);
  }

  #start(): Buffer[] {
    if (!this.#headerPending) return [];
    this.#headerPending = false;
    return [this.header.bytes];
  }

  #seal(last: boolean, out: Buffer[]): void {
    out.push(...sealSegment(this.#key, this.header, this.#index, last, this.#segment.subarray(0, this.#filled)));
    this.#index += 1;
    this.#filled = 0;
  }
}

export class EncryptStream extends Transform {
  readonly #encryptor: RecordingEncryptor;

  constructor(dataKey: Buffer, recordingId: string, options: EncryptOptions = {}) {
    super();
    this.#encryptor = new RecordingEncryptor(dataKey, recordingId, options);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const out = this.#encryptor.update(chunk);
    if (out.length) this.push(out);
    done();
  }

  override _flush(done: TransformCallback): void {
    this.push(this.#encryptor.final());
    done();
  }
}

/** Encrypts a whole buffer; for tests and test vectors. */
export function encryptBuffer(plaintext: Buffer, dataKey: Buffer, recordingId: string, options: EncryptOptions = {}): Buffer {
  const encryptor = new RecordingEncryptor(dataKey, recordingId, options);
  return Buffer.concat([encryptor.update(plaintext), encryptor.final()]);
}
