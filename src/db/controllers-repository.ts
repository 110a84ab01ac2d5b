import type { Kysely, Selectable } from 'kysely';
import type { ControllersTable, Database } from './schema.js';

export type Controller = Selectable<ControllersTable>;

export class ControllersRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async add(controller: Controller): Promise<void> {
    await this.db.insertInto('controllers').values(controller).execute();
  }

  async get(id: string): Promise<Controller | undefined> {
    return this.db.selectFrom('controllers').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async list(): Promise<Controller[]> {
    return this.db.selectFrom('controllers').selectAll().orderBy('id').execute();
  }
}
