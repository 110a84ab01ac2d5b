/**
 * An S3 double for the tests: s3rver on 127.0.0.1 (a free port) with one bucket, storing in a
 * fresh data directory of the suite that stop() removes.
 *
 * s3rver 3.7 implements neither AbortMultipartUpload nor ListMultipartUploads (it answers 405 and
 * 501). This helper adds both, in front of s3rver, over s3rver's own record of incomplete uploads
 * (`<bucket>/._S3rver_uploads/<uploadId>/`, the upload's initiation time being the mtime of its
 * `key` file). Nor can it page ListObjectsV2 on Node 20: its continuation tokens are made with
 * DES, which OpenSSL 3 refuses (HTTP 500); the helper answers the ListObjectsV2 requests that
 * page (a continuation token, or more keys than max-keys) from s3rver's own store. These skip
 * signature checks. It also keeps a log of the requests it served, with the bytes each response
 * put on the wire, for tests that check what went over the network.
 */
import { createRequire } from 'node:module';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { removeDir, tempDir } from '../helpers.js';

export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface ServedRequest {
  method: string;
  /** path, without the query */
  path: string;
  query: Record<string, unknown>;
  range: string | undefined;
  status: number;
  /** bytes written to the socket for the response, headers included */
  wireBytes: number;
}

export interface S3rverHandle {
  endpoint: string;
  bucket: string;
  credentials: typeof S3RVER_CREDENTIALS;
  /** s3rver's directory */
  dir: string;
  /** every request served so far, in the order the responses finished */
  requests: ServedRequest[];
  /** the incomplete multipart uploads s3rver holds */
  incompleteUploads(): Promise<{ key: string; uploadId: string; initiated: Date }[]>;
  stop(): Promise<void>;
}

