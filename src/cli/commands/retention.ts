/**
 * `callvault retention …` and `callvault hold …` (docs/retention.md), through
 * src/services/retention.ts as the API's routes are: retention per controller and class, the run
 * that destroys the keys of months past retention, and legal holds.
 */
import { createInterface } from 'node:readline/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import type { HoldView } from '../../services/retention.js';
import { asUsage, count, isoDate, print, text, withServices, type GlobalOptions } from '../io.js';

function days(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of days, at least 1');
  return n;
}

function holdLine(h: HoldView): string {
  const what = h.kind === 'recording' ? `recording ${h.recordingId}` : h.kind === 'agent' ? `agent ${h.agent} ${h.from ?? '…'} to ${h.to ?? '…'}` : `a ${h.kind}`;
  return `${h.id}  ${h.releasedAt ? `released ${h.releasedAt}` : 'active'}  ${what}  case ${h.case}`;
}

export function register(program: Command, globals: () => GlobalOptions): void {
  const retention = program.command('retention').description('how long recordings are kept, per controller and class: set, show, run');

  retention
    .command('set')
    .description("set a controller's retention for a class; lowering it shows first how many recordings it would shred, and asks unless --yes")
    .requiredOption('--controller <id>', 'the controller')
    .requiredOption('--days <n>', 'days after the call', days)
    .option('--class <name>', 'the retention class (default: default)')
    .option('--yes', 'do not ask: needed when not on a terminal')
    .action(async (cmd: { controller: string; days: number; class?: string; yes?: boolean }) => {
      const opts = globals();
      const confirm = async (wouldShred: number): Promise<boolean> => {
        if (cmd.yes) return true;
        if (!process.stdin.isTTY)
          throw new CallvaultError(ErrorCodes.USAGE, `this would shred ${count(wouldShred, 'recording')} at the next run: confirm with --yes when not on a terminal`);
        const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
        try {
          return (await rl.question(`The next retention run would shred ${count(wouldShred, 'recording')} for good. Type "shred" to confirm: `)).trim().toLowerCase() === 'shred';
        } finally {
          rl.close();
        }
      };
      const result = await withServices(opts, (services, actor) =>
        asUsage(() => services.retention.set(actor, { controllerId: cmd.controller, class: cmd.class, days: cmd.days }, confirm)),
      );
      if (!result.applied) throw new CallvaultError(ErrorCodes.USAGE, 'not confirmed: the retention is unchanged');
      print(
        opts,
        result,
        () =>
          `retention of ${cmd.controller}/${cmd.class ?? 'default'} is ${count(cmd.days, 'day')}${result.wouldShred ? `; the next run shreds ${count(result.wouldShred, 'recording')}` : ''}`,
      );
    });

  retention
    .command('show')
    .description("every controller's retentions and the legal holds")
    .action(async () => {
      const opts = globals();
      const shown = await withServices(opts, async (services, actor) => ({ policies: await services.retention.policies(actor), holds: await services.retention.holds(actor) }));
      print(opts, shown, () =>
        [
          ...(shown.policies.length ? shown.policies.map((p) => `${p.controllerId}/${p.class}  ${count(p.days, 'day')}`) : ['no retention set: recordings are kept until erased']),
          count(shown.holds.filter((h) => !h.releasedAt).length, 'active legal hold'),
        ].join('\n'),
      );
    });

  retention
    .command('run')
    .description('shred what is past retention by destroying the keys of its months; holds keep what they cover (needs the passphrase)')
    .option('--dry-run', 'say what a run would do, and do nothing')
    .action(async (cmd: { dryRun?: boolean }) => {
      const opts = globals();
      const report = await withServices(opts, (services, actor) => services.retention.run(actor, { dryRun: Boolean(cmd.dryRun) }), !cmd.dryRun);
      print(opts, report, () =>
        report.controllers
          .map(
            (c) =>
              `${c.controllerId}: ${cmd.dryRun ? 'would shred' : 'shredded'} ${c.shredded}, kept by a hold ${c.held}, moved to their period's key ${c.moved}, keys destroyed ${c.keysDestroyed.length}; next due ${c.nextDue ? `${c.nextDue.at} (${c.nextDue.scope})` : 'none'}`,
          )
          .join('\n'),
      );
    });

  const hold = program.command('hold').description('legal holds: add, list, release');

  hold
    .command('add')
    .description("place a hold on a recording, a person or an agent's calls in a window: it takes effect at once (needs the passphrase)")
    .option('--recording <id>')
    .option('--personnummer <value>')
    .option('--phone <value>')
    .option('--agent <agent>', 'with --from and --to', text(100))
    .option('--from <time>', 'ISO 8601', isoDate)
    .option('--to <time>', 'ISO 8601', isoDate)
    .requiredOption('--case <ref>', 'the case reference', text(200))
    .requiredOption('--reason <text>', 'why; identifiers in it are kept as labels', text(1000))
    .action(async (cmd: { recording?: string; personnummer?: string; phone?: string; agent?: string; from?: string; to?: string; case: string; reason: string }) => {
      const opts = globals();
      const spec = {
        recordingId: cmd.recording,
        personnummer: cmd.personnummer,
        phone: cmd.phone,
        agent: cmd.agent,
        from: cmd.from,
        to: cmd.to,
        case: cmd.case,
        reason: cmd.reason,
      };
      const added = await withServices(opts, (services, actor) => asUsage(() => services.retention.addHold(actor, spec)), true);
      print(opts, added, () => `hold ${added.id} placed: it covers ${count(added.covered, 'recording')} now, and what arrives later and matches`);
    });

  hold
    .command('list')
    .description('every legal hold, active or released')
    .action(async () => {
      const opts = globals();
      const holds = await withServices(opts, (services, actor) => services.retention.holds(actor));
      print(opts, { holds }, () => holds.map(holdLine).join('\n') || 'no legal holds');
    });

  hold
    .command('release')
    .description('release a hold: what it kept goes to the next retention run')
    .argument('<id>', 'hold id')
    .requiredOption('--reason <text>', 'why', text(1000))
    .action(async (id: string, cmd: { reason: string }) => {
      const opts = globals();
      const released = await withServices(opts, (services, actor) => asUsage(() => services.retention.releaseHold(actor, id, cmd.reason)));
      print(opts, released, () => `hold ${id} released`);
    });
}
