/**
 * The jobs a server runs beside answering requests, each as callvault itself (a system actor):
 * signed checkpoints of the audit log, the redaction backlog, and settling ingest attempts whose
 * writer died.
 */
import { startCheckpointTimer } from '../audit/checkpoint-timer.js';
import { isCallvaultError } from '../errors.js';
import { RedactionWorker } from '../redaction/backlog.js';
import { startHousekeeping } from '../recordings/attempts.js';
import type { Vault } from '../vault.js';

export interface BackgroundOptions {
  checkpointIntervalMs: number;
  housekeepingIntervalMs: number;
  warn: (message: string) => void;
  /** a redaction backlog that stopped: the error's code only */
  redactionStopped: (code: string) => void;
  housekeepingReport: (report: { completed: number; removed: number }) => void;
}

/** starts every background job; the answer stops them all */
export function startBackgroundJobs(vault: Vault, options: BackgroundOptions): { stop: () => Promise<void> } {
  const checkpoints = startCheckpointTimer(vault, options.checkpointIntervalMs, options.warn);
  // recordings imported while the keyring was locked are examined for identifiers in the background
  const redaction = new RedactionWorker(vault, vault.redaction(), 60_000, (err) => options.redactionStopped(isCallvaultError(err) ? err.code : 'error'));
  redaction.start();
  // attempts of writers that died (a killed server or importer) are settled now and every few minutes
  const housekeeping = startHousekeeping(vault, options.housekeepingIntervalMs, options.warn, options.housekeepingReport);
  return {
    stop: async () => {
      await redaction.stop();
      await housekeeping.stop();
      await checkpoints.stop();
    },
  };
}
