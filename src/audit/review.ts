/**
 * The documented log review (loggkontroll, HSLF-FS 2016:40 4 kap. 9 §; docs/alerts.md, "Log
 * review"): a month's accesses to recordings read from the audit log, a reproducible sample of
 * them drawn for a person to check, and what that person found.
 *
 * The unit is one access: every successful `recording.view|access|play|transcript|waveform|
 * identifiers|export` entry of one account on one recording on one calendar day in the
 * installation's time zone (Europe/Stockholm unless CALLVAULT_TIME_ZONE says otherwise). Opening a call, stating a purpose and playing it in a hundred ranges is one
 * thing to check, not a hundred; a second purpose stated the same day joins the same question
 * ("did she have reason to look at this call that day?"). An access is named by its anchor: the
 * first of its entries that states a purpose, else its first entry.
 *
 * The sample is a function of the log and a seed only: every access gets, per stream, a number in
 * (0, 1) from HMAC-SHA256(seed, stream ‖ anchor), so the same log prefix and seed give the same
 * sample whatever order the entries are read in. Half the sample (rounded down) is drawn among the
 * accesses a rule flags, weighted (Efraimidis–Spirakis: the largest u^(1/w)); the rest uniformly
 * among all accesses not yet drawn (the smallest u).
 */
import { createHmac } from 'node:crypto';
import type { Kysely } from 'kysely';
import { sql } from '../db/kysely.js';
import type { Database } from '../db/schema.js';
import { RECORDING_READS } from './catalogue.js';

/** the zone of a period's month and an access's day unless CALLVAULT_TIME_ZONE names another */
export const REVIEW_TIME_ZONE = 'Europe/Stockholm';

/** the audit actions that are an access to a recording: those whose success showed something of it */
export const ACCESS_ACTIONS = RECORDING_READS;

/** the weight of each reason an access is drawn more often; an access with several counts its heaviest */
export const REVIEW_WEIGHTS = {
  /** in the evidence of an alert (`alert:<rule>`) */
  alert: 8,
  'break-glass': 4,
  /** the original rendition (identifiers audible), or its identifiers shown in clear */
  original: 2,
  /** an account whose role reaches every call of its controllers: the privacy officer */
  'role:dpo': 2,
  /** the operator on the host, who reaches everything (a CLI export) */
  'role:operator': 2,
} as const;

export const REVIEW_OUTCOMES = ['justified', 'unjustified', 'unclear'] as const;
export type ReviewOutcome = (typeof REVIEW_OUTCOMES)[number];

/** the most accesses one sample may hold */
export const REVIEW_MAX_COUNT = 1000;

export const PERIOD_PATTERN = '^[0-9]{4}-(0[1-9]|1[0-2])$';

/** entries read at a time */
const PAGE = 5000;

export interface PeriodWindow {
  period: string;
  /** the IANA zone whose calendar the month is */
  timeZone: string;
  /** the first instant of the month in that zone, ISO 8601 UTC */
  from: string;
  /** the first instant of the next month */
  to: string;
}

/** `2026-11` → the month's bounds as instants in `timeZone`; undefined unless a month in that form */
export function periodWindow(period: string, timeZone = REVIEW_TIME_ZONE): PeriodWindow | undefined {
  if (!new RegExp(PERIOD_PATTERN).test(period)) return undefined;
  const [year, month] = period.split('-').map(Number) as [number, number];
  return {
    period,
    timeZone,
    from: localMidnight(year, month, timeZone).toISOString(),
    to: localMidnight(month === 12 ? year + 1 : year, month === 12 ? 1 : month + 1, timeZone).toISOString(),
  };
}

/** the period (YYYY-MM) that `time` falls in, in `timeZone` */
export function periodOf(time: Date, timeZone = REVIEW_TIME_ZONE): string {
  return localDay(time, timeZone).slice(0, 7);
}

const formats = new Map<string, { day: Intl.DateTimeFormat; parts: Intl.DateTimeFormat }>();

