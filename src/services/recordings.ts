/**
 * Reading recordings: finding and viewing them (`RecordingsService`), and hearing them
 * (`PlaybackService`: a stated purpose, the audio, transcript and waveform under it, export).
 * What `GET /recordings`, `POST /recordings/search`, `GET /recordings/:id`, `POST /subject/find`,
 * the playback routes, `callvault recordings list`, `export`, `subject find` and `verify` do.
 *
 * A recording outside the actor's scope answers NOT_FOUND, exactly like one that does not exist,
 * so ids cannot be probed; the refusal is an entry all the same. Every method asks the policy,
 * appends its entry, and only then unwraps a key or reads a byte.
 */
import { FOUND_IN_ENTRY } from '../audit/catalogue.js';
import { randomUUID } from 'node:crypto';
import { CallvaultError, ErrorCodes } from '../errors.js';
import type { RecordingRow, RenditionRow } from '../db/recordings-repository.js';
import type { AccessGrant } from '../db/grants-repository.js';
import type { OpenedRecording } from '../container/decrypt.js';
import { normalizePersonnummer, normalizePhone, subjectIdentifier } from '../identifiers/normalize.js';
import { blindIndexFor, findByIdentifier, type SubjectHit } from '../recordings/indexer.js';
import { openStoredRecording, readSealedDetections, readSealedFields, readSealedText } from '../recordings/read.js';
import { renditionValidators, type Validators } from '../recordings/validators.js';
import type { VerifyReport } from '../recordings/verify.js';
import {
  PURPOSE_TEXT_MIN,
  decide,
  reachesEverything,
  recordingScopes,
  type Action,
  type Principal,
  type Purpose,
  type RecordingFacts,
  type Rendition,
  type Scope,
} from '../policy/policy.js';
import { LABELS, scrubbedFilter, scrubbedText } from '../redaction/transcript.js';
import { controllersCovered } from '../subject/common.js';
import { parseTranscript, type Transcript } from '../transcripts/index.js';
import { waveformPeaks } from '../audio/waveform.js';
import { EpochCache } from '../identities/epoch-cache.js';
import type { SealedFields } from '../recordings/sealed-metadata.js';
import type { Vault } from '../vault.js';
import type { Actor, SignedInActor } from './actor.js';
import type { AuditTrail } from './audit-trail.js';

/** the audit actions of reaching one recording */
type RecordingAction = 'recording.view' | 'recording.access' | 'recording.play' | 'recording.transcript' | 'recording.waveform' | 'recording.identifiers' | 'recording.export';
/** what reading recordings needs of the vault: rows, grants, keys to open them, their objects */
export type RecordingsDeps = Pick<Vault, 'recordings' | 'grants' | 'sessions' | 'keys' | 'blobs' | 'controllers'> & { audit: Pick<Vault['audit'], 'identifierHash'> };

export interface RecordingFilters {
  /** ISO 8601, on the call's start time */
  from?: string;
  to?: string;
  region?: string;
  agent?: string;
  direction?: string;
  limit?: number;
  /** from the previous page's `next` */
  cursor?: string;
  /** one identifier, found through the blind index; never both */
  caller?: string;
  personnummer?: string;
}

export interface RecordingPage {
  recordings: RecordingRow[];
  next?: string;
}

export interface RecordingView {
  recording: RecordingRow;
  /** null when the recording has none; a label (e.g. `[PHONE]`) for who may not read it */
  caller: string | null;
  personnummer: string | null;
  /** a live call's participants (src/siprec/): their names and numbers as labels; null for a call that has none */
  participants: ParticipantView[] | null;
}

/**
 * One participant of a call recorded live: its display name, number and SIP address in clear
 * under a purpose stated for the original, else the labels `[NAMN]` and `[TELEFON]` (the address,
 * which may hold the number, then not at all); `channels` are the recording's channels (from 1)
 * that carry the streams it sends.
 */
