/**
 * `callvault subject …`: what the vault holds about one person, for a data subject's request:
 * find, access-log, export (art. 15) and erase (art. 17, src/subject/erase.ts).
 */
import type { Command } from 'commander';
import { createInterface } from 'node:readline/promises';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import { PURPOSE_TEXT_MIN } from '../../services/vocabulary.js';
import type { SubjectKind } from '../../subject/common.js';
import type { Services } from '../../services/index.js';
import type { Actor } from '../../services/actor.js';
import type { BegunExport, ErasureCandidate } from '../../services/subject-rights.js';
import type { Vault } from '../../vault.js';
import { asUsage, count, operator, print, text, withServices, withVault, writeThroughTemporary, type GlobalOptions } from '../io.js';
import { createServices } from '../../services/index.js';
import { identifierOption } from './audit.js';

type Work = (vault: Vault, opts: GlobalOptions, kind: SubjectKind, value: string) => Promise<void>;

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
    const hits = await createServices(vault).recordings.findSubject(operator(), { [kind]: value });
    const recordings = hits.map((h) => ({
      id: h.row.id,
      controllerId: h.row.controller_id,
      startedAt: h.row.started_at,
      durationMs: h.row.duration_ms,
      redaction: h.row.redaction,
      foundIn: h.foundIn,
    }));
    print(opts, { recordings }, () =>
      [
        count(recordings.length, 'recording'),
        ...recordings.map((r) => `${r.id}  ${r.controllerId}  ${r.startedAt ?? '-'}  found in ${r.foundIn.join(' and ')}  (redaction: ${r.redaction})`),
      ].join('\n'),
    );
  });

  subject
    .command('protect')
    .description('mark a person protected (skyddad identitet, or a VIP you name): any access to their calls raises an alert; stored as keyed digests only (needs the passphrase)')
    .option('--personnummer <value>')
    .option('--phone <value>')
    .requiredOption('--reason <text>', 'why, for the record (identifiers in it are replaced by labels)', text(1000))
    .action(async (cmd: { personnummer?: string; phone?: string; reason: string }) => {
      const opts = globals();
      if (!cmd.personnummer && !cmd.phone) throw new CallvaultError(ErrorCodes.USAGE, 'give --personnummer, --phone, or both: the person to protect');
      const marked = await withServices(opts, (services, actor) => asUsage(() => services.watchlists.protect(actor, cmd)), true);
      print(opts, marked, () => `protected ${marked.id} for ${marked.controllers.join(', ')}`);
    });

  subject
    .command('unprotect')
    .description("release a person's protected mark")
    .argument('<id>')
    .requiredOption('--reason <text>', 'why, for the audit log', text(1000))
    .action(async (id: string, cmd: { reason: string }) => {
      const opts = globals();
      const view = await withServices(opts, (services, actor) => asUsage(() => services.watchlists.unprotect(actor, id, cmd.reason)));
      print(opts, view, () => `protected mark ${view.id} released`);
    });

  subject
    .command('protected')
    .description('the persons marked protected (never their identifiers: only digests are kept)')
    .action(async () => {
      const opts = globals();
      const list = await withServices(opts, (services, actor) => services.watchlists.protectedList(actor));
      print(opts, list, () =>
        list.length === 0
          ? 'nobody is marked protected'
          : list.map((p) => `${p.id}  ${p.createdAt}  ${p.createdBy}  ${p.released ? `released ${p.releasedAt}` : 'active'}  ${p.reason}`).join('\n'),
      );
    });

  subject
    .command('access-log')
    .description("every access to the person's recordings: who, when, what, purpose, break-the-glass (needs the passphrase)")
    .option('--personnummer <value>')
    .option('--phone <value>')
    .action(async (cmd: { personnummer?: string; phone?: string }) => {
      const opts = globals();
      const { kind, value } = await identifierOption(cmd);
      const log = await withServices(opts, (services, actor) => asUsage(() => services.subjectRights.accessLog(actor, { [kind]: value })), true);
      print(opts, log, () =>
        [
          `${count(log.recordings.length, 'recording')}, ${count(log.accesses.length, 'audited event')}`,
          ...log.recordings.filter((r) => r.state !== 'stored').map((r) => `${r.id}  ${r.state} ${r.destroyedAt}: only its audit entries are left`),
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

  subject
    .command('export')
    .description("the person's recordings (original audio, transcripts, metadata) and access log as one ZIP archive (needs the passphrase)")
    .option('--personnummer <value>')
    .option('--phone <value>')
    .option('--out <file>', 'required: the archive to write, FILE.zip (a new file, unless --force)')
    .option('--force', 'replace the --out file if it exists')
    .option('--purpose-text <text>', 'the case reference, for the audit log', text(500))
    .action(async (cmd: { personnummer?: string; phone?: string; out?: string; force?: boolean; purposeText?: string }) => {
      const opts = globals();
      const { kind, value } = await identifierOption(cmd);
      if (cmd.out === undefined) throw new CallvaultError(ErrorCodes.USAGE, 'give --out FILE.zip: where to write the archive');
      if (cmd.purposeText !== undefined && cmd.purposeText.trim().length < PURPOSE_TEXT_MIN)
        throw new CallvaultError(ErrorCodes.USAGE, `--purpose-text needs at least ${PURPOSE_TEXT_MIN} characters`);
      const out = cmd.out;
      await withServices(opts, (services, actor) => exportToFile(services, actor, opts, { [kind]: value }, out, { purposeText: cmd.purposeText, force: cmd.force }), true);
    });

  subject
    .command('erase')
    .description("erase the person's recordings for good by destroying their data keys; asks first unless --yes (needs the passphrase)")
    .option('--personnummer <value>')
    .option('--phone <value>')
    .option('--yes', 'do not ask: needed when not on a terminal')
    .option('--reason <text>', `required: why, e.g. the case of the request (at least ${PURPOSE_TEXT_MIN} characters), for the audit log`, text(500))
    .action(async (cmd: { personnummer?: string; phone?: string; yes?: boolean; reason?: string }) => {
      const opts = globals();
      const { kind, value } = await identifierOption(cmd);
      // an erasure cannot be undone: the log must say why it was done
      if (cmd.reason === undefined)
        throw new CallvaultError(ErrorCodes.USAGE, `give --reason: why the recordings are erased, e.g. the case of the request (at least ${PURPOSE_TEXT_MIN} characters)`);
      if (cmd.reason.trim().length < PURPOSE_TEXT_MIN) throw new CallvaultError(ErrorCodes.USAGE, `--reason needs at least ${PURPOSE_TEXT_MIN} characters`);
      // nobody can confirm on a pipe: refuse before anything is opened
      if (!cmd.yes && !process.stdin.isTTY) throw new CallvaultError(ErrorCodes.USAGE, 'erasure cannot be undone: confirm with --yes when not on a terminal');
      const result = await withServices(
        opts,
        (services, actor) =>
          asUsage(() => services.subjectRights.erase(actor, { identifier: { [kind]: value }, reason: cmd.reason, confirm: cmd.yes ? undefined : confirmErasure })),
        true,
      );
      print(opts, result, () =>
        [
          `${count(result.erased.length, 'recording')} erased (erasure ${result.erasureId})${result.alreadyErased.length ? `, ${result.alreadyErased.length} erased before` : ''}`,
          ...result.erased.map((id) => `erased  ${id}`),
          ...(result.objectsLeft
            ? [`${count(result.objectsLeft, 'object')} could not be deleted yet (unreadable: their keys are destroyed); the next erasure retries, \`callvault verify\` lists them`]
            : []),
        ].join('\n'),
      );
    });
}

/** shows the recordings about to be erased and asks on the terminal; anything but "erase" stops the erasure */
async function confirmErasure(recordings: ErasureCandidate[]): Promise<void> {
  for (const r of recordings) process.stderr.write(`  ${r.id}  ${r.controllerId}  ${r.startedAt ?? r.importedAt}\n`);
  const question = `Erase ${recordings.length === 1 ? 'this recording' : `these ${recordings.length} recordings`} of this person for good (audio, transcripts, identifiers)? Type "erase" to confirm: `;
  if (!(await confirm(question))) throw new CallvaultError(ErrorCodes.USAGE, 'not confirmed: nothing was erased');
}

/** asks on the terminal; true when the answer is "erase" */
async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    return (await rl.question(question)).trim().toLowerCase() === 'erase';
  } finally {
    rl.close();
  }
}

/**
 * Writes the archive through a temporary file beside `out` (writeThroughTemporary): a failure
 * leaves no partial archive, and a bad --out fails before anything is logged or decrypted. The
 * export's entries are written (by the service) before the first byte of the archive.
 */
async function exportToFile(
  services: Services,
  actor: Actor,
  opts: GlobalOptions,
  identifier: { personnummer?: string; phone?: string },
  out: string,
  options: { purposeText?: string; force?: boolean },
): Promise<void> {
  const { purposeText } = options;
  const made: { export?: BegunExport } = {};
  try {
    const { sha256, bytes } = await writeThroughTemporary(
      out,
      async () => {
        made.export = await asUsage(() => services.subjectRights.export(actor, { identifier, purposeText }));
        return made.export.archive;
      },
      undefined,
      { force: options.force },
    );
    const result = { exportId: made.export!.exportId, out, recordings: made.export!.recordings, bytes, sha256 };
    print(opts, result, () => `exported ${count(result.recordings, 'recording')} and the person's access log to ${out} (${bytes} bytes, sha256 ${sha256})`);
  } catch (err) {
    if (made.export) await made.export.recordFailure();
    throw err;
  }
}
