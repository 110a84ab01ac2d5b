/**
 * The insider-misuse detector (docs/alerts.md): reads audit entries in log order and states what
 * its rules find, each finding with its evidence in words and the entries that are that evidence.
 * It keeps each account's recent days in memory (its usual day, its searches, its break-the-glass
 * periods), so the live server (runner.ts) and a backtest evaluate the same way: a backtest
 * replays the history before its window muted, as a server does when it starts.
 *
 * Facts the entries do not hold (who handled a call, whose call it was as blind-index digests,
 * staff identifiers, protected persons, canaries, working hours) come from `DetectorSources`
 * as they are now.
 */
import type { Thresholds } from './thresholds.js';
import { type Evidence, evidenceInEnglish, type Usual } from './evidence.js';
import { ACCESS_ACTIONS, accountKey, type ReadEntry, SEARCH_ACTIONS, searchedIdentifier } from './entries.js';

export const RULES = ['canary', 'protected-person', 'self-or-colleague', 'volume', 'subject-search', 'unexplained', 'after-hours', 'break-glass', 'export-volume'] as const;
export type RuleName = (typeof RULES)[number];
export type Severity = 'high' | 'medium' | 'low';

export const SEVERITY: Record<RuleName, Severity> = {
  canary: 'high',
  'protected-person': 'high',
  'self-or-colleague': 'high',
  volume: 'medium',
  'subject-search': 'medium',
  unexplained: 'medium',
  'after-hours': 'low',
  'break-glass': 'medium',
  'export-volume': 'medium',
};

export interface AccountFacts {
  id: string;
  name: string;
  role: string;
  agent: string | null;
  /** the agents of a supervisor's team */
  teamAgents: readonly string[];
  /** `HH:MM-HH:MM` or null */
  workHours: string | null;
  controllerId: string | null;
}

export interface RecordingFacts {
  id: string;
  controllerId: string;
  agent: string | null;
  /** the caller's personnummer and phone digests, metadata and spoken, under the controller's key */
  callerDigests: readonly string[];
  /** what counts the call's person: the personnummer digest, else the phone digest */
  person: string | null;
}

export interface DetectorSources {
  accounts(ids: readonly string[]): Promise<Map<string, AccountFacts>>;
  recordings(ids: readonly string[]): Promise<Map<string, RecordingFacts>>;
  /** staff identifier digest → the account ids it belongs to */
  staffDigests(): Promise<Map<string, string[]>>;
  protectedDigests(): Promise<Set<string>>;
  canaries(): Promise<Set<string>>;
  thresholds(controllerId: string | null): Promise<Thresholds>;
  /** whether the caller of `recording` has another call that `agent` handled */
  callerKnownTo(recording: RecordingFacts, agent: string): Promise<boolean>;
}

export interface Finding {
  rule: RuleName;
  severity: Severity;
  /** the account's id (a user's, or `cli:NAME`) */
  account: string;
  username: string;
  role: string | null;
  /** one alert per rule, account and window: findings with the same key join one alert */
  dedupKey: string;
  time: Date;
  /** the evidence in English (evidenceInEnglish of facts) */
  evidence: string;
  facts: Evidence;
  entries: number[];
  recordings: string[];
  controllers: string[];
  /** a canary reached and the controller suspends: the account is to be suspended */
  suspend?: boolean;
}

interface DayStats {
  recordings: Set<string>;
  persons: Set<string>;
  /** accesses of the current rolling hour: time and recording */
  recent: { at: number; recordingId: string }[];
  /** the most distinct recordings reached in any 60 minutes of the day */
  peakHour: number;
  exports: Set<string>;
  searched: Set<string>;
  searchEntries: number[];
  unfollowed: number[];
  /** `volume` or `export-volume` found the day far above the usual: it is not part of anyone's usual */
  unusual: boolean;
}

