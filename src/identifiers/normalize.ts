/**
 * Canonical forms of identifiers, so that every way of writing one number maps to one blind index.
 */
import { createRequire } from 'node:module';
import type PersonnummerClass from 'personnummer';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { CallvaultError, ErrorCodes } from '../errors.js';

// the package is CommonJS with `module.exports = Personnummer` but types that claim an ES default
const Personnummer = createRequire(import.meta.url)('personnummer') as typeof PersonnummerClass.default;

/** E.164, read as Swedish when no country code is given */
export function normalizePhone(raw: string): string {
  const parsed = parsePhoneNumberFromString(raw, 'SE');
  if (!parsed || !parsed.isValid()) throw new CallvaultError(ErrorCodes.INVALID_METADATA, 'caller is not a valid phone number');
  return parsed.number;
}

/** 12 digits, YYYYMMDDNNNC; personnummer and samordningsnummer alike */
export function normalizePersonnummer(raw: string): string {
  try {
    return Personnummer.parse(raw.trim()).format(true);
  } catch {
    throw new CallvaultError(ErrorCodes.INVALID_METADATA, 'personnummer is not a valid Swedish personal or coordination number');
  }
}
