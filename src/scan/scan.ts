/**
 * `callvault scan`: what an archive of call recordings holds and exposes, before it is migrated
 * (docs/scan.md). A directory tree is walked as it is read (one directory open at a time, nothing
 * listed in full), so millions of files take constant memory apart from the distinct identifiers,
 * which are kept as short keyed hashes, never as values. Audio is found by content, not by name.
 * The report and the items file hold paths with every identifier replaced by its label.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { opendir, lstat } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { CallvaultError, ErrorCodes, isCallvaultError } from '../errors.js';
import { audioSignature } from '../audio/signature.js';
import { probeSource, type AudioInfo } from '../audio/probe.js';
import { detectIdentifiers, type Detection, type IdentifierType } from '../pii/detector.js';
import { LABELS } from '../redaction/transcript.js';
import { identifiersInName, identifiersInTags } from '../identifiers/in-files.js';
import { parseBlobUrl } from '../storage/blob-url.js';

export interface ScanReport {
  files: number;
  audio: { count: number; bytes: number; seconds: number; formats: Record<string, number> };
  /** distinct values: of each type anywhere, and of any type in each kind of source */
  identifiers: {
    personnummer: number;
    samordningsnummer: number;
    phone: number;
    email: number;
    inNames: number;
    inTags: number;
    inSidecars: number;
    inTranscripts: number;
  };
  exposed: { worldReadable: number; unauthenticated: number };
  /** audio files whose call (from its name or sidecar, else the file's time) is older than --retention-days */
  pastRetention: number | null;
  /** files that could not be read (permissions, vanished while scanning) */
  unreadable: number;
  /** the calls' time span, where names or sidecars tell it */
  span: { from: string; to: string } | null;
}

/** one line of `--items`: a file as the migration needs it, its path masked */
export interface ScanItem {
  path: string;
  size: number;
  audio: boolean;
  format?: string;
  durationMs?: number;
  kind: 'audio' | 'sidecar' | 'transcript' | 'other' | 'unreadable';
  worldReadable: boolean;
  startedAt?: string;
  identifiers: number;
}

export interface ScanOptions {
  retentionDays?: number;
  now?: Date;
  /** each file's item, in walk order */
  onItem?: (item: ScanItem) => void;
  onProgress?: (files: number) => void;
}

type Source = 'inNames' | 'inTags' | 'inSidecars' | 'inTranscripts';
const SOURCES: Source[] = ['inNames', 'inTags', 'inSidecars', 'inTranscripts'];
const TYPES: IdentifierType[] = ['personnummer', 'samordningsnummer', 'phone', 'email'];
const TRANSCRIPT_EXTENSIONS = new Set(['.vtt', '.srt', '.txt']);
/** text files larger than this are not sidecars or transcripts of a call */
const MAX_TEXT_BYTES = 4 * 1024 * 1024;
/** read from every local file at once: a WAV's header and an ID3v2 tag are nearly always within it */
const HEAD_BYTES = 16 * 1024;
/** local files scanned at once */
const FILES_IN_FLIGHT = 32;
const HTTP_TIMEOUT_MS = 30_000;
const DAY_MS = 86_400_000;

/** a call's time in a file name: 20180402, 2018-04-02, with an optional time 0830, 08:30:15, T083015 */
const NAME_TIME = /(?<!\d)(19\d{2}|20\d{2})-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])(?:[T_ -]?([01]\d|2[0-3]):?([0-5]\d)(?::?([0-5]\d))?)?(?!\d)/;

export class ArchiveScanner {
  private readonly key = randomBytes(32);
  private readonly byType = new Map<IdentifierType, Set<string>>(TYPES.map((t) => [t, new Set()]));
  private readonly bySource = new Map<Source, Set<string>>(SOURCES.map((s) => [s, new Set()]));
  private readonly report: ScanReport = {
    files: 0,
    audio: { count: 0, bytes: 0, seconds: 0, formats: {} },
    identifiers: { personnummer: 0, samordningsnummer: 0, phone: 0, email: 0, inNames: 0, inTags: 0, inSidecars: 0, inTranscripts: 0 },
    exposed: { worldReadable: 0, unauthenticated: 0 },
    pastRetention: null,
    unreadable: 0,
    span: null,
  };
  private readonly now: Date;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;

  constructor(private readonly options: ScanOptions = {}) {
    this.now = options.now ?? new Date();
    if (options.retentionDays !== undefined) this.report.pastRetention = 0;
  }

