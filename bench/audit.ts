/**
 * The audit log: durable append rate against plain INSERTs, full verification against
 * `openssl dgst -sha256` (and `sha256sum`) over the same bytes, and the incremental verification of
 * the newest entries against the full one.
 *
 * Part 1, per database (SQLite as src/db/database.ts opens it: WAL, synchronous = FULL; PostgreSQL
 * with its default synchronous_commit, in a throwaway database), in a data directory from
 * `Vault.create`, contenders interleaved round by round:
 *   append    `vault.audit.append(event)` N times in a row, every entry a durable commit: on
 *             SQLite one IMMEDIATE transaction of two statements prepared once (UPDATE the head row
 *             … RETURNING, INSERT the entry), on PostgreSQL one statement (the same UPDATE in a CTE
 *             feeding the INSERT)
 *   insert    N autocommitted `INSERT INTO bench_rows` of rows with the same columns and sizes as
 *             audit_entries (the same canonical entry text, leaf hash and lookup columns), through
 *             the same Kysely instance (`vault.database.db`), so both pay the same driver cost
 * On PostgreSQL also, as rows without a target, 8 concurrent appenders (Promise.all of 8 loops,
 * N/8 each) against 8 concurrent INSERT loops. After the rounds the log must pass verifyAuditLog.
 *
 * Part 2: a SQLite data directory filled (untimed) with ENTRIES realistic entries written straight
 * into audit_entries in large transactions (seq, canonical text from `encodeEntry`, `leafHash`,
 * the lookup and search columns from `entryColumns`), the head set and a checkpoint signed every
 * CHECKPOINT_EVERY entries and at ENTRIES − INCREMENTAL (`AuditCheckpoints.make`, which also fills
 * the 256-leaf subtree cache); the same canonical bytes, concatenated, go to a file. Timed, wall
 * clock:
 *   openssl          `openssl dgst -sha256 FILE` (its digest is checked against the fill's): the baseline
 *   sha256sum        `sha256sum FILE` (likewise; a row, slower than openssl here)
 *   verify           `node bin/callvault.js --data DIR audit verify --json` (exit 0, ok, the size
 *                    and number of checkpoints checked)
 *   verify (empty)   the same on an empty log: the fixed cost of the process
 *   verifyAuditLog   in this process, on the same directory, as the CLI runs it (worker threads)
 *   1 thread         verifyAuditLog in this process with `workers: 0`: the path small logs take
 *   since (CLI)      `audit verify --since-checkpoint --json`, the last verification recorded (untimed,
 *                    before every run) at the checkpoint ENTRIES − INCREMENTAL: it re-hashes the
 *                    newest INCREMENTAL entries (the JSON must say so)
 *   since            the same in this process (`vault.verifyAudit([], { sinceCheckpoint: true })`)
 * Every contender runs once untimed first, so all read warm files (the database and the byte file
 * are in the page cache for every timed run). At the end, one pass repeats the per-entry work on
 * this thread with a clock around each step, to show where the time goes.
 *
 * Environment: BENCH_AUDIT_APPENDS (N per contender per round, default 3000), BENCH_AUDIT_ENTRIES
 * (part 2 size, default 1,000,000), BENCH_AUDIT_INCREMENTAL (the newest entries the incremental
 * verification re-hashes, default 10,000), CALLVAULT_BENCH_PG_URL (an admin URL, default
 * postgres://postgres@127.0.0.1:5432/postgres), BENCH_AUDIT_PARTS (`append`, `verify` or
 * `append,verify`, the default).
 */
