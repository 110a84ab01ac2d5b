/**
 * The breach report (issue 17, item 5) at the 2019 archive's size: the scale benchmark's 2.7
 * million recordings of metadata (bench/scale.ts generates them: 21 controllers, 2013–2019, one key
 * per controller, personnummer, phone and file-name digests), a third of them with a transcript
 * and its spoken-personnummer digest, in SQLite and PostgreSQL. Then, `rounds` times each, the
 * report as `callvault breach report --json` makes it (BreachService.report as the operator, its
 * audit entry included):
 *
 *   controller   `--controller region-01`: every call of one controller (about 1/21 of the rows)
 *   month        `--blob-prefix recordings/ --from M --to M+1`: one month of every controller
 *                (about 36,000 calls; the prefix has no index, so every row is read)
 *   key-month    `--key key-region-01 --from M --to M+1`: one controller key, one month
 *
 * each beside its baseline on the same rows: one plain `SELECT count(*), count(DISTINCT digest)`
 * over the recordings and their personnummer digests (what the report must do at least once).
 * Target: report p50 under 60 s; the ratio report / baseline says what the rest of the report
 * (phones, spoken kinds, time span, keys, the audit entry) costs.
 *
 * Loading: the indexes of `recordings` and `recording_identifiers` (all but the primary keys) are
 * dropped, the rows loaded through `RecordingsRepository.loadStored`, and the same index
 * definitions, read back from the database, made again: the database ends as a migrated one
 * loaded row by row would, in minutes instead of half an hour (bench/scale.ts measures loading).
 *
 * Environment: BENCH_BREACH_ROWS (default 2,700,000), BENCH_BREACH_DBS (sqlite,postgres),
 * CALLVAULT_BENCH_PG_URL (an admin URL, default postgres://postgres@127.0.0.1:5432/postgres).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import type { Kysely } from 'kysely';
import { sql } from '../src/db/kysely.js';
import type { Database } from '../src/db/schema.js';
import { blindIndexFor } from '../src/recordings/indexer.js';
import { createServices } from '../src/services/index.js';
import { operatorActor } from '../src/services/actor.js';
import type { BreachReportRequest } from '../src/services/breach.js';
import { Vault } from '../src/vault.js';
import { BENCH_PASSPHRASE, makeScratch, median, nowSeconds, type Benchmark, type BenchOptions, type BenchResult } from './common.js';
import { CONTROLLERS, controllerId, generate, personnummerOf } from './scale.js';

const BATCH = 5000;
const TARGET_SECONDS = 60;
const MONTH = { from: new Date(Date.UTC(2016, 2, 1)).toISOString(), to: new Date(Date.UTC(2016, 3, 1)).toISOString() };

interface Case {
  name: string;
  label: string;
  request: BreachReportRequest;
  /** the plain query over the same rows: recordings and their distinct personnummer digests */
  baseline: (db: Kysely<Database>) => Promise<unknown>;
}

const CASES: Case[] = [
  {
    name: 'controller',
    label: 'by controller (region-01, all time)',
    request: { controller: controllerId(0) },
    baseline: (db) =>
      sql`SELECT count(*), count(DISTINCT i.digest) FROM recordings r JOIN recording_identifiers i ON i.recording_id = r.id
          WHERE r.controller_id = ${controllerId(0)} AND i.kind = 'personnummer'`.execute(db),
  },
  {
    name: 'month',
    label: 'one month, every controller (blob prefix recordings/)',
    request: { blobPrefix: 'recordings/', ...MONTH },
    baseline: (db) =>
      sql`SELECT r.controller_id, count(*), count(DISTINCT i.digest) FROM recordings r JOIN recording_identifiers i ON i.recording_id = r.id
          WHERE coalesce(r.started_at, r.imported_at) >= ${MONTH.from} AND coalesce(r.started_at, r.imported_at) < ${MONTH.to} AND i.kind = 'personnummer'
          GROUP BY r.controller_id`.execute(db),
  },
  {
    name: 'key-month',
    label: 'one key, one month (key-region-01)',
    request: { key: `key-${controllerId(0)}`, ...MONTH },
    baseline: (db) =>
      sql`SELECT count(*), count(DISTINCT i.digest) FROM recordings r JOIN recording_identifiers i ON i.recording_id = r.id
          WHERE r.key_id = ${`key-${controllerId(0)}`} AND coalesce(r.started_at, r.imported_at) >= ${MONTH.from}
            AND coalesce(r.started_at, r.imported_at) < ${MONTH.to} AND i.kind = 'personnummer'`.execute(db),
  },
];

/** the secondary indexes of the two tables, as the database states them (primary keys stay) */
async function secondaryIndexes(db: Kysely<Database>, dialect: string): Promise<{ name: string; definition: string }[]> {
  if (dialect === 'postgres') {
    const r = await sql<{ name: string; definition: string }>`
      SELECT indexname AS name, indexdef AS definition FROM pg_indexes
      WHERE tablename IN ('recordings', 'recording_identifiers') AND indexname NOT IN (SELECT conname FROM pg_constraint)`.execute(db);
    return r.rows;
  }
  const r = await sql<{ name: string; definition: string }>`
    SELECT name, sql AS definition FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('recordings', 'recording_identifiers') AND sql IS NOT NULL`.execute(db);
  return r.rows;
}