export interface ParticipantView {
  name: string | null;
  phone: string | null;
  address: string | null;
  channels: number[];
}

/** the label of a participant's display name, shown in place of it (a name is an identifier) */
export const NAME_LABEL = '[NAMN]';

function participantViews(fields: SealedFields, clear: boolean): ParticipantView[] | null {
  const call = fields.siprec;
  if (!call) return null;
  // the streams are sealed in channel order; a mixed stream is one channel that several participants send
  const channels = (labels: string[]) => labels.map((l) => call.streams.findIndex((s) => s.label === l) + 1).filter((c) => c > 0);
  return call.participants.map((p) =>
    clear
      ? { name: p.name ?? null, phone: p.phone ?? null, address: p.aor, channels: channels(p.labels) }
      : { name: p.name ? NAME_LABEL : null, phone: p.phone ? LABELS.phone : null, address: null, channels: channels(p.labels) },
  );
}

/** the person a subject request names, as given: one of the two */
export interface SubjectQuery {
  personnummer?: string;
  phone?: string;
}

export interface PurposeStatement {
  /** required of everyone but the operator of a command on the host */
  purpose?: Purpose;
  purposeText?: string;
  /** default `redacted` */
  rendition?: Rendition;
}

export interface StatedAccess {
  accessId: string;
  recordingId: string;
  expiresAt: string;
  rendition: Rendition;
  hasTranscript: boolean;
  breakGlass: boolean;
}

/** what a rendition is, known without decrypting it: what HTTP validators and ranges are planned on */
export interface Representation extends Validators {
  size: number;
  /** wav or mp3 */
  format: string;
}

/** `[start, end)` in bytes */
export type ByteSpan = { start: number; end: number };

/** which bytes of the representation an answer holds (src/http/byte-ranges.ts plans them) */
export type ServedRanges = { kind: 'whole' } | { kind: 'single'; start: number; end: number } | { kind: 'multipart'; parts: ByteSpan[] } | { kind: 'unsatisfiable' };

export interface Playback<P extends ServedRanges> {
  representation: Representation;
  plan: Exclude<P, { kind: 'unsatisfiable' }>;
  /** the plaintext of `[start, end)`, decrypting only the segments it spans */
  read(start: number, end: number): AsyncIterable<Buffer>;
  /** the same in one buffer, from one read of the sealed segments: for a player's range */
  readAt(start: number, end: number): Promise<Buffer>;
}

export interface TranscriptView {
  rendition: Rendition;
  transcript: Transcript;
  /** when each identifier is spoken, never its value */
  identifiers: { type: string; start: number; end: number }[];
}

export interface Export {
  recordingId: string;
  rendition: Rendition;
  format: string;
  size: number;
  /** the original's recorded plaintext hash, to compare a copy with; a rendition has none (its segments authenticate as they decrypt) */
  contentSha256?: string;
  read(): AsyncIterable<Buffer>;
}

/** how long a stated purpose covers playback: the call's length and half an hour to spare */
const GRANT_SLACK_MS = 30 * 60_000;

const REDACTION_UNAVAILABLE: Record<'pending' | 'none' | 'failed', string> = {
  pending: 'this recording has not been examined for identifiers yet: only the original can be played, by roles allowed to hear it',
  none: 'this recording has no transcript, so the identifiers in it cannot be found: only the original can be played, by roles allowed to hear it',
  failed: 'an identifier in this recording could not be removed: only the original can be played, by roles allowed to hear it',
};

function factsOf(row: RecordingRow): RecordingFacts {
  return { controllerId: row.controller_id, region: row.region, agent: row.agent };
}

/**
 * Finding recordings, one recording's metadata, a person's recordings, and the check of the whole
 * store. `verifyStore` is handed in: it walks every table and object of the vault.
 */
export class RecordingsService {
  constructor(
    private readonly deps: RecordingsDeps,
    private readonly trail: AuditTrail,
    private readonly verifyStore: (options: { deep: boolean }) => Promise<VerifyReport>,
  ) {}

