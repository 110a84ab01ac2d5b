/**
 * Getting recordings in: an upload over HTTP (a recorder's ingest token), and `callvault import`
 * (the operator), file by file through the same method. In order: the policy (`recording:ingest`,
 * scoped to the controller the recording is for and to a token's regions and agents), then the store, whose `recording.ingest` entry
 * is written once the object is durable and before the recording becomes visible
 * (src/recordings/store.ts), then indexing and examining it for identifiers.
 */
import { CallvaultError, ErrorCodes, isCallvaultError } from '../errors.js';
import type { RedactionState } from '../db/schema.js';
import { importPaths, type ImportOptions, type ImportReport, type IncomingRecording } from '../import/importer.js';
import type { Sidecar } from '../import/sidecar.js';
import type { FoundIdentifiers } from '../identifiers/in-files.js';
import type { SealedFields } from '../recordings/sealed-metadata.js';
import { decide } from '../policy/policy.js';
import { storeRecording, type StoreResult } from '../recordings/store.js';
import { DEFAULT_CLASS, recordingExpiresAt } from '../retention/periods.js';
import type { Vault } from '../vault.js';
import { auditActorOf, type Actor } from './actor.js';
import type { AuditTrail } from './audit-trail.js';

export type { IncomingRecording } from '../import/importer.js';

// Indexing, redaction and legal holds are loaded when a recording or the open keyring needs them:
// an import without the passphrase that stores nothing never loads them, and they are 15 of the
// 88 modules it would otherwise load (docs/benchmarks.md, `startup`).
const indexer = () => import('../recordings/indexer.js');
const redaction = () => import('../redaction/redact-recording.js');

export interface IngestResult {
  status: StoreResult['status'];
  id: string;
  sha256: string;
  /** where examining the call for identifiers stands (pending: the keyring is locked, or later) */
  redaction: string;
  /** the code of a failure to examine it now (the background worker does it later), for the server's log */
  redactionError?: string;
}

export interface IngestOptions {
  /** `now` (an upload: the recorder learns whether it could be redacted) or `later` (an import does its recordings together) */
  examine?: 'now' | 'later';
  /**
   * Stores the recording without its `recording.ingest` entry: only for planting canaries
   * (src/alerts/canaries.ts), whose one `canary.add` entry, written before, counts them so that the
   * log does not name them. The operator on the host only; refusals and failures are still logged.
   */
  canary?: true;
}

export interface ImportRunOptions extends Omit<ImportOptions, 'store'> {
  /** index and examine what was stored once the run ends, when the keyring is unlocked (default true) */
  examine?: boolean;
}

export interface ImportRun {
  report: ImportReport;
  /** follow-up work that failed after the recordings were stored: told, and the exit status says it */
  incomplete: ('indexing' | 'redaction')[];
  /** why the run's summary could not be logged, when it could not */
  summaryNotLogged?: string;
}

export class IngestService {
  /**
   * The whole vault, because the store path it drives (storeRecording, indexNow, redactRecording,
   * the importer) takes it whole: this process's writer lease lives as long as the vault.
   */
  constructor(
    private readonly vault: Vault,
    private readonly trail: AuditTrail,
  ) {}

