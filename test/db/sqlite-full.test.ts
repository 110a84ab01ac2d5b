/**
 * A full SQLite database ends the transaction itself; the error a caller sees must still be the
 * full disk (SQLITE_FULL, which the HTTP layer answers 503), not kysely's ROLLBACK failing after it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { sql } from '../../src/db/kysely.js';
import { openDatabase } from '../../src/db/database.js';
import { tempDir } from '../helpers.js';

test('a transaction that fills the database fails with SQLITE_FULL, and the connection goes on', async () => {
  const database = await openDatabase(`sqlite:${join(await tempDir('data', 'full'), 'callvault.db')}`);
  try {
    const pages = Number((database.sqlite!.pragma('page_count', { simple: true }) as number) ?? 0);
    // the file may not grow beyond a few pages more than it has
    database.sqlite!.pragma(`max_page_count = ${pages + 8}`);
    await assert.rejects(
      database.db.transaction().execute(async (tx) => {
        await sql`CREATE TABLE filler (b BLOB)`.execute(tx);
        for (let i = 0; i < 100; i++) await sql`INSERT INTO filler VALUES (randomblob(65536))`.execute(tx);
      }),
      (err: NodeJS.ErrnoException) => err.code === 'SQLITE_FULL',
    );
    assert.equal(database.sqlite!.inTransaction, false);
    const row = await sql<{ one: number }>`SELECT 1 AS one`.execute(database.db);
    assert.equal(row.rows[0]!.one, 1);
  } finally {
    await database.close();
  }
});