  /** walks `root`: a directory, one file, or an http(s):// directory listing */
  async scan(root: string): Promise<void> {
    if (/^https?:\/\//.test(root)) return this.listing(new URL(root), new URL(root));
    if (root.startsWith('s3://')) return this.bucket(root);
    let info: Awaited<ReturnType<typeof lstat>>;
    try {
      info = await lstat(root);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : `${code ?? 'error'}`;
      throw new CallvaultError(ErrorCodes.USAGE, `cannot read ${JSON.stringify(maskPath(root))}: ${why}`);
    }
    if (info.isDirectory()) await this.walk(root, root);
    else await this.schedule(() => this.file(root, root));
    await this.settle();
  }

  result(): ScanReport {
    const ids = this.report.identifiers;
    for (const t of TYPES) ids[t] = this.byType.get(t)!.size;
    for (const s of SOURCES) ids[s] = this.bySource.get(s)!.size;
    return structuredClone(this.report);
  }

  private async walk(dir: string, root: string): Promise<void> {
    if (dir !== root) this.found(relative(root, dir).split(sep).at(-1)!, 'inNames');
    let handle: Awaited<ReturnType<typeof opendir>>;
    try {
      handle = await opendir(dir);
    } catch {
      this.report.unreadable += 1;
      return;
    }
    for await (const entry of handle) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await this.walk(path, root);
      else if (entry.isFile()) await this.schedule(() => this.file(path, root));
    }
  }

  /**
   * Files are scanned several at a time while the walk goes on: each waits mostly on the disk,
   * and one at a time left the process idle half the time.
   */
  private schedule(task: () => Promise<void>): Promise<void> | undefined {
    const run = task().catch((err) => {
      this.failure ??= err;
    });
    const tracked = run.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    return this.inFlight.size >= FILES_IN_FLIGHT ? Promise.race(this.inFlight) : undefined;
  }

