/**
 * The metadata schema, one for SQLite and PostgreSQL. Columns that could identify a caller are
 * absent: identifiers live only inside `sealed_metadata` (encrypted under the recording's data
 * key) and as keyed blind indexes in `recording_identifiers` (docs/metadata.md).
 */
import type { ColumnType } from 'kysely';

/** a column the database fills with its default when an insert leaves it out */
type Defaulted<T> = ColumnType<T, T | undefined, T>;

export interface ControllersTable {
  id: string;
  name: string;
  created_at: string;
}

/**
 * pending: being written; stored: listed and readable; erased: a tombstone after a data subject's
 * erasure (src/subject/erase.ts): its data key, sealed fields, blind indexes, renditions and grants
 * are gone, the row stays so that audit entries naming its id still resolve.
 */
export type RecordingState = 'pending' | 'stored' | 'erased';

export interface RecordingsTable {
  id: string;
  controller_id: string;
  state: RecordingState;
  /** host:pid of the process writing a pending recording, so debris of dead writers can be found */
  writer: string | null;
  blob_key: string;
  key_id: string;
  /** HPKE enc ‖ ciphertext of the data key, base64 */
  wrapped_key: string;
  ciphertext_size: ColumnType<number, number, number>;
  ciphertext_sha256: string;
  /** SHA-256 of the original file, for idempotent import */
  content_sha256: string;
  plaintext_size: ColumnType<number, number, number>;
  format: string;
  codec: string;
  sample_rate: number;
  channels: number;
  duration_ms: number;
  agent: string | null;
  region: string | null;
  direction: string | null;
  started_at: string | null;
  /** identifiers (caller, personnummer, source file name and path), sealed, base64 */
  sealed_metadata: string;
  /** 0 until the blind indexes for the sealed identifiers have been written */
  indexed: number;
  imported_at: string;
  /** a transcript given at ingest, sealed like the metadata, base64 */
  sealed_transcript: Defaulted<string | null>;
  /** where identifier redaction stands (docs/redaction.md) */
  redaction: Defaulted<RedactionState>;
  /** why redaction failed: the recording is flagged and only the original exists */
  redaction_problem: Defaulted<string | null>;
  /** the transcript with identifiers replaced by labels, sealed, base64 */
  sealed_redacted_transcript: Defaulted<string | null>;
  /** identifiers found in the transcript with their time spans, sealed JSON, base64 */
  sealed_detections: Defaulted<string | null>;
  /** when the recording was erased (state `erased`); its `wrapped_key` and `sealed_metadata` are then '' */
  erased_at: Defaulted<string | null>;
  /** set when retention erased it by destroying its period key (docs/retention.md): CV_SHREDDED */
  shredded_at: Defaulted<string | null>;
  /** the retention class (`default`, `journal`, …): which of the controller's retentions applies */
  retention_class: Defaulted<string>;
  /** JSON array of blob keys an erasure has still to delete (ciphertext whose key is gone); null when none */
  erasure_debris: Defaulted<string | null>;
}

/**
 * pending: not examined yet; none: no transcript, so nothing tells where identifiers are spoken;
 * clean: the transcript holds none, the original is its own redaction; redacted: a redacted
 * rendition exists; failed: an identifier could not be removed, only the original exists.
 */
export type RedactionState = 'pending' | 'none' | 'clean' | 'redacted' | 'failed';

/** another encoding of a recording (the redacted audio), a container under the recording's data key */
export interface RecordingRenditionsTable {
  /** the container id in the rendition's header, distinct from the recording's */
  id: string;
  recording_id: string;
  kind: 'redacted';
  blob_key: string;
  format: string;
  ciphertext_size: ColumnType<number, number, number>;
  ciphertext_sha256: string;
  plaintext_size: ColumnType<number, number, number>;
  created_at: string;
}

export interface RetentionPoliciesTable {
  controller_id: string;
  class: string;
  days: number;
  updated_at: string;
}

