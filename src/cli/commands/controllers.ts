import type { Command } from 'commander';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import { openUnlocked, openVault, print, type GlobalOptions } from '../io.js';

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
    .option('--name <name>', 'display name')
    .action(async (id: string, cmd: { name?: string }) => {
      const opts = globals();
      if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(id)) throw new CallvaultError(ErrorCodes.USAGE, 'a controller id is lower-case letters, digits and dashes');
      const vault = await openUnlocked(opts);
      try {
        if (await vault.controllers.get(id)) throw new CallvaultError(ErrorCodes.USAGE, 'that controller exists already');
        await vault.controllers.add({ id, name: cmd.name ?? id, created_at: new Date().toISOString() });
        const key = await vault.keys.generate(id);
        print(opts, { id, keyId: key.keyId }, () => `controller ${id} added with key ${key.keyId}`);
      } finally {
        await vault.close();
      }
    });
}
