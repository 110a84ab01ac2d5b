import type { Command } from 'commander';
import type { ImportRun } from '../../services/ingest.js';
import { operator, positiveInt, print, withVault, type GlobalOptions } from '../io.js';

export function register(program: Command, globals: () => GlobalOptions): void {
  program
    .command('import')
    .description('encrypt and store WAV and MP3 recordings (files or directories, recursively); needs no passphrase')
    .argument('<paths...>', 'files or directories')
    .option('--metadata <file.csv>', 'CSV with a "file" column and the sidecar keys')
    .option('--shred-source', 'delete each source file once its stored copy has been read back, decrypted and compared (needs the passphrase)')
    .option('--concurrency <n>', 'files in flight', positiveInt, 16)
    .action(async (paths: string[], cmd: { metadata?: string; shredSource?: boolean; concurrency: number }) => {
      const opts = { ...globals(), ...cmd };
      // the progress bar's module (and its 40 dependencies) only for a terminal that shows it
      const cliProgress = !opts.json && process.stderr.isTTY ? (await import('cli-progress')).default : undefined;
      const bar = cliProgress
        ? new cliProgress.SingleBar(
            { format: 'importing [{bar}] {percentage}% | {value_mb}/{total_mb} MB | {files} files | eta {eta_formatted}', stream: process.stderr, hideCursor: true },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
      let done = 0;
      let total = 0;
      // A passphrase given in the environment lets import write blind indexes straight away.
      const unlock = Boolean(opts.shredSource || opts.config.passphrase);
      let run: ImportRun;
      try {
        run = await withVault(
          opts,
          async (vault) => {
            // the ingest service alone, as createServices makes it: loading every service (and
            // what they use) would double the start-up of an import (docs/benchmarks.md)
            const [{ IngestService }, { AuditTrail }] = await Promise.all([import('../../services/ingest.js'), import('../../services/audit-trail.js')]);
            return new IngestService(vault, new AuditTrail(vault.audit)).importPaths(operator(), paths, {
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
          },
          unlock,
        );
      } finally {
        bar?.stop();
      }
      const { report } = run;
      if (run.incomplete.includes('indexing'))
        process.stderr.write('callvault: the stored recordings could not be indexed yet; the next command run with the passphrase indexes them\n');
      if (run.incomplete.includes('redaction')) process.stderr.write('callvault: the stored recordings could not be examined for identifiers yet; `callvault redact` does it\n');
      if (run.summaryNotLogged !== undefined) process.stderr.write(`callvault: ${run.summaryNotLogged}: the import's summary is not in the audit log\n`);
      if (run.incomplete.length > 0 || run.summaryNotLogged !== undefined) process.exitCode = 1;
      for (const w of report.warnings ?? []) process.stderr.write(`callvault: warning: ${w}\n`);
      // the redaction command's words, loaded only when there is a redaction outcome to tell
      const advice = report.redaction ? await import('./redact.js') : undefined;
      print(opts, report, () => {
        const lines = [
          ...report.imported.map((r) => `imported  ${r.path}  ${r.id}`),
          ...report.skipped.map((r) => `skipped   ${r.path}: ${r.reason}`),
          ...report.failed.map((r) => `FAILED    ${r.path}: ${r.reason}`),
          `${report.imported.length} imported, ${report.skipped.length} skipped, ${report.failed.length} failed`,
          ...(report.redaction && advice ? [`redaction: ${advice.states(report.redaction) || 'nothing to examine'}`, ...advice.redactionAdvice(report.redaction)] : []),
        ];
        return lines.join('\n');
      });
      if (report.failed.length > 0) process.exitCode = 1;
    });
}
