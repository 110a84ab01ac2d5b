/**
 * The auditor's search of the audit log (src/audit/search.ts, GET /api/v1/audit/search), on SQLite
 * and on a real PostgreSQL, against a model: the same filters applied to the events in memory.
 * Each filter alone, random combinations, paging with `before` (each entry exactly once, newest
 * first, also while the log grows), a tampered search column (hidden from the search, never shown
 * wrongly, reported by verify as `search-column`), the 0007 migration backfilling a log written
 * under the old schema, and the route: its answer, its refusals and its own audit entry.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import SQLite from 'better-sqlite3';
import fc from 'fast-check';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from '../../src/db/kysely.js';
import pg from 'pg';
import { Vault } from '../../src/vault.js';
import { encodeEntry, entryColumns, type AuditEvent } from '../../src/audit/audit-log.js';
import { indexedColumns } from '../../src/db/migrations.js';
import { leafHash } from '../../src/audit/merkle.js';
import { searchAuditLog, type AuditSearchFilters } from '../../src/audit/search.js';
import { batchViews, checkRows, ROW_COLUMNS, type StoredRow } from '../../src/audit/verify-rows.js';
import { migrationProvider } from '../../src/db/migrations.js';
import { buildServer } from '../../src/http/server.js';
import { ensureSelfSignedCertificate, readTls } from '../../src/http/tls.js';
import { Agent } from 'undici';
import { signedInUser, TEST_KDF, type TestServer, type TestUser } from '../http/harness.js';
import { PASSPHRASE, tempDir, throwawayPostgres } from '../helpers.js';

const N = 240;
const BASE = Date.parse('2026-03-02T08:00:00.000Z');
const MINUTE = 60_000;
const USERS = [
  { type: 'user' as const, id: '0d3c7a52-2f1e-4b8a-9c61-5e4f3a2b1c01', name: 'anna', role: 'nurse' },
  { type: 'user' as const, id: '0d3c7a52-2f1e-4b8a-9c61-5e4f3a2b1c02', name: 'bertil', role: 'supervisor' },
  { type: 'user' as const, id: '0d3c7a52-2f1e-4b8a-9c61-5e4f3a2b1c03', name: 'cecilia', role: 'dpo' },
];
const TOKEN = { type: 'token' as const, id: '7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', name: 'recorder-1' };
const RECORDINGS = ['3b9f6a2e-1c4d-4e8a-b7f0-5d2c9e8a1f01', '3b9f6a2e-1c4d-4e8a-b7f0-5d2c9e8a1f02', '3b9f6a2e-1c4d-4e8a-b7f0-5d2c9e8a1f03'];
const ACTIONS = ['recording.play', 'recording.view', 'recording.access', 'recordings.list', 'auth.signin', 'audit.read', 'break-glass.start'];

interface Modelled {
  index: number;
  event: AuditEvent;
  time: string;
}

/** entry i: a mix of actions, outcomes, actors and recordings; every tenth written 5 minutes "early", out of seq order */
function eventOf(i: number): { event: AuditEvent; time: Date } {
  const action = ACTIONS[(i * 5) % ACTIONS.length]!;
  const actor = i % 11 === 0 ? { type: 'cli' as const, name: 'root' } : i % 13 === 0 ? { type: 'anonymous' as const } : i % 17 === 0 ? TOKEN : USERS[i % USERS.length]!;
  const outcome = i % 9 === 0 ? ('denied' as const) : i % 14 === 0 ? ('failure' as const) : ('success' as const);
  // every action here declares `reason`; the catalogue checks the rest when it is appended
  const event = {
    action,
    outcome,
    actor,
    ...(action.startsWith('recording.') ? { recordingId: RECORDINGS[i % RECORDINGS.length]! } : {}),
    ...(action === 'recording.play' || action === 'recording.access' ? { purpose: 'quality-review' } : {}),
    detail: { reason: `r${i}` },
  } as AuditEvent;
  return { event, time: new Date(BASE + i * MINUTE - (i % 10 === 0 ? 5 * MINUTE : 0)) };
}

function modelMatches(m: Modelled, f: AuditSearchFilters): boolean {
  const e = m.event;
  if (f.action !== undefined && (f.action.endsWith('.') ? !e.action.startsWith(f.action) : e.action !== f.action)) return false;
  if (f.outcome !== undefined && e.outcome !== f.outcome) return false;
  // a UUID names the actor's id, anything else its name
  if (f.actor !== undefined && (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(f.actor) ? e.actor.id : e.actor.name) !== f.actor) return false;
  if (f.recordingId !== undefined && e.recordingId !== f.recordingId) return false;
  if (f.from !== undefined && m.time < new Date(f.from).toISOString()) return false;
  if (f.to !== undefined && m.time >= new Date(f.to).toISOString()) return false;
  return true;
}

