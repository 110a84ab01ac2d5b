/**
 * Shared by the audit tests: a data directory on SQLite or a throwaway PostgreSQL with a log of
 * realistic entries and two checkpoints, and a snapshot of the audit tables to put back after a
 * test has tampered with them.
 */
import { Vault } from '../../src/vault.js';
import type { AuditEvent } from '../../src/audit/audit-log.js';
import { TEST_KDF } from '../http/harness.js';
import { PASSPHRASE, tempDir, throwawayPostgres } from '../helpers.js';

export const RECORDING = '0192a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b';

/** entry i: every third a playback of RECORDING, the others searches by an identifier hash */
export function auditEvent(i: number): AuditEvent {
  const actor = { type: 'user' as const, id: `u-${i % 7}`, name: `user${i % 7}`, role: 'nurse' };
  if (i % 3 === 0)
    return { action: 'recording.play', outcome: 'success', actor, recordingId: RECORDING, purpose: 'quality-review', detail: { range: { start: i, end: i + 1000 } } };
  return { action: 'recordings.list', outcome: 'success', actor, detail: { region: 'north', [i % 2 ? 'phoneHash' : 'personnummerHash']: `${i % 5}`.repeat(64) } };
}

export interface SeededVault {
  vault: Vault;
  dataDir: string;
  databaseUrl?: string;
  close(): Promise<void>;
}

/** a vault holding `entries` entries, with checkpoints at `firstCheckpoint` and at the end */
export async function seededVault(dialect: 'sqlite' | 'postgres', label: string, entries: number, firstCheckpoint: number): Promise<SeededVault> {
  const dataDir = await tempDir('data', `${label}-${dialect}`);
  const pg = dialect === 'postgres' ? await throwawayPostgres() : undefined;
  const vault = await Vault.create(dataDir, { passphrase: PASSPHRASE, controllerId: 'region-a', controllerName: 'Region A', kdf: TEST_KDF }, { databaseUrl: pg?.url });
  for (let i = 0; i < firstCheckpoint; i++) await vault.audit.append(auditEvent(i));
  await (await vault.auditCheckpoints()).make();
  for (let i = firstCheckpoint; i < entries; i++) await vault.audit.append(auditEvent(i));
  await (await vault.auditCheckpoints()).make();
  return {
    vault,
    dataDir,
    databaseUrl: pg?.url,
    async close() {
      await vault.close();
      await pg?.drop();
    },
  };
}

export type AuditRows = { entries: any[]; head: any[]; checkpoints: any[]; subtrees: any[] };

export async function snapshot(vault: Vault): Promise<AuditRows> {
  const db = vault.database.db;
  return {
    entries: await db.selectFrom('audit_entries').selectAll().orderBy('seq').execute(),
    head: await db.selectFrom('audit_head').selectAll().execute(),
    checkpoints: await db.selectFrom('audit_checkpoints').selectAll().execute(),
    subtrees: await db.selectFrom('audit_subtrees').selectAll().execute(),
  };
}

export async function restore(vault: Vault, rows: AuditRows): Promise<void> {
  await vault.database.db.transaction().execute(async (tx) => {
    for (const table of ['audit_entries', 'audit_head', 'audit_checkpoints', 'audit_subtrees'] as const) await tx.deleteFrom(table).execute();
    for (let i = 0; i < rows.entries.length; i += 200)
      await tx
        .insertInto('audit_entries')
        .values(rows.entries.slice(i, i + 200))
        .execute();
    await tx.insertInto('audit_head').values(rows.head).execute();
    if (rows.checkpoints.length) await tx.insertInto('audit_checkpoints').values(rows.checkpoints).execute();
    if (rows.subtrees.length) await tx.insertInto('audit_subtrees').values(rows.subtrees).execute();
  });
}
