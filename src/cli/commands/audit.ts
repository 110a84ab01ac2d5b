/**
 * `callvault audit …`: the audit log for an auditor at the command line. Everything printed here
 * can be checked without callvault: entries are the canonical bytes, proofs are RFC 9162's, the
 * checkpoint is a C2SP signed note and the key is in the signed-note verifier form.
 */
import type { Command } from 'commander';
import { createWriteStream } from 'node:fs';
import { hostname } from 'node:os';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import { formatVerifierKey } from '../../audit/signed-note.js';
import { readWitnessFile } from '../../audit/witnesses/file-witness.js';
import { auditEntryJsonLine, auditEntrySyslog } from '../../audit/syslog.js';
import type { StoredEntry } from '../../audit/audit-log.js';
import { subjectIdentifier } from '../../identifiers/normalize.js';
import type { Vault } from '../../vault.js';
import { cliActor, print, wholeNumber, withVault, type GlobalOptions } from '../io.js';

const PAGE = 5_000;

/** entries from ≤ i < to, read a page at a time */
async function* entriesBetween(vault: Vault, from: number, to: number): AsyncGenerator<StoredEntry> {
  for (let start = from; start < to; start += PAGE) {
    yield* await vault.audit.entries(start, Math.min(to, start + PAGE));
  }
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

function describe(e: StoredEntry): string {
  const v = JSON.parse(e.entry.toString('utf8'));
  const who = v.actor?.name ? `${v.actor.type}:${v.actor.name}` : v.actor?.type;
  return [String(e.index).padStart(8), v.time, v.outcome.padEnd(7), v.action, who, v.recordingId ?? '', v.purpose ?? '', v.breakGlassId ? 'BREAK-THE-GLASS' : ''].join('  ').trimEnd();
}

export function register(program: Command, globals: () => GlobalOptions): void {
  const audit = program.command('audit').description('the tamper-evident audit log: checkpoints, proofs, verification, export');

  audit
    .command('checkpoint')
    .description('sign a checkpoint of the log as it is now (if it grew) and print the latest as a signed note')
    .option('--no-new', 'print the latest stored checkpoint without signing a new one')
    .action(async (cmd: { new: boolean }) => {
      const opts = globals();
      await withVault(opts, async (vault) => {
        const checkpoints = await vault.auditCheckpoints();
        const made = cmd.new ? await checkpoints.make() : { checkpoint: await checkpoints.latest(), created: false, witnesses: [] };
        if (!made.checkpoint) throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no checkpoint has been signed yet');
        for (const w of made.witnesses) if (!w.ok) process.stderr.write(`callvault: witness ${w.witness} did not take the checkpoint: ${w.error}\n`);
        if (opts.json) print(opts, { size: made.checkpoint.size, note: made.checkpoint.note, created: made.created, witnesses: made.witnesses }, () => '');
        else process.stdout.write(made.checkpoint.note);
      });
    });

  audit
    .command('key')
    .description("print the checkpoint verifier key: <name>+<hex key id>+<base64(0x01 ‖ public key)>")
    .action(async () => {
      const opts = globals();
      await withVault(opts, async (vault) => {
        const signer = await vault.auditSigner();
        const vkey = formatVerifierKey(signer.verifier);
        print(opts, { origin: signer.name, vkey }, () => vkey);
      });
    });

  audit
    .command('entries')
    .description('print entries with from ≤ index < to; --json gives the canonical bytes in base64')
    .option('--from <n>', 'first index', wholeNumber, 0)
    .option('--to <n>', 'one past the last index (default: the log size)', wholeNumber)
    .action(async (cmd: { from: number; to?: number }) => {
      const opts = globals();
      await withVault(opts, async (vault) => {
        const size = await vault.audit.size();
        const to = Math.min(cmd.to ?? size, size);
        const out = process.stdout;
        if (opts.json) await write(out, '[');
        let first = true;
        for await (const e of entriesBetween(vault, cmd.from, to)) {
          if (opts.json) {
            await write(out, `${first ? '' : ','}\n${JSON.stringify({ index: e.index, entry: e.entry.toString('base64'), leafHash: e.leafHash.toString('base64') })}`);
          } else {
            await write(out, describe(e) + '\n');
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
      await withVault(opts, async (vault) => {
        const logSize = await vault.audit.size();
        const signed = (await (await vault.auditCheckpoints()).latest())?.size;
        const size = (inclusion ? cmd.size : cmd.to) ?? signed ?? logSize;
        if (size > logSize) throw new CallvaultError(ErrorCodes.USAGE, `the log holds ${logSize} entries`);
        const b64 = (hashes: Buffer[]) => hashes.map((h) => h.toString('base64'));
        if (inclusion) {
          if (cmd.index! >= size) throw new CallvaultError(ErrorCodes.USAGE, `--index must be below the tree size ${size}`);
          const [entry] = await vault.audit.entries(cmd.index!, cmd.index! + 1);
          const hashes = b64(await vault.auditTree.inclusionProof(cmd.index!, size));
          print(opts, { index: cmd.index, size, hashes, leafHash: entry!.leafHash.toString('base64') }, () => hashes.join('\n'));
        } else {
          if (cmd.from! > size) throw new CallvaultError(ErrorCodes.USAGE, `--from must not exceed --to (${size})`);
          const hashes = b64(await vault.auditTree.consistencyProof(cmd.from!, size));
          print(opts, { from: cmd.from, to: size, hashes }, () => hashes.join('\n'));
        }
      });
    });

  audit
    .command('verify')
    .description('recompute the tree from every stored entry and check it against every checkpoint (and witnessed ones); exit 1 on any mismatch')
    .option('--witness <file...>', 'a file of checkpoints a file witness kept')
    .action(async (cmd: { witness?: string[] }) => {
      const opts = globals();
      await withVault(opts, async (vault) => {
        const witnessNotes: string[] = [];
        for (const file of cmd.witness ?? []) {
          const kept = await readWitnessFile(file);
          if (kept.warning) process.stderr.write(`callvault: ${kept.warning}\n`);
          witnessNotes.push(...kept.checkpoints.map((w) => w.note));
        }
        const report = await vault.verifyAudit(witnessNotes);
        print(opts, report, () =>
          [
            ...report.problems.map((p) => `PROBLEM  ${p.code}: ${p.message}`),
            `${report.size} entries, root ${report.rootHash}`,
            `${report.checkpoints} checkpoints checked${report.latestCheckpoint !== null ? `, the latest at size ${report.latestCheckpoint}` : ''}; ${report.unsigned} entries after it are not signed yet`,
            ...(cmd.witness ? [`${report.witnessed} witnessed checkpoints checked`] : []),
            report.ok ? 'the audit log verifies' : `the audit log does NOT verify: ${report.problems.length} problems`,
          ].join('\n'),
        );
        if (!report.ok) process.exitCode = 1;
      });
    });

  audit
    .command('tail')
    .description('print the last entries; --follow keeps printing new ones (JSON lines with --json)')
    .option('-n, --lines <n>', 'how many', wholeNumber, 20)
    .option('-f, --follow', 'wait for new entries')
    .action(async (cmd: { lines: number; follow?: boolean }) => {
      const opts = globals();
      await withVault(opts, async (vault) => {
        const line = (e: StoredEntry) => (opts.json ? auditEntryJsonLine(e) : describe(e)) + '\n';
        let next = Math.max(0, (await vault.audit.size()) - cmd.lines);
        let stopped = false;
        const stop = () => {
          stopped = true;
        };
        process.once('SIGINT', stop).once('SIGTERM', stop);
        do {
          const size = await vault.audit.size();
          for await (const e of entriesBetween(vault, next, size)) await write(process.stdout, line(e));
          next = size;
          if (cmd.follow && !stopped) await new Promise((r) => setTimeout(r, 1000));
        } while (cmd.follow && !stopped);
      });
    });

  audit
    .command('export')
    .description('write entries as JSON lines or RFC 5424 syslog messages, for a SIEM')
    .option('--from <n>', 'first index', wholeNumber, 0)
    .option('--to <n>', 'one past the last index (default: the log size)', wholeNumber)
    .option('--format <format>', 'jsonl or syslog', 'jsonl')
    .option('--output <file>', 'write here instead of standard output')
    .action(async (cmd: { from: number; to?: number; format: string; output?: string }) => {
      const opts = globals();
      if (cmd.format !== 'jsonl' && cmd.format !== 'syslog') throw new CallvaultError(ErrorCodes.USAGE, '--format is jsonl or syslog');
      await withVault(opts, async (vault) => {
        const size = await vault.audit.size();
        const to = Math.min(cmd.to ?? size, size);
        // the export leaves the system: it is recorded before anything is written
        await vault.audit.append({ action: 'audit.export', outcome: 'success', actor: cliActor(), detail: { from: cmd.from, to, format: cmd.format } });
        const out = cmd.output ? createWriteStream(cmd.output, { mode: 0o600 }) : process.stdout;
        const host = hostname();
        for await (const e of entriesBetween(vault, cmd.from, to)) await write(out, (cmd.format === 'syslog' ? auditEntrySyslog(e, host) : auditEntryJsonLine(e)) + '\n');
        if (cmd.output) {
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
      const { kind, value } = await identifierOption(cmd);
      await withVault(
        opts,
        async (vault) => {
          const hash = vault.audit.identifierHash(kind, value);
          print(opts, { kind, hash }, () => hash);
        },
        true,
      );
    });
}

/** exactly one of --personnummer and --phone, in canonical form */
export async function identifierOption(cmd: { personnummer?: string; phone?: string }): Promise<{ kind: 'personnummer' | 'phone'; value: string }> {
  return subjectIdentifier(cmd, ErrorCodes.USAGE);
}
