/**
 * Which signed checkpoint a verification of the audit log reached (`audit_verifications`): a
 * full verify records the latest checkpoint once every entry up to it gave its signed root; an
 * incremental one (`--since-checkpoint`) records the latest checkpoint it reached from there.
 *
 * A row is a pointer, not evidence. Anyone who can write the database can change it, so the
 * incremental check never starts from the row's own hash: it opens the signed checkpoint of that
 * size and starts from its root (verify.ts). What a changed row can do is make the next
 * incremental check start from another signed checkpoint, later than the last one verified, so
 * that entries between the two are not re-hashed; every one of them is still under a signed root
 * the log must extend. The full verify re-hashes everything and is the answer to that.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export interface Verification {
  /** the size of the signed checkpoint reached */
  size: number;
  mode: 'full' | 'incremental';
  /** its root hash, base64 */
  rootHash: string;
  verifiedAt: string;
}

type Row = Database['audit_verifications'];

function fromRow(row: { size: number | string; mode: Row['mode']; root_hash: string; verified_at: string }): Verification {
  return { size: Number(row.size), mode: row.mode, rootHash: row.root_hash, verifiedAt: row.verified_at };
}

/** the verification that reached the largest checkpoint (the latest of them, if several did) */
export async function latestVerification(db: Kysely<Database>): Promise<Verification | undefined> {
  const row = await db.selectFrom('audit_verifications').selectAll().orderBy('size', 'desc').orderBy('verified_at', 'desc').limit(1).executeTakeFirst();
  return row && fromRow(row);
}

/** the latest full verification */
export async function latestFullVerification(db: Kysely<Database>): Promise<Verification | undefined> {
  const row = await db.selectFrom('audit_verifications').selectAll().where('mode', '=', 'full').orderBy('verified_at', 'desc').limit(1).executeTakeFirst();
  return row && fromRow(row);
}

export async function recordVerification(db: Kysely<Database>, v: Verification): Promise<void> {
  await db
    .insertInto('audit_verifications')
    .values({ size: v.size, mode: v.mode, root_hash: v.rootHash, verified_at: v.verifiedAt })
    .onConflict((oc) => oc.columns(['size', 'mode']).doUpdateSet({ root_hash: v.rootHash, verified_at: v.verifiedAt }))
    .execute();
}
