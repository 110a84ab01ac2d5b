import type { Command } from 'commander';
import { verifyStore } from '../../recordings/verify.js';
import { openUnlocked, openVault, print, type GlobalOptions } from '../io.js';

export function register(program: Command, globals: () => GlobalOptions): void {
  program
    .command('verify')
    .description('check every stored object against its recorded hash; --deep decrypts every segment (needs the passphrase)')
    .option('--deep', 'decrypt every segment and compare with the original hash')
    .action(async (cmd: { deep?: boolean }) => {
      const opts = { ...globals(), ...cmd };
      const vault = cmd.deep ? await openUnlocked(opts) : await openVault(opts);
      try {
        const report = await verifyStore(vault, { deep: Boolean(cmd.deep) });
        const ok = report.problems.length === 0;
        print(opts, { ok, ...report }, () =>
          [
            ...report.problems.map((p) => `PROBLEM  ${p.recordingId ? `recording ${p.recordingId}` : `object ${p.object}`}: ${p.problem}`),
            `${report.checked} recordings checked${report.deep ? ' (deep)' : ''}, ${report.problems.length} problems (${report.counts.interrupted} interrupted attempts, ${report.counts.strayObjects} objects of no recording; ${report.counts.inFlight} being written now)`,
          ].join('\n'),
        );
        if (!ok) process.exitCode = 1;
      } finally {
        await vault.close();
      }
    });
}
