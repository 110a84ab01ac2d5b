/**
 * `callvault audit …`: the audit log for an auditor at the command line. Everything printed here
 * can be checked without callvault: entries are the canonical bytes, proofs are RFC 9162's, the
 * checkpoint is a C2SP signed note and the key is in the signed-note verifier form.
 */
import type { Command } from 'commander';
import { once } from 'node:events';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import { readWitnessFile } from '../../audit/witnesses/file-witness.js';
import { auditEntryJsonLine } from '../../services/vocabulary.js';
import type { StoredEntry } from '../../services/vocabulary.js';
import { subjectIdentifier } from '../../identifiers/normalize.js';
import { asUsage, count, openOutput, print, wholeNumber, withServices, write, type GlobalOptions } from '../io.js';
import { registerReview } from './audit-review.js';

function describe(e: StoredEntry): string {
  const v = JSON.parse(e.entry.toString('utf8'));
  const who = v.actor?.name ? `${v.actor.type}:${v.actor.name}` : v.actor?.type;
  return [String(e.index).padStart(8), v.time, v.outcome.padEnd(7), v.action, who, v.recordingId ?? '', v.purpose ?? '', v.breakGlassId ? 'BREAK-THE-GLASS' : '']
    .join('  ')
    .trimEnd();
}

export function register(program: Command, globals: () => GlobalOptions): void {
  const audit = program.command('audit').description('the tamper-evident audit log: checkpoints, proofs, verification, export, the log review');

  audit
    .command('checkpoint')
    .description('sign a checkpoint of the log as it is now (if it grew) and print the latest as a signed note')
    .option('--no-new', 'print the latest stored checkpoint without signing a new one')
    .action(async (cmd: { new: boolean }) => {
      const opts = globals();
      const made = await withServices(opts, async ({ auditReading }, actor) =>
        cmd.new ? auditReading.signCheckpoint(actor) : { checkpoint: await auditReading.latestCheckpoint(actor), created: false, witnesses: [] },
      );
      for (const w of made.witnesses) if (!w.ok) process.stderr.write(`callvault: witness ${w.witness} did not take the checkpoint: ${w.error}\n`);
      if (opts.json) print(opts, { size: made.checkpoint.size, note: made.checkpoint.note, created: made.created, witnesses: made.witnesses }, () => '');
      else process.stdout.write(made.checkpoint.note);
    });

  audit
    .command('key')
    .description('print the checkpoint verifier key: <name>+<hex key id>+<base64(0x01 ‖ public key)>')
    .action(async () => {
      const opts = globals();
      const key = await withServices(opts, (services, actor) => services.auditReading.verifierKey(actor));
      print(opts, key, () => key.vkey);
    });

  audit
    .command('entries')
    .description('print entries with from ≤ index < to; --json gives the canonical bytes in base64')
    .option('--from <n>', 'first index', wholeNumber, 0)
    .option('--to <n>', 'one past the last index (default: the log size)', wholeNumber)
    .action(async (cmd: { from: number; to?: number }) => {
      const opts = globals();
      await withServices(opts, async (services, actor) => {
        const { entries } = await services.auditReading.entries(actor, { from: cmd.from, to: cmd.to });
        const out = process.stdout;
        if (opts.json) await write(out, '[');
        let first = true;
        for await (const e of entries) {
          if (opts.json) {
            await write(out, `${first ? '' : ','}\n${JSON.stringify({ index: e.index, entry: e.entry.toString('base64'), leafHash: e.leafHash.toString('base64') })}`);
          } else {
            await write(out, `${describe(e)}\n`);
          }
          first = false;
        }
        if (opts.json) await write(out, first ? ']\n' : '\n]\n');
      });
    });

  audit
    .command('proof')
    .description('an RFC 9162 inclusion proof (--index, --size) or consistency proof (--from, --to)')
    .option('--index <n>', 'leaf index', wholeNumber)
    .option('--size <n>', 'tree size for the inclusion proof (default: the latest checkpoint)', wholeNumber)
    .option('--from <n>', 'older tree size', wholeNumber)
    .option('--to <n>', 'newer tree size (default: the latest checkpoint)', wholeNumber)
    .action(async (cmd: { index?: number; size?: number; from?: number; to?: number }) => {
      const opts = globals();
      const inclusion = cmd.index !== undefined;
      if (inclusion === (cmd.from !== undefined) || (inclusion && cmd.to !== undefined) || (!inclusion && cmd.size !== undefined)) {
        throw new CallvaultError(ErrorCodes.USAGE, 'give --index [--size] for an inclusion proof, or --from [--to] for a consistency proof');
      }
      const proof = await withServices(opts, (services, actor) => asUsage(() => services.auditReading.proof(actor, cmd, { defaultToSigned: true })));
      print(opts, proof, () => proof.hashes.join('\n'));
    });

  audit
    .command('verify')
    .description('recompute the tree from every stored entry and check it against every checkpoint (and witnessed ones); exit 1 on any mismatch')
    .option('--witness <file...>', 'a file of checkpoints a file witness kept')
    .option(
      '--since-checkpoint',
      'check only the entries after the signed checkpoint the last verification reached, by a consistency proof from it (in full when none is recorded); docs/audit-log.md says what that does not prove',
    )
    .action(async (cmd: { witness?: string[]; sinceCheckpoint?: boolean }) => {
      const opts = globals();
      const witnessNotes: string[] = [];
      for (const file of cmd.witness ?? []) {
        const kept = await readWitnessFile(file);
        if (kept.warning) process.stderr.write(`callvault: ${kept.warning}\n`);
        witnessNotes.push(...kept.checkpoints.map((w) => w.note));
      }
      const report = await withServices(opts, (services, actor) => services.auditReading.verify(actor, witnessNotes, { sinceCheckpoint: cmd.sinceCheckpoint }));
      print(opts, report, () =>
        [
          ...report.problems.map((p) => `PROBLEM  ${p.code}: ${p.message}`),
          `${count(report.size, 'entry', 'entries')}, root ${report.rootHash}`,
          ...(report.since
            ? [
                `entries ${report.from}..${report.size} checked against the signed checkpoint at size ${report.since.size} (verified ${report.since.mode} at ${report.since.verifiedAt}); entries before it were not re-read`,
              ]
            : cmd.sinceCheckpoint
              ? ['every entry checked: no earlier verification up to a signed checkpoint was recorded']
              : []),
          report.latestCheckpoint === null
            ? 'no checkpoint signed yet: `callvault serve` signs one every minute while the log grows, or run `callvault audit checkpoint`'
            : `${count(report.checkpoints, 'checkpoint')} checked, the latest at size ${report.latestCheckpoint}; ${
                report.unsigned === 0 ? 'every entry is signed' : `${count(report.unsigned, 'entry', 'entries')} after it not signed yet`
              }`,
          ...(cmd.witness ? [`${count(report.witnessed, 'witnessed checkpoint')} checked`] : []),
          // a verification is recorded up to a signed checkpoint: without one there is nothing to tell
          ...(report.latestCheckpoint === null
            ? []
            : report.lastFull
              ? [`the last full verification passed at ${report.lastFull.verifiedAt}, up to size ${report.lastFull.size}`]
              : ['no full verification has passed yet']),
          report.ok ? 'the audit log verifies' : `the audit log does NOT verify: ${count(report.problems.length, 'problem')}`,
        ].join('\n'),
      );
      if (!report.ok) process.exitCode = 1;
    });

  audit
    .command('tail')
    .description('print the last entries; --follow keeps printing new ones (JSON lines with --json)')
    .option('-n, --lines <n>', 'how many', wholeNumber, 20)
    .option('-f, --follow', 'wait for new entries')
    .action(async (cmd: { lines: number; follow?: boolean }) => {
      const opts = globals();
      let stopped = false;
      const stop = () => {
        stopped = true;
      };
      process.once('SIGINT', stop).once('SIGTERM', stop);
      await withServices(opts, async (services, actor) => {
        // following is recorded once, when it starts, as one read (src/services/audit-reading.ts)
        const entries = await services.auditReading.tail(actor, { lines: cmd.lines, follow: Boolean(cmd.follow), stopped: () => stopped });
        for await (const e of entries) await write(process.stdout, `${opts.json ? auditEntryJsonLine(e) : describe(e)}\n`);
      });
    });

  audit
    .command('export')
    .description('write entries as JSON lines or RFC 5424 syslog messages, for a SIEM')
    .option('--from <n>', 'first index', wholeNumber, 0)
    .option('--to <n>', 'one past the last index (default: the log size)', wholeNumber)
    .option('--format <format>', 'jsonl or syslog', 'jsonl')
    .option('--output <file>', 'write here instead of standard output (a new file, unless --force)')
    .option('--force', 'replace the --output file if it exists')
    .action(async (cmd: { from: number; to?: number; format: string; output?: string; force?: boolean }) => {
      const opts = globals();
      const format = cmd.format;
      if (format !== 'jsonl' && format !== 'syslog') throw new CallvaultError(ErrorCodes.USAGE, '--format is jsonl or syslog');
      await withServices(opts, async (services, actor) => {
        // the export leaves the system: the service records it before the output is opened
        const { lines } = await services.auditReading.export(actor, { from: cmd.from, to: cmd.to, format });
        const file = cmd.output ? await openOutput(cmd.output, '--output', cmd.force) : undefined;
        const out = file ? file.createWriteStream() : process.stdout;
        for await (const line of lines) await write(out, line);
        if (file) {
          out.end();
          await once(out, 'finish');
        }
      });
    });

  audit
    .command('hash')
    .description('the keyed hash under which a personnummer or phone number appears in the log (needs the passphrase)')
    .option('--personnummer <value>')
    .option('--phone <value>')
    .action(async (cmd: { personnummer?: string; phone?: string }) => {
      const opts = globals();
      const identifier = await identifierOption(cmd);
      const result = await withServices(opts, (services, actor) => services.auditReading.identifierHash(actor, { [identifier.kind]: identifier.value }), true);
      print(opts, result, () => result.hash);
    });

  registerReview(audit, globals);
}

/** exactly one of --personnummer and --phone, in canonical form */
export async function identifierOption(cmd: { personnummer?: string; phone?: string }): Promise<{ kind: 'personnummer' | 'phone'; value: string }> {
  // said in the options' own names: the shared check speaks of the API's fields
  if (!cmd.personnummer && !cmd.phone) throw new CallvaultError(ErrorCodes.USAGE, 'give --personnummer or --phone: the person whose recordings are meant');
  if (cmd.personnummer && cmd.phone) throw new CallvaultError(ErrorCodes.USAGE, 'give --personnummer or --phone, not both');
  try {
    return subjectIdentifier(cmd, ErrorCodes.USAGE);
  } catch (err) {
    // the value itself is an identifier: never repeated in a message
    const message = cmd.personnummer
      ? '--personnummer is not a valid personnummer or samordningsnummer (12 or 10 digits, e.g. 19121212-1212)'
      : '--phone is not a valid phone number (e.g. 070-1740605 or +46701740605)';
    throw new CallvaultError(ErrorCodes.USAGE, message, { cause: err });
  }
}
