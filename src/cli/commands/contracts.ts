/**
 * Contracts between processors and controllers: which processor's staff reach which
 * controller's calls, in which roles and regions, from when to when. As in the admin API: both go
 * through src/services/administration.ts.
 */
import type { Command } from 'commander';
import { CONTRACT_ROLES } from '../../tenancy/tenancy.js';
import type { ContractView } from '../../services/administration.js';
import { asUsage, commaList, isoDate, print, withServices, type GlobalOptions } from '../io.js';

function contractLine(c: ContractView): string {
  const approval = c.approval === 'approved' ? '' : `  ${c.approval}`;
  return `${c.id}  ${c.processorId} -> ${c.controllerId}  roles ${c.roles.join(',')}  regions ${c.regions?.join(',') ?? 'all'}  ${c.validFrom} to ${c.validTo}${approval}`;
}

export function register(program: Command, globals: () => GlobalOptions): void {
  const contracts = program.command('contracts').description('contracts between processors and controllers: add, list, end, approve, refuse');

  contracts
    .command('list')
    .description('contracts, in force or not')
    .option('--processor <id>', "only this processor's")
    .action(async (cmd: { processor?: string }) => {
      const opts = globals();
      const list = await withServices(opts, (services, actor) => services.administration.listContracts(actor, cmd.processor));
      print(opts, { contracts: list }, () => list.map(contractLine).join('\n'));
    });

  contracts
    .command('add')
    .description('add a contract')
    .requiredOption('--processor <id>', 'the processor')
    .requiredOption('--controller <id>', 'the controller whose calls it reaches')
    .requiredOption('--roles <roles>', `comma-separated: ${CONTRACT_ROLES.join(', ')}`, commaList)
    .option('--regions <regions>', 'comma-separated regions (default: every region)', commaList)
    .requiredOption('--from <date>', 'ISO 8601 start, e.g. 2025-01-01 or 2025-01-01T00:00:00Z', isoDate)
    .requiredOption('--to <date>', 'ISO 8601 end', isoDate)
    .action(async (cmd: { processor: string; controller: string; roles: string[]; regions?: string[]; from: string; to: string }) => {
      const opts = globals();
      const spec = { processorId: cmd.processor, controllerId: cmd.controller, roles: cmd.roles, regions: cmd.regions, validFrom: cmd.from, validTo: cmd.to };
      const view = await withServices(opts, (services, actor) => asUsage(() => services.administration.createContract(actor, spec)));
      print(opts, view, () => `contract ${view.id} added: ${contractLine(view)}`);
    });

  contracts
    .command('end')
    .description('end a contract now: access under it ends with it')
    .argument('<id>', 'contract id')
    .action(async (id: string) => {
      const opts = globals();
      const view = await withServices(opts, (services, actor) => services.administration.endContract(actor, id));
      print(opts, view, () => `contract ${id} ends ${view.validTo}`);
    });

  for (const decision of ['approve', 'refuse'] as const) {
    contracts
      .command(decision)
      .description(
        decision === 'approve'
          ? 'approve a contract an administrator made, as the key custodian: it reaches recordings from its start (needs the passphrase)'
          : 'refuse a contract an administrator made: it never reaches anything (needs the passphrase)',
      )
      .argument('<id>', 'contract id')
      .action(async (id: string) => {
        const opts = globals();
        const view = await withServices(opts, (services, actor) => services.administration.decideContract(actor, id, decision), true);
        print(opts, view, () => `contract ${id} ${decision === 'approve' ? 'approved' : 'refused'}`);
      });
  }
}
