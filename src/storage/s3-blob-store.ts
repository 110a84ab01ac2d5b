/**
 * Blobs as objects in an S3 bucket (or an S3-compatible service), optionally under a key prefix.
 * Like every blob store it only ever moves ciphertext: it never logs, inspects or keeps object
 * contents beyond the parts in flight.
 *
 * Commit strategy: upload straight to the final key, and hold back the request that publishes it.
 *   S3 has no rename. The alternative (upload to `.tmp/<uuid>`, CopyObject to the key, delete the
 *   temporary object) copies every object a second time at commit, needs UploadPartCopy above
 *   5 GiB, and a crash between copy and delete leaves a complete orphan that costs full storage.
 *   Instead, `begin(key)` starts a lib-storage `Upload` to `key` itself, through a client wrapper
 *   that passes only the staging requests (CreateMultipartUpload, UploadPart, AbortMultipartUpload)
 *   and holds every other request, in practice the single publishing one (PutObject for an object
 *   smaller than one part, CompleteMultipartUpload otherwise), until `commit()` releases it.
 *   - Nothing is visible under `key` before commit: S3 shows neither an object whose PutObject has
 *     not been sent nor a multipart upload that has not been completed, and a committed object
 *     under the same key stays readable, whole, until the new one replaces it.
 *   - The whitelist fails closed: a publishing request this file does not know of is held too.
 *   - `abort()` refuses the held request, ends the upload, waits for parts in flight and sends
 *     AbortMultipartUpload (lib-storage sends it once; it is sent again here, NoSuchUpload being
 *     fine), so the parts are freed. If that fails (the service is unreachable), the upload is
 *     left incomplete: invisible, and removed by removeDebris() or a bucket lifecycle rule.
 *   - A small object waits in memory until commit (at most one part); a large one is sent in
 *     parts of `partSize` (8 MiB, at least 5 MiB) with `queueSize` (2) parts in flight while the
 *     next is cut, and the writer is held back meanwhile: lib-storage copies each part once, so a
 *     writer holds up to about 2 × (queueSize + 1) × partSize (measured: 48 MiB for a 200 MiB
 *     object with the defaults). 10,000 parts: objects up to 78 GiB.
 *   - A commit that fails on the network is ambiguous (the object may or may not have been
 *     published); the upload is aborted, and `verify` lists a published orphan.
 *
 * Debris: a writer that dies leaves at most an incomplete multipart upload (nothing is written
 * to a temporary key, so there are no temporary objects to clean up). removeDebris() aborts the
 * incomplete uploads under the prefix, for keys that are blob keys, initiated more than
 * `debrisAfterMs` ago (24 h by default, far longer than any live writer takes: other servers
 * sharing the bucket may be writing right now). A lifecycle rule with
 * AbortIncompleteMultipartUpload does the same on the service's side.
 *
 * Reads: open() is a HeadObject (size and ETag); every read(start, end) is one ranged GetObject
 * whose body is streamed, never buffered, and sent with If-Match so that a read never mixes two
 * versions of a replaced object. An answer covering other bytes than asked is refused.
 *
 * Errors: 404 is CV_BLOB_NOT_FOUND; anything else is CV_STORAGE_FAILED, whose message names the
 * operation, the HTTP status and S3 error code or the network error code, never the key, the
 * bucket or credentials. The SDK error is not attached as a cause: it carries the key.
 *
 * The service needs s3:GetObject, s3:PutObject, s3:DeleteObject, s3:ListBucket (without it, a
 * missing object reads as 403, CV_STORAGE_FAILED, not CV_BLOB_NOT_FOUND),
 * s3:ListBucketMultipartUploads and s3:AbortMultipartUpload. In a versioned bucket delete() only
 * adds a delete marker: expire noncurrent versions with a lifecycle rule.
 */