const iso = (minutes: number) => new Date(BASE + minutes * MINUTE).toISOString();

/** the filters each tested alone, including ones nothing matches */
const SINGLE: AuditSearchFilters[] = [
  {},
  { action: 'recording.play' },
  { action: 'recording.' },
  { action: 'recordings.' },
  { action: 'break-glass.start' },
  { action: 'no.such' },
  { outcome: 'success' },
  { outcome: 'denied' },
  { outcome: 'failure' },
  { actor: USERS[0]!.id },
  { actor: 'bertil' },
  { actor: TOKEN.id },
  { actor: 'recorder-1' },
  { actor: 'root' },
  { actor: 'nobody' },
  { recordingId: RECORDINGS[1]! },
  { from: iso(100) },
  { to: iso(30) },
  { from: iso(50), to: iso(70) },
  // the same instant written with an offset
  { from: '2026-03-02T09:50:00.000+01:00', to: '2026-03-02T10:10:00+01:00' },
];

async function allPages(search: (before?: number) => Promise<{ entries: { index: number }[]; next?: number }>): Promise<number[]> {
  const seen: number[] = [];
  let before: number | undefined;
  for (let pages = 0; ; pages++) {
    assert.ok(pages < 1000, 'paging ends');
    const page = await search(before);
    seen.push(...page.entries.map((e) => e.index));
    if (page.next === undefined) return seen;
    assert.ok(before === undefined || page.next < before, 'the cursor moves down');
    before = page.next;
  }
}

