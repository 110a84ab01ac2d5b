/**
 * Live recording sessions from session border controllers (SIPREC, `callvault siprec`). A call's
 * audio goes from the network into the ingest path as it arrives (IngestService.ingest, the path of
 * uploads and imports): the same policy (`recording:ingest`), the same `recording.ingest` entry
 * before the recording becomes visible, the same sealed metadata, blind indexes and redaction.
 *
 * Each SBC acts as a system actor of its own, `siprec:NAME`, NAME being the SBC's name in the
 * configuration: the log tells the SBCs apart without naming anything a caller said. Every session
 * is a `siprec.session` entry at its start and at its end; the start is written before the INVITE
 * is answered, so a log that refuses entries refuses calls (the SBC fails over or blocks the call).
 */
import { CallvaultError, ErrorCodes, isCallvaultError } from '../errors.js';
import { StreamProbe } from '../audio/probe.js';
import type { LiveCallFields } from '../recordings/sealed-metadata.js';
import { CallRecorder, type RecordingRate } from '../siprec/recorder.js';
import type { CallMapping } from '../siprec/types.js';
import { systemActor, type Actor } from './actor.js';
import type { AuditTrail } from './audit-trail.js';
import type { IngestResult, IngestService } from './ingest.js';
import { BlobJournal, leftJournals, openJournal } from '../siprec/journal.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { KeyProvider } from '../keys/key-provider.js';

/** how long an INVITE waits for the vault to be ready to store (keys, storage, audit) */
const READY_TIMEOUT_MS = 5000;

export interface LiveCallRequest {
  /** the SBC's name in the configuration */
  sbc: string;
  mapping: CallMapping;
  /** the a=label of each audio m-line, in order: one WAV channel each */
  labels: string[];
  /** the WAV's sample rate: 16 kHz when a stream's chosen codec is G.722 (src/siprec/server.ts) */
  sampleRate: RecordingRate;
  caller?: string;
  callee?: string;
  startedAt?: string;
  direction?: 'inbound' | 'outbound';
  participants: LiveCallFields['participants'];
}

export interface LiveCallOutcome {
  recordingId: string;
  durationMs: number;
  lost: number;
}

export class LiveCall {
  #participants: LiveCallFields['participants'];
  #callee: string | undefined;
  #finished: Promise<LiveCallOutcome> | undefined;

  constructor(
    private readonly service: SiprecService,
    readonly actor: Actor,
    readonly request: LiveCallRequest,
    readonly recorder: CallRecorder,
    readonly stored: Promise<IngestResult>,
  ) {
    this.#participants = request.participants;
    this.#callee = request.callee;
  }

  /** a re-INVITE or UPDATE with changed metadata: sealed at the end with the rest */
  update(participants: LiveCallFields['participants'], callee?: string): void {
    this.#participants = participants;
    if (callee) this.#callee = callee;
  }

  /** what is sealed at the end of the call */
  fields(incomplete = false): LiveCallFields {
    return {
      participants: this.#participants,
      ...(this.#callee ? { callee: this.#callee } : {}),
      endedAt: new Date().toISOString(),
      streams: this.recorder.stats(),
      ...(incomplete ? { incomplete: true as const } : {}),
    };
  }

  /** BYE: the rest of the audio is written, the recording sealed, indexed and listed */
  finish(): Promise<LiveCallOutcome> {
    this.#finished ??= this.service.finish(this);
    return this.#finished;
  }

  /** CANCEL, or an INVITE answered with an error after all: nothing is kept */
  async cancel(reason: string): Promise<void> {
    this.recorder.abort(new CallvaultError(ErrorCodes.SIPREC_INVALID, 'the call was cancelled'));
    await this.stored.catch(() => undefined);
    await this.service.ended(this, 'failure', { stage: 'cancel', reason });
  }
}

export class SiprecService {
  constructor(
    private readonly trail: AuditTrail,
    private readonly ingest: IngestService,
    /** where the crash journals of calls in progress are kept */
    private readonly blobs: BlobStore,
  ) {}

