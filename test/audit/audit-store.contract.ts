/**
 * The contract every audit store passes (src/audit/storage/): the SQLite and the PostgreSQL one.
 * Positions are handed out in order and without gaps, however many appenders there are, each row
 * is read back as written, and a store that cannot write fails and leaves nothing behind.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from '../../src/db/kysely.js';
import { openDatabase, type MetadataDatabase } from '../../src/db/database.js';
import { encodeEntry, entryColumns, type AuditEvent } from '../../src/audit/audit-log.js';
import { leafHash } from '../../src/audit/merkle.js';
import type { AuditRow, AuditStore } from '../../src/audit/storage/audit-store.js';

/** a row as AuditLog makes it, distinct for each (label, i) */
function rowOf(label: string, i: number): AuditRow {
  const event: AuditEvent = {
    action: 'recording.play',
    outcome: i % 5 === 0 ? 'denied' : 'success',
    actor: { type: 'user', id: `u-${label}`, name: label },
    recordingId: `r-${i % 3}`,
    detail: { range: { start: i, end: i + 1 } },
  };
  const entry = encodeEntry(event, new Date(Date.UTC(2026, 0, 1) + i * 1000));
  const text = entry.toString('utf8');
  return { entry: text, leaf_hash: leafHash(entry).toString('hex'), ...entryColumns(text) };
}

/** makes the database refuse new audit rows, as a full disk or a broken replica would; returns the undo */
async function refuseInserts(m: MetadataDatabase): Promise<() => Promise<void>> {
  if (m.dialect === 'sqlite') {
    await sql`CREATE TRIGGER audit_blocked BEFORE INSERT ON audit_entries BEGIN SELECT RAISE(ABORT, 'blocked'); END`.execute(m.db);
    return async () => void (await sql`DROP TRIGGER audit_blocked`.execute(m.db));
  }
  await sql`CREATE FUNCTION audit_blocked() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'blocked'; END $$`.execute(m.db);
  await sql`CREATE TRIGGER audit_blocked BEFORE INSERT ON audit_entries FOR EACH ROW EXECUTE FUNCTION audit_blocked()`.execute(m.db);
  return async () => {
    await sql`DROP TRIGGER audit_blocked ON audit_entries`.execute(m.db);
    await sql`DROP FUNCTION audit_blocked()`.execute(m.db);
  };
}

