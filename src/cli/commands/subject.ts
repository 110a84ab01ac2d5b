/**
 * `callvault subject …`: what the vault holds about one person, for a data subject's request.
 */
import type { Command } from 'commander';
import { accessLogEvent, subjectAccessLog } from '../../audit/subject-access-log.js';
import { cliActor, print, withVault, type GlobalOptions } from '../io.js';
import { identifierOption } from './audit.js';

export function register(program: Command, globals: () => GlobalOptions): void {
  const subject = program.command('subject').description("one person's recordings and who accessed them");

  subject
    .command('access-log')
    .description("every access to the person's recordings: who, when, what, purpose, break-the-glass (needs the passphrase)")
    .option('--personnummer <value>')
    .option('--phone <value>')
    .action(async (cmd: { personnummer?: string; phone?: string }) => {
      const opts = globals();
      const { kind, value } = await identifierOption(cmd);
      await withVault(opts, async (vault) => {
        const log = await subjectAccessLog(vault, kind, value);
        await vault.audit.append({ ...accessLogEvent(vault, kind, value, log), actor: cliActor() });
        print(opts, log, () =>
          [
            `${log.recordings.length} recordings, ${log.accesses.length} audited events`,
            ...log.accesses.map((a) =>
              [
                a.time,
                a.action,
                a.outcome,
                `${a.actor.type}:${a.actor.name ?? a.actor.id ?? '-'}${a.actor.role ? ` (${a.actor.role})` : ''}`,
                a.recordingId ?? 'search',
                a.purpose ? `purpose ${a.purpose}${a.purposeText ? `: ${a.purposeText}` : ''}` : '',
                a.breakGlass ? 'BREAK-THE-GLASS' : '',
              ]
                .filter(Boolean)
                .join('  '),
            ),
          ].join('\n'),
        );
      }, true);
    });
}
