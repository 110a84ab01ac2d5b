/**
 * The audit log: durable append rate against plain INSERTs, and full verification against
 * `sha256sum` over the same bytes.
 *
 * Part 1, per database (SQLite as src/db/database.ts opens it: WAL, synchronous = FULL; PostgreSQL
 * with its default synchronous_commit, in a throwaway database), in a data directory from
 * `Vault.create`, contenders interleaved round by round:
 *   append    `vault.audit.append(event)` N times in a row: one transaction each (UPDATE the head
 *             row … RETURNING, INSERT the entry, COMMIT), every commit durable
 *   insert    N autocommitted `INSERT INTO bench_rows` of rows with the same columns and sizes as
 *             audit_entries (the same canonical entry text, leaf hash and lookup columns), through
 *             the same Kysely instance (`vault.database.db`), so both pay the same driver cost
 * On PostgreSQL also, as rows without a target, 8 concurrent appenders (Promise.all of 8 loops,
 * N/8 each) against 8 concurrent INSERT loops. PROTOTYPE rows (bench code, not src/) show what an
 * append could cost: on SQLite through statements prepared once, on PostgreSQL as one statement.
 * After the rounds the log must pass verifyAuditLog.
 *
 * Part 2: a SQLite data directory filled (untimed) with ENTRIES realistic entries written straight
 * into audit_entries in large transactions (seq, canonical text from `encodeEntry`, `leafHash`,
 * the lookup columns from `indexedColumns`), the head set and a checkpoint signed every
 * CHECKPOINT_EVERY entries (`AuditCheckpoints.make`, which also fills the 256-leaf subtree cache);
 * the same canonical bytes, concatenated, go to a file. Timed, wall clock:
 *   sha256sum        `sha256sum FILE` (its digest is checked against the one computed in the fill)
 *   verify           `node bin/callvault.js --data DIR audit verify --json` (exit 0, ok, the size
 *                    and number of checkpoints checked)
 *   verify (empty)   the same on an empty log: the fixed cost of the process
 *   verifyAuditLog   in this process, on the same directory
 *   prototype 1, 2   faster verify loops (bench code, not src/; see below), in this process
 * Every contender runs once untimed first, so all read warm files (the database and the byte file
 * are in the page cache for every timed run). At the end, one pass repeats verifyAuditLog's loop
 * with a clock around each step, to show where the time goes.
 *
 * Environment: BENCH_AUDIT_APPENDS (N per contender per round, default 3000), BENCH_AUDIT_ENTRIES
 * (part 2 size, default 1,000,000), CALLVAULT_BENCH_PG_URL (an admin URL, default
 * postgres://postgres@127.0.0.1:5432/postgres), BENCH_AUDIT_PARTS (`append`, `verify` or
 * `append,verify`, the default).
 */
import { createHash, hash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import { Vault } from '../src/vault.js';
import { encodeEntry, indexedColumns, type AuditEvent } from '../src/audit/audit-log.js';
import { HASH_SIZE, leafHash, TreeBuilder } from '../src/audit/merkle.js';
import { verifyAuditLog } from '../src/audit/verify.js';
import { SUBTREE_SIZE } from '../src/audit/tree.js';
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
} from './common.js';

const APPEND_TARGET = 0.5;
const VERIFY_TARGET = 0.3;
const CONCURRENCY = 8;
const CHECKPOINT_EVERY = 100_000;
const FILL_TRANSACTION = 50_000;
/** verify.ts reads this many rows per query */
const VERIFY_BATCH = 20_000;
const WARMUP_APPENDS = 50;
const KDF = { memoryKiB: 8192, iterations: 1, parallelism: 1 };

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
}

async function createVault(dir: string, databaseUrl?: string): Promise<Vault> {
  return Vault.create(dir, { passphrase: BENCH_PASSPHRASE, controllerId: 'region-a', controllerName: 'Region A', kdf: KDF }, { databaseUrl });
}

/** bytes of a file plus its -wal and -shm companions, if any */
async function sqliteBytes(file: string): Promise<{ main: number; wal: number }> {
  const size = (p: string) => stat(p).then((s) => s.size, () => 0);
  return { main: await size(file), wal: (await size(`${file}-wal`)) + (await size(`${file}-shm`)) };
}

// ---------------------------------------------------------------------------------------------
// part 1: append vs INSERT

