import type { Insertable, Kysely, Selectable, Updateable } from 'kysely';
import { sql } from './kysely.js';
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

  /**
   * One more failed sign-in of an account from `address` ('*': from anywhere): the count, decayed
   * by one every `decayMs` since the last failure, plus one. Counted by one statement in the
   * database, so that servers racing each other all count. Resolves with the new count.
   */
  async countFailedSignin(id: string, address: string, nowMs: number, decayMs: number): Promise<number> {
    const elapsed = sql`cast(${nowMs} - signin_failures.last_failure_ms as double precision) / ${decayMs}`;
    const decayed = sql`case when signin_failures.last_failure_ms >= ${nowMs} then signin_failures.failures when signin_failures.failures - ${elapsed} > 0 then signin_failures.failures - ${elapsed} else 0 end`;
    const row = await this.db
      .insertInto('signin_failures')
      .values({ user_id: id, address, failures: 1, last_failure_ms: nowMs, locked_until_ms: null })
      .onConflict((oc) => oc.columns(['user_id', 'address']).doUpdateSet({ failures: sql`${decayed} + 1`, last_failure_ms: nowMs }))
      .returning('failures')
      .executeTakeFirst();
    return Number(row?.failures ?? 0);
  }

  /** locks the account at `address` ('*': everywhere) until `untilMs`, unless it is locked longer already */
  async lockSignin(id: string, address: string, untilMs: number): Promise<void> {
    await this.db
      .updateTable('signin_failures')
      .set({ locked_until_ms: untilMs })
      .where('user_id', '=', id)
      .where('address', '=', address)
      .where((eb) => eb.or([eb('locked_until_ms', 'is', null), eb('locked_until_ms', '<', untilMs)]))
      .execute();
  }

  /** the addresses among `addresses` ('*' included) at which the account is locked now */
  async signinLocks(id: string, addresses: string[], nowMs: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('signin_failures')
      .select('address')
      .where('user_id', '=', id)
      .where('address', 'in', addresses)
      .where('locked_until_ms', '>', nowMs)
      .execute();
    return rows.map((r) => r.address);
  }

  /** the accounts locked at every address now */
  async lockedEverywhere(nowMs: number): Promise<Set<string>> {
    const rows = await this.db.selectFrom('signin_failures').select('user_id').where('address', '=', '*').where('locked_until_ms', '>', nowMs).execute();
    return new Set(rows.map((r) => r.user_id));
  }

  /** forgets the account's failures at `address`, or at every address and overall when none is given */
  async clearSigninFailures(id: string, address?: string): Promise<void> {
    let q = this.db.deleteFrom('signin_failures').where('user_id', '=', id);
    if (address !== undefined) q = q.where('address', '=', address);
    await q.execute();
  }

  /** forgets failures that ended before `beforeMs` and hold no lock any more */
  async pruneSigninFailures(beforeMs: number): Promise<void> {
    await this.db
      .deleteFrom('signin_failures')
      .where('last_failure_ms', '<', beforeMs)
      .where((eb) => eb.or([eb('locked_until_ms', 'is', null), eb('locked_until_ms', '<', beforeMs)]))
      .execute();
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
