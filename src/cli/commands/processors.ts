/**
 * Processors (call-centre companies working for controllers under contract), as in the admin API.
 */
import type { Command } from 'commander';
import { addProcessor } from '../../tenancy/tenancy.js';
import { asUsage, cliActor, openVault, print, text, type GlobalOptions } from '../io.js';

export function register(program: Command, globals: () => GlobalOptions): void {
  const processors = program.command('processors').description('processors: the call-centre companies that work under contract');

  processors
    .command('list')
    .action(async () => {
      const opts = globals();
      const vault = await openVault(opts);
      try {
        const list = (await vault.tenancy.processors()).map((p) => ({ id: p.id, name: p.name, createdAt: p.created_at }));
        print(opts, { processors: list }, () => list.map((p) => `${p.id}  ${p.name}`).join('\n'));
      } finally {
        await vault.close();
      }
    });

  processors
    .command('add')
    .description('add a processor')
    .argument('<id>', 'lower-case letters, digits and dashes')
    .option('--name <name>', 'display name (default: the id)', text(200))
    .action(async (id: string, cmd: { name?: string }) => {
      const opts = globals();
      const name = cmd.name ?? id;
      const vault = await openVault(opts);
      try {
        await asUsage(() => addProcessor(vault, id, name));
        await vault.audit.append({ action: 'processor.create', outcome: 'success', actor: cliActor(), detail: { processorId: id } });
        print(opts, { id, name }, () => `processor ${id} added`);
      } finally {
        await vault.close();
      }
    });
}
