/**
 * The insider-misuse detector (issue 18, Measure; docs/alerts.md) on a simulated advice line:
 *
 * 1. A simulator writes 8 weeks (BENCH_INSIDERS_WEEKS) of activity of 200 accounts
 *    (BENCH_INSIDERS_ACCOUNTS: 80 % nurses, 10 % supervisors, 4 % privacy officers, 3 % auditors,
 *    3 % admins) of one call-centre serving three regions, into a SQLite vault: the calls the
 *    nurses handle (recording rows and their caller digests written straight through
 *    `RecordingsRepository.loadStored`, as bench/breach.ts does; no audio), and every audit entry
 *    through `vault.audit.append` with its simulated time, in time order, shaped as the services
 *    write them (src/audit/catalogue.ts). Normal work: nurses on day, evening and night shifts over
 *    the whole week (4–5 shifts a week, heavier Mondays and a flu wave in weeks 5–6, a third of
 *    them on holiday for 1–2 weeks, sick days, new hires starting in weeks 3–6) replay their own
 *    calls for follow-up, search their own calls by the caller's number, and in a real emergency
 *    (about one shift in 70) break the glass to hear a caller's earlier call with a colleague;
 *    supervisors review their team's calls (quality reviews, complaints); privacy officers answer
 *    subject requests (find, then export, erase, access log or a complaint heard), three times
 *    as many in the week after a news story (week 5), and now and then investigate an incident
 *    named by agent and time; auditors read the log and the alerts; admins manage accounts.
 *    Staff call the advice line too (their identifiers are in `staff_identifiers`), a few callers
 *    are marked protected, and some accounts have working hours (office staff, fixed-shift nurses).
 * 2. Planted misuse, each case labelled with its account, time window and kind: every rule's kind,
 *    about 10 cases each at full size (canary rows sealed as `canary add` seals them).
 * 3. `Detector.evaluate` with `DatabaseSources` over the whole log, in batches of 2000 as the
 *    server's runner reads it (nothing muted: the first day is judged by the fixed defaults, as a
 *    new installation is). An alert is the findings joined by their dedup key, as the runner and
 *    a backtest join them. A planted case is detected when an alert of its rule names its account
 *    with a finding inside its window; an alert with no finding inside any planted window of its
 *    account is a false alert (normal activity). Targets: recall ≥ 0.9 for every kind; false alerts
 *    ≤ 1 per 50 accounts per week.
 * 4. Throughput: entries/s of reading and evaluating the whole log, against the durable append
 *    rate of `vault.audit.append` measured in the same run on a fresh vault (BENCH_INSIDERS_APPENDS
 *    sequential appends of a playback entry, as bench/audit.ts times them). Target ≥ 2×.
 * 5. Delay in a live server: the `DetectorRunner` started on the simulated vault as `serve` starts
 *    it (src/services/background.ts: its warm-up reads the last 28 days muted), then a canary view
 *    and volume bursts (40 calls each) appended as the server's routes append them; the delay is
 *    from the start of the append of the entry that crosses the rule to the moment the alert's row
 *    is in the database (polled every 2 ms). Targets: canary < 1 s, volume < 10 s.
 *
 * The fill runs with SQLite's `synchronous = OFF` (the entries are the same; only the fsync per
 * append is skipped, to fill 8 weeks in a minute); the append rate and the live part run with the
 * vault's own `synchronous = FULL`. SQLite only: the detector's cost is in this process.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Detector, RULES, type Finding, type RuleName } from '../src/alerts/detector.js';
import { readEntry } from '../src/alerts/entries.js';
import { DetectorRunner } from '../src/alerts/runner.js';
import type { AuditEvent } from '../src/audit/audit-log.js';
import type { NewRecording } from '../src/db/recordings-repository.js';
import { prng } from '../src/demo/synthetic-identity.js';
import { blindIndexFor } from '../src/recordings/indexer.js';
import { createServices } from '../src/services/index.js';
import { seal } from '../src/util/aead.js';
import { Vault } from '../src/vault.js';
import { BENCH_PASSPHRASE, fmt, makeScratch, median, nowSeconds, type Benchmark, type BenchOptions, type BenchResult } from './common.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const CONTROLLERS = ['region-01', 'region-02', 'region-03'];
const AREAS = ['north', 'south', 'east', 'west'];
const PROCESSOR = 'advice-line';
const KDF = { memoryKiB: 8192, iterations: 1, parallelism: 1 };
const BATCH = 2000;
const RECALL_TARGET = 0.9;
const FALSE_TARGET = 1;
const THROUGHPUT_TARGET = 2;
const CANARY_DELAY_MS = 1000;
const OTHER_DELAY_MS = 10_000;

export interface InsidersSize {
  accounts: number;
  weeks: number;
  /** appends timed for the append rate */
  appends: number;
  /** live bursts timed per rule */
  liveRounds: number;
  seed: number;
}

export function sizeFromEnv(): InsidersSize {
  const int = (name: string, fallback: number) => {
    const v = process.env[name];
    if (v === undefined || v === '') return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
    return n;
  };
  return {
    accounts: int('BENCH_INSIDERS_ACCOUNTS', 200),
    weeks: int('BENCH_INSIDERS_WEEKS', 8),
    appends: int('BENCH_INSIDERS_APPENDS', 3000),
    liveRounds: int('BENCH_INSIDERS_LIVE_ROUNDS', 5),
    seed: int('BENCH_INSIDERS_SEED', 18),
  };
}

// ---------------------------------------------------------------------------------------------
// the simulated world

type Role = 'nurse' | 'supervisor' | 'dpo' | 'auditor' | 'admin';
type Shift = 'day' | 'evening' | 'night' | 'office' | 'dpo-office';

/** minutes from local midnight; night shifts end the next morning */
const SHIFTS: Record<Shift, { from: number; to: number; hours: string }> = {
  day: { from: 7 * 60, to: 16 * 60, hours: '07:00-16:00' },
  evening: { from: 15 * 60, to: 23 * 60, hours: '15:00-23:00' },
  night: { from: 22 * 60, to: 31 * 60, hours: '22:00-07:00' },
  office: { from: 8 * 60, to: 17 * 60, hours: '08:00-17:00' },
  'dpo-office': { from: 8 * 60, to: 16 * 60 + 30, hours: '08:00-16:30' },
};

interface Account {
  id: string;
  username: string;
  role: Role;
  shift: Shift;
  agent: string | null;
  team: string | null;
  /** a privacy officer's controller; processor staff have none */
  controller: string | null;
  hours: string | null;
  /** the day the account starts work (a new hire after day 0) */
  startDay: number;
  working: Set<number>;
  /** the person the member of staff is when they call the advice line */
  person: number;
}

interface Call {
  id: string;
  controller: string;
  agent: string;
  person: number;
  start: number;
  end: number;
  erased?: boolean;
}

interface Ev {
  time: number;
  event: AuditEvent;
}

export interface PlantedCase {
  kind: RuleName;
  account: string;
  username: string;
  role: Role;
  from: number;
  to: number;
  what: string;
}

interface Zone {
  /** UTC ms of local `minutes` after midnight of sim day `day` (minutes may pass 1440) */
  at(day: number, minutes: number): number;
}

function zone(timeZone: string, y: number, m: number, d: number): Zone {
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  const offset = (utc: number) => {
    const p = Object.fromEntries(f.formatToParts(new Date(utc)).map((x) => [x.type, x.value]));
    return Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second)) - utc;
  };
  return {
    at(day, minutes) {
      const wall = Date.UTC(y, m, d + day, 0, 0) + Math.round(minutes * MIN);
      const o1 = offset(wall - 2 * HOUR);
      let utc = wall - o1;
      const o2 = offset(utc);
      if (o2 !== o1) utc = wall - o2;
      return utc;
    },
  };
}

class Random {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  between(a: number, b: number): number {
    return a + this.next() * (b - a);
  }
  poisson(mean: number): number {
    const l = Math.exp(-mean);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= this.next();
    } while (p > l);
    return k - 1;
  }
  gauss(mean: number, sd: number): number {
    const u = 1 - this.next();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}

/** distinct per person up to 630,000 persons (not valid check digits: no real person's number) */
const personnummerOf = (p: number) =>
  `19${String(30 + (p % 70)).padStart(2, '0')}${String(1 + (p % 9)).padStart(2, '0')}${String(1 + (p % 28)).padStart(2, '0')}${String(p % 10000).padStart(4, '0')}`;
const phoneOf = (p: number) => `+4670${String(p).padStart(7, '0')}`;

