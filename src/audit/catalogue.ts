/**
 * The audit catalogue: every action the log may hold, what it means, the top-level fields it uses
 * and the detail fields it carries. `AuditEvent` (audit-log.ts) is derived from it, so an append
 * with an unknown action or an undeclared detail field does not compile, and `AuditLog.append`
 * refuses one at run time too (CV_INTERNAL: a programming error, never the log's state).
 * docs/audit-log.md's table of actions is checked against this list by test/audit/catalogue.test.ts.
 *
 * A field marked `hash` is the keyed hash of an identifier (`AuditLog.identifierHash`), never the
 * identifier itself; the patient's access log finds entries by it.
 */

/** how a detail value is typed; `range` is a byte range `{start, end}` (end exclusive) */
export type FieldType = 'string' | 'integer' | 'boolean' | 'string[]' | 'string|null' | 'integer|string' | 'range' | 'range[]';

export interface FieldSpec {
  type: FieldType;
  optional: boolean;
  /** a keyed hash of an identifier (a blind index), never the identifier */
  hash: boolean;
}

/** the top-level members an action may fill beside actor, outcome, ip and requestId */
export const TOP_LEVEL_FIELDS = ['recordingId', 'controllerId', 'purpose', 'purposeText', 'breakGlassId'] as const;
export type TopLevelField = (typeof TOP_LEVEL_FIELDS)[number];

export interface ActionSpec {
  meaning: string;
  uses: readonly TopLevelField[];
  detail: Readonly<Record<string, FieldSpec>>;
}

const req = <T extends FieldType>(type: T) => ({ type, optional: false as const, hash: false as const });
const opt = <T extends FieldType>(type: T) => ({ type, optional: true as const, hash: false as const });
/** the keyed hash of a personnummer or phone number */
const hashed = () => ({ type: 'string' as const, optional: true as const, hash: true as const });

/** why a request was refused or failed: a policy reason or an error code */
const reason = opt('string');
/** the identifier a subject request or search named, as its keyed hash (one of the two) */
const identifierHashes = { personnummerHash: hashed(), phoneHash: hashed() };
/**
 * the controllers a search or subject request by identifier covered: the patient's access log
 * shows the entry only to those who reach one of them (absent: the installation, for an auditor)
 */
const controllers = opt('string[]');
/**
 * the recordings a search by identifier found (at most `FOUND_IN_ENTRY`): what it showed, and what
 * explains a privacy officer's later access to one of them (docs/alerts.md, `unexplained`)
 */
const found = opt('string[]');
export const FOUND_IN_ENTRY = 100;
const RECORDING = ['recordingId', 'controllerId'] as const;
/** a recording reached under a stated purpose, maybe through break-the-glass */
const UNDER_PURPOSE = ['recordingId', 'controllerId', 'purpose', 'purposeText', 'breakGlassId'] as const;
/** what a use of a stated purpose (an access) carries */
const granted = { accessId: opt('string'), rendition: opt('string'), reason };

/**
 * The audit actions whose success means the account was shown something of the recording: its
 * metadata (view), a purpose granted (access), audio, transcript, waveform, identifiers, or the
 * whole of it (export). Storing (ingest, import), redacting and erasing serve nothing.
 */
export const RECORDING_READS = [
  'recording.view',
  'recording.access',
  'recording.play',
  'recording.transcript',
  'recording.waveform',
  'recording.identifiers',
  'recording.export',
] as const;

