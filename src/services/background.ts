/**
 * The jobs a server runs beside answering requests, each as callvault itself (a system actor):
 * signed checkpoints of the audit log, the redaction backlog, settling ingest attempts whose
 * writer died, the daily retention run, and the insider-misuse detector.
 */
import { startCheckpointTimer } from '../audit/checkpoint-timer.js';
import { isCallvaultError } from '../errors.js';
import { RedactionWorker } from '../redaction/backlog.js';
import { startHousekeeping } from '../recordings/attempts.js';
import type { Vault } from '../vault.js';
import { WRITER } from '../recordings/attempts.js';
import { systemActor } from './actor.js';
import { AuditTrail } from './audit-trail.js';
import { RetentionService } from './retention.js';
import { DetectorRunner } from '../alerts/runner.js';
import { parseAlertOutputs } from '../alerts/outputs.js';
import type { AlertView } from './alerts.js';
import { createServices } from './index.js';

export interface BackgroundOptions {
  checkpointIntervalMs: number;
  housekeepingIntervalMs: number;
  warn: (message: string) => void;
  /** a redaction backlog that stopped: the error's code only */
  redactionStopped: (code: string) => void;
  housekeepingReport: (report: { completed: number; removed: number }) => void;
  /** how often retention runs (a day); the first run a minute after start */
  retentionIntervalMs?: number;
  /** told of each alert the detector raises (the server logs it) */
  onAlert?: (alert: AlertView) => void;
}

/** one server at a time runs retention: the lease outlives a run of a large archive */
const RETENTION_LEASE_MS = 3 * 3_600_000;

/**
 * The daily retention run (src/retention/run.ts) under a lease, so that one server at a time
 * destroys keys; a server without the keyring runs none (the operator's `retention run` does).
 */
function startRetention(vault: Vault, intervalMs: number, warn: (message: string) => void): { stop(): Promise<void> } {
  const service = new RetentionService(vault, new AuditTrail(vault.audit));
  let running: Promise<void> | undefined;
  const run = () => {
    if (!vault.keys.unlocked) return;
    running ??= vault.coordination
      .acquireLease('retention', WRITER, RETENTION_LEASE_MS)
      .then(async (held) => {
        if (held) await service.run(systemActor('retention'), { dryRun: false });
      })
      .catch((err) => warn(`retention run failed (${isCallvaultError(err) ? err.code : 'error'}); it is tried again at the next interval`))
      .finally(() => {
        running = undefined;
      });
  };
  const first = setTimeout(run, Math.min(60_000, intervalMs));
  const timer = setInterval(run, intervalMs);
  first.unref();
  timer.unref();
  return {
    async stop() {
      clearTimeout(first);
      clearInterval(timer);
      await running;
    },
  };
}

/** starts every background job; the answer stops them all */
export function startBackgroundJobs(vault: Vault, options: BackgroundOptions): { detector: DetectorRunner; stop: () => Promise<void> } {
  const checkpoints = startCheckpointTimer(vault, options.checkpointIntervalMs, options.warn);
  // recordings imported while the keyring was locked are examined for identifiers in the background
  const redaction = new RedactionWorker(vault, vault.redaction(), 60_000, (err) => options.redactionStopped(isCallvaultError(err) ? err.code : 'error'));
  redaction.start();
  // attempts of writers that died (a killed server or importer) are settled now and every few minutes
  const housekeeping = startHousekeeping(vault, options.housekeepingIntervalMs, options.warn, options.housekeepingReport);
  const retention = startRetention(vault, options.retentionIntervalMs ?? 86_400_000, options.warn);
  // every new audit entry goes through the insider-misuse rules (src/alerts/), on one server at a time
  const services = createServices(vault);
  const detector = new DetectorRunner(vault, services.alerts, services.alertSources, {
    timeZone: vault.timeZone,
    outputs: parseAlertOutputs(vault.alertOutputSpecs),
    warn: options.warn,
    onAlert: options.onAlert,
  });
  detector.start();
  return {
    detector,
    stop: async () => {
      await detector.stop();
      await retention.stop();
      await redaction.stop();
      await housekeeping.stop();
      await checkpoints.stop();
    },
  };
}
