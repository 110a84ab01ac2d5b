import type { Command } from 'commander';
import { count, print, withServices, type GlobalOptions } from '../io.js';

export function register(program: Command, globals: () => GlobalOptions): void {
  program
    .command('verify')
    .description('check every stored object against its recorded hash; --deep decrypts every segment (needs the passphrase); audited as vault.verify')
    .option('--deep', 'decrypt every segment and compare with the original hash')
    .action(async (cmd: { deep?: boolean }) => {
      const opts = { ...globals(), ...cmd };
      const deep = Boolean(cmd.deep);
      const report = await withServices(opts, (services, actor) => services.recordings.verify(actor, { deep }), deep);
      const ok = report.problems.length === 0;
      print(opts, { ok, ...report }, () =>
        [
          ...report.problems.map((p) => `PROBLEM  ${p.recordingId ? `recording ${p.recordingId}` : `object ${p.object}`}: ${p.problem}`),
          `${count(report.checked, 'recording')} checked${report.deep ? ' (deep)' : ''}, ${count(report.problems.length, 'problem')} (${count(report.counts.interrupted, 'interrupted attempt')}, ${count(report.counts.strayObjects, 'object')} of no recording; ${report.counts.inFlight} being written now)`,
        ].join('\n'),
      );
      if (!ok) process.exitCode = 1;
    });
}