export const AUDIT_CATALOGUE = {
  // ---- signing in
  'auth.signin': {
    meaning: 'a password+TOTP or OIDC sign-in, success or failure',
    uses: [],
    detail: { method: opt('string'), provider: opt('string'), step: opt('string'), mfa: opt('string'), reason, failedCheck: opt('string'), providerError: opt('string') },
  },
  'auth.signout': {
    meaning: 'a session ended by its user: written after the session is revoked; the sign-out stands even when this entry cannot be written',
    uses: [],
    detail: {},
  },
  'token.use': { meaning: 'a request made with a machine token', uses: ['controllerId'], detail: { route: req('string') } },

  // ---- recordings
  'recordings.list': {
    meaning: 'recordings listed or searched',
    uses: ['breakGlassId'],
    detail: {
      from: opt('string'),
      to: opt('string'),
      region: opt('string'),
      agent: opt('string'),
      direction: opt('string'),
      limit: opt('integer'),
      ...identifierHashes,
      controllers,
      results: opt('integer'),
      found,
      reason,
    },
  },
  'recording.view': {
    meaning: "one recording's metadata shown, its identifiers as labels (`identifiers: hidden`)",
    uses: ['recordingId', 'controllerId', 'breakGlassId'],
    detail: { identifiers: opt('string'), reason },
  },
  'recording.access': { meaning: 'a purpose stated for playback (an access granted)', uses: UNDER_PURPOSE, detail: { ...granted } },
  'recording.play': {
    meaning: 'audio served: every range request; `range` is the span served, `ranges` each part of a multipart/byteranges answer; `reason: range` on a 416',
    uses: UNDER_PURPOSE,
    detail: { ...granted, range: opt('range'), ranges: opt('range[]') },
  },
  'recording.transcript': { meaning: 'a transcript served under an access', uses: UNDER_PURPOSE, detail: { ...granted } },
  'recording.waveform': { meaning: 'a waveform computed from the audio under an access', uses: UNDER_PURPOSE, detail: { ...granted } },
  'recording.identifiers': {
    meaning: "the caller's number and personnummer shown in clear, under an access stated for the original (denied under one for the redacted rendition)",
    uses: UNDER_PURPOSE,
    detail: { ...granted },
  },
  'recording.export': {
    meaning: 'a rendition exported whole (HTTP, CLI, or in a subject export)',
    uses: UNDER_PURPOSE,
    detail: { rendition: opt('string'), subjectRequest: opt('boolean'), exportId: opt('string'), reason },
  },
  'recording.ingest': {
    meaning:
      'each recording stored by an HTTP upload or by `callvault import`, through the same service: stored (written before it becomes visible), duplicate, recovered by housekeeping, denied (`reason: scope`: a token naming another controller; `token-limits`: a region or agent outside the limits of the token, or none named; `past-retention`: a call already past its retention that no hold covers), or failed',
    uses: RECORDING,
    detail: { status: opt('string'), reason },
  },
  'siprec.session': {
    meaning:
      'a live recording session from a session border controller (`callvault siprec`), as the SBC named in the configuration: its start (success, or failure when the vault could not record and the INVITE got a 5xx), its end (with the recording, its duration in milliseconds and the packets lost), a call cancelled before it was answered, or denied (`reason: unknown-sbc`)',
    uses: RECORDING,
    detail: { stage: opt('string'), streams: opt('integer'), durationMs: opt('integer'), lost: opt('integer'), incomplete: opt('boolean'), reason },
  },
  'recording.import': {
    meaning: 'a CLI import run, at its start and its end',
    uses: [],
    detail: { stage: opt('string'), reason, sources: opt('integer'), stored: opt('integer'), duplicates: opt('integer'), skipped: opt('integer'), failed: opt('integer') },
  },
  'recording.redact': {
    meaning: 'a recording examined for identifiers and its redacted rendition made',
    uses: RECORDING,
    detail: { state: opt('string'), identifiers: opt('integer'), problem: opt('string'), transcribed: opt('boolean'), reason },
  },
  'transcript.add': {
    meaning:
      'a transcript attached to a stored recording after it was stored (`callvault transcripts add`), before it is examined again (its `recording.redact` follows); `replaced`: it replaced the transcript the recording had, and everything made from that one was dropped',
    uses: RECORDING,
    detail: { format: opt('string'), replaced: opt('boolean'), reason },
  },
  'recording.erase': {
    meaning: 'a recording erased (a subject request, or again after a restore)',
    uses: RECORDING,
    detail: { erasureId: opt('string'), subjectRequest: opt('boolean'), backupId: opt('string'), erasedAfterSnapshot: opt('boolean') },
  },

  // ---- data subjects
  'subject.find': {
    meaning: "a data subject's recordings looked up by identifier",
    uses: [],
    detail: { ...identifierHashes, controllers, results: opt('integer'), found, reason },
  },
  'subject.export': {
    meaning: "a data subject's recordings and access log exported",
    uses: ['purpose', 'purposeText'],
    detail: { ...identifierHashes, controllers, exportId: opt('string'), recordings: opt('integer'), reason },
  },
  'subject.erase': {
    meaning: "a data subject's recordings erased (denied when one named is not theirs)",
    uses: ['purpose', 'purposeText'],
    detail: {
      ...identifierHashes,
      controllers,
      erasureId: opt('string'),
      recordings: opt('integer'),
      alreadyErased: opt('integer'),
      requested: opt('integer'),
      refused: opt('integer'),
      reason,
    },
  },
  // ---- retention and legal holds
  'retention.show': { meaning: 'retention policies and legal holds listed', uses: [], detail: { what: opt('string'), reason } },
  'retention.set': {
    meaning: "a controller's retention for a class set; lowering it first shows how many recordings it would shred (`applied: false` until confirmed)",
    uses: ['controllerId'],
    detail: { class: opt('string'), days: opt('integer'), previousDays: opt('integer'), wouldShred: opt('integer'), applied: opt('boolean'), reason },
  },
  'retention.run': {
    meaning: "one controller's retention run: recordings moved to their period's key, shredded (period keys destroyed, listed), kept by a hold",
    uses: ['controllerId'],
    detail: { dryRun: opt('boolean'), moved: opt('integer'), shredded: opt('integer'), held: opt('integer'), keysDestroyed: opt('string[]'), reason },
  },
  'recording.class': { meaning: "a recording's retention class set by a privacy officer", uses: RECORDING, detail: { class: opt('string'), previous: opt('string'), reason } },
  'hold.add': {
    meaning:
      'a legal hold placed: what it covers (a recording, a person by keyed hash, an agent and window), its case and reason (identifiers as labels), and how many recordings it covered at once',
    uses: ['recordingId'],
    detail: {
      holdId: opt('string'),
      kind: opt('string'),
      ...identifierHashes,
      agent: opt('string'),
      from: opt('string'),
      to: opt('string'),
      case: opt('string'),
      covered: opt('integer'),
      reason,
    },
  },
  'hold.release': { meaning: 'a legal hold released: what it kept goes to the next retention run', uses: [], detail: { holdId: opt('string'), case: opt('string'), reason } },

  'subject.access-log': {
    meaning: "a data subject's access log produced",
    uses: [],
    detail: { ...identifierHashes, controllers, recordings: opt('integer'), accesses: opt('integer'), reason },
  },

  // ---- personal data breaches
  'breach.report': {
    meaning:
      'a breach report made (GDPR art. 33/34): its scope (`key`, `controller`, `blob-prefix` or `user`, naming the account by id), window and counts, never an identifier; `subjects`: how many persons the subjects file for art. 34 notices lists (written on the host, never the persons); failure: that file was not finished',
    uses: [],
    detail: {
      reportId: opt('string'),
      scope: opt('string'),
      keyId: opt('string'),
      controller: opt('string'),
      blobPrefix: opt('string'),
      userId: opt('string'),
      from: opt('string'),
      to: opt('string'),
      window: opt('string'),
      controllers,
      recordings: opt('integer'),
      personnummer: opt('integer'),
      phones: opt('integer'),
      subjectsFile: opt('boolean'),
      subjects: opt('integer'),
      reason,
    },
  },

  // ---- administration
  'user.list': { meaning: 'user accounts listed', uses: [], detail: { reason } },
  'user.create': {
    meaning: 'a user account created; `approval: pending` when it can reach recordings and waits for a second person (the person enrols with a code, never seen in the log)',
    uses: [],
    detail: {
      userId: opt('string'),
      role: opt('string'),
      controllerId: opt('string|null'),
      processorId: opt('string|null'),
      agent: opt('string|null'),
      team: opt('string|null'),
      approval: opt('string'),
      reason,
    },
  },
  'user.reset': {
    meaning: "a user's credentials replaced by a new enrolment code; `approval: pending` when the account can reach recordings",
    uses: [],
    detail: { userId: opt('string'), approval: opt('string'), reason },
  },
  'user.disable': { meaning: 'a user account disabled (its sessions end)', uses: [], detail: { userId: opt('string'), reason } },
  'user.enable': {
    meaning: 'a user account enabled again (`approval: pending` until a second person approves)',
    uses: [],
    detail: { userId: opt('string'), approval: opt('string'), reason },
  },
  'user.approve': {
    meaning: "an account's creation, reset or re-enabling approved by a second person (the controller's privacy officer, or the key custodian on the host)",
    uses: [],
    detail: { userId: opt('string'), request: opt('string'), reason },
  },
  'user.refuse': { meaning: "an account's creation, reset or re-enabling refused: it can do nothing", uses: [], detail: { userId: opt('string'), request: opt('string'), reason } },
  'user.enrol': {
    meaning: 'a person enrolled with their single-use code: set their password and authenticator (failure: a wrong or expired code, or a wrong authenticator code)',
    uses: [],
    detail: { step: opt('string'), reason, failedCheck: opt('string') },
  },
  'approval.list': { meaning: 'what waits for the caller to approve, listed', uses: [], detail: { reason } },
  'user.password-change': { meaning: 'a user changed their own password', uses: [], detail: { reason, failedCheck: opt('string') } },
  'token.list': { meaning: 'machine tokens listed', uses: [], detail: { reason } },
  'token.create': {
    meaning: 'a machine token created, with the regions and agents it is limited to (comma-separated; null: every one)',
    uses: ['controllerId'],
    detail: { tokenId: opt('string'), scope: opt('string'), expiresAt: opt('string'), regions: opt('string|null'), agents: opt('string|null'), reason },
  },
  'token.revoke': { meaning: 'a machine token revoked', uses: ['controllerId'], detail: { tokenId: opt('string'), reason } },
  'controller.list': { meaning: 'controllers listed', uses: [], detail: { results: opt('integer'), reason } },
  'controller.create': { meaning: 'a controller created with its key pair', uses: ['controllerId'], detail: { keyId: opt('string'), reason } },
  'name.list': { meaning: 'display names of region codes and agent ids listed', uses: [], detail: { reason } },
  'name.set': {
    meaning: 'the display name of a region code or an agent id set (`name: null`: removed)',
    uses: [],
    detail: { kind: opt('string'), id: opt('string'), name: opt('string|null'), reason },
  },
  'processor.list': { meaning: 'processors listed', uses: [], detail: { results: opt('integer'), reason } },
  'processor.create': { meaning: 'a processor created', uses: [], detail: { processorId: opt('string'), reason } },
  'contract.list': { meaning: 'contracts listed', uses: [], detail: { results: opt('integer'), processorId: opt('string'), reason } },
  'contract.create': {
    meaning: 'a contract between a processor and a controller created (`approval: pending` until the controller approves it)',
    uses: ['controllerId'],
    detail: {
      contractId: opt('string'),
      processorId: opt('string'),
      roles: opt('string'),
      regions: opt('string|null'),
      validFrom: opt('string'),
      validTo: opt('string'),
      approval: opt('string'),
      reason,
    },
  },
  'contract.approve': {
    meaning: 'a contract approved by the controller: it reaches recordings from its start',
    uses: ['controllerId'],
    detail: { contractId: opt('string'), processorId: opt('string'), reason },
  },
  'contract.refuse': {
    meaning: 'a contract refused by the controller: it never reaches anything',
    uses: ['controllerId'],
    detail: { contractId: opt('string'), processorId: opt('string'), reason },
  },
  'contract.end': { meaning: 'a contract ended now', uses: ['controllerId'], detail: { contractId: opt('string'), processorId: opt('string'), validTo: opt('string'), reason } },

  // ---- break-the-glass
  'break-glass.start': { meaning: 'emergency access started', uses: ['controllerId', 'breakGlassId'], detail: { reason, expiresAt: opt('string') } },
  'break-glass.list': { meaning: 'break-the-glass periods listed', uses: [], detail: { results: opt('integer'), reason } },
  'break-glass.review': { meaning: "a privacy officer's review of a break-the-glass period", uses: ['controllerId', 'breakGlassId'], detail: { reason } },
  'break-glass.end': {
    meaning: 'its owner ended a break-the-glass period early (written before the period is shortened); it still waits for review',
    uses: ['controllerId', 'breakGlassId'],
    detail: { expiresAt: opt('string'), reason },
  },

  // ---- keys
  'keys.read': { meaning: 'key status read (no key material)', uses: [], detail: { controllers: opt('integer'), keys: opt('integer'), reason } },
  'key.rotate': { meaning: "a controller's new active key made (CLI)", uses: ['controllerId'], detail: { keyId: opt('string'), retiredKeyId: opt('string|null'), reason } },
  'key.rewrap': {
    meaning: 'data keys moved from retired keys to the active key (CLI)',
    uses: ['controllerId'],
    detail: { fromKeyIds: opt('string[]'), toKeyId: opt('string'), rewrapped: opt('integer'), reason },
  },

  // ---- the audit log itself
  'audit.read': {
    meaning:
      'the audit log read, over HTTP or the CLI: entries, a tail (`follow`: one entry when it starts), a search, a checkpoint, the key, a proof, a verification, an identifier hash. Signing a new checkpoint (`audit checkpoint`) writes none: the log would grow with every signature',
    uses: [],
    detail: {
      what: opt('string'),
      follow: opt('boolean'),
      ...identifierHashes,
      from: opt('integer|string'),
      to: opt('integer|string'),
      index: opt('integer'),
      size: opt('integer'),
      action: opt('string'),
      outcome: opt('string'),
      actor: opt('string'),
      recordingId: opt('string'),
      before: opt('integer'),
      limit: opt('integer'),
      results: opt('integer'),
      reason,
    },
  },
  'audit.export': { meaning: 'the audit log exported for a SIEM', uses: [], detail: { from: opt('integer'), to: opt('integer'), format: opt('string'), reason } },

  // ---- insider misuse (docs/alerts.md)
  'alert.raise': {
    meaning:
      'the detector raised an alert (the system actor): its rule, the account, the recordings and the first and last audit position of its evidence; evidence that joins an open alert writes none',
    uses: [],
    detail: {
      alertId: req('string'),
      rule: req('string'),
      severity: req('string'),
      userId: opt('string'),
      recordings: opt('string[]'),
      controllers,
      firstEntry: opt('integer'),
      lastEntry: opt('integer'),
    },
  },
  'alert.list': {
    meaning: 'alerts listed (an auditor, a privacy officer within reach, or the CLI)',
    uses: [],
    detail: { state: opt('string'), rule: opt('string'), results: opt('integer'), reason },
  },
  'alert.resolve': {
    meaning: 'an alert reviewed and closed with its outcome (justified, misuse, false-positive); the note is kept with the alert, identifiers replaced by labels',
    uses: [],
    detail: { alertId: opt('string'), rule: opt('string'), outcome: opt('string'), reason },
  },
  'alert.backtest': {
    meaning: 'the rules run over stored history without raising alerts',
    uses: [],
    detail: { from: opt('string'), to: opt('string'), entries: opt('integer'), alerts: opt('integer'), reason },
  },
  'alert.settings': {
    meaning: "a controller's detector thresholds changed",
    uses: ['controllerId'],
    detail: { settings: opt('string[]'), reason },
  },
  'canary.add': {
    meaning: 'canary recordings planted for a controller: the count only, so that the log does not name them (their storing writes no `recording.ingest`)',
    uses: ['controllerId'],
    detail: { count: opt('integer'), reason },
  },
  'canary.list': {
    meaning: 'which recordings are canaries read from their sealed record (the key custodian on the host)',
    uses: [],
    detail: { results: opt('integer'), reason },
  },
  'subject.protect': {
    meaning: 'a person marked protected (skyddad identitet or a named VIP): any access to their calls alerts',
    uses: [],
    detail: { protectedId: opt('string'), ...identifierHashes, controllers, reason },
  },
  'subject.unprotect': { meaning: "a person's protected mark released", uses: [], detail: { protectedId: opt('string'), reason } },
  'protected.list': {
    meaning: 'the persons marked protected listed (a privacy officer: those marked for a controller in reach)',
    uses: [],
    detail: { results: opt('integer'), reason },
  },
  'user.edit': {
    meaning: "an account's staff identifiers (as digests) or working hours changed; the fields named, never their values",
    uses: [],
    detail: { userId: opt('string'), fields: opt('string[]'), reason },
  },
  'user.suspend': {
    meaning: 'an account suspended by the detector (a canary reached, the controller set to suspend): disabled and its sessions ended',
    uses: [],
    detail: { userId: req('string'), alertId: req('string'), reason },
  },
  'review.sample': {
    meaning: "a period's log review sample drawn (loggkontroll): how many accesses, how chosen",
    uses: [],
    detail: { period: opt('string'), random: opt('integer'), weighted: opt('integer'), reason },
  },
  'review.read': { meaning: "a period's review queue or report read", uses: [], detail: { period: opt('string'), what: opt('string'), reason } },
  'review.outcome': {
    meaning: 'a sampled access checked, with its outcome (the note kept with the sample, identifiers replaced by labels)',
    uses: [],
    detail: { period: opt('string'), sampleId: opt('string'), position: opt('integer'), outcome: opt('string'), reason },
  },

  // ---- backup
  'vault.backup': {
    meaning: 'a backup taken (before the objects are copied; failure when it did not finish)',
    uses: [],
    detail: { backupId: opt('string'), objects: opt('integer'), auditSize: opt('integer'), keyring: opt('boolean'), reason },
  },
  'vault.verify': {
    meaning: '`callvault verify`: every stored object checked against its hash (`deep`: decrypted), written before the first object is read',
    uses: [],
    detail: { deep: opt('boolean'), objects: opt('integer'), reason },
  },
  'vault.restore': {
    meaning: 'a backup restored (first entry after the snapshot in the restored log)',
    uses: [],
    detail: {
      backupId: req('string'),
      takenAt: req('string'),
      auditSize: req('integer'),
      objects: req('integer'),
      erasedAgain: req('integer'),
      renditionsDropped: req('integer'),
      pendingRemoved: req('integer'),
      sessionsEnded: req('integer'),
    },
  },
} as const satisfies Record<string, ActionSpec>;

