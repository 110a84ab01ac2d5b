/**
 * The detector in a running server: one server at a time (the lease `alerts`) reads every new
 * audit entry, within a second of its append (at once for this server's own appends, by polling
 * for the others' and the CLI's), and raises what the rules find. Where it stands is stored, so a
 * restart goes on from the next entry; what is usual is rebuilt at start from the history before
 * it, read muted. The first start of all begins at the log's end: the past is for `alerts backtest`.
 */
import type { AuditAction } from '../audit/catalogue.js';
import { isCallvaultError } from '../errors.js';
import { WRITER } from '../recordings/attempts.js';
import { systemActor } from '../services/actor.js';
import type { AlertsService, AlertView } from '../services/alerts.js';
import type { Vault } from '../vault.js';
import { AlertsRepository } from '../db/alerts-repository.js';
import { CoordinationRepository } from '../db/coordination-repository.js';
import { Detector } from './detector.js';
import { readEntry, type ReadEntry } from './entries.js';
import type { AlertOutput } from './outputs.js';
import type { DatabaseSources } from './sources.js';
import { DEFAULT_THRESHOLDS, withOverrides } from './thresholds.js';

const LEASE = 'alerts';
/** another server takes over within this long of one that stopped without releasing it */
const LEASE_MS = 5 * 60_000;
const SAVE_MS = 5000;
const BATCH = 2000;
const CURSOR = 'detector';

/** entries that change what the sources cache: seen, the cache is read again before they are evaluated */
const CHANGES: Partial<Record<AuditAction, Parameters<DatabaseSources['changed']>[0][]>> = {
  'user.create': ['accounts', 'staff'],
  'user.edit': ['accounts', 'staff'],
  'user.approve': ['accounts'],
  'subject.protect': ['protected'],
  'subject.unprotect': ['protected'],
  'canary.add': ['canaries'],
  'alert.settings': ['settings'],
};

export interface DetectorRunnerOptions {
  timeZone: string;
  outputs: readonly AlertOutput[];
  warn: (message: string) => void;
  pollMs?: number;
  /** told of each alert raised (tests, metrics) */
  onAlert?: (alert: AlertView) => void;
}

export class DetectorRunner {
  /** where the runner stands and its lease, written on the database's background connection */
  private readonly bookkeeping: { alerts: AlertsRepository; coordination: CoordinationRepository };
  private detector?: Detector;
  private leaseUntil = 0;
  /** the next audit position to evaluate, once warmed up, and the one last stored */
  private position = 0;
  private savedPosition = 0;
  private savedAt = 0;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  private lockedWarned = false;

  constructor(
    private readonly vault: Vault,
    private readonly service: AlertsService,
    private readonly sources: DatabaseSources,
    private readonly options: DetectorRunnerOptions,
  ) {
    this.bookkeeping = { alerts: new AlertsRepository(vault.database.background), coordination: new CoordinationRepository(vault.database.background) };
  }

  start(): void {
    this.unsubscribe = this.vault.audit.onAppend((ok) => {
      if (ok) this.wake();
    });
    this.timer = setInterval(() => this.wake(), this.options.pollMs ?? 500);
    this.timer.unref();
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearInterval(this.timer);
    await this.running;
    if (this.detector) await this.savePosition(true).catch(() => {});
    if (this.leaseUntil > Date.now()) await this.bookkeeping.coordination.releaseLease(LEASE, WRITER).catch(() => {});
  }