export interface HoldsTable {
  id: string;
  /** 'recording', 'personnummer', 'phone' or 'agent' */
  kind: string;
  recording_id: string | null;
  agent: string | null;
  from_time: string | null;
  to_time: string | null;
  case_ref: string;
  /** with any identifier in it replaced by its label */
  reason: string;
  created_by: string;
  created_at: string;
  released_at: string | null;
  released_by: string | null;
  release_reason: string | null;
  /** the controllers the hold was placed for (the placer's reach), comma-separated */
  controllers: string;
}

/** a hold by person: the person's blind-index digest under each controller's key */
export interface HoldDigestsTable {
  hold_id: string;
  controller_id: string;
  kind: string;
  digest: string;
}

export interface RecordingIdentifiersTable {
  kind: string;
  digest: string;
  recording_id: string;
}

/**
 * A source file `callvault import` stored (src/import/journal.ts): its identity as stat gives it,
 * unsigned 64-bit values as decimal text, and the recording it became. No path, no content hash.
 */
export interface ImportJournalTable {
  inode: string;
  device: string;
  controller_id: string;
  size: ColumnType<number, number, number>;
  mtime_ns: string;
  ctime_ns: string;
  recording_id: string;
}

/** how a recording was destroyed: a data subject's erasure, or retention's shredding */
export type Destruction = 'erased' | 'shredded';

/**
 * A destroyed recording's link to the person it was about (src/recordings/destroyed.ts): the
 * blind-index digests of its personnummer and phone number (metadata and transcript) it had when it
 * was destroyed, kept for the person's access log (PDL 8 kap.) and read by nothing else.
 */
export interface DestroyedIdentifiersTable {
  kind: string;
  digest: string;
  recording_id: string;
  controller_id: string;
  /** the call's start time, as the recording's row had it */
  started_at: string | null;
  destruction: Destruction;
  destroyed_at: string;
}

export interface UsersTable {
  id: string;
  username: string;
  role: string;
  controller_id: string | null;
  password_hash: string;
  /** TOTP secret sealed under a key derived from the installation secret, base64 */
  totp_secret_sealed: string;
  created_at: string;
  /** staff of a processor reach controllers only through that processor's contracts */
  processor_id: Defaulted<string | null>;
  /** the agent id recorders put in a call's metadata: a nurse reaches the calls they handled */
  agent: Defaulted<string | null>;
  /** a supervisor reaches the calls of the agents in their team */
  team: Defaulted<string | null>;
  /** 0 until the first sign-in has confirmed a code from the authenticator */
  totp_enrolled: Defaulted<number>;
  /** the RFC 6238 time step of the last accepted code: a code is accepted once */
  totp_last_step: Defaulted<number>;
  /** 1 for a password set by an administrator: the first sign-in must replace it */
  password_one_time: Defaulted<number>;
  disabled: Defaulted<number>;
  /** accounts that sign in through an OpenID provider instead of a password and TOTP */
  oidc_issuer: Defaulted<string | null>;
  oidc_subject: Defaulted<string | null>;
  /** SHA-256 (hex) of the single-use enrolment code handed to the person, and its expiry */
  enrolment_hash: Defaulted<string | null>;
  enrolment_expires_at: Defaulted<string | null>;
  /** 'approved', 'pending' (usable for nothing) or 'refused'; migration 0011 */
  approval: Defaulted<Approval>;
  /** what waits for approval: 'create', 'reset' or 'enable' */
  approval_request: Defaulted<string | null>;
  /** the account id (or 'cli') that asked for it, and the one that approved or refused */
  approval_requested_by: Defaulted<string | null>;
  approval_decided_by: Defaulted<string | null>;
  /** working hours `HH:MM-HH:MM` (Europe/Stockholm unless configured); null: none, so no after-hours alerts */
  work_hours: Defaulted<string | null>;
}

/** the four-eyes state of an account or a contract (docs/access.md, "Approval") */
export const APPROVALS = ['approved', 'pending', 'refused'] as const;
export type Approval = (typeof APPROVALS)[number];

export interface ProcessorsTable {
  id: string;
  name: string;
  created_at: string;
}