type Catalogue = typeof AUDIT_CATALOGUE;
export type AuditAction = keyof Catalogue;

interface FieldTypes {
  string: string;
  integer: number;
  boolean: boolean;
  'string[]': string[];
  'string|null': string | null;
  'integer|string': number | string;
  range: { start: number; end: number };
  'range[]': { start: number; end: number }[];
}

type Flatten<T> = { [K in keyof T]: T[K] };
type DetailSpec<A extends AuditAction> = Catalogue[A]['detail'];
type RequiredKeys<S> = { [K in keyof S]: S[K] extends { optional: false } ? K : never }[keyof S];
type OptionalKeys<S> = { [K in keyof S]: S[K] extends { optional: true } ? K : never }[keyof S];
type TypeOfField<F> = F extends { type: infer T extends FieldType } ? FieldTypes[T] : never;

/** the detail an action carries, as its catalogue entry declares it */
export type AuditDetail<A extends AuditAction> = Flatten<
  { [K in RequiredKeys<DetailSpec<A>>]: TypeOfField<DetailSpec<A>[K]> } & { [K in OptionalKeys<DetailSpec<A>>]?: TypeOfField<DetailSpec<A>[K]> }
>;

type UsedFields<A extends AuditAction> = Catalogue[A]['uses'][number];
type DetailMember<A extends AuditAction> = [RequiredKeys<DetailSpec<A>>] extends [never] ? { detail?: AuditDetail<A> } : { detail: AuditDetail<A> };

