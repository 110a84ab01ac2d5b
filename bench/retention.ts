/**
 * A retention run at the 2019 archive's size (issue 17, Measure): the scale benchmark's 2.7
 * million recordings of metadata (bench/scale.ts's generator: 21 controllers, 2013-01 to 2019-01,
 * about 37,000 calls a month), each wrapped to its controller's period key of its month
 * (`period/default/YYYY-MM`, made with `vault.keys.generate`: 21 × 73 keys). The wrapped_key bytes
 * are the generator's random ones, not an HPKE wrap to that key: shredding never unwraps (a run
 * only unwraps to move a recording to another key, and every row is on its own month's key
 * already), so only the key id has to be right.
 *
 * Then, on the same database, four retention runs (`RetentionService.run` as `callvault retention
 * run` does it, audit entries included) with `now` moved on so that exactly 1, then 2, 4 and 12
 * further months are past a 30-day retention: 19 months shredded in all, the tombstones of the
 * earlier runs staying in the table. Objects are absent in those four (the file store treats a
 * missing object as deleted); a fifth run shreds one more month with a tiny object for each
 * recording, to show what deleting objects costs.
 *
 * Per run: recordings shredded, seconds, recordings/s, key operations (destroy, generate and
 * unwrap calls on the key provider), where the time went, and the baseline in the same run: one
 * plain `UPDATE … SET wrapped_key = '', sealed_metadata = '', state = 'erased' WHERE key_id IN
 * (…)` of the same recordings in a copy of their rows (`bench_copy`, indexed on key_id).
 *
 * Environment: BENCH_RETENTION_ROWS (default 2,700,000), BENCH_RETENTION_DBS (sqlite,postgres),
 * BENCH_RETENTION_CASES (months shredded by each run, default 1,2,4,12,1), BENCH_RETENTION_MONTHS
 * (the archive's span in months from 2013-01, default all 73),
 * CALLVAULT_BENCH_PG_URL (an admin URL, default postgres://postgres@127.0.0.1:5432/postgres).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { sql } from '../src/db/kysely.js';
import { AuditTrail } from '../src/services/audit-trail.js';
import { systemActor } from '../src/services/actor.js';
import { RetentionService } from '../src/services/retention.js';
import { periodExpiresAt } from '../src/retention/periods.js';
import { Vault } from '../src/vault.js';
import { BENCH_PASSPHRASE, makeScratch, nowSeconds, type Benchmark, type BenchOptions, type BenchResult } from './common.js';
import { BATCH, CONTROLLERS, controllerId, FIRST, generate, LAST } from './scale.js';

const DAYS = 30;
/**
 * months shredded by each run, oldest first; the last run has its objects present.
 * BENCH_RETENTION_CASES (default 1,2,4,12,1) shortens the list for a smoke round.
 */
function retentionCases(): number[] {
  const raw = process.env.BENCH_RETENTION_CASES;
  if (raw === undefined || raw === '') return [1, 2, 4, 12, 1];
  const list = raw.split(',').map(Number);
  if (list.length < 1 || list.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('BENCH_RETENTION_CASES: months, e.g. 1,2,4,12,1');
  return list;
}

export interface RetentionCase {
  dialect: string;
  months: number;
  objects: boolean;
  shredded: number;
  seconds: number;
  keysDestroyed: number;
  keysGenerated: number;
  unwraps: number;
  /** seconds in: walking the keys' recordings for moves, tombstones, key destroys, object deletes, checkpoint/VACUUM */
  phases: { scan: number; tombstones: number; destroy: number; objects: number; forget: number };
  objectsDeleted: number;
  baseline: { rows: number; seconds: number };
}

const monthKey = (i: number) => {
  const d = new Date(FIRST);
  d.setUTCMonth(d.getUTCMonth() + i);
  return d.toISOString().slice(0, 7);
};
/**
 * The archive's months, from FIRST: all of them up to LAST, or the first BENCH_RETENTION_MONTHS
 * (a smoke round: every month costs a period key per controller, and each key written rewrites
 * the keyring file).
 */
function archiveMonths(span?: number): { months: string[]; last: number } {
  const all: string[] = [];
  for (let i = 0; monthKey(i) < new Date(LAST).toISOString().slice(0, 7); i++) all.push(monthKey(i));
  const raw = span === undefined ? process.env.BENCH_RETENTION_MONTHS : String(span);
  if (raw === undefined || raw === '') return { months: all, last: LAST };
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > all.length) throw new Error(`BENCH_RETENTION_MONTHS must be 1 to ${all.length}`);
  return { months: all.slice(0, n), last: Date.parse(`${monthKey(n)}-01T00:00:00Z`) };
}

