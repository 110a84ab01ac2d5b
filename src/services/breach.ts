/**
 * The personal data breach report (GDPR art. 33/34) for the privacy officer and the operator:
 * what `POST /api/v1/breach/report` and `callvault breach report` do, the same way
 * (src/breach/report.ts computes it). The report is itself audited (`breach.report`, counts only).
 * The list of affected persons in clear (`callvault breach report --subjects FILE`) is made on the
 * host only, with the unlocked keyring: over HTTP a stolen session would otherwise carry every
 * affected person's identifiers out in one request.
 */
import { randomUUID } from 'node:crypto';
import { refusal } from '../audit/audit-log.js';
import { affectedPersons, breachReport, type AffectedPerson, type BreachReport, type BreachScope, type BreachWindow, type Reach } from '../breach/report.js';
import { CallvaultError, ErrorCodes } from '../errors.js';
import { controllerReach, type Principal } from '../policy/policy.js';
import { scrubbedFilter } from '../redaction/transcript.js';
import type { Vault } from '../vault.js';
import type { Actor } from './actor.js';
import type { AuditTrail } from './audit-trail.js';

/** what a caller names: exactly one scope, and an optional window (ISO 8601) */
export interface BreachReportRequest {
  key?: string;
  controller?: string;
  blobPrefix?: string;
  /** a username */
  user?: string;
  from?: string;
  to?: string;
}

export interface BreachSubjects {
  report: BreachReport;
  persons: AffectedPerson[];
  /** records that the subjects file was not finished (best effort: the report's entry is already written) */
  recordFailure: () => Promise<void>;
}

export class BreachService {
  /**
   * The metadata database (the recordings, their blind indexes and the audit log's search
   * columns), the accounts (a username to its id), the keys (a key id exists; the subjects list
   * decrypts) and the objects the sealed parts are read with.
   */
  constructor(
    private readonly vault: Pick<Vault, 'database' | 'users' | 'keys' | 'blobs' | 'controllers'>,
    private readonly trail: AuditTrail,
  ) {}

  /** the report of one scope: per controller in the caller's reach, what it exposed */
  async report(actor: Actor, request: BreachReportRequest): Promise<BreachReport> {
    const prepared = await this.prepare(actor, request);
    const report = await breachReport(this.vault.database.db, prepared);
    await this.trail.record(actor, reportEvent(report, prepared.covered));
    return report;
  }

  /**
   * The report and the affected persons in clear, for art. 34 notices: the entry (with how many
   * persons, never who) is written before the list is returned. Needs the unlocked keyring.
   */
  async subjects(actor: Actor, request: BreachReportRequest): Promise<BreachSubjects> {
    const principal = await this.trail.authorize(actor, 'breach:report', 'breach.report');
    if (!(principal.kind === 'operator' || (principal.kind === 'user' && principal.role === 'dpo'))) {
      await this.trail.record(actor, refusal('breach.report', 'role'));
      throw new CallvaultError(ErrorCodes.FORBIDDEN, 'only a privacy officer or the operator may list the persons');
    }
    if (!this.vault.keys.unlocked) throw new CallvaultError(ErrorCodes.KEYS_LOCKED, 'the list of persons needs the unlocked keyring');
    const prepared = await this.prepare(actor, request, principal);
    const report = await breachReport(this.vault.database.db, prepared);
    const persons = await affectedPersons(this.vault, prepared.scope, prepared.window, prepared.reach);
    const event = reportEvent(report, prepared.covered);
    await this.trail.record(actor, { ...event, detail: { ...event.detail, subjectsFile: true, subjects: persons.length } });
    return {
      report,
      persons,
      recordFailure: () =>
        this.trail
          .record(actor, { action: 'breach.report', outcome: 'failure', detail: { reportId: report.reportId, subjectsFile: true, reason: 'subjects-file' } })
          .catch(() => undefined),
    };
  }

