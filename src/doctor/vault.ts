/**
 * Checks that read the metadata database: the audit log's witness and checkpoints, and each
 * controller's retention. They read rows only; nothing is decrypted or written.
 */
import { isCallvaultError } from '../errors.js';
import type { Vault } from '../vault.js';
import { fail, ok, warn, type Finding } from './finding.js';

const DAY_MS = 86_400_000;

export function checkWitness(auditWitness: string | undefined): Finding[] {
  // the variable may carry a token: say only how many witnesses it names
  if (auditWitness) return [ok('audit-witness', `${auditWitness.split(',').filter((w) => w.trim()).length} audit log witnesses configured`)];
  return [
    warn(
      'audit-witness',
      'no witness is configured for the audit log: a rewritten log would go unnoticed by anyone outside this host',
      'set CALLVAULT_AUDIT_WITNESS (docs/audit-log.md)',
    ),
  ];
}

export async function checkCheckpoint(vault: Vault, now = new Date()): Promise<Finding[]> {
  // read directly: AuditCheckpoints would create a signing key that is missing
  const db = vault.database.db;
  const latest = await db.selectFrom('audit_checkpoints').select(['size', 'created_at']).orderBy('size', 'desc').limit(1).executeTakeFirst();
  const head = await db.selectFrom('audit_head').select('size').where('id', '=', 1).executeTakeFirst();
  const fix = 'run `callvault serve` (it signs checkpoints while the log grows, --checkpoint-interval) or `callvault audit checkpoint` from cron';
  if (!latest) return [warn('audit-checkpoint', 'the audit log has no signed checkpoint', fix)];
  // an idle log needs no new checkpoint: only entries a day old and still unsigned are a finding
  const unsigned = Number(head?.size ?? 0) - Number(latest.size);
  if (unsigned > 0 && now.getTime() - Date.parse(latest.created_at) > DAY_MS)
    return [warn('audit-checkpoint', `the newest audit checkpoint is from ${latest.created_at}, more than a day ago, and ${unsigned} entries since are unsigned`, fix)];
  return [ok('audit-checkpoint', `the newest audit checkpoint is from ${latest.created_at}`)];
}

export async function checkRetention(vault: Vault): Promise<Finding[]> {
  const controllers = await vault.controllers.list();
  const withPolicy = new Set((await vault.retention.policies()).map((p) => p.controller_id));
  return controllers.map((c) =>
    withPolicy.has(c.id)
      ? ok('retention', `controller ${c.id} has a retention set`)
      : warn('retention', `controller ${c.id} has no retention set: its recordings are kept until erased`, `callvault retention set --controller ${c.id} --days N`),
  );
}

/** opening the vault fails when the database or the HSM cannot be reached */
export function unreachable(err: unknown): Finding {
  // CallvaultError messages name no secret; anything else is reported by its kind only
  const message = isCallvaultError(err) ? err.message : 'the vault cannot be opened';
  return fail('vault', message, 'check CALLVAULT_DATABASE_URL, CALLVAULT_KMS and that the database and HSM are reachable; `callvault verify` says more');
}