export interface SimulatedWorld {
  accounts: Account[];
  calls: Call[];
  events: Ev[];
  planted: PlantedCase[];
  /** simulated period: first and last instant */
  from: number;
  to: number;
}

/**
 * Everything the simulator decides, before anything is written: accounts, calls, entries and the
 * planted cases.
 */
class Simulator {
  readonly rnd: Random;
  readonly accounts: Account[] = [];
  readonly calls: Call[] = [];
  readonly events: Ev[] = [];
  readonly planted: PlantedCase[] = [];
  readonly callsByAgent = new Map<string, Call[]>();
  readonly callsByPerson = new Map<number, Call[]>();
  readonly staffCallers: number[] = [];
  readonly protectedPersons = new Set<number>();
  readonly canaries: Call[] = [];
  readonly days: number;
  readonly people: number;
  readonly tokenIds = new Map(CONTROLLERS.map((c) => [c, randomUUID()]));

  constructor(
    readonly size: InsidersSize,
    readonly z: Zone,
    readonly hash: (kind: 'personnummer' | 'phone', value: string) => string,
  ) {
    this.rnd = new Random(size.seed);
    this.days = size.weeks * 7;
    this.people = size.accounts * 250;
  }

  // ---- helpers

  private push(time: number, event: Record<string, unknown>): void {
    this.events.push({ time: Math.round(time), event: event as unknown as AuditEvent });
  }

  private actor(a: Account) {
    return { type: 'user', id: a.id, name: a.username, role: a.role };
  }

  private controllerOf(person: number): string {
    return CONTROLLERS[person % CONTROLLERS.length]!;
  }

  private weekday(day: number): number {
    return day % 7; // day 0 is a Monday
  }

  /** calls before `t` of a list in time order: the last `n` of them */
  private before(list: readonly Call[] | undefined, t: number, n = Number.POSITIVE_INFINITY, since = 0): Call[] {
    if (!list) return [];
    let hi = list.length;
    while (hi > 0 && list[hi - 1]!.end > t) hi--;
    const out: Call[] = [];
    for (let i = hi - 1; i >= 0 && out.length < n; i--) {
      const c = list[i]!;
      if (c.start < since) break;
      if (!c.erased) out.push(c);
    }
    return out;
  }

  private caller(): number {
    if (this.rnd.chance(0.0012) && this.staffCallers.length) return this.rnd.pick(this.staffCallers);
    // a few callers call often, most once or twice
    return Math.floor(this.people * this.rnd.next() ** 1.6);
  }

  addCall(agent: string, person: number, start: number, controller = this.controllerOf(person), log = true): Call {
    const call: Call = { id: randomUUID(), controller, agent, person, start, end: start + this.rnd.between(3, 14) * MIN };
    this.calls.push(call);
    const byAgent = this.callsByAgent.get(agent) ?? [];
    // planted calls come later than the day's calls: keep each list in time order
    let i = byAgent.length;
    while (i > 0 && byAgent[i - 1]!.end > call.end) i--;
    byAgent.splice(i, 0, call);
    this.callsByAgent.set(agent, byAgent);
    const byPerson = this.callsByPerson.get(person) ?? [];
    let j = byPerson.length;
    while (j > 0 && byPerson[j - 1]!.end > call.end) j--;
    byPerson.splice(j, 0, call);
    this.callsByPerson.set(person, byPerson);
    if (log) {
      this.push(call.end, {
        action: 'recording.ingest',
        outcome: 'success',
        actor: { type: 'token', id: this.tokenIds.get(controller), name: `recorder-${controller}` },
        recordingId: call.id,
        controllerId: controller,
        detail: { status: 'stored' },
      });
    }
    return call;
  }

  /** one recording heard: metadata, a purpose stated, the audio in range requests, maybe the transcript */
  hear(
    a: Account,
    call: Call,
    t: number,
    o: { purpose: string; rendition?: 'original' | 'redacted'; view?: boolean; glass?: string; plays?: number; transcript?: boolean } = { purpose: 'patient-follow-up' },
  ): number {
    const under = { recordingId: call.id, controllerId: call.controller, ...(o.glass ? { breakGlassId: o.glass } : {}) };
    if (o.view ?? true) {
      this.push(t, { action: 'recording.view', outcome: 'success', actor: this.actor(a), ...under, detail: { identifiers: 'hidden' } });
      t += this.rnd.between(5, 40) * 1000;
    }
    const accessId = randomUUID();
    const rendition = o.rendition ?? 'redacted';
    this.push(t, { action: 'recording.access', outcome: 'success', actor: this.actor(a), ...under, purpose: o.purpose, detail: { accessId, rendition } });
    const plays = o.plays ?? 1 + this.rnd.int(4);
    let at = 0;
    for (let i = 0; i < plays; i++) {
      t += this.rnd.between(2, 60) * 1000;
      const end = Math.min(3_000_000, at + 200_000 + this.rnd.int(1_000_000));
      this.push(t, {
        action: 'recording.play',
        outcome: 'success',
        actor: this.actor(a),
        ...under,
        purpose: o.purpose,
        detail: { accessId, rendition, range: { start: at, end } },
      });
      at = end;
    }
    if (o.transcript ?? this.rnd.chance(0.3)) {
      t += this.rnd.between(2, 20) * 1000;
      this.push(t, { action: 'recording.transcript', outcome: 'success', actor: this.actor(a), ...under, purpose: o.purpose, detail: { accessId, rendition } });
    }
    return t;
  }

  searchByPhone(a: Account, person: number, found: readonly Call[], t: number, glass?: string): void {
    this.push(t, {
      action: 'recordings.list',
      outcome: 'success',
      actor: this.actor(a),
      ...(glass ? { breakGlassId: glass } : {}),
      detail: {
        phoneHash: this.hash('phone', phoneOf(person)),
        controllers: [this.controllerOf(person)],
        limit: 50,
        results: found.length,
        found: found.slice(0, 100).map((c) => c.id),
      },
    });
  }

  subjectFind(a: Account, person: number, found: readonly Call[], t: number): void {
    this.push(t, {
      action: 'subject.find',
      outcome: 'success',
      actor: this.actor(a),
      detail: {
        personnummerHash: this.hash('personnummer', personnummerOf(person)),
        controllers: [a.controller ?? this.controllerOf(person)],
        results: found.length,
        found: found.slice(0, 100).map((c) => c.id),
      },
    });
  }

  startGlass(a: Account, controller: string, t: number, why = 'caller in acute distress, earlier call with a colleague needed'): string {
    const id = randomUUID();
    this.push(t, {
      action: 'break-glass.start',
      outcome: 'success',
      actor: this.actor(a),
      controllerId: controller,
      breakGlassId: id,
      detail: { reason: why, expiresAt: new Date(t + HOUR).toISOString() },
    });
    return id;
  }

  listOwn(a: Account, t: number, filter: Record<string, unknown> = {}): void {
    this.push(t, {
      action: 'recordings.list',
      outcome: 'success',
      actor: this.actor(a),
      detail: { from: new Date(t - 3 * DAY).toISOString().slice(0, 10), limit: 50, results: 20 + this.rnd.int(30), ...filter },
    });
  }

  // ---- accounts

  makeAccounts(): void {
    const n = this.size.accounts;
    const counts: Record<Role, number> = {
      supervisor: Math.max(3, Math.round(n * 0.1)),
      dpo: Math.max(3, Math.round(n * 0.04)),
      auditor: Math.max(1, Math.round(n * 0.03)),
      admin: Math.max(1, Math.round(n * 0.03)),
      nurse: 0,
    };
    counts.nurse = n - counts.supervisor - counts.dpo - counts.auditor - counts.admin;
    const teamSize = Math.ceil(counts.nurse / counts.supervisor);
    let person = this.people;
    const add = (role: Role, i: number, shift: Shift, extra: Partial<Account>) => {
      const acc: Account = {
        id: randomUUID(),
        username: `${role}.${String(i + 1).padStart(3, '0')}`,
        role,
        shift,
        agent: null,
        team: null,
        controller: null,
        hours: null,
        startDay: 0,
        working: new Set(),
        person: person++,
        ...extra,
      };
      this.accounts.push(acc);
      this.staffCallers.push(acc.person);
    };
    for (let i = 0; i < counts.nurse; i++) {
      const r = this.rnd.next();
      const shift: Shift = r < 0.55 ? 'day' : r < 0.85 ? 'evening' : 'night';
      // fixed-shift nurses have their hours set; rotating ones not (the line runs day and night)
      const fixed = this.rnd.chance(shift === 'day' ? 0.3 : 0.2);
      const newHire = this.rnd.chance(0.08);
      add('nurse', i, shift, {
        agent: `agent-${String(i + 1).padStart(4, '0')}`,
        team: `team-${Math.floor(i / teamSize) + 1}`,
        hours: fixed ? SHIFTS[shift].hours : null,
        startDay: newHire ? 14 + this.rnd.int(Math.max(1, this.days - 28)) : 0,
      });
    }
    for (let i = 0; i < counts.supervisor; i++) add('supervisor', i, 'office', { team: `team-${i + 1}`, hours: i === 0 || this.rnd.chance(0.7) ? SHIFTS.office.hours : null });
    for (let i = 0; i < counts.dpo; i++)
      add('dpo', i, 'dpo-office', { controller: CONTROLLERS[i % CONTROLLERS.length]!, hours: i === 0 || this.rnd.chance(0.6) ? SHIFTS['dpo-office'].hours : null });
    for (let i = 0; i < counts.auditor; i++) add('auditor', i, 'office', {});
    for (let i = 0; i < counts.admin; i++) add('admin', i, 'office', {});
    for (const a of this.accounts) this.schedule(a);
  }

