/**
 * Retention periods (docs/retention.md): a recording's data key is wrapped to the key of its
 * controller, retention class and month of call time, and a month's key is destroyed once the
 * month's last possible call has passed the class's retention. A recording is therefore shredded
 * between its own expiry and one month after it.
 */
import { CallvaultError, ErrorCodes } from '../errors.js';

export const DEFAULT_CLASS = 'default';
const CLASS_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const PERIOD_SCOPE = /^period\/([a-z][a-z0-9-]{0,31})\/(\d{4}-\d{2})$/;
/** the longest retention a class may have: 100 years */
export const MAX_RETENTION_DAYS = 36_525;
const DAY_MS = 86_400_000;

export function assertRetentionClass(name: string): void {
  if (!CLASS_NAME.test(name)) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'a retention class is 1 to 32 lower-case letters, digits or dashes, starting with a letter');
}

export function assertRetentionDays(days: number): void {
  if (!Number.isInteger(days) || days < 1 || days > MAX_RETENTION_DAYS) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, `a retention is 1 to ${MAX_RETENTION_DAYS} days`);
}

/** when the call took place, as retention counts it: its start, or when it arrived if that is unknown */
export function callTime(row: { started_at: string | null; imported_at: string }): string {
  return row.started_at ?? row.imported_at;
}

/** YYYY-MM (UTC) of an instant */
export function monthOf(time: string): string {
  return new Date(time).toISOString().slice(0, 7);
}

/** the key scope covering one class and the month (UTC) of `time` */
export function periodScope(cls: string, time: string): string {
  return `period/${cls}/${monthOf(time)}`;
}

export function parsePeriodScope(scope: string | null): { cls: string; month: string } | undefined {
  const m = scope ? PERIOD_SCOPE.exec(scope) : null;
  return m ? { cls: m[1]!, month: m[2]! } : undefined;
}

/** the first instant after the month */
export function monthEnd(month: string): Date {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 1));
}

/** when every call of the month has passed a retention of `days` */
export function periodExpiresAt(month: string, days: number): Date {
  return new Date(monthEnd(month).getTime() + days * DAY_MS);
}

export function recordingExpiresAt(time: string, days: number): Date {
  return new Date(new Date(time).getTime() + days * DAY_MS);
}

/**
 * Calls before this instant lie in months whose every call has passed `days` at `now`: the
 * recordings a run at `now` shreds.
 */
export function shredCutoff(days: number, now: Date): string {
  const limit = new Date(now.getTime() - days * DAY_MS);
  return new Date(Date.UTC(limit.getUTCFullYear(), limit.getUTCMonth(), 1)).toISOString();
}

/** the first instant of the month after `time`'s */
export function nextMonth(time: Date): Date {
  return new Date(Date.UTC(time.getUTCFullYear(), time.getUTCMonth() + 1, 1));
}
