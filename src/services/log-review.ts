/**
 * The documented log review (loggkontroll, HSLF-FS 2016:40 4 kap. 9 §): what `callvault audit
 * review …` and `/api/v1/audit/review/…` do, the same way. An auditor draws a month's sample of
 * accesses once (src/audit/review.ts says how), checks each with an outcome and a note, and reads
 * the month's report: how many accesses, how many drawn and why, how many checked and found what,
 * the alerts of the month and who reviewed. Each step is an audit entry written before it is done
 * (`review.sample`, `review.outcome`, `review.read`), so the log itself shows that it was reviewed.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { CallvaultError, ErrorCodes } from '../errors.js';
import {
  AccessGrouper,
  accessEntries,
  accessesOf,
  alertEvidence,
  alertsOf,
  drawSample,
  entriesAt,
  methodOf,
  periodOf,
  periodRow,
  periodWindow,
  REVIEW_MAX_COUNT,
  REVIEW_OUTCOMES,
  sampleRow,
  sampleRows,
  setOutcome,
  storeSample,
  type DrawMethod,
  type PeriodWindow,
  type ReviewOutcome,
  type SampleRow,
} from '../audit/review.js';
import { scrubbedText } from '../redaction/transcript.js';
import type { Vault } from '../vault.js';
import { actorRef, type Actor } from './actor.js';
import type { AuditTrail } from './audit-trail.js';

export { PERIOD_PATTERN, REVIEW_MAX_COUNT, REVIEW_OUTCOMES, REVIEW_WEIGHTS, type DrawMethod, type ReviewOutcome } from '../audit/review.js';

/** a note needs this many characters (after identifiers are replaced by labels) */
export const REVIEW_NOTE_MIN = 3;
export const REVIEW_NOTE_MAX = 2000;

/** one sampled access as the reviewer sees it: its anchor entry, why it was drawn, what was found */
export interface ReviewSampleView {
  id: string;
  period: string;
  position: number;
  time: string | null;
  action: string | null;
  /** the account's name as the entry records it (username, token name, the CLI's OS user) */
  user: string | null;
  userId: string | null;
  role: string | null;
  recordingId: string | null;
  controllerId: string | null;
  purpose: string | null;
  purposeText: string | null;
  breakGlass: boolean;
  rendition: string | null;
  /** 'random', or the reason a rule weighed it: alert:<rule>, break-glass, original, role:dpo, role:operator */
  chosenBy: string;
  outcome: ReviewOutcome | null;
  note: string | null;
  reviewedBy: string | null;
  reviewedAt: string | null;
}

export interface ReviewQueue {
  period: string;
  from: string;
  to: string;
  /** null until a sample is drawn */
  seed: string | null;
  drawnBy: string | null;
  drawnAt: string | null;
  method: DrawMethod | null;
  checked: number;
  samples: ReviewSampleView[];
}

export interface ReviewReport {
  period: string;
  from: string;
  to: string;
  timeZone: string;
  /** accesses in the period now (the period may have grown since the draw) */
  accesses: number;
  drawn: { seed: string; drawnBy: string; drawnAt: string; method: DrawMethod; reproduced: boolean } | null;
  sampled: number;
  chosenBy: Record<string, number>;
  checked: number;
  outcomes: Record<ReviewOutcome, number>;
  reviewers: { reviewer: string; checked: number }[];
  alerts: { rule: string; raised: number; open: number; closed: number; outcomes: Record<string, number> }[];
  samples: ReviewSampleView[];
}

export class LogReviewService {
  constructor(
    private readonly deps: Pick<Vault, 'database' | 'audit' | 'users' | 'timeZone'>,
    private readonly trail: AuditTrail,
  ) {}