/** the action-specific part of an event: the action, the top-level fields it uses, its detail */
export type ActionFields<A extends AuditAction> = Flatten<
  { action: A } & { [K in UsedFields<A>]?: string } & { [K in Exclude<TopLevelField, UsedFields<A>>]?: never } & DetailMember<A>
>;

/** the actions whose detail may say why they were refused (`reason`) */
export type RefusableAction = { [A in AuditAction]: 'reason' extends keyof DetailSpec<A> ? A : never }[AuditAction];

export function isAuditAction(name: string): name is AuditAction {
  return Object.hasOwn(AUDIT_CATALOGUE, name);
}

/**
 * What is wrong with an event against the catalogue, or undefined when nothing is: an unknown
 * action, a top-level field or detail field the action does not declare, a required detail field
 * missing, a value of the wrong type. Undefined members count as absent (they are not encoded).
 */
export function catalogueProblem(event: { action: string; detail?: unknown } & Partial<Record<TopLevelField, unknown>>): string | undefined {
  if (!isAuditAction(event.action)) return `the audit action ${JSON.stringify(event.action)} is not in the catalogue`;
  const spec: ActionSpec = AUDIT_CATALOGUE[event.action];
  for (const field of TOP_LEVEL_FIELDS) {
    if (event[field] !== undefined && !spec.uses.includes(field)) return `${event.action} does not use ${field}`;
  }
  const detail = event.detail ?? {};
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return `the detail of ${event.action} is not an object`;
  for (const [key, value] of Object.entries(detail)) {
    if (value === undefined) continue;
    const field = Object.hasOwn(spec.detail, key) ? spec.detail[key] : undefined;
    if (!field) return `${event.action} declares no detail field ${key}`;
    if (!hasType(value, field.type)) return `the detail field ${key} of ${event.action} is not ${field.type}`;
  }
  for (const [key, field] of Object.entries(spec.detail)) {
    if (!field.optional && (detail as Record<string, unknown>)[key] === undefined) return `${event.action} needs the detail field ${key}`;
  }
  return undefined;
}

function hasType(value: unknown, type: FieldType): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isSafeInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'string[]':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'string|null':
      return value === null || typeof value === 'string';
    case 'integer|string':
      return typeof value === 'string' || Number.isSafeInteger(value);
    case 'range': {
      if (typeof value !== 'object' || value === null) return false;
      const keys = Object.keys(value).sort().join(',');
      const r = value as { start?: unknown; end?: unknown };
      return keys === 'end,start' && Number.isSafeInteger(r.start) && Number.isSafeInteger(r.end);
    }
    case 'range[]':
      return Array.isArray(value) && value.every((v) => hasType(v, 'range'));
  }
}