  /** recordings in the actor's scope, newest first, by time, region, agent, direction, or one identifier */
  async list(actor: Actor, filters: RecordingFilters): Promise<RecordingPage> {
    const principal = await this.trail.authorize(actor, 'recordings:list', 'recordings.list');
    if (filters.caller && filters.personnummer) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'search by caller or by personnummer, not both');
    const scopes = await this.scopesOf(principal, 'recordings:list');
    const detail: Record<string, string | number | string[]> = {};
    for (const key of ['from', 'to', 'direction', 'limit'] as const) if (filters[key] !== undefined) detail[key] = filters[key]!;
    // free text a caller types: the query uses it as typed, the log keeps any identifier in it as a label
    for (const key of ['region', 'agent'] as const) if (filters[key] !== undefined) detail[key] = scrubbedFilter(filters[key]!);
    let identifier: { kind: 'phone' | 'personnummer'; digests: string[] } | undefined;
    if (filters.caller || filters.personnummer) {
      const kind = filters.caller ? 'phone' : 'personnummer';
      const value = invalidAsRequest(() => (filters.caller ? normalizePhone(filters.caller) : normalizePersonnummer(filters.personnummer!)));
      const controllers = [...new Set(scopes.map((s) => s.controllerId))];
      identifier = { kind, digests: controllers.map((c) => blindIndexFor(this.deps, c).digest(kind, value)) };
      detail[`${kind}Hash`] = this.deps.audit.identifierHash(kind, value);
      detail.controllers = controllers.sort();
    }
    const { caller: _caller, personnummer: _personnummer, ...search } = filters;
    const page = await this.deps.recordings.search({ scopes, ...search, identifier });
    const glass = scopes.filter((s) => s.breakGlassId).map((s) => s.breakGlassId!);
    // the entry counts the results, so it follows the query; nothing has left yet
    await this.trail.record(actor, {
      action: 'recordings.list',
      outcome: 'success',
      detail: { ...detail, results: page.recordings.length, ...(identifier ? { found: page.recordings.slice(0, FOUND_IN_ENTRY).map((r) => r.id) } : {}) },
      ...(glass.length ? { breakGlassId: glass.join(',') } : {}),
    });
    return page;
  }

  /**
   * One recording, its caller number and personnummer as labels: they are shown in clear only
   * under a purpose stated for the original (`PlaybackService.identifiers`), never on sight.
   */
  async view(actor: Actor, id: string): Promise<RecordingView> {
    const { row, breakGlassId } = await reach(this.deps, this.trail, actor, id, 'recording:view', 'recording.view');
    await this.trail.record(actor, {
      action: 'recording.view',
      outcome: 'success',
      recordingId: row.id,
      controllerId: row.controller_id,
      breakGlassId,
      detail: { identifiers: 'hidden' },
    });
    const fields = await readSealedFields(this.deps, row);
    return {
      recording: row,
      caller: fields.caller === undefined ? null : LABELS.phone,
      personnummer: fields.personnummer === undefined ? null : LABELS.personnummer,
      participants: participantViews(fields, false),
    };
  }

  /**
   * A person's recordings the actor may view, found through the blind indexes of the metadata and
   * of the identifiers spoken in the transcripts.
   */
  async findSubject(actor: Actor, query: SubjectQuery): Promise<SubjectHit[]> {
    const principal = await this.trail.authorize(actor, 'subject:find', 'subject.find');
    const { kind, value } = subjectIdentifier(query, ErrorCodes.INVALID_REQUEST);
    const now = new Date();
    const controllers = reachesEverything(principal) ? undefined : [...new Set(recordingScopes(principal, 'subject:find', now).map((s) => s.controllerId))];
    const found = await findByIdentifier(this.deps, kind, value, controllers);
    const hits = found.filter((h) => decide(principal, 'recording:view', factsOf(h.row), now).allowed);
    await this.trail.record(actor, {
      action: 'subject.find',
      outcome: 'success',
      detail: {
        [`${kind}Hash`]: this.deps.audit.identifierHash(kind, value),
        controllers: controllersCovered(
          principal,
          'subject:find',
          found.map((h) => h.row),
        ),
        results: hits.length,
        found: hits.slice(0, FOUND_IN_ENTRY).map((h) => h.row.id),
      },
    });
    return hits;
  }

  /**
   * Every stored object against its recorded hash; `deep` decrypts every segment of every
   * recording and rendition, so it is an entry first like any other read of audio.
   */
  async verify(actor: Actor, options: { deep: boolean }): Promise<VerifyReport> {
    await this.trail.authorize(actor, 'vault:verify', 'vault.verify');
    const { recordings } = this.deps;
    const stored = [...(await recordings.countByKey('stored')).values()].reduce((a, b) => a + b, 0);
    const objects = stored + (await recordings.renditions()).length;
    await this.trail.record(actor, { action: 'vault.verify', outcome: 'success', detail: { deep: options.deep, objects } });
    return this.verifyStore(options);
  }

  private async scopesOf(principal: Principal, action: Action): Promise<Scope[]> {
    // the operator and system jobs reach every controller's recordings in full
    if (reachesEverything(principal)) return (await this.deps.controllers.list()).map((c) => ({ controllerId: c.id, regions: null, agents: null }));
    return recordingScopes(principal, action, new Date());
  }
}

