/**
 * `callvault breach report`: what a compromised key, controller, storage location or account
 * exposed, per controller (GDPR art. 33), from the metadata and blind indexes; with `--subjects
 * FILE` also the affected persons in clear for art. 34 notices, written to FILE only (mode 0600,
 * complete or not at all), never to the terminal (src/services/breach.ts).
 */
import type { Command } from 'commander';
import type { BreachReport } from '../../breach/report.js';
import type { BreachReportRequest, BreachSubjects } from '../../services/breach.js';
import { asUsage, count, isoDate, print, text, withServices, writeThroughTemporary, type GlobalOptions } from '../io.js';

interface ReportOptions {
  key?: string;
  controller?: string;
  blobPrefix?: string;
  user?: string;
  from?: string;
  to?: string;
  subjects?: string;
  force?: boolean;
}

export function register(program: Command, globals: () => GlobalOptions): void {
  const breach = program.command('breach').description('personal data breaches (GDPR art. 33/34)');
  breach
    .command('report')
    .description(
      'who and what one compromised thing exposed, per controller: give exactly one of --key, --controller, --blob-prefix, --user (the report needs no passphrase; --subjects does)',
    )
    .option('--key <keyId>', 'a controller or period key: the recordings whose data key is wrapped to it (keys exposed)')
    .option('--controller <id>', "a controller's recordings (exposure depends on what was exposed)")
    .option('--blob-prefix <prefix>', 'stored objects whose key starts with the prefix, renditions included (ciphertext only)', text(500))
    .option('--user <username>', 'what that account was served, from its audit entries (plaintext)')
    .option('--from <time>', 'window start, inclusive: the call time (an account: the access time)', isoDate)
    .option('--to <time>', 'window end, exclusive', isoDate)
    .option('--subjects <file>', 'also write the affected persons in clear to FILE (a new file, mode 0600) for art. 34 notices; needs the passphrase')
    .option('--force', 'replace the --subjects file if it exists')
    .action(async (cmd: ReportOptions) => {
      const opts = globals();
      const request: BreachReportRequest = { key: cmd.key, controller: cmd.controller, blobPrefix: cmd.blobPrefix, user: cmd.user, from: cmd.from, to: cmd.to };
      if (cmd.subjects === undefined) {
        const report = await withServices(opts, (services, actor) => asUsage(() => services.breach.report(actor, request)));
        print(opts, report, () => describe(report));
        return;
      }
      const out = cmd.subjects;
      const made: { subjects?: BreachSubjects } = {};
      const result = await withServices(
        opts,
        async (services, actor) => {
          try {
            // the file is made first (a bad path fails before anything is decrypted or logged), filled once the entry is written
            await writeThroughTemporary(
              out,
              async () => {
                made.subjects = await asUsage(() => services.breach.subjects(actor, request));
                const { report, persons } = made.subjects;
                const body = { reportId: report.reportId, generatedAt: report.generatedAt, scope: report.scope, persons };
                const bytes = Buffer.from(`${JSON.stringify(body, null, 2)}\n`, 'utf8');
                return (async function* () {
                  yield bytes;
                })();
              },
              undefined,
              { option: '--subjects', force: cmd.force },
            );
          } catch (err) {
            if (made.subjects) await made.subjects.recordFailure();
            throw err;
          }
          return made.subjects!;
        },
        true,
      );
      const shown = { ...result.report, subjectsFile: { path: out, persons: result.persons.length } };
      print(opts, shown, () => `${describe(result.report)}\n${count(result.persons.length, 'person')} (identifiers in clear) written to ${out}`);
    });
}

function describe(report: BreachReport): string {
  const s = report.scope;
  const named = s.keyId ?? s.controllerId ?? s.blobPrefix ?? `${s.username} (${s.userId})`;
  const lines = [
    `breach report ${report.reportId}: ${s.kind} ${named}${s.from || s.to ? `, ${s.from ?? '…'} to ${s.to ?? '…'} (${s.window})` : ''}`,
    `${count(report.totals.recordings, 'recording')} at ${count(report.totals.controllers, 'controller')}`,
  ];
  for (const c of report.controllers) {
    lines.push(
      '',
      `${c.controllerId}: ${count(c.recordings, 'recording')}${c.noLongerStored ? ` (${c.noLongerStored} no longer stored)` : ''}, ${c.categories.transcripts} with a transcript`,
      `  persons: ${c.persons.personnummer.inMetadata} personnummer and ${count(c.persons.phone.inMetadata, 'phone number')} in the metadata; ` +
        `${c.persons.personnummer.spokenInCalls} personnummer and ${count(c.persons.phone.spokenInCalls, 'phone number')} spoken; between ${c.persons.atLeast} and ${count(c.persons.atMost, 'person', 'people')}`,
      `  calls: ${c.callTime.first ?? '-'} to ${c.callTime.last ?? '-'}${c.callTime.withoutStart ? ` (${c.callTime.withoutStart} without a start time)` : ''}`,
      `  exposure: ${c.exposure.level}: ${c.exposure.statement}`,
      ...(c.served
        ? [
            `  served: ${Object.entries(c.served)
              .map(([a, n]) => `${a} ${n}`)
              .join(', ')}`,
          ]
        : []),
      `  IMY: filled ${count(Object.keys(c.imy.filled).length, 'field')}; left for the privacy officer: ${c.imy.leftForDpo.length} (see --json)`,
    );
  }
  return lines.join('\n');
}
