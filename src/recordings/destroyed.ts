/**
 * What is kept of a destroyed recording for the person it was about. The patient's access log
 * (PDL 8 kap.: who accessed the person's record, kept as long as the log) must still list a call
 * after it was erased or shredded, with who played it before. What leads from the person to the
 * call is the blind index: HMACs of the identifiers under the controller's blind-index key, which
 * say nothing without the keyring. A destroyer moves the digests of the personnummer and phone
 * number (from the metadata and from the transcript) to `destroyed_identifiers`, where only the
 * access log reads them; `recording_identifiers`, which every find, search, list and count reads,
 * keeps nothing of a destroyed recording. The source file name's digest is dropped: it leads to
 * no person. docs/subject-rights.md, "What is kept after erasure".
 */
import type { Kysely } from 'kysely';
import { sql } from '../db/kysely.js';
import type { IdentifierKind } from '../identifiers/blind-index.js';
import type { Database, Destruction } from '../db/schema.js';

export type { Destruction };

/** the kinds that tie a recording to a person, as the access log looks them up */
export const PERSON_KINDS: readonly IdentifierKind[] = ['personnummer', 'phone', 'transcript_personnummer', 'transcript_phone'];

/** SQLite binds at most 32766 parameters per statement */
const CHUNK = 500;

/**
 * Every destroyer (erasure, retention's shredding) calls this inside its destroying transaction,
 * before or after it changes the rows but before it commits, for the recordings it destroys: the
 * person links of `recordingIds` move from `recording_identifiers` to `destroyed_identifiers`,
 * marked with how and when, and every blind-index row of them is deleted. One statement of each
 * per 500 recordings, so a month's shredding costs a few dozen. A recording whose links were kept
 * before (a repeat) keeps them as they were.
 */
export async function keepSubjectLinks(tx: Kysely<Database>, recordingIds: readonly string[], destruction: Destruction, at: string): Promise<void> {
  for (let i = 0; i < recordingIds.length; i += CHUNK) {
    const ids = recordingIds.slice(i, i + CHUNK);
    await tx
      .insertInto('destroyed_identifiers')
      .columns(['kind', 'digest', 'recording_id', 'controller_id', 'started_at', 'destruction', 'destroyed_at'])
      .expression((eb) =>
        eb
          .selectFrom('recording_identifiers')
          .innerJoin('recordings', 'recordings.id', 'recording_identifiers.recording_id')
          .select([
            'recording_identifiers.kind',
            'recording_identifiers.digest',
            'recording_identifiers.recording_id',
            'recordings.controller_id',
            'recordings.started_at',
            // typed, or PostgreSQL cannot tell a bare parameter's type in a select list
            sql<Destruction>`cast(${destruction} as text)`.as('destruction'),
            sql<string>`cast(${at} as text)`.as('destroyed_at'),
          ])
          .where('recording_identifiers.recording_id', 'in', ids)
          .where('recording_identifiers.kind', 'in', [...PERSON_KINDS]),
      )
      .onConflict((oc) => oc.doNothing())
      .execute();
    await tx.deleteFrom('recording_identifiers').where('recording_id', 'in', ids).execute();
  }
}