  /** the days an account works: shifts over the whole week for nurses, weekdays for office staff, holidays and sick days */
  private schedule(a: Account): void {
    const holiday = this.rnd.chance(0.35) ? { from: this.rnd.int(this.days), length: 5 + this.rnd.int(10) } : undefined;
    for (let week = 0; week < this.size.weeks; week++) {
      const days = a.shift === 'office' || a.shift === 'dpo-office' ? [0, 1, 2, 3, 4] : this.shuffle([0, 1, 2, 3, 4, 5, 6]).slice(0, 4 + this.rnd.int(2));
      for (const wd of days) {
        const d = week * 7 + wd;
        if (d < a.startDay) continue;
        if (holiday && d >= holiday.from && d < holiday.from + holiday.length) continue;
        if (this.rnd.chance(0.03)) continue;
        a.working.add(d);
      }
    }
  }

  private shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.rnd.int(i + 1);
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  }

  /** the start and end of an account's work on day d, with a little overtime (within the 30 minutes of grace) */
  private window(a: Account, d: number): { from: number; to: number } {
    const s = SHIFTS[a.shift];
    const early = this.rnd.chance(0.2) ? this.rnd.between(0, 15) : 0;
    const late = this.rnd.chance(0.12) ? this.rnd.between(0, 25) : 0;
    return { from: this.z.at(d, s.from - early), to: this.z.at(d, s.to + late) };
  }

  private at(w: { from: number; to: number }): number {
    return this.rnd.between(w.from, w.to);
  }

  // ---- normal work

  setup(): void {
    const t0 = this.z.at(0, 7 * 60);
    const admin = this.accounts.find((a) => a.role === 'admin')!;
    for (const a of this.accounts) {
      const t = a.startDay === 0 ? t0 - DAY + this.rnd.int(HOUR) : this.z.at(a.startDay - 3, 10 * 60);
      this.push(t, {
        action: 'user.create',
        outcome: 'success',
        actor: this.actor(admin),
        detail: { userId: a.id, role: a.role, controllerId: a.controller, processorId: a.controller ? null : PROCESSOR, agent: a.agent, team: a.team, approval: 'pending' },
      });
      this.push(t + MIN, {
        action: 'user.edit',
        outcome: 'success',
        actor: this.actor(admin),
        detail: { userId: a.id, fields: a.hours ? ['personnummer', 'phone', 'hours'] : ['personnummer', 'phone'] },
      });
    }
  }

  /** every account's day d, after the calls of the day exist */
  day(d: number): void {
    const monday = this.weekday(d) === 0 ? 1.25 : 1;
    const weekend = this.weekday(d) >= 5 ? 1.1 : 1;
    const week = Math.floor(d / 7);
    const flu = week === 4 || week === 5 ? 1.3 : 1;
    const nurses = this.accounts.filter((a) => a.role === 'nurse' && a.working.has(d));
    const shifts = new Map<Account, { from: number; to: number }>();
    for (const a of nurses) {
      const w = this.window(a, d);
      shifts.set(a, w);
      this.push(w.from, { action: 'auth.signin', outcome: 'success', actor: this.actor(a), detail: { method: 'password', mfa: 'totp' } });
      const n = Math.max(4, Math.min(45, Math.round(this.rnd.gauss(22, 5) * monday * weekend * flu * (a.shift === 'night' ? 0.55 : 1))));
      const starts = Array.from({ length: n }, () => this.rnd.between(w.from + 5 * MIN, w.to - 15 * MIN)).sort((x, y) => x - y);
      for (const s of starts) this.addCall(a.agent!, this.caller(), s);
    }
    for (const a of nurses) this.nurseWork(a, shifts.get(a)!);
    for (const a of this.accounts) {
      if (a.role === 'nurse' || !a.working.has(d)) continue;
      const w = this.window(a, d);
      this.push(w.from, { action: 'auth.signin', outcome: 'success', actor: this.actor(a), detail: { method: 'password', mfa: 'totp' } });
      if (a.role === 'supervisor') this.supervisorWork(a, d, w);
      else if (a.role === 'dpo') this.dpoWork(a, w, week);
      else if (a.role === 'auditor') this.auditorWork(a, w);
      else this.adminWork(a, w);
    }
  }

  private nurseWork(a: Account, w: { from: number; to: number }): void {
    // replays of their own calls, for follow-up: a few a shift, now and then a batch
    const replays = this.rnd.chance(0.05) ? 5 + this.rnd.int(8) : this.rnd.poisson(1.6);
    for (let i = 0; i < replays; i++) {
      const t = this.at({ from: w.from + HOUR, to: w.to });
      const own = this.before(this.callsByAgent.get(a.agent!), t - 5 * MIN, 40, t - 10 * DAY);
      if (own.length === 0) continue;
      const call = own[Math.floor(own.length * this.rnd.next() ** 2)]!;
      if (this.rnd.chance(0.5)) this.listOwn(a, t - 30_000);
      this.hear(a, call, t, { purpose: this.rnd.chance(0.9) ? 'patient-follow-up' : 'complaint', rendition: this.rnd.chance(0.6) ? 'original' : 'redacted' });
    }
    // a returning caller: found by number among their own calls, heard; or not there
    if (this.rnd.chance(0.18)) {
      const t = this.at({ from: w.from + HOUR, to: w.to });
      const own = this.before(this.callsByAgent.get(a.agent!), t - 5 * MIN, 60, t - 30 * DAY);
      if (own.length > 0) {
        const person = this.rnd.pick(own).person;
        const found = this.before(this.callsByPerson.get(person), t, 100).filter((c) => c.agent === a.agent);
        this.searchByPhone(a, person, found, t);
        this.hear(a, found[0]!, t + this.rnd.between(20, 120) * 1000, { purpose: 'patient-follow-up', rendition: 'original' });
      }
    }
    if (this.rnd.chance(0.04)) {
      // a caller says they called before: not among this nurse's calls, and nothing more needed
      const t = this.at(w);
      this.searchByPhone(a, this.caller(), [], t);
    }
    // a real emergency: the caller's earlier call was with a colleague
    if (this.rnd.chance(0.014)) {
      const t = this.at({ from: w.from + HOUR, to: w.to - 30 * MIN });
      const recent = this.calls.slice(-3000).filter((c) => c.agent !== a.agent && c.end < t - HOUR);
      const person = recent.length ? this.rnd.pick(recent).person : this.caller();
      const theirs = this.before(this.callsByPerson.get(person), t, 5).filter((c) => c.agent !== a.agent);
      this.searchByPhone(a, person, [], t);
      if (theirs.length > 0) {
        const glass = this.startGlass(a, theirs[0]!.controller, t + 40_000);
        this.searchByPhone(a, person, theirs, t + 70_000, glass);
        let at = t + 100_000;
        for (const c of theirs.slice(0, 1 + this.rnd.int(3))) at = this.hear(a, c, at + 20_000, { purpose: 'patient-follow-up', rendition: 'original', glass }) + 10_000;
      }
    }
  }

  private supervisorWork(a: Account, d: number, w: { from: number; to: number }): void {
    const team = this.accounts.filter((n) => n.role === 'nurse' && n.team === a.team);
    const reviews = this.weekday(d) === 0 ? this.rnd.poisson(8) : this.rnd.poisson(5);
    for (let i = 0; i < reviews; i++) {
      const t = this.at(w);
      const agent = this.rnd.pick(team);
      const calls = this.before(this.callsByAgent.get(agent.agent!), t, 200, t - 14 * DAY);
      if (calls.length === 0) continue;
      this.listOwn(a, t - 40_000, { agent: agent.agent });
      this.hear(a, this.rnd.pick(calls), t, { purpose: 'quality-review', plays: 2 + this.rnd.int(5), transcript: this.rnd.chance(0.5) });
    }
    if (this.rnd.chance(0.12)) {
      // a complaint: the caller's number, their calls with the team
      const t = this.at(w);
      const agent = this.rnd.pick(team);
      const calls = this.before(this.callsByAgent.get(agent.agent!), t, 200, t - 30 * DAY);
      if (calls.length > 0) {
        const person = this.rnd.pick(calls).person;
        const found = this.before(this.callsByPerson.get(person), t, 100).filter((c) => team.some((n) => n.agent === c.agent));
        this.searchByPhone(a, person, found, t);
        let at = t + 60_000;
        for (const c of found.slice(0, 3)) at = this.hear(a, c, at, { purpose: 'complaint', plays: 3, transcript: true }) + 30_000;
      }
    }
  }

  private dpoWork(a: Account, w: { from: number; to: number }, week: number): void {
    // subject requests: more in the week after a news story about recorded calls
    const requests = this.rnd.poisson(week === 4 ? 7 : 2.5);
    for (let i = 0; i < requests; i++) {
      const t = this.at({ from: w.from, to: w.to - 20 * MIN });
      const person = this.rnd.chance(0.15) ? this.people + this.accounts.length + 1000 + this.rnd.int(this.people) : Math.floor(this.people * this.rnd.next());
      const found = this.before(this.callsByPerson.get(person), t, 1000).filter((c) => c.controller === a.controller);
      this.subjectFind(a, person, found, t);
      const pHash = this.hash('personnummer', personnummerOf(person));
      const r = this.rnd.next();
      const at = t + this.rnd.between(1, 8) * MIN;
      const controllers = [a.controller];
      if (r < 0.55) {
        const exportId = randomUUID();
        this.push(at, {
          action: 'subject.export',
          outcome: 'success',
          actor: this.actor(a),
          purpose: 'subject-request',
          detail: { personnummerHash: pHash, controllers, exportId, recordings: found.length },
        });
        for (const c of found)
          this.push(at + 100, {
            action: 'recording.export',
            outcome: 'success',
            actor: this.actor(a),
            recordingId: c.id,
            controllerId: c.controller,
            purpose: 'subject-request',
            detail: { rendition: 'original', subjectRequest: true, exportId },
          });
      } else if (r < 0.65 && found.length > 0) {
        const erasureId = randomUUID();
        this.push(at, {
          action: 'subject.erase',
          outcome: 'success',
          actor: this.actor(a),
          purpose: 'subject-request',
          detail: { personnummerHash: pHash, controllers, erasureId, recordings: found.length },
        });
        for (const c of found) {
          c.erased = true;
          this.push(at + 100, {
            action: 'recording.erase',
            outcome: 'success',
            actor: this.actor(a),
            recordingId: c.id,
            controllerId: c.controller,
            detail: { erasureId, subjectRequest: true },
          });
        }
      } else if (r < 0.85) {
        this.push(at, {
          action: 'subject.access-log',
          outcome: 'success',
          actor: this.actor(a),
          detail: { personnummerHash: pHash, controllers, recordings: found.length, accesses: found.length * 2 },
        });
      } else {
        let t2 = at;
        for (const c of found.slice(0, 2)) t2 = this.hear(a, c, t2, { purpose: 'complaint', rendition: 'original', plays: 3, transcript: true }) + MIN;
      }
    }
    // an incident named by a nurse's agent id and a time: listed and heard, no person searched
    if (this.rnd.chance(0.03)) {
      const t = this.at(w);
      const nurse = this.rnd.pick(this.accounts.filter((x) => x.role === 'nurse'));
      const calls = this.before(this.callsByAgent.get(nurse.agent!), t, 20).filter((c) => c.controller === a.controller);
      if (calls.length > 0) {
        this.listOwn(a, t - MIN, { agent: nurse.agent });
        this.hear(a, calls[0]!, t, { purpose: 'incident-investigation', plays: 4, transcript: true });
      }
    }
    if (this.rnd.chance(0.3)) this.push(this.at(w), { action: 'break-glass.list', outcome: 'success', actor: this.actor(a), detail: { results: this.rnd.int(5) } });
    if (this.rnd.chance(0.1)) this.push(this.at(w), { action: 'retention.show', outcome: 'success', actor: this.actor(a), detail: { what: 'policies' } });
  }

  private auditorWork(a: Account, w: { from: number; to: number }): void {
    for (let i = 0, n = 2 + this.rnd.int(7); i < n; i++) {
      this.push(this.at(w), { action: 'audit.read', outcome: 'success', actor: this.actor(a), detail: { what: 'entries', limit: 100, results: 100 } });
    }
    this.push(this.at(w), { action: 'alert.list', outcome: 'success', actor: this.actor(a), detail: { state: 'open', results: this.rnd.int(4) } });
    if (this.rnd.chance(0.3)) this.push(this.at(w), { action: 'audit.read', outcome: 'success', actor: this.actor(a), detail: { what: 'verify' } });
  }

  private adminWork(a: Account, w: { from: number; to: number }): void {
    for (let i = 0, n = 1 + this.rnd.int(3); i < n; i++) this.push(this.at(w), { action: 'user.list', outcome: 'success', actor: this.actor(a), detail: {} });
    if (this.rnd.chance(0.3)) this.push(this.at(w), { action: 'token.list', outcome: 'success', actor: this.actor(a), detail: {} });
  }

  /** the persons a privacy officer marks protected (skyddad identitet or a VIP): one caller in a thousand */
  markProtected(): void {
    const dpo = this.accounts.find((a) => a.role === 'dpo')!;
    const callers = [...this.callsByPerson.keys()].filter((p) => p < this.people);
    const n = Math.max(3, Math.round(this.people / 1000));
    for (let i = 0; i < n; i++) {
      const p = this.rnd.pick(callers);
      if (this.protectedPersons.has(p)) continue;
      this.protectedPersons.add(p);
      this.push(this.z.at(0, 6 * 60) - DAY + i * 1000, {
        action: 'subject.protect',
        outcome: 'success',
        actor: this.actor(dpo),
        detail: { protectedId: randomUUID(), personnummerHash: this.hash('personnummer', personnummerOf(p)), controllers: CONTROLLERS },
      });
    }
  }

  /** canary calls: planted by a privacy officer, handled by a plausible agent nobody has now */
  plantCanaries(n: number): void {
    const dpo = this.accounts.find((a) => a.role === 'dpo')!;
    for (let i = 0; i < n; i++) {
      const person = this.people + this.accounts.length + 5_000_000 + i;
      const day = this.rnd.int(Math.max(1, this.days - 14));
      const call = this.addCall(`agent-${String(9000 + i)}`, person, this.z.at(day, 9 * 60 + this.rnd.int(8 * 60)), this.rnd.pick(CONTROLLERS), false);
      this.canaries.push(call);
    }
    for (const c of CONTROLLERS) {
      this.push(this.z.at(0, 6 * 60) - DAY + 5000, {
        action: 'canary.add',
        outcome: 'success',
        actor: this.actor(dpo),
        controllerId: c,
        detail: { count: this.canaries.filter((x) => x.controller === c).length },
      });
    }
  }

  // ---- planted misuse

  private label(kind: RuleName, a: Account, from: number, to: number, what: string): void {
    this.planted.push({ kind, account: a.id, username: a.username, role: a.role, from, to, what });
  }

  /** a working day of weeks 2 onwards, and a time within the account's hours that day */
  private plantTime(a: Account, afterHours = false): { d: number; t: number } {
    const days = [...a.working].filter((d) => d >= 7 && d < this.days - 1);
    const d = days.length ? this.rnd.pick(days) : 7 + this.rnd.int(this.days - 8);
    if (afterHours) {
      const s = SHIFTS[a.shift];
      // two to four hours past the end of the working day
      return { d, t: this.z.at(d, s.to + 120 + this.rnd.int(120)) };
    }
    const w = this.window(a, d);
    return { d, t: this.rnd.between(w.from + HOUR, w.to - 2 * HOUR) };
  }

  private some(role: Role, n: number, filter: (a: Account) => boolean = () => true): Account[] {
    const all = this.shuffle(this.accounts.filter((a) => a.role === role && filter(a)));
    return Array.from({ length: n }, (_, i) => all[i % all.length]!);
  }

  private controllerCalls(controller: string, t: number, n: number): Call[] {
    const out: Call[] = [];
    for (let i = this.calls.length - 1; i >= 0 && out.length < n * 4; i--) {
      const c = this.calls[i]!;
      if (c.controller === controller && c.end < t && !c.erased && !this.canaries.includes(c)) out.push(c);
    }
    return this.shuffle(out).slice(0, n);
  }

  plant(perKind: number): void {
    const rotate = <T>(xs: T[], i: number) => xs[i % xs.length]!;
    // canary: a privacy officer's browsing, or a nurse's or supervisor's break-the-glass
    for (let i = 0; i < perKind; i++) {
      const canary = rotate(this.canaries, i);
      const a = rotate([...this.some('dpo', 1, (x) => x.controller === canary.controller), ...this.some('nurse', 1), ...this.some('supervisor', 1)], i);
      const { t } = this.plantTime(a);
      let end = t;
      if (a.role === 'dpo') {
        this.listOwn(a, t - MIN, { region: this.rnd.pick(AREAS) });
        this.push(t, {
          action: 'recording.view',
          outcome: 'success',
          actor: this.actor(a),
          recordingId: canary.id,
          controllerId: canary.controller,
          detail: { identifiers: 'hidden' },
        });
        if (i % 2) end = this.hear(a, canary, t + MIN, { purpose: 'complaint', rendition: 'original', view: false });
      } else {
        const glass = this.startGlass(a, canary.controller, t - 2 * MIN, 'caller says a previous call was mishandled');
        this.listOwn(a, t - MIN, { region: this.rnd.pick(AREAS) });
        end = this.hear(a, canary, t, { purpose: 'patient-follow-up', glass });
      }
      this.label('canary', a, t - 2 * MIN, end + 5 * MIN, `${a.role} reached a canary`);
    }
    // protected person: a privacy officer without a request, the supervisor of the team that took the call, a nurse under break-the-glass
    const protectedCalls = [...this.protectedPersons].flatMap((p) => this.callsByPerson.get(p) ?? []).filter((c) => !c.erased);
    for (let i = 0; i < perKind; i++) {
      const call = rotate(protectedCalls, i);
      const handler = this.accounts.find((x) => x.agent === call.agent);
      const kind = i % 3;
      const a =
        kind === 0
          ? this.some('dpo', 1, (x) => x.controller === call.controller)[0]!
          : kind === 1
            ? (this.accounts.find((x) => x.role === 'supervisor' && x.team === handler?.team) ?? this.some('supervisor', 1)[0]!)
            : this.some('nurse', 1, (x) => x.agent !== call.agent)[0]!;
      const t = Math.max(call.end + HOUR, this.plantTime(a).t);
      const glass = kind === 2 ? this.startGlass(a, call.controller, t - MIN) : undefined;
      const end = this.hear(a, call, t, { purpose: kind === 1 ? 'quality-review' : 'complaint', glass });
      this.label('protected-person', a, t - MIN, end + 5 * MIN, `${a.role} heard a protected person's call`);
    }
    // self or colleague: a nurse hears her own call (taken by a colleague), a supervisor a colleague's call in the team, a privacy officer a colleague's
    for (let i = 0; i < perKind; i++) {
      const kind = i % 3;
      const a = kind === 0 ? this.some('nurse', 1)[0]! : kind === 1 ? this.some('supervisor', 1)[0]! : this.some('dpo', 1)[0]!;
      const { t } = this.plantTime(a);
      const team = this.accounts.filter((x) => x.role === 'nurse' && x.team === (a.team ?? 'team-1'));
      const staff = kind === 0 ? a : this.rnd.pick(this.accounts.filter((x) => x !== a));
      const handler = kind === 1 ? this.rnd.pick(team) : this.rnd.pick(this.accounts.filter((x) => x.role === 'nurse' && x !== a));
      const controller = kind === 2 ? a.controller! : this.controllerOf(staff.person);
      const existing = this.before(this.callsByPerson.get(staff.person), t - DAY, 10).find((c) => c.agent === handler.agent && c.controller === controller);
      const call = existing ?? this.addCall(handler.agent!, staff.person, t - this.rnd.between(2, 10) * DAY, controller);
      const glass = kind === 0 ? this.startGlass(a, call.controller, t - MIN) : undefined;
      const end = this.hear(a, call, t, { purpose: kind === 1 ? 'quality-review' : 'patient-follow-up', glass });
      this.label('self-or-colleague', a, t - MIN, end + 5 * MIN, `${a.role} heard ${kind === 0 ? 'her own call' : "a colleague's call"}`);
    }
    // volume: 40 calls in 20 minutes (a nurse under break-the-glass, a privacy officer), 45 team
    // calls in 25 minutes (a supervisor); every other account does it again 6-12 days later
    for (let i = 0; i < perKind; i++) {
      const kind = i % 3;
      const a = kind === 0 ? this.some('nurse', 1)[0]! : kind === 1 ? this.some('dpo', 1)[0]! : this.some('supervisor', 1)[0]!;
      const first = this.plantTime(a).t;
      const again = first + (6 + this.rnd.int(7)) * DAY;
      for (const t of i % 2 === 0 && again < this.z.at(this.days, 0) ? [first, again] : [first]) {
        const n = kind === 2 ? 45 : 40;
        const span = kind === 2 ? 25 * MIN : 20 * MIN;
        let calls: Call[];
        if (kind === 2) {
          const team = this.accounts.filter((x) => x.role === 'nurse' && x.team === a.team);
          calls = this.shuffle(team.flatMap((x) => this.before(this.callsByAgent.get(x.agent!), t, 30, t - 14 * DAY))).slice(0, n);
        } else calls = this.controllerCalls(a.controller ?? this.rnd.pick(CONTROLLERS), t, n);
        const glass = kind === 0 ? this.startGlass(a, calls[0]!.controller, t - MIN) : undefined;
        for (const [j, c] of calls.entries()) this.hear(a, c, t + (j * span) / n, { purpose: kind === 2 ? 'quality-review' : 'complaint', glass, plays: 1, transcript: false });
        const repeat = t === first ? '' : `, again ${Math.round((t - first) / DAY)} days after the first`;
        this.label('volume', a, t - MIN, t + span + 5 * MIN, `${a.role} heard ${calls.length} calls in ${span / MIN} minutes${repeat}`);
      }
    }
    // subject search: a spree of 25 persons (privacy officer), 14 numbers (nurse), or four look-ups followed by nothing
    for (let i = 0; i < perKind; i++) {
      const kind = i % 3;
      const a = kind === 1 ? this.some('nurse', 1)[0]! : this.some('dpo', 1)[0]!;
      const { t } = this.plantTime(a);
      const n = kind === 0 ? 25 : kind === 1 ? 14 : 4;
      const span = kind === 2 ? 50 * MIN : 2 * HOUR;
      for (let j = 0; j < n; j++) {
        const person = Math.floor(this.people * this.rnd.next());
        const at = t + (j * span) / n;
        const found = this.before(this.callsByPerson.get(person), at, 100).filter((c) => (a.role === 'dpo' ? c.controller === a.controller : c.agent === a.agent));
        if (a.role === 'dpo') this.subjectFind(a, person, found, at);
        else this.searchByPhone(a, person, found, at);
      }
      this.label('subject-search', a, t - MIN, t + span + 40 * MIN, kind === 2 ? `${a.role} looked up 4 persons and heard nothing` : `${a.role} searched for ${n} persons`);
    }
    // unexplained: a privacy officer hears calls without a request; a supervisor another team's calls
    for (let i = 0; i < perKind; i++) {
      const a = i % 2 === 0 ? this.some('dpo', 1)[0]! : this.some('supervisor', 1)[0]!;
      const { t } = this.plantTime(a);
      let calls: Call[];
      if (a.role === 'dpo') calls = this.controllerCalls(a.controller!, t, 3);
      else {
        const other = this.rnd.pick(this.accounts.filter((x) => x.role === 'nurse' && x.team !== a.team));
        calls = this.before(this.callsByAgent.get(other.agent!), t, 3, t - 14 * DAY);
      }
      let at = t;
      for (const c of calls) at = this.hear(a, c, at, { purpose: a.role === 'dpo' ? 'complaint' : 'quality-review' }) + 2 * MIN;
      this.label('unexplained', a, t - MIN, at + 5 * MIN, `${a.role} heard ${calls.length} calls nothing explains`);
    }
    // after hours: accounts with hours set, at home in the evening
    for (let i = 0; i < perKind; i++) {
      const role: Role = rotate(['supervisor', 'nurse', 'dpo'] as Role[], i);
      const a = this.some(role, 1, (x) => x.hours !== null && x.shift !== 'night')[0] ?? this.some('supervisor', 1, (x) => x.hours !== null)[0]!;
      const { t } = this.plantTime(a, true);
      let calls: Call[];
      if (a.role === 'nurse') calls = this.before(this.callsByAgent.get(a.agent!), t, 3);
      else if (a.role === 'supervisor') {
        const team = this.accounts.filter((x) => x.role === 'nurse' && x.team === a.team);
        calls = team.flatMap((x) => this.before(this.callsByAgent.get(x.agent!), t, 1)).slice(0, 3);
      } else {
        const person = this.rnd.pick(this.calls.filter((c) => c.controller === a.controller && c.end < t - DAY)).person;
        calls = this.before(this.callsByPerson.get(person), t, 2).filter((c) => c.controller === a.controller);
        this.subjectFind(a, person, calls, t - 2 * MIN);
      }
      let at = t;
      for (const c of calls) at = this.hear(a, c, at, { purpose: a.role === 'supervisor' ? 'quality-review' : 'patient-follow-up' }) + MIN;
      this.label('after-hours', a, t - 3 * MIN, at + 5 * MIN, `${a.role} (hours ${a.hours}) heard ${calls.length} calls late in the evening`);
    }
    // break-the-glass: started 5 times in 5 days, or one period used for 22 calls
    for (let i = 0; i < perKind; i++) {
      const a = this.some('nurse', 1)[0]!;
      const { d } = this.plantTime(a);
      if (i % 2 === 0) {
        const first = this.z.at(Math.min(d, this.days - 6), 10 * 60);
        let last = first;
        for (let k = 0; k < 5; k++) {
          const t = first + k * DAY + this.rnd.int(4 * HOUR);
          const [call] = this.controllerCalls(this.rnd.pick(CONTROLLERS), t, 1);
          const glass = this.startGlass(a, call!.controller, t);
          this.searchByPhone(a, call!.person, [call!], t + MIN, glass);
          last = this.hear(a, call!, t + 2 * MIN, { purpose: 'patient-follow-up', glass });
        }
        // the rule counts starts over 7 days: a start in the week after the spree counts the spree's
        this.label('break-glass', a, first - MIN, last + 7 * DAY, 'a nurse broke the glass 5 times in 5 days');
      } else {
        const t = this.z.at(d, 11 * 60);
        const calls = this.controllerCalls(this.rnd.pick(CONTROLLERS), t, 22);
        const glass = this.startGlass(a, calls[0]!.controller, t);
        let at = t + MIN;
        for (const c of calls) at = this.hear(a, c, at, { purpose: 'patient-follow-up', glass, plays: 1, transcript: false }) + 30_000;
        this.label('break-glass', a, t - MIN, at + 5 * MIN, 'a nurse heard 22 calls under one break-the-glass period');
      }
    }
    // export spree: a privacy officer exports 30 calls; a nurse opens the original of 30 of her calls in a day
    for (let i = 0; i < perKind; i++) {
      const a = i % 2 === 0 ? this.some('dpo', 1)[0]! : this.some('nurse', 1)[0]!;
      const { t } = this.plantTime(a);
      const calls = a.role === 'dpo' ? this.controllerCalls(a.controller!, t, 30) : this.before(this.callsByAgent.get(a.agent!), t, 30);
      let at = t;
      for (const c of calls) {
        if (a.role === 'dpo') {
          this.push(at, {
            action: 'recording.export',
            outcome: 'success',
            actor: this.actor(a),
            recordingId: c.id,
            controllerId: c.controller,
            purpose: 'legal-request',
            detail: { rendition: 'original' },
          });
          at += this.rnd.between(1, 5) * MIN;
        } else at = this.hear(a, c, at, { purpose: 'patient-follow-up', rendition: 'original', plays: 1, transcript: false }) + this.rnd.between(1, 8) * MIN;
      }
      this.label('export-volume', a, t - MIN, at + 5 * MIN, `${a.role} took the original of ${calls.length} calls`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// writing it

async function writeWorld(vault: Vault, sim: Simulator, log: (l: string) => void): Promise<{ entries: number; seconds: number }> {
  const db = vault.database.db;
  const now = new Date().toISOString();
  for (const c of CONTROLLERS.slice(1)) await vault.controllers.add({ id: c, name: `Region ${c.slice(-2)}`, created_at: now });
  await db.insertInto('processors').values({ id: PROCESSOR, name: 'Advice line AB', created_at: now }).execute();
  await db
    .insertInto('users')
    .values(
      sim.accounts.map((a) => ({
        id: a.id,
        username: a.username,
        role: a.role,
        controller_id: a.controller,
        processor_id: a.controller || a.role === 'auditor' || a.role === 'admin' ? null : PROCESSOR,
        password_hash: 'bench: never signs in',
        totp_secret_sealed: 'bench',
        created_at: now,
        agent: a.agent,
        team: a.team,
        work_hours: a.hours,
        approval: 'approved' as const,
      })),
    )
    .execute();
  const index = new Map(CONTROLLERS.map((c) => [c, blindIndexFor(vault, c)]));
  const digests = new Map<string, [string, string]>();
  const digestOf = (c: string, p: number): [string, string] => {
    const k = `${c}|${p}`;
    let d = digests.get(k);
    if (!d) {
      const ix = index.get(c)!;
      d = [ix.digest('personnummer', personnummerOf(p)), ix.digest('phone', phoneOf(p))];
      digests.set(k, d);
    }
    return d;
  };
  const staffRows = sim.accounts.flatMap((a) =>
    CONTROLLERS.flatMap((c) => {
      const [pnr, phone] = digestOf(c, a.person);
      return [
        { user_id: a.id, controller_id: c, kind: 'personnummer', digest: pnr },
        { user_id: a.id, controller_id: c, kind: 'phone', digest: phone },
      ];
    }),
  );
  for (let i = 0; i < staffRows.length; i += 1000)
    await db
      .insertInto('staff_identifiers')
      .values(staffRows.slice(i, i + 1000))
      .execute();
  for (const p of sim.protectedPersons) {
    const id = randomUUID();
    await db.insertInto('protected_subjects').values({ id, reason: 'skyddad identitet', created_by: 'bench', created_at: now, released_at: null, released_by: null }).execute();
    await db
      .insertInto('protected_digests')
      .values(
        CONTROLLERS.flatMap((c) => {
          const [pnr, phone] = digestOf(c, p);
          return [
            { protected_id: id, controller_id: c, kind: 'personnummer', digest: pnr },
            { protected_id: id, controller_id: c, kind: 'phone', digest: phone },
          ];
        }),
      )
      .execute();
  }
  const canaryKey = vault.keys.derivedSecret('canaries');
  for (const c of sim.canaries) {
    const id = randomUUID();
    const sealed = seal(canaryKey, Buffer.from(JSON.stringify({ recordingId: c.id, controllerId: c.controller }), 'utf8'), Buffer.from(id, 'utf8'));
    await db
      .insertInto('canaries')
      .values({ id, sealed: sealed.toString('base64'), created_at: now })
      .execute();
  }
  // the calls, in batches, with their caller digests
  let t = nowSeconds();
  for (let i = 0; i < sim.calls.length; i += 5000) {
    const rows: NewRecording[] = [];
    const ids: { recording_id: string; kind: 'personnummer' | 'phone'; digest: string }[] = [];
    for (const c of sim.calls.slice(i, i + 5000)) {
      const started = new Date(c.start).toISOString();
      rows.push({
        id: c.id,
        controller_id: c.controller,
        writer: null,
        blob_key: `recordings/${c.id.slice(0, 2)}/${c.id}.cvr`,
        key_id: `key-${c.controller}`,
        wrapped_key: 'bench',
        ciphertext_size: 3_600_000,
        ciphertext_sha256: c.id,
        content_sha256: c.id,
        plaintext_size: 3_599_000,
        format: 'wav',
        codec: 'pcm_mulaw',
        sample_rate: 8000,
        channels: 1,
        duration_ms: c.end - c.start,
        agent: c.agent,
        region: AREAS[c.person % AREAS.length]!,
        direction: 'inbound',
        started_at: started,
        sealed_metadata: 'bench',
        imported_at: new Date(c.end).toISOString(),
      });
      const [pnr, phone] = digestOf(c.controller, c.person);
      ids.push({ recording_id: c.id, kind: 'personnummer', digest: pnr }, { recording_id: c.id, kind: 'phone', digest: phone });
    }
    await vault.recordings.loadStored(rows, ids);
  }
  log(`${sim.calls.length} calls loaded in ${(nowSeconds() - t).toFixed(1)} s`);
  // the log, in time order, each entry appended with its time; fsync is skipped while filling
  sim.events.sort((a, b) => a.time - b.time);
  vault.database.sqlite?.pragma('synchronous = OFF');
  t = nowSeconds();
  let n = 0;
  for (const e of sim.events) {
    await vault.audit.append(e.event, new Date(e.time));
    if (++n % 100_000 === 0) log(`${n} of ${sim.events.length} entries appended (${(nowSeconds() - t).toFixed(0)} s)`);
  }
  vault.database.sqlite?.pragma('synchronous = FULL');
  return { entries: n, seconds: nowSeconds() - t };
}

// ---------------------------------------------------------------------------------------------
// evaluating it

export interface RuleFigures {
  rule: RuleName;
  planted: number;
  detected: number;
  recall: number;
  /** alerts on normal activity */
  falseAlerts: number;
  falsePer50AccountWeeks: number;
  /** alerts of this rule on a planted case of another kind */
  sideAlerts: number;
}

interface JoinedAlert {
  rule: RuleName;
  account: string;
  username: string;
  times: number[];
  evidence: string;
}

export interface InsidersReport {
  size: InsidersSize;
  accounts: Record<string, number>;
  recordings: number;
  entries: number;
  fillSeconds: number;
  planted: PlantedCase[];
  rules: RuleFigures[];
  falseAlerts: number;
  falsePer50AccountWeeks: number;
  /** the false alerts, in words (who, rule, evidence) */
  falseExamples: string[];
  missed: string[];
  evaluateSeconds: number;
  readSeconds: number;
  /** entries/s of reading and evaluating the whole log */
  evaluateRate: number;
  accessEntries: number;
  appendRate: number;
  throughputRatio: number;
  delays: { canaryMs: number[]; volumeMs: number[] };
}

function joinFindings(findings: readonly Finding[]): JoinedAlert[] {
  const alerts = new Map<string, JoinedAlert>();
  for (const f of findings) {
    const a = alerts.get(f.dedupKey) ?? { rule: f.rule, account: f.account, username: f.username, times: [], evidence: f.evidence };
    a.times.push(f.time.getTime());
    alerts.set(f.dedupKey, a);
  }
  return [...alerts.values()];
}

function score(size: InsidersSize, planted: readonly PlantedCase[], alerts: readonly JoinedAlert[]) {
  const inCase = (a: JoinedAlert, c: PlantedCase) => a.account === c.account && a.times.some((t) => t >= c.from && t <= c.to);
  const missed: string[] = [];
  const rules: RuleFigures[] = RULES.map((rule) => {
    const cases = planted.filter((c) => c.kind === rule);
    const detected = cases.filter((c) => alerts.some((a) => a.rule === rule && inCase(a, c)));
    for (const c of cases) if (!detected.includes(c)) missed.push(`${rule}: ${c.username} ${new Date(c.from).toISOString()} (${c.what})`);
    const ofRule = alerts.filter((a) => a.rule === rule);
    const onPlanted = ofRule.filter((a) => planted.some((c) => inCase(a, c)));
    const falseAlerts = ofRule.length - onPlanted.length;
    return {
      rule,
      planted: cases.length,
      detected: detected.length,
      recall: cases.length ? detected.length / cases.length : Number.NaN,
      falseAlerts,
      falsePer50AccountWeeks: falseAlerts / ((size.accounts / 50) * size.weeks),
      sideAlerts: onPlanted.filter((a) => !planted.some((c) => c.kind === rule && inCase(a, c))).length,
    };
  });
  const falseExamples = alerts.filter((a) => !planted.some((c) => inCase(a, c))).map((a) => `${a.rule}: ${a.username} ${new Date(a.times[0]!).toISOString()}: ${a.evidence}`);
  return { rules, missed, falseExamples };
}

async function appendRate(dir: string, n: number): Promise<number> {
  const vault = await Vault.create(dir, { passphrase: BENCH_PASSPHRASE, controllerId: 'region-01', controllerName: 'Region 01', kdf: KDF });
  try {
    const event = {
      action: 'recording.play',
      outcome: 'success',
      actor: { type: 'user', id: randomUUID(), name: 'nurse.001', role: 'nurse' },
      recordingId: randomUUID(),
      controllerId: 'region-01',
      purpose: 'patient-follow-up',
      detail: { accessId: randomUUID(), rendition: 'redacted', range: { start: 28275734, end: 29324310 } },
    } as unknown as AuditEvent;
    for (let i = 0; i < 50; i++) await vault.audit.append(event);
    const t = nowSeconds();
    for (let i = 0; i < n; i++) await vault.audit.append(event);
    return n / (nowSeconds() - t);
  } finally {
    await vault.close();
  }
}

/** the detector as `serve` runs it, on the simulated vault: how long from an access to its alert row */
async function liveDelays(vault: Vault, sim: Simulator, rounds: number, log: (l: string) => void): Promise<{ canaryMs: number[]; volumeMs: number[] }> {
  const services = createServices(vault);
  const runner = new DetectorRunner(vault, services.alerts, services.alertSources, { timeZone: vault.timeZone, outputs: [], warn: (m) => log(`runner: ${m}`) });
  const db = vault.database.db;
  const t0 = nowSeconds();
  runner.start();
  // its first pass reads the last 28 days muted before it evaluates anything new
  for (;;) {
    await runner.idle();
    const row = await db.selectFrom('detector_state').select('position').where('name', '=', 'detector').executeTakeFirst();
    if (row && Number(row.position) >= (await vault.audit.size())) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  log(`live: the runner warmed up in ${(nowSeconds() - t0).toFixed(1)} s`);
  const appendedAt = new Map<number, number>();
  const append = async (event: Record<string, unknown>) => {
    const t = nowSeconds();
    const position = await vault.audit.append(event as unknown as AuditEvent);
    appendedAt.set(position, t);
  };
  const waitFor = async (rule: string, userId: string): Promise<number> => {
    const until = nowSeconds() + 30;
    for (;;) {
      const row = await db.selectFrom('alerts').select('entries').where('rule', '=', rule).where('user_id', '=', userId).executeTakeFirst();
      if (row) {
        const seen = nowSeconds();
        const first = Math.min(...(JSON.parse(row.entries) as number[]));
        return (seen - appendedAt.get(first)!) * 1000;
      }
      if (nowSeconds() > until) throw new Error(`live: no ${rule} alert for ${userId} within 30 s`);
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  const canaryMs: number[] = [];
  const volumeMs: number[] = [];
  // accounts with no planted case: a planted burst in an account's own history raises its own usual day
  const nurses = sim.accounts.filter((a) => a.role === 'nurse' && !sim.planted.some((c) => c.account === a.id));
  try {
    for (let r = 0; r < rounds; r++) {
      const a = nurses[r % nurses.length]!;
      const canary = sim.canaries[r % sim.canaries.length]!;
      const actor = { type: 'user', id: a.id, name: a.username, role: a.role };
      await append({ action: 'recording.view', outcome: 'success', actor, recordingId: canary.id, controllerId: canary.controller, detail: { identifiers: 'hidden' } });
      canaryMs.push(await waitFor('canary', a.id));
    }
    for (let r = 0; r < rounds; r++) {
      const a = nurses[(nurses.length - 1 - r) % nurses.length]!;
      const actor = { type: 'user', id: a.id, name: a.username, role: a.role };
      const calls = sim.calls.filter((c) => c.controller === CONTROLLERS[r % CONTROLLERS.length] && !c.erased && !sim.canaries.includes(c)).slice(-40);
      const glass = randomUUID();
      await append({
        action: 'break-glass.start',
        outcome: 'success',
        actor,
        controllerId: calls[0]!.controller,
        breakGlassId: glass,
        detail: { reason: 'bench: a burst', expiresAt: new Date(Date.now() + HOUR).toISOString() },
      });
      // as the routes append them: each one awaited before the next request
      for (const c of calls) {
        const accessId = randomUUID();
        const under = { recordingId: c.id, controllerId: c.controller, breakGlassId: glass };
        await append({ action: 'recording.view', outcome: 'success', actor, ...under, detail: { identifiers: 'hidden' } });
        await append({ action: 'recording.access', outcome: 'success', actor, ...under, purpose: 'complaint', detail: { accessId, rendition: 'redacted' } });
      }
      volumeMs.push(await waitFor('volume', a.id));
    }
  } finally {
    await runner.stop();
  }
  return { canaryMs, volumeMs };
}

/** the whole benchmark at `size`, in `dir` (made and left for the caller to remove) */
export async function benchInsiders(dir: string, size: InsidersSize, log: (l: string) => void): Promise<InsidersReport> {
  const vault = await Vault.create(join(dir, 'vault'), { passphrase: BENCH_PASSPHRASE, controllerId: CONTROLLERS[0]!, controllerName: 'Region 01', kdf: KDF });
  try {
    // the simulated weeks end a week before now, on a Monday: the live part's entries come after
    const first = new Date(Date.now() - (size.weeks * 7 + 7) * DAY);
    const back = (first.getUTCDay() + 6) % 7;
    const z = zone(vault.timeZone, first.getUTCFullYear(), first.getUTCMonth(), first.getUTCDate() - back);
    const sim = new Simulator(size, z, (kind, value) => vault.audit.identifierHash(kind, value));
    sim.makeAccounts();
    sim.setup();
    for (let d = 0; d < sim.days; d++) sim.day(d);
    sim.markProtected();
    sim.plantCanaries(Math.max(3, Math.round(size.accounts / 40)));
    sim.plant(Math.max(2, Math.round((10 * size.accounts) / 200)));
    log(`simulated ${sim.accounts.length} accounts over ${size.weeks} weeks: ${sim.calls.length} calls, ${sim.events.length} entries, ${sim.planted.length} planted cases`);
    const fill = await writeWorld(vault, sim, log);
    log(`${fill.entries} entries appended in ${fill.seconds.toFixed(1)} s (${fmt(fill.entries / fill.seconds, 0)}/s, fsync off)`);

    // the rules over the whole log, as the runner reads it
    const sources = createServices(vault).alertSources;
    const detector = new Detector(sources, vault.timeZone);
    const total = await vault.audit.size();
    const findings: Finding[] = [];
    let readSeconds = 0;
    let evaluateSeconds = 0;
    let accessEntries = 0;
    for (let at = 0; at < total; at += BATCH) {
      let t = nowSeconds();
      const batch = (await vault.audit.entries(at, Math.min(total, at + BATCH))).map(readEntry);
      readSeconds += nowSeconds() - t;
      accessEntries += batch.filter((e) => e.action.startsWith('recording.') && e.actor.type === 'user').length;
      t = nowSeconds();
      findings.push(...(await detector.evaluate(batch)));
      evaluateSeconds += nowSeconds() - t;
    }
    findings.push(...(await detector.expire(new Date(sim.events.at(-1)!.time + DAY))));
    const evaluateRate = total / (readSeconds + evaluateSeconds);
    log(
      `evaluated ${total} entries in ${(readSeconds + evaluateSeconds).toFixed(1)} s (read ${readSeconds.toFixed(1)} s): ${fmt(evaluateRate, 0)} entries/s; ${findings.length} findings`,
    );
    const alerts = joinFindings(findings);
    const { rules, missed, falseExamples } = score(size, sim.planted, alerts);
    const falseAlerts = rules.reduce((s, r) => s + r.falseAlerts, 0);

    const rate = await appendRate(join(dir, 'append'), size.appends);
    log(`append rate ${fmt(rate, 0)} entries/s (durable, sequential)`);
    const delays = await liveDelays(vault, sim, size.liveRounds, log);
    const accounts: Record<string, number> = {};
    for (const a of sim.accounts) accounts[a.role] = (accounts[a.role] ?? 0) + 1;
    return {
      size,
      accounts,
      recordings: sim.calls.length,
      entries: total,
      fillSeconds: fill.seconds,
      planted: sim.planted,
      rules,
      falseAlerts,
      falsePer50AccountWeeks: falseAlerts / ((size.accounts / 50) * size.weeks),
      falseExamples,
      missed,
      evaluateSeconds,
      readSeconds,
      evaluateRate,
      accessEntries,
      appendRate: rate,
      throughputRatio: evaluateRate / rate,
      delays,
    };
  } finally {
    await vault.close();
  }
}

export const insidersBenchmark: Benchmark = {
  name: 'insiders',
  description:
    'the insider-misuse rules on 8 simulated weeks of 200 accounts with planted misuse of every kind: recall, false alerts per 50 accounts a week, evaluation vs append rate, delay to an alert in a live server',
  async run(options: BenchOptions): Promise<BenchResult> {
    const size = sizeFromEnv();
    const scratch = await makeScratch('insiders', options.keep);
    try {
      const r = await benchInsiders(scratch.dir, size, options.log);
      const result: BenchResult = { name: 'insiders', rows: [], ratios: [], notes: [] };
      result.rows.push({
        label: 'simulated log',
        value: r.entries,
        unit: 'entries',
        note: `${size.accounts} accounts (${Object.entries(r.accounts)
          .map(([k, v]) => `${v} ${k}`)
          .join(', ')}), ${size.weeks} weeks, ${r.recordings} calls, ${r.accessEntries} entries of users reaching recordings, filled in ${fmt(r.fillSeconds)} s`,
      });
      for (const f of r.rules) {
        result.rows.push({
          label: `${f.rule}: recall`,
          value: f.recall,
          unit: 'ratio',
          note: `${f.detected} of ${f.planted} planted cases; ${f.sideAlerts} alerts on other kinds' cases`,
        });
        result.rows.push({ label: `${f.rule}: false alerts / 50 accounts / week`, value: f.falsePer50AccountWeeks, unit: 'alerts', note: `${f.falseAlerts} on normal activity` });
        result.ratios.push({ label: `${f.rule}: recall`, ratio: f.recall, comparator: '>=', target: RECALL_TARGET, pass: f.recall >= RECALL_TARGET });
      }
      result.rows.push({
        label: 'all rules: false alerts / 50 accounts / week',
        value: r.falsePer50AccountWeeks,
        unit: 'alerts',
        note: `${r.falseAlerts} alerts on normal activity`,
      });
      result.ratios.push({
        label: 'false alerts per 50 accounts per week (all rules) / 1',
        ratio: r.falsePer50AccountWeeks / FALSE_TARGET,
        comparator: '<',
        target: 1,
        pass: r.falsePer50AccountWeeks <= FALSE_TARGET,
      });
      result.rows.push({
        label: 'read + evaluate the whole log',
        value: r.evaluateRate,
        unit: 'entries/s',
        note: `${fmt(r.readSeconds + r.evaluateSeconds, 2)} s, of which reading ${fmt(r.readSeconds, 2)} s`,
      });
      result.rows.push({ label: 'vault.audit.append, durable, sequential', value: r.appendRate, unit: 'entries/s', note: `${size.appends} appends on a fresh vault` });
      result.ratios.push({
        label: 'evaluation / append rate',
        ratio: r.throughputRatio,
        comparator: '>=',
        target: THROUGHPUT_TARGET,
        pass: r.throughputRatio >= THROUGHPUT_TARGET,
      });
      const canary = Math.max(...r.delays.canaryMs);
      const volume = Math.max(...r.delays.volumeMs);
      result.rows.push({
        label: 'live: canary view → alert row, max',
        value: canary,
        unit: 'ms',
        samples: r.delays.canaryMs,
        note: `median ${fmt(median(r.delays.canaryMs), 1)} ms`,
      });
      result.rows.push({
        label: 'live: 40-call burst → volume alert row, max',
        value: volume,
        unit: 'ms',
        samples: r.delays.volumeMs,
        note: `median ${fmt(median(r.delays.volumeMs), 1)} ms`,
      });
      result.ratios.push({ label: `canary delay / ${CANARY_DELAY_MS} ms`, ratio: canary / CANARY_DELAY_MS, comparator: '<', target: 1, pass: canary < CANARY_DELAY_MS });
      result.ratios.push({ label: `volume delay / ${OTHER_DELAY_MS} ms`, ratio: volume / OTHER_DELAY_MS, comparator: '<', target: 1, pass: volume < OTHER_DELAY_MS });
      for (const m of r.missed) result.notes.push(`missed ${m}`);
      for (const e of r.falseExamples.slice(0, 40)) result.notes.push(`false ${e}`);
      if (r.falseExamples.length > 40) result.notes.push(`… and ${r.falseExamples.length - 40} more false alerts`);
      if (size.accounts !== 200 || size.weeks !== 8) result.notes.push(`run at ${size.accounts} accounts and ${size.weeks} weeks, not the 200 and 8 of the target`);
      return result;
    } finally {
      await scratch.cleanup();
    }
  },
};
