/**
 * Display names of the region codes and agent ids that recordings carry ("skane" → "Skåne"), which
 * the web UI shows instead of the ids (controllers and processors take theirs with --name when
 * they are added). Through src/services/administration.ts, audited as `name.set`.
 */
import type { Command } from 'commander';
import { NAME_KINDS, type NameKind } from '../../services/vocabulary.js';
import { asUsage, oneOf, print, text, withServices, type GlobalOptions } from '../io.js';

export function register(program: Command, globals: () => GlobalOptions): void {
  const names = program.command('names').description('display names of region codes and agent ids: list, set, unset');

  names
    .command('list')
    .option('--kind <kind>', NAME_KINDS.join(' or '), oneOf(NAME_KINDS))
    .action(async (cmd: { kind?: NameKind }) => {
      const opts = globals();
      const list = await withServices(opts, (services, actor) => services.administration.listNames(actor, cmd.kind));
      print(opts, { names: list }, () => (list.length ? list.map((n) => `${n.kind.padEnd(6)}  ${n.id}  ${n.name}`).join('\n') : 'no display names are set'));
    });

  names
    .command('set')
    .description('name a region code or an agent id as people call it')
    .argument('<kind>', NAME_KINDS.join(' or '), oneOf(NAME_KINDS))
    .argument('<id>', 'the region code or agent id as recordings carry it', text(200))
    .argument('<name>', 'the display name', text(200))
    .action(async (kind: NameKind, id: string, name: string) => {
      const opts = globals();
      const set = await withServices(opts, (services, actor) => asUsage(() => services.administration.setName(actor, { kind, id, name })));
      print(opts, set, () => `${kind} ${set.id} is shown as “${set.name}”`);
    });

  names
    .command('unset')
    .description('remove a display name: the id is shown again')
    .argument('<kind>', NAME_KINDS.join(' or '), oneOf(NAME_KINDS))
    .argument('<id>', 'the region code or agent id', text(200))
    .action(async (kind: NameKind, id: string) => {
      const opts = globals();
      const unset = await withServices(opts, (services, actor) => asUsage(() => services.administration.setName(actor, { kind, id, name: null })));
      print(opts, unset, () => (unset.changed ? `${kind} ${unset.id} has no display name now` : `${kind} ${unset.id} had no display name`));
    });
}
