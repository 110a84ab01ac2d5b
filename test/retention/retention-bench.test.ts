/**
 * A smoke round of the retention benchmark (bench/retention.ts) at a tiny size (1,500 recordings
 * over 24 months), on SQLite and PostgreSQL: each of its runs shreds exactly its months'
 * recordings with one key destroyed per controller and month, none made or unwrapped, and the
 * baseline updates the same rows (the benchmark checks both and throws otherwise).
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
      // 24 months: the runs' 1 + 2 + 4 + 12 + 1, and after them the months whose keys a run
      // ensures for its `now` and the month after, as in the full archive. Every month costs a
      // period key per controller, and each key made rewrites the keyring file
      const cases = await benchRetention(dialect, 1500, join(dir, dialect), () => {}, 24);
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
