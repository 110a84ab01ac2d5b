/**
 * Display names: what people call the organisations, regions and agents that recordings and
 * accounts name by id. Controllers and processors keep theirs in their own rows; region codes and
 * agent ids, which are free text on recordings, get theirs here (migration 0015).
 */
import type { Kysely } from 'kysely';
import type { Database, DisplayNamesTable } from './schema.js';

export type NameKind = DisplayNamesTable['kind'];
export const NAME_KINDS: readonly NameKind[] = ['region', 'agent'];

export interface Named {
  id: string;
  name: string;
}

/** every display name there is, by what it names, each list sorted by id */
export interface NameDirectory {
  controllers: Named[];
  processors: Named[];
  regions: Named[];
  agents: Named[];
}

export class NamesRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** sets (or replaces) the display name of a region code or an agent id */
  async set(kind: NameKind, id: string, name: string, at: string): Promise<void> {
    await this.db
      .insertInto('display_names')
      .values({ kind, id, name, updated_at: at })
      .onConflict((oc) => oc.columns(['kind', 'id']).doUpdateSet({ name, updated_at: at }))
      .execute();
  }

  /** removes a display name; false when there was none */
  async remove(kind: NameKind, id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('display_names').where('kind', '=', kind).where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async list(kind?: NameKind): Promise<Array<{ kind: NameKind; id: string; name: string }>> {
    let q = this.db.selectFrom('display_names').select(['kind', 'id', 'name']);
    if (kind) q = q.where('kind', '=', kind);
    return q.orderBy('kind').orderBy('id').execute();
  }

  async directory(): Promise<NameDirectory> {
    const [controllers, processors, named] = await Promise.all([
      this.db.selectFrom('controllers').select(['id', 'name']).orderBy('id').execute(),
      this.db.selectFrom('processors').select(['id', 'name']).orderBy('id').execute(),
      this.list(),
    ]);
    const of = (kind: NameKind) => named.filter((n) => n.kind === kind).map(({ id, name }) => ({ id, name }));
    return { controllers, processors, regions: of('region'), agents: of('agent') };
  }
}