export interface ContractsTable {
  id: string;
  processor_id: string;
  controller_id: string;
  /** comma-separated roles the processor's staff may hold under this contract */
  roles: string;
  /** comma-separated regions of the controller's calls; null: all */
  regions: string | null;
  valid_from: string;
  valid_to: string;
  created_at: string;
  /** a contract reaches nothing until the controller has approved it (migration 0011) */
  approval: Defaulted<Approval>;
  approval_request: Defaulted<string | null>;
  approval_requested_by: Defaulted<string | null>;
  approval_decided_by: Defaulted<string | null>;
}

export interface SessionsTable {
  /** SHA-256 of the cookie value: a database dump holds no usable session */
  id_hash: string;
  user_id: string;
  csrf_token: string;
  created_at: string;
  last_seen_at: string;
  /** the absolute timeout */
  expires_at: string;
  revoked_at: string | null;
}

export interface ApiTokensTable {
  id: string;
  name: string;
  scope: string;
  controller_id: string;
  /** SHA-256 of the token's secret part */
  secret_hash: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
  /** an ingest token's regions, comma-separated; null: every region of its controller */
  regions: string | null;
  /** an ingest token's agents, comma-separated; null: every agent */
  agents: string | null;
}

/** a stated purpose for one user and one recording, short-lived; playback requests name it */
export interface AccessGrantsTable {
  id: string;
  user_id: string;
  recording_id: string;
  purpose: string;
  purpose_text: string | null;
  break_glass_id: string | null;
  created_at: string;
  expires_at: string;
  /** what the purpose was stated for: the redacted rendition or the original */
  rendition: Defaulted<'redacted' | 'original'>;
}

export interface BreakGlassTable {
  id: string;
  user_id: string;
  controller_id: string;
  reason: string;
  started_at: string;
  expires_at: string;
  reviewed_at: string | null;
  reviewed_by: string | null;
  review_note: string | null;
}

export interface AuditHeadTable {
  id: number;
  size: ColumnType<number, number, number>;
}

export interface AuditEntriesTable {
  seq: ColumnType<number, number, never>;
  /** canonical entry bytes (docs/audit-log.md), UTF-8 JSON */
  entry: string;
  /** RFC 9162 leaf hash, hex */
  leaf_hash: string;
  /** the entry's recordingId, for lookups; verify checks it against the entry */
  recording_id: string | null;
  /** the entry's detail.personnummerHash or detail.phoneHash, likewise */
  identifier_hash: string | null;
  /**
   * The search columns (migration 0007): the entry's time, action, outcome, actor.id and
   * actor.name, copied out for the auditor's search. Conveniences, never trusted: verify checks
   * them against the entry. Null in rows written before the migration until it backfilled them.
   */
  time: Defaulted<string | null>;
  action: Defaulted<string | null>;
  outcome: Defaulted<string | null>;
  actor_id: Defaulted<string | null>;
  actor_name: Defaulted<string | null>;
}

export interface AuditCheckpointsTable {
  size: ColumnType<number, number, never>;
  /** the signed note, C2SP tlog-checkpoint */
  note: string;
  created_at: string;
}

/** the signed checkpoints verifications of the audit log reached (src/audit/verifications.ts) */
/** one row: moved by triggers on every change that can end a session or an access (migration 0018) */
export interface RevocationEpochTable {
  id: number;
  epoch: number;
}

export interface AuditVerificationsTable {
  size: ColumnType<number, number, never>;
  mode: 'full' | 'incremental';
  /** the checkpoint's root hash, base64 */
  root_hash: string;
  verified_at: string;
}

export interface AuditSubtreesTable {
  /** index of the first of 256 leaves */
  start: ColumnType<number, number, never>;
  /** MTH of those leaves, hex */
  hash: string;
}

/** requests per client key and time window, counted across every server on the database */
export interface RateLimitsTable {
  key: string;
  /** the window's number: floor(epoch ms / window length) */
  window: ColumnType<number, number, number>;
  count: number;
}

/**
 * Failed sign-ins of an account from one client address, or from all (address '*'): `failures`
 * as it stood at the last failure, decaying since (src/identities/lockout.ts), and a lock.
 */
export interface SigninFailuresTable {
  user_id: string;
  address: string;
  failures: number;
  last_failure_ms: ColumnType<number, number, number>;
  locked_until_ms: ColumnType<number | null, number | null | undefined, number | null>;
}

