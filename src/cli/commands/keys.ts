import type { Command } from 'commander';
import { count, print, withServices, type GlobalOptions } from '../io.js';

export function register(program: Command, globals: () => GlobalOptions): void {
  const keys = program.command('keys').description('controller key pairs: list, rotate, rewrap');

  keys
    .command('list')
    .description('every controller key, its status and how many recordings it holds (no passphrase needed)')
    .action(async () => {
      const opts = globals();
      const status = await withServices(opts, (services, actor) => services.keys.status(actor));
      const list = status.controllers.flatMap((c) => c.keys.map((k) => ({ keyId: k.keyId, controller: c.id, status: k.status, createdAt: k.createdAt, recordings: k.recordings })));
      print(opts, { keys: list }, () => list.map((k) => `${k.keyId}  ${k.controller}  ${k.status.padEnd(7)}  ${count(k.recordings, 'recording')}  ${k.createdAt}`).join('\n'));
    });

  keys
    .command('rotate')
    .description('make a new key pair for new recordings; older recordings stay readable')
    .option('--controller <id>', 'only this controller (default: every controller)')
    .action(async (cmd: { controller?: string }) => {
      const opts = globals();
      const rotated = await withServices(opts, (services, actor) => services.keys.rotate(actor, cmd.controller), true);
      print(opts, { rotated }, () => rotated.map((k) => `controller ${k.controller}: new active key ${k.keyId}`).join('\n'));
    });

  keys
    .command('rewrap')
    .description('move the data keys of recordings under retired keys to the active keys, without touching audio')
    .action(async () => {
      const opts = globals();
      const result = await withServices(opts, (services, actor) => services.keys.rewrap(actor), true);
      print(opts, result, () => `${count(result.rewrapped, 'data key')} rewrapped`);
    });
}
