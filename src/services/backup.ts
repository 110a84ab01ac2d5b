/**
 * Backup and restore of an embedded data directory (docs/deployment.md, Backup and restore): what
 * `callvault backup` and `callvault restore` do. The operator's `vault.backup` entry is in the live
 * log before any object is copied, and a failure adds one with outcome `failure`; `vault.restore`
 * is the first entry of the restored log after the snapshot.
 */
import { backupVault, type BackupOptions, type BackupReport } from '../backup/backup.js';
import { restoreBackup, type RestoreOptions, type RestoreReport } from '../backup/restore.js';
import { CallvaultError, ErrorCodes } from '../errors.js';
import { can } from '../policy/policy.js';
import type { Vault } from '../vault.js';
import { principalOf, type Actor } from './actor.js';
import type { AuditTrail } from './audit-trail.js';

export class BackupService {
  /**
   * The whole vault: a backup copies all of it (the SQLite database through its backup API, the
   * object store, the data directory's config and keys).
   */
  constructor(
    private readonly vault: Vault,
    private readonly trail: AuditTrail,
  ) {}

  async backup(actor: Actor, options: Omit<BackupOptions, 'record'>): Promise<BackupReport> {
    await this.trail.authorize(actor, 'vault:backup', 'vault.backup');
    return backupVault(this.vault, { ...options, record: (event) => this.trail.record(actor, event) });
  }
}

/**
 * Restores a backup into a new data directory. No vault is open (the target is empty), so this is
 * no method of the services over one: its entries go to the restored log, written as the actor's.
 */
export async function restoreVault(actor: Actor, options: Omit<RestoreOptions, 'actor'>): Promise<RestoreReport> {
  const principal = principalOf(actor);
  // there is no log yet to hold a refusal: the restored one is written only by an allowed restore
  if (!principal || !can(principal, 'vault:restore')) throw new CallvaultError(ErrorCodes.FORBIDDEN, 'your role does not allow this');
  return restoreBackup({ ...options, actor });
}
