/**
 * Prometheus metrics (docs/deployment.md, "Health, readiness and metrics"), served by `serve
 * --metrics-listen` on a listener of their own, never on the HTTPS port. One registry per server,
 * so that servers (and tests) in one process count apart; the ingest, housekeeping and closed
 * connection counters are the exceptions, counted wherever the work runs and shown by every
 * server of the process.
 *
 * Labels hold route patterns, methods, status codes, outcomes and dependency names: fixed,
 * small sets. Nothing identifying is ever a label or a value (no URL as sent, no id, no address).
 * Figures from the database are read when scraped, under the readiness timeout; one that cannot
 * be read then is NaN, and the scrape itself still answers.
 */
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Vault } from '../vault.js';
import { CHECK_TIMEOUT_MS, type Dependency, type Readiness } from './readiness.js';

export type IngestOutcome = 'stored' | 'duplicate' | 'failed';

const ingests = new Counter({
  name: 'callvault_ingest_total',
  help: 'Uploads handled by the store path in this process, by outcome',
  labelNames: ['outcome'],
  registers: [],
});
for (const outcome of ['stored', 'duplicate', 'failed'] satisfies IngestOutcome[]) ingests.inc({ outcome }, 0);

/** counts one upload's outcome: `stored` (a new recording), `duplicate` (already stored), `failed` */
export function countIngest(outcome: IngestOutcome): void {
  ingests.inc({ outcome });
}

/** interrupted attempts the housekeeping of this process settled (src/recordings/attempts.ts) */
export const settledAttempts = new Counter({
  name: 'callvault_housekeeping_attempts_total',
  help: 'Interrupted upload and import attempts settled by the housekeeping in this process: completed (object durable, audited, made visible) or removed',
  labelNames: ['outcome'],
  registers: [],
});
for (const outcome of ['completed', 'removed']) settledAttempts.inc({ outcome }, 0);

export type CloseReason = 'address-cap' | 'upload-stalled' | 'idle';

/** connections this process closed to protect itself (src/http/connection-limits.ts) */
export const closedConnections = new Counter({
  name: 'callvault_connections_closed_total',
  help: 'Client connections closed by the server: over the per-address cap, an upload that stalled, or idle while the server waited on the client',
  labelNames: ['reason'],
  registers: [],
});
for (const reason of ['address-cap', 'upload-stalled', 'idle'] satisfies CloseReason[]) closedConnections.inc({ reason }, 0);

/** seconds; uploads of long calls over slow links take minutes */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
/** seconds; a durable commit takes about a millisecond on a local disk */
const APPEND_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

const IMPORT_OUTCOMES = ['imported', 'duplicate', 'skipped', 'failed'] as const;
/** import summaries read per scrape at most; the rest are counted by the next scrapes */
const IMPORT_ENTRIES_PER_SCRAPE = 10_000;

export class ServerMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'method' | 'route' | 'status'>;
  readonly #requestSeconds: Histogram<'method' | 'route'>;
  readonly #stopListening: () => void;

  constructor(vault: Vault, readiness: Readiness) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    // sums of the per-type gauges beside them, named like counters: Prometheus' linter refuses them
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name);
    this.registry.registerMetric(ingests);
    this.registry.registerMetric(settledAttempts);
    this.registry.registerMetric(closedConnections);

    this.#requests = new Counter({
      name: 'callvault_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.#requestSeconds = new Histogram({
      name: 'callvault_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method and route pattern',
      labelNames: ['method', 'route'],
      buckets: REQUEST_BUCKETS,
      registers,
    });

    const appends = new Counter({ name: 'callvault_audit_appends_total', help: 'Audit log appends in this process, by outcome', labelNames: ['outcome'], registers });
    for (const outcome of ['written', 'failed']) appends.inc({ outcome }, 0);
    const appendSeconds = new Histogram({
      name: 'callvault_audit_append_duration_seconds',
      help: 'Time to append one audit entry, failures included',
      buckets: APPEND_BUCKETS,
      registers,
    });
    this.#stopListening = vault.audit.onAppend((ok, seconds) => {
      appends.inc({ outcome: ok ? 'written' : 'failed' });
      appendSeconds.observe(seconds);
    });

    new Gauge({
      name: 'callvault_dependency_up',
      help: 'Whether each readiness check passes now (1) or not (0): database, blobs, keys, audit',
      labelNames: ['dependency'],
      registers,
      async collect() {
        const { checks } = await readiness.check();
        for (const [dependency, state] of Object.entries(checks) as [Dependency, string][]) this.set({ dependency }, state === 'ok' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'callvault_keys_unlocked',
      help: 'Whether the key provider is unlocked (1) or locked (0)',
      registers,
      collect() {
        this.set(vault.keys.unlocked ? 1 : 0);
      },
    });

    const figures = new VaultFigures(vault);
    new Gauge({
      name: 'callvault_pending_recordings',
      help: 'Upload and import attempts not (yet) stored: recordings rows in state pending',
      registers,
      async collect() {
        this.set((await figures.read()).pending);
      },
    });
    new Gauge({
      name: 'callvault_audit_checkpoint_age_seconds',
      help: 'Seconds since the latest signed audit checkpoint was made (NaN: none yet)',
      registers,
      async collect() {
        this.set((await figures.read()).checkpointAge);
      },
    });
    new Gauge({
      name: 'callvault_audit_unsigned_entries',
      help: 'Audit entries appended after the latest signed checkpoint',
      registers,
      async collect() {
        this.set((await figures.read()).unsigned);
      },
    });
    const imports = new Counter({
      name: 'callvault_import_files_total',
      help: 'Files handled by `callvault import` runs on this vault, from their audit summaries, by outcome',
      labelNames: ['outcome'],
      registers,
      collect: () =>
        figures.countImports((counted) => {
          for (const outcome of IMPORT_OUTCOMES) imports.inc({ outcome }, counted[outcome]);
        }),
    });
  }

  /** one answered request; `route` is the route pattern, or `unmatched` */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.#requests.inc({ method, route, status: String(status) });
    this.#requestSeconds.observe({ method, route }, seconds);
  }

  close(): void {
    this.#stopListening();
  }
}

