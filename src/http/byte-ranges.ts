/**
 * HTTP range requests (RFC 9110 §14, §13.1.5, §15.3.7) as a plan, without I/O: what to answer for
 * a representation of `size` bytes given the request's `Range` and `If-Range` and the
 * representation's current validators. The audio route turns the plan into an answer and decrypts
 * only the bytes each part needs.
 */
import parseRange from 'range-parser';

/** `[start, end)` in bytes of the representation */
export type ByteRange = { start: number; end: number };

export type RangePlan =
  /** 200 with the whole representation */
  | { kind: 'whole' }
  /** 206 with one Content-Range */
  | { kind: 'single'; start: number; end: number }
  /** 206 multipart/byteranges, parts in the order they were asked for */
  | { kind: 'multipart'; parts: ByteRange[] }
  /** 416 with `Content-Range: bytes *\/size` */
  | { kind: 'unsatisfiable' };

export interface RangeRequest {
  size: number;
  range?: string;
  ifRange?: string;
  /** the current strong entity tag, quoted */
  etag: string;
  lastModified: Date;
  /** for the strength of Last-Modified (RFC 9110 §8.8.2.2); default now */
  now?: Date;
}

/**
 * Limits against range abuse, modelled on nginx: more than MAX_RANGES satisfiable ranges
 * (nginx's `max_ranges`, unlimited there by default), or ranges whose lengths add up to more than
 * the representation (nginx's own rule, and RFC 9110 §15.3.7.2's "overlapping ranges" abuse),
 * get 200 with the whole representation, which RFC 9110 §14.2 allows (a server MAY ignore Range).
 * The answer is then never larger than the file, and the number of parts (each one a seek and a
 * segment decrypted at both ends) stays small.
 */
export const MAX_RANGES = 64;

/**
 * Ranges closer than this are coalesced (RFC 9110 §15.3.7.2 allows it for gaps smaller than the
 * overhead of another part): a part's boundary line and two header lines take about 80 bytes.
 */
export const COALESCE_GAP = 80;

/** RFC 9110 §13.1.5: does the If-Range validator still name the current representation? */
export function ifRangeMatches(ifRange: string, etag: string, lastModified: Date, now: Date = new Date()): boolean {
  const value = ifRange.trim();
  // an entity tag: strong comparison, so a weak tag never matches
  if (value.startsWith('"') || value.startsWith('W/')) return value === etag;
  const date = Date.parse(value);
  if (!Number.isFinite(date)) return false;
  // a date validates only an exact match with a strong Last-Modified, one that lies at least a
  // second in the past (§8.8.2.2), so a change within the same second cannot hide behind it
  const modified = Math.floor(lastModified.getTime() / 1000) * 1000;
  return date === modified && now.getTime() - lastModified.getTime() >= 1000;
}

export function planRanges(request: RangeRequest): RangePlan {
  const { size, range, ifRange } = request;
  if (range === undefined) return { kind: 'whole' };
  const eq = range.indexOf('=');
  // another unit, or none, MUST be ignored (§14.2)
  if (eq === -1 || range.slice(0, eq).trim().toLowerCase() !== 'bytes') return { kind: 'whole' };
  // a validator that no longer matches: the whole new representation, not a part of it (§13.1.5)
  if (ifRange !== undefined && !ifRangeMatches(ifRange, request.etag, request.lastModified, request.now)) return { kind: 'whole' };

  const specs = `bytes=${range.slice(eq + 1)}`;
  // a suffix longer than the representation means all of it (§14.1.3); range-parser drops it as
  // unsatisfiable, so such suffixes are rewritten to the whole before parsing
  const rewritten = specs.replace(/(=|,)\s*-\s*(\d+)\s*(?=,|$)/g, (all, sep: string, n: string) => (size > 0 && Number(n) >= size ? `${sep}0-` : all));
  const parsed = parseRange(size, rewritten);
  // malformed: RFC 9110 lets the server ignore it (§14.2); the whole representation
  if (parsed === -2) return { kind: 'whole' };
  if (parsed === -1) return { kind: 'unsatisfiable' };
  const ranges = parsed.map((r) => ({ start: r.start, end: r.end + 1 }));
  if (ranges.length > MAX_RANGES) return { kind: 'whole' };
  if (ranges.reduce((sum, r) => sum + (r.end - r.start), 0) > size) return { kind: 'whole' };

  const parts = coalesce(ranges);
  if (parts.length === 1) return { kind: 'single', start: parts[0]!.start, end: parts[0]!.end };
  return { kind: 'multipart', parts };
}

/**
 * Overlapping ranges and ranges less than COALESCE_GAP apart become one; the parts keep the order
 * in which they were asked for, a coalesced part taking the place of its first member (§15.3.7.2).
 */
export function coalesce(ranges: ByteRange[]): ByteRange[] {
  const sorted = ranges.map((r, order) => ({ ...r, order })).sort((a, b) => a.start - b.start || a.end - b.end);
  const merged: (ByteRange & { order: number })[] = [];
  for (const r of sorted) {
    const last = merged[merged.length - 1];
    if (last && r.start - last.end < COALESCE_GAP) {
      last.end = Math.max(last.end, r.end);
      last.order = Math.min(last.order, r.order);
    } else merged.push({ ...r });
  }
  return merged.sort((a, b) => a.order - b.order).map(({ start, end }) => ({ start, end }));
}

export interface MultipartLayout {
  /** the answer's Content-Type */
  contentType: string;
  /** the answer's exact Content-Length */
  length: number;
  /** what precedes each part's bytes: boundary, Content-Type, Content-Range */
  heads: Buffer[];
  /** the closing boundary */
  tail: Buffer;
}

/** The framing of a multipart/byteranges answer (§14.6), computed before any byte is sent. */
export function multipartLayout(parts: ByteRange[], size: number, partType: string, boundary: string): MultipartLayout {
  const heads = parts.map((p, i) =>
    Buffer.from(`${i === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Type: ${partType}\r\nContent-Range: bytes ${p.start}-${p.end - 1}/${size}\r\n\r\n`, 'latin1'),
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
  const length = heads.reduce((n, h) => n + h.length, 0) + parts.reduce((n, p) => n + p.end - p.start, 0) + tail.length;
  return { contentType: `multipart/byteranges; boundary=${boundary}`, length, heads, tail };
}

/** the body of a multipart answer: each part's bytes from `read`, which is called per part */
export async function* multipartBody(layout: MultipartLayout, parts: ByteRange[], read: (start: number, end: number) => AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  for (const [i, part] of parts.entries()) {
    yield layout.heads[i]!;
    yield* read(part.start, part.end);
  }
  yield layout.tail;
}
