/**
 * Sidecar metadata for an imported file: `call.json` beside `call.wav`, or a row of a CSV file
 * given with --metadata whose `file` column names the audio file.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { CallvaultError, ErrorCodes } from '../errors.js';
import { normalizePersonnummer, normalizePhone } from '../identifiers/normalize.js';

export interface Sidecar {
  caller?: string;
  personnummer?: string;
  agent?: string;
  region?: string;
  startedAt?: string;
  direction?: 'inbound' | 'outbound';
  controller?: string;
  /** the retention class (docs/retention.md): `journal` for a call that is part of the patient record */
  class?: string;
}

const KEYS = ['caller', 'personnummer', 'agent', 'region', 'startedAt', 'direction', 'controller', 'class'] as const;
const CLASS_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

function invalid(message: string): CallvaultError {
  return new CallvaultError(ErrorCodes.INVALID_METADATA, `metadata: ${message}`);
}

/** how far a recorder's clock may run ahead of this server's */
export const CLOCK_SKEW_MS = 5 * 60_000;
const EARLIEST_CALL = Date.UTC(1990, 0, 1);

/** Validates and canonicalises one record. Messages name the field, never its value. */
export function parseSidecar(record: Record<string, unknown>): Sidecar {
  const out: Sidecar = {};
  for (const [key, raw] of Object.entries(record)) {
    if (key === 'file') continue;
    if (!(KEYS as readonly string[]).includes(key)) throw invalid(`unknown key "${key.slice(0, 40)}"`);
    if (raw === null || raw === undefined || raw === '') continue;
    if (typeof raw !== 'string') throw invalid(`${key} must be a string`);
    const value = raw.trim();
    if (value.length > 200) throw invalid(`${key} is too long`);
    switch (key) {
      case 'caller':
        out.caller = normalizePhone(value);
        break;
      case 'personnummer':
        out.personnummer = normalizePersonnummer(value);
        break;
      case 'startedAt': {
        const t = Date.parse(value);
        if (!ISO_8601.test(value) || Number.isNaN(t)) throw invalid('startedAt is not an ISO 8601 date-time');
        // a call time in the future would keep the call out of any retention for ever; none of the
        // archives callvault takes in is older than digital call recording
        if (t > Date.now() + CLOCK_SKEW_MS) throw invalid('startedAt lies in the future');
        if (t < EARLIEST_CALL) throw invalid('startedAt lies before 1990');
        out.startedAt = new Date(t).toISOString();
        break;
      }
      case 'class':
        if (!CLASS_NAME.test(value)) throw invalid('class is 1 to 32 lower-case letters, digits or dashes, starting with a letter');
        out.class = value;
        break;
      case 'direction':
        if (value !== 'inbound' && value !== 'outbound') throw invalid('direction must be "inbound" or "outbound"');
        out.direction = value;
        break;
      default:
        out[key as 'agent' | 'region' | 'controller'] = value;
    }
  }
  return out;
}

export async function readJsonSidecar(path: string): Promise<Sidecar> {
  let record: unknown;
  try {
    record = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    throw invalid(`${basename(path)} is not valid JSON`);
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) throw invalid(`${basename(path)} must hold a JSON object`);
  return parseSidecar(record as Record<string, unknown>);
}

/** Rows of a --metadata CSV keyed by the absolute path of the file they describe. */
export async function readCsvMetadata(path: string): Promise<Map<string, Record<string, string>>> {
  let rows: Record<string, string>[];
  try {
    rows = parseCsv(await readFile(path), { columns: true, skip_empty_lines: true, trim: true, bom: true });
  } catch (err) {
    throw new CallvaultError(ErrorCodes.USAGE, `--metadata ${basename(path)} is not a readable CSV file`, { cause: err });
  }
  const byFile = new Map<string, Record<string, string>>();
  for (const row of rows) {
    if (!row.file) throw new CallvaultError(ErrorCodes.USAGE, `--metadata ${basename(path)} needs a "file" column in every row`);
    byFile.set(resolve(dirname(path), row.file), row);
  }
  return byFile;
}
