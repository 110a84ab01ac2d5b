/**
 * Signed checkpoints of the audit log: made on a timer by the server and on demand by the CLI,
 * stored in `audit_checkpoints`, and handed to the configured witnesses.
 *
 * Before signing a new size, the latest stored checkpoint is opened and the new tree is proved
 * consistent with it. So a database rewritten under an older checkpoint makes signing fail with
 * CV_AUDIT_INCONSISTENT instead of getting the rewrite signed.
 */
import type { Kysely } from 'kysely';
import { CallvaultError, ErrorCodes } from '../errors.js';
import type { Database } from '../db/schema.js';
import { openCheckpoint, signCheckpoint, type Checkpoint } from './checkpoint.js';
import { verifyConsistency } from './merkle.js';
import { NoteError, type NoteSigner, type NoteVerifier } from './signed-note.js';
import type { AuditTree } from './tree.js';
import type { Witness } from './witness.js';

export interface StoredCheckpoint {
  size: number;
  note: string;
  createdAt: string;
}

export interface WitnessOutcome {
  witness: string;
  ok: boolean;
  error?: string;
}

export class AuditCheckpoints {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly tree: AuditTree,
    private readonly signer: NoteSigner,
    private readonly witnesses: readonly Witness[] = [],
  ) {}

  get origin(): string {
    return this.signer.name;
  }

  get verifier(): NoteVerifier {
    return this.signer.verifier;
  }

  async latest(): Promise<StoredCheckpoint | undefined> {
    const row = await this.db.selectFrom('audit_checkpoints').selectAll().orderBy('size', 'desc').limit(1).executeTakeFirst();
    return row && { size: Number(row.size), note: row.note, createdAt: row.created_at };
  }

  async list(): Promise<StoredCheckpoint[]> {
    const rows = await this.db.selectFrom('audit_checkpoints').selectAll().orderBy('size').execute();
    return rows.map((row) => ({ size: Number(row.size), note: row.note, createdAt: row.created_at }));
  }

  /** opens a note signed by this log's key; throws CV_AUDIT_INCONSISTENT when it does not verify */
  open(note: string): Checkpoint {
    try {
      return openCheckpoint(note, this.signer.verifier, this.origin);
    } catch (err) {
      if (err instanceof NoteError) throw new CallvaultError(ErrorCodes.AUDIT_INCONSISTENT, `a stored checkpoint does not verify: ${err.message}`);
      throw err;
    }
  }

  /**
   * Signs a checkpoint of the log as it is now, unless the latest one already covers it, and
   * hands it to the witnesses. Returns the latest checkpoint and what each witness answered.
   */
  async make(now = new Date()): Promise<{ checkpoint: StoredCheckpoint; created: boolean; witnesses: WitnessOutcome[] }> {
    const head = await this.db.selectFrom('audit_head').select('size').where('id', '=', 1).executeTakeFirstOrThrow();
    const size = Number(head.size);
    const latest = await this.latest();
    if (latest && latest.size >= size) {
      if (latest.size > size) throw new CallvaultError(ErrorCodes.AUDIT_INCONSISTENT, `the log holds ${size} entries but a checkpoint signed ${latest.size}`);
      return { checkpoint: latest, created: false, witnesses: [] };
    }
    const rootHash = await this.tree.root(size);
    if (latest) {
      const previous = this.open(latest.note);
      const proof = await this.tree.consistencyProof(previous.size, size);
      if (!verifyConsistency(previous.size, size, previous.rootHash, rootHash, proof)) {
        throw new CallvaultError(ErrorCodes.AUDIT_INCONSISTENT, `the log no longer extends the checkpoint at size ${previous.size}: run \`callvault audit verify\``);
      }
    }
    const note = signCheckpoint({ origin: this.origin, size, rootHash }, this.signer);
    // Ed25519 is deterministic: a second process signing the same size writes the same note
    await this.db
      .insertInto('audit_checkpoints')
      .values({ size, note, created_at: now.toISOString() })
      .onConflict((oc) => oc.column('size').doNothing())
      .execute();
    const checkpoint = (await this.latest())!;
    return { checkpoint, created: true, witnesses: await this.witness(checkpoint) };
  }

  /** hands a checkpoint to every witness; a witness that fails does not stop the others */
  async witness(checkpoint: StoredCheckpoint): Promise<WitnessOutcome[]> {
    return Promise.all(
      this.witnesses.map(async (w) => {
        try {
          await w.send({ note: checkpoint.note, size: checkpoint.size }, (oldSize) => this.tree.consistencyProof(oldSize, checkpoint.size));
          return { witness: w.description, ok: true };
        } catch (err) {
          return { witness: w.description, ok: false, error: (err as Error).message };
        }
      }),
    );
  }
}
