/**
 * What several `callvault serve` processes on one database coordinate through it: leases for
 * background jobs, and rate-limit counters that must hold across servers (sign-in attempts).
 */
import type { Kysely } from 'kysely';
import { sql } from './kysely.js';
import type { Database } from './schema.js';

export class CoordinationRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Takes or renews the lease `name` for `holder` until now + ttlMs, when it is free, expired or
   * already this holder's. True when the holder has it afterwards.
   */
  async acquireLease(name: string, holder: string, ttlMs: number, now = new Date()): Promise<boolean> {
    const until = new Date(now.getTime() + ttlMs).toISOString();
    await this.db
      .insertInto('leases')
      .values({ name, holder, expires_at: until })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ holder, expires_at: until })
          .where((eb) => eb.or([eb('leases.holder', '=', holder), eb('leases.expires_at', '<', now.toISOString())])),
      )
      .execute();
    const row = await this.db.selectFrom('leases').select('holder').where('name', '=', name).executeTakeFirst();
    return row?.holder === holder;
  }

  /**
   * Takes the lease `name` from `from`, whatever its expiry, only if `from` still holds it: for a
   * holder known to be dead (a killed process on this host), whose lease would otherwise block
   * everyone until it expires.
   */
  async takeOverLease(name: string, from: string, holder: string, ttlMs: number, now = new Date()): Promise<boolean> {
    const until = new Date(now.getTime() + ttlMs).toISOString();
    const r = await this.db.updateTable('leases').set({ holder, expires_at: until }).where('name', '=', name).where('holder', '=', from).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** who holds the lease `name` now (undefined: nobody, or it expired); a read only */
  async leaseHolder(name: string, now = new Date()): Promise<string | undefined> {
    const row = await this.db.selectFrom('leases').select('holder').where('name', '=', name).where('expires_at', '>=', now.toISOString()).executeTakeFirst();
    return row?.holder;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.db.deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).execute();
  }

  /** true while `holder` has the lease `name` and it has not expired */
  async leaseHeld(name: string, holder: string, now = new Date()): Promise<boolean> {
    const row = await this.db.selectFrom('leases').select('holder').where('name', '=', name).where('expires_at', '>=', now.toISOString()).executeTakeFirst();
    return row?.holder === holder;
  }

  /** forgets leases under a name prefix that expired before `before` */
  async pruneLeases(prefix: string, before: Date): Promise<void> {
    await this.db.deleteFrom('leases').where('name', 'like', `${prefix}%`).where('expires_at', '<', before.toISOString()).execute();
  }

  /** counts one request of `key` in the window that holds `now`; the count so far, this one included */
  async hit(key: string, windowMs: number, now = Date.now()): Promise<{ count: number; resetMs: number }> {
    const window = Math.floor(now / windowMs);
    const row = await this.db
      .insertInto('rate_limits')
      .values({ key, window, count: 1 })
      .onConflict((oc) => oc.columns(['key', 'window']).doUpdateSet({ count: sql`rate_limits.count + 1` }))
      .returning('count')
      .executeTakeFirstOrThrow();
    return { count: Number(row.count), resetMs: (window + 1) * windowMs - now };
  }

  /** forgets windows that ended before `before` (epoch ms) */
  async pruneRateLimits(windowMs: number, before = Date.now() - windowMs): Promise<void> {
    await this.db
      .deleteFrom('rate_limits')
      .where('window', '<', Math.floor(before / windowMs))
      .execute();
  }
}
