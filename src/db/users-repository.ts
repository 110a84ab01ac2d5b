import type { Insertable, Kysely, Selectable, Updateable } from 'kysely';
import type { Database, UsersTable } from './schema.js';

export type User = Selectable<UsersTable>;

export class UsersRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async add(user: Insertable<UsersTable>): Promise<void> {
    await this.db.insertInto('users').values(user).execute();
  }

  async byUsername(username: string): Promise<User | undefined> {
    return this.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
  }

  async get(id: string): Promise<User | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async byOidc(issuer: string, subject: string): Promise<User | undefined> {
    return this.db.selectFrom('users').selectAll().where('oidc_issuer', '=', issuer).where('oidc_subject', '=', subject).executeTakeFirst();
  }

  async update(id: string, changes: Updateable<UsersTable>): Promise<void> {
    await this.db.updateTable('users').set(changes).where('id', '=', id).execute();
  }

  /** the agent ids of a team, within one organisation */
  async teamAgents(team: string, organisation: { controllerId: string | null; processorId: string | null }): Promise<string[]> {
    let q = this.db.selectFrom('users').select('agent').where('team', '=', team).where('agent', 'is not', null);
    q = organisation.processorId ? q.where('processor_id', '=', organisation.processorId) : q.where('controller_id', '=', organisation.controllerId);
    return (await q.execute()).map((r) => r.agent!);
  }

  async list(): Promise<User[]> {
    return this.db.selectFrom('users').selectAll().orderBy('username').execute();
  }
}
