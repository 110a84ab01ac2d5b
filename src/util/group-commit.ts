/**
 * Group commit: callers submit one item each and are answered once the transaction that holds
 * it is durable; the items that arrive while a transaction is being written, or in the same turn
 * of the event loop, share the next one. One durable commit then serves many imports or requests
 * instead of one each, and no caller is answered before its own item is durable.
 *
 * A batch that fails is tried again item by item, so one item that cannot be written (a unique
 * constraint, say) fails alone; a database that refuses everything fails each of them.
 */
interface Waiting<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export class GroupCommit<T, R> {
  readonly #queue: Waiting<T, R>[] = [];
  #draining = false;

  constructor(
    /** writes the items in one transaction and answers one result per item, in order */
    private readonly flush: (items: T[]) => Promise<R[]>,
    private readonly maxBatch = 256,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (this.#draining) return;
      this.#draining = true;
      // a synchronous driver (better-sqlite3) would otherwise commit each item before the next
      // caller of the same turn got here
      setImmediate(() => void this.#drain());
    });
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.maxBatch);
        try {
          const results = await this.flush(batch.map((b) => b.item));
          for (const [i, b] of batch.entries()) b.resolve(results[i]!);
        } catch (err) {
          if (batch.length === 1) batch[0]!.reject(err);
          else await this.#oneByOne(batch);
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  async #oneByOne(batch: Waiting<T, R>[]): Promise<void> {
    for (const b of batch) {
      try {
        b.resolve((await this.flush([b.item]))[0]!);
      } catch (err) {
        b.reject(err);
      }
    }
  }
}
