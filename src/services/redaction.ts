/**
 * Examining recordings for identifiers and making their redacted renditions: `callvault redact`
 * (the operator, with the passphrase) and the server's backlog (a system job). Each recording
 * examined gets its own `recording.redact` entry, written before its rendition is visible.
 */
import type { RedactionState } from '../db/schema.js';
import { CallvaultError, ErrorCodes } from '../errors.js';
import { redactPending, type BacklogProgress } from '../redaction/backlog.js';
import { redactRecording, type RedactionOutcome } from '../redaction/redact-recording.js';
import { unwrapRecordingKey } from '../recordings/read.js';
import { sealTranscript } from '../recordings/sealed-metadata.js';
import { detectTranscriptFormat, parseTranscript, serializeTranscript, type TranscriptFormat } from '../transcripts/index.js';
import type { Vault } from '../vault.js';
import { auditActorOf, type Actor } from './actor.js';
import type { AuditTrail } from './audit-trail.js';

/** what attaching a transcript came to: the recording examined again with it */
export interface AttachedTranscript {
  recordingId: string;
  format: TranscriptFormat;
  /** it replaced the transcript the recording had */
  replaced: boolean;
  redaction: RedactionOutcome;
}

/** the states `--again` may send back to the backlog */
export const REDACTION_STATES: readonly RedactionState[] = ['none', 'clean', 'redacted', 'failed'];

export class RedactionService {
  constructor(
    // redaction decrypts, transcribes and stores: the functions it calls take the vault whole
    private readonly vault: Vault,
    private readonly trail: AuditTrail,
  ) {}

  /**
   * Examines the named recordings now, or (none named) the backlog, after first marking the
   * recordings in the `again` states to be examined anew.
   */
  async redact(
    actor: Actor,
    work: { ids: readonly string[]; again?: readonly RedactionState[] },
    report: { onStart?: (total: number) => void; onRecording?: () => void } = {},
  ): Promise<BacklogProgress> {
    await this.trail.authorize(actor, 'recordings:redact', 'recording.redact');
    const { vault } = this;
    const options = { ...vault.redaction(), actor: auditActorOf(actor) };
    const progress: BacklogProgress = { done: 0, byState: {}, errors: 0 };
    if (work.ids.length) {
      for (const id of work.ids) {
        const row = await vault.recordings.get(id.toLowerCase());
        if (row?.state !== 'stored') throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such recording');
        const outcome = await redactRecording(vault, row, options);
        progress.byState[outcome.state] = (progress.byState[outcome.state] ?? 0) + 1;
        progress.done += 1;
      }
      return progress;
    }
    if (work.again?.length) await vault.recordings.resetRedaction([...work.again]);
    report.onStart?.((await vault.recordings.redactionCounts()).pending ?? 0);
    return redactPending(vault, options, { onRecording: () => report.onRecording?.() });
  }

  /**
   * Attaches a transcript to a stored recording that came without one (or, with `replace`, in
   * place of the one it has), sealed under the recording's own data key as at ingest, then
   * examines the recording again with it. Needs the unlocked keyring.
   *
   * Replacing is safe only because everything made from the old transcript goes in the same
   * transaction as it (RecordingsRepository.attachTranscript): until the new one is examined the
   * recording is `pending`, and only roles that may hear the original can play it. A transcript
   * decides what is removed from the audio — one that leaves out a spoken number makes the call
   * `clean` for everyone who may play it — so the policy gives it to the operator alone (the holder
   * of the passphrase, who can export the original anyway), and it is recorded with `replaced`.
   */
  async attachTranscript(actor: Actor, id: string, given: { bytes: Uint8Array; mediaType?: string; replace?: boolean }): Promise<AttachedTranscript> {
    await this.trail.authorize(actor, 'transcripts:attach', 'transcript.add');
    // the transcript is read (and refused, naming a line or cue) before anything is decrypted or logged
    const canonical = Buffer.from(serializeTranscript(parseTranscript(given.bytes, given.mediaType)), 'utf8');
    const format = detectTranscriptFormat(given.bytes, given.mediaType)!;
    const { vault } = this;
    const row = await vault.recordings.get(id.toLowerCase());
    if (!row) throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such recording');
    const replaced = row.sealed_transcript !== null;
    if (replaced && !given.replace) throw new CallvaultError(ErrorCodes.CONFLICT, 'the recording has a transcript already');
    const dataKey = await unwrapRecordingKey(vault, row);
    let sealed: string;
    try {
      sealed = sealTranscript(canonical, dataKey, row.id);
    } finally {
      dataKey.fill(0);
      canonical.fill(0);
    }
    const event = { action: 'transcript.add', recordingId: row.id, controllerId: row.controller_id } as const;
    await this.trail.record(actor, { ...event, outcome: 'success', detail: { format, replaced } });
    const attached = await vault.recordings.attachTranscript(row.id, sealed, Boolean(given.replace));
    if (!attached.attached) {
      // erased, or given a transcript by someone else, since it was read above
      await this.trail.record(actor, { ...event, outcome: 'failure', detail: { format, reason: 'changed' } }).catch(() => undefined);
      throw new CallvaultError(ErrorCodes.CONFLICT, 'the recording changed meanwhile (erased, or given a transcript): nothing was attached');
    }
    for (const key of attached.blobKeys) await vault.blobs.delete(key).catch(() => undefined);
    const pending = await vault.recordings.get(row.id);
    if (!pending) throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such recording');
    const redaction = await redactRecording(vault, pending, { ...vault.redaction(), actor: auditActorOf(actor) });
    return { recordingId: row.id, format, replaced, redaction };
  }
}
