/**
 * The 2019 archive's size in metadata: 2.7 million recordings (no audio) with their blind indexes,
 * loaded through the repository layer into SQLite and into PostgreSQL, then the queries the
 * people using it make, timed on the same database:
 *
 *   load        `RecordingsRepository.loadStored` in batches of 5000 recordings (one transaction
 *               each: the rows and their three blind-index rows), against plain INSERTs of the
 *               same rows in the same batches into tables with the same columns and no index,
 *               primary key or foreign key (`bench_plain`, `bench_plain_ids`): MB-for-MB the
 *               floor of writing the rows at all. Ratio: plain time / load time.
 *   pk          `recordings.get(id)` of random ids: the primary-key lookup baseline
 *   subject     `findByIdentifier(vault, 'personnummer', value)`: the blind-index digests for
 *               every controller, in the metadata and the transcript kinds (what `subject find`
 *               does). Target: p99 ≤ 10 × the primary-key lookup's p99.
 *   page        `recordings.search` as a supervisor's first page: one controller, the contract's
 *               region, ten agents of the team, one month, 50 newest
 *   retention   every recording of one month (across all controllers) paged through
 *               `callsBetween` 1000 at a time: the work list retention would delete
 * and the database's size on disk.
 *
 * Environment: BENCH_SCALE_ROWS (default 2,700,000), BENCH_SCALE_DBS (sqlite,postgres),
 * BENCH_SCALE_QUERIES (lookups per kind, default 2000), CALLVAULT_BENCH_PG_URL (an admin URL,
 * default postgres://postgres@127.0.0.1:5432/postgres).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { sql } from '../src/db/kysely.js';
import type { NewRecording } from '../src/db/recordings-repository.js';
import type { IdentifierKind } from '../src/identifiers/blind-index.js';
import { blindIndexFor, findByIdentifier } from '../src/recordings/indexer.js';
import { prng } from '../src/demo/synthetic-identity.js';
import { Vault } from '../src/vault.js';
import { BENCH_PASSPHRASE, makeScratch, median, nowSeconds, type Benchmark, type BenchOptions, type BenchResult } from './common.js';

export const CONTROLLERS = 21; // Sweden's regions
const AREAS = ['north', 'south', 'east', 'west'];
const AGENTS_PER_CONTROLLER = 100;
const PEOPLE = 1_500_000; // callers call more than once
export const BATCH = 5000;
export const FIRST = Date.UTC(2013, 0, 1);
export const LAST = Date.UTC(2019, 1, 1);

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export const controllerId = (i: number) => `region-${String(i + 1).padStart(2, '0')}`;
export const personnummerOf = (person: number) =>
  `19${String(30 + (person % 70)).padStart(2, '0')}0${1 + (person % 9)}${String(1 + (person % 28)).padStart(2, '0')}${String(person).padStart(7, '0').slice(-4)}`;
const phoneOf = (person: number) => `+4670${String(person).padStart(7, '0')}`;

export interface Generated {
  rows: NewRecording[];
  identifiers: { recording_id: string; kind: IdentifierKind; digest: string }[];
}

/**
 * `count` recordings from the `from`-th on, deterministic per batch; every 1000th id and its caller
 * go to `sample`. Calls fall between FIRST and `last` (default LAST).
 */
export function generate(vault: Vault, from: number, count: number, sample: { ids: string[]; people: number[] }, last = LAST): Generated {
  const rnd = prng(from + 1);
  const indexes = Array.from({ length: CONTROLLERS }, (_, i) => blindIndexFor(vault, controllerId(i)));
  const rows: NewRecording[] = [];
  const identifiers: Generated['identifiers'] = [];
  const noise = randomBytes(count * 300);
  for (let i = 0; i < count; i++) {
    const c = Math.floor(rnd() * CONTROLLERS);
    const person = Math.floor(rnd() * PEOPLE);
    const id = randomUUID();
    const started = new Date(FIRST + rnd() * (last - FIRST)).toISOString();
    const n = noise.subarray(i * 300, (i + 1) * 300);
    rows.push({
      id,
      controller_id: controllerId(c),
      writer: null,
      blob_key: `recordings/${id.slice(0, 2)}/${id}.cvr`,
      key_id: `key-${controllerId(c)}`,
      wrapped_key: n.subarray(0, 113).toString('base64'),
      ciphertext_size: 3_600_000,
      ciphertext_sha256: n.subarray(113, 145).toString('hex'),
      content_sha256: n.subarray(145, 177).toString('hex'),
      plaintext_size: 3_599_000,
      format: 'wav',
      codec: 'pcm_mulaw',
      sample_rate: 8000,
      channels: 1,
      duration_ms: 60_000 + Math.floor(rnd() * 600_000),
      agent: `agent-${Math.floor(rnd() * AGENTS_PER_CONTROLLER)}`,
      region: AREAS[Math.floor(rnd() * AREAS.length)]!,
      direction: rnd() < 0.85 ? 'inbound' : 'outbound',
      started_at: started,
      sealed_metadata: n.subarray(177, 300).toString('base64') + n.subarray(0, 60).toString('base64'),
      imported_at: started,
    });
    const index = indexes[c]!;
    identifiers.push(
      { recording_id: id, kind: 'personnummer', digest: index.digest('personnummer', personnummerOf(person)) },
      { recording_id: id, kind: 'phone', digest: index.digest('phone', phoneOf(person)) },
      { recording_id: id, kind: 'source_name', digest: index.digest('source_name', `${id}.wav`) },
    );
    if ((from + i) % 1000 === 0) {
      sample.ids.push(id);
      sample.people.push(person);
    }
  }
  return { rows, identifiers };
}

