import type { Kysely, Selectable } from 'kysely';
import type { Database, UsersTable } from './schema.js';

export type User = Selectable<UsersTable>;

export class UsersRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async add(user: User): Promise<void> {
    await this.db.insertInto('users').values(user).execute();
  }

  async byUsername(username: string): Promise<User | undefined> {
    return this.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
  }

  async list(): Promise<User[]> {
    return this.db.selectFrom('users').selectAll().orderBy('username').execute();
  }
}