import { Readable, Writable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
  UploadPartCommand,
  type GetObjectCommandOutput,
  type HeadObjectCommandOutput,
  type ListMultipartUploadsCommandOutput,
  type ListObjectsV2CommandOutput,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { CallvaultError, ErrorCodes, isCallvaultError } from '../errors.js';
import type { CiphertextSource } from '../container/decrypt.js';
import { assertBlobKey, type BlobStore, type PendingBlob } from './blob-store.js';

const MiB = 1024 * 1024;
export const S3_MIN_PART_SIZE = 5 * MiB;
const DEFAULT_PART_SIZE = 8 * MiB;
const DEFAULT_QUEUE_SIZE = 2;
export const DEFAULT_DEBRIS_AFTER_MS = 24 * 60 * 60 * 1000;

export interface S3BlobStoreOptions {
  bucket: string;
  /** keys are stored as `<prefix>/<key>`; no leading or trailing slash */
  prefix?: string;
  /** an S3-compatible service, e.g. `https://minio.example:9000`; AWS when absent */
  endpoint?: string;
  /** the SDK's own resolution (AWS_REGION, the AWS config) when absent; for a custom endpoint, `defaultRegion` */
  region?: string;
  /** the region of a custom endpoint named without one: AWS_REGION or AWS_DEFAULT_REGION (src/config.ts), else `us-east-1` */
  defaultRegion?: string;
  /** `https://endpoint/bucket/key` rather than `https://bucket.endpoint/key` (most non-AWS services) */
  forcePathStyle?: boolean;
  /** the SDK's default provider chain (environment, profile, SSO, instance role…) when absent */
  credentials?: S3ClientConfig['credentials'];
  /** attempts per request, retries included (the SDK's default is 3) */
  maxAttempts?: number;
  /** a client to use instead of one built from the options above; the store does not destroy it */
  client?: S3Client;
  /** bytes per part of a multipart upload: at least 5 MiB, 8 MiB by default */
  partSize?: number;
  /** parts uploaded at once per writer: 2 by default */
  queueSize?: number;
  /** incomplete uploads older than this are debris: 24 h by default */
  debrisAfterMs?: number;
  /** keys per listing request: 1000 (the S3 maximum) by default */
  pageSize?: number;
}

/** the requests that stage an object without making it visible; every other request waits for commit() */
const STAGING = [CreateMultipartUploadCommand, UploadPartCommand, AbortMultipartUploadCommand];

export class S3BlobStore implements BlobStore {
  readonly kind = 's3';
  readonly bucket: string;
  /** '' or `something/` */
  readonly prefix: string;
  readonly client: S3Client;
  readonly #ownsClient: boolean;
  readonly #partSize: number;
  readonly #queueSize: number;
  readonly #debrisAfterMs: number;
  readonly #pageSize: number;

  constructor(options: S3BlobStoreOptions) {
    this.bucket = options.bucket;
    const prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.prefix = prefix ? `${prefix}/` : '';
    this.#partSize = options.partSize ?? DEFAULT_PART_SIZE;
    this.#queueSize = options.queueSize ?? DEFAULT_QUEUE_SIZE;
    this.#debrisAfterMs = options.debrisAfterMs ?? DEFAULT_DEBRIS_AFTER_MS;
    this.#pageSize = options.pageSize ?? 1000;
    if (!(Number.isSafeInteger(this.#partSize) && this.#partSize >= S3_MIN_PART_SIZE)) throw new RangeError('partSize must be at least 5 MiB');
    if (!(Number.isSafeInteger(this.#queueSize) && this.#queueSize >= 1)) throw new RangeError('queueSize must be at least 1');
    if (!(this.#debrisAfterMs >= 0)) throw new RangeError('debrisAfterMs must not be negative');
    if (!(Number.isSafeInteger(this.#pageSize) && this.#pageSize >= 1 && this.#pageSize <= 1000)) throw new RangeError('pageSize must be 1 to 1000');
    this.#ownsClient = !options.client;
    this.client =
      options.client ??
      new S3Client({
        endpoint: options.endpoint,
        region: options.region ?? (options.endpoint ? options.defaultRegion || 'us-east-1' : undefined),
        forcePathStyle: options.forcePathStyle,
        credentials: options.credentials,
        maxAttempts: options.maxAttempts,
        // a service that accepts no connection or stops answering fails the request rather than
        // hanging it (the SDK retries it, up to maxAttempts, with backoff); the idle limit allows
        // for a player that pauses, whose range read then sits idle
        requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 },
      });
  }

  /** closes the connections of a client the store created */
  destroy(): void {
    if (this.#ownsClient) this.client.destroy();
  }

  async begin(key: string): Promise<PendingBlob> {
    const Key = this.#objectKey(key);
    const Bucket = this.bucket;
    const client = this.client;

    let release!: () => void;
    let refuse!: (err: Error) => void;
    const gate = new Promise<void>((resolve, reject) => {
      release = resolve;
      refuse = reject;
    });
    gate.catch(() => {});
    const gated = new Proxy(client, {
      get(target, prop) {
        if (prop !== 'send') return Reflect.get(target, prop);
        return (command: object, options?: object) =>
          STAGING.some((C) => command instanceof C) ? target.send(command as never, options as never) : gate.then(() => target.send(command as never, options as never));
      },
    });

    // The writer writes to `stream`; the upload reads `body`. They are two streams so that an
    // upload that fails and stops reading (lib-storage then destroys `body`) holds the writer
    // until the failure is known, and the writer's pipeline ends with CV_STORAGE_FAILED rather
    // than a bare premature close.
    let resume: (() => void) | undefined;
    const body = new Readable({
      highWaterMark: MiB,
      read() {
        const r = resume;
        resume = undefined;
        r?.();
      },
    });
    const stream = new Writable({
      highWaterMark: MiB,
      write(chunk: Buffer, _encoding, callback) {
        if (body.push(chunk)) callback();
        else resume = () => callback();
      },
      final(callback) {
        body.push(null);
        callback();
      },
      destroy(err, callback) {
        // (a stream that finished is destroyed too, by autoDestroy: the body then ends normally)
        if (!body.destroyed && !stream.writableFinished) body.destroy(err ?? new Error('the writer stopped'));
        callback(err);
      },
    });
    // failures reach the writer through its pipeline and the caller through commit(); without a
    // listener, a failure after the writer has gone would be an uncaught exception
    stream.on('error', () => {});
    body.on('error', () => {});
    const upload = new Upload({
      client: gated,
      params: { Bucket, Key, Body: body, ContentType: 'application/octet-stream' },
      partSize: this.#partSize,
      queueSize: this.#queueSize,
      leavePartsOnError: false,
    });

    let state: 'writing' | 'committing' | 'committed' | 'failed' | 'aborted' = 'writing';
    let failure: CallvaultError | undefined;
    const done = upload.done().then(
      () => undefined,
      (err: unknown) => {
        failure ??= storageFailed('upload', err);
        // an upload that stopped reading would otherwise leave the writer waiting forever
        if (!stream.destroyed) stream.destroy(failure);
        throw failure;
      },
    );
    done.catch(() => {});

    const discard = async (): Promise<void> => {
      const UploadId = upload.uploadId;
      if (!UploadId) return;
      await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => {});
    };

    return {
      stream,
      commit: async () => {
        if (state === 'aborted') throw new Error('commit after abort');
        if (state !== 'writing') throw new Error('commit called twice');
        if (failure) {
          state = 'failed';
          throw failure;
        }
        if (!stream.writableFinished) throw new Error('commit before the stream finished');
        state = 'committing';
        release();
        try {
          await done;
          state = 'committed';
        } catch (err) {
          state = 'failed';
          await discard();
          throw err;
        }
      },
      abort: async () => {
        if (state === 'committing' || state === 'committed') {
          await done.catch(() => {});
          return;
        }
        if (state === 'aborted') return;
        state = 'aborted';
        refuse(new Error('aborted'));
        stream.destroy();
        body.destroy();
        await done.catch(() => {});
        await discard();
      },
    };
  }

  async open(key: string): Promise<CiphertextSource> {
    const Key = this.#objectKey(key);
    let head: HeadObjectCommandOutput;
    try {
      head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
    } catch (err) {
      if (isNotFound(err)) throw blobNotFound();
      throw storageFailed('HeadObject', err);
    }
    const size = head.ContentLength;
    if (!(typeof size === 'number' && Number.isSafeInteger(size) && size >= 0)) {
      throw new CallvaultError(ErrorCodes.STORAGE_FAILED, 'object storage answered HeadObject without a size');
    }
    const etag = head.ETag;
    return {
      size,
      read: (start: number, end: number) => this.#read(Key, etag, size, start, end),
      // one ranged GET, its body gathered
      readAt: async (start: number, end: number) => {
        const parts: Buffer[] = [];
        for await (const chunk of this.#read(Key, etag, size, start, end)) parts.push(chunk);
        return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      },
    };
  }

  async *#read(Key: string, etag: string | undefined, size: number, start: number, end: number): AsyncGenerator<Buffer> {
    if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0)) throw new RangeError('invalid range');
    end = Math.min(end, size);
    if (end <= start) return;
    const expected = end - start;
    let res: GetObjectCommandOutput;
    try {
      res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key, Range: `bytes=${start}-${end - 1}`, IfMatch: etag }));
    } catch (err) {
      if (isNotFound(err)) throw blobNotFound();
      if (statusOf(err) === 412) throw new CallvaultError(ErrorCodes.STORAGE_FAILED, 'stored object was replaced while it was being read');
      throw storageFailed('GetObject', err);
    }
    const body = res.Body as Readable | undefined;
    try {
      const range = res.ContentRange;
      if (!body || res.ContentLength !== expected || (range !== undefined && !range.startsWith(`bytes ${start}-${end - 1}/`))) {
        throw new CallvaultError(ErrorCodes.STORAGE_FAILED, 'object storage answered a ranged read with other bytes than asked');
      }
      let received = 0;
      try {
        for await (const chunk of body as AsyncIterable<Buffer>) {
          received += chunk.length;
          if (received > expected) throw new CallvaultError(ErrorCodes.STORAGE_FAILED, 'object storage sent more bytes than asked');
          yield chunk;
        }
      } catch (err) {
        if (isCallvaultError(err)) throw err;
        throw storageFailed('GetObject', err);
      }
      if (received !== expected) throw new CallvaultError(ErrorCodes.STORAGE_FAILED, 'stored object ended early');
    } finally {
      // a reader that stops early releases the connection
      body?.destroy();
    }
  }

  async exists(key: string): Promise<boolean> {
    const Key = this.#objectKey(key);
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw storageFailed('HeadObject', err);
    }
  }

  async delete(key: string): Promise<void> {
    const Key = this.#objectKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (err) {
      if (!isNotFound(err)) throw storageFailed('DeleteObject', err);
    }
  }

  async *list(): AsyncIterable<string> {
    let ContinuationToken: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix || undefined, ContinuationToken, MaxKeys: this.#pageSize }));
      } catch (err) {
        throw storageFailed('ListObjectsV2', err);
      }
      for (const object of page.Contents ?? []) {
        const key = this.#blobKey(object.Key);
        if (key !== undefined) yield key;
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  async removeDebris(): Promise<number> {
    const cutoff = Date.now() - this.#debrisAfterMs;
    let removed = 0;
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    for (;;) {
      let page: ListMultipartUploadsCommandOutput;
      try {
        page = await this.client.send(
          new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: this.prefix || undefined, KeyMarker, UploadIdMarker, MaxUploads: this.#pageSize }),
        );
      } catch (err) {
        throw storageFailed('ListMultipartUploads', err);
      }
      for (const upload of page.Uploads ?? []) {
        const { Key, UploadId, Initiated } = upload;
        // only what this store could have started, and only when no live writer can still own it
        if (!Key || !UploadId || !Initiated || this.#blobKey(Key) === undefined) continue;
        if (Initiated.getTime() > cutoff) continue;
        try {
          await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId }));
          removed += 1;
        } catch (err) {
          if (!isNotFound(err)) throw storageFailed('AbortMultipartUpload', err);
        }
      }
      if (!page.IsTruncated || (!page.NextKeyMarker && !page.NextUploadIdMarker)) break;
      KeyMarker = page.NextKeyMarker;
      UploadIdMarker = page.NextUploadIdMarker;
    }
    return removed;
  }

  /**
   * One ListObjectsV2 of at most one key under the prefix: it needs the s3:ListBucket the store
   * needs anyway, reads no object, and fails on a wrong bucket, wrong credentials or a service
   * that is down. It proves the service answers, not that a write would succeed; a write probe
   * would cost a PutObject and a DeleteObject (and a delete marker in a versioned bucket) each time.
   */
  async probe(signal?: AbortSignal): Promise<void> {
    try {
      await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix || undefined, MaxKeys: 1 }), { abortSignal: signal });
    } catch (err) {
      throw storageFailed('ListObjectsV2', err);
    }
  }

  #objectKey(key: string): string {
    assertBlobKey(key);
    return this.prefix + key;
  }

  /** the blob key of an object key under the prefix, or undefined for anything else in the bucket */
  #blobKey(objectKey: string | undefined): string | undefined {
    if (!objectKey?.startsWith(this.prefix)) return undefined;
    const key = objectKey.slice(this.prefix.length);
    try {
      assertBlobKey(key);
      return key;
    } catch {
      return undefined;
    }
  }
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function isNotFound(err: unknown): boolean {
  const name = (err as { name?: unknown } | undefined)?.name;
  // a missing bucket is a misconfiguration, not a missing object (HeadObject cannot tell them apart)
  if (name === 'NoSuchBucket') return false;
  return statusOf(err) === 404 || name === 'NotFound' || name === 'NoSuchKey' || name === 'NoSuchUpload';
}

