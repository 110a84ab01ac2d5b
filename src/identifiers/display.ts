/**
 * Identifiers written the way Swedes read them, for display only (searching and storing use the
 * canonical forms of normalize.ts): a personnummer or samordningsnummer as `19371020-9887`, a
 * Swedish phone number in its national form `070-174 06 64`, a foreign one internationally
 * (`+44 20 7946 0958`). What is neither is shown as it came. Pure, and without Node: the web UI
 * bundles it.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/min';

/**
 * `193710209887`, `19371020-9887` or `371020-9887` → `19371020-9887` (a ten-digit number keeps its
 * own century and separator, `+` for 100 years or more: which century it is cannot be told here)
 */
export function formatPersonnummer(value: string): string {
  const trimmed = value.trim();
  const twelve = /^(\d{8})[-+]?(\d{4})$/.exec(trimmed);
  if (twelve) return `${twelve[1]}-${twelve[2]}`;
  const ten = /^(\d{6})([-+]?)(\d{4})$/.exec(trimmed);
  if (ten) return `${ten[1]}${ten[2] || '-'}${ten[3]}`;
  return value;
}

/** `+46701740664` → `070-174 06 64`; another country's number in its international form */
export function formatPhone(value: string): string {
  const trimmed = value.trim();
  if (!/^[+\d][\d\s()-]{4,}$/.test(trimmed)) return value;
  const phone = parsePhoneNumberFromString(trimmed, 'SE');
  if (!phone?.isPossible()) return value;
  return phone.country === 'SE' || (!phone.country && phone.countryCallingCode === '46') ? phone.formatNational() : phone.formatInternational();
}
