/**
 * The detector's thresholds (docs/alerts.md, "Thresholds"): documented defaults, overridden per
 * controller in `alert_settings` (`callvault alerts settings`). Each default says why it is what it is.
 */
import { CallvaultError, ErrorCodes } from '../errors.js';

export interface Thresholds {
  /** days of an account's own history, and of its peers', that make its usual day */
  historyDays: number;
  /** an account with fewer active days than this is judged by its peers, or by the fixed defaults */
  minHistoryDays: number;
  /** peers (same role) with history needed before they make a baseline */
  minPeers: number;
  /** `volume`: this many times the usual (the larger of the account's own 95th percentile and its peers') */
  volumeFactor: number;
  /** `volume`: never below these, whatever the history: a busy shift is not misuse */
  volumeMinHour: number;
  volumeMinDay: number;
  /** `volume` with no history and no peers: the fixed defaults */
  volumeDefaultHour: number;
  volumeDefaultDay: number;
  /** `export-volume`: exports and original-rendition accesses of distinct recordings in a day */
  exportFactor: number;
  exportMinDay: number;
  exportDefaultDay: number;
  /** `subject-search`: distinct persons searched for by identifier in a day */
  searchPersonsPerDay: number;
  /** `subject-search`: searches followed by no purpose-stated access within `searchFollowMinutes`, per day */
  searchUnfollowedPerDay: number;
  searchFollowMinutes: number;
  /** `unexplained`: how long a subject search explains a privacy officer's access to what it found */
  explanationDays: number;
  /** `after-hours`: minutes of grace before and after the account's working hours */
  afterHoursGraceMinutes: number;
  /** `break-glass`: periods started in 7 days, and recordings reached in one period */
  breakGlassFactor: number;
  breakGlassDefaultWeek: number;
  breakGlassDefaultRecordings: number;
  /** `canary`: suspend the account and end its sessions at once */
  canarySuspend: boolean;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  historyDays: 28,
  minHistoryDays: 5,
  minPeers: 3,
  volumeFactor: 4,
  volumeMinHour: 12,
  volumeMinDay: 25,
  volumeDefaultHour: 20,
  volumeDefaultDay: 40,
  exportFactor: 4,
  exportMinDay: 5,
  exportDefaultDay: 10,
  searchPersonsPerDay: 10,
  searchUnfollowedPerDay: 3,
  searchFollowMinutes: 30,
  explanationDays: 14,
  afterHoursGraceMinutes: 30,
  breakGlassFactor: 3,
  breakGlassDefaultWeek: 3,
  breakGlassDefaultRecordings: 15,
  canarySuspend: false,
};

export const THRESHOLD_NAMES = Object.keys(DEFAULT_THRESHOLDS) as (keyof Thresholds)[];

/** the thresholds with a controller's overrides (the stored JSON object) applied; unknown keys are ignored */
export function withOverrides(stored: string | undefined): Thresholds {
  if (!stored) return DEFAULT_THRESHOLDS;
  const overrides = JSON.parse(stored) as Record<string, unknown>;
  const out: Record<string, unknown> = { ...DEFAULT_THRESHOLDS };
  for (const name of THRESHOLD_NAMES) {
    const v = overrides[name];
    if (typeof v === typeof DEFAULT_THRESHOLDS[name]) out[name] = v;
  }
  return out as unknown as Thresholds;
}

/** `name=value` pairs as typed on the command line or sent over HTTP, checked */
export function parseOverrides(pairs: Record<string, unknown>): Partial<Thresholds> {
  const out: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(pairs)) {
    if (!(THRESHOLD_NAMES as string[]).includes(name)) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, `no threshold is called ${JSON.stringify(name)}; see docs/alerts.md`);
    const want = typeof DEFAULT_THRESHOLDS[name as keyof Thresholds];
    if (want === 'boolean') {
      if (raw === true || raw === 'true') out[name] = true;
      else if (raw === false || raw === 'false') out[name] = false;
      else throw new CallvaultError(ErrorCodes.INVALID_REQUEST, `${name} is true or false`);
    } else {
      const n = typeof raw === 'number' ? raw : Number(raw);
      if (!Number.isFinite(n) || n < 0 || n > 1_000_000) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, `${name} is a number from 0 to 1000000`);
      out[name] = n;
    }
  }
  return out as Partial<Thresholds>;
}