  /**
   * Stores one recording. `upload` may be a function that reads it (an HTTP body): it is called
   * only once the actor may ingest at all, and what it throws is audited as a failed ingest.
   */
  async ingest(actor: Actor, upload: IncomingRecording | (() => Promise<IncomingRecording>), options: IngestOptions = {}): Promise<IngestResult> {
    const principal = await this.trail.authorize(actor, 'recording:ingest', 'recording.ingest');
    const own = principal.kind === 'token' ? principal.controllerId : undefined;
    let incoming: IncomingRecording;
    try {
      incoming = typeof upload === 'function' ? await upload() : upload;
    } catch (err) {
      await this.failed(actor, own, err);
      throw err;
    }
    if (options.canary && actor.kind !== 'operator') throw new CallvaultError(ErrorCodes.FORBIDDEN, 'canaries are planted on the host only');
    const { sidecar } = incoming;
    const controllerId = sidecar.controller ?? own ?? this.vault.config.defaultController;
    const decision = decide(principal, 'recording:ingest', { controllerId, region: sidecar.region ?? null, agent: sidecar.agent ?? null }, new Date());
    if (!decision.allowed) {
      // the controller, region and agent named are the client's text: not in the entry
      await this.trail.record(actor, { action: 'recording.ingest', outcome: 'denied', controllerId: own, detail: { reason: decision.reason } });
      if (decision.reason === 'token-limits') {
        throw new CallvaultError(ErrorCodes.TOKEN_LIMITS, 'this token stores calls of the regions and agents it is limited to only: the metadata must name them');
      }
      throw new CallvaultError(ErrorCodes.FORBIDDEN, own ? 'this token uploads for one controller only' : 'you may not store recordings for this controller');
    }
    if (!own && !(await this.vault.controllers.get(controllerId))) {
      throw new CallvaultError(ErrorCodes.CONTROLLER_UNKNOWN, 'metadata: controller is not known to this vault');
    }
    await this.refusePastRetention(actor, controllerId, sidecar, incoming.found);
    let fields: SealedFields = {
      caller: sidecar.caller,
      personnummer: sidecar.personnummer,
      sourceName: incoming.sourceName,
      sourcePath: incoming.sourcePath,
      ...(incoming.found ? { found: incoming.found } : {}),
    };
    const { atEnd, journal } = incoming;
    const sealed = atEnd ? () => (fields = { ...fields, ...atEnd() }) : fields;
    try {
      const stored = await storeRecording(
        this.vault,
        incoming.source,
        incoming.audio,
        { controllerId, agent: sidecar.agent, region: sidecar.region, direction: sidecar.direction, startedAt: sidecar.startedAt, retentionClass: sidecar.class },
        sealed,
        {
          onChunk: incoming.onChunk,
          expectedSha256: incoming.expectedSha256,
          transcript: incoming.transcript,
          ...(journal ? { journal: { fields: { ...fields, ...atEnd?.() }, begin: (e) => journal.begin(e), append: (b) => journal.append(b), close: () => journal.close() } } : {}),
          // a new recording's entry is written before it becomes visible; a duplicate changes nothing
          beforeVisible: options.canary
            ? undefined
            : (id) => this.trail.record(actor, { action: 'recording.ingest', outcome: 'success', recordingId: id, controllerId, detail: { status: 'stored' } }),
        },
      );
      if (stored.status === 'duplicate' && options.canary) throw new CallvaultError(ErrorCodes.CONFLICT, 'the canary is a copy of a stored recording');
      if (stored.status === 'duplicate') {
        await this.trail.record(actor, { action: 'recording.ingest', outcome: 'success', recordingId: stored.id, controllerId, detail: { status: 'duplicate' } });
        return { ...stored, redaction: (await this.vault.recordings.get(stored.id))?.redaction ?? 'pending' };
      }
      if (options.examine === 'later') return { ...stored, redaction: 'pending' };
      await (await indexer()).indexNow(this.vault, stored.id, controllerId, fields);
      // an unlocked server examines the call at once, so the recorder learns whether it could be redacted
      const row = await this.vault.recordings.get(stored.id);
      if (!row || !this.vault.keys.unlocked) return { ...stored, redaction: 'pending' };
      try {
        const outcome = await (await redaction()).redactRecording(this.vault, row, this.vault.redaction());
        return { ...stored, redaction: outcome.state };
      } catch (err) {
        return { ...stored, redaction: 'pending', redactionError: isCallvaultError(err) ? err.code : 'error' };
      }
    } catch (err) {
      await this.failed(actor, controllerId, err);
      throw err;
    }
  }