interface Figures {
  pending: number;
  checkpointAge: number;
  unsigned: number;
}

/**
 * The figures read from the database when scraped: one read for all the gauges that show them,
 * bounded by the readiness timeout so that a frozen database leaves them NaN.
 */
class VaultFigures {
  /** a read still running (a frozen database): later scrapes wait on it rather than start another */
  #reading?: Promise<Figures>;
  #countingImports?: Promise<void>;
  /** the audit position from which import summaries are still to be counted */
  #importCursor = 0;

  constructor(private readonly vault: Vault) {}

  read(): Promise<Figures> {
    this.#reading ??= this.#query().finally(() => (this.#reading = undefined));
    return bounded(this.#reading, { pending: NaN, checkpointAge: NaN, unsigned: NaN });
  }

  async #query(): Promise<Figures> {
    const db = this.vault.database.db;
    const [pending, head, checkpoint] = await Promise.all([
      db
        .selectFrom('recordings')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('state', '=', 'pending')
        .executeTakeFirstOrThrow(),
      db.selectFrom('audit_head').select('size').where('id', '=', 1).executeTakeFirstOrThrow(),
      db.selectFrom('audit_checkpoints').select(['size', 'created_at']).orderBy('size', 'desc').limit(1).executeTakeFirst(),
    ]);
    return {
      pending: Number(pending.n),
      checkpointAge: checkpoint ? Math.max(0, (Date.now() - Date.parse(checkpoint.created_at)) / 1000) : NaN,
      unsigned: Number(head.size) - (checkpoint ? Number(checkpoint.size) : 0),
    };
  }

  /**
   * Hands `add` the files counted by the `recording.import` summaries appended since the last
   * read. `callvault import` runs in a process of its own, so the server learns of imports from
   * the audit log (through its action index). One read at a time, and a read that ends after its
   * scrape gave up still hands over its counts (the next scrape shows them), so each summary is
   * counted once.
   */
  countImports(add: (counted: Record<(typeof IMPORT_OUTCOMES)[number], number>) => void): Promise<void> {
    this.#countingImports ??= this.#readImports()
      .then(add, () => {})
      .finally(() => (this.#countingImports = undefined));
    return bounded(this.#countingImports, undefined);
  }

  async #readImports(): Promise<Record<(typeof IMPORT_OUTCOMES)[number], number>> {
    const rows = await this.vault.database.db
      .selectFrom('audit_entries')
      .select(['seq', 'entry'])
      .where('action', '=', 'recording.import')
      .where('seq', '>=', this.#importCursor)
      .orderBy('seq')
      .limit(IMPORT_ENTRIES_PER_SCRAPE)
      .execute();
    const counted = { imported: 0, duplicate: 0, skipped: 0, failed: 0 };
    for (const row of rows) {
      this.#importCursor = Number(row.seq) + 1;
      const detail = summaryDetail(row.entry);
      if (detail?.stage !== 'end') continue;
      counted.imported += count(detail.stored);
      counted.duplicate += count(detail.duplicates);
      counted.skipped += count(detail.skipped);
      counted.failed += count(detail.failed);
    }
    return counted;
  }
}

function summaryDetail(entry: string): Record<string, unknown> | undefined {
  try {
    return (JSON.parse(entry) as { detail?: Record<string, unknown> }).detail;
  } catch {
    // append writes JSON only; a row that is not is for `audit verify` to report, not for a scrape to fail on
    return undefined;
  }
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : 0;
}

/** `work`'s result, or `fallback` when it fails or takes longer than the readiness timeout */
async function bounded<T>(work: Promise<T>, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([work.catch(() => fallback), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A plain-HTTP listener that answers `GET /metrics` with the registry in the Prometheus text
 * format, and 404 to anything else. It carries no credentials and no personal data, so it needs
 * neither TLS nor authentication, but it is meant for a loopback address or a monitoring network.
 */
export async function listenMetrics(metrics: ServerMetrics, host: string, port: number): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : text),
      () => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics could not be collected\n'),
    );
  });
  server.requestTimeout = 30_000;
  server.listen(port, host);
  await once(server, 'listening');
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return {
    server,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/metrics`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