/**
 * Hearing a recording. Playing needs a stated purpose first: `access` records it and returns an
 * access id, which every later request carries; it is not a secret, as it works only for the
 * user who stated the purpose.
 */
export class PlaybackService {
  readonly #opened = new OpenedByAccess();
  readonly #peaks = new PeaksByRendition();
  readonly #grants = new EpochCache<AccessGrant>();

  constructor(
    private readonly deps: RecordingsDeps,
    private readonly trail: AuditTrail,
  ) {}

  /** states the purpose of listening, for the rendition asked (default redacted) */
  async access(actor: Actor, id: string, statement: PurposeStatement): Promise<StatedAccess> {
    const user = signedIn(actor);
    const { row, principal, breakGlassId } = await reach(this.deps, this.trail, actor, id, 'recording:play', 'recording.access');
    const { purpose, purposeText, rendition } = statedPurpose(actor, statement);
    await this.checkRendition(actor, principal, row, rendition, 'recording.access');
    const now = new Date();
    const grant: AccessGrant = {
      id: randomUUID(),
      user_id: user.user.id,
      recording_id: row.id,
      purpose: purpose!,
      purpose_text: purposeText ?? null,
      break_glass_id: breakGlassId ?? null,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + row.duration_ms + GRANT_SLACK_MS).toISOString(),
      rendition,
    };
    await this.trail.record(actor, {
      action: 'recording.access',
      outcome: 'success',
      recordingId: row.id,
      controllerId: row.controller_id,
      purpose,
      purposeText,
      breakGlassId,
      detail: { accessId: grant.id, rendition },
    });
    await this.deps.grants.addGrant(grant);
    return { accessId: grant.id, recordingId: row.id, expiresAt: grant.expires_at, rendition, hasTranscript: row.sealed_transcript !== null, breakGlass: Boolean(breakGlassId) };
  }

  /**
   * The audio under an access. `choose` plans which bytes to serve once the representation is
   * known (HTTP ranges): every request is an entry, with the span served, before any byte; a plan
   * that cannot be served is an entry with outcome `failure` and RANGE_NOT_SATISFIABLE.
   */
  async play<P extends ServedRanges>(actor: Actor, id: string, access: string | undefined, choose: (representation: Representation) => P): Promise<Playback<P>> {
    const { row, grant, breakGlassId } = await this.underAccess(actor, id, access, 'recording.play');
    const stored = await this.storedRendition(row, grant.rendition);
    const representation: Representation = { size: (stored.object ?? row).plaintext_size, format: stored.format, ...stored.validators };
    const plan = choose(representation);
    if (plan.kind === 'unsatisfiable') {
      await this.trail.record(actor, { action: 'recording.play', outcome: 'failure', recordingId: row.id, detail: { reason: 'range' } });
      throw new CallvaultError(ErrorCodes.RANGE_NOT_SATISFIABLE, 'the range lies outside the recording');
    }
    const parts = plan.kind === 'multipart' ? plan.parts : [plan.kind === 'single' ? { start: plan.start, end: plan.end } : { start: 0, end: representation.size }];
    // `range` is the span of what is served; a multipart answer lists its parts as well
    const span = { start: Math.min(...parts.map((p) => p.start)), end: Math.max(...parts.map((p) => p.end)) };
    await this.trail.record(actor, {
      action: 'recording.play',
      ...underGrant(row, grant, breakGlassId),
      detail: { accessId: grant.id, rendition: grant.rendition, range: span, ...(plan.kind === 'multipart' ? { ranges: parts } : {}) },
    });
    const opened = await this.#opened.get(grant.id, stored.validators.etag, () => openStoredRecording(this.deps, row, stored.object));
    return {
      representation,
      plan: plan as Exclude<P, { kind: 'unsatisfiable' }>,
      read: (start, end) => opened.read(start, end),
      readAt: (start, end) => opened.readAt(start, end),
    };
  }

  /** the transcript of the rendition the access was stated for (redacted: identifiers replaced by labels) */
  async transcript(actor: Actor, id: string, access: string | undefined): Promise<TranscriptView> {
    const { row, grant, breakGlassId } = await this.underAccess(actor, id, access, 'recording.transcript');
    const sealed = grant.rendition === 'original' ? row.sealed_transcript : row.sealed_redacted_transcript;
    if (!sealed) {
      throw new CallvaultError(
        grant.rendition === 'original' || !row.sealed_transcript ? ErrorCodes.NOT_FOUND : ErrorCodes.REDACTION_UNAVAILABLE,
        row.sealed_transcript ? REDACTION_UNAVAILABLE.pending : 'this recording has no transcript',
      );
    }
    await this.trail.record(actor, { action: 'recording.transcript', ...underGrant(row, grant, breakGlassId), detail: { accessId: grant.id, rendition: grant.rendition } });
    const text = await readSealedText(this.deps, row, grant.rendition === 'original' ? 'transcript' : 'redacted-transcript');
    const transcript = parseTranscript(Buffer.from(text!, 'utf8'), 'application/json');
    const identifiers = (await readSealedDetections(this.deps, row)).filter((f) => f.span).map((f) => ({ type: f.type, start: f.span!.start, end: f.span!.end }));
    return { rendition: grant.rendition, transcript, identifiers };
  }

  /**
   * The caller's number and personnummer in clear, under an access stated for the original: the
   * purpose that lets one hear them in the call lets one read them, and nothing less does.
   */
  async identifiers(actor: Actor, id: string, access: string | undefined): Promise<{ caller: string | null; personnummer: string | null; participants: ParticipantView[] | null }> {
    const { row, grant, breakGlassId } = await this.underAccess(actor, id, access, 'recording.identifiers');
    if (grant.rendition !== 'original') {
      await this.trail.record(actor, {
        action: 'recording.identifiers',
        outcome: 'denied',
        recordingId: row.id,
        detail: { accessId: grant.id, rendition: grant.rendition, reason: 'rendition' },
      });
      throw new CallvaultError(ErrorCodes.FORBIDDEN, 'the identifiers are shown under a purpose stated for the original only');
    }
    await this.trail.record(actor, { action: 'recording.identifiers', ...underGrant(row, grant, breakGlassId), detail: { accessId: grant.id, rendition: grant.rendition } });
    const fields = await readSealedFields(this.deps, row);
    return { caller: fields.caller ?? null, personnummer: fields.personnummer ?? null, participants: participantViews(fields, true) };
  }

  /** the loudest sample of each slice of the rendition the access was stated for, 0 to 1 */
  async waveform(actor: Actor, id: string, access: string | undefined): Promise<{ durationMs: number; peaks: number[] }> {
    const { row, grant, breakGlassId } = await this.underAccess(actor, id, access, 'recording.waveform');
    const stored = await this.storedRendition(row, grant.rendition);
    await this.trail.record(actor, { action: 'recording.waveform', ...underGrant(row, grant, breakGlassId), detail: { accessId: grant.id, rendition: grant.rendition } });
    const peaks = await this.#peaks.get(`${row.id}|${grant.rendition}|${stored.validators.etag}`, async () => {
      const opened = await this.#opened.get(grant.id, stored.validators.etag, () => openStoredRecording(this.deps, row, stored.object));
      return waveformPeaks(opened.read(), stored.format, row.duration_ms);
    });
    return { durationMs: row.duration_ms, peaks };
  }

  /** the whole decrypted rendition, for a stated purpose (the operator of a command states none) */
  async export(actor: Actor, id: string, statement: PurposeStatement): Promise<Export> {
    const { row, principal, breakGlassId } = await reach(this.deps, this.trail, actor, id, 'recording:export', 'recording.export');
    const { purpose, purposeText, rendition } = statedPurpose(actor, statement);
    await this.checkRendition(actor, principal, row, rendition, 'recording.export');
    const stored = await this.storedRendition(row, rendition);
    await this.trail.record(actor, {
      action: 'recording.export',
      outcome: 'success',
      recordingId: row.id,
      controllerId: row.controller_id,
      purpose,
      purposeText,
      breakGlassId,
      detail: { rendition },
    });
    const opened = await openStoredRecording(this.deps, row, stored.object);
    return {
      recordingId: row.id,
      rendition,
      format: stored.format,
      size: opened.plaintextSize,
      contentSha256: stored.object ? undefined : row.content_sha256,
      read: () => opened.read(),
    };
  }

  /** the recording and the actor's stated purpose for it, when `access` names one that is this user's and in time */
  private async underAccess(actor: Actor, id: string, access: string | undefined, auditAction: RecordingAction) {
    const user = signedIn(actor);
    if (!access) throw new CallvaultError(ErrorCodes.PURPOSE_REQUIRED, 'state a purpose first: POST /api/v1/recordings/{id}/access');
    const { row, breakGlassId } = await reach(this.deps, this.trail, actor, id, 'recording:play', auditAction);
    const grant = await this.grant(access);
    if (!grant || grant.user_id !== user.user.id || grant.recording_id !== row.id || grant.expires_at <= new Date().toISOString()) {
      await this.trail.record(actor, { action: auditAction, outcome: 'denied', recordingId: row.id, detail: { reason: 'access' } });
      throw new CallvaultError(ErrorCodes.PURPOSE_REQUIRED, 'this access has expired or is not yours: state the purpose again');
    }
    return { row, grant, breakGlassId };
  }

  /** a stated purpose, kept between a player's requests while the revocation epoch stays (src/identities/epoch-cache.ts) */
  private async grant(id: string): Promise<AccessGrant | undefined> {
    // read before what it labels: a change after this read moves the epoch past the label
    const epoch = await this.deps.sessions.revocationEpoch();
    const kept = this.#grants.get(id, epoch);
    if (kept) return kept;
    const grant = await this.deps.grants.grant(id);
    if (grant) this.#grants.set(id, epoch, grant);
    return grant;
  }

  /**
   * The rendition rule: the original only with `recording:unredacted` in scope; the redacted one
   * only when the recording was examined and what was found could be removed (fail closed: no
   * rendition, no redacted audio).
   */
  private async checkRendition(actor: Actor, principal: Principal, row: RecordingRow, rendition: Rendition, auditAction: 'recording.access' | 'recording.export'): Promise<void> {
    if (rendition === 'original') {
      if (decide(principal, 'recording:unredacted', factsOf(row), new Date()).allowed) return;
      await this.trail.record(actor, { action: auditAction, outcome: 'denied', recordingId: row.id, detail: { reason: 'unredacted', rendition } });
      throw new CallvaultError(ErrorCodes.FORBIDDEN, 'your role hears the redacted rendition only');
    }
    if (row.redaction === 'redacted' || row.redaction === 'clean') return;
    await this.trail.record(actor, { action: auditAction, outcome: 'denied', recordingId: row.id, detail: { reason: `redaction-${row.redaction}`, rendition } });
    throw new CallvaultError(ErrorCodes.REDACTION_UNAVAILABLE, REDACTION_UNAVAILABLE[row.redaction]);
  }

  /** which object serves a rendition: the redacted one is the original itself when there was nothing to remove */
  private async storedRendition(row: RecordingRow, rendition: Rendition): Promise<StoredRendition> {
    if (rendition === 'original' || row.redaction === 'clean') return { format: row.format, validators: renditionValidators(row) };
    const redacted = row.redaction === 'redacted' ? await this.deps.recordings.rendition(row.id) : undefined;
    if (!redacted) throw new CallvaultError(ErrorCodes.REDACTION_UNAVAILABLE, REDACTION_UNAVAILABLE[row.redaction === 'redacted' ? 'pending' : row.redaction]);
    return { object: redacted, format: redacted.format, validators: renditionValidators(row, redacted) };
  }
}