  /**
   * Stores what the journals of calls cut off by a crash hold, each as a recording marked
   * incomplete (src/siprec/journal.ts), before new calls are taken. Returns how many.
   */
  async recover(keys: Pick<KeyProvider, 'unwrap'>): Promise<number> {
    let recovered = 0;
    for (const [id, parts] of await leftJournals(this.blobs)) {
      const call = await openJournal(this.blobs, keys, id, parts);
      if (!call) continue;
      const { entry, fields } = call;
      const actor = systemActor(`siprec:${entry.sbc}`);
      const probe = new StreamProbe();
      try {
        const stored = await this.ingest.ingest(
          actor,
          {
            source: call.audio,
            audio: async () => probe.finish(),
            onChunk: (chunk) => probe.push(chunk),
            sidecar: { controller: entry.controllerId, ...entry.sidecar, ...(fields.caller ? { caller: fields.caller } : {}) },
            sourceName: fields.sourceName,
            sourcePath: fields.sourcePath,
            atEnd: () => ({
              siprec: {
                participants: fields.siprec?.participants ?? [],
                ...(fields.siprec?.callee ? { callee: fields.siprec.callee } : {}),
                endedAt: new Date(Date.parse(entry.sidecar.startedAt ?? new Date().toISOString()) + probe.finish().durationMs).toISOString(),
                streams: fields.siprec?.streams ?? [],
                incomplete: true,
              },
            }),
          },
          { examine: 'now' },
        );
        await this.trail.record(actor, {
          action: 'siprec.session',
          outcome: 'success',
          controllerId: entry.controllerId,
          recordingId: stored.id,
          detail: { stage: 'recovered', incomplete: true },
        });
        recovered += 1;
      } catch (err) {
        // a journal that cannot be stored now (storage, audit) is tried again at the next start;
        // one whose audio is not a recording (cut off in its header) is given up
        if (!isCallvaultError(err, ErrorCodes.BROKEN_AUDIO) && !isCallvaultError(err, ErrorCodes.UNSUPPORTED_AUDIO)) throw err;
        await this.trail.record(actor, { action: 'siprec.session', outcome: 'failure', controllerId: entry.controllerId, detail: { stage: 'recovered', reason: err.code } });
      }
      await call.remove();
    }
    return recovered;
  }

  /** a session from an SBC the configuration does not name: refused and logged */
  async refuse(reason: 'unknown-sbc'): Promise<void> {
    await this.trail.record(systemActor('siprec'), { action: 'siprec.session', outcome: 'denied', detail: { stage: 'start', reason } });
  }

  /**
   * Starts recording a call: resolves once the vault is storing it (the INVITE is answered 200),
   * throws when it cannot (the INVITE is answered 5xx).
   */
  async begin(request: LiveCallRequest): Promise<LiveCall> {
    const actor = systemActor(`siprec:${request.sbc}`);
    const controllerId = request.mapping.controller;
    await this.trail.record(actor, { action: 'siprec.session', outcome: 'success', controllerId, detail: { stage: 'start', streams: request.labels.length } });
    const recorder = new CallRecorder(request.labels, { sampleRate: request.sampleRate });
    const probe = new StreamProbe();
    const startedAt = request.startedAt ?? new Date().toISOString();
    const placed = {
      ...(request.mapping.region ? { region: request.mapping.region } : {}),
      ...(request.mapping.agent ? { agent: request.mapping.agent } : {}),
      ...(request.direction ? { direction: request.direction } : {}),
      startedAt,
    };
    let call: LiveCall | undefined;
    const stored = this.ingest.ingest(
      actor,
      {
        source: recorder.output,
        audio: async () => probe.finish(),
        onChunk: (chunk) => probe.push(chunk),
        sidecar: { controller: controllerId, ...placed, ...(request.caller ? { caller: request.caller } : {}) },
        // no identifier in the name: it is indexed as the source name
        sourceName: `siprec-${new Date().toISOString().replace(/[:.]/g, '-')}.wav`,
        sourcePath: 'siprec',
        atEnd: () => ({ siprec: call!.fields() }),
        journal: new BlobJournal(this.blobs, request.sbc, placed),
      },
      { examine: 'now' },
    );
    stored.catch(() => undefined);
    call = new LiveCall(this, actor, request, recorder, stored);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        recorder.ready,
        stored.then(() => {
          throw new CallvaultError(ErrorCodes.INTERNAL, 'the recording ended before it began');
        }),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new CallvaultError(ErrorCodes.STORAGE_UNAVAILABLE, 'the vault did not get ready to store the call in time')), READY_TIMEOUT_MS);
        }),
      ]);
    } catch (err) {
      recorder.abort(err as Error);
      await this.ended(call, 'failure', { stage: 'start', reason: isCallvaultError(err) ? err.code : 'error' });
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return call;
  }

  /** @internal LiveCall.finish */
  async finish(call: LiveCall): Promise<LiveCallOutcome> {
    call.recorder.end();
    let result: IngestResult;
    try {
      result = await call.stored;
    } catch (err) {
      await this.ended(call, 'failure', { stage: 'end', reason: isCallvaultError(err) ? err.code : 'error' });
      throw err;
    }
    const lost = call.recorder.stats().reduce((n, s) => n + s.lost, 0);
    const outcome = { recordingId: result.id, durationMs: call.recorder.durationMs, lost };
    await this.ended(call, 'success', { stage: 'end', durationMs: outcome.durationMs, lost }, result.id);
    return outcome;
  }

  /** @internal the session's closing entry, best effort: the recording (or its absence) is what counts */
  async ended(call: LiveCall, outcome: 'success' | 'failure', detail: { stage: string; reason?: string; durationMs?: number; lost?: number }, recordingId?: string): Promise<void> {
    await this.trail
      .record(call.actor, { action: 'siprec.session', outcome, controllerId: call.request.mapping.controller, ...(recordingId ? { recordingId } : {}), detail })
      .catch(() => undefined);
  }
}
