/**
 * Random-access decryption of a recording container (docs/format.md §5). Reading a byte range
 * fetches and decrypts only the segments that cover it.
 */
import { CallvaultError, ErrorCodes, decryptionFailed } from '../errors.js';
import { decodeHeader, HEADER_SIZE, type Header } from './header.js';
import { layoutFor, openSegment, payloadKey, sealedSegmentOffset, TAG_SIZE, type Layout } from './segments.js';

/** Where the ciphertext lives: a blob store object, a file or a buffer. */
export interface CiphertextSource {
  readonly size: number;
  /** bytes [start, end) */
  read(start: number, end: number): AsyncIterable<Buffer>;
}

export class OpenedRecording {
  readonly plaintextSize: number;
  readonly #layout: Layout;
  readonly #key: Buffer;

  constructor(
    readonly header: Header,
    private readonly source: CiphertextSource,
    dataKey: Buffer,
  ) {
    this.#layout = layoutFor(source.size, header.segmentSize);
    this.plaintextSize = this.#layout.plaintextSize;
    this.#key = payloadKey(dataKey, header);
  }

  /**
   * Plaintext bytes [start, end). Each segment is authenticated before any of its bytes are
   * returned, so a caller never sees unauthenticated plaintext.
   */
  async *read(start = 0, end = this.plaintextSize): AsyncGenerator<Buffer> {
    if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && 0 <= start && start <= end && end <= this.plaintextSize)) {
      throw new CallvaultError(ErrorCodes.RANGE_NOT_SATISFIABLE, 'range outside the recording');
    }
    const size = this.header.segmentSize;
    // An empty read still authenticates one segment when the recording itself is empty.
    if (start === end && this.plaintextSize !== 0) return;
    const first = Math.floor(start / size);
    const last = this.plaintextSize === 0 ? 0 : Math.floor((end - 1) / size);
    const cipherStart = sealedSegmentOffset(first, size);
    const cipherEnd = Math.min(sealedSegmentOffset(last + 1, size), this.source.size);

    let index = first;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const sealedLength = (i: number) => (i === this.#layout.segmentCount - 1 ? this.#layout.lastSegmentSize : size) + TAG_SIZE;

    const emit = (sealed: Buffer): Buffer => {
      const isLast = index === this.#layout.segmentCount - 1;
      const plain = openSegment(this.#key, this.header, index, isLast, sealed);
      const segStart = index * size;
      index += 1;
      return plain.subarray(Math.max(0, start - segStart), Math.min(plain.length, end - segStart));
    };

    for await (const chunk of this.source.read(cipherStart, cipherEnd)) {
      let offset = 0;
      while (offset < chunk.length) {
        if (index > last) throw decryptionFailed();
        const need = sealedLength(index) - pendingBytes;
        const take = Math.min(need, chunk.length - offset);
        pending.push(chunk.subarray(offset, offset + take));
        pendingBytes += take;
        offset += take;
        if (pendingBytes === sealedLength(index)) {
          const sealed = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
          pending = [];
          pendingBytes = 0;
          const plain = emit(sealed);
          if (plain.length > 0 || this.plaintextSize === 0) yield plain;
        }
      }
    }
    // the source ended early: the object changed size under us
    if (index !== last + 1) throw decryptionFailed();
  }
}

export async function openRecording(source: CiphertextSource, dataKey: Buffer, recordingId: string): Promise<OpenedRecording> {
  const parts: Buffer[] = [];
  for await (const chunk of source.read(0, Math.min(HEADER_SIZE, source.size))) parts.push(chunk);
  const header = decodeHeader(Buffer.concat(parts), recordingId);
  return new OpenedRecording(header, source, dataKey);
}

export function bufferSource(bytes: Buffer): CiphertextSource {
  return {
    size: bytes.length,
    async *read(start: number, end: number) {
      yield bytes.subarray(start, end);
    },
  };
}

/** Decrypts a whole container held in memory; for tests, test vectors and small objects. */
export async function decryptBuffer(container: Buffer, dataKey: Buffer, recordingId: string): Promise<Buffer> {
  const opened = await openRecording(bufferSource(container), dataKey, recordingId);
  const out: Buffer[] = [];
  for await (const b of opened.read()) out.push(b);
  return Buffer.concat(out);
}
