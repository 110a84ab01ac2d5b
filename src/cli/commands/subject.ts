/**
 * `callvault subject …`: what the vault holds about one person, for a data subject's request.
 */
import type { Command } from 'commander';
import { accessLogEvent, subjectAccessLog } from '../../audit/subject-access-log.js';
import type { Vault } from '../../vault.js';
import { cliActor, print, withVault, type GlobalOptions } from '../io.js';
import { identifierOption } from './audit.js';
import { findByIdentifier } from '../../recordings/indexer.js';

type Work = (vault: Vault, opts: GlobalOptions, kind: 'personnummer' | 'phone', value: string) => Promise<void>;

export function register(program: Command, globals: () => GlobalOptions): void {
  const subject = program.command('subject').description("one person's recordings and who accessed them");
  /** a subcommand about one person, named by --personnummer or --phone, on the unlocked vault */
  const command = (name: string, description: string, work: Work) =>
    subject
      .command(name)
      .description(`${description} (needs the passphrase)`)
      .option('--personnummer <value>')
      .option('--phone <value>')
      .action(async (cmd: { personnummer?: string; phone?: string }) => {
        const opts = globals();
        const { kind, value } = await identifierOption(cmd);
        await withVault(opts, (vault) => work(vault, opts, kind, value), true);
      });

  command('find', "the person's recordings: their number or personnummer in the metadata, or spoken in the call", async (vault, opts, kind, value) => {
    const hits = await findByIdentifier(vault, kind, value);
    await vault.audit.append({ action: 'subject.find', outcome: 'success', actor: cliActor(), detail: { [`${kind}Hash`]: vault.audit.identifierHash(kind, value), results: hits.length } });
    const recordings = hits.map((h) => ({ id: h.row.id, controllerId: h.row.controller_id, startedAt: h.row.started_at, durationMs: h.row.duration_ms, redaction: h.row.redaction, foundIn: h.foundIn }));
    print(opts, { recordings }, () =>
      [`${recordings.length} recordings`, ...recordings.map((r) => `${r.id}  ${r.controllerId}  ${r.startedAt ?? '-'}  found in ${r.foundIn.join(' and ')}  (redaction: ${r.redaction})`)].join('\n'),
    );
  });

  command('access-log', "every access to the person's recordings: who, when, what, purpose, break-the-glass", async (vault, opts, kind, value) => {
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
  });
}
