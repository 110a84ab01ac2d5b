/**
 * Readiness (`GET /readyz`, and the dependency gauges of /metrics): whether this server can do its
 * work now. Four checks, run at once, each bounded by a short timeout so that a dependency that
 * stops answering (a frozen PostgreSQL, an S3 endpoint that accepts connections and says nothing)
 * makes the answer "not ready" promptly instead of holding it:
 *
 *   database  a `SELECT 1` answers
 *   blobs     the blob store's probe: the objects directory takes a file, or the bucket answers a listing
 *   keys      the key provider is unlocked (a locked one cannot wrap, play or index anything)
 *   audit     appending could be written now (AuditLog.probe: the lock and commit an append takes,
 *             without adding an entry), and the latest real append in this process did not fail
 *             within the last AUDIT_FAILURE_MEMORY_MS
 *
 * The probe alone misses what only an entry row meets (on SQLite, a disk with no room for a new
 * page still commits the unchanged head row), and the latest append alone cannot recover: a
 * server taken out of a load balancer gets no requests, so no append would ever clear a failed
 * one. So a failed append keeps `audit` failing for a while, after which the probe decides
 * again; if appends still fail, the next request's failure turns it back.
 *
 * States name the part and nothing else: no path, host name, bucket or error text.
 */
import { sql } from '../db/kysely.js';
import type { Vault } from '../vault.js';

export type CheckState = 'ok' | 'failing' | 'timeout' | 'locked';
export type Dependency = 'database' | 'blobs' | 'keys' | 'audit';

export interface ReadinessReport {
  ready: boolean;
  checks: Record<Dependency, CheckState>;
}

export const CHECK_TIMEOUT_MS = 2000;
/** an append that failed this recently keeps the audit check failing, whatever the probe says */
export const AUDIT_FAILURE_MEMORY_MS = 30_000;

export class Readiness {
  /** probes still running, by check: a later check waits on them rather than starting another */
  readonly #running = new Map<Dependency, Promise<CheckState>>();
  #previous?: string;

  constructor(
    private readonly vault: Vault,
    /** told when the checks come out differently from the time before (the server logs it) */
    private readonly onChange: (report: ReadinessReport) => void = () => {},
    private readonly timeoutMs = CHECK_TIMEOUT_MS,
  ) {}

  async check(): Promise<ReadinessReport> {
    const [database, blobs, audit] = await Promise.all([
      this.#run('database', () => sql`SELECT 1`.execute(this.vault.database.db)),
      this.#run('blobs', (signal) => this.vault.blobs.probe(signal)),
      // SQLite's wait for another process's write lock blocks the thread, and with it the other
      // probes' completions: kept well inside their timeout, so that they are not blamed for it
      this.#run('audit', () => this.vault.audit.probe(this.timeoutMs / 2)),
    ]);
    const last = this.vault.audit.lastAppend;
    const appendFailed = last !== undefined && !last.ok && Date.now() - last.at.getTime() < AUDIT_FAILURE_MEMORY_MS;
    const checks: Record<Dependency, CheckState> = {
      database,
      blobs,
      keys: this.vault.keys.unlocked ? 'ok' : 'locked',
      audit: audit === 'ok' && appendFailed ? 'failing' : audit,
    };
    const report = { ready: Object.values(checks).every((state) => state === 'ok'), checks };
    const summary = JSON.stringify(checks);
    if (summary !== this.#previous && (this.#previous !== undefined || !report.ready)) this.onChange(report);
    this.#previous = summary;
    return report;
  }

  /**
   * One probe, bounded by the timeout. A probe that does not stop when its signal aborts (a
   * database query) keeps running after the timeout; later checks wait on it instead of starting
   * another, so a frozen database holds one connection for readiness, not one per request.
   */
  async #run(name: Dependency, probe: (signal: AbortSignal) => Promise<unknown>): Promise<CheckState> {
    let running = this.#running.get(name);
    if (!running) {
      running = this.#probe(probe).finally(() => this.#running.delete(name));
      this.#running.set(name, running);
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<CheckState>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.timeoutMs);
    });
    try {
      return await Promise.race([running, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #probe(probe: (signal: AbortSignal) => Promise<unknown>): Promise<CheckState> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.timeoutMs);
    try {
      await probe(abort.signal);
      return 'ok';
    } catch {
      return abort.signal.aborted ? 'timeout' : 'failing';
    } finally {
      clearTimeout(timer);
    }
  }
}
