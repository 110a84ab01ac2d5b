/**
 * Contracts between processors and controllers: which processor's staff reach which
 * controller's calls, in which roles and regions, from when to when. As in the admin API.
 */
import type { Command } from 'commander';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import { addContract, CONTRACT_ROLES } from '../../tenancy/tenancy.js';
import { contractView } from '../../http/routes/admin.js';
import { asUsage, cliActor, commaList, isoDate, openVault, print, type GlobalOptions } from '../io.js';

function contractLine(c: ReturnType<typeof contractView>): string {
  return `${c.id}  ${c.processorId} -> ${c.controllerId}  roles ${c.roles.join(',')}  regions ${c.regions?.join(',') ?? 'all'}  ${c.validFrom} to ${c.validTo}`;
}

export function register(program: Command, globals: () => GlobalOptions): void {
  const contracts = program.command('contracts').description('contracts between processors and controllers: add, list, end');

  contracts
    .command('list')
    .description('contracts, in force or not')
    .option('--processor <id>', 'only this processor\'s')
    .action(async (cmd: { processor?: string }) => {
      const opts = globals();
      const vault = await openVault(opts);
      try {
        const list = (await vault.tenancy.contracts(cmd.processor)).map(contractView);
        print(opts, { contracts: list }, () => list.map(contractLine).join('\n'));
      } finally {
        await vault.close();
      }
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
      const vault = await openVault(opts);
      try {
        const row = await asUsage(() =>
          addContract(vault, { processorId: cmd.processor, controllerId: cmd.controller, roles: cmd.roles, regions: cmd.regions, validFrom: cmd.from, validTo: cmd.to }),
        );
        await vault.audit.append({
          action: 'contract.create',
          outcome: 'success',
          actor: cliActor(),
          controllerId: row.controller_id,
          detail: { contractId: row.id, processorId: row.processor_id, roles: row.roles, regions: row.regions, validFrom: row.valid_from, validTo: row.valid_to },
        });
        const view = contractView(row);
        print(opts, view, () => `contract ${view.id} added: ${contractLine(view)}`);
      } finally {
        await vault.close();
      }
    });

  contracts
    .command('end')
    .description('end a contract now: access under it ends with it')
    .argument('<id>', 'contract id')
    .action(async (id: string) => {
      const opts = globals();
      const vault = await openVault(opts);
      try {
        const before = await vault.tenancy.contract(id);
        if (!before) throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such contract');
        await vault.tenancy.endContract(id, new Date().toISOString());
        const view = contractView((await vault.tenancy.contract(id))!);
        await vault.audit.append({
          action: 'contract.end',
          outcome: 'success',
          actor: cliActor(),
          controllerId: view.controllerId,
          detail: { contractId: id, processorId: view.processorId, validTo: view.validTo },
        });
        print(opts, view, () => `contract ${id} ends ${view.validTo}`);
      } finally {
        await vault.close();
      }
    });
}
