import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { importPaths, type ImportReport } from '../../import/importer.js';
import { indexPending } from '../../recordings/indexer.js';
import { redactPending } from '../../redaction/backlog.js';
import { cliActor, openVault, passphrase, positiveInt, print, type GlobalOptions } from '../io.js';

export function register(program: Command, globals: () => GlobalOptions): void {
  program
    .command('import')
    .description('encrypt and store WAV and MP3 recordings (files or directories, recursively); needs no passphrase')
    .argument('<paths...>', 'files or directories')
    .option('--metadata <file.csv>', 'CSV with a "file" column and the sidecar keys')
    .option('--shred-source', 'delete each source file once its stored copy has been read back, decrypted and compared (needs the passphrase)')
    .option('--concurrency <n>', 'files in flight', positiveInt, 4)
    .action(async (paths: string[], cmd: { metadata?: string; shredSource?: boolean; concurrency: number }) => {
      const opts = { ...globals(), ...cmd };
      const vault = await openVault(opts);
      let report: ImportReport;
      const bar = !opts.json && process.stderr.isTTY ? new cliProgress.SingleBar(
        { format: 'importing [{bar}] {percentage}% | {value_mb}/{total_mb} MB | {files} files | eta {eta_formatted}', stream: process.stderr, hideCursor: true },
        cliProgress.Presets.shades_classic,
      ) : undefined;
      try {
        // A passphrase given in the environment lets import write blind indexes straight away.
        if (opts.shredSource || opts.config.passphrase) await vault.unlock(await passphrase(opts.config));
        // nothing is stored without a trace: the start is logged first, and a log that cannot be
        // written stops the import before it begins
        await vault.audit.append({ action: 'recording.import', outcome: 'success', actor: cliActor(), detail: { stage: 'start', sources: paths.length } });
        let done = 0;
        let total = 0;
        report = await importPaths(vault, paths, {
          metadataCsv: opts.metadata,
          shredSource: opts.shredSource,
          concurrency: opts.concurrency,
          onStart: (bytes, files) => {
            total = bytes;
            bar?.start(bytes, 0, { files, value_mb: '0', total_mb: (bytes / 1e6).toFixed(1) });
          },
          onBytes: (n) => {
            done += n;
            bar?.update(Math.min(done, total), { value_mb: (done / 1e6).toFixed(1) });
          },
        });
        // The recordings are stored by now. Indexing can fail on its own (a full disk) and is
        // done again by the next command that unlocks the keyring, so it does not hide the report.
        if (vault.keys.unlocked) {
          await indexPending(vault).catch(() => {
            process.stderr.write('callvault: the stored recordings could not be indexed yet; the next command run with the passphrase indexes them\n');
            process.exitCode = 1;
          });
          // and examined for identifiers: otherwise `serve` or `callvault redact` does it later
          const examined = await redactPending(vault, { ...vault.redaction(), actor: cliActor() }).catch(() => {
            process.stderr.write('callvault: the stored recordings could not be examined for identifiers yet; `callvault redact` does it\n');
            process.exitCode = 1;
            return undefined;
          });
          if (examined) report.redaction = examined.byState;
        }
        const duplicates = report.skipped.filter((r) => r.reason.startsWith('already stored')).length;
        // The recordings are stored by now, so a summary that cannot be logged (a full disk, say)
        // must not hide the report of what was stored; it is told, and the exit status says it.
        try {
          await vault.audit.append({
            action: 'recording.import',
            outcome: report.failed.length > 0 ? 'failure' : 'success',
            actor: cliActor(),
            detail: { stage: 'end', stored: report.imported.length, duplicates, skipped: report.skipped.length - duplicates, failed: report.failed.length },
          });
        } catch (err) {
          process.stderr.write(`callvault: ${(err as Error).message}: the import's summary is not in the audit log\n`);
          process.exitCode = 1;
        }
      } finally {
        bar?.stop();
        await vault.close();
      }
      for (const w of report.warnings ?? []) process.stderr.write(`callvault: warning: ${w}\n`);
      print(opts, report, () => {
        const lines = [
          ...report.imported.map((r) => `imported  ${r.path}  ${r.id}`),
          ...report.skipped.map((r) => `skipped   ${r.path}: ${r.reason}`),
          ...report.failed.map((r) => `FAILED    ${r.path}: ${r.reason}`),
          `${report.imported.length} imported, ${report.skipped.length} skipped, ${report.failed.length} failed`,
          ...(report.redaction ? [`redaction: ${Object.entries(report.redaction).map(([state, n]) => `${n} ${state}`).join(', ') || 'nothing to examine'}`] : []),
        ];
        return lines.join('\n');
      });
      if (report.failed.length > 0) process.exitCode = 1;
    });
}
