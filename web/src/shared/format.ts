/** Dates, times and lengths in the user's language. */
import i18n from 'i18next';

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

/** whether a word or value is the label a removed identifier is replaced by ("[TELEFON]") */
export function isRedactionLabel(text: string): boolean {
  return /^\[[A-ZÅÄÖ-]+\]$/.test(text);
}
