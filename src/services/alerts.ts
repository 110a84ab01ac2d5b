/**
 * Insider-misuse alerts (docs/alerts.md): what the detector raises (as callvault itself), and
 * what auditors and privacy officers do with them: list, resolve with an outcome, set a
 * controller's thresholds, and backtest the rules over stored history. An auditor sees every
 * alert, a privacy officer those about the controllers in reach; nobody resolves an alert about
 * their own account.
 */
import { randomUUID } from 'node:crypto';
import { CallvaultError, ErrorCodes } from '../errors.js';
import type { AlertRow } from '../db/alerts-repository.js';
import { alertView, type AlertView } from '../alerts/alert.js';
export type { AlertView } from '../alerts/alert.js';
import { Detector, joinFindings, MAX_EVIDENCE_ENTRIES, RULES, type DetectorSources, type Finding, type RuleName } from '../alerts/detector.js';
import { readEntry } from '../alerts/entries.js';
import type { DatabaseSources } from '../alerts/sources.js';
import { parseOverrides, withOverrides, type Thresholds } from '../alerts/thresholds.js';
import { controllerReach, reachesEverything, type Principal } from '../policy/policy.js';
import { scrubbedText } from '../redaction/transcript.js';
import type { Vault } from '../vault.js';
import { actorRef, type Actor } from './actor.js';
import type { AuditTrail } from './audit-trail.js';

export const OUTCOMES = ['justified', 'misuse', 'false-positive'] as const;
export type AlertOutcome = (typeof OUTCOMES)[number];

/** a would-be alert of a backtest: findings joined as the live detector joins them */
export interface BacktestAlert {
  rule: string;
  severity: string;
  user: string;
  role: string | null;
  firstAt: string;
  lastAt: string;
  recordings: string[];
  evidence: string;
  entries: number[];
}

export interface BacktestReport {
  from: string;
  to: string;
  /** entries evaluated in the window (after the muted lead-in) */
  entries: number;
  alerts: BacktestAlert[];
  byRule: Record<string, number>;
}

/** what a listing or a change may touch: everything, or the alerts about these controllers */
type Reach = { all: true } | { all: false; controllers: Set<string>; self: string | undefined };

function union<T>(a: readonly T[], b: readonly T[], max = Number.POSITIVE_INFINITY): T[] {
  return [...new Set([...a, ...b])].slice(-max);
}

export class AlertsService {
  constructor(
    private readonly vault: Vault,
    private readonly trail: AuditTrail,
    /** the detector's view of the database (one per process, whose caches the runner keeps fresh) */
    private readonly sources: DatabaseSources,
    private readonly timeZone: string,
  ) {}

  private reach(principal: Principal): Reach {
    if (reachesEverything(principal) || principal.kind !== 'user' || principal.role === 'auditor') return { all: true };
    return { all: false, controllers: new Set(controllerReach(principal, new Date()).map((r) => r.controllerId)), self: principal.userId };
  }

  private inReach(reach: Reach, row: AlertRow): boolean {
    if (reach.all) return true;
    return row.controllers.split(',').some((c) => reach.controllers.has(c));
  }

  async list(actor: Actor, filter: { state?: 'open' | 'closed' | 'all'; rule?: string }): Promise<AlertView[]> {
    const principal = await this.trail.authorize(actor, 'alerts:read', 'alert.list');
    if (filter.rule !== undefined && !(RULES as readonly string[]).includes(filter.rule)) {
      throw new CallvaultError(ErrorCodes.INVALID_REQUEST, `no rule is called ${JSON.stringify(filter.rule)}; the rules are ${RULES.join(', ')}`);
    }
    const state = filter.state === 'all' ? undefined : (filter.state ?? 'open');
    const reach = this.reach(principal);
    const rows = (await this.vault.alerts.list({ state, rule: filter.rule })).filter((r) => this.inReach(reach, r));
    await this.trail.record(actor, {
      action: 'alert.list',
      outcome: 'success',
      detail: { state: filter.state ?? 'open', ...(filter.rule ? { rule: filter.rule } : {}), results: rows.length },
    });
    return this.named(rows.map(alertView));
  }

