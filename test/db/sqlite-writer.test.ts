/**
 * The SQLite writer thread (src/db/sqlite-writer.ts) shares the database file with other
 * processes (an import beside the server): while another connection holds the write lock, a write
 * waits for it and then goes through; it neither fails at once nor writes anything early.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import SQLite from 'better-sqlite3';
import { openDatabase } from '../../src/db/database.js';
import { SqliteWriter } from '../../src/db/sqlite-writer.js';
import { tempDir } from '../helpers.js';

test('a write waits while another process holds the write lock, and goes through once it is free', async () => {
  const file = join(await tempDir('data', 'writer-busy'), 'callvault.db');
  await (await openDatabase(`sqlite:${file}`)).close();
  const writer = new SqliteWriter(file);
  const holder = new SQLite(file);
  try {
    holder.exec('BEGIN IMMEDIATE');
    let settled = false;
    const write = writer.markStored(['no-such-recording']).finally(() => {
      settled = true;
    });
    await sleep(300);
    assert.equal(settled, false, 'the write waits for the lock');
    holder.exec('COMMIT');
    assert.deepEqual(await write, [false]);
  } finally {
    holder.close();
    await writer.close();
  }
});
