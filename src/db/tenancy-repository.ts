/**
 * Processors and their contracts with controllers (the brief's tenancy).
 */
import type { Kysely, Selectable } from 'kysely';
import type { ContractsTable, Database, ProcessorsTable } from './schema.js';
import type { ContractTerms } from '../policy/policy.js';

export type Processor = Selectable<ProcessorsTable>;
export type ContractRow = Selectable<ContractsTable>;

export function contractTerms(row: ContractRow): ContractTerms {
  return {
    id: row.id,
    processorId: row.processor_id,
    controllerId: row.controller_id,
    roles: row.roles.split(','),
    regions: row.regions === null ? null : row.regions.split(','),
    validFrom: row.valid_from,
    validTo: row.valid_to,
    approved: row.approval === 'approved',
  };
}

export class TenancyRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async addProcessor(processor: Processor): Promise<void> {
    await this.db.insertInto('processors').values(processor).execute();
  }

  async processor(id: string): Promise<Processor | undefined> {
    return this.db.selectFrom('processors').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async processors(): Promise<Processor[]> {
    return this.db.selectFrom('processors').selectAll().orderBy('id').execute();
  }

  async addContract(contract: ContractRow): Promise<void> {
    await this.db.insertInto('contracts').values(contract).execute();
  }

  async contract(id: string): Promise<ContractRow | undefined> {
    return this.db.selectFrom('contracts').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async contracts(processorId?: string): Promise<ContractRow[]> {
    let q = this.db.selectFrom('contracts').selectAll();
    if (processorId) q = q.where('processor_id', '=', processorId);
    return q.orderBy('created_at').orderBy('id').execute();
  }

  /** ends a contract now (or keeps an earlier end); a contract not yet started ends at its start */
  /** the controller's decision on a contract that waits for it; false when it no longer waits */
  async decideContract(id: string, approval: 'approved' | 'refused', decidedBy: string): Promise<boolean> {
    const r = await this.db.updateTable('contracts').set({ approval, approval_decided_by: decidedBy }).where('id', '=', id).where('approval', '=', 'pending').executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async endContract(id: string, at: string): Promise<void> {
    await this.db
      .updateTable('contracts')
      .set((eb) => ({ valid_to: eb.case().when('valid_from', '>', at).then(eb.ref('valid_from')).else(at).end() }))
      .where('id', '=', id)
      .where('valid_to', '>', at)
      .execute();
  }
}
