/** Dates, times, lengths, numbers and identifiers in the user's language. */
import i18n from 'i18next';

export { formatPersonnummer, formatPhone } from '../../../src/identifiers/display';

const locale = () => (i18n.language === 'sv' ? 'sv-SE' : 'en-GB');

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(locale(), { dateStyle: 'medium', timeStyle: 'short' });
}

export function time(iso: string): string {
  return new Date(iso).toLocaleTimeString(locale(), { hour: '2-digit', minute: '2-digit' });
}

/** 75.4 → "1:15"; an hour or more → "1:02:03" */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * The instant a local day (YYYY-MM-DD, as a date input gives it) begins, or the day `plusDays`
 * after it: a filter to the end of a day is one to the start of the next.
 */
export function dayStart(day: string, plusDays?: number): string;
export function dayStart(day: string | null | undefined, plusDays?: number): string | undefined;
export function dayStart(day: string | null | undefined, plusDays = 0): string | undefined {
  if (!day) return undefined;
  const d = new Date(`${day}T00:00:00`);
  d.setDate(d.getDate() + plusDays);
  return d.toISOString();
}

/** a number with the language's decimal sign: 0.75 → "0,75" in Swedish */
export function decimal(n: number): string {
  return n.toLocaleString(locale(), { maximumFractionDigits: 2 });
}

/** a playback speed: 0.75 → "0,75×" in Swedish */
export function speed(rate: number): string {
  return `${decimal(rate)}×`;
}

/** whether a word or value is the label a removed identifier is replaced by ("[TELEFON]") */
export function isRedactionLabel(text: string): boolean {
  return /^\[[A-ZÅÄÖ-]+\]$/.test(text);
}

/** the labels the server puts in place of identifiers (src/redaction/transcript.ts; a name: src/services/recordings.ts), always Swedish */
const MASKS = /\[(PERSONNUMMER|TELEFON|E-POST|NAMN)\]/g;

/** text with the server's identifier labels in the user's language: "[TELEFON]" → "[PHONE]" in English */
export function masked(text: string): string {
  return text.replace(MASKS, (_, kind: 'PERSONNUMMER' | 'TELEFON' | 'E-POST' | 'NAMN') => i18n.t(`common:masks.${kind}`));
}

/** the kinds of identifier the server finds (src/pii/detector.ts), named in the user's language (by `t`, a component's) */
export function identifierKind(kind: string | null | undefined, t: (key: string) => string = i18n.t): string {
  if (!kind) return '';
  const key = `common:identifierKinds.${kind}`;
  return i18n.exists(key) ? t(key) : kind;
}