function formatsOf(timeZone: string): { day: Intl.DateTimeFormat; parts: Intl.DateTimeFormat } {
  let f = formats.get(timeZone);
  if (!f) {
    f = {
      day: new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }),
      parts: new Intl.DateTimeFormat('en-GB', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      }),
    };
    formats.set(timeZone, f);
  }
  return f;
}

/** YYYY-MM-DD of `time` in `timeZone` */
export function localDay(time: Date, timeZone = REVIEW_TIME_ZONE): string {
  return formatsOf(timeZone).day.format(time);
}

/** the instant that is 00:00 on the first of the month in `timeZone` (zones change their offset at night, not at midnight of the first, in the zones this serves) */
function localMidnight(year: number, month: number, timeZone: string): Date {
  const guess = Date.UTC(year, month - 1, 1);
  const first = guess - offsetAt(guess, timeZone);
  return new Date(guess - offsetAt(first, timeZone));
}

/** the zone's offset from UTC at `ms`, in ms */
export function offsetAt(ms: number, timeZone: string): number {
  const p = Object.fromEntries(
    formatsOf(timeZone)
      .parts.formatToParts(new Date(ms))
      .map((x) => [x.type, x.value]),
  );
  const local = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return local - Math.floor(ms / 1000) * 1000;
}

/** an entry that is an access, parsed */
export interface AccessEntry {
  position: number;
  time: string;
  action: string;
  actor: { type: string; id?: string; name?: string; role?: string };
  recordingId: string;
  controllerId?: string;
  purpose?: string;
  purposeText?: string;
  breakGlassId?: string;
  detail?: { rendition?: string; accessId?: string };
}

/** one access: an account's use of one recording on one day */
export interface AccessUnit {
  /** the anchor: the first entry stating a purpose, else the first entry */
  position: number;
  /** the first entry's position */
  first: number;
  entries: number;
  /** why a rule weighs it, heaviest first; empty: none */
  reasons: string[];
}

/** who an entry's actor is, for grouping; undefined for background jobs and the anonymous */
function actorKey(a: AccessEntry['actor']): string | undefined {
  if (a.type === 'user' || a.type === 'token') return a.id ? `${a.type}:${a.id}` : undefined;
  if (a.type === 'cli') return `cli:${a.name ?? ''}`;
  return undefined;
}

/** whether a parsed entry is a successful access of one of the actions */
function asAccess(position: number, e: unknown): AccessEntry | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const v = e as Record<string, unknown>;
  if (v.outcome !== 'success' || typeof v.time !== 'string' || typeof v.recordingId !== 'string') return undefined;
  if (!(ACCESS_ACTIONS as readonly unknown[]).includes(v.action)) return undefined;
  if (typeof v.actor !== 'object' || v.actor === null || typeof (v.actor as { type?: unknown }).type !== 'string') return undefined;
  return { ...(v as unknown as AccessEntry), position };
}

/**
 * Groups access entries (read in position order) into accesses, and marks each with the reasons a
 * rule weighs it. `alertRules` gives, per audit position, the rules of the alerts whose evidence
 * it is.
 */
export class AccessGrouper {
  readonly #units = new Map<string, { position: number; first: number; entries: number; flags: Set<string>; stated: boolean }>();

  constructor(
    private readonly alertRules: ReadonlyMap<number, readonly string[]>,
    private readonly timeZone = REVIEW_TIME_ZONE,
  ) {}

  add(e: AccessEntry): void {
    const who = actorKey(e.actor);
    if (!who) return;
    const key = `${who}|${e.recordingId}|${localDay(new Date(e.time), this.timeZone)}`;
    let unit = this.#units.get(key);
    if (!unit) {
      unit = { position: e.position, first: e.position, entries: 0, flags: new Set(), stated: false };
      this.#units.set(key, unit);
    }
    unit.entries += 1;
    if (e.purpose && !unit.stated) {
      unit.position = e.position;
      unit.stated = true;
    }
    for (const rule of this.alertRules.get(e.position) ?? []) unit.flags.add(`alert:${rule}`);
    if (e.breakGlassId) unit.flags.add('break-glass');
    if (e.detail?.rendition === 'original' || e.action === 'recording.identifiers') unit.flags.add('original');
    if (e.actor.type === 'user' && e.actor.role === 'dpo') unit.flags.add('role:dpo');
    if (e.actor.type === 'cli') unit.flags.add('role:operator');
  }