  /** every scheduled file done; the first unexpected failure among them thrown */
  private async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
  }

  /** a local file: opened once, its first bytes read once, and probe, tags and text served from them */
  private async file(path: string, root: string): Promise<void> {
    this.report.files += 1;
    if (this.report.files % 1000 === 0) this.options.onProgress?.(this.report.files);
    const rel = path === root ? path.split(sep).at(-1)! : relative(root, path);
    const name = rel.split(sep).at(-1)!;
    const nameIds = this.found(name, 'inNames');
    const item: ScanItem = { path: maskPath(rel), size: 0, audio: false, kind: 'other', worldReadable: false, identifiers: nameIds };
    // Synchronous calls: on a local disk each takes microseconds, where a promise's round trip
    // through the thread pool cost more than the whole of a small file's scan.
    let fd: number;
    let st: Stats;
    let head: Buffer;
    try {
      fd = openSync(path, 'r');
    } catch {
      return this.unreadable(item);
    }
    try {
      try {
        st = fstatSync(fd);
        head = Buffer.allocUnsafe(Math.min(HEAD_BYTES, st.size));
        head = head.subarray(0, readSync(fd, head, 0, head.length, 0));
      } catch {
        return this.unreadable(item);
      }
      item.size = st.size;
      item.worldReadable = (st.mode & 0o004) !== 0;
      if (item.worldReadable) this.report.exposed.worldReadable += 1;
      const source = {
        size: st.size,
        read: async (position: number, length: number): Promise<Buffer> => {
          const end = Math.min(position + length, st.size);
          if (end <= head.length) return head.subarray(position, end);
          const buffer = Buffer.allocUnsafe(Math.max(0, end - position));
          return buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, position));
        },
      };
      if (audioSignature(head) !== undefined) {
        try {
          this.counted(item, await probeSource(source), timeInName(name), st.mtime);
          item.identifiers += this.count(await identifiersInTags(source).catch(() => []), 'inTags');
        } catch (err) {
          if (!isCallvaultError(err)) throw err;
          // audio by its first bytes that does not probe: broken, or a codec import refuses
          item.kind = 'other';
        }
      } else if (st.size <= MAX_TEXT_BYTES && isTextSource(name)) {
        const text = st.size <= head.length ? head : await source.read(0, st.size).catch(() => Buffer.alloc(0));
        item.identifiers += this.textContent(text.toString('utf8'), name, item);
      }
    } finally {
      closeSync(fd);
    }
    this.options.onItem?.(item);
  }

  private unreadable(item: ScanItem): void {
    this.report.unreadable += 1;
    item.kind = 'unreadable';
    this.options.onItem?.(item);
  }

  /**
   * A directory listing served over HTTP (nginx autoindex, `python3 -m http.server`, Apache):
   * what anyone can read there without a password. Links below the starting URL are followed;
   * of each file only what is needed is read, with Range requests.
   */
  private async listing(url: URL, root: URL): Promise<void> {
    const res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) }).catch(() => undefined);
    if (!res?.ok) {
      await res?.body?.cancel();
      this.report.unreadable += 1;
      return;
    }
    const html = await res.text();
    const links = new Set<string>();
    for (const m of html.matchAll(/href\s*=\s*"([^"#?]+)"/gi)) {
      const target = new URL(m[1]!, url);
      // only what lies below the listing: not its parent, not another site
      if (target.origin !== root.origin || !target.pathname.startsWith(root.pathname) || target.pathname.length <= url.pathname.length) continue;
      links.add(target.href);
    }
    for (const href of links) {
      const target = new URL(href);
      const rel = decodeURIComponent(target.pathname.slice(root.pathname.length));
      if (target.pathname.endsWith('/')) {
        this.found(rel.replace(/\/$/, '').split('/').at(-1)!, 'inNames');
        await this.listing(target, root);
      } else await this.remoteFile(target, rel);
    }
  }

  private async remoteFile(url: URL, rel: string): Promise<void> {
    const range = async (position: number, length: number): Promise<{ bytes: Buffer; size: number }> => {
      const res = await fetch(url, { headers: { range: `bytes=${position}-${position + length - 1}` }, redirect: 'error', signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
      if (res.status !== 206 && res.status !== 200) {
        await res.body?.cancel();
        throw new Error(`HTTP ${res.status}`);
      }
      const total = Number(/\/(\d+)$/.exec(res.headers.get('content-range') ?? '')?.[1] ?? res.headers.get('content-length') ?? 0);
      // a server that ignores Range sends everything: keep only what was asked for
      const all = Buffer.from(await res.arrayBuffer());
      return { bytes: res.status === 200 ? all.subarray(position, position + length) : all, size: total };
    };
    // whatever the listing serves, it serves to whoever asks, without a password
    await this.rangedFile(rel, range, true);
  }

  /**
   * A bucket (s3://bucket/prefix?endpoint=…, as CALLVAULT_BLOB_URL names one), listed page by
   * page and read by ranges, with the credentials of the environment (the AWS SDK's chain).
   */
  private async bucket(url: string): Promise<void> {
    const { S3Client, ListObjectsV2Command, GetObjectCommand } = await import('@aws-sdk/client-s3');
    const loc = parseBlobUrl(url);
    const client = new S3Client({ region: loc.region ?? 'us-east-1', ...(loc.endpoint ? { endpoint: loc.endpoint } : {}), forcePathStyle: loc.forcePathStyle ?? false });
    const prefix = loc.prefix ? `${loc.prefix}/` : '';
    const dirs = new Set<string>();
    try {
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: loc.bucket, Prefix: prefix, ContinuationToken: token }));
        for (const object of page.Contents ?? []) {
          const rel = object.Key!.slice(prefix.length);
          const parts = rel.split('/');
          for (let i = 1; i < parts.length; i++) {
            const dir = parts.slice(0, i).join('/');
            if (!dirs.has(dir)) {
              dirs.add(dir);
              this.found(parts[i - 1]!, 'inNames');
            }
          }
          await this.rangedFile(
            rel,
            async (position, length) => {
              const res = await client.send(new GetObjectCommand({ Bucket: loc.bucket, Key: object.Key!, Range: `bytes=${position}-${position + length - 1}` }));
              const bytes = Buffer.from(await res.Body!.transformToByteArray());
              const total = Number(/\/(\d+)$/.exec(res.ContentRange ?? '')?.[1] ?? object.Size ?? bytes.length);
              // s3rver and some gateways answer a range with the whole object
              return { bytes: res.ContentRange ? bytes : bytes.subarray(position, position + length), size: total };
            },
            false,
          );
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } finally {
      client.destroy();
    }
  }

  /** a file read by ranges (a listing's, a bucket's): `served` when anyone could read it */
  private async rangedFile(rel: string, range: (position: number, length: number) => Promise<{ bytes: Buffer; size: number }>, served: boolean): Promise<void> {
    this.report.files += 1;
    const name = rel.split('/').at(-1)!;
    const item: ScanItem = { path: maskPath(rel.split('/').join(sep)), size: 0, audio: false, kind: 'other', worldReadable: false, identifiers: this.found(name, 'inNames') };
    let head: { bytes: Buffer; size: number };
    try {
      head = await range(0, 64 * 1024);
    } catch {
      this.report.unreadable += 1;
      item.kind = 'unreadable';
      this.options.onItem?.(item);
      return;
    }
    item.size = head.size;
    if (served) this.report.exposed.unauthenticated += 1;
    const nameTime = timeInName(name);
    if (audioSignature(head.bytes) !== undefined) {
      try {
        const info = await probeSource({ size: head.size, read: async (position, length) => (await range(position, length)).bytes });
        this.counted(item, info, nameTime, undefined);
        // the tags within the first 64 KiB, already read
        const bytes = head.bytes;
        item.identifiers += this.count(await identifiersInTags({ size: bytes.length, read: async (p, l) => bytes.subarray(p, p + l) }), 'inTags');
      } catch (err) {
        // not audio import would take; or the server stopped answering its ranges
        if (!isCallvaultError(err)) this.report.unreadable += 1;
        item.kind = isCallvaultError(err) ? 'other' : 'unreadable';
      }
    } else if (head.size <= MAX_TEXT_BYTES && isTextSource(name)) {
      const whole =
        head.size <= head.bytes.length
          ? head.bytes
          : await range(0, head.size).then(
              (r) => r.bytes,
              () => Buffer.alloc(0),
            );
      item.identifiers += this.textContent(whole.toString('utf8'), name, item);
    }
    this.options.onItem?.(item);
  }

  /** an audio file found: its format, length and call time (from its name, else the file's) */
  private counted(item: ScanItem, info: AudioInfo, nameTime: Date | undefined, fileTime: Date | undefined): void {
    item.audio = true;
    item.kind = 'audio';
    item.format = info.format;
    item.durationMs = info.durationMs;
    const a = this.report.audio;
    a.count += 1;
    a.bytes += item.size;
    a.seconds += info.durationMs / 1000;
    a.formats[info.format] = (a.formats[info.format] ?? 0) + 1;
    const called = nameTime ?? fileTime;
    if (nameTime) {
      item.startedAt = nameTime.toISOString();
      this.widen(nameTime);
    }
    if (called && this.options.retentionDays !== undefined && this.now.getTime() - called.getTime() > this.options.retentionDays * DAY_MS) this.report.pastRetention! += 1;
  }

  private textContent(text: string, name: string, item: ScanItem): number {
    if (!isTextSource(name)) return 0;
    const ext = extname(name).toLowerCase();
    if (TRANSCRIPT_EXTENSIONS.has(ext)) {
      item.kind = 'transcript';
      return this.found(text, 'inTranscripts');
    }
    if (ext === '.csv') {
      item.kind = 'sidecar';
      return this.found(text, 'inSidecars');
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return 0;
    }
    // a whisper-style transcript has segments; anything else beside audio is a sidecar
    const isTranscript = typeof json === 'object' && json !== null && 'segments' in json;
    item.kind = isTranscript ? 'transcript' : 'sidecar';
    if (!isTranscript) {
      const started = (json as Record<string, unknown> | null)?.startedAt;
      if (typeof started === 'string' && !Number.isNaN(Date.parse(started))) this.widen(new Date(started));
    }
    return this.found(collectStrings(json).join('\n'), isTranscript ? 'inTranscripts' : 'inSidecars');
  }

  /** counts the identifiers in `text` under their type and `source`; returns how many it saw */
  private found(text: string, source: Source): number {
    return this.count(source === 'inNames' ? identifiersInName(text) : detectIdentifiers(text), source);
  }

  private count(detections: readonly Detection[], source: Source): number {
    for (const d of detections) {
      const h = createHmac('sha256', this.key).update(d.value).digest('base64').slice(0, 12);
      this.byType.get(d.type)!.add(h);
      this.bySource.get(source)!.add(h);
    }
    return detections.length;
  }

  private widen(t: Date): void {
    const iso = t.toISOString();
    const span = this.report.span;
    if (!span) this.report.span = { from: iso, to: iso };
    else {
      if (iso < span.from) span.from = iso;
      if (iso > span.to) span.to = iso;
    }
  }
}

/** a path with every identifier in each of its parts replaced by its label */
export function maskPath(rel: string): string {
  return rel
    .split(sep)
    .map((part) => {
      let out = '';
      let at = 0;
      for (const d of identifiersInName(part)) {
        out += part.slice(at, d.start) + LABELS[d.type];
        at = d.end;
      }
      return out + part.slice(at);
    })
    .join('/');
}

function isTextSource(name: string): boolean {
  const ext = extname(name).toLowerCase();
  return ext === '.json' || ext === '.csv' || TRANSCRIPT_EXTENSIONS.has(ext);
}

function timeInName(name: string): Date | undefined {
  const m = NAME_TIME.exec(name);
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00'] = m;
  const t = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
  return Number.isNaN(t.getTime()) ? undefined : t;
}

function collectStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (typeof value === 'number' && Number.isSafeInteger(value)) out.push(String(value));
  else if (Array.isArray(value)) for (const v of value) collectStrings(v, out);
  else if (typeof value === 'object' && value !== null) for (const v of Object.values(value)) collectStrings(v, out);
  return out;
}