/** the stored object that serves a rendition (none: the original), its format and validators */
interface StoredRendition {
  object?: RenditionRow;
  format: string;
  validators: Validators;
}

/** the recording when `action` on it is allowed; otherwise an entry and NOT_FOUND (FORBIDDEN for the role) */
async function reach(deps: RecordingsDeps, trail: AuditTrail, actor: Actor, id: string, action: Action, auditAction: RecordingAction) {
  const principal = await trail.authorize(actor, action, auditAction);
  const row = await deps.recordings.get(id);
  if (!row) await refuseShredded(deps, trail, actor, principal, id, action, auditAction);
  const decision = row ? decide(principal, action, factsOf(row), new Date()) : undefined;
  if (!row || !decision?.allowed) {
    await trail.record(actor, { action: auditAction, outcome: 'denied', recordingId: id, detail: { reason: decision && !decision.allowed ? decision.reason : 'not-found' } });
    throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such recording');
  }
  return { row, principal, breakGlassId: decision.breakGlassId };
}

/**
 * A recording retention shredded answers CV_SHREDDED to whoever would have reached it (and 404,
 * as ever, to anyone else): the tombstone keeps its controller, region and agent for the policy.
 */
async function refuseShredded(
  deps: RecordingsDeps,
  trail: AuditTrail,
  actor: Actor,
  principal: Principal,
  id: string,
  action: Action,
  auditAction: RecordingAction,
): Promise<void> {
  const tombstone = await deps.recordings.tombstone(id);
  if (!tombstone?.shredded_at) return;
  const facts = { controllerId: tombstone.controller_id, region: tombstone.region, agent: tombstone.agent };
  if (!reachesEverything(principal) && !decide(principal, action, facts, new Date()).allowed) return;
  await trail.record(actor, { action: auditAction, outcome: 'denied', recordingId: id, detail: { reason: 'shredded' } });
  throw new CallvaultError(ErrorCodes.SHREDDED, `this recording was shredded on ${tombstone.shredded_at.slice(0, 10)}: it passed its retention`);
}