  /** the accesses, by anchor */
  units(): AccessUnit[] {
    return [...this.#units.values()]
      .map(({ position, first, entries, flags }) => ({
        position,
        first,
        entries,
        reasons: [...flags].sort((a, b) => weightOf(b) - weightOf(a) || reasonOrder(a) - reasonOrder(b) || (a < b ? -1 : 1)),
      }))
      .sort((a, b) => a.position - b.position);
  }
}

export function weightOf(reason: string): number {
  if (reason.startsWith('alert:')) return REVIEW_WEIGHTS.alert;
  return (REVIEW_WEIGHTS as Record<string, number>)[reason] ?? 1;
}

function reasonOrder(reason: string): number {
  const order = ['alert', 'break-glass', 'original', 'role:dpo', 'role:operator'];
  const i = order.indexOf(reason.startsWith('alert:') ? 'alert' : reason);
  return i < 0 ? order.length : i;
}

/** a number in (0, 1) for `position` in `stream`, from the seed alone */
export function uniform(seed: string, stream: 'weighted' | 'random', position: number): number {
  const mac = createHmac('sha256', Buffer.from(seed, 'hex')).update(`${stream}\n${position}`).digest();
  return (mac.readUIntBE(0, 6) + 0.5) / 2 ** 48;
}

export interface DrawMethod {
  unit: string;
  timeZone: string;
  /** accesses in the period when drawn */
  accesses: number;
  /** the log's size when drawn: the sample is reproducible from the entries below it */
  logSize: number;
  requested: number;
  random: number;
  weighted: number;
  /** how many accesses each reason flagged */
  flagged: Record<string, number>;
  weights: Record<string, number>;
  prng: string;
}

export interface Drawn {
  position: number;
  chosenBy: string;
}

/** the sample: which accesses, and why; deterministic in (units, seed, count) */
export function drawSample(units: readonly AccessUnit[], seed: string, count: number): { drawn: Drawn[]; random: number; weighted: number } {
  const n = Math.min(count, units.length);
  const flagged = units.filter((u) => u.reasons.length > 0);
  const weightedShare = Math.min(Math.floor(n / 2), flagged.length);
  const byWeight = flagged
    .map((u) => ({ u, key: Math.log(uniform(seed, 'weighted', u.position)) / weightOf(u.reasons[0]!) }))
    .sort((a, b) => b.key - a.key || a.u.position - b.u.position)
    .slice(0, weightedShare);
  const taken = new Set(byWeight.map((x) => x.u.position));
  const byChance = units
    .filter((u) => !taken.has(u.position))
    .map((u) => ({ u, key: uniform(seed, 'random', u.position) }))
    .sort((a, b) => a.key - b.key || a.u.position - b.u.position)
    .slice(0, n - byWeight.length);
  const drawn = [...byWeight.map((x) => ({ position: x.u.position, chosenBy: x.u.reasons[0]! })), ...byChance.map((x) => ({ position: x.u.position, chosenBy: 'random' }))];
  return { drawn: drawn.sort((a, b) => a.position - b.position), random: byChance.length, weighted: byWeight.length };
}

export function methodOf(units: readonly AccessUnit[], timeZone: string, logSize: number, requested: number, counts: { random: number; weighted: number }): DrawMethod {
  const flagged: Record<string, number> = {};
  for (const u of units) for (const r of u.reasons) flagged[r] = (flagged[r] ?? 0) + 1;
  return {
    unit: `one account, one recording, one calendar day (${timeZone})`,
    timeZone,
    accesses: units.length,
    logSize,
    requested,
    random: counts.random,
    weighted: counts.weighted,
    flagged,
    weights: { ...REVIEW_WEIGHTS },
    prng: 'HMAC-SHA256(seed, stream LF anchor position); weighted: largest u^(1/w) among flagged accesses; random: smallest u among the rest',
  };
}

/** the rules of the alerts whose evidence is each audit position, for alerts that may hold evidence of the window */
export async function alertEvidence(db: Kysely<Database>, window: PeriodWindow): Promise<Map<number, string[]>> {
  const rows = await db.selectFrom('alerts').select(['rule', 'entries']).where('created_at', '<', window.to).where('updated_at', '>=', window.from).execute();
  const out = new Map<number, string[]>();
  for (const row of rows) {
    let positions: unknown;
    try {
      positions = JSON.parse(row.entries);
    } catch {
      continue;
    }
    if (!Array.isArray(positions)) continue;
    for (const p of positions) {
      if (!Number.isSafeInteger(p)) continue;
      const rules = out.get(p) ?? [];
      if (!rules.includes(row.rule)) rules.push(row.rule);
      out.set(p, rules);
    }
  }
  return out;
}

/**
 * Every successful access entry with a time in the window and a position below `upTo`, in
 * position order. The seqs of the window come from the (time, seq) index; each row is then judged
 * by its own parsed bytes, not by its convenience columns.
 */
export async function* accessEntries(db: Kysely<Database>, window: PeriodWindow, upTo: number): AsyncGenerator<AccessEntry> {
  const seq = sql<number>`seq + 0`;
  const bounds = await db
    .selectFrom('audit_entries')
    .select((eb) => [eb.fn.min(seq).as('lo'), eb.fn.max(seq).as('hi')])
    .where('time', '>=', window.from)
    .where('time', '<', window.to)
    .executeTakeFirstOrThrow();
  if (bounds.lo === null || bounds.hi === null) return;
  const end = Math.min(Number(bounds.hi) + 1, upTo);
  let next = Number(bounds.lo);
  while (next < end) {
    const rows = await db
      .selectFrom('audit_entries')
      .select(['seq', 'entry'])
      .where('seq', '>=', next)
      .where('seq', '<', end)
      .where('action', 'in', [...ACCESS_ACTIONS])
      .where('outcome', '=', 'success')
      .orderBy('seq')
      .limit(PAGE)
      .execute();
    if (rows.length === 0) return;
    for (const row of rows) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(row.entry);
      } catch {
        continue;
      }
      const e = asAccess(Number(row.seq), parsed);
      if (e && e.time >= window.from && e.time < window.to) yield e;
    }
    next = Number(rows[rows.length - 1]!.seq) + 1;
  }
}

