/**
 * `callvault canary add|list`: canary recordings (src/alerts/canaries.ts, docs/alerts.md), the key
 * custodian's on the host. `add` prints how many were planted, never which recordings: that is
 * known to the sealed record alone, which `list` opens.
 */
import { Option, type Command } from 'commander';
import { listCanaries, MAX_CANARIES, plantCanaries } from '../../alerts/canaries.js';
import { createServices } from '../../services/index.js';
import { asUsage, count, operator, positiveInt, print, withVault, type GlobalOptions } from '../io.js';

export function register(program: Command, globals: () => GlobalOptions): void {
  const canary = program.command('canary').description('canary recordings: synthetic calls nobody has a reason to open; any access raises an alert');

  canary
    .command('add')
    .description("plant synthetic calls among a controller's recordings, indistinguishable in lists and search (needs the passphrase)")
    .requiredOption('--controller <id>', 'the controller (region) whose recordings they join')
    .option('--count <n>', `how many (1 to ${MAX_CANARIES}; default 3)`, positiveInt)
    .addOption(new Option('--suspend', "the controller's choice: suspend an account that reaches a canary and end its sessions"))
    .addOption(new Option('--no-suspend', 'only alert when a canary is reached'))
    .action(async (cmd: { controller: string; count?: number; suspend?: boolean }) => {
      const opts = globals();
      const result = await withVault(
        opts,
        (vault) => {
          const services = createServices(vault);
          return asUsage(() => plantCanaries(vault, services.trail, services.alerts, operator(), { controllerId: cmd.controller, count: cmd.count, suspend: cmd.suspend }));
        },
        true,
      );
      print(
        opts,
        result,
        () =>
          `${count(result.planted, 'canary', 'canaries')} planted for ${result.controller}; an account that reaches one is ${result.suspend ? 'suspended' : 'alerted on, not suspended'}`,
      );
    });

  canary
    .command('list')
    .description('which recordings are canaries, from their sealed record (needs the passphrase)')
    .action(async () => {
      const opts = globals();
      const list = await withVault(opts, (vault) => listCanaries(vault, createServices(vault).trail, operator()), true);
      print(opts, list, () => (list.length ? list.map((c) => `${c.recordingId}  ${c.controllerId}  planted ${c.createdAt}`).join('\n') : 'no canaries'));
    });
}
