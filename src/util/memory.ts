/**
 * Keeps the memory of a long stream flat. Buffers are external memory: V8 frees one only when a
 * garbage collection finds its small JavaScript wrapper, and a stream of 1 MiB chunks makes
 * garbage far faster than it makes the young-generation objects whose allocation schedules a
 * scavenge. Left alone, each thread holds tens of MiB of dead chunks before V8's external-memory
 * limit forces a collection. Asking for a minor collection every few tens of MiB keeps an
 * import's peak memory flat (docs/benchmarks.md, rss). The flag is set at run time so that the
 * command needs no node options; `gc` is never exposed globally.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const EVERY = 8 * 1024 * 1024;
let collect: ((options: { type: 'minor' }) => void) | null | undefined;
let sinceLast = 0;

export function releasedBytes(n: number): void {
  sinceLast += n;
  if (sinceLast < EVERY) return;
  sinceLast = 0;
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as typeof collect;
    } catch {
      collect = null;
    }
  }
  collect?.({ type: 'minor' });
}
