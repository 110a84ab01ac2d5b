/**
 * What `callvault doctor` reports: one finding per check, each with what to do about it. A finding
 * names files and settings, never a secret or an identifier.
 */
export type Status = 'ok' | 'warn' | 'fail';

export interface Finding {
  check: string;
  status: Status;
  message: string;
  /** what to do; empty when there is nothing to do */
  fix: string;
}

export function ok(check: string, message: string): Finding {
  return { check, status: 'ok', message, fix: '' };
}

export function warn(check: string, message: string, fix: string): Finding {
  return { check, status: 'warn', message, fix };
}

export function fail(check: string, message: string, fix: string): Finding {
  return { check, status: 'fail', message, fix };
}