/** the accesses of the window among the entries below `upTo` */
export async function accessesOf(db: Kysely<Database>, window: PeriodWindow, upTo: number): Promise<AccessUnit[]> {
  const grouper = new AccessGrouper(await alertEvidence(db, window), window.timeZone);
  for await (const e of accessEntries(db, window, upTo)) grouper.add(e);
  return grouper.units();
}

/** the entries at these positions, parsed (positions absent from the log are left out) */
export async function entriesAt(db: Kysely<Database>, positions: readonly number[]): Promise<Map<number, AccessEntry>> {
  const out = new Map<number, AccessEntry>();
  for (let i = 0; i < positions.length; i += 500) {
    const chunk = positions.slice(i, i + 500);
    if (chunk.length === 0) continue;
    const rows = await db.selectFrom('audit_entries').select(['seq', 'entry']).where('seq', 'in', chunk).execute();
    for (const row of rows) {
      try {
        const e = JSON.parse(row.entry);
        out.set(Number(row.seq), { ...e, position: Number(row.seq) });
      } catch {
        // a row that is not JSON: verify reports it; the queue shows the position alone
      }
    }
  }
  return out;
}

/** the alerts raised in the window, per rule: how many, in which state, with which outcomes */
export async function alertsOf(
  db: Kysely<Database>,
  window: PeriodWindow,
): Promise<{ rule: string; raised: number; open: number; closed: number; outcomes: Record<string, number> }[]> {
  const rows = await db.selectFrom('alerts').select(['rule', 'state', 'outcome']).where('created_at', '>=', window.from).where('created_at', '<', window.to).execute();
  const byRule = new Map<string, { rule: string; raised: number; open: number; closed: number; outcomes: Record<string, number> }>();
  for (const r of rows) {
    const s = byRule.get(r.rule) ?? { rule: r.rule, raised: 0, open: 0, closed: 0, outcomes: {} };
    s.raised += 1;
    if (r.state === 'open') s.open += 1;
    else s.closed += 1;
    if (r.outcome) s.outcomes[r.outcome] = (s.outcomes[r.outcome] ?? 0) + 1;
    byRule.set(r.rule, s);
  }
  return [...byRule.values()].sort((a, b) => (a.rule < b.rule ? -1 : 1));
}

