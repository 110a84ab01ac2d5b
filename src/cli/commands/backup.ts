import type { Command } from 'commander';
import { embeddedOnly, type BackupReport } from '../../backup/backup.js';
import type { RestoreReport } from '../../backup/restore.js';
import { restoreVault } from '../../services/backup.js';
import type { MissingObject } from '../../backup/manifest.js';
import { count, dataDir, environment, operator, print, withServices, type GlobalOptions } from '../io.js';

export function register(program: Command, globals: () => GlobalOptions): void {
  program
    .command('backup')
    .description('copy the data directory (a consistent snapshot of the SQLite database, the objects, a manifest) while it is in use; needs no passphrase')
    .requiredOption('--out <dir>', 'a new or empty directory for the backup')
    .option('--include-keyring', 'also copy the keyring and the audit signing key: the backup and the passphrase then open every recording in it')
    .action(async (cmd: { out: string; includeKeyring?: boolean }) => {
      const opts = { ...globals(), ...cmd };
      const env = environment(opts.config);
      // told before anything is opened: this command does not cover those deployments
      if (env.databaseUrl || env.blobUrl) throw embeddedOnly();
      const report = await withServices(opts, (services, actor) => services.backup.backup(actor, { out: cmd.out, includeKeyring: Boolean(cmd.includeKeyring) }));
      const problems = report.missing.filter((m) => m.reason !== 'deleted-after-snapshot');
      print(opts, { ok: problems.length === 0, ...report }, () => backupText(report, problems));
      if (problems.length > 0) process.exitCode = 1;
    });

  program
    .command('restore')
    .description('restore a backup into a new or empty data directory (--data), checking every file against its manifest; needs no passphrase')
    .requiredOption('--from <dir>', 'a directory written by `callvault backup`')
    .action(async (cmd: { from: string }) => {
      const opts = { ...globals(), ...cmd };
      const report = await restoreVault(operator(), { from: cmd.from, dataDir: dataDir(opts) });
      print(opts, report, () => restoreText(report));
    });
}

function missingLine(m: MissingObject): string {
  const what = `${m.kind === 'rendition' ? 'redacted rendition' : 'object'} of recording ${m.recordingId}`;
  if (m.reason === 'deleted-after-snapshot') return `missing  ${what}: deleted after the snapshot (an erasure, or a redaction made again); a restore applies it again`;
  return `PROBLEM  ${what}: ${m.reason === 'lost' ? 'missing from the object store' : 'differs from what was written'}; not in the backup (run \`callvault verify\`)`;
}

function backupText(r: BackupReport, problems: MissingObject[]): string {
  return [
    ...r.missing.map(missingLine),
    `backup ${r.backupId} written to ${r.out}: snapshot at ${r.takenAt}, audit log ${count(r.audit.size, 'entry', 'entries')} (root ${r.audit.rootHash}), schema ${r.schema}`,
    `${count(r.objects, 'object')} (${r.bytes} bytes) copied and checked${r.missing.length ? `, ${r.missing.length} missing` : ''}${r.pending ? `; ${count(r.pending, 'recording')} being written at the snapshot ${r.pending === 1 ? 'is' : 'are'} not in it` : ''}`,
    r.keyring
      ? 'the backup holds the keyring and the audit signing key: with the passphrase it opens every recording in it; keep it as safe as the passphrase'
      : 'the backup holds no keyring: a restore needs keyring.json and audit-signing.key from where you keep them',
    ...(problems.length ? [`${count(problems.length, 'object')} could not be backed up: the backup is complete otherwise`] : []),
  ].join('\n');
}

function restoreText(r: RestoreReport): string {
  return [
    ...r.lost.map(missingLine),
    `restored backup ${r.backupId} into ${r.dataDir}: ${count(r.objects, 'object')} (${r.bytes} bytes) checked against the manifest`,
    `this is the vault as it was at ${r.takenAt} (audit log ${count(r.auditSize, 'entry', 'entries')}): everything done after that is undone, and recordings erased after it are back with their keys (docs/deployment.md); repeat those erasures`,
    ...(r.erasedAgain.length ? [`${count(r.erasedAgain.length, 'recording')} erased while the backup was taken erased again: ${r.erasedAgain.join(', ')}`] : []),
    ...(r.renditionsDropped ? [`${r.renditionsDropped} redacted renditions made again after the snapshot were dropped: \`callvault redact\` or \`serve\` makes them`] : []),
    ...(r.pendingRemoved ? [`${count(r.pendingRemoved, 'recording')} being written at the snapshot removed`] : []),
    ...(r.sessionsEnded ? [`${count(r.sessionsEnded, 'session')} ended: users sign in again`] : []),
    r.keyring
      ? 'the keyring was restored with it'
      : r.keysAt === 'data-dir'
        ? `the backup holds no keyring: put keyring.json and audit-signing.key into ${r.dataDir}/keys/ before using it`
        : 'its keys are kept apart from the data directory: set CALLVAULT_KMS as for the original (and put audit-signing.key beside the keyring, or in keys/ with an HSM)',
  ].join('\n');
}