/** a display name for a region code or an agent id as recordings carry them (migration 0015) */
export interface DisplayNamesTable {
  kind: 'region' | 'agent';
  id: string;
  name: string;
  updated_at: string;
}

/** one background job (checkpoints, the redaction backlog) runs on one server at a time */
export interface LeasesTable {
  name: string;
  /** host:pid:random of the server holding it */
  holder: string;
  expires_at: string;
}

export interface Database {
  controllers: ControllersTable;
  recordings: RecordingsTable;
  recording_identifiers: RecordingIdentifiersTable;
  import_journal: ImportJournalTable;
  retention_policies: RetentionPoliciesTable;
  holds: HoldsTable;
  hold_digests: HoldDigestsTable;
  destroyed_identifiers: DestroyedIdentifiersTable;
  alerts: AlertsTable;
  detector_state: DetectorStateTable;
  alert_settings: AlertSettingsTable;
  staff_identifiers: StaffIdentifiersTable;
  protected_subjects: ProtectedSubjectsTable;
  protected_digests: ProtectedDigestsTable;
  canaries: CanariesTable;
  review_periods: ReviewPeriodsTable;
  review_samples: ReviewSamplesTable;
  display_names: DisplayNamesTable;
  recording_renditions: RecordingRenditionsTable;
  users: UsersTable;
  processors: ProcessorsTable;
  contracts: ContractsTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  access_grants: AccessGrantsTable;
  break_glass: BreakGlassTable;
  audit_head: AuditHeadTable;
  audit_entries: AuditEntriesTable;
  audit_checkpoints: AuditCheckpointsTable;
  audit_subtrees: AuditSubtreesTable;
  audit_verifications: AuditVerificationsTable;
  revocation_epoch: RevocationEpochTable;
  rate_limits: RateLimitsTable;
  signin_failures: SigninFailuresTable;
  leases: LeasesTable;
}

/** an alert of the insider-misuse detector (src/alerts/, docs/alerts.md) */
export interface AlertsTable {
  id: string;
  rule: string;
  severity: string;
  user_id: string | null;
  username: string | null;
  role: string | null;
  /** the controllers whose recordings it concerns, comma-separated */
  controllers: string;
  /** one open alert per rule, account and window */
  dedup_key: string;
  state: 'open' | 'closed';
  created_at: string;
  updated_at: string;
  /** in words, without identifiers */
  evidence: string;
  /** the same as facts (src/alerts/evidence.ts), JSON; null for alerts raised before migration 0019 */
  evidence_facts: string | null;
  /** JSON array of audit positions */
  entries: string;
  /** JSON array of recording ids */
  recordings: string;
  outcome: string | null;
  note: string | null;
  resolved_by: string | null;
  resolved_at: string | null;
}

export interface DetectorStateTable {
  name: string;
  position: ColumnType<number, number, number>;
  updated_at: string;
}

export interface AlertSettingsTable {
  controller_id: string;
  settings: string;
  updated_at: string;
}

/** a member of staff's personnummer or phone, as a blind-index digest under each controller's key */
export interface StaffIdentifiersTable {
  user_id: string;
  controller_id: string;
  kind: string;
  digest: string;
}

/** a person marked protected (skyddad identitet, or a VIP a privacy officer names) */
export interface ProtectedSubjectsTable {
  id: string;
  reason: string;
  created_by: string;
  created_at: string;
  released_at: string | null;
  released_by: string | null;
}

export interface ProtectedDigestsTable {
  protected_id: string;
  controller_id: string;
  kind: string;
  digest: string;
}

/** one canary recording: which recording, sealed under a key from the keyring (src/alerts/canaries.ts) */
export interface CanariesTable {
  id: string;
  sealed: string;
  created_at: string;
}

/** a month's documented log review: the sample is drawn once, reproducibly from its seed */
export interface ReviewPeriodsTable {
  period: string;
  seed: string;
  drawn_by: string;
  drawn_at: string;
  method: string;
}

export interface ReviewSamplesTable {
  id: string;
  period: string;
  position: ColumnType<number, number, number>;
  chosen_by: string;
  outcome: string | null;
  note: string | null;
  reviewed_by: string | null;
  reviewed_at: string | null;
}
