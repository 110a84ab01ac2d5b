import { sql, type Insertable, type Kysely, type Selectable, type Updateable } from 'kysely';
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

  /** one more failed sign-in, counted in the database so that servers racing each other all count */
  async countFailedSignin(id: string): Promise<number> {
    const row = await this.db.updateTable('users').set({ failed_signins: sql`failed_signins + 1` }).where('id', '=', id).returning('failed_signins').executeTakeFirst();
    return Number(row?.failed_signins ?? 0);
  }

  /**
   * Accepts a TOTP time step once: true when it is newer than the last accepted one and now is
   * the last. Two servers given the same code at once cannot both accept it.
   */
  async consumeTotpStep(id: string, step: number): Promise<boolean> {
    const r = await this.db.updateTable('users').set({ totp_last_step: step }).where('id', '=', id).where('totp_last_step', '<', step).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** the agent ids of a team, within one organisation */
  async teamAgents(team: string, organisation: { controllerId: string | null; processorId: string | null }): Promise<string[]> {
    // an account waiting for approval widens no supervisor's reach
    let q = this.db.selectFrom('users').select('agent').where('team', '=', team).where('agent', 'is not', null).where('approval', '=', 'approved');
    q = organisation.processorId ? q.where('processor_id', '=', organisation.processorId) : q.where('controller_id', '=', organisation.controllerId);
    return (await q.execute()).map((r) => r.agent!);
  }

  /** stores what the person set at enrolment and spends the code, once: false when it was spent meanwhile */
  async finishEnrolment(id: string, enrolmentHash: string, changes: Updateable<UsersTable>): Promise<boolean> {
    const r = await this.db
      .updateTable('users')
      .set({ ...changes, enrolment_hash: null, enrolment_expires_at: null })
      .where('id', '=', id)
      .where('enrolment_hash', '=', enrolmentHash)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** records a decision on what waits for approval; false when it no longer waits (decided meanwhile) */
  async decide(id: string, changes: Updateable<UsersTable>): Promise<boolean> {
    const r = await this.db.updateTable('users').set(changes).where('id', '=', id).where('approval', '=', 'pending').executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async list(): Promise<User[]> {
    return this.db.selectFrom('users').selectAll().orderBy('username').execute();
  }
}