function blobNotFound(): CallvaultError {
  return new CallvaultError(ErrorCodes.BLOB_NOT_FOUND, 'stored object is missing');
}

/**
 * CV_STORAGE_FAILED naming the operation and what went wrong in words the SDK and the service
 * choose from a fixed vocabulary (HTTP status, S3 error code, network error code); the SDK's
 * message and the error itself are left out: they can carry the key and the bucket.
 */
function storageFailed(operation: string, err: unknown): CallvaultError {
  if (isCallvaultError(err)) return err;
  const e = (err ?? {}) as { name?: unknown; code?: unknown };
  const status = statusOf(err);
  const details: string[] = [];
  if (status !== undefined) details.push(`HTTP ${status}`);
  if (typeof e.code === 'string' && /^E[A-Z_]{1,40}$/.test(e.code)) details.push(e.code);
  else if (typeof e.name === 'string' && e.name !== 'Error' && /^[A-Za-z]{1,60}$/.test(e.name)) details.push(e.name);
  // no answer, or the service's own failure (5xx, throttling): the store is down for now, and the
  // caller may retry; any other answer (403, 400) is a misconfiguration that retrying will not mend
  const down = status === undefined || status >= 500 || status === 429 || e.name === 'TimeoutError' || e.name === 'RequestTimeout';
  return new CallvaultError(
    down ? ErrorCodes.STORAGE_UNAVAILABLE : ErrorCodes.STORAGE_FAILED,
    `object storage ${operation} failed${details.length ? ` (${details.join(', ')})` : ''}`,
  );
}