/** the runs on one database of `total` recordings */
/** `spanMonths`: the archive's span (default BENCH_RETENTION_MONTHS, else all of 2013-01 to 2019-01) */
export async function benchRetention(dialect: string, total: number, dir: string, log: (line: string) => void, spanMonths?: number): Promise<RetentionCase[]> {
  const admin = process.env.CALLVAULT_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const pgName = `callvault_retention_${randomBytes(4).toString('hex')}`;
  let databaseUrl: string | undefined;
  if (dialect === 'postgres') {
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    await c.query(`CREATE DATABASE ${pgName}`);
    await c.end();
    databaseUrl = admin.replace(/\/[^/]*$/, `/${pgName}`);
  }
  const vault = await Vault.create(dir, { passphrase: BENCH_PASSPHRASE, controllerId: controllerId(0), controllerName: 'Region 1' }, databaseUrl ? { databaseUrl } : {});
  try {
    const db = vault.database.db;
    for (let c = 1; c < CONTROLLERS; c++) await vault.controllers.add({ id: controllerId(c), name: `Region ${c + 1}`, created_at: new Date().toISOString() });
    const { months: MONTHS, last } = archiveMonths(spanMonths);
    const periodKeys = new Map<string, string>();
    for (let c = 0; c < CONTROLLERS; c++)
      for (const month of MONTHS) periodKeys.set(`${controllerId(c)} ${month}`, (await vault.keys.generate(controllerId(c), `period/default/${month}`)).keyId);
    log(`${dialect}: ${periodKeys.size} period keys made`);

    // a larger page cache for the load only: the runs are timed with the default one
    const cacheSize = vault.database.sqlite?.pragma('cache_size', { simple: true });
    vault.database.sqlite?.pragma('cache_size = -1000000');
    const sample = { ids: [] as string[], people: [] as number[] };
    const loadStarted = nowSeconds();
    for (let from = 0; from < total; from += BATCH) {
      const batch = generate(vault, from, Math.min(BATCH, total - from), sample, last);
      for (const row of batch.rows) row.key_id = periodKeys.get(`${row.controller_id} ${row.started_at!.slice(0, 7)}`)!;
      await vault.recordings.loadStored(batch.rows, batch.identifiers);
      if ((from / BATCH) % 40 === 0) log(`${dialect}: ${from + batch.rows.length} of ${total} loaded (${(nowSeconds() - loadStarted).toFixed(0)} s)`);
    }
    vault.database.sqlite?.pragma(`cache_size = ${cacheSize}`);
    log(`${dialect}: loaded in ${(nowSeconds() - loadStarted).toFixed(0)} s`);

    for (let c = 0; c < CONTROLLERS; c++) await vault.retention.setPolicy({ controller_id: controllerId(c), class: 'default', days: DAYS, updated_at: new Date().toISOString() });
    const CASES = retentionCases();
    const monthsUsed = CASES.reduce((a, b) => a + b, 0);
    if (monthsUsed > MONTHS.length) throw new Error(`the runs shred ${monthsUsed} months of an archive of ${MONTHS.length}`);
    const keysOf = (months: string[]) => months.flatMap((m) => Array.from({ length: CONTROLLERS }, (_, c) => periodKeys.get(`${controllerId(c)} ${m}`)!));
    // the baseline's copy: the rows the runs shred, with the index the UPDATE's WHERE needs
    const copied = keysOf(MONTHS.slice(0, monthsUsed));
    await sql`CREATE TABLE bench_copy AS SELECT * FROM recordings WHERE key_id IN (${sql.join(copied)})`.execute(db);
    await sql`CREATE INDEX bench_copy_key ON bench_copy (key_id)`.execute(db);
    await sql`ANALYZE`.execute(db);
    vault.database.sqlite?.pragma('wal_checkpoint(TRUNCATE)');

    const counts = instrument(vault);
    const service = new RetentionService(vault, new AuditTrail(vault.audit));
    const cases: RetentionCase[] = [];
    let next = 0;
    for (const [i, months] of CASES.entries()) {
      const shredMonths = MONTHS.slice(next, next + months);
      next += months;
      const objects = i === CASES.length - 1;
      if (objects) await writeTinyObjects(vault, dir, dialect, keysOf(shredMonths));
      const expected = await countStored(vault, keysOf(shredMonths));
      counts.reset();
      const now = periodExpiresAt(shredMonths.at(-1)!, DAYS);
      const t = nowSeconds();
      const report = await service.run(systemActor('retention'), { dryRun: false, now });
      const seconds = nowSeconds() - t;
      const shredded = report.controllers.reduce((n, c) => n + c.shredded, 0);
      const keysDestroyed = report.controllers.reduce((n, c) => n + c.keysDestroyed.length, 0);
      if (shredded !== expected || keysDestroyed !== months * CONTROLLERS || counts.destroy !== keysDestroyed)
        throw new Error(`${dialect}: ${months} month(s) shredded ${shredded} of ${expected} recordings with ${keysDestroyed} keys`);
      if ((await countStored(vault, keysOf(shredMonths))) !== 0) throw new Error(`${dialect}: recordings of a shredded month are still stored`);

      const b = nowSeconds();
      const updated = await sql`UPDATE bench_copy SET wrapped_key = '', sealed_metadata = '', state = 'erased' WHERE key_id IN (${sql.join(keysOf(shredMonths))})`.execute(db);
      const baseline = { rows: Number(updated.numAffectedRows ?? 0), seconds: nowSeconds() - b };
      if (baseline.rows !== shredded) throw new Error(`${dialect}: the baseline updated ${baseline.rows} rows, the run shredded ${shredded}`);

      const busy = counts.tombstones + counts.destroySeconds + counts.objects + counts.forget;
      const c: RetentionCase = {
        dialect,
        months,
        objects,
        shredded,
        seconds,
        keysDestroyed,
        keysGenerated: counts.generate,
        unwraps: counts.unwrap,
        phases: { scan: seconds - busy, tombstones: counts.tombstones, destroy: counts.destroySeconds, objects: counts.objects, forget: counts.forget },
        objectsDeleted: counts.deleted,
        baseline,
      };
      cases.push(c);
      log(
        `${dialect}: ${months} month(s)${objects ? ' with objects' : ''}: ${shredded} shredded in ${seconds.toFixed(2)} s, ${keysDestroyed} keys destroyed; baseline ${baseline.seconds.toFixed(2)} s`,
      );
    }
    return cases;
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

async function countStored(vault: Vault, keyIds: string[]): Promise<number> {
  const r = await vault.database.db
    .selectFrom('recordings')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('key_id', 'in', keyIds)
    .where('state', '=', 'stored')
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** one 16-byte object for each recording on these keys, where the file store keeps it */
async function writeTinyObjects(vault: Vault, dir: string, dialect: string, keyIds: string[]): Promise<void> {
  const rows = await vault.database.db.selectFrom('recordings').select('blob_key').where('key_id', 'in', keyIds).where('state', '=', 'stored').execute();
  const made = new Set<string>();
  for (const { blob_key } of rows) {
    const path = join(dir, 'objects', blob_key);
    if (!made.has(dirname(path))) {
      await mkdir(dirname(path), { recursive: true });
      made.add(dirname(path));
    }
    await writeFile(path, randomBytes(16));
  }
  if (!(await vault.blobs.exists(rows[0]!.blob_key))) throw new Error(`${dialect}: the tiny objects are not where the blob store looks`);
}

/** counts the key provider's operations and times the run's steps, by wrapping the vault's methods */
function instrument(vault: Vault) {
  const counts = { destroy: 0, generate: 0, unwrap: 0, deleted: 0, tombstones: 0, destroySeconds: 0, objects: 0, forget: 0, reset: () => {} };
  counts.reset = () => Object.assign(counts, { destroy: 0, generate: 0, unwrap: 0, deleted: 0, tombstones: 0, destroySeconds: 0, objects: 0, forget: 0 });
  const timed = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, add: (s: number) => void) => {
    return async (...args: A): Promise<R> => {
      const t = nowSeconds();
      try {
        return await fn(...args);
      } finally {
        add(nowSeconds() - t);
      }
    };
  };
  const keys = vault.keys;
  const destroy = keys.destroy.bind(keys);
  const generateKey = keys.generate.bind(keys);
  const unwrap = keys.unwrap.bind(keys);
  keys.destroy = timed(
    (id: string) => {
      counts.destroy += 1;
      return destroy(id);
    },
    (s) => (counts.destroySeconds += s),
  );
  keys.generate = (controller: string, scope?: string) => {
    counts.generate += 1;
    return generateKey(controller, scope);
  };
  keys.unwrap = (keyId, wrapped, info) => {
    counts.unwrap += 1;
    return unwrap(keyId, wrapped, info);
  };
  const erase = vault.recordings.erase.bind(vault.recordings);
  vault.recordings.erase = timed(erase, (s) => (counts.tombstones += s));
  const del = vault.blobs.delete.bind(vault.blobs);
  vault.blobs.delete = timed(
    (key: string) => {
      counts.deleted += 1;
      return del(key);
    },
    (s) => (counts.objects += s),
  );
  const forget = vault.database.forgetOverwritten.bind(vault.database);
  vault.database.forgetOverwritten = timed(forget, (s) => (counts.forget += s));
  return counts;
}

export const retentionBenchmark: Benchmark = {
  name: 'retention',
  description: `retention runs shredding 1, 2, 4 and 12 months of a 2.7-million-recording archive on SQLite and PostgreSQL, against a plain UPDATE of the same rows`,
  async run(options: BenchOptions): Promise<BenchResult> {
    const result: BenchResult = { name: 'retention', rows: [], ratios: [], notes: [] };
    const total = Number(process.env.BENCH_RETENTION_ROWS ?? 2_700_000);
    const dbs = (process.env.BENCH_RETENTION_DBS ?? 'sqlite,postgres').split(',');
    const scratch = await makeScratch('callvault-bench-retention-', options.keep);
    try {
      for (const dialect of dbs) {
        const cases = await benchRetention(dialect, total, join(scratch.dir, dialect), options.log);
        for (const c of cases) {
          const what = `${dialect}: ${c.months} month(s)${c.objects ? ', objects present' : ''}`;
          const p = c.phases;
          result.rows.push({
            label: `${what}: run`,
            value: c.seconds,
            unit: 's',
            note:
              `${c.shredded} shredded, ${(c.shredded / c.seconds).toFixed(0)} rec/s; keys: ${c.keysDestroyed} destroyed, ${c.keysGenerated} made, ${c.unwraps} unwraps; ` +
              `scan ${p.scan.toFixed(2)} s, tombstones ${p.tombstones.toFixed(2)} s, key destroys ${p.destroy.toFixed(2)} s, ` +
              `${c.objectsDeleted} object deletes ${p.objects.toFixed(2)} s, checkpoint/VACUUM ${p.forget.toFixed(2)} s`,
          });
          result.rows.push({
            label: `${what}: plain UPDATE of the same rows`,
            value: c.baseline.seconds,
            unit: 's',
            note: `${(c.baseline.rows / c.baseline.seconds).toFixed(0)} rec/s`,
          });
          result.ratios.push({ label: `${what}: run / plain UPDATE`, ratio: c.seconds / c.baseline.seconds, comparator: '>=', target: 0, pass: true });
        }
        const one = cases[0]!;
        const twelve = cases.find((c) => c.months === 12);
        if (twelve)
          result.notes.push(
            `${dialect}: 12 months take ${(twelve.seconds / one.seconds).toFixed(1)}× the time of 1 month for ${(twelve.shredded / one.shredded).toFixed(1)}× the recordings; key destroys ${one.keysDestroyed} → ${twelve.keysDestroyed} (21 controllers × months), none per recording`,
          );
      }
      result.notes.push(`${total} recordings; wrapped_key bytes are random (shredding never unwraps); objects absent but in the last run`);
    } finally {
      await scratch.cleanup();
    }
    return result;
  },
};
