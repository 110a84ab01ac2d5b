/**
 * Full verification of the stored audit log: every entry is re-hashed and the tree rebuilt from
 * the entries alone, then compared with every stored checkpoint and every checkpoint a witness
 * kept. Nothing stored beside the entries (leaf hashes, subtree hashes, the lookup columns) is
 * trusted; each is checked against what the entries give.
 *
 * What it can and cannot see (docs/audit-log.md): any change to entries a checkpoint covers is
 * found. Entries after the latest checkpoint are signed by nothing yet, so a rewrite of those
 * alone is indistinguishable from normal appends; the report says how many there are.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { openCheckpoint } from './checkpoint.js';
import { indexedColumns } from './audit-log.js';
import { EMPTY_ROOT, leafHash, TreeBuilder, verifyConsistency } from './merkle.js';
import { NoteError, type NoteVerifier } from './signed-note.js';
import { SUBTREE_SIZE, type AuditTree } from './tree.js';

export type ProblemCode =
  | 'entry-missing'
  | 'entry-extra'
  | 'leaf-hash'
  | 'index-column'
  | 'subtree-cache'
  | 'checkpoint-signature'
  | 'checkpoint-root'
  | 'checkpoint-beyond-log'
  | 'witness-signature'
  | 'witness-root'
  | 'witness-beyond-log'
  | 'witness-consistency';

export interface VerifyProblem {
  code: ProblemCode;
  message: string;
  index?: number;
  size?: number;
}

export interface VerifyReport {
  ok: boolean;
  size: number;
  /** base64, recomputed from the entries */
  rootHash: string;
  checkpoints: number;
  latestCheckpoint: number | null;
  /** entries no checkpoint covers yet */
  unsigned: number;
  witnessed: number;
  problems: VerifyProblem[];
}

const BATCH = 20_000;
const MAX_PROBLEMS = 1000;

export async function verifyAuditLog(
  db: Kysely<Database>,
  tree: AuditTree,
  log: { verifier: NoteVerifier; origin: string },
  witnessNotes: readonly string[] = [],
): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  const problem = (p: VerifyProblem) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  const size = Number((await db.selectFrom('audit_head').select('size').where('id', '=', 1).executeTakeFirstOrThrow()).size);

  const open = (note: string) => {
    try {
      return openCheckpoint(note, log.verifier, log.origin);
    } catch (err) {
      if (err instanceof NoteError) return err;
      throw err;
    }
  };
  const stored = (await db.selectFrom('audit_checkpoints').selectAll().orderBy('size').execute()).map((row) => ({ row, cp: open(row.note) }));
  const witnessed = witnessNotes.map((note) => open(note));

  // the tree sizes whose roots the checkpoints claim
  const wanted = new Set<number>([size]);
  for (const { row, cp } of stored) {
    if (cp instanceof NoteError) problem({ code: 'checkpoint-signature', size: Number(row.size), message: `the checkpoint stored for size ${row.size} does not verify: ${cp.message}` });
    else if (cp.size !== Number(row.size)) problem({ code: 'checkpoint-signature', size: Number(row.size), message: `the checkpoint stored for size ${row.size} is signed for size ${cp.size}` });
    else if (cp.size > size) problem({ code: 'checkpoint-beyond-log', size: cp.size, message: `a checkpoint signed ${cp.size} entries but the log holds ${size}: entries were removed` });
    else wanted.add(cp.size);
  }
  witnessed.forEach((cp, i) => {
    if (cp instanceof NoteError) problem({ code: 'witness-signature', message: `witnessed checkpoint ${i + 1} does not verify: ${cp.message}` });
    else if (cp.size > size) problem({ code: 'witness-beyond-log', size: cp.size, message: `a witness saw ${cp.size} entries but the log holds ${size}: entries were removed` });
    else wanted.add(cp.size);
  });

  const storedSubtrees = new Map<number, string>();
  for (const row of await db.selectFrom('audit_subtrees').selectAll().execute()) storedSubtrees.set(Number(row.start), row.hash);
  const roots = new Map<number, Buffer>([[0, EMPTY_ROOT]]);
  const builder = new TreeBuilder({
    subtreeSize: SUBTREE_SIZE,
    onSubtree: (start, hash) => {
      const cached = storedSubtrees.get(start);
      if (cached !== undefined && cached !== hash.toString('hex')) problem({ code: 'subtree-cache', index: start, message: `the stored hash of entries ${start}..${start + SUBTREE_SIZE} is wrong` });
    },
  });

  let expected = 0;
  for (;;) {
    const rows = await db.selectFrom('audit_entries').select(['seq', 'entry', 'leaf_hash', 'recording_id', 'identifier_hash']).where('seq', '>=', expected).orderBy('seq').limit(BATCH).execute();
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq >= size) {
        problem({ code: 'entry-extra', index: seq, message: `entry ${seq} lies beyond the log's size ${size}` });
        continue;
      }
      if (seq !== expected) {
        problem({ code: 'entry-missing', index: expected, message: `entries ${expected}..${seq} are missing` });
        expected = seq;
      }
      const computed = leafHash(Buffer.from(row.entry, 'utf8'));
      if (computed.toString('hex') !== row.leaf_hash) problem({ code: 'leaf-hash', index: seq, message: `entry ${seq} does not match its stored hash` });
      const columns = indexedColumns(row.entry);
      if (columns.recording_id !== row.recording_id || columns.identifier_hash !== row.identifier_hash) {
        problem({ code: 'index-column', index: seq, message: `entry ${seq}'s lookup columns differ from the entry` });
      }
      builder.push(computed);
      expected += 1;
      if (wanted.has(builder.size)) roots.set(builder.size, builder.root());
    }
    if (rows.length < BATCH) break;
  }
  if (expected < size) problem({ code: 'entry-missing', index: expected, message: `entries ${expected}..${size} are missing` });

  for (const { cp } of stored) {
    if (cp instanceof NoteError || !roots.has(cp.size)) continue;
    if (!roots.get(cp.size)!.equals(cp.rootHash)) {
      problem({ code: 'checkpoint-root', size: cp.size, message: `the entries no longer give the root signed at size ${cp.size}: entries before it were changed` });
    }
  }
  const root = roots.get(size) ?? builder.root();
  for (const cp of witnessed) {
    if (cp instanceof NoteError || !roots.has(cp.size)) continue;
    if (!roots.get(cp.size)!.equals(cp.rootHash)) {
      problem({ code: 'witness-root', size: cp.size, message: `the entries no longer give the root a witness saw at size ${cp.size}` });
      continue;
    }
    // the proof an outside party would be handed, from the stored hashes, must also hold
    let proof: Buffer[] = [];
    try {
      proof = await tree.consistencyProof(cp.size, size);
    } catch {
      proof = [];
    }
    if (!verifyConsistency(cp.size, size, cp.rootHash, root, proof)) {
      problem({ code: 'witness-consistency', size: cp.size, message: `no valid consistency proof from the witnessed size ${cp.size} to ${size}` });
    }
  }

  const verified = stored.filter(({ cp }) => !(cp instanceof NoteError));
  const latest = verified.length ? (verified[verified.length - 1]!.cp as { size: number }).size : null;
  return {
    ok: problems.length === 0,
    size,
    rootHash: root.toString('base64'),
    checkpoints: stored.length,
    latestCheckpoint: latest,
    unsigned: size - (latest ?? 0),
    witnessed: witnessed.length,
    problems,
  };
}