  /** the policy's answer, the scope and window checked, and the reach the report is limited to */
  private async prepare(actor: Actor, request: BreachReportRequest, known?: Principal) {
    const principal = known ?? (await this.trail.authorize(actor, 'breach:report', 'breach.report'));
    const window = windowOf(request);
    // a privacy officer answers for the controllers (and regions) a contract in force, or employment, reaches
    const reach: Reach = principal.kind === 'user' ? controllerReach(principal, new Date()) : undefined;
    if (reach?.length === 0) {
      await this.trail.record(actor, refusal('breach.report', 'contract'));
      throw new CallvaultError(ErrorCodes.FORBIDDEN, 'no contract in force gives you a controller to answer for');
    }
    const { scope, username } = await this.scopeOf(request);
    if (scope.kind === 'controller' && reach && !reach.some((r) => r.controllerId === scope.controllerId)) {
      await this.trail.record(actor, refusal('breach.report', 'scope'));
      throw new CallvaultError(ErrorCodes.FORBIDDEN, 'that controller is not one you answer for');
    }
    const covered = reach ? reach.map((r) => r.controllerId).sort() : undefined;
    return { reportId: randomUUID(), scope, window, reach, username, covered };
  }

  private async scopeOf(request: BreachReportRequest): Promise<{ scope: BreachScope; username?: string }> {
    const given = [request.key, request.controller, request.blobPrefix, request.user].filter((v) => v !== undefined);
    if (given.length !== 1) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'name exactly one scope: a key, a controller, a blob prefix or a user');
    if (given[0] === '') throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'the scope is empty');
    if (request.key !== undefined) {
      // a key the keyring no longer lists may still wrap recordings (a retired or period key): any id with recordings counts
      const listed = (await this.vault.keys.list()).some((k) => k.keyId === request.key);
      if (!listed) {
        const used = await this.vault.database.db.selectFrom('recordings').select('id').where('key_id', '=', request.key).limit(1).executeTakeFirst();
        if (!used) throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such key');
      }
      return { scope: { kind: 'key', keyId: request.key } };
    }
    if (request.controller !== undefined) {
      if (!(await this.vault.controllers.get(request.controller))) throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such controller');
      return { scope: { kind: 'controller', controllerId: request.controller } };
    }
    if (request.blobPrefix !== undefined) return { scope: { kind: 'blob-prefix', prefix: request.blobPrefix } };
    const user = await this.vault.users.byUsername(request.user!);
    if (!user) throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no account with that username');
    return { scope: { kind: 'user', userId: user.id }, username: user.username };
  }
}

/** [from, to) as the entries and recordings write time (ISO 8601 UTC with milliseconds) */
function windowOf(request: BreachReportRequest): BreachWindow {
  const instant = (value: string | undefined, name: string) => {
    if (value === undefined) return undefined;
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, `${name} is not an ISO 8601 date-time`);
    return new Date(ms).toISOString();
  };
  const window = { from: instant(request.from, 'from'), to: instant(request.to, 'to') };
  if (window.from && window.to && window.from >= window.to) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'from must lie before to');
  return window;
}

function reportEvent(report: BreachReport, covered: string[] | undefined) {
  const s = report.scope;
  return {
    action: 'breach.report' as const,
    outcome: 'success' as const,
    detail: {
      reportId: report.reportId,
      scope: s.kind,
      keyId: s.keyId,
      controller: s.controllerId,
      // typed by a person: logged as typed, with any identifier in it replaced by its label
      blobPrefix: s.blobPrefix === undefined ? undefined : scrubbedFilter(s.blobPrefix),
      userId: s.userId,
      from: s.from ?? undefined,
      to: s.to ?? undefined,
      window: s.kind === 'user' ? 'access-time' : 'call-time',
      controllers: covered ?? report.controllers.map((c) => c.controllerId),
      recordings: report.totals.recordings,
      personnummer: report.totals.personnummerInMetadata,
      phones: report.totals.phonesInMetadata,
    },
  };
}