  /**
   * `callvault import`: files and directories, each recording through `ingest`; the run's start
   * and end are `recording.import` entries (the start first: a log that cannot be written stops
   * the import before it begins). Stored recordings are then indexed and examined when the keyring
   * is unlocked.
   */
  async importPaths(actor: Actor, paths: string[], options: ImportRunOptions = {}): Promise<ImportRun> {
    await this.trail.authorize(actor, 'recording:ingest', 'recording.import');
    const { vault } = this;
    if (options.shredSource && !vault.keys.unlocked) {
      throw new CallvaultError(ErrorCodes.PASSPHRASE_REQUIRED, '--shred-source reads every stored copy back, so it needs the passphrase');
    }
    await this.trail.record(actor, { action: 'recording.import', outcome: 'success', detail: { stage: 'start', sources: paths.length } });
    // the files' commits are written while the next files are encrypted, and grouped
    vault.database.startWriter();
    const report = await importPaths(vault, paths, { ...options, store: (incoming) => this.ingest(actor, incoming, { examine: 'later' }) });
    const incomplete: ImportRun['incomplete'] = [];
    // The recordings are stored by now. Indexing can fail on its own (a full disk) and is done
    // again by the next command that unlocks the keyring, so it does not hide the report.
    if (vault.keys.unlocked && options.examine !== false) {
      await indexer()
        .then(({ indexPending }) => indexPending(vault))
        .catch(() => incomplete.push('indexing'));
      // and examined for identifiers: otherwise `serve` or `callvault redact` does it later
      const examined = await import('../redaction/backlog.js')
        .then(({ redactPending }) => redactPending(vault, { ...vault.redaction(), actor: auditActorOf(actor) }))
        .catch(() => {
          incomplete.push('redaction');
          return undefined;
        });
      if (examined) report.redaction = examined.byState as Partial<Record<RedactionState, number>>;
    }
    const duplicates = report.skipped.filter((r) => r.reason.startsWith('already stored')).length;
    const run: ImportRun = { report, incomplete };
    // a summary that cannot be logged (a full disk, say) must not hide the report of what was stored
    try {
      await this.trail.record(actor, {
        action: 'recording.import',
        outcome: report.failed.length > 0 ? 'failure' : 'success',
        detail: { stage: 'end', stored: report.imported.length, duplicates, skipped: report.skipped.length - duplicates, failed: report.failed.length },
      });
    } catch (err) {
      run.summaryNotLogged = (err as Error).message;
    }
    return run;
  }

  /** a failed ingest, best effort: the failure itself is what the caller must learn */
  /**
   * A call already past its class's retention is not stored (it would be shredded at the next
   * run, and should not have been kept this long), unless a legal hold covers it: by agent and
   * time, or, when the keyring is open, by the person's identifiers.
   */
  private async refusePastRetention(actor: Actor, controllerId: string, sidecar: Sidecar, found: FoundIdentifiers | undefined): Promise<void> {
    const cls = sidecar.class ?? DEFAULT_CLASS;
    const policy = (await this.vault.retention.policies(controllerId)).find((p) => p.class === cls);
    const time = sidecar.startedAt ?? new Date().toISOString();
    if (!policy || recordingExpiresAt(time, policy.days) > new Date()) return;
    const { heldOnArrival } = await import('../retention/holds.js');
    if (await heldOnArrival(this.vault, controllerId, { agent: sidecar.agent, time, caller: sidecar.caller, personnummer: sidecar.personnummer, found })) return;
    await this.trail.record(actor, { action: 'recording.ingest', outcome: 'denied', controllerId, detail: { reason: 'past-retention' } });
    throw new CallvaultError(ErrorCodes.PAST_RETENTION, `the call is past its retention (${policy.days} days for class ${cls}) and no legal hold covers it: not stored`);
  }

  private async failed(actor: Actor, controllerId: string | undefined, err: unknown): Promise<void> {
    await this.trail
      .record(actor, { action: 'recording.ingest', outcome: 'failure', controllerId, detail: { reason: isCallvaultError(err) ? err.code : 'error' } })
      .catch(() => undefined);
  }
}
