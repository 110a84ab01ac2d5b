/**
 * A pool of worker threads that encrypt recordings (encrypt-worker.ts). The main thread keeps the
 * I/O and the database; data keys, AES-GCM, SHA-256 and HPKE run in the workers, on every core.
 * Each recording is bound to one worker, which keeps its segments in order.
 */
import { availableParallelism } from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { SealedFields } from './sealed-metadata.js';
import { releasedBytes } from '../util/memory.js';

export interface EncryptionResult {
  contentSha256: string;
  ciphertextSha256: string;
  plaintextSize: number;
  ciphertextSize: number;
  /** HPKE enc ‖ ciphertext of the data key, base64 */
  wrappedKey: string;
  sealedMetadata: string;
  /** present when the request carried a transcript */
  sealedTranscript?: string;
}

export interface EncryptionRequest {
  recordingId: string;
  keyId: string;
  publicKey: Buffer;
  /** a function: the fields are known only once the audio has ended (a live call), and sealed then */
  fields: SealedFields | (() => SealedFields);
  /**
   * a live call's fields known at its start: sealed at once and handed back with the wrapped data
   * key (`WorkerEncryptStream.journalKey`), for a journal that outlives a crash (src/siprec/journal.ts)
   */
  journal?: SealedFields;
  /** a transcript to seal under the same data key (UTF-8 text: WebVTT, SRT or JSON) */
  transcript?: Buffer;
}

export type ToWorker =
  | { type: 'start'; id: number; recordingId: string; keyId: string; publicKey: Uint8Array; fields?: SealedFields; journal?: SealedFields; transcript?: Uint8Array }
  | { type: 'chunk'; id: number; buf: Uint8Array }
  | { type: 'end'; id: number; fields?: SealedFields }
  | { type: 'abort'; id: number };

export type FromWorker =
  | { type: 'out'; id: number; buf: Uint8Array }
  | { type: 'key'; id: number; wrappedKey: string; sealedMetadata: string }
  | { type: 'done'; id: number; result: EncryptionResult }
  | { type: 'error'; id: number };

interface Slot {
  worker: Worker;
  active: number;
}

export class EncryptWorkerPool {
  static #shared: EncryptWorkerPool | undefined;
  readonly #slots: Slot[] = [];
  readonly #streams = new Map<number, WorkerEncryptStream>();
  #nextId = 1;

  constructor(private readonly size = availableParallelism()) {}

  static shared(): EncryptWorkerPool {
    if (!EncryptWorkerPool.#shared) EncryptWorkerPool.#shared = new EncryptWorkerPool();
    return EncryptWorkerPool.#shared;
  }

  /** A transform from plaintext to container bytes; `result` settles when it has flushed. */
  encrypt(request: EncryptionRequest): WorkerEncryptStream {
    const slot = this.#slot();
    const id = this.#nextId++;
    const { fields, ...rest } = request;
    const stream = new WorkerEncryptStream(id, slot.worker, () => this.#release(id, slot), typeof fields === 'function' ? fields : undefined);
    this.#streams.set(id, stream);
    slot.active += 1;
    if (slot.active === 1) slot.worker.ref();
    slot.worker.postMessage({ type: 'start', id, ...rest, ...(typeof fields === 'function' ? {} : { fields }) } satisfies ToWorker);
    return stream;
  }

  #slot(): Slot {
    if (this.#slots.length < this.size) {
      // a small young generation makes the worker collect its dead chunks often (see util/memory.ts)
      const worker = new Worker(new URL('./encrypt-worker.js', import.meta.url), {
        resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 32 },
      });
      worker.unref();
      const slot = { worker, active: 0 };
      worker.on('message', (m: FromWorker) => this.#streams.get(m.id)?.receive(m));
      worker.on('error', (err) => {
        for (const s of this.#streams.values()) if (s.worker === worker) s.destroy(err);
      });
      this.#slots.push(slot);
      return slot;
    }
    return this.#slots.reduce((a, b) => (b.active < a.active ? b : a));
  }

  #release(id: number, slot: Slot): void {
    if (!this.#streams.delete(id)) return;
    slot.active -= 1;
    if (slot.active === 0) slot.worker.unref();
  }
}

export class WorkerEncryptStream extends Transform {
  readonly result: Promise<EncryptionResult>;
  /** for a request with `journal`: the wrapped data key and the journal's fields sealed under it */
  readonly journalKey: Promise<{ wrappedKey: string; sealedMetadata: string }>;
  #journalKey!: (k: { wrappedKey: string; sealedMetadata: string }) => void;
  #resolve!: (r: EncryptionResult) => void;
  #reject!: (e: Error) => void;
  #waiting: TransformCallback | null = null;
  #flushing = false;
  #settled = false;

  constructor(
    private readonly id: number,
    readonly worker: Worker,
    private readonly release: () => void,
    private readonly fieldsAtEnd?: () => SealedFields,
  ) {
    super();
    this.result = new Promise((res, rej) => {
      this.#resolve = res;
      this.#reject = rej;
    });
    // a stream that fails before the end must not leave result unobserved
    this.result.catch(() => {});
    this.journalKey = new Promise((res) => {
      this.#journalKey = res;
    });
  }

  /** one chunk in flight per recording: the worker's reply is the back-pressure */
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#waiting = done;
    // hand over, not copy, a chunk that owns its memory outright (file reads of 1 MiB do)
    const own = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength;
    this.worker.postMessage({ type: 'chunk', id: this.id, buf: chunk } satisfies ToWorker, own ? [chunk.buffer as ArrayBuffer] : []);
  }

  override _flush(done: TransformCallback): void {
    this.#flushing = true;
    this.#waiting = done;
    let fields: SealedFields | undefined;
    try {
      fields = this.fieldsAtEnd?.();
    } catch (err) {
      done(err as Error);
      return;
    }
    this.worker.postMessage({ type: 'end', id: this.id, ...(fields ? { fields } : {}) } satisfies ToWorker);
  }

  receive(m: FromWorker): void {
    if (m.type === 'key') {
      this.#journalKey({ wrappedKey: m.wrappedKey, sealedMetadata: m.sealedMetadata });
    } else if (m.type === 'out') {
      this.push(Buffer.from(m.buf.buffer, m.buf.byteOffset, m.buf.byteLength));
      releasedBytes(m.buf.byteLength);
      // the final chunk's callback waits for 'done', which carries the hashes
      if (!this.#flushing) this.#take()?.();
    } else if (m.type === 'done') {
      this.#settled = true;
      this.release();
      this.#resolve(m.result);
      this.#take()?.();
    } else {
      this.#settled = true;
      this.release();
      const err = new Error('encryption failed in a worker');
      this.#reject(err);
      this.#take()?.(err);
    }
  }

  override _destroy(err: Error | null, done: (error?: Error | null) => void): void {
    if (!this.#settled) {
      this.worker.postMessage({ type: 'abort', id: this.id } satisfies ToWorker);
      this.release();
      this.#reject(err ?? new Error('aborted'));
    }
    done(err);
  }

  #take(): TransformCallback | null {
    const cb = this.#waiting;
    this.#waiting = null;
    return cb;
  }
}
