/**
 * Rate-limit counters for @fastify/rate-limit when several servers share one database.
 *
 * The global limit (every route, per client address) is counted in this process's memory: it
 * protects this process, and a load balancer in front limits the whole. The limits a route sets
 * for itself (the sign-in routes) are counted in the database, so that guessing passwords
 * across several servers is limited as on one: N servers must not mean N times the attempts.
 */
import type { CoordinationRepository } from '../db/coordination-repository.js';

type Callback = (err: Error | null, result?: { current: number; ttl: number }) => void;

/** the plugin passes a route's merged limit options, with the route itself as `routeInfo` */
type RouteLimit = { routeInfo?: { method?: unknown; url?: unknown } };

/** fixed windows in memory, pruned as they end */
class MemoryCounters {
  readonly #counts = new Map<string, { count: number; until: number }>();

  hit(key: string, windowMs: number, now = Date.now()): { current: number; ttl: number } {
    let entry = this.#counts.get(key);
    if (!entry || entry.until <= now) {
      if (this.#counts.size > 100_000) for (const [k, e] of this.#counts) if (e.until <= now) this.#counts.delete(k);
      entry = { count: 0, until: now + windowMs };
      this.#counts.set(key, entry);
    }
    entry.count += 1;
    return { current: entry.count, ttl: entry.until - now };
  }
}

/** a store class bound to the database, in the shape the plugin constructs (`new Store(options)`) */
export function rateLimitStore(coordination: CoordinationRepository) {
  let hits = 0;
  return class SharedRateLimitStore {
    readonly #memory = new MemoryCounters();

    constructor(
      _options?: unknown,
      private readonly route?: string,
    ) {}

    incr(key: string, cb: Callback, timeWindow: number): void {
      if (!this.route) {
        cb(null, this.#memory.hit(key, timeWindow));
        return;
      }
      // now and then, forget windows that have ended
      if (++hits % 1000 === 0) void coordination.pruneRateLimits(timeWindow).catch(() => undefined);
      coordination.hit(`${this.route} ${key}`, timeWindow).then(
        (r) => cb(null, { current: r.count, ttl: r.resetMs }),
        (err: Error) => cb(err),
      );
    }

    child(routeOptions: object): SharedRateLimitStore {
      const route = (routeOptions as RouteLimit).routeInfo;
      return new SharedRateLimitStore(undefined, `${String(route?.method ?? '')} ${String(route?.url ?? '')}`);
    }
  };
}