async function timed(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = nowSeconds();
    await fn(i);
    ms.push((nowSeconds() - t) * 1000);
  }
  return ms;
}

export const scaleBenchmark: Benchmark = {
  name: 'scale',
  description:
    '2.7 million recordings of metadata and blind indexes in SQLite and PostgreSQL: load rate vs plain INSERT, subject/PK lookups, a supervisor page, a month for retention, sizes',
  async run(options: BenchOptions): Promise<BenchResult> {
    const result: BenchResult = { name: 'scale', rows: [], ratios: [], notes: [] };
    const total = Number(process.env.BENCH_SCALE_ROWS ?? 2_700_000);
    const queries = Number(process.env.BENCH_SCALE_QUERIES ?? 2000);
    const dbs = (process.env.BENCH_SCALE_DBS ?? 'sqlite,postgres').split(',');
    const scratch = await makeScratch('callvault-bench-scale-', options.keep);
    try {
      for (const dialect of dbs) {
        const admin = process.env.CALLVAULT_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
        const pgName = `callvault_scale_${randomBytes(4).toString('hex')}`;
        let databaseUrl: string | undefined;
        if (dialect === 'postgres') {
          const c = new pg.Client({ connectionString: admin });
          await c.connect();
          await c.query(`CREATE DATABASE ${pgName}`);
          await c.end();
          databaseUrl = admin.replace(/\/[^/]*$/, `/${pgName}`);
        }
        const dir = join(scratch.dir, dialect);
        const vault = await Vault.create(dir, { passphrase: BENCH_PASSPHRASE, controllerId: controllerId(0), controllerName: 'Region 1' }, databaseUrl ? { databaseUrl } : {});
        try {
          // blind indexes are keyed per controller; the recordings rows only need the controllers to exist
          for (let c = 1; c < CONTROLLERS; c++) await vault.controllers.add({ id: controllerId(c), name: `Region ${c + 1}`, created_at: new Date().toISOString() });
          const db = vault.database.db;
          await sql`CREATE TABLE bench_plain AS SELECT * FROM recordings WHERE 1 = 0`.execute(db);
          await sql`CREATE TABLE bench_plain_ids AS SELECT * FROM recording_identifiers WHERE 1 = 0`.execute(db);
          const sample = { ids: [] as string[], people: [] as number[] };
          let loadSeconds = 0;
          let plainSeconds = 0;
          for (let from = 0; from < total; from += BATCH) {
            const batch = generate(vault, from, Math.min(BATCH, total - from), sample);
            let t = nowSeconds();
            await vault.recordings.loadStored(batch.rows, batch.identifiers);
            loadSeconds += nowSeconds() - t;
            t = nowSeconds();
            await db.transaction().execute(async (tx) => {
              for (let i = 0; i < batch.rows.length; i += 500) {
                await tx
                  .insertInto('bench_plain' as 'recordings')
                  .values(batch.rows.slice(i, i + 500).map((r) => ({ ...r, state: 'stored' as const, indexed: 1 })))
                  .execute();
              }
              for (let i = 0; i < batch.identifiers.length; i += 5000)
                await tx
                  .insertInto('bench_plain_ids' as 'recording_identifiers')
                  .values(batch.identifiers.slice(i, i + 5000))
                  .execute();
            });
            plainSeconds += nowSeconds() - t;
            if ((from / BATCH) % 100 === 0)
              options.log(`${dialect}: ${from + batch.rows.length} of ${total} loaded (${loadSeconds.toFixed(0)} s, plain ${plainSeconds.toFixed(0)} s)`);
          }
          const size = await databaseSize(vault, dialect, dir, pgName);
          await sql`DROP TABLE bench_plain`.execute(db);
          await sql`DROP TABLE bench_plain_ids`.execute(db);
          await sql.raw(dialect === 'postgres' ? 'ANALYZE' : 'ANALYZE').execute(db);

          const pick = <T>(list: T[], i: number) => list[(i * 7919) % list.length]!;
          const pk = await timed(queries, (i) => vault.recordings.get(pick(sample.ids, i)));
          const subject = await timed(queries, async (i) => {
            const hits = await findByIdentifier(vault, 'personnummer', personnummerOf(pick(sample.people, i)));
            if (hits.length === 0) throw new Error('a sampled person was not found');
          });
          const page = await timed(Math.min(queries, 500), (i) => {
            const month = new Date(FIRST + ((i * 37) % 70) * 30 * 86_400_000);
            return vault.recordings.search({
              scopes: [
                {
                  controllerId: controllerId(i % CONTROLLERS),
                  regions: [AREAS[i % AREAS.length]!],
                  agents: Array.from({ length: 10 }, (_, k) => `agent-${(i + k * 7) % AGENTS_PER_CONTROLLER}`),
                },
              ],
              from: month.toISOString(),
              to: new Date(month.getTime() + 30 * 86_400_000).toISOString(),
              limit: 50,
            });
          });
          const monthFrom = new Date(Date.UTC(2014, 5, 1)).toISOString();
          const monthTo = new Date(Date.UTC(2014, 6, 1)).toISOString();
          const t = nowSeconds();
          let expired = 0;
          for (let c = 0; c < CONTROLLERS; c++) {
            let after: { time: string; id: string } | undefined;
            for (;;) {
              const rows = await vault.recordings.callsBetween(controllerId(c), monthFrom, monthTo, 1000, after);
              expired += rows.length;
              if (rows.length < 1000) break;
              after = rows[rows.length - 1]!;
            }
          }
          const retentionSeconds = nowSeconds() - t;

          const p = (xs: number[]) => `p50 ${median(xs).toFixed(2)} ms, p99 ${percentile(xs, 99).toFixed(2)} ms`;
          result.rows.push({
            label: `${dialect}: load ${total} recordings (+${total * 3} blind-index rows)`,
            value: total / loadSeconds,
            unit: 'rec/s',
            note: `${loadSeconds.toFixed(0)} s`,
          });
          result.rows.push({ label: `${dialect}: plain INSERT of the same rows, no indexes`, value: total / plainSeconds, unit: 'rec/s', note: `${plainSeconds.toFixed(0)} s` });
          result.rows.push({ label: `${dialect}: primary-key lookup, p99`, value: percentile(pk, 99), unit: 'ms', note: p(pk) });
          result.rows.push({ label: `${dialect}: subject lookup by personnummer, p99`, value: percentile(subject, 99), unit: 'ms', note: p(subject) });
          result.rows.push({ label: `${dialect}: supervisor's page (region, 10 agents, a month), p99`, value: percentile(page, 99), unit: 'ms', note: p(page) });
          result.rows.push({ label: `${dialect}: one month of calls for retention (all controllers)`, value: retentionSeconds, unit: 's', note: `${expired} recordings` });
          result.rows.push({ label: `${dialect}: database size after loading, the unindexed baseline copy included`, value: size / 1e9, unit: 'GB' });
          const ratio = percentile(subject, 99) / percentile(pk, 99);
          result.ratios.push({ label: `${dialect} load rate / plain INSERT rate`, ratio: plainSeconds / loadSeconds, comparator: '>=', target: 0, pass: true });
          result.ratios.push({ label: `${dialect} subject lookup p99 / primary-key p99 (≤ 10)`, ratio, comparator: '<', target: 10, pass: ratio <= 10 });
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
      result.notes.push('sizes are measured before the baseline copy is dropped: they include an unindexed copy of every row');
    } finally {
      await scratch.cleanup();
    }
    return result;
  },
};

async function databaseSize(vault: Vault, dialect: string, dir: string, pgName: string): Promise<number> {
  if (dialect === 'postgres') {
    const r = await sql<{ size: string }>`SELECT pg_database_size(${pgName}) AS size`.execute(vault.database.db);
    return Number(r.rows[0]!.size);
  }
  vault.database.sqlite?.pragma('wal_checkpoint(TRUNCATE)');
  return (await stat(join(dir, 'callvault.db'))).size;
}