export function auditStoreContract(name: string, url: () => Promise<{ url: string; drop: () => Promise<void> }>): void {
  describe(`audit store contract: ${name}`, () => {
    let dbUrl: string;
    let m: MetadataDatabase;
    let store: AuditStore;
    let drop: () => Promise<void>;
    /** every row appended so far, by position */
    const written: AuditRow[] = [];

    before(async () => {
      const u = await url();
      dbUrl = u.url;
      drop = u.drop;
      m = await openDatabase(u.url);
      store = m.auditStore;
    });
    after(async () => {
      await m.close();
      await drop();
    });

    async function append(s: AuditStore, row: AuditRow): Promise<number> {
      const index = await s.append(row);
      assert.equal(written[index], undefined, `position ${index} handed out twice`);
      written[index] = row;
      return index;
    }

    /** the stored log is exactly `written`, position by position, its columns included */
    async function assertLogIsWritten(): Promise<void> {
      assert.equal(await store.size(), written.length, 'the head counts every row');
      assert.equal(written.filter(Boolean).length, written.length, 'no gaps among the positions handed out');
      const stored = await store.entries(0, written.length + 10);
      assert.deepEqual(
        stored.map((e) => e.index),
        written.map((_, i) => i),
      );
      stored.forEach((e, i) => {
        assert.equal(e.entry.toString('utf8'), written[i]!.entry, `entry ${i}`);
        assert.equal(e.leafHash.toString('hex'), written[i]!.leaf_hash, `leaf hash ${i}`);
      });
      const columns = await m.db
        .selectFrom('audit_entries')
        .select(['seq', 'recording_id', 'identifier_hash', 'time', 'action', 'outcome', 'actor_id', 'actor_name'])
        .orderBy('seq')
        .execute();
      columns.forEach((c) => {
        const { seq, ...rest } = c;
        const { entry: _e, leaf_hash: _h, ...want } = written[Number(seq)]!;
        assert.deepEqual(rest, want, `the columns of entry ${seq}`);
      });
    }

    it('an empty log: size 0, no entries, no leaf hashes', async () => {
      assert.equal(await store.size(), 0);
      assert.deepEqual(await store.entries(0, 10), []);
      assert.deepEqual(await store.leafHashes(0, 0), []);
      await assert.rejects(store.leafHashes(0, 1), 'a leaf that is not there is an error, not an empty answer');
    });

    it('appends at 0, 1, 2, … in order, and reads back what it was given', async () => {
      for (let i = 0; i < 5; i++) assert.equal(await append(store, rowOf('seq', i)), i);
      await assertLogIsWritten();
    });

    it('reads any range [from, to), clipped to the log', async () => {
      assert.deepEqual(
        (await store.entries(1, 3)).map((e) => e.index),
        [1, 2],
      );
      assert.deepEqual(
        (await store.entries(4, 100)).map((e) => e.index),
        [4],
      );
      assert.deepEqual(await store.entries(5, 100), []);
      assert.deepEqual(await store.entries(3, 3), []);
      assert.deepEqual(await store.entries(3, 1), []);
    });

    it('gives the leaf hashes of a range, in order, and refuses a range past the head', async () => {
      const hashes = await store.leafHashes(1, 4);
      assert.deepEqual(
        hashes.map((h) => h.toString('hex')),
        [1, 2, 3].map((i) => written[i]!.leaf_hash),
      );
      assert.ok(
        hashes.every((h, i) => h.equals(leafHash(Buffer.from(written[i + 1]!.entry, 'utf8')))),
        'the leaf hash is RFC 9162 over the entry bytes',
      );
      await assert.rejects(store.leafHashes(3, 6));
    });

    it('concurrent appends through one store get distinct positions without gaps', async () => {
      const from = written.length;
      const indexes = await Promise.all(Array.from({ length: 40 }, (_, i) => append(store, rowOf('burst', i))));
      assert.deepEqual(
        [...indexes].sort((a, b) => a - b),
        Array.from({ length: 40 }, (_, i) => from + i),
      );
      await assertLogIsWritten();
    });

    it('concurrent appends through two connections to the database interleave without gaps or forks', async () => {
      const other = await openDatabase(dbUrl);
      try {
        const from = written.length;
        const runs = [store, other.auditStore].map((s, w) => Promise.all(Array.from({ length: 30 }, (_, i) => append(s, rowOf(`conn-${w}`, i)))));
        const indexes = (await Promise.all(runs)).flat();
        assert.deepEqual(
          indexes.sort((a, b) => a - b),
          Array.from({ length: 60 }, (_, i) => from + i),
        );
        assert.equal(await other.auditStore.size(), written.length, 'both connections see one head');
      } finally {
        await other.close();
      }
      await assertLogIsWritten();
    });

    it('appendMany stores a group at consecutive positions in order, also while another connection appends', async () => {
      const other = await openDatabase(dbUrl);
      try {
        const from = written.length;
        const group = Array.from({ length: 25 }, (_, i) => rowOf('group', i));
        const [positions, singles] = await Promise.all([store.appendMany(group), Promise.all(Array.from({ length: 10 }, (_, i) => other.auditStore.append(rowOf('single', i))))]);
        assert.equal(positions.length, 25);
        positions.forEach((p, i) => {
          assert.equal(p, positions[0]! + i, 'one group, no entry of another connection inside it');
          written[p] = group[i]!;
        });
        singles.forEach((p, i) => {
          written[p] = rowOf('single', i);
        });
        assert.deepEqual(
          [...positions, ...singles].sort((a, b) => a - b),
          Array.from({ length: 35 }, (_, i) => from + i),
        );
      } finally {
        await other.close();
      }
      await assertLogIsWritten();
    });

    it('the probe writes nothing and leaves the head as it was', async () => {
      const size = await store.size();
      await store.probe(1000);
      assert.equal(await store.size(), size);
      await assertLogIsWritten();
    });

    it('fails closed: when the database refuses the row, append throws, stores nothing and skips no position', async () => {
      const size = await store.size();
      const undo = await refuseInserts(m);
      try {
        await assert.rejects(store.append(rowOf('refused', 0)));
        await assert.rejects(store.append(rowOf('refused', 1)));
        await assert.rejects(store.appendMany([rowOf('refused', 2), rowOf('refused', 3)]), 'a group is stored whole or not at all');
        assert.equal(await store.size(), size, 'the head did not move');
        assert.deepEqual(await store.entries(size, size + 10), []);
      } finally {
        await undo();
      }
      assert.equal(await append(store, rowOf('after', 0)), size, 'the next append takes the next position');
      await assertLogIsWritten();
    });

    it('fails closed: a closed database cannot be appended to or probed', async () => {
      const closed = await openDatabase(dbUrl);
      await closed.close();
      await assert.rejects(closed.auditStore.append(rowOf('closed', 0)));
      await assert.rejects(closed.auditStore.probe(100));
      await assertLogIsWritten();
    });
  });
}