async function startServer(vault: Vault, dataDir: string): Promise<{ server: TestServer; stop: () => Promise<void> }> {
  const tls = await readTls(await ensureSelfSignedCertificate(dataDir));
  const app = await buildServer({ vault, tls, rateLimitPerMinute: 100_000, signInPerMinute: 100_000 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const dispatcher = new Agent({ connect: { ca: tls.cert, servername: 'localhost' } });
  const server: TestServer = { vault, url: `https://127.0.0.1:${(app.server.address() as { port: number }).port}`, dataDir, dispatcher, close: async () => {} };
  return {
    server,
    stop: async () => {
      await app.close();
      await dispatcher.close();
    },
  };
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`audit search on ${dialect}`, () => {
    let vault: Vault;
    let dataDir: string;
    let drop: (() => Promise<void>) | undefined;
    const model: Modelled[] = [];
    const appendModelled = async (event: AuditEvent, time: Date) => model.push({ index: await vault.audit.append(event, time), event, time: time.toISOString() });

    before(async () => {
      dataDir = await tempDir('data', `audit-search-${dialect}`);
      const pgdb = dialect === 'postgres' ? await throwawayPostgres() : undefined;
      drop = pgdb?.drop;
      vault = await Vault.create(dataDir, { passphrase: PASSPHRASE, controllerId: 'region-a', controllerName: 'Region A', kdf: TEST_KDF }, { databaseUrl: pgdb?.url });
      const start = await vault.audit.size();
      for (let i = 0; i < N; i++) {
        const { event, time } = eventOf(i);
        await appendModelled(event, time);
      }
      assert.equal(model[0]!.index, start);
    });

    after(async () => {
      await vault?.close();
      await drop?.();
    });

    /** the model's answer among the entries below `size` this test appended */
    const expected = (f: AuditSearchFilters) =>
      model
        .filter((m) => modelMatches(m, f))
        .map((m) => m.index)
        .reverse();
    const search = (f: AuditSearchFilters, limit: number) => async (before?: number) => searchAuditLog(vault.database.db, f, { size: await vault.audit.size(), before, limit });
    /** only the entries this test wrote (Vault.create logs a few of its own first) */
    const ours = (indexes: number[]) => indexes.filter((i) => i >= model[0]!.index);

    test('the appended rows carry their columns, as verify expects', async () => {
      const rows = await vault.database.db.selectFrom('audit_entries').select(ROW_COLUMNS).orderBy('seq').execute();
      for (const r of rows)
        assert.deepEqual(
          { ...entryColumns(r.entry) },
          { recording_id: r.recording_id, identifier_hash: r.identifier_hash, time: r.time, action: r.action, outcome: r.outcome, actor_id: r.actor_id, actor_name: r.actor_name },
        );
      assert.deepEqual((await vault.verifyAudit()).problems, []);
    });

    test('each filter alone gives what it names, newest first, every entry once across pages', async () => {
      for (const f of SINGLE) {
        const want = expected(f);
        const got = ours(await allPages(search(f, 7)));
        assert.deepEqual(got, want, `filters ${JSON.stringify(f)}`);
      }
      // the filters that should find something do
      assert.ok(expected({ action: 'recording.' }).length > expected({ action: 'recording.play' }).length);
      assert.equal(expected({ action: 'recordings.' }).length, expected({ action: 'recordings.list' }).length);
      for (const f of [{ outcome: 'denied' }, { actor: 'root' }, { actor: TOKEN.id }, { actor: 'recorder-1' }, { from: iso(50), to: iso(70) }] as AuditSearchFilters[])
        assert.ok(expected(f).length > 0);
    });

    test('random combinations of filters, page sizes and starting points agree with the model', async () => {
      const value = <T>(values: T[]) => fc.option(fc.constantFrom(...values), { nil: undefined });
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            action: value(['recording.play', 'recording.', 'recordings.list', 'auth.signin', 'audit.read', 'audit.']),
            outcome: value(['success', 'denied', 'failure'] as const),
            actor: value([USERS[0]!.id, USERS[1]!.name, 'cecilia', 'root', TOKEN.id]),
            recordingId: value(RECORDINGS),
            from: value([iso(0), iso(60), iso(150)]),
            to: value([iso(90), iso(200), iso(300)]),
          }),
          fc.integer({ min: 1, max: 25 }),
          fc.option(fc.integer({ min: 0, max: N + 20 }), { nil: undefined }),
          async (raw, limit, start) => {
            const f = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)) as AuditSearchFilters;
            const first = start === undefined ? undefined : model[0]!.index + start;
            const got: number[] = [];
            let before = first;
            for (;;) {
              const page = await search(f, limit)(before);
              assert.ok(page.entries.length <= limit);
              got.push(...page.entries.map((e) => e.index));
              if (page.next === undefined) break;
              before = page.next;
            }
            const want = expected(f).filter((i) => first === undefined || i < first);
            assert.deepEqual(ours(got), want, `filters ${JSON.stringify(f)}, limit ${limit}, before ${first}`);
          },
        ),
        { numRuns: 60 },
      );
    });

    test('paging while the log grows: each entry of the first page on is seen exactly once, newest first', async () => {
      const f: AuditSearchFilters = { action: 'recording.' };
      const want = expected(f);
      const seen: number[] = [];
      let before: number | undefined;
      for (let k = 0; ; k++) {
        const page = await search(f, 5)(before);
        seen.push(...page.entries.map((e) => e.index));
        // someone plays a recording between the auditor's pages
        await appendModelled(
          { action: 'recording.play', outcome: 'success', actor: USERS[0]!, recordingId: RECORDINGS[0]!, purpose: 'quality-review', detail: { reason: `k${k}` } },
          new Date(BASE + (N + k) * MINUTE),
        );
        if (page.next === undefined) break;
        before = page.next;
      }
      assert.deepEqual(ours(seen), want);
      assert.equal(new Set(seen).size, seen.length);
      // the entries appended meanwhile are there, and a search from the top now finds them
      assert.ok(expected(f).length > want.length);
      assert.deepEqual(ours(await allPages(search(f, 50))), expected(f), 'a new search sees the grown log');
    });

    test('the page size is 1 to 200, 50 by default; before is capped at the log size', async () => {
      const size = await vault.audit.size();
      const first = await searchAuditLog(vault.database.db, {}, { size });
      assert.equal(first.entries.length, 50);
      assert.equal(first.entries[0]!.index, size - 1);
      assert.equal(first.next, size - 50);
      assert.equal((await searchAuditLog(vault.database.db, {}, { size, limit: 1000 })).entries.length, 200);
      assert.deepEqual(
        (await searchAuditLog(vault.database.db, {}, { size, before: size + 100, limit: 1 })).entries.map((e) => e.index),
        [size - 1],
      );
      assert.deepEqual(await searchAuditLog(vault.database.db, {}, { size, before: 0 }), { entries: [] });
      const [only] = (await searchAuditLog(vault.database.db, { action: 'break-glass.start' }, { size, limit: 1 })).entries;
      assert.equal(only!.event.action, 'break-glass.start');
      assert.deepEqual(only!.leafHash, leafHash(only!.entry));
    });

    test('a tampered action column hides the entry from a search by action, never shows it under another, and verify reports it', async () => {
      const target = model.find((m) => m.event.action === 'recording.play')!;
      const db = vault.database.db;
      const inSearch = async (f: AuditSearchFilters) => (await allPages(search(f, 200))).includes(target.index);
      assert.ok(await inSearch({ action: 'recording.play' }));
      try {
        await db.updateTable('audit_entries').set({ action: 'auth.signin' }).where('seq', '=', target.index).execute();
        assert.equal(await inSearch({ action: 'recording.play' }), false, 'hidden from a search by its action');
        assert.equal(await inSearch({ action: 'auth.signin' }), false, 'the column says auth.signin, the entry does not: not shown');
        const report = await vault.verifyAudit();
        assert.equal(report.ok, false);
        assert.deepEqual(
          report.problems.map((p) => [p.code, p.index]),
          [['search-column', target.index]],
        );
        assert.match(report.problems[0]!.message, /search columns/);
        // the same report from the worker threads
        const workers = await vault.verifyAudit([], { workers: 2, batchSize: 64 });
        assert.deepEqual(workers.problems, report.problems);
      } finally {
        await db.updateTable('audit_entries').set({ action: 'recording.play' }).where('seq', '=', target.index).execute();
      }
      assert.deepEqual((await vault.verifyAudit()).problems, []);
    });

    describe('the route', () => {
      let server: TestServer;
      let stop: () => Promise<void>;
      let auditor: TestUser;
      let nurse: TestUser;

      before(async () => {
        ({ server, stop } = await startServer(vault, dataDir));
        auditor = await signedInUser(server, { role: 'auditor' });
        nurse = await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'a1' });
      });

      after(async () => {
        await stop?.();
      });

      test('answers pages of parsed events, newest first, and logs the search with its filters', async () => {
        const q = `action=recording.&actor=${USERS[0]!.id}&from=${encodeURIComponent(iso(0))}&to=${encodeURIComponent(iso(200))}`;
        const want = expected({ action: 'recording.', actor: USERS[0]!.id, from: iso(0), to: iso(200) });
        const got: number[] = [];
        let before: number | undefined;
        let results = 0;
        for (;;) {
          const res = await auditor.client.get(`/api/v1/audit/search?${q}&limit=4${before === undefined ? '' : `&before=${before}`}`);
          assert.equal(res.status, 200, res.body.toString());
          for (const e of res.json.entries) {
            assert.deepEqual(Object.keys(e).sort(), ['event', 'index', 'leafHash']);
            const m = model.find((x) => x.index === e.index)!;
            const stored = encodeEntry(m.event, new Date(m.time));
            assert.deepEqual(e.event, JSON.parse(stored.toString('utf8')));
            assert.equal(e.leafHash, leafHash(stored).toString('base64'));
            assert.equal(e.event.actor.name, 'anna');
            assert.equal(e.event.recordingId, m.event.recordingId);
            // a view states no purpose (the catalogue gives recording.view none)
            assert.equal(e.event.purpose, e.event.action === 'recording.view' ? undefined : 'quality-review');
            assert.deepEqual(e.event.detail, m.event.detail);
          }
          got.push(...res.json.entries.map((e: { index: number }) => e.index));
          results = res.json.entries.length;
          if (res.json.next === undefined) break;
          before = res.json.next;
        }
        assert.deepEqual(got, want);
        assert.ok(want.length > 4);

        const size = await vault.audit.size();
        const [last] = await vault.audit.entries(size - 1, size);
        const logged = JSON.parse(last!.entry.toString('utf8'));
        assert.equal(logged.action, 'audit.read');
        assert.equal(logged.actor.id, auditor.id);
        assert.deepEqual(logged.detail, { what: 'search', action: 'recording.', actor: USERS[0]!.id, from: iso(0), to: iso(200), before, limit: 4, results });
      });

      test('the audit.read entry of a search is itself found by a search', async () => {
        const res = await auditor.client.get(`/api/v1/audit/search?action=audit.read&actor=${auditor.id}&limit=1`);
        assert.equal(res.status, 200);
        assert.equal(res.json.entries[0].event.detail.what, 'search');
        assert.equal(res.json.entries[0].event.actor.role, 'auditor');
      });

      test('refuses bad filters (400) and callers without audit:read (403)', async () => {
        for (const q of [
          'limit=0',
          'limit=201',
          'action=Recording',
          'action=recording..play',
          'outcome=ok',
          'recordingId=nope',
          'from=yesterday',
          'before=-1',
          'personnummerHash=00',
          'actor=',
        ]) {
          const res = await auditor.client.get(`/api/v1/audit/search?${q}`);
          assert.equal(res.status, 400, q);
          assert.equal(res.json.error.code, 'CV_INVALID_REQUEST', q);
        }
        assert.equal((await nurse.client.get('/api/v1/audit/search')).status, 403);
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// the migration

/** the last migration before 0007_audit_search: the schema a log was written under before it */
async function previousMigration(): Promise<string> {
  const names = Object.keys(await migrationProvider.getMigrations()).sort();
  return names[names.indexOf('0007_audit_search') - 1]!;
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  test(`0007 backfills the search columns of a log written under the old schema (${dialect})`, async () => {
    const dir = await tempDir('data', `audit-backfill-${dialect}`);
    const pgdb = dialect === 'postgres' ? await throwawayPostgres() : undefined;
    const db = new Kysely<any>({
      dialect: pgdb ? new PostgresDialect({ pool: new pg.Pool({ connectionString: pgdb.url, max: 2 }) }) : new SqliteDialect({ database: new SQLite(`${dir}/old.db`) }),
    });
    try {
      const migrator = new Migrator({ db, provider: migrationProvider });
      const old = await migrator.migrateTo(await previousMigration());
      assert.equal(old.error, undefined);
      // more rows than one read batch (5,000) and many write batches (1,000), among them entries
      // a database's own JSON functions would get wrong or refuse, and one that is not JSON
      const total = 5_600;
      const entries: string[] = [];
      for (let i = 0; i < total; i++) {
        const { event, time } = eventOf(i);
        if (i === 7) event.actor = { type: 'cli', name: 'odd\u0000name\ud800' };
        if (i === 8) event.purposeText = 'nul \u0000 and a lone \udc00 surrogate';
        entries.push(i === 9 ? '{"action":"recording.pl' : encodeEntry(event, time).toString('utf8'));
      }
      await db.transaction().execute(async (tx) => {
        for (let i = 0; i < total; i += 500) {
          await tx
            .insertInto('audit_entries')
            .values(
              entries.slice(i, i + 500).map((entry, k) => ({
                seq: i + k,
                entry,
                leaf_hash: leafHash(Buffer.from(entry)).toString('hex'),
                ...(i + k === 9 ? { recording_id: null, identifier_hash: null } : indexedColumns(entry)),
              })),
            )
            .execute();
        }
        await tx.updateTable('audit_head').set({ size: total }).execute();
      });

      if (dialect === 'sqlite') {
        // an earlier run of 0007 interrupted (SQLite runs it outside a transaction): two columns
        // added, some rows filled wrongly, one index made; the run that follows completes it
        await sql`ALTER TABLE audit_entries ADD COLUMN "time" text`.execute(db);
        await sql`ALTER TABLE audit_entries ADD COLUMN action text`.execute(db);
        await sql`UPDATE audit_entries SET action = 'half-done' WHERE seq < 2000`.execute(db);
        await sql`CREATE INDEX audit_entries_action ON audit_entries (action, seq)`.execute(db);
      }
      const latest = await migrator.migrateToLatest();
      assert.equal(latest.error, undefined);
      assert.ok(latest.results?.some((r) => r.migrationName === '0007_audit_search' && r.status === 'Success'));

      const rows = await db
        .selectFrom('audit_entries')
        .select([...ROW_COLUMNS])
        .orderBy('seq')
        .execute();
      assert.equal(rows.length, total);
      for (const r of rows) {
        const seq = Number(r.seq);
        if (seq === 9) {
          assert.deepEqual([r.time, r.action, r.outcome, r.actor_id, r.actor_name], [null, null, null, null, null]);
          continue;
        }
        const c = entryColumns(r.entry);
        assert.deepEqual([r.time, r.action, r.outcome, r.actor_id, r.actor_name], [c.time, c.action, c.outcome, c.actor_id, c.actor_name], `row ${seq}`);
        assert.equal(r.action, eventOf(seq).event.action);
      }
      assert.equal(rows[7]!.actor_name, 'odd\ufffdname\ufffd');
      // verify's per-row check passes every backfilled row (the one that is not JSON aside)
      const { flags } = batchViews(checkRows(rows.map((r) => ROW_COLUMNS.map((c) => r[c]) as unknown as StoredRow)));
      assert.deepEqual(
        [...flags].flatMap((f, i) => (f === 0 ? [] : [i])),
        [9],
      );

      // the new indexes are there and the search reads through them
      const found = await searchAuditLog(db, { action: 'recording.', outcome: 'denied' }, { size: total, limit: 3 });
      const denied = entries.map((_, i) => i).filter((i) => i !== 9 && eventOf(i).event.action.startsWith('recording.') && eventOf(i).event.outcome === 'denied');
      assert.deepEqual(
        found.entries.map((e) => e.index),
        denied.reverse().slice(0, 3),
      );
    } finally {
      await db.destroy();
      await pgdb?.drop();
    }
  });
}