  /** resolves when everything appended so far has been evaluated (tests) */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass()
      .catch((err) => {
        // another process holds SQLite's write lock: the next pass tries again
        if ((err as { code?: string }).code === 'SQLITE_BUSY') return;
        this.options.warn(`the alert detector stopped a pass (${isCallvaultError(err) ? err.code : 'error'}); it tries again`);
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async pass(): Promise<void> {
    if (!this.vault.keys.unlocked) {
      // the canaries are sealed under the keyring: without it the detector would miss them
      if (!this.lockedWarned) this.options.warn('the alert detector waits for the keyring to be unlocked');
      this.lockedWarned = true;
      return;
    }
    // an idle pass only reads: the runner's own writes go through the database's background
    // connection, which on SQLite fails at once rather than block the thread on another process's
    // write lock (a CLI import, a backup); the next pass tries again
    const end = await this.vault.alerts.logEnd();
    if (this.detector && this.position >= end) {
      const expired = await this.detector.expire(new Date());
      if (expired.length > 0 && (await this.holdLease())) await this.raise(expired);
      await this.savePosition(false);
      return;
    }
    if (!(await this.holdLease())) return;
    const detector = this.detector ?? (await this.warmUp());
    while (this.position < end && !this.stopped) {
      const batch = (await this.vault.audit.entries(this.position, Math.min(end, this.position + BATCH))).map(readEntry);
      if (batch.length === 0) break;
      this.noticeChanges(batch);
      await this.raise(await detector.evaluate(batch));
      this.position += batch.length;
      await this.savePosition(false);
    }
    await this.raise(await detector.expire(new Date()));
  }

  private async raise(findings: Parameters<AlertsService['raise']>[1]): Promise<void> {
    if (findings.length === 0) return;
    const raised = await this.service.raise(systemActor('detector'), findings);
    for (const alert of raised) {
      this.options.onAlert?.(alert);
      for (const output of this.options.outputs)
        output.send(alert).catch((err) => this.options.warn(`${output.description} did not take alert ${alert.id} (${isCallvaultError(err) ? err.code : 'error'})`));
    }
  }

  private noticeChanges(batch: readonly ReadEntry[]): void {
    for (const e of batch) for (const what of CHANGES[e.action] ?? []) this.sources.changed(what);
  }

  /**
   * Stores where the runner stands, at most every few seconds (each store is a durable write):
   * entries evaluated again after a crash join the alerts they raised the first time.
   */
  private async savePosition(now: boolean): Promise<void> {
    if (this.position === this.savedPosition || (!now && Date.now() - this.savedAt < SAVE_MS)) return;
    await this.bookkeeping.alerts.setPosition(CURSOR, this.position);
    this.savedPosition = this.position;
    this.savedAt = Date.now();
  }

  /** the detector with the history before its position read muted: each account's usual days */
  private async warmUp(): Promise<Detector> {
    const detector = new Detector(this.sources, this.options.timeZone);
    const settings = await this.vault.database.db.selectFrom('alert_settings').select('settings').execute();
    const days = Math.max(DEFAULT_THRESHOLDS.historyDays, ...settings.map((s) => withOverrides(s.settings).historyDays));
    const stored = await this.vault.alerts.position(CURSOR);
    const position = stored ?? (await this.vault.alerts.logEnd());
    const from = (await this.vault.alerts.positionAt(new Date(Date.now() - days * 86_400_000))) ?? position;
    for (let at = Math.min(from, position); at < position; at += BATCH) {
      await detector.evaluate((await this.vault.audit.entries(at, Math.min(position, at + BATCH))).map(readEntry), true);
    }
    if (stored === undefined) await this.bookkeeping.alerts.setPosition(CURSOR, position);
    this.position = position;
    this.savedPosition = position;
    this.detector = detector;
    return detector;
  }

  /**
   * Whether this server evaluates: the lease is read first and written only when it is free,
   * expired or this server's and half spent, so a server that waits for another writes nothing.
   */
  private async holdLease(): Promise<boolean> {
    if (this.leaseUntil - Date.now() > LEASE_MS / 2) return true;
    const holder = await this.vault.coordination.leaseHolder(LEASE);
    const held = (holder === undefined || holder === WRITER) && (await this.bookkeeping.coordination.acquireLease(LEASE, WRITER, LEASE_MS));
    if (!held) {
      // another server evaluates; if this one takes over later, it rebuilds what is usual first
      this.detector = undefined;
      this.leaseUntil = 0;
      return false;
    }
    this.leaseUntil = Date.now() + LEASE_MS;
    return true;
  }
}
