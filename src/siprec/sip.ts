/**
 * A small, strict SIP message parser and serialiser (RFC 3261 §7): what a recording server needs
 * from its session recording client. Requests and responses, headers with their compact forms,
 * folded lines, and Content-Length framing for stream transports (TCP, TLS). The npm `sip` package
 * is unmaintained and parses loosely; a recording server only ever answers, so this is enough.
 * Errors never quote the message: its headers hold phone numbers.
 */
import { CallvaultError, ErrorCodes } from '../errors.js';

export interface SipRequest {
  kind: 'request';
  method: string;
  uri: string;
  headers: SipHeaders;
  body: Buffer;
}

export interface SipResponse {
  kind: 'response';
  status: number;
  reason: string;
  headers: SipHeaders;
  body: Buffer;
}

export type SipMessage = SipRequest | SipResponse;

/** header names in lower case, full form; values in order of appearance */
export type SipHeaders = Map<string, string[]>;

const COMPACT: Record<string, string> = {
  i: 'call-id',
  m: 'contact',
  e: 'content-encoding',
  l: 'content-length',
  c: 'content-type',
  f: 'from',
  s: 'subject',
  k: 'supported',
  t: 'to',
  v: 'via',
  o: 'event',
  r: 'refer-to',
  u: 'allow-events',
};

/** headers that may hold several comma-separated values, split when parsed (RFC 3261 §7.3.1) */
const LISTS = new Set(['via', 'require', 'supported', 'allow', 'proxy-require', 'route', 'record-route']);

/** the largest message accepted: a SIPREC offer with metadata for a conference stays far below */
export const MAX_MESSAGE_BYTES = 64 * 1024;
const MAX_HEADERS = 100;

function invalid(reason: string): CallvaultError {
  return new CallvaultError(ErrorCodes.SIPREC_INVALID, `SIP message: ${reason}`);
}

/** One whole message: a UDP datagram, or one framed by splitStream. */
export function parseSipMessage(data: Buffer): SipMessage {
  if (data.length > MAX_MESSAGE_BYTES) throw invalid('too large');
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) throw invalid('no end of headers');
  const head = data.subarray(0, end).toString('utf8');
  const lines = head.split('\r\n');
  const start = lines.shift() ?? '';
  const headers: SipHeaders = new Map();
  let count = 0;
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    // folded continuation lines (obsolete, still sent by some stacks)
    while (i + 1 < lines.length && /^[ \t]/.test(lines[i + 1]!)) line += ` ${lines[++i]!.trim()}`;
    const colon = line.indexOf(':');
    if (colon <= 0) throw invalid('a header line has no name');
    const rawName = line.slice(0, colon).trim().toLowerCase();
    if (!/^[a-z0-9!%'*+._`~-]+$/.test(rawName)) throw invalid('a header name is invalid');
    const name = COMPACT[rawName] ?? rawName;
    const value = line.slice(colon + 1).trim();
    if (++count > MAX_HEADERS) throw invalid('too many headers');
    const values = LISTS.has(name) ? splitList(value) : [value];
    headers.set(name, [...(headers.get(name) ?? []), ...values]);
  }
  let body = data.subarray(end + 4);
  const length = headers.get('content-length')?.[0];
  if (length !== undefined) {
    if (!/^\d{1,6}$/.test(length)) throw invalid('Content-Length is invalid');
    const n = Number(length);
    if (n > body.length) throw invalid('the body is shorter than its Content-Length');
    body = body.subarray(0, n);
  }
  for (const name of ['call-id', 'cseq', 'from', 'to', 'via']) {
    if (!headers.get(name)?.length) throw invalid(`no ${name} header`);
  }
  const response = /^SIP\/2\.0 ([1-6]\d\d) ?(.*)$/.exec(start);
  if (response) return { kind: 'response', status: Number(response[1]), reason: response[2] ?? '', headers, body };
  const request = /^([A-Z]+) (\S+) SIP\/2\.0$/.exec(start);
  if (!request) throw invalid('the start line is neither a request nor a response');
  const method = request[1]!;
  if (cseq(headers).method !== method) throw invalid('the CSeq method differs from the request method');
  return { kind: 'request', method, uri: request[2]!, headers, body };
}

