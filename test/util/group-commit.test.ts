import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroupCommit } from '../../src/util/group-commit.js';

describe('group commit', () => {
  it('callers of one turn share one flush, and each gets its own result', async () => {
    const flushes: number[][] = [];
    const g = new GroupCommit<number, number>(async (items) => {
      flushes.push(items);
      return items.map((i) => i * 10);
    });
    const results = await Promise.all([1, 2, 3].map((i) => g.submit(i)));
    assert.deepEqual(results, [10, 20, 30]);
    assert.deepEqual(flushes, [[1, 2, 3]]);
  });

  it('items that arrive while a flush is written share the next one', async () => {
    const flushes: number[][] = [];
    let release!: () => void;
    const first = new Promise<void>((r) => {
      release = r;
    });
    const g = new GroupCommit<number, number>(async (items) => {
      flushes.push(items);
      if (flushes.length === 1) await first;
      return items;
    });
    const a = g.submit(1);
    await new Promise((r) => setImmediate(r));
    const rest = [2, 3, 4].map((i) => g.submit(i));
    release();
    assert.deepEqual(await Promise.all([a, ...rest]), [1, 2, 3, 4]);
    assert.deepEqual(flushes, [[1], [2, 3, 4]]);
  });

  it('a batch that fails is tried item by item: only the bad item fails', async () => {
    const g = new GroupCommit<number, number>(async (items) => {
      if (items.includes(13)) throw new Error('unlucky');
      return items;
    });
    const settled = await Promise.allSettled([11, 12, 13, 14].map((i) => g.submit(i)));
    assert.deepEqual(
      settled.map((s) => s.status),
      ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
    );
    assert.equal((settled[2] as PromiseRejectedResult).reason.message, 'unlucky');
  });

  it('never holds more than its batch size in one flush', async () => {
    const sizes: number[] = [];
    const g = new GroupCommit<number, number>(async (items) => {
      sizes.push(items.length);
      return items;
    }, 4);
    await Promise.all(Array.from({ length: 10 }, (_, i) => g.submit(i)));
    assert.deepEqual(sizes, [4, 4, 2]);
  });
});
