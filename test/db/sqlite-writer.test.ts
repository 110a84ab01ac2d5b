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
import { SessionsRepository } from '../../src/db/sessions-repository.js';
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

test('sessions written by the writer thread are read at once on the main connection, and a revocation moves the epoch', async () => {
  const file = join(await tempDir('data', 'writer-sessions'), 'callvault.db');
  const database = await openDatabase(`sqlite:${file}`);
  try {
    database.startWriter();
    assert.ok(database.writer, 'a file database starts a writer thread');
    const now = new Date().toISOString();
    const raw = new SQLite(file);
    raw.prepare('INSERT INTO users (id, username, role, password_hash, totp_secret_sealed, created_at) VALUES (?, ?, ?, ?, ?, ?)').run('u1', 'anna', 'nurse', 'x', 'x', now);
    raw.close();
    const sessions = new SessionsRepository(database.db, () => database.writer);
    const session = { id_hash: 'h1', user_id: 'u1', csrf_token: 'c', created_at: now, last_seen_at: now, expires_at: now, revoked_at: null };
    await sessions.add(session);
    assert.deepEqual(await sessions.get('h1'), session);
    const before = await sessions.revocationEpoch();
    await sessions.revoke('h1', now);
    assert.equal((await sessions.get('h1'))?.revoked_at, now);
    assert.ok((await sessions.revocationEpoch()) > before, 'the trigger ran in the writer thread’s transaction');
    // a foreign key the thread's connection enforces, as the main one does
    await assert.rejects(sessions.add({ ...session, id_hash: 'h2', user_id: 'nobody' }), (e: { code?: string }) => e.code === 'SQLITE_CONSTRAINT_FOREIGNKEY');
  } finally {
    await database.close();
  }
});
