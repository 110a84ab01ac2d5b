import type { Command } from 'commander';
import { addController, assertOrganisationId } from '../../tenancy/tenancy.js';
import { asUsage, cliActor, openUnlocked, openVault, print, text, type GlobalOptions } from '../io.js';

export function register(program: Command, globals: () => GlobalOptions): void {
  const controllers = program.command('controllers').description('controllers: the regions that own recordings and their keys');

  controllers
    .command('list')
    .action(async () => {
      const opts = globals();
      const vault = await openVault(opts);
      try {
        const list = await vault.controllers.list();
        print(opts, { controllers: list.map((c) => ({ id: c.id, name: c.name, createdAt: c.created_at })) }, () =>
          list.map((c) => `${c.id}  ${c.name}`).join('\n'),
        );
      } finally {
        await vault.close();
      }
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
      const vault = await openUnlocked(opts);
      try {
        const added = await asUsage(() => addController(vault, id, name));
        await vault.audit.append({ action: 'controller.create', outcome: 'success', actor: cliActor(), controllerId: id, detail: { keyId: added.keyId } });
        print(opts, { id, name, keyId: added.keyId }, () => `controller ${id} added with key ${added.keyId}`);
      } finally {
        await vault.close();
      }
    });
}