/** a stated purpose binds a person: a machine token cannot state one */
function signedIn(actor: Actor): SignedInActor {
  if (actor.kind === 'anonymous') throw new CallvaultError(ErrorCodes.UNAUTHENTICATED, 'sign in first');
  if (actor.kind !== 'user') throw new CallvaultError(ErrorCodes.FORBIDDEN, 'this needs a signed-in person, not a token');
  return actor;
}

/**
 * The purpose as stated. Its free text goes into the audit log, which must hold no identifiers:
 * `scrubbedText` replaces any the writer put in by their labels.
 */
function statedPurpose(actor: Actor, statement: PurposeStatement): { purpose?: Purpose; purposeText?: string; rendition: Rendition } {
  const { purpose, purposeText, rendition } = statement;
  const text = purposeText?.trim() || undefined;
  if (!purpose && actor.kind !== 'operator') throw new CallvaultError(ErrorCodes.PURPOSE_REQUIRED, 'state the purpose');
  if (purpose === 'other' && (!text || text.length < PURPOSE_TEXT_MIN)) {
    throw new CallvaultError(ErrorCodes.PURPOSE_REQUIRED, 'the purpose "other" needs a written explanation (purposeText)');
  }
  return { purpose, purposeText: scrubbedText(text), rendition: rendition ?? 'redacted' };
}