  /** draws the period's sample of `count` accesses, once; a second draw is refused (CONFLICT) and recorded as a failure */
  async sample(actor: Actor, period: string, count: number): Promise<ReviewQueue> {
    await this.trail.authorize(actor, 'audit:review', 'review.sample');
    const window = this.window(period);
    if (!Number.isSafeInteger(count) || count < 1 || count > REVIEW_MAX_COUNT) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, `count is 1 to ${REVIEW_MAX_COUNT}`);
    if (window.from > new Date().toISOString()) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'that month has not begun');
    const db = this.deps.database.db;
    if (await periodRow(db, period)) return this.drawnAlready(actor, period);
    const logSize = await this.deps.audit.size();
    const seed = randomBytes(16).toString('hex');
    const units = await accessesOf(db, window, logSize);
    // a sample is drawn once: drawing nothing would close the month with nothing checked
    if (units.length === 0) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, `no accesses in ${period} to draw from`);
    const { drawn, random, weighted } = drawSample(units, seed, count);
    await this.trail.record(actor, { action: 'review.sample', outcome: 'success', detail: { period, random, weighted } });
    const stored = await storeSample(
      db,
      { period, seed, drawnBy: actorRef(actor), drawnAt: new Date().toISOString(), method: methodOf(units, window.timeZone, logSize, count, { random, weighted }) },
      drawn.map((d) => ({ id: randomUUID(), period, position: d.position, chosenBy: d.chosenBy, outcome: null, note: null, reviewedBy: null, reviewedAt: null })),
    );
    if (!stored) return this.drawnAlready(actor, period);
    return this.queueOf(window);
  }

  /** the period's sample with what has been found so far (empty before the draw) */
  async queue(actor: Actor, period: string): Promise<ReviewQueue> {
    await this.trail.authorize(actor, 'audit:review', 'review.read');
    const window = this.window(period);
    await this.trail.record(actor, { action: 'review.read', outcome: 'success', detail: { period, what: 'queue' } });
    return this.queueOf(window);
  }

  /**
   * Records what the check of one sampled access found; a later outcome replaces it (both are in
   * the log). `period`, when given, must be the sample's.
   */
  async outcome(actor: Actor, sampleId: string, outcome: string, noteText: string | undefined, period?: string): Promise<ReviewSampleView> {
    await this.trail.authorize(actor, 'audit:review', 'review.outcome');
    if (!(REVIEW_OUTCOMES as readonly string[]).includes(outcome)) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, `the outcome is one of ${REVIEW_OUTCOMES.join(', ')}`);
    // the note is shown to every later reviewer: an identifier written into it is kept as its label
    const note = scrubbedText(noteText);
    if (!note || note.length < REVIEW_NOTE_MIN || note.length > REVIEW_NOTE_MAX)
      throw new CallvaultError(ErrorCodes.INVALID_REQUEST, `the note needs ${REVIEW_NOTE_MIN} to ${REVIEW_NOTE_MAX} characters`);
    const db = this.deps.database.db;
    const sample = await sampleRow(db, sampleId);
    if (!sample || (period !== undefined && sample.period !== period)) throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such sampled access');
    await this.trail.record(actor, {
      action: 'review.outcome',
      outcome: 'success',
      detail: { period: sample.period, sampleId, position: sample.position, outcome },
    });
    await setOutcome(db, sampleId, outcome as ReviewOutcome, note, actorRef(actor), new Date().toISOString());
    const [view] = await this.views([(await sampleRow(db, sampleId))!]);
    return view!;
  }

  /** the documented result of the period's review */
  async report(actor: Actor, period: string): Promise<ReviewReport> {
    await this.trail.authorize(actor, 'audit:review', 'review.read');
    const window = this.window(period);
    await this.trail.record(actor, { action: 'review.read', outcome: 'success', detail: { period, what: 'report' } });
    const db = this.deps.database.db;
    const drawnRow = await periodRow(db, period);
    // one pass over the period's entries: the accesses now, and those of the log as it was drawn
    // (re-drawn from the seed, the sample must come out the same); a time zone changed since the
    // draw is a month of other bounds, read again in the zone it was drawn in
    const evidence = await alertEvidence(db, window);
    const now = new AccessGrouper(evidence, window.timeZone);
    const sameZone = drawnRow?.method.timeZone === window.timeZone;
    const asDrawn = new AccessGrouper(evidence, window.timeZone);
    for await (const e of accessEntries(db, window, await this.deps.audit.size())) {
      now.add(e);
      if (sameZone && e.position < drawnRow!.method.logSize) asDrawn.add(e);
    }
    const samples = await this.views(await sampleRows(db, period));
    let reproduced = false;
    if (drawnRow) {
      const drawnWindow = periodWindow(period, drawnRow.method.timeZone)!;
      const units = sameZone ? asDrawn.units() : await accessesOf(db, drawnWindow, drawnRow.method.logSize);
      const again = drawSample(units, drawnRow.seed, drawnRow.method.requested).drawn;
      const stored = samples.map((s) => `${s.position}:${s.chosenBy}`).sort();
      reproduced = JSON.stringify(again.map((d) => `${d.position}:${d.chosenBy}`).sort()) === JSON.stringify(stored);
    }
    const chosenBy: Record<string, number> = {};
    const outcomes = Object.fromEntries(REVIEW_OUTCOMES.map((o) => [o, 0])) as Record<ReviewOutcome, number>;
    const reviewers = new Map<string, number>();
    for (const s of samples) {
      chosenBy[s.chosenBy] = (chosenBy[s.chosenBy] ?? 0) + 1;
      if (!s.outcome) continue;
      outcomes[s.outcome] += 1;
      const who = s.reviewedBy ?? '?';
      reviewers.set(who, (reviewers.get(who) ?? 0) + 1);
    }
    return {
      period,
      from: window.from,
      to: window.to,
      timeZone: window.timeZone,
      accesses: now.units().length,
      drawn: drawnRow ? { seed: drawnRow.seed, drawnBy: await this.nameOf(drawnRow.drawnBy), drawnAt: drawnRow.drawnAt, method: drawnRow.method, reproduced } : null,
      sampled: samples.length,
      chosenBy,
      checked: samples.filter((s) => s.outcome).length,
      outcomes,
      reviewers: [...reviewers].map(([reviewer, checked]) => ({ reviewer, checked })).sort((a, b) => (a.reviewer < b.reviewer ? -1 : 1)),
      alerts: await alertsOf(db, window),
      samples,
    };
  }

  private window(period: string): PeriodWindow {
    const window = periodWindow(period, this.deps.timeZone);
    if (!window) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'the period is a month, YYYY-MM');
    return window;
  }

  private async drawnAlready(actor: Actor, period: string): Promise<never> {
    await this.trail.record(actor, { action: 'review.sample', outcome: 'failure', detail: { period, reason: ErrorCodes.CONFLICT } });
    throw new CallvaultError(ErrorCodes.CONFLICT, `the sample of ${period} was drawn already: a period's sample is drawn once`);
  }

  private async queueOf(window: PeriodWindow): Promise<ReviewQueue> {
    const db = this.deps.database.db;
    const row = await periodRow(db, window.period);
    const samples = await this.views(await sampleRows(db, window.period));
    return {
      period: window.period,
      from: window.from,
      to: window.to,
      seed: row?.seed ?? null,
      drawnBy: row ? await this.nameOf(row.drawnBy) : null,
      drawnAt: row?.drawnAt ?? null,
      method: row?.method ?? null,
      checked: samples.filter((s) => s.outcome).length,
      samples,
    };
  }

  private async views(rows: readonly SampleRow[]): Promise<ReviewSampleView[]> {
    const entries = await entriesAt(
      this.deps.database.db,
      rows.map((r) => r.position),
    );
    const names = new Map<string, Promise<string>>();
    const nameOf = (ref: string) => names.get(ref) ?? names.set(ref, this.nameOf(ref)).get(ref)!;
    const out: ReviewSampleView[] = [];
    for (const r of rows) {
      const e = entries.get(r.position);
      out.push({
        id: r.id,
        period: r.period,
        position: r.position,
        time: e?.time ?? null,
        action: e?.action ?? null,
        user: e?.actor?.name ?? null,
        userId: e?.actor?.id ?? null,
        role: e?.actor?.role ?? (e?.actor?.type === 'cli' ? 'operator' : null),
        recordingId: e?.recordingId ?? null,
        controllerId: e?.controllerId ?? null,
        purpose: e?.purpose ?? null,
        purposeText: e?.purposeText ?? null,
        breakGlass: Boolean(e?.breakGlassId),
        rendition: e?.detail?.rendition ?? null,
        chosenBy: r.chosenBy,
        outcome: r.outcome,
        note: r.note,
        reviewedBy: r.reviewedBy ? await nameOf(r.reviewedBy) : null,
        reviewedAt: r.reviewedAt,
      });
    }
    return out;
  }

  /** an actorRef as a person reads it: a username, or `cli:NAME` */
  private async nameOf(ref: string): Promise<string> {
    if (ref.startsWith('cli:')) return ref;
    return (await this.deps.users.get(ref))?.username ?? ref;
  }
}

/** the period a sample would be drawn for now: the current month in `timeZone` */
export function currentPeriod(now = new Date(), timeZone?: string): string {
  return periodOf(now, timeZone);
}
