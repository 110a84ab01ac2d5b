/**
 * The per-entry part of `audit verify` (verify.ts), shared by the main thread and the verify
 * workers (verify-worker.ts): for a batch of stored rows, the recomputed leaf hashes and which
 * rows do not match their stored leaf hash or lookup columns. Only the entry text is trusted.
 */
import { hash } from 'node:crypto';
import { entryColumns } from './audit-log.js';
import { HASH_SIZE } from './merkle.js';

/** the stored leaf_hash is not the hash of the entry */
export const LEAF_HASH_MISMATCH = 1;
/** recording_id or identifier_hash differs from what the entry names, or the entry is not a JSON object */
export const COLUMNS_MISMATCH = 2;
/** a search column (time, action, outcome, actor_id, actor_name) differs from the entry */
export const SEARCH_COLUMNS_MISMATCH = 4;

/**
 * A row as the drivers return it in array mode (better-sqlite3 `raw`, pg `rowMode: 'array'`),
 * which saves making an object per row: seq (a string from pg's int8), entry, leaf_hash, then
 * the columns copied out of the entry.
 */
export type StoredRow = [
  seq: number | string,
  entry: string,
  leafHash: string,
  recordingId: string | null,
  identifierHash: string | null,
  time: string | null,
  action: string | null,
  outcome: string | null,
  actorId: string | null,
  actorName: string | null,
];

/** the columns of a StoredRow, in its order */
export const ROW_COLUMNS = ['seq', 'entry', 'leaf_hash', 'recording_id', 'identifier_hash', 'time', 'action', 'outcome', 'actor_id', 'actor_name'] as const;

export const SELECT_ROWS = `SELECT ${ROW_COLUMNS.map((c) => `"${c}"`).join(', ')} FROM audit_entries`;

/** the rows with from ≤ seq < to, in order, as arrays */
export type RowReader = (from: number, to: number) => StoredRow[];

/**
 * Rows straight from a better-sqlite3 handle, as arrays, with the statement prepared once: what
 * the verify workers do, for the entries checked on the main thread (a small log, or the newest
 * entries of an incremental verification), where going through Kysely's row objects cost a third
 * of the time per entry.
 */
export function sqliteRowReader(db: { prepare(sql: string): { raw(on: boolean): { all(...params: unknown[]): unknown[] } } }): RowReader {
  const select = db.prepare(`${SELECT_ROWS} WHERE seq >= ? AND seq < ? ORDER BY seq`).raw(true);
  return (from, to) => select.all(from, to) as StoredRow[];
}

/**
 * One batch checked, in one ArrayBuffer so a worker can hand it over without a copy: `count`
 * seqs (float64, ascending, as stored), then `count` leaf hashes of 32 bytes, then `count` flag
 * bytes (LEAF_HASH_MISMATCH | COLUMNS_MISMATCH | SEARCH_COLUMNS_MISMATCH).
 */
export interface CheckedBatch {
  count: number;
  buffer: ArrayBuffer;
}

export function checkRows(rows: readonly StoredRow[]): CheckedBatch {
  const count = rows.length;
  const buffer = new ArrayBuffer(count * (8 + HASH_SIZE + 1));
  const seqs = new Float64Array(buffer, 0, count);
  const hashes = Buffer.from(buffer, count * 8, count * HASH_SIZE);
  const flags = new Uint8Array(buffer, count * (8 + HASH_SIZE), count);
  for (let i = 0; i < count; i++) {
    const [seq, entry, leafHash, recordingId, identifierHash, time, action, outcome, actorId, actorName] = rows[i]!;
    seqs[i] = Number(seq);
    // SHA-256(0x00 ‖ UTF-8 of the entry), which is leafHash(Buffer.from(entry)) in one call: U+0000
    // is the byte 0x00 in UTF-8. Compared as hex with the stored column, made bytes for the tree.
    const hex = hash('sha256', `\0${entry}`, 'hex');
    hashes.write(hex, i * HASH_SIZE, HASH_SIZE, 'hex');
    let f = hex === leafHash ? 0 : LEAF_HASH_MISMATCH;
    try {
      const c = entryColumns(entry);
      if (c.recording_id !== recordingId || c.identifier_hash !== identifierHash) f |= COLUMNS_MISMATCH;
      if (c.time !== time || c.action !== action || c.outcome !== outcome || c.actor_id !== actorId || c.actor_name !== actorName) f |= SEARCH_COLUMNS_MISMATCH;
    } catch {
      // Not a JSON object, so not what append wrote: it cannot give the columns stored beside it.
      // (Thrown on, the error would end the verification instead of reporting the entry.)
      f |= COLUMNS_MISMATCH;
    }
    flags[i] = f;
  }
  return { count, buffer };
}

/** views of a CheckedBatch's buffer */
export function batchViews({ count, buffer }: CheckedBatch): { seqs: Float64Array; hashes: Buffer; flags: Uint8Array } {
  return {
    seqs: new Float64Array(buffer, 0, count),
    hashes: Buffer.from(buffer, count * 8, count * HASH_SIZE),
    flags: new Uint8Array(buffer, count * (8 + HASH_SIZE), count),
  };
}

/** what a verify worker is started with */
export type WorkerSource = { dialect: 'sqlite'; file: string } | { dialect: 'postgres'; url: string };

/** main thread → worker: check the rows with from ≤ seq < to; or finish */
export type ToVerifyWorker = { batch: number; from: number; to: number } | { close: true };

/** worker → main thread */
export interface FromVerifyWorker {
  batch: number;
  checked: CheckedBatch;
}
