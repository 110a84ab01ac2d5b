/**
 * The application layer: every use case of callvault, one service per family. Adapters (HTTP
 * routes, CLI commands, background jobs) parse their input, make an Actor, call one method and
 * present the answer; the method asks the policy, appends the audit entry and only then does the
 * work. Services get the parts of the vault they use, never the whole of it.
 */
import { AdministrationService } from './administration.js';
import { readCanaries } from '../alerts/canaries.js';
import { AuditTrail } from './audit-trail.js';
import { RedactionService } from './redaction.js';
import { BreakGlassService } from './break-glass.js';
import { KeysService } from './keys.js';
import { SessionsService } from './sessions.js';
import { EnrolmentService } from './enrolment.js';
import { RetentionService } from './retention.js';
import type { OidcProviderConfig } from '../identities/oidc.js';
import { IngestService } from './ingest.js';
import { BackupService } from './backup.js';
import { AuditReadingService } from './audit-reading.js';
import { SubjectRightsService } from './subject-rights.js';
import { BreachService } from './breach.js';
import { LogReviewService } from './log-review.js';
import { PlaybackService, RecordingsService } from './recordings.js';
import { verifyStore } from '../recordings/verify.js';
import { WatchlistsService } from './watchlists.js';
import type { Vault } from '../vault.js';
import { AlertsService } from './alerts.js';
import { DatabaseSources } from '../alerts/sources.js';

export interface Services {
  trail: AuditTrail;
  keys: KeysService;
  sessions: SessionsService;
  enrolment: EnrolmentService;
  retention: RetentionService;
  breakGlass: BreakGlassService;
  ingest: IngestService;
  backup: BackupService;
  administration: AdministrationService;
  auditReading: AuditReadingService;
  subjectRights: SubjectRightsService;
  breach: BreachService;
  logReview: LogReviewService;
  recordings: RecordingsService;
  playback: PlaybackService;
  redaction: RedactionService;
  alerts: AlertsService;
  /** the facts the alert detector reads, cached once per process (src/alerts/sources.ts) */
  alertSources: DatabaseSources;
  watchlists: WatchlistsService;
}

export interface ServiceOptions {
  /** the OpenID Connect providers people may sign in at (HTTP only) */
  oidc?: readonly OidcProviderConfig[];
}

export function createServices(vault: Vault, options: ServiceOptions = {}): Services {
  const trail = new AuditTrail(vault.audit);
  const alertSources = new DatabaseSources(vault, async () => new Set((await readCanaries(vault)).keys()));
  return {
    trail,
    keys: new KeysService(vault, trail),
    sessions: new SessionsService(vault, trail, vault.audit, options.oidc),
    enrolment: new EnrolmentService(vault, vault.audit),
    // retention destroys keys and rewraps: it gets the whole vault, as verify does
    retention: new RetentionService(vault, trail),
    breakGlass: new BreakGlassService(vault, trail),
    ingest: new IngestService(vault, trail),
    backup: new BackupService(vault, trail),
    administration: new AdministrationService(vault, trail),
    auditReading: new AuditReadingService(vault, trail),
    subjectRights: new SubjectRightsService(vault, trail),
    breach: new BreachService(vault, trail),
    logReview: new LogReviewService(vault, trail),
    // verify walks every table and object of the vault: it alone gets the whole of it
    recordings: new RecordingsService(vault, trail, (options) => verifyStore(vault, options)),
    playback: new PlaybackService(vault, trail),
    redaction: new RedactionService(vault, trail),
    alerts: new AlertsService(vault, trail, alertSources, vault.timeZone),
    alertSources,
    watchlists: new WatchlistsService(vault, trail),
  };
}

export type { Actor } from './actor.js';
