/**
 * The body of a SIPREC INVITE (RFC 7866 §8): `application/sdp` alone (a re-INVITE that changes
 * only the media), or `multipart/mixed` holding the SDP and the RFC 7865 metadata
 * (`application/rs-metadata+xml`, `Content-Disposition: recording-session`), in any order, with or
 * without part headers, lines ending in CRLF or LF. Other parts (Cisco's `application/gtd`, ISUP)
 * are skipped. Errors name the fault, never the body: it holds phone numbers.
 */
import { CallvaultError, ErrorCodes } from '../errors.js';
import { parseMetadata } from './metadata.js';
import type { SiprecOffer } from './types.js';

/** a SIP body larger than this is refused before it is looked at (UDP datagrams are far smaller) */
export const MAX_BODY_BYTES = 256 * 1024;

export interface BodyPart {
  /** the media type, lower-cased, without parameters */
  type: string;
  headers: Record<string, string>;
  body: string;
}

function invalid(message: string): CallvaultError {
  return new CallvaultError(ErrorCodes.SIPREC_INVALID, message);
}

/** `type/subtype; name=value; name="quoted value"` → the lower-cased type and its parameters */
export function parseContentType(value: string): { type: string; params: Record<string, string> } {
  const [head = '', ...rest] = value.split(';');
  const params: Record<string, string> = {};
  // a quoted boundary may hold ';', so the parameters are read with a pattern, not split
  for (const m of rest.join(';').matchAll(/\s*([^=\s;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/g)) {
    params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
  }
  return { type: head.trim().toLowerCase(), params };
}

/**
 * A part's headers (RFC 2046 §5.1) and content. A part without headers starts with its blank
 * line; some SBCs omit even that and begin with the content, whose type is then read from it.
 */
function splitPart(raw: string): BodyPart {
  if (!/^[A-Za-z][A-Za-z0-9-]*[ \t]*:/.test(raw)) {
    const body = raw.replace(/^\r?\n/, '');
    const type = /^v=0/.test(body) ? 'application/sdp' : /^\s*</.test(body) ? 'application/rs-metadata+xml' : '';
    return { type, headers: {}, body };
  }
  const end = /\r?\n\r?\n/.exec(raw);
  if (!end) throw invalid('a part of the multipart body has headers but no blank line after them');
  const headers: Record<string, string> = {};
  for (const line of raw.slice(0, end.index).split(/\r?\n(?![ \t])/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw invalid('a part of the multipart body has a malformed header line');
    headers[line.slice(0, colon).trim().toLowerCase()] = line
      .slice(colon + 1)
      .replace(/\r?\n[ \t]+/g, ' ')
      .trim();
  }
  return { type: parseContentType(headers['content-type'] ?? 'text/plain').type, headers, body: raw.slice(end.index + end[0].length) };
}

/** the parts of a multipart body (RFC 2046 §5.1.1); the CRLF before each delimiter belongs to it */
export function splitMultipart(body: string, boundary: string): BodyPart[] {
  if (!boundary || boundary.length > 70) throw invalid('the multipart body has no usable boundary parameter');
  const delimiter = `--${boundary}`;
  const lines = body.split(/(?<=\n)/);
  const parts: string[] = [];
  let current: string[] | undefined;
  let closed = false;
  for (const line of lines) {
    const bare = line.replace(/\r?\n$/, '').trimEnd();
    if (bare === delimiter || bare === `${delimiter}--`) {
      if (current) parts.push(current.join('').replace(/\r?\n$/, ''));
      if (bare.endsWith('--') && bare !== delimiter) {
        closed = true;
        break;
      }
      current = [];
    } else if (current) {
      current.push(line);
    }
  }
  // a body cut short (no closing delimiter) still yields the parts it holds whole: UDP SBCs that
  // fill a datagram drop the epilogue; the last part is kept only when its content ended
  if (!closed && current && current.length > 0) parts.push(current.join('').replace(/\r?\n$/, ''));
  if (parts.length === 0) throw invalid('the multipart body holds no part delimited by its boundary');
  return parts.map(splitPart);
}

const METADATA_TYPES = new Set(['application/rs-metadata+xml', 'application/rs-metadata']);

/**
 * The SDP and metadata of a SIPREC request body, by its Content-Type header. The metadata is
 * parsed (metadata.ts); a body without metadata is an offer that changes only the media.
 */
export function parseSiprecBody(contentType: string | undefined, body: string | Buffer): SiprecOffer {
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  if (size > MAX_BODY_BYTES) throw invalid(`the body is larger than ${MAX_BODY_BYTES} bytes`);
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (!contentType) throw invalid('the request has a body but no Content-Type');
  const { type, params } = parseContentType(contentType);
  if (type === 'application/sdp') return { sdp: checkedSdp(text) };
  if (type !== 'multipart/mixed' && type !== 'multipart/related') throw invalid(`the body is ${safeType(type)}, not application/sdp or multipart/mixed`);
  if (!params.boundary) throw invalid('the multipart Content-Type has no boundary parameter');
  const parts = splitMultipart(text, params.boundary);
  const sdps = parts.filter((p) => p.type === 'application/sdp');
  // the metadata part is recognised by its type, or by its disposition when an SBC mislabels it
  const metadata = parts.filter((p) => METADATA_TYPES.has(p.type) || (/^recording-session\b/i.test(p.headers['content-disposition'] ?? '') && p.type !== 'application/sdp'));
  if (sdps.length !== 1) throw invalid(sdps.length === 0 ? 'the multipart body holds no application/sdp part' : 'the multipart body holds more than one application/sdp part');
  if (metadata.length > 1) throw invalid('the multipart body holds more than one recording metadata part');
  return metadata[0] ? { sdp: checkedSdp(sdps[0]!.body), metadata: parseMetadata(metadata[0].body) } : { sdp: checkedSdp(sdps[0]!.body) };
}

/** a media type is a token: safe to name in a message, unlike anything else from the body */
function safeType(type: string): string {
  return /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type) ? type : 'of an unreadable type';
}

function checkedSdp(sdp: string): string {
  if (!/^v=0\s*$/m.test(sdp.split(/\r?\n/, 1)[0] ?? '')) throw invalid('the SDP does not begin with v=0');
  if (!/^m=/m.test(sdp)) throw invalid('the SDP offers no media (no m= line)');
  return sdp;
}

/**
 * A multipart/mixed body of the given parts, CRLF throughout (RFC 3261 bodies), with a boundary
 * that no part contains. The SRS answers with SDP alone; this is for the rare answer (or test
 * client) that must carry metadata too.
 */
export function buildMultipartBody(parts: { type: string; disposition?: string; body: string }[], boundary = 'callvault-siprec-boundary'): { contentType: string; body: string } {
  let chosen = boundary;
  for (let n = 1; parts.some((p) => p.body.includes(`--${chosen}`)); n++) chosen = `${boundary}-${n}`;
  const crlf = (s: string) => s.replace(/\r?\n/g, '\r\n');
  const body = parts
    .map((p) => `--${chosen}\r\nContent-Type: ${p.type}\r\n${p.disposition ? `Content-Disposition: ${p.disposition}\r\n` : ''}\r\n${crlf(p.body).replace(/\r\n$/, '')}\r\n`)
    .join('');
  return { contentType: `multipart/mixed;boundary=${chosen}`, body: `${body}--${chosen}--\r\n` };
}
