/**
 * RFC 5424 syslog messages, shared by the syslog witness (witnesses/syslog-witness.ts) and
 * `callvault audit export --format syslog`, plus the JSON-lines form of an audit entry.
 *
 *   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [SP MSG]
 *
 * Everything is facility 13 ("log audit"). The MSG is MSG-ANY without a BOM: callvault's
 * messages are JSON, and a BOM in front would stop a SIEM's JSON parser.
 */
import type { StoredEntry } from './audit-log.js';

/** RFC 5424 §6.2.1: facility 13 is "log audit" */
export const SYSLOG_FACILITY = 13;

/**
 * Our SD-ID. A custom SD-ID needs an IANA Private Enterprise Number after the "@"; callvault has
 * none, so this uses 32473, the number RFC 5424 itself reserves for examples (RFC 5612).
 */
export const SD_ID = 'callvault@32473';

export const Severity = {
  warning: 4,
  notice: 5,
  informational: 6,
} as const;

export interface StructuredDataElement {
  id: string;
  params: Record<string, string>;
}

export interface SyslogMessage {
  time: Date | string;
  hostname: string;
  appName: string;
  msgId: string;
  /** 0 (emergency) to 7 (debug) */
  severity: number;
  procId?: string;
  structuredData?: StructuredDataElement[];
  message: string;
}

const NIL = '-';
/** RFC 5424 §6.2.3: FULL-DATE "T" FULL-TIME with at most six fractional digits */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;
/** SD-NAME: 1*32 PRINTUSASCII except '=', SP, ']' and '"' */
const SD_NAME = /^[\x21-\x7e]{1,32}$/;
const SD_NAME_FORBIDDEN = /[= \]"]/;

/** one RFC 5424 message as one line, without a trailing newline */
export function formatSyslog(m: SyslogMessage): string {
  if (!Number.isInteger(m.severity) || m.severity < 0 || m.severity > 7) throw new RangeError('a syslog severity is 0 to 7');
  if (/[\r\n]/.test(m.message)) throw new TypeError('a syslog message here is one line');
  const pri = SYSLOG_FACILITY * 8 + m.severity;
  const header = [`<${pri}>1`, timestamp(m.time), printable(m.hostname, 255), printable(m.appName, 48), printable(m.procId ?? NIL, 128), printable(m.msgId, 32)].join(' ');
  const sd = m.structuredData && m.structuredData.length > 0 ? m.structuredData.map(sdElement).join('') : NIL;
  return m.message === '' ? `${header} ${sd}` : `${header} ${sd} ${m.message}`;
}

function timestamp(time: Date | string): string {
  if (typeof time === 'string' && TIMESTAMP.test(time)) return time;
  const date = typeof time === 'string' ? new Date(time) : time;
  return Number.isNaN(date.getTime()) ? NIL : date.toISOString();
}

/** a header field: PRINTUSASCII only (anything else becomes "_"), cut to its limit, "-" when empty */
function printable(value: string, max: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return clean === '' ? NIL : clean;
}

function sdElement(e: StructuredDataElement): string {
  checkSdName(e.id);
  const params = Object.entries(e.params).map(([name, value]) => {
    checkSdName(name);
    if (/[\r\n]/.test(value)) throw new TypeError('an SD-PARAM value here is one line');
    return ` ${name}="${escapeParamValue(value)}"`;
  });
  return `[${e.id}${params.join('')}]`;
}

/** our own identifiers, so a bad one is a programming error, not something to repair */
function checkSdName(name: string): void {
  if (!SD_NAME.test(name) || SD_NAME_FORBIDDEN.test(name)) throw new TypeError(`not an RFC 5424 SD-NAME: ${JSON.stringify(name)}`);
}

/** RFC 5424 §6.3.3: '"', '\' and ']' inside PARAM-VALUE are escaped with a backslash */
export function escapeParamValue(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

interface EntryFields {
  action?: unknown;
  outcome?: unknown;
  breakGlassId?: unknown;
  time?: unknown;
}

/**
 * The entry's fields and its JSON on one line. Canonical JSON never holds a raw line break; a
 * stored entry that does was not written by callvault, and is re-serialised rather than allowed
 * to split a line (its leaf hash then no longer matches, which `audit verify` reports anyway).
 */
function parseEntry(entry: StoredEntry): { fields: EntryFields; json: string } {
  const text = entry.entry.toString('utf8');
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new TypeError(`audit entry ${entry.index} is not a JSON object`);
  return { fields: parsed as EntryFields, json: /[\r\n]/.test(text) ? JSON.stringify(parsed) : text };
}

/**
 * An audit entry as a syslog message: MSGID is the action, the severity follows the outcome (a
 * break-glass access is always a warning), the structured data names the entry's position and
 * leaf hash, and the MSG is the canonical entry exactly as stored, so it can be re-hashed.
 */
export function auditEntrySyslog(entry: StoredEntry, hostname: string): string {
  const { fields, json } = parseEntry(entry);
  const severity =
    fields.breakGlassId !== undefined ? Severity.warning : fields.outcome === 'success' ? Severity.informational : fields.outcome === 'denied' ? Severity.notice : Severity.warning;
  return formatSyslog({
    time: typeof fields.time === 'string' ? fields.time : NIL,
    hostname,
    appName: 'callvault',
    msgId: typeof fields.action === 'string' ? fields.action : NIL,
    severity,
    structuredData: [{ id: SD_ID, params: { index: String(entry.index), leafHash: entry.leafHash.toString('base64') } }],
    message: json,
  });
}

/**
 * An audit entry as one JSON line: the canonical bytes in base64 (what the leaf hash covers),
 * and the same entry as JSON under "event" for reading. "event" is the canonical text itself,
 * not a re-serialisation, so its key order is the canonical one.
 */
export function auditEntryJsonLine(entry: StoredEntry): string {
  const { json } = parseEntry(entry);
  return `{"index":${entry.index},"entry":"${entry.entry.toString('base64')}","leafHash":"${entry.leafHash.toString('base64')}","event":${json}}`;
}
