/**
 * A smoke round of the retention benchmark (bench/retention.ts) at a tiny size, on SQLite and
 * PostgreSQL: each of its runs shreds exactly its months' recordings with one key destroyed per
 * controller and month, none made or unwrapped, and the baseline updates the same rows (the
 * benchmark checks both and throws otherwise).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { benchRetention } from '../../bench/retention.js';
import { removeDir, tempDir } from '../helpers.js';

for (const dialect of ['sqlite', 'postgres']) {
  test(`the retention benchmark runs at a tiny size (${dialect})`, async () => {
    const dir = await tempDir('out', 'bench-retention');
    try {
      const cases = await benchRetention(dialect, 1500, join(dir, dialect), () => {});
      assert.deepEqual(
        cases.map((c) => c.months),
        [1, 2, 4, 12, 1],
      );
      for (const c of cases) {
        assert.ok(c.shredded > 0);
        assert.equal(c.keysDestroyed, 21 * c.months);
        assert.equal(c.keysGenerated, 0);
        assert.equal(c.unwraps, 0);
        assert.equal(c.baseline.rows, c.shredded);
      }
      assert.equal(cases.at(-1)!.objectsDeleted, cases.at(-1)!.shredded);
    } finally {
      await removeDir(dir);
    }
  });
}