/** splits at commas outside quotes and angle brackets */
function splitList(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"' && value[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && c === '<') depth++;
    else if (!quoted && c === '>') depth--;
    else if (!quoted && depth === 0 && c === ',') {
      out.push(value.slice(from, i).trim());
      from = i + 1;
    }
  }
  out.push(value.slice(from).trim());
  return out.filter((v) => v.length > 0);
}

export function header(msg: SipMessage, name: string): string | undefined {
  return msg.headers.get(name)?.[0];
}

export function cseq(headers: SipHeaders): { seq: number; method: string } {
  const m = /^(\d{1,10})\s+([A-Z]+)$/.exec(headers.get('cseq')?.[0] ?? '');
  if (!m) throw invalid('CSeq is invalid');
  return { seq: Number(m[1]), method: m[2]! };
}

/** a header parameter (`;tag=…`, `;branch=…`) of the first value of a header */
export function headerParam(value: string | undefined, name: string): string | undefined {
  if (!value) return undefined;
  // parameters after the closing `>` of a name-addr, or after the address of an addr-spec
  const params = value.includes('>') ? value.slice(value.lastIndexOf('>') + 1) : value;
  const m = new RegExp(`;\\s*${name}\\s*=\\s*("[^"]*"|[^;,\\s]+)`, 'i').exec(params);
  return m?.[1]?.replace(/^"|"$/g, '');
}

/** the Via branch of a request: its transaction id (RFC 3261 §17.2.3) */
export function branchOf(req: SipRequest): string {
  return headerParam(header(req, 'via'), 'branch') ?? '';
}

/** a response to `req`: Via, From, To, Call-ID and CSeq copied, a To tag added when given */
export function responseTo(
  req: SipRequest,
  status: number,
  reason: string,
  options: { toTag?: string; headers?: [string, string][]; body?: { type: string; data: Buffer } } = {},
): Buffer {
  const lines = [`SIP/2.0 ${status} ${reason}`];
  for (const via of req.headers.get('via') ?? []) lines.push(`Via: ${via}`);
  lines.push(`From: ${header(req, 'from')}`);
  const to = header(req, 'to')!;
  lines.push(`To: ${options.toTag && headerParam(to, 'tag') === undefined ? `${to};tag=${options.toTag}` : to}`);
  lines.push(`Call-ID: ${header(req, 'call-id')}`);
  lines.push(`CSeq: ${header(req, 'cseq')}`);
  for (const [name, value] of options.headers ?? []) lines.push(`${name}: ${value}`);
  lines.push('Server: callvault-siprec');
  if (options.body) lines.push(`Content-Type: ${options.body.type}`);
  lines.push(`Content-Length: ${options.body?.data.length ?? 0}`, '', '');
  const head = Buffer.from(lines.join('\r\n'), 'utf8');
  return options.body ? Buffer.concat([head, options.body.data]) : head;
}

/**
 * Frames messages on a stream transport (TCP, TLS) by Content-Length, which RFC 3261 §18.3 makes
 * mandatory there. Keep-alive CRLFs between messages (RFC 5626 §3.5.1) are skipped.
 */
export class SipStreamFramer {
  #buf: Buffer = Buffer.alloc(0);

  /** the whole messages that `chunk` completes; throws when the stream cannot be framed */
  push(chunk: Buffer): Buffer[] {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    const out: Buffer[] = [];
    for (;;) {
      let skip = 0;
      while (skip + 1 < this.#buf.length && this.#buf[skip] === 0x0d && this.#buf[skip + 1] === 0x0a) skip += 2;
      if (skip) this.#buf = this.#buf.subarray(skip);
      const end = this.#buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.#buf.length > MAX_MESSAGE_BYTES) throw invalid('too large');
        return out;
      }
      const m = /\r\n(?:content-length|l)[ \t]*:[ \t]*(\d{1,6})[ \t]*(?:\r\n|$)/i.exec(this.#buf.subarray(0, end).toString('latin1'));
      if (!m) throw invalid('no Content-Length on a stream transport');
      const total = end + 4 + Number(m[1]);
      if (total > MAX_MESSAGE_BYTES) throw invalid('too large');
      if (this.#buf.length < total) return out;
      out.push(Buffer.from(this.#buf.subarray(0, total)));
      this.#buf = this.#buf.subarray(total);
    }
  }
}
