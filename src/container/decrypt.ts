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
  /** bytes [start, end), streamed: for reading a whole object */
  read(start: number, end: number): AsyncIterable<Buffer>;
  /**
   * bytes [start, end) in one buffer, with one positioned read (a ranged GET on object storage);
   * fewer bytes when the object is shorter. Without it, `read`'s pieces are joined.
   */
  readAt?(start: number, end: number): Promise<Buffer>;
}

async function readAt(source: CiphertextSource, start: number, end: number): Promise<Buffer> {
  if (source.readAt) return source.readAt(start, end);
  const parts: Buffer[] = [];
  for await (const chunk of source.read(start, end)) parts.push(chunk);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/**
 * Sealed segments per read when streaming a long span: a whole file goes out 256 KiB at a time,
 * so a hundred paused listeners hold little; a player's range is one read (`readAt`).
 */
const STREAM_SEGMENTS = 4;

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
   * Plaintext bytes [start, end), a segment at a time, read a few segments per read. Each segment
   * is authenticated before any of its bytes are returned, so a caller never sees unauthenticated
   * plaintext.
   */
  async *read(start = 0, end = this.plaintextSize): AsyncGenerator<Buffer> {
    this.#check(start, end);
    // An empty read still authenticates one segment when the recording itself is empty.
    if (start === end && this.plaintextSize !== 0) return;
    const size = this.header.segmentSize;
    const first = Math.floor(start / size);
    const last = this.plaintextSize === 0 ? 0 : Math.floor((end - 1) / size);
    for (let batch = first; batch <= last; batch += STREAM_SEGMENTS) {
      const batchLast = Math.min(last, batch + STREAM_SEGMENTS - 1);
      const sealed = await this.#fetch(batch, batchLast);
      let offset = 0;
      for (let index = batch; index <= batchLast; index++) {
        const { plain, length } = this.#open(index, sealed, offset);
        offset += length;
        const segStart = index * size;
        const piece = plain.subarray(Math.max(0, start - segStart), Math.min(plain.length, end - segStart));
        if (piece.length > 0 || this.plaintextSize === 0) yield piece;
      }
    }
  }

  /**
   * Plaintext bytes [start, end) in one buffer: one read of exactly the sealed segments that
   * cover them, each authenticated before the buffer is returned.
   */
  async readAt(start: number, end: number): Promise<Buffer> {
    this.#check(start, end);
    if (start === end && this.plaintextSize !== 0) return Buffer.alloc(0);
    const size = this.header.segmentSize;
    const first = Math.floor(start / size);
    const last = this.plaintextSize === 0 ? 0 : Math.floor((end - 1) / size);
    const sealed = await this.#fetch(first, last);
    const out = Buffer.allocUnsafe(end - start);
    let written = 0;
    let offset = 0;
    for (let index = first; index <= last; index++) {
      const { plain, length } = this.#open(index, sealed, offset);
      offset += length;
      const segStart = index * size;
      written += plain.copy(out, written, Math.max(0, start - segStart), Math.min(plain.length, end - segStart));
    }
    if (written !== out.length) throw decryptionFailed();
    return out;
  }

  /** the sealed segments first..last, in one read */
  async #fetch(first: number, last: number): Promise<Buffer> {
    const size = this.header.segmentSize;
    const cipherStart = sealedSegmentOffset(first, size);
    const cipherEnd = Math.min(sealedSegmentOffset(last + 1, size), this.source.size);
    const sealed = await readAt(this.source, cipherStart, cipherEnd);
    // a source shorter or longer than it said: the object changed size under us
    if (sealed.length !== cipherEnd - cipherStart) throw decryptionFailed();
    return sealed;
  }

  /** segment `index`, found at `offset` in `sealed`, authenticated and decrypted; and its sealed length */
  #open(index: number, sealed: Buffer, offset: number): { plain: Buffer; length: number } {
    const isLast = index === this.#layout.segmentCount - 1;
    const length = (isLast ? this.#layout.lastSegmentSize : this.header.segmentSize) + TAG_SIZE;
    return { plain: openSegment(this.#key, this.header, index, isLast, sealed.subarray(offset, offset + length)), length };
  }

  #check(start: number, end: number): void {
    if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && 0 <= start && start <= end && end <= this.plaintextSize)) {
      throw new CallvaultError(ErrorCodes.RANGE_NOT_SATISFIABLE, 'range outside the recording');
    }
  }
}

export async function openRecording(source: CiphertextSource, dataKey: Buffer, recordingId: string): Promise<OpenedRecording> {
  const header = decodeHeader(await readAt(source, 0, Math.min(HEADER_SIZE, source.size)), recordingId);
  return new OpenedRecording(header, source, dataKey);
}

export function bufferSource(bytes: Buffer): CiphertextSource {
  return {
    size: bytes.length,
    async *read(start: number, end: number) {
      yield bytes.subarray(start, end);
    },
    readAt: async (start: number, end: number) => bytes.subarray(start, end),
  };
}

/** Decrypts a whole container held in memory; for tests, test vectors and small objects. */
export async function decryptBuffer(container: Buffer, dataKey: Buffer, recordingId: string): Promise<Buffer> {
  const opened = await openRecording(bufferSource(container), dataKey, recordingId);
  const out: Buffer[] = [];
  for await (const b of opened.read()) out.push(b);
  return Buffer.concat(out);
}
