/**
 * Processors (call-centre companies working for controllers under contract), as in the admin API:
 * both go through src/services/administration.ts.
 */
import type { Command } from 'commander';
import { asUsage, print, text, withServices, type GlobalOptions } from '../io.js';

export function register(program: Command, globals: () => GlobalOptions): void {
  const processors = program.command('processors').description('processors: the call-centre companies that work under contract');

  processors.command('list').action(async () => {
    const opts = globals();
    const list = await withServices(opts, (services, actor) => services.administration.listProcessors(actor));
    print(opts, { processors: list }, () => list.map((p) => `${p.id}  ${p.name}`).join('\n'));
  });

  processors
    .command('add')
    .description('add a processor')
    .argument('<id>', 'lower-case letters, digits and dashes')
    .option('--name <name>', 'display name (default: the id)', text(200))
    .action(async (id: string, cmd: { name?: string }) => {
      const opts = globals();
      const name = cmd.name ?? id;
      const added = await withServices(opts, (services, actor) => asUsage(() => services.administration.createProcessor(actor, { id, name })));
      print(opts, added, () => `processor ${id} added`);
    });
}