export interface PeriodRow {
  period: string;
  seed: string;
  drawnBy: string;
  drawnAt: string;
  method: DrawMethod;
}

export interface SampleRow {
  id: string;
  period: string;
  position: number;
  chosenBy: string;
  outcome: ReviewOutcome | null;
  note: string | null;
  reviewedBy: string | null;
  reviewedAt: string | null;
}

/** stores a drawn sample; false when the period has one already (it is drawn once) */
export async function storeSample(db: Kysely<Database>, period: PeriodRow, samples: readonly SampleRow[]): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    // the primary key decides between two concurrent draws; the loser's rows are never written
    const inserted = await tx
      .insertInto('review_periods')
      .values({ period: period.period, seed: period.seed, drawn_by: period.drawnBy, drawn_at: period.drawnAt, method: JSON.stringify(period.method) })
      .onConflict((oc) => oc.column('period').doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return false;
    for (let i = 0; i < samples.length; i += 500) {
      await tx
        .insertInto('review_samples')
        .values(
          samples.slice(i, i + 500).map((s) => ({
            id: s.id,
            period: s.period,
            position: s.position,
            chosen_by: s.chosenBy,
            outcome: null,
            note: null,
            reviewed_by: null,
            reviewed_at: null,
          })),
        )
        .execute();
    }
    return true;
  });
}

export async function periodRow(db: Kysely<Database>, period: string): Promise<PeriodRow | undefined> {
  const row = await db.selectFrom('review_periods').selectAll().where('period', '=', period).executeTakeFirst();
  return row && { period: row.period, seed: row.seed, drawnBy: row.drawn_by, drawnAt: row.drawn_at, method: JSON.parse(row.method) };
}

export async function sampleRows(db: Kysely<Database>, period: string): Promise<SampleRow[]> {
  const rows = await db.selectFrom('review_samples').selectAll().where('period', '=', period).orderBy('position').execute();
  return rows.map(sampleOf);
}

export async function sampleRow(db: Kysely<Database>, id: string): Promise<SampleRow | undefined> {
  const row = await db.selectFrom('review_samples').selectAll().where('id', '=', id).executeTakeFirst();
  return row && sampleOf(row);
}

export async function setOutcome(db: Kysely<Database>, id: string, outcome: ReviewOutcome, note: string, by: string, at: string): Promise<void> {
  await db.updateTable('review_samples').set({ outcome, note, reviewed_by: by, reviewed_at: at }).where('id', '=', id).execute();
}

function sampleOf(row: {
  id: string;
  period: string;
  position: number | string;
  chosen_by: string;
  outcome: string | null;
  note: string | null;
  reviewed_by: string | null;
  reviewed_at: string | null;
}): SampleRow {
  return {
    id: row.id,
    period: row.period,
    position: Number(row.position),
    chosenBy: row.chosen_by,
    outcome: row.outcome as ReviewOutcome | null,
    note: row.note,
    reviewedBy: row.reviewed_by,
    reviewedAt: row.reviewed_at,
  };
}
