/**
 * Opening the database runs the Migrator only when a migration is missing or unknown
 * (src/db/database.ts `upToDate`): a database with every migration opens without it, one made by
 * a newer callvault (a migration this code does not know) is still refused, and one missing a
 * migration still gets it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { openDatabase } from '../../src/db/database.js';
import { migrationProvider } from '../../src/db/migrations.js';
import { ErrorCodes } from '../../src/errors.js';
import { tempDir } from '../helpers.js';

test('the Migrator runs when a migration is missing, and refuses a database with one it does not know', async () => {
  const file = join(await tempDir('data', 'migrate-open'), 'callvault.db');
  const names = Object.keys(await migrationProvider.getMigrations());
  await (await openDatabase(`sqlite:${file}`)).close();
  const recorded = () => {
    const raw = new SQLite(file);
    try {
      return (raw.prepare('SELECT name FROM kysely_migration ORDER BY name').all() as { name: string }[]).map((r) => r.name);
    } finally {
      raw.close();
    }
  };
  assert.deepEqual(recorded(), [...names].sort());
  // up to date: opens (no migration to run)
  await (await openDatabase(`sqlite:${file}`)).close();

  // a migration's record removed and its table dropped: opening runs it again
  const newest = names.find((n) => n.endsWith('_revocation_epoch'))!;
  const raw = new SQLite(file);
  raw.prepare('DELETE FROM kysely_migration WHERE name = ?').run(newest);
  raw.prepare('DROP TABLE revocation_epoch').run();
  raw.close();
  await (await openDatabase(`sqlite:${file}`)).close();
  assert.deepEqual(recorded(), [...names].sort());

  // a migration from a newer callvault: refused, as the Migrator refuses it
  const newer = new SQLite(file);
  newer.prepare('INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)').run('9999_from_the_future', new Date().toISOString());
  newer.close();
  await assert.rejects(openDatabase(`sqlite:${file}`), (e: any) => e.code === ErrorCodes.STORAGE_FAILED);
});
