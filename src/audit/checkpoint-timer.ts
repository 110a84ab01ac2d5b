/**
 * Signs a checkpoint every `intervalMs` while the log grows, and once more when stopped, so that
 * the entries no checkpoint covers yet (which anyone with the database could still rewrite
 * unnoticed) are never more than one interval old. With several servers on one database, the one
 * holding the `audit-checkpoint` lease signs on the timer; each signs once at its own shutdown
 * (a checkpoint of a size already signed is the same note, stored once).
 */
import { holdLease, releaseLease } from '../util/lease.js';
import type { Vault } from '../vault.js';

const LEASE = 'audit-checkpoint';

export interface CheckpointTimer {
  stop(): Promise<void>;
}

export function startCheckpointTimer(vault: Vault, intervalMs: number, report: (message: string) => void): CheckpointTimer {
  let running: Promise<void> = Promise.resolve();
  const tick = (always = false) => {
    running = running.then(async () => {
      try {
        // three missed intervals and another server takes over
        if (!always && !(await holdLease(vault, LEASE, 3 * intervalMs))) return;
        const made = await (await vault.auditCheckpoints()).make();
        for (const w of made.witnesses) if (!w.ok) report(`witness ${w.witness} did not take checkpoint ${made.checkpoint.size}: ${w.error}`);
      } catch (err) {
        report(`the audit checkpoint could not be signed: ${(err as Error).message}`);
      }
    });
    return running;
  };
  const timer = intervalMs > 0 ? setInterval(() => void tick(), intervalMs) : undefined;
  timer?.unref();
  return {
    async stop() {
      if (timer) clearInterval(timer);
      await tick(true);
      await releaseLease(vault, LEASE);
    },
  };
}