async function load(vault: Vault, dialect: string, total: number, log: (line: string) => void): Promise<{ loadSeconds: number; indexSeconds: number }> {
  const db = vault.database.db;
  const indexes = await secondaryIndexes(db, dialect);
  for (const ix of indexes) await sql.raw(`DROP INDEX ${ix.name}`).execute(db);
  const indexFor = Array.from({ length: CONTROLLERS }, (_, i) => blindIndexFor(vault, controllerId(i)));
  const transcript = randomBytes(600).toString('base64');
  const sample = { ids: [] as string[], people: [] as number[] };
  let t = nowSeconds();
  for (let from = 0; from < total; from += BATCH) {
    const batch = generate(vault, from, Math.min(BATCH, total - from), sample);
    // a third of the calls came with a transcript in which the caller says their personnummer
    batch.rows.forEach((row, i) => {
      if ((from + i) % 3 !== 0) return;
      row.sealed_transcript = transcript;
      const c = Number(row.controller_id.slice(-2)) - 1;
      const person = from + i;
      batch.identifiers.push({ recording_id: row.id, kind: 'transcript_personnummer', digest: indexFor[c]!.digest('transcript_personnummer', personnummerOf(person % 1_500_000)) });
    });
    await vault.recordings.loadStored(batch.rows, batch.identifiers);
    if ((from / BATCH) % 100 === 0) log(`${dialect}: ${from + batch.rows.length} of ${total} loaded (${(nowSeconds() - t).toFixed(0)} s)`);
  }
  const loadSeconds = nowSeconds() - t;
  t = nowSeconds();
  for (const ix of indexes) await sql.raw(ix.definition).execute(db);
  await sql.raw('ANALYZE').execute(db);
  const indexSeconds = nowSeconds() - t;
  log(`${dialect}: loaded in ${loadSeconds.toFixed(0)} s, ${indexes.length} indexes made in ${indexSeconds.toFixed(0)} s`);
  return { loadSeconds, indexSeconds };
}

export const breachBenchmark: Benchmark = {
  name: 'breach',
  description: 'the breach report by controller and by a one-month window at 2.7 million recordings (SQLite and PostgreSQL) vs a plain count(DISTINCT digest) over the same rows',
  async run(options: BenchOptions): Promise<BenchResult> {
    const result: BenchResult = { name: 'breach', rows: [], ratios: [], notes: [] };
    const total = Number(process.env.BENCH_BREACH_ROWS ?? 2_700_000);
    const rounds = options.rounds ?? 3;
    const dbs = (process.env.BENCH_BREACH_DBS ?? 'sqlite,postgres').split(',');
    const admin = process.env.CALLVAULT_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
    const scratch = await makeScratch('callvault-bench-breach-', options.keep);
    try {
      for (const dialect of dbs) {
        const pgName = `callvault_breach_${randomBytes(4).toString('hex')}`;
        let databaseUrl: string | undefined;
        if (dialect === 'postgres') {
          const c = new pg.Client({ connectionString: admin });
          await c.connect();
          await c.query(`CREATE DATABASE ${pgName}`);
          await c.end();
          databaseUrl = admin.replace(/\/[^/]*$/, `/${pgName}`);
        }
        const vault = await Vault.create(
          join(scratch.dir, dialect),
          { passphrase: BENCH_PASSPHRASE, controllerId: controllerId(0), controllerName: 'Region 1' },
          databaseUrl ? { databaseUrl } : {},
        );
        try {
          for (let c = 1; c < CONTROLLERS; c++) await vault.controllers.add({ id: controllerId(c), name: `Region ${c + 1}`, created_at: new Date().toISOString() });
          const loaded = await load(vault, dialect, total, options.log);
          result.rows.push({
            label: `${dialect}: load ${total} recordings (indexes made after)`,
            value: loaded.loadSeconds + loaded.indexSeconds,
            unit: 's',
            note: `rows ${loaded.loadSeconds.toFixed(0)} s, indexes ${loaded.indexSeconds.toFixed(0)} s`,
          });
          const breach = createServices(vault).breach;
          const actor = operatorActor('bench');
          for (const c of CASES) {
            const report: number[] = [];
            const plain: number[] = [];
            let recordings = 0;
            let persons = 0;
            for (let r = 0; r < rounds; r++) {
              let t = nowSeconds();
              const made = await breach.report(actor, c.request);
              report.push(nowSeconds() - t);
              recordings = made.totals.recordings;
              persons = made.totals.personnummerInMetadata;
              t = nowSeconds();
              await c.baseline(vault.database.db);
              plain.push(nowSeconds() - t);
            }
            const p50 = median(report);
            const base = median(plain);
            options.log(`${dialect} ${c.name}: report p50 ${p50.toFixed(2)} s, baseline p50 ${base.toFixed(2)} s (${recordings} recordings)`);
            result.rows.push({ label: `${dialect}: report ${c.label}, p50`, value: p50, unit: 's', samples: report, note: `${recordings} recordings, ${persons} personnummer` });
            result.rows.push({ label: `${dialect}: baseline count(*)/count(DISTINCT digest), ${c.name}, p50`, value: base, unit: 's', samples: plain });
            result.ratios.push({
              label: `${dialect} ${c.name}: report p50 / ${TARGET_SECONDS} s`,
              ratio: p50 / TARGET_SECONDS,
              comparator: '<',
              target: 1,
              pass: p50 < TARGET_SECONDS,
            });
            result.ratios.push({ label: `${dialect} ${c.name}: report p50 / baseline p50 (informational)`, ratio: p50 / base, comparator: '>=', target: 0, pass: true });
          }
        } finally {
          await vault.close();
          if (dialect === 'postgres') {
            const c = new pg.Client({ connectionString: admin });
            await c.connect();
            await c.query(`DROP DATABASE IF EXISTS ${pgName} WITH (FORCE)`);
            await c.end();
          }
        }
      }
      if (total !== 2_700_000) result.notes.push(`run at ${total} recordings, not the 2.7 million of the target`);
    } finally {
      await scratch.cleanup();
    }
    return result;
  },
};