/** the audit fields of a successful use of a stated purpose: it names the purpose it was stated for */
function underGrant(row: RecordingRow, grant: AccessGrant, breakGlassId: string | undefined) {
  return {
    outcome: 'success' as const,
    recordingId: row.id,
    controllerId: row.controller_id,
    purpose: grant.purpose as Purpose,
    purposeText: grant.purpose_text ?? undefined,
    breakGlassId: grant.break_glass_id ?? breakGlassId,
  };
}

function invalidAsRequest<T>(f: () => T): T {
  try {
    return f();
  } catch {
    throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'the identifier to search for is not a valid phone number or personnummer');
  }
}

/**
 * A player sends many range requests under one access. The opened recording (its unwrapped
 * payload key and checked header) is kept per access for a short idle time, so each request
 * after the first skips the HPKE unwrap and the header check. Authorisation, the access check
 * and the audit entry still happen on every request. The key lives only in this process's
 * memory, where it is anyway while the call is being served.
 */
class OpenedByAccess {
  readonly #entries = new Map<string, { opened: OpenedRecording; etag: string; until: number }>();
  constructor(
    private readonly max = 512,
    private readonly idleMs = 120_000,
  ) {}

  /** `etag` names the rendition stored now: one made again since is opened afresh */
  async get(accessId: string, etag: string, open: () => Promise<OpenedRecording>): Promise<OpenedRecording> {
    const now = Date.now();
    const hit = this.#entries.get(accessId);
    this.#entries.delete(accessId);
    const opened = hit && hit.until > now && hit.etag === etag ? hit.opened : await open();
    this.#entries.set(accessId, { opened, etag, until: now + this.idleMs });
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= this.max && entry.until > now) break;
      this.#entries.delete(key);
    }
    return opened;
  }
}

/**
 * The waveform of the renditions drawn lately, in memory only: drawing one decrypts and decodes the
 * whole call, and the player waits for it before it plays. Keyed by the rendition's etag, so a
 * rendition made again is drawn afresh; a call drawn by several at once is decoded once.
 */
class PeaksByRendition {
  readonly #entries = new Map<string, Promise<number[]>>();
  constructor(private readonly max = 128) {}

  get(key: string, draw: () => Promise<number[]>): Promise<number[]> {
    let peaks = this.#entries.get(key);
    this.#entries.delete(key);
    if (!peaks) {
      peaks = draw();
      // a failure is not kept: the next request tries again
      const drawing = peaks;
      drawing.catch(() => {
        if (this.#entries.get(key) === drawing) this.#entries.delete(key);
      });
    }
    this.#entries.set(key, peaks);
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.max) break;
      this.#entries.delete(oldest);
    }
    return peaks;
  }
}
