/**
 * Where the encrypted objects live, from one URL (CALLVAULT_BLOB_URL):
 *
 *   (unset)                                   DATA/objects/ on the local file system
 *   s3://bucket                               an AWS S3 bucket
 *   s3://bucket/some/prefix?region=eu-north-1
 *   s3://bucket?endpoint=https://minio.example:9000&forcePathStyle=true
 *   s3://bucket?endpoint=http://127.0.0.1:9000&forcePathStyle=true         (loopback: plain http allowed)
 *   s3://bucket?endpoint=http://storage.internal:9000&insecure=1            (anything else over http)
 *
 * Credentials never go in the URL: the AWS SDK's default provider chain finds them
 * (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO, web identity, instance role…).
 * The objects are ciphertext either way, but every request carries a signature made with those
 * credentials, so plain http is refused off the loopback unless `insecure=1` says it is meant.
 */
import { join } from 'node:path';
import { CallvaultError, ErrorCodes } from '../errors.js';
import type { BlobStore } from './blob-store.js';
import { FileBlobStore } from './file-blob-store.js';
import type { S3BlobStoreOptions } from './s3-blob-store.js';

export interface S3Location {
  bucket: string;
  /** '' for the whole bucket */
  prefix: string;
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
}

const PARAMETERS = new Set(['endpoint', 'region', 'forcePathStyle', 'insecure']);
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;
const PREFIX_SEGMENT = /^[A-Za-z0-9._-]+$/;
const REGION = /^[a-z0-9-]{1,64}$/;

function usage(message: string): CallvaultError {
  return new CallvaultError(ErrorCodes.USAGE, `CALLVAULT_BLOB_URL: ${message}`);
}

function flag(name: string, value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw usage(`${name} must be true or false`);
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** the bucket an s3:// URL names; CV_USAGE for anything else */
export function parseBlobUrl(url: string): S3Location {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw usage('not a URL (expected s3://bucket[/prefix][?endpoint=…&region=…&forcePathStyle=true])');
  }
  if (u.protocol !== 's3:') throw usage('only s3:// URLs are supported');
  if (u.username || u.password) throw usage('credentials do not belong in the URL: use the AWS environment variables or profile');
  if (u.port) throw usage('name a service with ?endpoint=, not a port on the bucket');
  if (u.hash) throw usage('a fragment has no meaning here');
  const bucket = u.hostname;
  if (!BUCKET.test(bucket) || bucket.includes('..')) throw usage('invalid bucket name');

  const path = u.pathname.replace(/^\/|\/$/g, '');
  const segments = path === '' ? [] : path.split('/');
  for (const s of segments) {
    if (!PREFIX_SEGMENT.test(s) || s === '.' || s === '..') throw usage('invalid key prefix');
  }

  const seen = new Set<string>();
  for (const name of u.searchParams.keys()) {
    if (!PARAMETERS.has(name)) throw usage(`unknown parameter ${JSON.stringify(name.slice(0, 40))}`);
    if (seen.has(name)) throw usage(`parameter ${name} given twice`);
    seen.add(name);
  }
  const q = u.searchParams;
  const location: S3Location = { bucket, prefix: segments.join('/') };

  const insecure = q.has('insecure') ? flag('insecure', q.get('insecure')!) : false;
  const endpoint = q.get('endpoint');
  if (endpoint !== null) {
    let e: URL;
    try {
      e = new URL(endpoint);
    } catch {
      throw usage('endpoint is not a URL');
    }
    if (e.protocol !== 'https:' && e.protocol !== 'http:') throw usage('endpoint must be an http(s) URL');
    if (e.username || e.password) throw usage('credentials do not belong in the URL: use the AWS environment variables or profile');
    if (e.search || e.hash) throw usage('endpoint must not have a query or fragment');
    if (e.protocol === 'http:' && !isLoopback(e.hostname) && !insecure) {
      throw usage('a plain http endpoint off the loopback sends signed requests in the clear: use https, or add insecure=1');
    }
    location.endpoint = e.href.replace(/\/$/, '');
  }
  const region = q.get('region');
  if (region !== null) {
    if (!REGION.test(region)) throw usage('invalid region');
    location.region = region;
  }
  const pathStyle = q.get('forcePathStyle');
  if (pathStyle !== null) location.forcePathStyle = flag('forcePathStyle', pathStyle);
  return location;
}

/**
 * The blob store a URL names: unset (or empty) is DATA/objects; s3://… is an S3BlobStore with
 * credentials from the default provider chain. `overrides` replaces options of the S3 store
 * (tests give credentials this way). The S3 SDK is loaded only for an s3:// URL: it takes longer
 * to load than the rest of a command.
 */
export async function blobStoreFromUrl(url: string | undefined, dataDir: string, overrides: Partial<S3BlobStoreOptions> = {}): Promise<BlobStore> {
  if (url === undefined || url.trim() === '') return new FileBlobStore(join(dataDir, 'objects'));
  const location = parseBlobUrl(url.trim());
  const { S3BlobStore } = await import('./s3-blob-store.js');
  return new S3BlobStore({ ...location, ...overrides });
}
