/**
 * Canonical forms of identifiers, so that every way of writing one number maps to one blind index.
 */
import { createRequire } from 'node:module';
import type PersonnummerClass from 'personnummer';
import type * as Libphonenumber from 'libphonenumber-js';
import { CallvaultError, ErrorCodes } from '../errors.js';

// Loaded on first use, synchronously, so commands that never parse an identifier do not pay for
// them (libphonenumber-js takes ~90 ms to load). personnummer is CommonJS with
// `module.exports = Personnummer` but types that claim an ES default.
const require = createRequire(import.meta.url);
let libs: { Personnummer: typeof PersonnummerClass.default; parsePhoneNumberFromString: typeof Libphonenumber.parsePhoneNumberFromString } | undefined;
function load() {
  if (!libs) {
    libs = {
      Personnummer: require('personnummer'),
      parsePhoneNumberFromString: require('libphonenumber-js').parsePhoneNumberFromString,
    };
  }
  return libs;
}

/** E.164, read as Swedish when no country code is given */
export function normalizePhone(raw: string): string {
  const parsed = load().parsePhoneNumberFromString(raw, 'SE');
  if (!parsed?.isValid()) throw new CallvaultError(ErrorCodes.INVALID_METADATA, 'caller is not a valid phone number');
  return parsed.number;
}

/** 12 digits, YYYYMMDDNNNC; personnummer and samordningsnummer alike */
export function normalizePersonnummer(raw: string): string {
  try {
    return load().Personnummer.parse(raw.trim()).format(true);
  } catch {
    throw new CallvaultError(ErrorCodes.INVALID_METADATA, 'personnummer is not a valid Swedish personal or coordination number');
  }
}

/**
 * The one person a data-subject request names, by personnummer or by phone number (exactly one).
 * Errors carry `code` (USAGE on the command line, INVALID_REQUEST over HTTP) and never the value.
 */
export function subjectIdentifier(
  input: { personnummer?: string; phone?: string },
  code: typeof ErrorCodes.USAGE | typeof ErrorCodes.INVALID_REQUEST,
): { kind: 'personnummer' | 'phone'; value: string } {
  if (Boolean(input.personnummer) === Boolean(input.phone)) throw new CallvaultError(code, 'give a personnummer or a phone number, not both');
  try {
    return input.personnummer ? { kind: 'personnummer', value: normalizePersonnummer(input.personnummer) } : { kind: 'phone', value: normalizePhone(input.phone!) };
  } catch (err) {
    throw new CallvaultError(code, (err as Error).message);
  }
}