interface KoaContext {
  method: string;
  path: string;
  query: Record<string, unknown>;
  status: number;
  body: unknown;
  type: string;
  req: IncomingMessage;
  res: ServerResponse;
  get(header: string): string;
}
type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;
interface StoredObject {
  key: string;
  size: number;
  lastModifiedDate: Date;
  metadata: { etag?: string };
}
interface S3rverServer {
  middleware: Middleware[];
  store: {
    listObjects(bucket: string, options: { prefix?: string; startAfter?: string; maxKeys?: number }): Promise<{ objects: StoredObject[]; isTruncated: boolean }>;
  };
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
const S3rver = createRequire(import.meta.url)('s3rver') as new (options: Record<string, unknown>) => S3rverServer;

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export async function startS3rver(bucket = 'callvault-test'): Promise<S3rverHandle> {
  const dir = await tempDir('data', 's3');
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory: dir, silent: true, configureBuckets: [{ name: bucket }] });
  const requests: ServedRequest[] = [];
  const uploadsDir = join(dir, bucket, '._S3rver_uploads');

  const incompleteUploads = async () => {
    const out: { key: string; uploadId: string; initiated: Date }[] = [];
    for (const uploadId of await readdir(uploadsDir).catch(() => [] as string[])) {
      const keyFile = join(uploadsDir, uploadId, 'key');
      const [key, info] = await Promise.all([readFile(keyFile, 'utf8'), stat(keyFile)]).catch(() => [undefined, undefined] as const);
      if (key !== undefined && info) out.push({ key, uploadId, initiated: info.mtime });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.uploadId < b.uploadId ? -1 : 1));
  };

  const log: Middleware = async (ctx, next) => {
    const socket = ctx.req.socket;
    const before = socket.bytesWritten;
    const entry = { method: ctx.method, path: ctx.path, query: { ...ctx.query }, range: ctx.req.headers.range };
    ctx.res.once('finish', () => requests.push({ ...entry, status: ctx.res.statusCode, wireBytes: socket.bytesWritten - before }));
    await next();
  };

  const multipartShim: Middleware = async (ctx, next) => {
    const [, b, ...rest] = ctx.path.split('/');
    if (b !== bucket) return next();
    const key = decodeURIComponent(rest.join('/'));
    const uploadId = ctx.query.uploadId;
    if (ctx.method === 'DELETE' && key && typeof uploadId === 'string') {
      // AbortMultipartUpload
      if (!/^[0-9a-f]+$/.test(uploadId) || !(await stat(join(uploadsDir, uploadId)).catch(() => undefined))) {
        ctx.status = 404;
        ctx.type = 'application/xml';
        ctx.body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>';
        return;
      }
      await rm(join(uploadsDir, uploadId), { recursive: true, force: true });
      ctx.status = 204;
      return;
    }
    if (ctx.method === 'GET' && !key && 'uploads' in ctx.query) {
      // ListMultipartUploads, with prefix, key-marker/upload-id-marker and max-uploads
      const str = (v: unknown) => (typeof v === 'string' ? v : '');
      const prefix = str(ctx.query.prefix);
      const keyMarker = str(ctx.query['key-marker']);
      const idMarker = str(ctx.query['upload-id-marker']);
      const max = Number(str(ctx.query['max-uploads']) || 1000);
      const all = (await incompleteUploads()).filter(
        (u) => u.key.startsWith(prefix) && (!keyMarker || u.key > keyMarker || (u.key === keyMarker && idMarker !== '' && u.uploadId > idMarker)),
      );
      const page = all.slice(0, max);
      const truncated = all.length > page.length;
      const last = page[page.length - 1];
      ctx.status = 200;
      ctx.type = 'application/xml';
      ctx.body =
        '<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        `<Bucket>${xml(bucket)}</Bucket><Prefix>${xml(prefix)}</Prefix><KeyMarker>${xml(keyMarker)}</KeyMarker><UploadIdMarker>${xml(idMarker)}</UploadIdMarker>` +
        (truncated && last ? `<NextKeyMarker>${xml(last.key)}</NextKeyMarker><NextUploadIdMarker>${xml(last.uploadId)}</NextUploadIdMarker>` : '') +
        `<MaxUploads>${max}</MaxUploads><IsTruncated>${truncated}</IsTruncated>` +
        page
          .map(
            (u) =>
              `<Upload><Key>${xml(u.key)}</Key><UploadId>${u.uploadId}</UploadId><Initiated>${u.initiated.toISOString()}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`,
          )
          .join('') +
        '</ListMultipartUploadsResult>';
      return;
    }
    if (ctx.method === 'GET' && !key && ctx.query['list-type'] === '2' && !('delimiter' in ctx.query)) {
      // ListObjectsV2, when it pages
      const str = (v: unknown) => (typeof v === 'string' ? v : '');
      const prefix = str(ctx.query.prefix);
      const token = str(ctx.query['continuation-token']);
      const startAfter = token ? Buffer.from(token, 'base64url').toString('utf8') : str(ctx.query['start-after']);
      const maxKeys = Math.min(1000, Number(str(ctx.query['max-keys']) || 1000));
      const result = await server.store.listObjects(bucket, { prefix, startAfter, maxKeys });
      if (!token && !result.isTruncated) return next();
      const last = result.objects[result.objects.length - 1];
      ctx.status = 200;
      ctx.type = 'application/xml';
      ctx.body =
        '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        `<Name>${xml(bucket)}</Name><Prefix>${xml(prefix)}</Prefix><MaxKeys>${maxKeys}</MaxKeys><KeyCount>${result.objects.length}</KeyCount>` +
        `<IsTruncated>${result.isTruncated}</IsTruncated>` +
        (token ? `<ContinuationToken>${xml(token)}</ContinuationToken>` : '') +
        (result.isTruncated && last ? `<NextContinuationToken>${Buffer.from(last.key).toString('base64url')}</NextContinuationToken>` : '') +
        result.objects
          .map(
            (o) =>
              `<Contents><Key>${xml(o.key)}</Key><LastModified>${o.lastModifiedDate.toISOString()}</LastModified>` +
              `<ETag>${xml(o.metadata.etag ?? '')}</ETag><Size>${o.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
          )
          .join('') +
        '</ListBucketResult>';
      return;
    }
    return next();
  };

  // Koa composes its middleware when the server starts listening: these run before s3rver's own
  server.middleware.unshift(log, multipartShim);
  const address = await server.run();
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    bucket,
    credentials: S3RVER_CREDENTIALS,
    dir,
    requests,
    incompleteUploads,
    stop: async () => {
      await server.close();
      await removeDir(dir);
    },
  };
}
