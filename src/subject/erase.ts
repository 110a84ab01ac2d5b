/**
 * A data subject's erasure (GDPR art. 17) by crypto-shredding: a recording is erased when its data
 * key is destroyed. The audio, its redacted rendition, the transcript and the sealed identifiers
 * are all encrypted under keys derived from that one data key (docs/format.md, docs/metadata.md),
 * so clearing the wrapped key makes every copy of them unreadable, in backups of the object store
 * too. The same transaction removes the blind indexes that tied the person's identifiers to the
 * recording, its renditions and its access grants; the objects are then deleted from the blob
 * store. The row stays as a tombstone (id, controller, times) so that the audit entries naming it
 * still resolve. docs/subject-rights.md.
 */
import { randomUUID } from 'node:crypto';
import type { RecordingRow } from '../db/recordings-repository.js';
import { CallvaultError, ErrorCodes } from '../errors.js';
import type { SubjectHit } from '../recordings/indexer.js';
import type { Vault } from '../vault.js';
import { scrubbedText } from '../redaction/transcript.js';
import type { SubjectKind } from './common.js';
import type { SubjectAuditEvent } from './export.js';

export interface ErasureRequest {
  kind: SubjectKind;
  /** the canonical identifier */
  value: string;
  /** the person's recordings the caller may erase, found through the blind indexes */
  hits: readonly SubjectHit[];
  /** the recordings to erase: each one of `hits`, or a recording erased before that `mayErase` allows (a repeated request) */
  ids: readonly string[];
  /** why; identifiers in it are replaced by labels before it reaches the log */
  reason?: string;
  /** the controllers the request covered, for its entries (`controllersCovered`) */
  covered: readonly string[];
  /** whether the caller reached an already-erased recording (its tombstone keeps controller, region and agent) */
  mayErase: (tombstone: Pick<RecordingRow, 'controller_id' | 'region' | 'agent'>) => boolean;
  /** appends one event to the audit log as the caller (fails closed: it throws when it cannot) */
  append: (event: SubjectAuditEvent) => Promise<void>;
}

export interface ErasureResult {
  erasureId: string;
  /** erased by this request */
  erased: string[];
  /** erased before: nothing to do (erasure is idempotent) */
  alreadyErased: string[];
  /** objects of erased recordings (this request's or earlier ones') the blob store could not delete yet; `verify` reports them */
  objectsLeft: number;
}

/**
 * Erases the named recordings of one person, or none: an id that is neither the person's recording
 * in the caller's reach nor an erased one the caller reaches refuses the whole request
 * (CV_CONFLICT), audited as denied.
 *
 * Order, and why: the audit entries (`subject.erase` and one `recording.erase` per recording) are
 * appended first, then the erasing transaction commits, then the objects are deleted. The log is
 * written by its own transaction (src/audit/audit-log.ts serialises appenders on its head row), so
 * the two cannot commit as one; appending first means a crash between them leaves an entry for an
 * erasure that did not happen, which the person's recordings still being there shows and a repeat
 * completes, and never an erasure the log does not know of. A transaction that fails after the
 * entries were written is followed by a `subject.erase` failure entry, best effort.
 */
export async function eraseSubjectRecordings(vault: Vault, request: ErasureRequest): Promise<ErasureResult> {
  const erasureId = randomUUID();
  const hash = vault.audit.identifierHash(request.kind, request.value);
  const hashField = `${request.kind}Hash`;
  const controllers = [...request.covered];
  const reason = scrubbedText(request.reason);
  const byId = new Map(request.hits.map((h) => [h.row.id, h.row]));
  const ids = [...new Set(request.ids.map((id) => id.toLowerCase()))];

  const toErase: RecordingRow[] = [];
  const alreadyErased: string[] = [];
  let refused = 0;
  for (const id of ids) {
    const row = byId.get(id);
    if (row) {
      toErase.push(row);
      continue;
    }
    const tombstone = await vault.recordings.tombstone(id);
    if (tombstone && request.mayErase(tombstone)) alreadyErased.push(id);
    else refused += 1;
  }
  if (refused > 0) {
    await request.append({
      action: 'subject.erase',
      outcome: 'denied',
      detail: { [hashField]: hash, controllers, erasureId, reason: 'not-the-subjects', requested: ids.length, refused },
    });
    throw new CallvaultError(ErrorCodes.CONFLICT, `${refused} of the ${ids.length} recordings named are not this person's recordings in your reach: nothing was erased`);
  }

  await request.append({
    action: 'subject.erase',
    outcome: 'success',
    purpose: 'subject-request',
    purposeText: reason,
    detail: { [hashField]: hash, controllers, erasureId, recordings: toErase.length, alreadyErased: alreadyErased.length },
  });
  for (const row of toErase) {
    await request.append({ action: 'recording.erase', outcome: 'success', recordingId: row.id, controllerId: row.controller_id, detail: { erasureId, subjectRequest: true } });
  }

  let erased: { id: string }[];
  try {
    erased = await vault.recordings.erase(
      toErase.map((r) => r.id),
      new Date().toISOString(),
    );
  } catch (err) {
    await request.append({ action: 'subject.erase', outcome: 'failure', detail: { [hashField]: hash, controllers, erasureId } }).catch(() => undefined);
    throw err;
  }
  // the old wrapped keys and sealed fields must not survive in the database's files either
  await vault.database.forgetOverwritten();
  const done = new Set(erased.map((e) => e.id));
  // one erased by a concurrent request between the lookup and the transaction
  for (const row of toErase) if (!done.has(row.id)) alreadyErased.push(row.id);
  return { erasureId, erased: [...done], alreadyErased, objectsLeft: await deleteErasureDebris(vault) };
}

/**
 * Deletes the objects of erased recordings that are still stored: this erasure's, and any an
 * earlier one could not delete. A failure leaves the key in the tombstone for the next round;
 * the erasure itself stands, the objects being unreadable without the destroyed key. Returns how
 * many objects are left.
 */
export async function deleteErasureDebris(vault: Vault): Promise<number> {
  let left = 0;
  // every page, not the first only: a month's shredding leaves tens of thousands
  for (let after = ''; ; ) {
    const page = await vault.recordings.erasureDebris(1000, after);
    if (page.length === 0) return left;
    after = page.at(-1)!.id;
    const cleared: string[] = [];
    for (const { id, blobKeys } of page) {
      const remaining: string[] = [];
      for (const key of blobKeys) {
        try {
          await vault.blobs.delete(key);
        } catch {
          remaining.push(key);
        }
      }
      left += remaining.length;
      if (remaining.length) await vault.recordings.setErasureDebris(id, remaining);
      else cleared.push(id);
    }
    await vault.recordings.clearErasureDebris(cleared);
  }
}