interface BenchRowsTable {
  seq: number;
  entry: string;
  leaf_hash: string;
  recording_id: string | null;
  identifier_hash: string | null;
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
  await sql`CREATE TABLE bench_rows (seq bigint PRIMARY KEY, entry text NOT NULL, leaf_hash text NOT NULL, recording_id text, identifier_hash text)`.execute(db);
  const event = playEvent();
  const sample = encodeEntry(event, new Date());
  const row = { entry: sample.toString('utf8'), leaf_hash: leafHash(sample).toString('hex'), ...indexedColumns(sample.toString('utf8')) };
  let nextSeq = 0;
  const insertOne = () => db.insertInto('bench_rows').values({ seq: nextSeq++, ...row }).execute();
  const appendOne = () => vault.audit.append(event);
  /**
   * PROTOTYPE (PostgreSQL): AuditLog.append as one autocommitted statement, the head row taken
   * by an UPDATE in a data-modifying CTE and the entry inserted at the size it returns: one round
   * trip instead of four (BEGIN, UPDATE … RETURNING, INSERT, COMMIT), the same row lock, so the
   * same gap-free order.
   */
  const appendOneStatement = async () => {
    const entry = encodeEntry(event, new Date());
    const text = entry.toString('utf8');
    const columns = indexedColumns(text);
    const result = await sql<{ seq: number }>`WITH head AS (UPDATE audit_head SET size = size + 1 WHERE id = 1 RETURNING size)
      INSERT INTO audit_entries (seq, entry, leaf_hash, recording_id, identifier_hash)
      SELECT size - 1, ${text}, ${leafHash(entry).toString('hex')}, ${columns.recording_id}, ${columns.identifier_hash} FROM head RETURNING seq`.execute(vault.database.db);
    if (result.rows.length !== 1) throw new Error('the one-statement append inserted no row');
  };
  /**
   * PROTOTYPE (SQLite): AuditLog.append as src does it (UPDATE … RETURNING, INSERT, in one
   * transaction) but through better-sqlite3 statements prepared once, on a connection of its own
   * to the same file with the same pragmas, instead of Kysely, which prepares every statement
   * again and runs BEGIN and COMMIT as statements of their own.
   */
  let raw: SQLite.Database | undefined;
  let appendPrepared: (() => Promise<unknown>) | undefined;
  if (!postgres) {
    raw = new SQLite(join(vault.dataDir, 'callvault.db'));
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = FULL');
    raw.pragma('busy_timeout = 10000');
    const head = raw.prepare('UPDATE audit_head SET size = size + 1 WHERE id = 1 RETURNING size');
    const insert = raw.prepare('INSERT INTO audit_entries (seq, entry, leaf_hash, recording_id, identifier_hash) VALUES (?, ?, ?, ?, ?)');
    const tx = raw.transaction((text: string, leaf: string, columns: { recording_id: string | null; identifier_hash: string | null }) => {
      const index = Number((head.get() as { size: number }).size) - 1;
      insert.run(index, text, leaf, columns.recording_id, columns.identifier_hash);
      return index;
    });
    appendPrepared = async () => {
      const entry = encodeEntry(event, new Date());
      const text = entry.toString('utf8');
      return tx.immediate(text, leafHash(entry).toString('hex'), indexedColumns(text));
    };
  }
  const loop = async (one: () => Promise<unknown>, count: number) => {
    for (let i = 0; i < count; i++) await one();
  };
  const per = Math.ceil(n / CONCURRENCY);
  const xN = `x${CONCURRENCY}`;
  const contenders: Record<string, { one: () => Promise<unknown>; parallel: boolean; describe: string }> = {
    append: { one: appendOne, parallel: false, describe: 'vault.audit.append, sequential' },
    insert: { one: insertOne, parallel: false, describe: 'autocommitted INSERT, sequential' },
  };
  if (appendPrepared) contenders['proto'] = { one: appendPrepared, parallel: false, describe: 'PROTOTYPE append via prepared statements, sequential' };
  if (postgres) {
    contenders[`append ${xN}`] = { one: appendOne, parallel: true, describe: `vault.audit.append, ${CONCURRENCY} concurrent loops` };
    contenders[`insert ${xN}`] = { one: insertOne, parallel: true, describe: `autocommitted INSERT, ${CONCURRENCY} concurrent loops` };
    contenders['proto'] = { one: appendOneStatement, parallel: false, describe: 'PROTOTYPE one-statement append, sequential' };
    contenders[`proto ${xN}`] = { one: appendOneStatement, parallel: true, describe: `PROTOTYPE one-statement append, ${CONCURRENCY} concurrent` };
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
  raw?.close();
  // every append above (the prototype's included) must have left a log that verifies: no gaps, no forks
  const signer = await vault.auditSigner();
  const report = await verifyAuditLog(vault.database.db, vault.auditTree, { verifier: signer.verifier, origin: signer.name });
  if (!report.ok) throw new Error(`${label}: the log does not verify after the appends: ${JSON.stringify(report.problems.slice(0, 3))}`);
  const stored = await db.selectFrom('bench_rows').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
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
  if (!postgres) rows.push(ratioRow(`${label}: PROTOTYPE prepared-statement append / INSERT`, m('proto') / m('insert')));
  if (postgres) {
    rows.push(ratioRow(`${label}: ${CONCURRENCY} concurrent append / INSERT [no target]`, m(`append ${xN}`) / m(`insert ${xN}`)));
    rows.push(ratioRow(`${label}: ${CONCURRENCY} concurrent / sequential append [no target]`, m(`append ${xN}`) / m('append')));
    rows.push(ratioRow(`${label}: PROTOTYPE one-statement append / INSERT, sequential`, m('proto') / m('insert')));
    rows.push(ratioRow(`${label}: PROTOTYPE one-statement append / INSERT, ${CONCURRENCY} concurrent`, m(`proto ${xN}`) / m(`insert ${xN}`)));
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
 * identifier hash, so verify's lookup-column check JSON-parses them.
 */
function fillEvent(i: number, p: Pools): AuditEvent {
  const u = p.users[(i * 7919) % p.users.length]!;
  const actor = { type: 'user' as const, id: u.id, name: u.name, role: u.role };
  const recordingId = p.recordings[(i * 104729) % p.recordings.length]!;
  const accessId = p.accesses[(i * 31) % p.accesses.length]!;
  const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const requestId = `req-${(i % 1_679_616).toString(36)}`;
  const k = i % 20;
  if (k < 12) {
    const start = ((i * 1_048_576) % 57_000_000) | 0;
    return { action: 'recording.play', outcome: 'success', actor, recordingId, controllerId: 'region-a', purpose: 'quality-review', detail: { accessId, range: { start, end: start + 1_048_576 } }, ip, requestId };
  }
  if (k < 14) {
    return { action: 'recording.access', outcome: 'success', actor, recordingId, controllerId: 'region-a', purpose: i % 3 ? 'quality-review' : 'complaint', purposeText: 'follow-up of a patient complaint', detail: { accessId, expiresAt: '2026-01-05T08:00:00.000Z' }, ip, requestId };
  }
  if (k < 15) return { action: 'recordings.list', outcome: 'success', actor, detail: { agent: u.name, from: '2025-12-01', results: i % 50 }, ip, requestId };
  if (k < 16) return { action: 'recordings.list', outcome: 'success', actor, detail: { from: '2025-12-01', [i % 2 ? 'phoneHash' : 'personnummerHash']: p.identifierHashes[i % p.identifierHashes.length]!, results: i % 5 }, ip, requestId };
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
  /** entries indexedColumns parses (they name a recording or an identifier hash) */
  parsed: number;
}

async function fillLog(dir: string, bytesFile: string, total: number, log: (l: string) => void): Promise<Filled> {
  const t0 = nowSeconds();
  const vault = await createVault(dir);
  const pools = new Pools();
  const raw = new SQLite(join(dir, 'callvault.db'));
  const out = createWriteStream(bytesFile);
  const digest = createHash('sha256');
  const base = Date.parse('2026-01-05T07:00:00.000Z');
  let bytes = 0;
  let parsed = 0;
  let checkpoints = 0;
  try {
    raw.pragma('busy_timeout = 10000');
    const insert = raw.prepare('INSERT INTO audit_entries (seq, entry, leaf_hash, recording_id, identifier_hash) VALUES (?, ?, ?, ?, ?)');
    const setHead = raw.prepare('UPDATE audit_head SET size = ? WHERE id = 1');
    const made = await vault.auditCheckpoints();
    for (let seq = 0; seq < total; ) {
      const end = Math.min(total, seq + FILL_TRANSACTION);
      const rows: [number, string, string, string | null, string | null][] = [];
      const chunks: Buffer[] = [];
      for (; seq < end; seq++) {
        const event = fillEvent(seq, pools);
        const entry = encodeEntry(event, new Date(base + seq * 1700));
        chunks.push(entry);
        const text = entry.toString('utf8');
        const columns = indexedColumns(text);
        rows.push([seq, text, leafHash(entry).toString('hex'), columns.recording_id, columns.identifier_hash]);
        if (text.includes('"recordingId":') || text.includes('Hash":')) parsed += 1;
      }
      raw.transaction(() => {
        for (const r of rows) insert.run(...r);
        setHead.run(end);
      })();
      const chunk = Buffer.concat(chunks);
      bytes += chunk.length;
      digest.update(chunk);
      if (!out.write(chunk)) await once(out, 'drain');
      if (end % CHECKPOINT_EVERY === 0 || end === total) {
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
  return { entries: total, bytes, sha256: digest.digest('hex'), checkpoints, seconds: nowSeconds() - t0, parsed };
}

interface VerifyJson {
  ok: boolean;
  size: number;
  checkpoints: number;
  problems: unknown[];
}

async function runVerify(dir: string, expected: { size: number; checkpoints: number }): Promise<number> {
  const res = await run(process.execPath, [CLI, '--data', dir, 'audit', 'verify', '--json'], { env: envWithoutPassphrase() });
  const report = JSON.parse(res.stdout) as VerifyJson;
  if (!report.ok || report.size !== expected.size || report.checkpoints !== expected.checkpoints) {
    throw new Error(`audit verify said ok=${report.ok} size=${report.size} checkpoints=${report.checkpoints} (${JSON.stringify(report.problems).slice(0, 300)}); expected ok, ${expected.size}, ${expected.checkpoints}`);
  }
  return res.seconds;
}

async function runSha256sum(file: string, expected: string): Promise<number> {
  const res = await run('sha256sum', [file]);
  const got = res.stdout.split(/\s+/)[0];
  if (got !== expected) throw new Error(`sha256sum gave ${got}, the fill computed ${expected}`);
  return res.seconds;
}

// ---------------------------------------------------------------------------------------------
// prototypes of a faster verify (not in src/): the same checks, cheaper per entry, and the same
// again with the rows read and checked in worker threads

type IndexedColumns = ReturnType<typeof indexedColumns>;

/** the index of the quote that closes the string opening at `open`, or -1; sets `escapedString` */
let escapedString = false;
function stringEnd(entry: string, open: number): number {
  escapedString = false;
  for (let i = open + 1; i < entry.length; ) {
    const c = entry.charCodeAt(i);
    if (c === 0x22) return i;
    if (c === 0x5c) {
      escapedString = true;
      i += 2;
    } else i += 1;
  }
  return -1;
}

function isKey(entry: string, start: number, end: number, key: string): boolean {
  return end - start === key.length && entry.startsWith(key, start);
}

/**
 * PROTOTYPE: `indexedColumns` without JSON.parse. One string-aware pass over the entry that tracks
 * the nesting depth, so only the top-level `recordingId` and the top-level `detail`'s
 * `personnummerHash` / `phoneHash` count. Anything unusual (an escaped key or value, a value that
 * is not a string, a repeated member, text that is not an object) falls back to indexedColumns.
 */
function indexedColumnsScan(entry: string): IndexedColumns {
  if (!entry.includes('"recordingId":') && !entry.includes('Hash":')) return { recording_id: null, identifier_hash: null };
  if (entry.charCodeAt(0) !== 0x7b) return indexedColumns(entry);
  let recording: string | undefined;
  let personnummer: string | undefined;
  let phone: string | undefined;
  let depth = 0;
  let inDetail = false;
  let detailOpens = false;
  for (let i = 0; i < entry.length; ) {
    const c = entry.charCodeAt(i);
    if (c === 0x22) {
      const end = stringEnd(entry, i);
      if (end < 0) return indexedColumns(entry);
      const start = i + 1;
      i = end + 1;
      if (entry.charCodeAt(i) !== 0x3a) continue; // a value, not a key
      const which =
        depth === 1 && isKey(entry, start, end, 'recordingId') ? 'r'
        : depth === 2 && inDetail && isKey(entry, start, end, 'personnummerHash') ? 'n'
        : depth === 2 && inDetail && isKey(entry, start, end, 'phoneHash') ? 'p'
        : depth === 1 && isKey(entry, start, end, 'detail') ? 'd'
        : '';
      if (escapedString) return indexedColumns(entry);
      i += 1;
      if (which === 'd') detailOpens = entry.charCodeAt(i) === 0x7b;
      else if (which) {
        if (entry.charCodeAt(i) !== 0x22) return indexedColumns(entry);
        const vEnd = stringEnd(entry, i);
        if (vEnd < 0 || escapedString) return indexedColumns(entry);
        const value = entry.slice(i + 1, vEnd);
        i = vEnd + 1;
        if (which === 'r') {
          if (recording !== undefined) return indexedColumns(entry);
          recording = value;
        } else if (which === 'n') {
          if (personnummer !== undefined) return indexedColumns(entry);
          personnummer = value;
        } else {
          if (phone !== undefined) return indexedColumns(entry);
          phone = value;
        }
      }
      continue;
    }
    if (c === 0x7b || c === 0x5b) {
      depth += 1;
      if (detailOpens) inDetail = depth === 2;
      detailOpens = false;
    } else if (c === 0x7d || c === 0x5d) {
      depth -= 1;
      if (depth < 2) inDetail = false;
    }
    i += 1;
  }
  return { recording_id: recording ?? null, identifier_hash: personnummer ?? phone ?? null };
}

/** the scan must agree with indexedColumns (JSON.parse), nested and escaped cases included */
function checkIndexedColumnsScan(entries: string[]): void {
  const cases = [
    ...entries,
    '{"action":"x","detail":{"recordingId":"nested"},"v":1}',
    '{"action":"x","detail":{"recordingId":"nested"},"recordingId":"top","v":1}',
    '{"action":"x","detail":{"note":"a \\"recordingId\\": b","list":[{"recordingId":"n"}]},"recordingId":"t\\"q","v":1}',
    '{"action":"x","detail":{"s":"}}}{{"},"recordingId":null,"v":1}',
    '{"action":"\\\\","recordingId":"r","v":1}',
    '{"actor":{"personnummerHash":"no"},"detail":{"a":{"phoneHash":"deep"},"phoneHash":"ph"},"v":1}',
    '{"detail":{"personnummerHash":"pn","phoneHash":"ph"},"recordingId":"r","v":1}',
    '{"detail":[{"personnummerHash":"in an array"}],"v":1}',
    '{"detail":{"personnummerHash":7},"v":1}',
    '{"detail":{"personnummerHash":null,"phoneHash":"ph"},"v":1}',
    '{"detail":"phoneHash\\":","v":1}',
  ];
  for (const e of cases) {
    const a = indexedColumnsScan(e);
    const b = indexedColumns(e);
    if (a.recording_id !== b.recording_id || a.identifier_hash !== b.identifier_hash) throw new Error(`indexedColumnsScan disagrees with indexedColumns on ${e.slice(0, 200)}`);
  }
}

interface VerifyRow {
  seq: number;
  entry: string;
  leaf_hash: string;
  recording_id: string | null;
  identifier_hash: string | null;
}

/**
 * PROTOTYPE of verify.ts's per-row work, cheaper: the leaf hash of the string in one call
 * (`hash('sha256', '\0' + entry, 'hex')`, the same bytes as leafHash(Buffer.from(entry)): U+0000
 * is the byte 0x00 in UTF-8) compared as hex with the stored column, and the scan above instead of
 * JSON.parse. Writes the leaf hashes into `out`; returns the number of problems.
 */
function checkRows(rows: readonly VerifyRow[], from: number, out: Buffer): number {
  let bad = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (Number(r.seq) !== from + i) bad += 1;
    const hex = hash('sha256', '\0' + r.entry, 'hex');
    if (hex !== r.leaf_hash) bad += 1;
    out.write(hex, i * HASH_SIZE, 'hex');
    const columns = indexedColumnsScan(r.entry);
    if (columns.recording_id !== r.recording_id || columns.identifier_hash !== r.identifier_hash) bad += 1;
  }
  return bad;
}

/** the subtree-cache check and root of verify.ts, fed with leaf hashes in order */
function treeChecker(storedSubtrees: Map<number, string>): { builder: TreeBuilder; bad: () => number } {
  let bad = 0;
  const builder = new TreeBuilder({
    subtreeSize: SUBTREE_SIZE,
    onSubtree: (start, h) => {
      const cached = storedSubtrees.get(start);
      if (cached !== undefined && cached !== h.toString('hex')) bad += 1;
    },
  });
  return { builder, bad: () => bad };
}

async function storedSubtreeMap(db: Kysely<Database>): Promise<Map<number, string>> {
  const map = new Map<number, string>();
  for (const row of await db.selectFrom('audit_subtrees').selectAll().execute()) map.set(Number(row.start), row.hash);
  return map;
}

/** PROTOTYPE 1: verify's loop on this thread, reading through Kysely as verify.ts does, with checkRows */
async function prototypeSingle(db: Kysely<Database>, size: number): Promise<string> {
  const { builder, bad } = treeChecker(await storedSubtreeMap(db));
  let problems = 0;
  let expected = 0;
  for (;;) {
    const rows = await db.selectFrom('audit_entries').select(['seq', 'entry', 'leaf_hash', 'recording_id', 'identifier_hash']).where('seq', '>=', expected).orderBy('seq').limit(VERIFY_BATCH).execute();
    const out = Buffer.from(new ArrayBuffer(rows.length * HASH_SIZE));
    problems += checkRows(rows, expected, out);
    for (let i = 0; i < rows.length; i++) builder.push(out.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE));
    expected += rows.length;
    if (rows.length < VERIFY_BATCH) break;
  }
  if (problems + bad() !== 0 || builder.size !== size) throw new Error(`prototype 1 found ${problems + bad()} problems, ${builder.size} entries`);
  return builder.root().toString('base64');
}

const WORKER_ROLE = 'callvault-bench-audit-verify-worker';

interface WorkerInput {
  role: typeof WORKER_ROLE;
  file: string;
  id: number;
  workers: number;
  size: number;
}

type WorkerMessage = { ready: true } | { batch: number; rows: number; bad: number; hashes: ArrayBuffer } | { done: true };

/** a worker of prototype 2: its own read-only SQLite connection, every `workers`-th batch */
function verifyWorker(input: WorkerInput): void {
  parentPort!.postMessage({ ready: true } satisfies WorkerMessage);
  const db = new SQLite(input.file, { readonly: true, fileMustExist: true });
  try {
    const query = db.prepare('SELECT seq, entry, leaf_hash, recording_id, identifier_hash FROM audit_entries WHERE seq >= ? ORDER BY seq LIMIT ?');
    for (let b = input.id; b * VERIFY_BATCH < input.size; b += input.workers) {
      const from = b * VERIFY_BATCH;
      const want = Math.min(VERIFY_BATCH, input.size - from);
      const rows = query.all(from, want) as VerifyRow[];
      const hashes = new ArrayBuffer(rows.length * HASH_SIZE);
      const bad = checkRows(rows, from, Buffer.from(hashes)) + (rows.length === want ? 0 : 1);
      parentPort!.postMessage({ batch: b, rows: rows.length, bad, hashes } satisfies WorkerMessage, [hashes]);
    }
  } finally {
    db.close();
  }
  parentPort!.postMessage({ done: true } satisfies WorkerMessage);
}

/**
 * PROTOTYPE 2: the rows read and checked by `workers` worker threads (this module, started
 * again), each with its own connection and every `workers`-th batch; this thread feeds the leaf
 * hashes to the tree in order. Worker start-up (which loads this whole module) is timed too.
 */
async function prototypeWorkers(db: Kysely<Database>, file: string, size: number, workers: number): Promise<{ root: string; startup: number }> {
  const t0 = nowSeconds();
  let startup = 0;
  const { builder, bad } = treeChecker(await storedSubtreeMap(db));
  const pending = new Map<number, { rows: number; hashes: ArrayBuffer }>();
  let next = 0;
  let problems = 0;
  await new Promise<void>((resolvePromise, reject) => {
    let done = 0;
    for (let id = 0; id < workers; id++) {
      const w = new Worker(new URL(import.meta.url), { workerData: { role: WORKER_ROLE, file, id, workers, size } satisfies WorkerInput });
      w.on('error', reject);
      w.on('exit', (code) => {
        if (code !== 0) reject(new Error(`verify worker exited with ${code}`));
      });
      w.on('message', (m: WorkerMessage) => {
        if ('ready' in m) {
          startup = Math.max(startup, nowSeconds() - t0);
          return;
        }
        if ('done' in m) {
          if (++done === workers) resolvePromise();
          return;
        }
        problems += m.bad;
        pending.set(m.batch, m);
        for (let p = pending.get(next); p; p = pending.get(next)) {
          pending.delete(next);
          const hashes = Buffer.from(p.hashes);
          for (let i = 0; i < p.rows; i++) builder.push(hashes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE));
          next += 1;
        }
      });
    }
  });
  if (problems + bad() !== 0 || builder.size !== size) throw new Error(`prototype 2 found ${problems + bad()} problems, ${builder.size} entries`);
  return { root: builder.root().toString('base64'), startup };
}

interface Split {
  read: number;
  leafHash: number;
  compare: number;
  recording: number;
  tree: number;
  rawRead: number;
}

/**
 * verifyAuditLog's entry loop repeated with a clock around each step (each step over a whole
 * batch of 20,000 rows, so the clock costs nothing), then the same rows read with better-sqlite3
 * directly (no Kysely), for comparison.
 */
async function splitVerify(db: Kysely<Database>, file: string, total: number, rootHash: string): Promise<Split> {
  const split = { read: 0, leafHash: 0, compare: 0, recording: 0, tree: 0, rawRead: 0 };
  const builder = new TreeBuilder({ subtreeSize: SUBTREE_SIZE, onSubtree: () => {} });
  let expected = 0;
  let mismatches = 0;
  let t: number;
  for (;;) {
    t = nowSeconds();
    const rows = await db.selectFrom('audit_entries').select(['seq', 'entry', 'leaf_hash', 'recording_id', 'identifier_hash']).where('seq', '>=', expected).orderBy('seq').limit(VERIFY_BATCH).execute();
    split.read += nowSeconds() - t;
    if (expected === 0) checkIndexedColumnsScan(rows.map((r) => r.entry));
    t = nowSeconds();
    const hashes = rows.map((r) => leafHash(Buffer.from(r.entry, 'utf8')));
    split.leafHash += nowSeconds() - t;
    t = nowSeconds();
    for (let i = 0; i < rows.length; i++) if (hashes[i]!.toString('hex') !== rows[i]!.leaf_hash) mismatches += 1;
    split.compare += nowSeconds() - t;
    t = nowSeconds();
    for (const r of rows) {
      const columns = indexedColumns(r.entry);
      if (columns.recording_id !== r.recording_id || columns.identifier_hash !== r.identifier_hash) mismatches += 1;
    }
    split.recording += nowSeconds() - t;
    t = nowSeconds();
    for (const h of hashes) builder.push(h);
    split.tree += nowSeconds() - t;
    expected += rows.length;
    if (rows.length < VERIFY_BATCH) break;
  }
  if (mismatches !== 0 || builder.size !== total || builder.root().toString('base64') !== rootHash) throw new Error('the split pass disagrees with verifyAuditLog');

  const raw = new SQLite(file, { readonly: true });
  try {
    const stmt = raw.prepare('SELECT seq, entry, leaf_hash, recording_id, identifier_hash FROM audit_entries WHERE seq >= ? ORDER BY seq LIMIT ?');
    let n = 0;
    t = nowSeconds();
    for (let from = 0; ; ) {
      const rows = stmt.all(from, VERIFY_BATCH) as unknown[];
      n += rows.length;
      from += rows.length;
      if (rows.length < VERIFY_BATCH) break;
    }
    split.rawRead = nowSeconds() - t;
    if (n !== total) throw new Error(`raw read saw ${n} rows`);
  } finally {
    raw.close();
  }
  return split;
}

interface VerifyPart {
  rows: Row[];
  ratios: Ratio[];
  notes: string[];
}

async function verifyVsSha256sum(scratchDir: string, total: number, rounds: number, log: (l: string) => void): Promise<VerifyPart> {
  const dir = join(scratchDir, 'data-verify');
  const file = join(dir, 'callvault.db');
  const bytesFile = join(scratchDir, 'entries.bin');
  const filled = await fillLog(dir, bytesFile, total, log);
  const dbSize = await sqliteBytes(file);
  log(`fill: ${filled.entries} entries, ${fmt(filled.bytes / 1e6)} MB of canonical entries, ${filled.checkpoints} checkpoints, database ${fmt(dbSize.main / 1e6)} MB (+${fmt(dbSize.wal / 1e6)} MB -wal/-shm), in ${fmt(filled.seconds)} s (not timed)`);

  // the fixed cost of one `audit verify` process: an empty log
  const emptyDir = join(scratchDir, 'data-empty');
  await (await createVault(emptyDir)).close();
  const expected = { size: total, checkpoints: filled.checkpoints };

  const vault = await Vault.open(dir);
  try {
    const db = vault.database.db;
    const signer = await vault.auditSigner();
    let rootHash = '';
    const inProcess = async () => {
      const report = await verifyAuditLog(db, vault.auditTree, { verifier: signer.verifier, origin: signer.name });
      if (!report.ok || report.size !== total || report.checkpoints !== filled.checkpoints) throw new Error('in-process verifyAuditLog did not say ok');
      rootHash = report.rootHash;
    };
    const workers = Math.max(2, cpus().length);
    /** prototype 2: seconds until the last worker had loaded this module and started */
    const startups: number[] = [];
    const sameRoot = (root: string) => {
      if (root !== rootHash) throw new Error(`a prototype computed root ${root}, verifyAuditLog ${rootHash}`);
    };

    type Contender = 'sha256sum' | 'verify' | 'verify (empty log)' | 'verifyAuditLog' | 'prototype 1' | 'prototype 2';
    const timed = (work: () => Promise<unknown>) => async () => {
      const t = nowSeconds();
      await work();
      return nowSeconds() - t;
    };
    const contenders: Record<Contender, () => Promise<number>> = {
      sha256sum: () => runSha256sum(bytesFile, filled.sha256),
      verify: () => runVerify(dir, expected),
      'verify (empty log)': () => runVerify(emptyDir, { size: 0, checkpoints: 0 }),
      verifyAuditLog: timed(inProcess),
      'prototype 1': timed(async () => sameRoot(await prototypeSingle(db, total))),
      'prototype 2': timed(async () => {
        const { root, startup } = await prototypeWorkers(db, file, total, workers);
        sameRoot(root);
        startups.push(startup);
      }),
    };
    const names = Object.keys(contenders) as Contender[];
    // untimed: every contender once, so each finds the database and the byte file in the page cache
    // (and verifyAuditLog sets the root the prototypes must reproduce)
    for (const who of names) await contenders[who]();

    const wall = Object.fromEntries(names.map((w) => [w, [] as number[]])) as Record<Contender, number[]>;
    for (let r = 0; r < rounds; r++) {
      const order = names.map((_, i) => names[(i + r) % names.length]!);
      for (const who of order) {
        const s = await contenders[who]();
        wall[who].push(s);
        log(`verify round ${r + 1}/${rounds} ${who.padEnd(18)} ${fmt(s, 2)} s${who === 'verify (empty log)' ? '' : `  ${fmt(filled.bytes / 1e6 / s)} MB/s`}`);
      }
    }
    const split = await splitVerify(db, file, total, rootHash);
    log(`split: read ${fmt(split.read, 2)} s, leafHash ${fmt(split.leafHash, 2)} s, hex compare ${fmt(split.compare, 2)} s, lookup-column check ${fmt(split.recording, 2)} s, tree ${fmt(split.tree, 2)} s; raw better-sqlite3 read ${fmt(split.rawRead, 2)} s`);

    const mb = filled.bytes / 1e6;
    const mbps = (who: Contender) => wall[who].map((s) => mb / s);
    const m = (who: Contender) => median(wall[who]);
    const ratio = m('sha256sum') / m('verify');
    const splitSum = split.read + split.leafHash + split.compare + split.recording + split.tree;
    const part = (label: string, s: number, note: string): Row => ({ label: `  ${label}`, value: s, unit: 's', note: `${fmt((s / splitSum) * 100)} % of the split; ${note}` });
    const inProc = (who: Contender, label: string, note: string): Row => ({ label, value: m(who), unit: 's', samples: wall[who], note: `median of ${rounds}; ${fmt(total / m(who) / 1000)}k entries/s; ${note}` });
    // what `audit verify` would take with a prototype: its process overhead plus the prototype;
    // the overhead is the larger of the empty-log run and the CLI time less the in-process time
    const overhead = Math.max(m('verify (empty log)'), m('verify') - m('verifyAuditLog'));
    const projected = (who: Contender) => m('sha256sum') / (overhead + m(who));
    const rows: Row[] = [
      { label: `sha256sum (${fmt(mb)} MB file)`, value: median(mbps('sha256sum')), unit: 'MB/s', samples: mbps('sha256sum'), note: `median of ${rounds}; wall ${wall.sha256sum.map((s) => fmt(s, 2)).join(', ')} s` },
      { label: `callvault audit verify (${fmt(total, 0)} entries)`, value: median(mbps('verify')), unit: 'MB/s', samples: mbps('verify'), note: `median of ${rounds}; wall ${wall.verify.map((s) => fmt(s, 2)).join(', ')} s` },
      { label: 'callvault audit verify, entries/s', value: total / m('verify'), unit: 'entries/s', samples: wall.verify.map((s) => total / s) },
      { label: 'audit verify fixed cost (empty log)', value: m('verify (empty log)'), unit: 's', samples: wall['verify (empty log)'], note: 'node start, open the vault, the checkpoint list; included above' },
      inProc('verifyAuditLog', 'verifyAuditLog in this process', 'src/audit/verify.ts as it is'),
      part('read rows (Kysely select, 20,000 per query)', split.read, 'better-sqlite3 stmt.all + Kysely'),
      part('leafHash (Buffer.from + sha256 0x00‖entry)', split.leafHash, `${fmt((split.leafHash / total) * 1e6, 2)} µs per entry`),
      part('hex compare with the stored leaf_hash', split.compare, 'toString("hex") + string compare'),
      part('lookup-column check (indexedColumns)', split.recording, `JSON.parse of the ${fmt((filled.parsed / total) * 100, 0)} % of entries that name a recording or identifier`),
      part('TreeBuilder.push (one node hash per entry)', split.tree, `${fmt((split.tree / total) * 1e6, 2)} µs per entry`),
      { label: '  (read rows with better-sqlite3 alone, no Kysely)', value: split.rawRead, unit: 's', note: 'same query and batches, prepared once' },
      inProc('prototype 1', 'prototype 1: cheaper per-entry checks, 1 thread', `hash of the string as hex + a scan instead of JSON.parse for the lookup columns; projected CLI ratio ${fmt(projected('prototype 1'), 2)}`),
      inProc('prototype 2', `prototype 2: the same in ${workers} worker threads`, `each reads and checks one batch in ${workers} on its own connection, this thread builds the tree; worker start-up ${fmt(median(startups), 2)} s of it (loading this whole module); projected CLI ratio ${fmt(projected('prototype 2'), 2)}`),
    ];
    return {
      rows,
      ratios: [{ label: 'audit verify / sha256sum (sha256sum time / verify time)', ratio, comparator: '>=', target: VERIFY_TARGET, pass: ratio >= VERIFY_TARGET }],
      notes: [
        `verify: ${fmt(total, 0)} entries, ${fmt(mb)} MB of canonical entries (${fmt(filled.bytes / total, 1)} bytes on average), ${filled.checkpoints} signed checkpoints (every ${fmt(CHECKPOINT_EVERY, 0)}); SQLite file ${fmt(dbSize.main / 1e6)} MB (${fmt(dbSize.main / filled.bytes, 2)}× the entry bytes: hex leaf hash, recording_id and identifier_hash columns and their indexes, the seq index, b-tree pages)`,
        `verify: the fill (not timed) took ${fmt(filled.seconds)} s: encodeEntry + leafHash + prepared INSERTs in transactions of ${fmt(FILL_TRANSACTION, 0)}, head set and a checkpoint made every ${fmt(CHECKPOINT_EVERY, 0)} (which fills the subtree cache)`,
        'verify: every contender ran once untimed before the rounds, so the database and the byte file were warm in the page cache for every timed run; sha256sum and `audit verify` are child processes timed by wall clock; sha256sum\'s digest and verify\'s JSON (ok, size, checkpoints) are checked every run',
        `verify: split pass (once, after the rounds) ${fmt(splitSum, 2)} s in all; the prototypes are bench code, not src/, and must reproduce verifyAuditLog's root; "projected CLI ratio" = sha256sum / (CLI overhead ${fmt(overhead, 2)} s [the larger of the empty-log run and verify CLI − verifyAuditLog in process] + prototype)`,
      ],
    };
  } finally {
    await vault.close();
  }
}

// ---------------------------------------------------------------------------------------------

export const auditBenchmark: Benchmark = {
  name: 'audit',
  description: 'audit log: durable append vs plain INSERT (SQLite, PostgreSQL; entries/s, ratio) and `audit verify` of 1M entries vs `sha256sum` of the same bytes (MB/s, ratio)',
  async run(options: BenchOptions): Promise<BenchResult> {
    const rounds = options.rounds ?? 3;
    const log = options.log;
    const n = envInt('BENCH_AUDIT_APPENDS', 3000);
    const total = envInt('BENCH_AUDIT_ENTRIES', 1_000_000);
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
        notes.push(`append: ${n} entries per contender per round (BENCH_AUDIT_APPENDS), ${WARMUP_APPENDS} untimed first; contenders interleaved, the order rotating each round; bench_rows has the same five columns as audit_entries but only its primary key, audit_entries also has indexes on (recording_id, seq) and (identifier_hash, seq)`);
        notes.push('append: "ms per entry" of the concurrent rows is the inverse of their throughput; the SQLite PROTOTYPE runs on a better-sqlite3 connection of its own (same file, same pragmas), not through Kysely, so its ratio to the Kysely INSERT shows what leaving Kysely out of the append would gain');
      }
      if (parts.includes('verify')) {
        const r = await verifyVsSha256sum(scratch.dir, total, rounds, log);
        rows.push(...r.rows);
        ratios.push(...r.ratios);
        notes.push(...r.notes);
        notes.push(`sha256sum: ${(await run('sha256sum', ['--version'])).stdout.split('\n')[0]}`);
      }
      return { name: 'audit', rows, ratios, notes };
    } finally {
      await scratch.cleanup();
    }
  },
};

if (!isMainThread && (workerData as { role?: string } | null)?.role === WORKER_ROLE) verifyWorker(workerData as WorkerInput);