import { createHash, hash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { sql } from '../src/db/kysely.js';
import { Vault } from '../src/vault.js';
import { encodeEntry, entryColumns, type AuditEvent, type EncodableEvent, type EntryColumns } from '../src/audit/audit-log.js';
import { HASH_SIZE, leafHash, TreeBuilder } from '../src/audit/merkle.js';
import { BATCH as VERIFY_BATCH, PARALLEL_MIN, verifyAndRecord, workerCount } from '../src/audit/verify.js';
import { AuditTree, SUBTREE_SIZE } from '../src/audit/tree.js';
import { recordVerification } from '../src/audit/verifications.js';
import { sqliteRowReader } from '../src/audit/verify-rows.js';
import type { Database } from '../src/db/schema.js';
import {
  BENCH_PASSPHRASE,
  CLI,
  envWithoutPassphrase,
  fmt,
  makeScratch,
  median,
  nowSeconds,
  run,
  type Benchmark,
  type BenchOptions,
  type BenchResult,
  type Ratio,
  type Row,
  envInt,
} from './common.js';

const APPEND_TARGET = 0.5;
const VERIFY_TARGET = 0.3;
/** the incremental verification of the newest entries, against the full one */
const INCREMENTAL_TARGET = 0.01;
const CONCURRENCY = 8;
const CHECKPOINT_EVERY = 100_000;
const FILL_TRANSACTION = 50_000;
const WARMUP_APPENDS = 50;
const KDF = { memoryKiB: 8192, iterations: 1, parallelism: 1 };

async function createVault(dir: string, databaseUrl?: string): Promise<Vault> {
  return Vault.create(dir, { passphrase: BENCH_PASSPHRASE, controllerId: 'region-a', controllerName: 'Region A', kdf: KDF }, { databaseUrl });
}

/** bytes of a file plus its -wal and -shm companions, if any */
async function sqliteBytes(file: string): Promise<{ main: number; wal: number }> {
  const size = (p: string) =>
    stat(p).then(
      (s) => s.size,
      () => 0,
    );
  return { main: await size(file), wal: (await size(`${file}-wal`)) + (await size(`${file}-shm`)) };
}

// ---------------------------------------------------------------------------------------------
// part 1: append vs INSERT

/** the columns append writes (src/audit/audit-log.ts), without its indexes */
interface BenchRowsTable extends EntryColumns {
  seq: number;
  entry: string;
  leaf_hash: string;
}
type BenchDb = Kysely<Database & { bench_rows: BenchRowsTable }>;

/** what the playback route appends for one range request (src/http/routes/recordings.ts) */
function playEvent(): AuditEvent {
  return {
    action: 'recording.play',
    outcome: 'success',
    actor: { type: 'user', id: '7d0c2f4e-6a51-4c43-9a6e-0f3f1b2c8d11', name: 'anna.lindqvist', role: 'nurse' },
    recordingId: '3b9f6a2e-1c4d-4e8a-b7f0-5d2c9e8a1f64',
    controllerId: 'region-a',
    purpose: 'quality-review',
    detail: { accessId: 'c1a7e5d3-92b4-4f6e-8d0a-6b3c2e1f9a75', range: { start: 28275734, end: 29324310 } },
    ip: '10.20.30.40',
    requestId: 'req-3f2a',
  };
}

/** a ratio shown as a row (the table prints one decimal, so the note repeats it with two) */
function ratioRow(label: string, value: number): Row {
  return { label, value, unit: 'ratio', note: `= ${fmt(value, 2)}` };
}

interface AppendPart {
  rows: Row[];
  ratios: Ratio[];
  notes: string[];
}

async function appendVsInsert(label: 'SQLite' | 'PostgreSQL', vault: Vault, n: number, rounds: number, postgres: boolean, log: (l: string) => void): Promise<AppendPart> {
  const db = vault.database.db.withTables<{ bench_rows: BenchRowsTable }>() as BenchDb;
  await sql`CREATE TABLE bench_rows (seq bigint PRIMARY KEY, entry text NOT NULL, leaf_hash text NOT NULL, recording_id text, identifier_hash text, time text, action text, outcome text, actor_id text, actor_name text)`.execute(
    db,
  );
  const event = playEvent();
  const sample = encodeEntry(event, new Date());
  const row = { entry: sample.toString('utf8'), leaf_hash: leafHash(sample).toString('hex'), ...entryColumns(sample.toString('utf8')) };
  let nextSeq = 0;
  // The baseline is the cheapest plain INSERT each driver offers, as the append gets: on SQLite
  // a statement prepared once (autocommit), on PostgreSQL one statement, one round trip.
  const prepared = vault.database.sqlite?.prepare(
    'INSERT INTO bench_rows (seq, entry, leaf_hash, recording_id, identifier_hash, time, action, outcome, actor_id, actor_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const insertOne = prepared
    ? async () => prepared.run(nextSeq++, row.entry, row.leaf_hash, row.recording_id, row.identifier_hash, row.time, row.action, row.outcome, row.actor_id, row.actor_name)
    : () =>
        db
          .insertInto('bench_rows')
          .values({ seq: nextSeq++, ...row })
          .execute();
  const appendOne = () => vault.audit.append(event);
  const loop = async (one: () => Promise<unknown>, count: number) => {
    for (let i = 0; i < count; i++) await one();
  };
  const per = Math.ceil(n / CONCURRENCY);
  const xN = `x${CONCURRENCY}`;
  const contenders: Record<string, { one: () => Promise<unknown>; parallel: boolean; describe: string }> = {
    append: { one: appendOne, parallel: false, describe: 'vault.audit.append, sequential' },
    insert: { one: insertOne, parallel: false, describe: 'autocommitted INSERT, sequential' },
  };
  if (postgres) {
    contenders[`append ${xN}`] = { one: appendOne, parallel: true, describe: `vault.audit.append, ${CONCURRENCY} concurrent loops` };
    contenders[`insert ${xN}`] = { one: insertOne, parallel: true, describe: `autocommitted INSERT, ${CONCURRENCY} concurrent loops` };
  }
  const run1 = async (who: string, count: number): Promise<number> => {
    const c = contenders[who]!;
    if (!c.parallel) {
      await loop(c.one, count);
      return count;
    }
    const each = Math.ceil(count / CONCURRENCY);
    await Promise.all(Array.from({ length: CONCURRENCY }, () => loop(c.one, each)));
    return each * CONCURRENCY;
  };
  const names = Object.keys(contenders);
  // untimed: connections, prepared paths, the first pages of both tables
  for (const who of names) await run1(who, WARMUP_APPENDS);
  const rates: Record<string, number[]> = Object.fromEntries(names.map((w) => [w, []]));
  for (let r = 0; r < rounds; r++) {
    const order = names.map((_, i) => names[(i + r) % names.length]!);
    for (const who of order) {
      const t = nowSeconds();
      const count = await run1(who, contenders[who]!.parallel ? per * CONCURRENCY : n);
      const s = nowSeconds() - t;
      rates[who]!.push(count / s);
      log(`${label} round ${r + 1}/${rounds} ${who.padEnd(9)} ${count} in ${fmt(s, 2)} s  ${fmt(count / s)} entries/s  ${fmt((s / count) * 1000, 3)} ms each`);
    }
  }
  // every append above must have left a log that verifies: no gaps, no forks
  const report = await vault.verifyAudit();
  if (!report.ok) throw new Error(`${label}: the log does not verify after the appends: ${JSON.stringify(report.problems.slice(0, 3))}`);
  const stored = await db
    .selectFrom('bench_rows')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  const m = (who: string) => median(rates[who]!);
  const rows: Row[] = names.map((who) => ({
    label: `${label}: ${contenders[who]!.describe}`,
    value: m(who),
    unit: 'entries/s',
    samples: rates[who],
    note: `median of ${rounds}; ${fmt(1000 / m(who), 3)} ms per entry`,
  }));
  const ratio = m('append') / m('insert');
  const ratios: Ratio[] = [{ label: `${label}: append / INSERT (sequential, every entry durable)`, ratio, comparator: '>=', target: APPEND_TARGET, pass: ratio >= APPEND_TARGET }];
  if (postgres) {
    rows.push(ratioRow(`${label}: ${CONCURRENCY} concurrent append / INSERT [no target]`, m(`append ${xN}`) / m(`insert ${xN}`)));
    rows.push(ratioRow(`${label}: ${CONCURRENCY} concurrent / sequential append [no target]`, m(`append ${xN}`) / m('append')));
  }
  const notes = [
    `${label}: the log holds ${report.size} entries after the rounds (warm-ups included) and verifies; bench_rows ${Number(stored.n)} rows; entry ${sample.length} bytes of canonical JSON, leaf hash 64 hex characters`,
  ];
  return { rows, ratios, notes };
}

async function sqliteSettings(vault: Vault): Promise<string> {
  const get = async (pragma: string) => {
    const r = await sql.raw(`PRAGMA ${pragma}`).execute(vault.database.db);
    return Object.values((r.rows[0] ?? {}) as Record<string, unknown>)[0];
  };
  return `SQLite ${(await sql<{ v: string }>`select sqlite_version() as v`.execute(vault.database.db)).rows[0]!.v}: journal_mode=${await get('journal_mode')}, synchronous=${await get('synchronous')} (2 = FULL)`;
}

async function pgSettings(vault: Vault): Promise<string> {
  const get = async (name: string) => (await sql.raw(`SHOW ${name}`).execute(vault.database.db)).rows.map((r) => Object.values(r as Record<string, unknown>)[0])[0];
  const names = ['server_version', 'synchronous_commit', 'fsync', 'wal_sync_method', 'commit_delay', 'full_page_writes'];
  const values: string[] = [];
  for (const name of names) values.push(`${name}=${String(await get(name))}`);
  return `PostgreSQL ${values.join(', ')}`;
}

/**
 * Drops the throwaway database. The pool's connections close asynchronously after Kysely's
 * destroy() returns, so a plain DROP may find them still there for a moment: retry for a while
 * before forcing (a forced drop makes the departing connections report errors).
 */
async function dropDatabase(client: { query(text: string): Promise<unknown> }, name: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      await client.query(`DROP DATABASE IF EXISTS ${name}`);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== '55006') throw err; // object_in_use
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

// ---------------------------------------------------------------------------------------------
// part 2: verify vs sha256sum

/** deterministic pools so entries look like a real log: many recordings, fewer people */
class Pools {
  readonly recordings = Array.from({ length: 5000 }, () => randomUUID());
  readonly users = Array.from({ length: 200 }, (_, i) => ({ id: randomUUID(), name: `user.${String(i).padStart(3, '0')}`, role: i % 10 === 0 ? 'supervisor' : 'nurse' }));
  readonly accesses = Array.from({ length: 20000 }, () => randomUUID());
  readonly identifierHashes = Array.from({ length: 1000 }, () => createHash('sha256').update(randomUUID()).digest('hex'));
}

/**
 * Entry i of the filled log: 60 % range requests (recording.play), 10 % purpose statements
 * (recording.access), 5 % list queries, 5 % searches by personnummer or phone (keyed hash in
 * detail), 10 % sign-ins, 5 % metadata views, 5 % refused plays. 85 % name a recording or an
 * identifier hash. verify JSON-parses every entry to check its columns.
 */
function fillEvent(i: number, p: Pools): EncodableEvent {
  const u = p.users[(i * 7919) % p.users.length]!;
  const actor = { type: 'user' as const, id: u.id, name: u.name, role: u.role };
  const recordingId = p.recordings[(i * 104729) % p.recordings.length]!;
  const accessId = p.accesses[(i * 31) % p.accesses.length]!;
  const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const requestId = `req-${(i % 1_679_616).toString(36)}`;
  const k = i % 20;
  if (k < 12) {
    const start = ((i * 1_048_576) % 57_000_000) | 0;
    return {
      action: 'recording.play',
      outcome: 'success',
      actor,
      recordingId,
      controllerId: 'region-a',
      purpose: 'quality-review',
      detail: { accessId, range: { start, end: start + 1_048_576 } },
      ip,
      requestId,
    };
  }
  if (k < 14) {
    return {
      action: 'recording.access',
      outcome: 'success',
      actor,
      recordingId,
      controllerId: 'region-a',
      purpose: i % 3 ? 'quality-review' : 'complaint',
      purposeText: 'follow-up of a patient complaint',
      detail: { accessId, expiresAt: '2026-01-05T08:00:00.000Z' },
      ip,
      requestId,
    };
  }
  if (k < 15) return { action: 'recordings.list', outcome: 'success', actor, detail: { agent: u.name, from: '2025-12-01', results: i % 50 }, ip, requestId };
  if (k < 16)
    return {
      action: 'recordings.list',
      outcome: 'success',
      actor,
      detail: { from: '2025-12-01', [i % 2 ? 'phoneHash' : 'personnummerHash']: p.identifierHashes[i % p.identifierHashes.length]!, results: i % 5 },
      ip,
      requestId,
    };
  if (k < 18) return { action: 'auth.signin', outcome: 'success', actor, detail: { method: 'password', totp: true }, ip, requestId };
  if (k < 19) return { action: 'recording.view', outcome: 'success', actor, recordingId, controllerId: 'region-a', ip, requestId };
  return { action: 'recording.play', outcome: 'denied', actor, recordingId, detail: { reason: 'access' }, ip, requestId };
}

interface Filled {
  entries: number;
  bytes: number;
  sha256: string;
  checkpoints: number;
  seconds: number;
}

async function fillLog(dir: string, bytesFile: string, total: number, incrementalFrom: number, log: (l: string) => void): Promise<Filled> {
  const t0 = nowSeconds();
  const vault = await createVault(dir);
  const pools = new Pools();
  const raw = new SQLite(join(dir, 'callvault.db'));
  const out = createWriteStream(bytesFile);
  const digest = createHash('sha256');
  const base = Date.parse('2026-01-05T07:00:00.000Z');
  let bytes = 0;
  let checkpoints = 0;
  try {
    raw.pragma('busy_timeout = 10000');
    const insert = raw.prepare(
      'INSERT INTO audit_entries (seq, entry, leaf_hash, recording_id, identifier_hash, time, action, outcome, actor_id, actor_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const setHead = raw.prepare('UPDATE audit_head SET size = ? WHERE id = 1');
    const made = await vault.auditCheckpoints();
    for (let seq = 0; seq < total; ) {
      // a transaction ends at the incremental checkpoint, so that one can be signed there
      const end = Math.min(total, seq + FILL_TRANSACTION, seq < incrementalFrom ? incrementalFrom : Number.POSITIVE_INFINITY);
      const rows: [number, string, string, ...(string | null)[]][] = [];
      const chunks: Buffer[] = [];
      for (; seq < end; seq++) {
        const event = fillEvent(seq, pools);
        const entry = encodeEntry(event, new Date(base + seq * 1700));
        chunks.push(entry);
        const text = entry.toString('utf8');
        const c = entryColumns(text);
        rows.push([seq, text, leafHash(entry).toString('hex'), c.recording_id, c.identifier_hash, c.time, c.action, c.outcome, c.actor_id, c.actor_name]);
      }
      raw.transaction(() => {
        for (const r of rows) insert.run(...r);
        setHead.run(end);
      })();
      const chunk = Buffer.concat(chunks);
      bytes += chunk.length;
      digest.update(chunk);
      if (!out.write(chunk)) await once(out, 'drain');
      if (end % CHECKPOINT_EVERY === 0 || end === total || end === incrementalFrom) {
        const { created } = await made.make(new Date(base + end * 1700));
        if (created) checkpoints += 1;
        log(`fill: ${end} entries, ${fmt(bytes / 1e6)} MB, checkpoint signed at ${end} (${fmt(nowSeconds() - t0)} s)`);
      }
    }
    out.end();
    await once(out, 'finish');
  } finally {
    raw.close();
    await vault.close();
  }
  return { entries: total, bytes, sha256: digest.digest('hex'), checkpoints, seconds: nowSeconds() - t0 };
}

interface VerifyJson {
  ok: boolean;
  size: number;
  checkpoints: number;
  problems: unknown[];
  mode: 'full' | 'incremental';
  from: number;
  checked: number;
}

/**
 * `audit verify` as a child process. Its read of the log is itself an entry, appended before it
 * verifies: the log it checks holds `expected.size` + 1 entries. That entry is removed again
 * afterwards (not timed), so every run, and the in-process ones, see the same log.
 */
async function runVerify(dir: string, expected: { size: number; checkpoints: number; from?: number }): Promise<number> {
  const since = expected.from !== undefined;
  const res = await run(process.execPath, [CLI, '--data', dir, 'audit', 'verify', ...(since ? ['--since-checkpoint'] : []), '--json'], { env: envWithoutPassphrase() });
  truncateLog(join(dir, 'callvault.db'), expected.size);
  const report = JSON.parse(res.stdout) as VerifyJson;
  const from = expected.from ?? 0;
  if (!report.ok || report.size !== expected.size + 1 || report.checkpoints !== expected.checkpoints || report.from !== from || report.mode !== (since ? 'incremental' : 'full')) {
    throw new Error(
      `audit verify said ok=${report.ok} size=${report.size} checkpoints=${report.checkpoints} mode=${report.mode} from=${report.from} (${JSON.stringify(report.problems).slice(0, 300)}); expected ok, ${expected.size + 1}, ${expected.checkpoints}, from ${from}`,
    );
  }
  return res.seconds;
}

/** the log cut back to `size` entries: what a verify process appended, unsigned, removed */
function truncateLog(file: string, size: number): void {
  const raw = new SQLite(file);
  try {
    raw.pragma('busy_timeout = 10000');
    raw.transaction(() => {
      raw.prepare('DELETE FROM audit_entries WHERE seq >= ?').run(size);
      raw.prepare('UPDATE audit_head SET size = ? WHERE id = 1').run(size);
      raw.prepare('DELETE FROM audit_subtrees WHERE start + ? > ?').run(SUBTREE_SIZE, size);
    })();
  } finally {
    raw.close();
  }
}

/** the digest `openssl dgst -sha256` prints, the last word of "SHA2-256(FILE)= HEX" */
async function runOpenssl(file: string, expected: string): Promise<number> {
  const res = await run('openssl', ['dgst', '-sha256', file]);
  const got = res.stdout.trim().split(/\s+/).pop();
  if (got !== expected) throw new Error(`openssl dgst gave ${got}, the fill computed ${expected}`);
  return res.seconds;
}

async function runSha256sum(file: string, expected: string): Promise<number> {
  const res = await run('sha256sum', [file]);
  const got = res.stdout.split(/\s+/)[0];
  if (got !== expected) throw new Error(`sha256sum gave ${got}, the fill computed ${expected}`);
  return res.seconds;
}

interface Split {
  read: number;
  leafHash: number;
  compare: number;
  columns: number;
  tree: number;
}

/**
 * The per-entry work of verifyAuditLog repeated on this thread with a clock around each step, each
 * step over a whole batch of VERIFY_BATCH rows (so the clock costs nothing): the rows read as its
 * workers read them (better-sqlite3, a statement prepared once, rows as arrays), then the steps
 * of checkRows (src/audit/verify-rows.ts), then the tree its main thread builds.
 */
function splitVerify(file: string, total: number, rootHash: string): Split {
  const split = { read: 0, leafHash: 0, compare: 0, columns: 0, tree: 0 };
  const builder = new TreeBuilder({ subtreeSize: SUBTREE_SIZE, onSubtree: () => {} });
  const raw = new SQLite(file, { readonly: true });
  let mismatches = 0;
  let t: number;
  try {
    const select = raw
      .prepare(
        'SELECT seq, entry, leaf_hash, recording_id, identifier_hash, time, action, outcome, actor_id, actor_name FROM audit_entries WHERE seq >= ? AND seq < ? ORDER BY seq',
      )
      .raw(true);
    for (let from = 0; from < total; from += VERIFY_BATCH) {
      t = nowSeconds();
      const rows = select.all(from, Math.min(total, from + VERIFY_BATCH)) as [number, string, string, ...(string | null)[]][];
      split.read += nowSeconds() - t;
      t = nowSeconds();
      const hexes = rows.map((r) => hash('sha256', `\0${r[1]}`, 'hex'));
      split.leafHash += nowSeconds() - t;
      t = nowSeconds();
      const hashes = Buffer.alloc(rows.length * HASH_SIZE);
      for (let i = 0; i < rows.length; i++) {
        if (hexes[i] !== rows[i]![2]) mismatches += 1;
        hashes.write(hexes[i]!, i * HASH_SIZE, HASH_SIZE, 'hex');
      }
      split.compare += nowSeconds() - t;
      t = nowSeconds();
      for (const r of rows) {
        const c = entryColumns(r[1]);
        if (c.recording_id !== r[3] || c.identifier_hash !== r[4] || c.time !== r[5] || c.action !== r[6] || c.outcome !== r[7] || c.actor_id !== r[8] || c.actor_name !== r[9])
          mismatches += 1;
      }
      split.columns += nowSeconds() - t;
      t = nowSeconds();
      for (let i = 0; i < rows.length; i++) builder.push(hashes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE));
      split.tree += nowSeconds() - t;
    }
  } finally {
    raw.close();
  }
  if (mismatches !== 0 || builder.size !== total || builder.root().toString('base64') !== rootHash) throw new Error('the split pass disagrees with verifyAuditLog');
  return split;
}

interface VerifyPart {
  rows: Row[];
  ratios: Ratio[];
  notes: string[];
}

async function verifyPart(scratchDir: string, total: number, incremental: number, rounds: number, log: (l: string) => void): Promise<VerifyPart> {
  const dir = join(scratchDir, 'data-verify');
  const file = join(dir, 'callvault.db');
  const bytesFile = join(scratchDir, 'entries.bin');
  const sinceSize = total - incremental;
  const filled = await fillLog(dir, bytesFile, total, sinceSize, log);
  const dbSize = await sqliteBytes(file);
  log(
    `fill: ${filled.entries} entries, ${fmt(filled.bytes / 1e6)} MB of canonical entries, ${filled.checkpoints} checkpoints, database ${fmt(dbSize.main / 1e6)} MB (+${fmt(dbSize.wal / 1e6)} MB -wal/-shm), in ${fmt(filled.seconds)} s (not timed)`,
  );

  // the fixed cost of one `audit verify` process: an empty log
  const emptyDir = join(scratchDir, 'data-empty');
  await (await createVault(emptyDir)).close();
  const expected = { size: total, checkpoints: filled.checkpoints };
  // the incremental check opens the checkpoint it starts from and those after it
  const checkpointsSince = (await filledCheckpointSizes(file)).filter((size) => size >= sinceSize).length;

  const vault = await Vault.open(dir);
  try {
    const db = vault.database.db;
    const sinceRoot = await db.selectFrom('audit_checkpoints').select('note').where('size', '=', sinceSize).executeTakeFirstOrThrow();
    /** as if a verification had passed at the checkpoint sinceSize: where the incremental one starts */
    const resetRecord = async () => {
      await db.deleteFrom('audit_verifications').execute();
      await recordVerification(db, { size: sinceSize, mode: 'full', rootHash: sinceRoot.note.split('\n')[2]!, verifiedAt: new Date().toISOString() });
    };
    const workers = workerCount('auto', total);
    let rootHash = '';
    const inProcess = (workers: number | 'auto') => async () => {
      const t = nowSeconds();
      const report = await vault.verifyAudit([], { workers });
      const s = nowSeconds() - t;
      if (!report.ok || report.size !== total || report.checkpoints !== filled.checkpoints) throw new Error('in-process verifyAuditLog did not say ok');
      if (rootHash && report.rootHash !== rootHash) throw new Error(`verifyAuditLog gave root ${report.rootHash}, then ${rootHash}`);
      rootHash = report.rootHash;
      return s;
    };
    const since = async () => {
      await resetRecord();
      // a fresh tree, as a new process has: AuditTree keeps the subtree hashes it has read
      const signer = await vault.auditSigner();
      const t = nowSeconds();
      const readRows = vault.database.sqlite ? sqliteRowReader(vault.database.sqlite) : undefined;
      const report = await verifyAndRecord(db, new AuditTree(db), { verifier: signer.verifier, origin: signer.name }, [], {
        url: vault.database.url,
        readRows,
        sinceCheckpoint: true,
      });
      const s = nowSeconds() - t;
      if (!report.ok || report.mode !== 'incremental' || report.from !== sinceSize || report.checked !== incremental || report.size !== total)
        throw new Error(`the incremental verification said ok=${report.ok} mode=${report.mode} from=${report.from} checked=${report.checked}`);
      if (rootHash && report.rootHash !== rootHash) throw new Error(`the incremental verification gave root ${report.rootHash}, the full one ${rootHash}`);
      return s;
    };

    type Contender = 'openssl' | 'sha256sum' | 'verify' | 'verify (empty log)' | 'verifyAuditLog' | '1 thread' | 'since (CLI)' | 'since';
    const contenders: Record<Contender, () => Promise<number>> = {
      openssl: () => runOpenssl(bytesFile, filled.sha256),
      sha256sum: () => runSha256sum(bytesFile, filled.sha256),
      verify: () => runVerify(dir, expected),
      'verify (empty log)': () => runVerify(emptyDir, { size: 0, checkpoints: 0 }),
      verifyAuditLog: inProcess('auto'),
      '1 thread': inProcess(0),
      'since (CLI)': async () => {
        await resetRecord();
        return runVerify(dir, { size: total, checkpoints: checkpointsSince, from: sinceSize });
      },
      since,
    };
    const names = Object.keys(contenders) as Contender[];
    // untimed: every contender once, so each finds the database and the byte file in the page cache
    for (const who of names) await contenders[who]();

    const wall = Object.fromEntries(names.map((w) => [w, [] as number[]])) as Record<Contender, number[]>;
    for (let r = 0; r < rounds; r++) {
      const order = names.map((_, i) => names[(i + r) % names.length]!);
      for (const who of order) {
        const s = await contenders[who]();
        wall[who].push(s);
        log(
          `verify round ${r + 1}/${rounds} ${who.padEnd(18)} ${fmt(s, 3)} s${who === 'verify (empty log)' || who.startsWith('since') ? '' : `  ${fmt(filled.bytes / 1e6 / s)} MB/s`}`,
        );
      }
    }
    const split = splitVerify(file, total, rootHash);
    log(
      `split: read ${fmt(split.read, 2)} s, leaf hash ${fmt(split.leafHash, 2)} s, compare and bytes ${fmt(split.compare, 2)} s, lookup columns ${fmt(split.columns, 2)} s, tree ${fmt(split.tree, 2)} s`,
    );

    const mb = filled.bytes / 1e6;
    const mbps = (who: Contender) => wall[who].map((s) => mb / s);
    const m = (who: Contender) => median(wall[who]);
    const ratio = m('openssl') / m('verify');
    const incrementalRatio = m('since') / m('verifyAuditLog');
    const splitSum = split.read + split.leafHash + split.compare + split.columns + split.tree;
    const part = (label: string, s: number, note: string): Row => ({ label: `  ${label}`, value: s, unit: 's', note: `${fmt((s / splitSum) * 100)} % of the split; ${note}` });
    const inProc = (who: Contender, label: string, note: string): Row => ({
      label,
      value: m(who),
      unit: 's',
      samples: wall[who],
      note: `median of ${rounds}; ${fmt(total / m(who) / 1000)}k entries/s; ${note}`,
    });
    const hashRow = (who: 'openssl' | 'sha256sum', label: string): Row => ({
      label: `${label} (${fmt(mb)} MB file)`,
      value: median(mbps(who)),
      unit: 'MB/s',
      samples: mbps(who),
      note: `median of ${rounds}; wall ${wall[who].map((s) => fmt(s, 2)).join(', ')} s`,
    });
    const rows: Row[] = [
      hashRow('openssl', 'openssl dgst -sha256'),
      hashRow('sha256sum', 'sha256sum'),
      {
        label: `callvault audit verify (${fmt(total, 0)} entries)`,
        value: median(mbps('verify')),
        unit: 'MB/s',
        samples: mbps('verify'),
        note: `median of ${rounds}; wall ${wall.verify.map((s) => fmt(s, 2)).join(', ')} s`,
      },
      { label: 'callvault audit verify, entries/s', value: total / m('verify'), unit: 'entries/s', samples: wall.verify.map((s) => total / s) },
      { label: 'audit verify / sha256sum (sha256sum time / verify time)', value: m('sha256sum') / m('verify'), unit: '×', note: 'the old baseline, kept as a row' },
      {
        label: 'audit verify fixed cost (empty log)',
        value: m('verify (empty log)'),
        unit: 's',
        samples: wall['verify (empty log)'],
        note: 'node start, open the vault, the checkpoint list; included above',
      },
      inProc('verifyAuditLog', `verifyAuditLog in this process, ${workers} workers`, 'as the CLI runs it: worker threads read and check the entries, this thread builds the tree'),
      inProc(
        '1 thread',
        'verifyAuditLog in this process, 1 thread',
        `workers: 0, the path of logs under ${fmt(PARALLEL_MIN, 0)} entries (rows read from better-sqlite3 as arrays)`,
      ),
      {
        label: `incremental verify of the last ${fmt(incremental, 0)}, in this process`,
        value: m('since'),
        unit: 's',
        samples: wall.since,
        note: `median of ${rounds}; from the checkpoint at ${fmt(sinceSize, 0)}: its right edge from the stored hashes, ${fmt(incremental, 0)} entries re-hashed, the consistency proof; as the CLI runs it (the pass recorded)`,
      },
      {
        label: `callvault audit verify --since-checkpoint (last ${fmt(incremental, 0)})`,
        value: m('since (CLI)'),
        unit: 's',
        samples: wall['since (CLI)'],
        note: `median of ${rounds}; the whole process, so mostly its start (the empty-log verify above); ${fmt((m('since (CLI)') / m('verify')) * 100, 1)} % of the full CLI verify`,
      },
      part(`read rows (better-sqlite3, ${fmt(VERIFY_BATCH, 0)} per query, as arrays)`, split.read, 'as the workers read them'),
      part("leaf hash (hash('sha256', '\\0' + entry, 'hex'))", split.leafHash, `${fmt((split.leafHash / total) * 1e6, 2)} µs per entry`),
      part('compare with the stored hex, hex to bytes', split.compare, 'string compare + Buffer.write(hex)'),
      part('column check (entryColumns)', split.columns, 'JSON.parse of every entry: the lookup and search columns'),
      part('TreeBuilder.push (one node hash per entry)', split.tree, `${fmt((split.tree / total) * 1e6, 2)} µs per entry; on the main thread`),
    ];
    return {
      rows,
      ratios: [
        { label: 'audit verify / openssl dgst -sha256 (openssl time / verify time)', ratio, comparator: '>=', target: VERIFY_TARGET, pass: ratio >= VERIFY_TARGET },
        {
          label: `incremental verify of the last ${fmt(incremental, 0)} / full verify, in process (target < 1 %)`,
          ratio: incrementalRatio,
          comparator: '<',
          target: INCREMENTAL_TARGET,
          pass: incrementalRatio < INCREMENTAL_TARGET,
        },
      ],
      notes: [
        `verify: ${fmt(total, 0)} entries, ${fmt(mb)} MB of canonical entries (${fmt(filled.bytes / total, 1)} bytes on average), ${filled.checkpoints} signed checkpoints (every ${fmt(CHECKPOINT_EVERY, 0)}, at the end and at ${fmt(sinceSize, 0)}); SQLite file ${fmt(dbSize.main / 1e6)} MB (${fmt(dbSize.main / filled.bytes, 2)}× the entry bytes: hex leaf hash, recording_id and identifier_hash columns and their indexes, the seq index, b-tree pages)`,
        `verify: the fill (not timed) took ${fmt(filled.seconds)} s: encodeEntry + leafHash + prepared INSERTs in transactions of ${fmt(FILL_TRANSACTION, 0)}, head set and a checkpoint made every ${fmt(CHECKPOINT_EVERY, 0)} (which fills the subtree cache)`,
        "verify: every contender ran once untimed before the rounds, so the database and the byte file were warm in the page cache for every timed run; openssl, sha256sum and `audit verify` are child processes timed by wall clock; the digests and verify's JSON (ok, size, checkpoints, mode, from) are checked every run, and the in-process runs must give the same root",
        'verify: `audit verify` logs its read of the log before it verifies, so a CLI run checks one entry more; that entry is deleted after each run (not timed), so every run sees the same log',
        `verify: ${workers} worker threads (one per core, at least 2), each with its own read-only SQLite connection, batches of ${fmt(VERIFY_BATCH, 0)} entries handed to whichever worker answers; split pass (once, after the rounds, one thread) ${fmt(splitSum, 2)} s in all`,
        `verify: before every incremental run (untimed) the record of the last verification is set to the checkpoint at ${fmt(sinceSize, 0)}; the full runs record theirs at ${fmt(total, 0)}`,
      ],
    };
  } finally {
    await vault.close();
  }
}

/** the sizes of the checkpoints the fill signed */
async function filledCheckpointSizes(file: string): Promise<number[]> {
  const raw = new SQLite(file, { readonly: true });
  try {
    return (raw.prepare('SELECT size FROM audit_checkpoints ORDER BY size').all() as { size: number }[]).map((r) => Number(r.size));
  } finally {
    raw.close();
  }
}

// ---------------------------------------------------------------------------------------------

export const auditBenchmark: Benchmark = {
  name: 'audit',
  description:
    'audit log: durable append vs plain INSERT (SQLite, PostgreSQL; entries/s, ratio), `audit verify` of 1M entries vs `openssl dgst -sha256` of the same bytes (MB/s, ratio), and `--since-checkpoint` of the last 10,000 vs the full verify',
  async run(options: BenchOptions): Promise<BenchResult> {
    const rounds = options.rounds ?? 3;
    const log = options.log;
    const n = envInt('BENCH_AUDIT_APPENDS', 3000);
    const total = envInt('BENCH_AUDIT_ENTRIES', 1_000_000);
    const incremental = envInt('BENCH_AUDIT_INCREMENTAL', 10_000);
    const parts = (process.env.BENCH_AUDIT_PARTS || 'append,verify').split(',');
    const scratch = await makeScratch('audit', options.keep);
    const rows: Row[] = [];
    const ratios: Ratio[] = [];
    const notes: string[] = [scratch.filesystem];
    try {
      log(`scratch: ${scratch.filesystem}`);
      if (parts.includes('append')) {
        // SQLite, as the embedded default opens it
        const sqliteVault = await createVault(join(scratch.dir, 'data-sqlite'));
        try {
          notes.push(await sqliteSettings(sqliteVault));
          const r = await appendVsInsert('SQLite', sqliteVault, n, rounds, false, log);
          rows.push(...r.rows);
          ratios.push(...r.ratios);
          notes.push(...r.notes);
        } finally {
          await sqliteVault.close();
        }

        // PostgreSQL in a throwaway database
        const admin = process.env.CALLVAULT_BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
        const { default: pg } = await import('pg');
        const client = new pg.Client({ connectionString: admin });
        let connected = false;
        try {
          await client.connect();
          connected = true;
        } catch (err) {
          notes.push(`PostgreSQL at ${admin} not reachable (${(err as Error).message}): its part was skipped`);
        }
        if (connected) {
          const name = `callvault_bench_audit_${process.pid}`;
          const url = new URL(admin);
          url.pathname = `/${name}`;
          await client.query(`CREATE DATABASE ${name}`);
          try {
            const pgVault = await createVault(join(scratch.dir, 'data-pg'), url.toString());
            try {
              notes.push(await pgSettings(pgVault));
              const r = await appendVsInsert('PostgreSQL', pgVault, n, rounds, true, log);
              rows.push(...r.rows);
              ratios.push(...r.ratios);
              notes.push(...r.notes);
            } finally {
              await pgVault.close();
            }
          } finally {
            await dropDatabase(client, name);
            await client.end();
          }
        }
        notes.push(
          `append: ${n} entries per contender per round (BENCH_AUDIT_APPENDS), ${WARMUP_APPENDS} untimed first; contenders interleaved, the order rotating each round; bench_rows has the same five columns as audit_entries but only its primary key, audit_entries also has indexes on (recording_id, seq) and (identifier_hash, seq)`,
        );
        notes.push(
          'append: "ms per entry" of the concurrent rows is the inverse of their throughput; append on SQLite runs through better-sqlite3 statements prepared once (one IMMEDIATE transaction), on PostgreSQL as one statement (UPDATE … RETURNING in a CTE feeding the INSERT); the INSERT baseline is a prepared statement on SQLite and one Kysely statement on PostgreSQL',
        );
      }
      if (parts.includes('verify')) {
        if (incremental >= total) throw new Error('BENCH_AUDIT_INCREMENTAL must be below BENCH_AUDIT_ENTRIES');
        const r = await verifyPart(scratch.dir, total, incremental, rounds, log);
        rows.push(...r.rows);
        ratios.push(...r.ratios);
        notes.push(...r.notes);
        notes.push(`openssl: ${(await run('openssl', ['version'])).stdout.trim()}; sha256sum: ${(await run('sha256sum', ['--version'])).stdout.split('\n')[0]}`);
      }
      return { name: 'audit', rows, ratios, notes };
    } finally {
      await scratch.cleanup();
    }
  },
};
