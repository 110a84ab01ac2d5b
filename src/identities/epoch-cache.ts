/**
 * Sessions and stated purposes kept in memory between a person's requests, as long as nothing
 * that could end them has changed since they were read: migration 0018's triggers move the
 * revocation epoch on every change to accounts, sessions ended, grants, contracts and
 * break-the-glass periods, from any server sharing the database. A request reads the epoch (one
 * row) and uses what was kept under the same epoch; anything else is read again. Times (idle,
 * expiry) are still checked on every use by the caller.
 */
export class EpochCache<V> {
  readonly #entries = new Map<string, { epoch: number; value: V }>();

  /** `max` bounds memory: the oldest entry goes first */
  constructor(private readonly max = 10_000) {}

  /** what was kept under `key` when the epoch is still `epoch` */
  get(key: string, epoch: number): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.epoch === epoch) return entry.value;
    this.#entries.delete(key);
    return undefined;
  }

  /** keeps `value`, read after the epoch was read as `epoch` (never before: it could be older than its label) */
  set(key: string, epoch: number, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, { epoch, value });
    if (this.#entries.size > this.max) this.#entries.delete(this.#entries.keys().next().value!);
  }
}
