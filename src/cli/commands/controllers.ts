/**
 * Controllers (regions, which own recordings and keys), as in the admin API: both go through
 * src/services/administration.ts.
 */
import type { Command } from 'commander';
import { assertOrganisationId } from '../../tenancy/tenancy.js';
import { asUsage, print, text, withServices, type GlobalOptions } from '../io.js';

export function register(program: Command, globals: () => GlobalOptions): void {
  const controllers = program.command('controllers').description('controllers: the regions that own recordings and their keys');

  controllers.command('list').action(async () => {
    const opts = globals();
    const list = await withServices(opts, (services, actor) => services.administration.listControllers(actor));
    print(opts, { controllers: list }, () => list.map((c) => `${c.id}  ${c.name}`).join('\n'));
  });

  controllers
    .command('add')
    .description('add a controller with its own key pair (needs the passphrase)')
    .argument('<id>', 'lower-case letters, digits and dashes')
    .option('--name <name>', 'display name (default: the id)', text(200))
    .action(async (id: string, cmd: { name?: string }) => {
      const opts = globals();
      // a malformed id is a usage error, told before anyone is asked for the passphrase
      await asUsage(() => assertOrganisationId(id, 'controller'));
      const name = cmd.name ?? id;
      const added = await withServices(opts, (services, actor) => asUsage(() => services.administration.createController(actor, { id, name })), true);
      print(opts, added, () => `controller ${id} added with key ${added.keyId}`);
    });
}
