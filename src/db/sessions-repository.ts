/**
 * Sign-in sessions and machine API tokens. Only hashes of their secrets are stored.
 */
import type { Kysely, Selectable } from 'kysely';
import type { ApiTokensTable, Database, SessionsTable } from './schema.js';
import { type SqliteWriter, writeDurably } from './sqlite-writer.js';

export type SessionRow = Selectable<SessionsTable>;
export type ApiTokenRow = Selectable<ApiTokensTable>;

export class SessionsRepository {
  constructor(
    private readonly db: Kysely<Database>,
    /** the SQLite writer thread, when this process started one: a sign-in's commit does not stop other requests */
    private readonly writer: () => SqliteWriter | undefined = () => undefined,
  ) {}

  async add(session: SessionRow): Promise<void> {
    await writeDurably(this.writer(), this.db.insertInto('sessions').values(session));
  }

  async get(idHash: string): Promise<SessionRow | undefined> {
    return this.db.selectFrom('sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
  }

  /** moves on every change that can end a session or an access (migration 0018's triggers) */
  async revocationEpoch(): Promise<number> {
    const row = await this.db.selectFrom('revocation_epoch').select('epoch').where('id', '=', 1).executeTakeFirstOrThrow();
    return Number(row.epoch);
  }

  async touch(idHash: string, at: string): Promise<void> {
    await writeDurably(this.writer(), this.db.updateTable('sessions').set({ last_seen_at: at }).where('id_hash', '=', idHash));
  }

  async revoke(idHash: string, at: string): Promise<void> {
    await writeDurably(this.writer(), this.db.updateTable('sessions').set({ revoked_at: at }).where('id_hash', '=', idHash).where('revoked_at', 'is', null));
  }

  /** every session of a user, on disable, password change or role change */
  async revokeAllOf(userId: string, at: string, exceptIdHash = ''): Promise<void> {
    await writeDurably(
      this.writer(),
      this.db.updateTable('sessions').set({ revoked_at: at }).where('user_id', '=', userId).where('revoked_at', 'is', null).where('id_hash', '!=', exceptIdHash),
    );
  }

  async addToken(token: ApiTokenRow): Promise<void> {
    await this.db.insertInto('api_tokens').values(token).execute();
  }

  async token(id: string): Promise<ApiTokenRow | undefined> {
    return this.db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async tokens(): Promise<ApiTokenRow[]> {
    return this.db.selectFrom('api_tokens').selectAll().orderBy('created_at').orderBy('id').execute();
  }

  async tokenUsed(id: string, at: string): Promise<void> {
    await this.db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
  }

  async revokeToken(id: string, at: string): Promise<boolean> {
    const r = await this.db.updateTable('api_tokens').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }
}