interface AccountState {
  role: string | null;
  name: string;
  days: Map<string, DayStats>;
  /** searches waiting for a purpose-stated access: position, time and the identifier's hash */
  pendingSearches: { position: number; at: number; identifier: string }[];
  /** recordings a subject search or identifier search found, with when */
  found: Map<string, number>;
  /** break-the-glass periods: id → start time and recordings reached */
  /** `alerted`: the period was far above its peers', so it is no longer part of what peers do */
  glass: Map<string, { at: number; recordings: Set<string>; positions: number[]; alerted: boolean }>;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** evidence entries kept per alert: enough to follow, not the whole day of range requests */
export const MAX_EVIDENCE_ENTRIES = 500;

/** findings of one rule, account and window made one, as the alert they join: a batch's many accesses past a limit are one write */
export function joinFindings(findings: readonly Finding[]): Finding[] {
  const byKey = new Map<string, Finding>();
  for (const f of findings) {
    const prev = byKey.get(f.dedupKey);
    byKey.set(
      f.dedupKey,
      prev
        ? {
            ...f,
            entries: [...new Set([...prev.entries, ...f.entries])],
            recordings: [...new Set([...prev.recordings, ...f.recordings])],
            controllers: [...new Set([...prev.controllers, ...f.controllers])],
            suspend: prev.suspend || f.suspend,
          }
        : f,
    );
  }
  return [...byKey.values()];
}

function p(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export class Detector {
  private readonly accounts = new Map<string, AccountState>();
  /** the installation's thresholds, for what names no controller (the follow-up of a search) */
  private installation?: Thresholds;
  private readonly dayKey: (t: Date) => string;
  private readonly minuteOfDay: (t: Date) => number;

  constructor(
    private readonly sources: DetectorSources,
    timeZone: string,
  ) {
    const dayFormat = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    const timeFormat = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    this.dayKey = (t) => dayFormat.format(t);
    this.minuteOfDay = (t) => {
      const [h, m] = timeFormat.format(t).split(':').map(Number);
      return h! * 60 + m!;
    };
  }

  /**
   * Evaluates entries in log order. `muted`: the history before the window (a server's start, a
   * backtest's lead-in) updates what is usual and finds nothing.
   */
  async evaluate(entries: readonly ReadEntry[], muted = false): Promise<Finding[]> {
    this.installation = await this.sources.thresholds(null);
    const relevant = entries.filter((e) => e.outcome === 'success' && accountKey(e) !== undefined);
    const recordingIds = [...new Set(relevant.filter((e) => e.recordingId && ACCESS_ACTIONS.has(e.action)).map((e) => e.recordingId!))];
    const userIds = [...new Set(relevant.filter((e) => e.actor.type === 'user').map((e) => e.actor.id!))];
    const [recordings, accounts] = await Promise.all([this.sources.recordings(recordingIds), this.sources.accounts(userIds)]);
    const findings: Finding[] = [];
    for (const entry of relevant) {
      const key = accountKey(entry)!;
      const facts = accounts.get(key);
      const state = this.stateOf(key, entry, facts);
      findings.push(...this.expireSearches(key, state, entry.time.getTime(), muted));
      if (entry.action === 'break-glass.start') {
        state.glass.set(entry.breakGlassId ?? String(entry.position), { at: entry.time.getTime(), recordings: new Set(), positions: [entry.position], alerted: false });
        if (!muted) findings.push(...(await this.breakGlassStarts(key, state, entry)));
      } else if (SEARCH_ACTIONS.has(entry.action) && searchedIdentifier(entry)) {
        findings.push(...(await this.search(key, state, entry, muted)));
      } else if (entry.action === 'subject.erase' && searchedIdentifier(entry)) {
        // an erasure answers the request its search began: that search was followed
        state.pendingSearches = state.pendingSearches.filter((s) => s.identifier !== searchedIdentifier(entry));
      } else if (ACCESS_ACTIONS.has(entry.action) && entry.recordingId) {
        const recording = recordings.get(entry.recordingId);
        if (recording) findings.push(...(await this.access(key, state, facts, entry, recording, muted)));
      }
    }
    this.forget(entries.at(-1)?.time);
    return findings;
  }

  /** searches whose time to be followed has passed by `now` (the wall clock, when no entry comes) */
  async expire(now: Date): Promise<Finding[]> {
    this.installation = await this.sources.thresholds(null);
    const out: Finding[] = [];
    for (const [key, state] of this.accounts) out.push(...this.expireSearches(key, state, now.getTime(), false));
    return out;
  }

  private stateOf(key: string, entry: ReadEntry, facts: AccountFacts | undefined): AccountState {
    let state = this.accounts.get(key);
    if (!state) {
      state = { role: null, name: '', days: new Map(), pendingSearches: [], found: new Map(), glass: new Map() };
      this.accounts.set(key, state);
    }
    state.role = facts?.role ?? entry.actor.role ?? (entry.actor.type === 'cli' ? 'operator' : null);
    state.name = facts?.name ?? entry.actor.name ?? key;
    return state;
  }

  private day(state: AccountState, t: Date): DayStats {
    const k = this.dayKey(t);
    let d = state.days.get(k);
    if (!d) {
      d = { recordings: new Set(), persons: new Set(), recent: [], peakHour: 0, exports: new Set(), searched: new Set(), searchEntries: [], unfollowed: [], unusual: false };
      state.days.set(k, d);
    }
    return d;
  }

  /** drops days older than the longest history any controller keeps */
  private forget(now: Date | undefined): void {
    if (!now) return;
    const oldest = this.dayKey(new Date(now.getTime() - 60 * DAY_MS));
    for (const state of this.accounts.values()) {
      for (const k of state.days.keys()) if (k < oldest) state.days.delete(k);
      for (const [id, at] of state.found) if (at < now.getTime() - 60 * DAY_MS) state.found.delete(id);
      for (const [id, g] of state.glass) if (g.at < now.getTime() - 60 * DAY_MS) state.glass.delete(id);
    }
  }

  private finding(rule: RuleName, key: string, state: AccountState, entry: ReadEntry, window: string, facts: Evidence, extra: Partial<Finding> = {}): Finding {
    return {
      rule,
      severity: SEVERITY[rule],
      account: key,
      username: state.name,
      role: state.role,
      dedupKey: `${rule}|${key}|${window}`,
      time: entry.time,
      evidence: evidenceInEnglish(facts),
      facts,
      entries: [entry.position],
      recordings: entry.recordingId ? [entry.recordingId] : [],
      controllers: entry.controllerId ? [entry.controllerId] : [],
      ...extra,
    };
  }

  private async access(key: string, state: AccountState, facts: AccountFacts | undefined, entry: ReadEntry, rec: RecordingFacts, muted: boolean): Promise<Finding[]> {
    const t = entry.time.getTime();
    const today = this.day(state, entry.time);
    const dayKey = this.dayKey(entry.time);
    const isNewToday = !today.recordings.has(rec.id);
    today.recordings.add(rec.id);
    if (rec.person) today.persons.add(rec.person);
    today.recent.push({ at: t, recordingId: rec.id });
    while (today.recent.length && today.recent[0]!.at <= t - HOUR_MS) today.recent.shift();
    const hourCount = new Set(today.recent.map((r) => r.recordingId)).size;
    today.peakHour = Math.max(today.peakHour, hourCount);
    const original = entry.action === 'recording.export' || (entry.action === 'recording.access' && entry.detail.rendition === 'original');
    if (original) today.exports.add(rec.id);
    if (entry.action === 'recording.access') state.pendingSearches = [];
    if (entry.breakGlassId) for (const id of entry.breakGlassId.split(',')) state.glass.get(id)?.recordings.add(rec.id);
    const th = await this.sources.thresholds(rec.controllerId);
    // judged muted too (a server's warm-up): a burst or a break-the-glass period already alerted
    // must not become the usual, or the next one within the history would pass unseen
    const volume = isNewToday ? this.volume(key, state, entry, today, hourCount, th) : [];
    const exports = original && today.exports.size > 0 ? this.exportVolume(key, state, entry, today, th) : [];
    if (volume.length + exports.length > 0) today.unusual = true;
    const glass = entry.breakGlassId ? await this.breakGlassRecordings(key, state, entry, th) : [];
    if (muted) return [];

    const out: Finding[] = [];
    const on = { recordings: [rec.id], controllers: [rec.controllerId] };
    if ((await this.sources.canaries()).has(rec.id)) {
      out.push(
        this.finding(
          'canary',
          key,
          state,
          entry,
          dayKey,
          { kind: 'canary', action: entry.action },
          {
            ...on,
            suspend: th.canarySuspend,
          },
        ),
      );
    }
    const protectedSet = await this.sources.protectedDigests();
    if (rec.callerDigests.some((d) => protectedSet.has(d))) {
      out.push(this.finding('protected-person', key, state, entry, `${dayKey}|${rec.id}`, { kind: 'protected-person', action: entry.action }, on));
    }
    const staff = await this.sources.staffDigests();
    const staffOwners = new Set(rec.callerDigests.flatMap((d) => staff.get(d) ?? []));
    if (staffOwners.has(key)) {
      out.push(this.finding('self-or-colleague', key, state, entry, `${dayKey}|${rec.id}`, { kind: 'own-call', action: entry.action }, on));
    } else if (staffOwners.size > 0 && !(facts?.agent && rec.agent === facts.agent)) {
      out.push(this.finding('self-or-colleague', key, state, entry, `${dayKey}|${rec.id}`, { kind: 'colleague-call', action: entry.action }, on));
    }
    out.push(...volume, ...exports);
    if (isNewToday && (entry.action === 'recording.access' || entry.action === 'recording.view') && !entry.breakGlassId) {
      const why = await this.explanation(state, facts, rec, t, th);
      if (!why) {
        out.push(this.finding('unexplained', key, state, entry, dayKey, { kind: 'unexplained' }, on));
      }
    }
    if (facts?.workHours && this.outsideHours(facts.workHours, entry.time, th.afterHoursGraceMinutes)) {
      out.push(this.finding('after-hours', key, state, entry, dayKey, { kind: 'after-hours', workHours: facts.workHours }, on));
    }
    out.push(...glass);
    return out;
  }

  /** why the access is part of the account's work, or undefined when nothing says so */
  private async explanation(state: AccountState, facts: AccountFacts | undefined, rec: RecordingFacts, t: number, th: Thresholds): Promise<string | undefined> {
    if (!facts) return 'operator';
    if (facts.agent && rec.agent === facts.agent) return 'handled';
    if (rec.agent && facts.teamAgents.includes(rec.agent)) return 'team';
    const found = state.found.get(rec.id);
    if (found !== undefined && t - found <= th.explanationDays * DAY_MS) return 'subject-search';
    if (facts.agent && rec.callerDigests.length > 0 && (await this.sources.callerKnownTo(rec, facts.agent))) return 'caller-known';
    return undefined;
  }

  /** the account's usual: the 95th percentile of its active days, and of its peers' (same role); days a volume rule alerted on are not usual */
  private baseline(key: string, state: AccountState, now: Date, th: Thresholds, measure: (d: DayStats) => number): { own?: number; peers?: number } {
    const from = this.dayKey(new Date(now.getTime() - th.historyDays * DAY_MS));
    const today = this.dayKey(now);
    const daysOf = (s: AccountState) =>
      [...s.days.entries()].filter(([k, d]) => k >= from && k < today && d.recordings.size + d.exports.size > 0 && !d.unusual).map(([, d]) => measure(d));
    const ownDays = daysOf(state);
    const peerDays: number[] = [];
    let peers = 0;
    for (const [k, s] of this.accounts) {
      if (k === key || s.role !== state.role) continue;
      const days = daysOf(s);
      if (days.length >= th.minHistoryDays) {
        peers += 1;
        peerDays.push(...days);
      }
    }
    return {
      own: ownDays.length >= th.minHistoryDays ? p(ownDays, 0.95) : undefined,
      peers: peers >= th.minPeers ? p(peerDays, 0.95) : undefined,
    };
  }

  private limit(base: { own?: number; peers?: number }, factor: number, min: number, fixed: number): number {
    if (base.own === undefined && base.peers === undefined) return fixed;
    return Math.max(min, factor * Math.max(base.own ?? 0, base.peers ?? 0));
  }

  private volume(key: string, state: AccountState, entry: ReadEntry, today: DayStats, hourCount: number, th: Thresholds): Finding[] {
    // below the smallest threshold nothing can alert: the baselines are not computed at all
    if (hourCount <= Math.min(th.volumeMinHour, th.volumeDefaultHour) && today.recordings.size <= Math.min(th.volumeMinDay, th.volumeDefaultDay)) return [];
    const day = this.baseline(key, state, entry.time, th, (d) => d.recordings.size);
    const hour = this.baseline(key, state, entry.time, th, (d) => d.peakHour);
    const dayLimit = this.limit(day, th.volumeFactor, th.volumeMinDay, th.volumeDefaultDay);
    const hourLimit = this.limit(hour, th.volumeFactor, th.volumeMinHour, th.volumeDefaultHour);
    const usual: Usual = day.own !== undefined ? { basis: 'own', value: day.own } : day.peers !== undefined ? { basis: 'peers', value: day.peers } : { basis: 'default' };
    const todaySoFar = { calls: today.recordings.size, persons: today.persons.size, usual };
    let evidence: Evidence | undefined;
    if (hourCount > hourLimit) {
      const minutes = Math.max(1, Math.round((entry.time.getTime() - today.recent[0]!.at) / 60_000));
      evidence = { kind: 'volume-hour', count: hourCount, minutes, ...todaySoFar, limit: hourLimit };
    } else if (today.recordings.size > dayLimit) {
      evidence = { kind: 'volume-day', ...todaySoFar, limit: dayLimit };
    }
    return evidence ? [this.finding('volume', key, state, entry, this.dayKey(entry.time), evidence)] : [];
  }

  private exportVolume(key: string, state: AccountState, entry: ReadEntry, today: DayStats, th: Thresholds): Finding[] {
    if (today.exports.size <= Math.min(th.exportMinDay, th.exportDefaultDay)) return [];
    const base = this.baseline(key, state, entry.time, th, (d) => d.exports.size);
    const limit = base.own === undefined ? th.exportDefaultDay : Math.max(th.exportMinDay, th.exportFactor * base.own);
    if (today.exports.size <= limit) return [];
    return [
      this.finding('export-volume', key, state, entry, this.dayKey(entry.time), {
        kind: 'export-volume',
        count: today.exports.size,
        limit,
        usual: base.own === undefined ? { basis: 'default' } : { basis: 'own', value: base.own },
      }),
    ];
  }

  private async search(key: string, state: AccountState, entry: ReadEntry, muted: boolean): Promise<Finding[]> {
    const today = this.day(state, entry.time);
    today.searched.add(searchedIdentifier(entry)!);
    today.searchEntries.push(entry.position);
    const t = entry.time.getTime();
    const found = entry.detail.found;
    if (Array.isArray(found)) for (const id of found) if (typeof id === 'string') state.found.set(id, t);
    // a look-up waits to be followed: by a purpose-stated access, or by the subject request it
    // began (an export, an access log, an erasure of the same person), which is the case itself
    if (entry.action === 'recordings.list' || entry.action === 'subject.find')
      state.pendingSearches.push({ position: entry.position, at: t, identifier: searchedIdentifier(entry)! });
    else state.pendingSearches = state.pendingSearches.filter((s) => s.identifier !== searchedIdentifier(entry));
    if (muted) return [];
    const th = await this.sources.thresholds(typeof entry.controllerId === 'string' ? entry.controllerId : null);
    if (today.searched.size > th.searchPersonsPerDay) {
      return [
        this.finding(
          'subject-search',
          key,
          state,
          entry,
          `${this.dayKey(entry.time)}|persons`,
          { kind: 'search-persons', count: today.searched.size, limit: th.searchPersonsPerDay },
          {
            entries: today.searchEntries.slice(-MAX_EVIDENCE_ENTRIES),
          },
        ),
      ];
    }
    return [];
  }

  private expireSearches(key: string, state: AccountState, now: number, muted: boolean): Finding[] {
    if (state.pendingSearches.length === 0) return [];
    // the installation's thresholds: a search names no controller to take them from
    const th = this.installation!;
    const followMs = th.searchFollowMinutes * 60_000;
    const expired = state.pendingSearches.filter((s) => s.at + followMs <= now);
    if (expired.length === 0) return [];
    state.pendingSearches = state.pendingSearches.filter((s) => s.at + followMs > now);
    const out: Finding[] = [];
    for (const s of expired) {
      const at = new Date(s.at);
      const today = this.day(state, at);
      today.unfollowed.push(s.position);
      if (!muted && today.unfollowed.length >= th.searchUnfollowedPerDay) {
        const entry = { position: s.position, time: at } as ReadEntry;
        out.push(
          this.finding(
            'subject-search',
            key,
            state,
            entry,
            `${this.dayKey(at)}|unfollowed`,
            { kind: 'search-unfollowed', count: today.unfollowed.length },
            { entries: today.unfollowed.slice(-MAX_EVIDENCE_ENTRIES) },
          ),
        );
      }
    }
    return out;
  }

  private outsideHours(hours: string, t: Date, graceMinutes: number): boolean {
    const m = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(hours);
    if (!m) return false;
    const start = Number(m[1]) * 60 + Number(m[2]) - graceMinutes;
    const end = Number(m[3]) * 60 + Number(m[4]) + graceMinutes;
    const now = this.minuteOfDay(t);
    const within = start <= end ? now >= start && now <= end : now >= start || now <= end;
    // a span with its grace longer than a day covers every minute
    return !within && end - start < 1440;
  }

  private peerLimit(
    state: AccountState,
    key: string,
    measure: (s: AccountState) => number[],
    factor: number,
    fixed: number,
    minPeers: number,
  ): { limit: number; peers: number | undefined } {
    const values: number[] = [];
    let peers = 0;
    for (const [k, s] of this.accounts) {
      if (k === key || s.role !== state.role) continue;
      peers += 1;
      values.push(...measure(s));
    }
    if (peers < minPeers) return { limit: fixed, peers: undefined };
    const p90 = p(values, 0.9);
    return { limit: Math.max(fixed, factor * p90), peers: p90 };
  }

  private async breakGlassStarts(key: string, state: AccountState, entry: ReadEntry): Promise<Finding[]> {
    const th = await this.sources.thresholds(entry.controllerId ?? null);
    const t = entry.time.getTime();
    const inWeek = (s: AccountState, until: number) => [...s.glass.values()].filter((g) => g.at > until - 7 * DAY_MS && g.at <= until);
    const mine = inWeek(state, t);
    const { limit, peers } = this.peerLimit(state, key, (s) => [inWeek(s, t).length], th.breakGlassFactor, th.breakGlassDefaultWeek, th.minPeers);
    if (mine.length <= limit) return [];
    return [
      this.finding(
        'break-glass',
        key,
        state,
        entry,
        `${this.dayKey(entry.time)}|starts`,
        { kind: 'break-glass-starts', count: mine.length, limit, usual: peers === undefined ? { basis: 'default' } : { basis: 'peers', value: peers } },
        {
          entries: mine.flatMap((g) => g.positions).slice(-MAX_EVIDENCE_ENTRIES),
        },
      ),
    ];
  }

  private async breakGlassRecordings(key: string, state: AccountState, entry: ReadEntry, th: Thresholds): Promise<Finding[]> {
    const out: Finding[] = [];
    for (const id of entry.breakGlassId!.split(',')) {
      const g = state.glass.get(id);
      if (!g || g.recordings.size <= Math.min(th.breakGlassDefaultRecordings, 3)) continue;
      const { limit, peers } = this.peerLimit(
        state,
        key,
        (s) => [...s.glass.values()].filter((x) => !x.alerted).map((x) => x.recordings.size),
        th.breakGlassFactor,
        th.breakGlassDefaultRecordings,
        th.minPeers,
      );
      if (g.recordings.size <= limit) continue;
      g.alerted = true;
      out.push(
        this.finding('break-glass', key, state, entry, `period|${id}`, {
          kind: 'break-glass-calls',
          count: g.recordings.size,
          limit,
          usual: peers === undefined ? { basis: 'default' } : { basis: 'peers', value: peers },
        }),
      );
    }
    return out;
  }
}