  /** who resolved each closed alert, by username: the row keeps the account id (or `cli:NAME`) */
  private async named(views: AlertView[]): Promise<AlertView[]> {
    const names = new Map<string, string | null>();
    for (const v of views) {
      const by = v.resolvedBy;
      if (by === null || names.has(by)) continue;
      names.set(by, by.startsWith('cli:') ? by : ((await this.vault.users.get(by))?.username ?? null));
    }
    return views.map((v) => (v.resolvedBy === null ? v : { ...v, resolvedByName: names.get(v.resolvedBy) ?? null }));
  }

  async resolve(actor: Actor, id: string, review: { outcome: string; note: string }): Promise<AlertView> {
    const principal = await this.trail.authorize(actor, 'alerts:resolve', 'alert.resolve');
    if (!(OUTCOMES as readonly string[]).includes(review.outcome)) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, `the outcome is one of ${OUTCOMES.join(', ')}`);
    const note = scrubbedText(review.note);
    if (!note || note.length < 5) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'say in a note what the review found (at least 5 characters)');
    const row = await this.vault.alerts.get(id);
    const reach = this.reach(principal);
    if (!row || !this.inReach(reach, row)) {
      await this.trail.record(actor, { action: 'alert.resolve', outcome: 'denied', detail: { alertId: id, reason: 'not-found' } });
      throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such alert');
    }
    if (row.user_id !== null && row.user_id === actorRef(actor)) {
      await this.trail.record(actor, { action: 'alert.resolve', outcome: 'denied', detail: { alertId: id, rule: row.rule, reason: 'own-alert' } });
      throw new CallvaultError(ErrorCodes.FORBIDDEN, 'an alert about your own account is reviewed by someone else');
    }
    if (row.state === 'closed') throw new CallvaultError(ErrorCodes.CONFLICT, 'the alert is already resolved');
    await this.trail.record(actor, { action: 'alert.resolve', outcome: 'success', detail: { alertId: id, rule: row.rule, outcome: review.outcome } });
    const at = new Date().toISOString();
    if (!(await this.vault.alerts.resolve(id, { outcome: review.outcome, note, resolved_by: actorRef(actor), resolved_at: at }))) {
      throw new CallvaultError(ErrorCodes.CONFLICT, 'the alert is already resolved');
    }
    const [view] = await this.named([alertView((await this.vault.alerts.get(id))!)]);
    return view!;
  }

  /** a controller's thresholds: the defaults with its overrides */
  async thresholds(actor: Actor, controllerId: string): Promise<Thresholds> {
    const principal = await this.trail.authorize(actor, 'alerts:read', 'alert.list');
    await this.assertController(actor, principal, controllerId, 'alert.list');
    await this.trail.record(actor, { action: 'alert.list', outcome: 'success', detail: { rule: 'thresholds' } });
    return withOverrides(JSON.stringify(await this.vault.alerts.settings(controllerId)));
  }

  async setThresholds(actor: Actor, controllerId: string, changes: Record<string, unknown>): Promise<Thresholds> {
    const principal = await this.trail.authorize(actor, 'alerts:manage', 'alert.settings');
    const parsed = parseOverrides(changes);
    await this.assertController(actor, principal, controllerId, 'alert.settings');
    await this.trail.record(actor, { action: 'alert.settings', outcome: 'success', controllerId, detail: { settings: Object.keys(parsed).sort() } });
    const merged = { ...(await this.vault.alerts.settings(controllerId)), ...parsed };
    await this.vault.alerts.setSettings(controllerId, merged);
    this.sources.changed('settings');
    return withOverrides(JSON.stringify(merged));
  }

  private async assertController(actor: Actor, principal: Principal, controllerId: string, action: 'alert.settings' | 'alert.list'): Promise<void> {
    const reach = this.reach(principal);
    const known = (await this.vault.controllers.get(controllerId)) !== undefined;
    if (!known || (!reach.all && !reach.controllers.has(controllerId))) {
      if (action === 'alert.settings') await this.trail.record(actor, { action, outcome: 'denied', controllerId, detail: { reason: 'not-found' } });
      else await this.trail.record(actor, { action, outcome: 'denied', detail: { reason: 'not-found' } });
      throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such controller');
    }
  }

  /**
   * The rules over the stored history from `from` to `to`, raising nothing: the history before
   * `from` (the longest baseline) is read muted first, as a starting server does. `overrides`
   * are thresholds to try for every controller.
   */
  async backtest(actor: Actor, window: { from: Date; to: Date; overrides?: Record<string, unknown> }): Promise<BacktestReport> {
    const principal = await this.trail.authorize(actor, 'alerts:manage', 'alert.backtest');
    if (!(window.from < window.to)) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'the window is from a time to a later one');
    const overrides = window.overrides ? parseOverrides(window.overrides) : {};
    const reach = this.reach(principal);
    const base = this.sources;
    const sources = Object.keys(overrides).length === 0 ? base : withThresholds(base, overrides);
    const detector = new Detector(sources, this.timeZone);
    const leadIn = new Date(window.from.getTime() - 28 * 86_400_000);
    const size = await this.vault.audit.size();
    const start = (await this.vault.alerts.positionAt(leadIn)) ?? size;
    const windowStart = (await this.vault.alerts.positionAt(window.from)) ?? size;
    const end = (await this.vault.alerts.positionAt(window.to)) ?? size;
    const joined = new Map<string, BacktestAlert>();
    const add = (findings: Finding[]) => {
      for (const f of findings) {
        if (!reach.all && !f.controllers.some((c) => reach.controllers.has(c))) continue;
        const prev = joined.get(f.dedupKey);
        joined.set(f.dedupKey, {
          rule: f.rule,
          severity: f.severity,
          user: f.username,
          role: f.role,
          firstAt: prev?.firstAt ?? f.time.toISOString(),
          lastAt: f.time.toISOString(),
          recordings: union(prev?.recordings ?? [], f.recordings, MAX_EVIDENCE_ENTRIES),
          evidence: f.evidence,
          entries: union(prev?.entries ?? [], f.entries, MAX_EVIDENCE_ENTRIES),
        });
      }
    };
    for (let at = start; at < end; at += 5000) {
      const batch = (await this.vault.audit.entries(at, Math.min(end, at + 5000))).map(readEntry);
      const lead = batch.filter((e) => e.position < windowStart);
      const inWindow = batch.filter((e) => e.position >= windowStart);
      if (lead.length) await detector.evaluate(lead, true);
      if (inWindow.length) add(await detector.evaluate(inWindow));
    }
    add(await detector.expire(window.to));
    const alerts = [...joined.values()].sort((a, b) => (a.firstAt < b.firstAt ? -1 : 1));
    const byRule: Record<string, number> = {};
    for (const a of alerts) byRule[a.rule] = (byRule[a.rule] ?? 0) + 1;
    await this.trail.record(actor, {
      action: 'alert.backtest',
      outcome: 'success',
      detail: { from: window.from.toISOString(), to: window.to.toISOString(), entries: Math.max(0, end - windowStart), alerts: alerts.length },
    });
    return { from: window.from.toISOString(), to: window.to.toISOString(), entries: Math.max(0, end - windowStart), alerts, byRule };
  }

  /**
   * What the detector found, as alerts: a finding joins the open alert of its rule, account and
   * window (no new entry); otherwise it is a new alert, written to the log (`alert.raise`) before
   * it is stored. Returns the alerts that are new.
   */
  async raise(actor: Actor, findings: readonly Finding[]): Promise<AlertView[]> {
    const raised: AlertView[] = [];
    for (const f of joinFindings(findings)) {
      const now = new Date().toISOString();
      let key = f.dedupKey;
      const existing = await this.vault.alerts.byDedupKey(key);
      if (existing?.state === 'open') {
        const recordings = union(JSON.parse(existing.recordings) as string[], f.recordings, MAX_EVIDENCE_ENTRIES);
        const entries = union(JSON.parse(existing.entries) as number[], f.entries, MAX_EVIDENCE_ENTRIES);
        const controllers = union(existing.controllers ? existing.controllers.split(',') : [], f.controllers).join(',');
        await this.vault.alerts.merge(existing.id, {
          evidence: f.evidence,
          evidence_facts: JSON.stringify(f.facts),
          recordings: JSON.stringify(recordings),
          entries: JSON.stringify(entries),
          controllers,
          updated_at: now,
        });
        if (f.suspend) await this.suspend(actor, f, existing.id);
        continue;
      }
      // a window whose alert was resolved starts a new one: what follows the review is new evidence
      if (existing) key = `${key}|${f.entries[0] ?? now}`;
      if (await this.vault.alerts.byDedupKey(key)) continue;
      const id = randomUUID();
      const userId = f.account.startsWith('cli:') ? null : f.account;
      await this.trail.record(actor, {
        action: 'alert.raise',
        outcome: 'success',
        detail: {
          alertId: id,
          rule: f.rule,
          severity: f.severity,
          ...(userId ? { userId } : {}),
          recordings: f.recordings,
          controllers: f.controllers,
          firstEntry: Math.min(...f.entries),
          lastEntry: Math.max(...f.entries),
        },
      });
      const row: AlertRow = {
        id,
        rule: f.rule,
        severity: f.severity,
        user_id: userId,
        username: f.username,
        role: f.role,
        controllers: f.controllers.join(','),
        dedup_key: key,
        state: 'open',
        created_at: now,
        updated_at: now,
        evidence: f.evidence,
        evidence_facts: JSON.stringify(f.facts),
        entries: JSON.stringify(f.entries.slice(-MAX_EVIDENCE_ENTRIES)),
        recordings: JSON.stringify(f.recordings.slice(-MAX_EVIDENCE_ENTRIES)),
        outcome: null,
        note: null,
        resolved_by: null,
        resolved_at: null,
      };
      await this.vault.alerts.insert(row);
      raised.push(alertView(row));
      if (f.suspend) await this.suspend(actor, f, id);
    }
    return raised;
  }

  /** a canary reached where the controller suspends: the account can do nothing until a second person re-enables it */
  private async suspend(actor: Actor, f: Finding, alertId: string): Promise<void> {
    if (f.account.startsWith('cli:')) return;
    const user = await this.vault.users.get(f.account);
    if (!user || user.disabled === 1) return;
    await this.trail.record(actor, { action: 'user.suspend', outcome: 'success', detail: { userId: user.id, alertId } });
    const at = new Date().toISOString();
    await this.vault.users.update(user.id, { disabled: 1 });
    await this.vault.sessions.revokeAllOf(user.id, at);
  }
}

/** the same sources with thresholds overridden for every controller (a backtest's what-if) */
function withThresholds(base: DetectorSources, overrides: Partial<Thresholds>): DetectorSources {
  return {
    accounts: (ids) => base.accounts(ids),
    recordings: (ids) => base.recordings(ids),
    staffDigests: () => base.staffDigests(),
    protectedDigests: () => base.protectedDigests(),
    canaries: () => base.canaries(),
    callerKnownTo: (recording, agent) => base.callerKnownTo(recording, agent),
    thresholds: async (controllerId) => ({ ...(await base.thresholds(controllerId)), ...overrides }),
  };
}

export function isRule(name: string): name is RuleName {
  return (RULES as readonly string[]).includes(name);
}
