/**
 * What PostgreSQL keeps of an erased recording (issue 16, item 5), read off its pages with
 * pageinspect: the erasing UPDATE leaves the old wrapped key and sealed fields in dead tuples;
 * the erasure's `forgetOverwritten` (a plain VACUUM) prunes them, so no tuple, live or dead,
 * holds them; plain VACUUM does not zero the space they lay in, and `VACUUM (FULL)`, which
 * docs/subject-rights.md tells the operator to run, leaves no byte of them in any page.
 * SQLite's side is in erase.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from '../../src/db/kysely.js';
import type { RecordingRow } from '../../src/db/recordings-repository.js';
import { cli } from '../helpers.js';
import { makeWorld, type World } from './world.js';

const SEALED = ['wrapped_key', 'sealed_metadata', 'sealed_transcript', 'sealed_redacted_transcript', 'sealed_detections'] as const;

/** the values an erasure must leave nowhere: name → base64 text */
function secretsOf(row: RecordingRow): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of SEALED) if (row[k]) out[k] = row[k]!;
  return out;
}

/**
 * Which of `values` occur in `chunks`. A value is cut into 32-byte pieces, one every 256 bytes: a
 * TOAST table keeps a long value in chunks of about 2 kB, so the value whole is never in one page,
 * but most of its pieces are.
 */
function found(chunks: readonly Buffer[], values: Record<string, string>): string[] {
  const hits = new Set<string>();
  for (const [name, value] of Object.entries(values)) {
    for (let at = 0; at + 32 <= value.length && !hits.has(name); at += 256) {
      const piece = Buffer.from(value.slice(at, at + 32), 'utf8');
      if (chunks.some((c) => c.indexOf(piece) >= 0)) hits.add(name);
    }
  }
  return [...hits].sort();
}

describe('erasure on PostgreSQL: dead tuples, VACUUM and VACUUM (FULL)', () => {
  let w: World;
  before(async () => {
    w = await makeWorld('postgres', 53);
    // the test database's owner is a superuser, who may load the extension
    await sql`CREATE EXTENSION IF NOT EXISTS pageinspect`.execute(w.server.vault.database.db);
  });
  after(async () => {
    await w?.close();
  });

  /** the recordings table and its TOAST table, where the sealed fields live */
  async function recordingRelations(): Promise<string[]> {
    const { rows } = await sql<{ toast: string }>`SELECT reltoastrelid::regclass::text AS toast FROM pg_class WHERE oid = 'recordings'::regclass`.execute(
      w.server.vault.database.db,
    );
    return ['recordings', rows[0]!.toast];
  }

  /** every tuple's data, live or dead (not yet pruned), in `relations` */
  async function tuples(relations: readonly string[]): Promise<Buffer[]> {
    const out: Buffer[] = [];
    for (const rel of relations) {
      const { rows } = await sql<{ data: Buffer }>`
        SELECT t_data AS data
        FROM generate_series(0, (pg_relation_size(${rel}::regclass) / current_setting('block_size')::int)::int - 1) AS b,
             heap_page_items(get_raw_page(${rel}, b))
        WHERE t_data IS NOT NULL`.execute(w.server.vault.database.db);
      out.push(...rows.map((r) => r.data));
    }
    return out;
  }

  /** every page, whole (tuples, free space, line pointers), of every table and index of callvault's */
  async function pages(): Promise<Buffer[]> {
    const db = w.server.vault.database.db;
    const { rows: rels } = await sql<{ rel: string; blocks: number }>`
      SELECT c.oid::regclass::text AS rel, (pg_relation_size(c.oid) / current_setting('block_size')::int)::int AS blocks
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 't', 'i', 'm') AND c.relpersistence = 'p' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND (c.relkind <> 'i' OR c.relam = (SELECT oid FROM pg_am WHERE amname = 'btree'))`.execute(db);
    const out: Buffer[] = [];
    for (const { rel, blocks } of rels) {
      for (let b = 0; b < blocks; b++) out.push((await sql<{ page: Buffer }>`SELECT get_raw_page(${rel}, ${b}) AS page`.execute(db)).rows[0]!.page);
    }
    return out;
  }

  test('the erasing UPDATE leaves the old key and sealed fields in dead tuples; forgetOverwritten prunes them; VACUUM (FULL) leaves no byte of them', async () => {
    const { vault } = w.server;
    const { S1 } = w.ids;
    const values = secretsOf((await vault.recordings.get(S1))!);
    assert.deepEqual(Object.keys(values).sort(), [...SEALED].sort(), 'S1 has a transcript, a redacted one and detections');
    const relations = await recordingRelations();
    assert.deepEqual(found(await tuples(relations), values), Object.keys(values).sort(), 'before: every value is in a live tuple');

    // the erasing transaction alone, as eraseSubjectRecordings runs it before forgetOverwritten
    assert.deepEqual(
      (await vault.recordings.erase([S1], new Date().toISOString())).map((e) => e.id),
      [S1],
    );
    assert.deepEqual(found(await tuples(relations), values), Object.keys(values).sort(), 'MVCC: the old version is still a (dead) tuple, whole');

    await vault.database.forgetOverwritten();
    assert.deepEqual(found(await tuples(relations), values), [], 'VACUUM pruned the dead versions: no tuple holds any of the old values');

    // Plain VACUUM compacts each page but does not zero the space it frees: pieces of the old
    // values the compaction did not happen to overwrite stay in the page until it is reused. On
    // PostgreSQL 15 here, the transcripts' TOAST chunks do (which ones depends on the layout). This
    // is why the operator runs VACUUM (FULL), which writes the tables anew.
    assert.notDeepEqual(found(await pages(), values), [], 'measured: pieces of the old values outlive a plain VACUUM in free space');
    await sql`VACUUM (FULL) recordings, recording_identifiers`.execute(vault.database.db);
    assert.deepEqual(found(await pages(), values), [], 'after VACUUM (FULL), no page of any table or index holds a piece of them');
  });

  test('callvault subject erase on PostgreSQL leaves no tuple holding the old key or sealed fields', async () => {
    const { S3 } = w.ids;
    const values = secretsOf((await w.server.vault.recordings.get(S3))!);
    assert.ok(values.wrapped_key && values.sealed_metadata && values.sealed_transcript, 'S3 has a key, metadata and a transcript');
    const done = await cli(['--data', w.server.dataDir, 'subject', 'erase', '--personnummer', w.personnummer, '--yes', '--reason', 'Art. 17-begäran, ärende PG-2026-5', '--json'], {
      CALLVAULT_DATABASE_URL: w.databaseUrl,
    });
    assert.equal(done.code, 0, done.stderr);
    assert.ok(done.json.erased.includes(S3), done.stdout);
    assert.deepEqual(found(await tuples(await recordingRelations()), values), []);
  });
});
