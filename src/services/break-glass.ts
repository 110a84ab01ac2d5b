/**
 * Break-the-glass: a nurse or supervisor in an emergency reaches every call of one controller they
 * already work for (inside their contract's regions) for at most an hour, after writing why.
 * Every access under it is flagged in the audit log, and the period waits for a privacy
 * officer's review. Its owner can end it early.
 */
import { randomUUID } from 'node:crypto';
import { CallvaultError, ErrorCodes } from '../errors.js';
import type { BreakGlassRow } from '../db/grants-repository.js';
import { BREAK_GLASS_MAX_MINUTES, controllerReach, mayBreakGlass } from '../policy/policy.js';
import { scrubbedText } from '../redaction/transcript.js';
import type { Vault } from '../vault.js';
import type { Actor } from './actor.js';
import type { AuditTrail, ServiceEvent } from './audit-trail.js';
import { signedIn } from './sessions.js';

export interface BreakGlassPeriod {
  id: string;
  userId: string;
  controllerId: string;
  reason: string;
  startedAt: string;
  expiresAt: string;
  reviewedAt: string | null;
  reviewedBy: string | null;
  reviewNote: string | null;
  /** who opened it, as the reviewer reads it ("anna", a nurse); null for an account since removed */
  username: string | null;
  role: string | null;
  /** who reviewed it, by username */
  reviewedByName: string | null;
}

export class BreakGlassService {
  constructor(
    private readonly deps: Pick<Vault, 'grants' | 'users'>,
    private readonly trail: AuditTrail,
  ) {}

  /** opens a period for `minutes` (at most an hour) on one controller the user already reaches in their role */
  async start(actor: Actor, request: { controllerId: string; reason: string; minutes?: number }): Promise<BreakGlassPeriod> {
    const me = signedIn(actor);
    await this.trail.authorize(actor, 'break-glass:start', 'break-glass.start');
    const now = new Date();
    if (!mayBreakGlass(me.principal, request.controllerId, now)) {
      await this.trail.record(actor, { action: 'break-glass.start', outcome: 'denied', controllerId: request.controllerId, detail: { reason: 'contract' } });
      throw new CallvaultError(ErrorCodes.FORBIDDEN, 'break-the-glass reaches only a controller you already work for');
    }
    const minutes = Math.min(request.minutes ?? BREAK_GLASS_MAX_MINUTES, BREAK_GLASS_MAX_MINUTES);
    const row: BreakGlassRow = {
      id: randomUUID(),
      user_id: me.user.id,
      controller_id: request.controllerId,
      // the reason is shown to reviewers and kept in the log and the table: an identifier written
      // into it ("Patient 19121212-1212 …") is kept as its label, as a stated purpose's text is
      reason: scrubbedText(request.reason) ?? '',
      started_at: now.toISOString(),
      expires_at: new Date(now.getTime() + minutes * 60_000).toISOString(),
      reviewed_at: null,
      reviewed_by: null,
      review_note: null,
    };
    const entry = { action: 'break-glass.start', controllerId: row.controller_id, breakGlassId: row.id } as const;
    await this.trail.record(actor, { ...entry, outcome: 'success', detail: { reason: row.reason, expiresAt: row.expires_at } });
    await this.#orFailure(actor, entry, () => this.deps.grants.addBreakGlass(row));
    return (await this.#views([row]))[0]!;
  }

  /** periods, newest first: a privacy officer sees their controller's, an auditor all */
  async list(actor: Actor, filter: { unreviewed?: boolean }): Promise<BreakGlassPeriod[]> {
    const principal = await this.trail.authorize(actor, 'break-glass:list', 'break-glass.list');
    const controllerIds = principal.kind === 'user' && principal.role === 'dpo' ? controllerReach(principal, new Date()).map((r) => r.controllerId) : undefined;
    const rows = await this.deps.grants.breakGlassList({ unreviewed: filter.unreviewed, controllerIds });
    await this.trail.record(actor, { action: 'break-glass.list', outcome: 'success', detail: { results: rows.length } });
    return this.#views(rows);
  }

  /** a privacy officer's review of someone else's period of their controller; once */
  async review(actor: Actor, id: string, note: string): Promise<BreakGlassPeriod> {
    const me = signedIn(actor);
    await this.trail.authorize(actor, 'break-glass:review', 'break-glass.review');
    const row = await this.deps.grants.breakGlass(id);
    const reach = controllerReach(me.principal, new Date()).map((r) => r.controllerId);
    // another controller's period is answered as one that does not exist
    if (!row || !reach.includes(row.controller_id)) throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such break-the-glass period');
    if (row.user_id === me.user.id) throw new CallvaultError(ErrorCodes.FORBIDDEN, 'nobody reviews their own break-the-glass');
    if (row.reviewed_at) throw reviewedAlready();
    const entry = { action: 'break-glass.review', breakGlassId: row.id, controllerId: row.controller_id } as const;
    await this.trail.record(actor, { ...entry, outcome: 'success' });
    const reviewed = await this.#orFailure(actor, entry, () => this.deps.grants.review(row.id, me.user.id, scrubbedText(note) ?? '', new Date().toISOString()));
    if (!reviewed) {
      // someone else's review landed between the check and here
      await this.trail.record(actor, { ...entry, outcome: 'failure', detail: { reason: ErrorCodes.CONFLICT } });
      throw reviewedAlready();
    }
    return (await this.#views([(await this.deps.grants.breakGlass(row.id))!]))[0]!;
  }

  /**
   * Ends one's own open period now (the UI's stop button): the reach it gave ends with it. The
   * period stays in the list for review, with its expiry set to the moment it was ended.
   */
  async end(actor: Actor, id: string): Promise<BreakGlassPeriod> {
    const me = signedIn(actor);
    await this.trail.authorize(actor, 'break-glass:start', 'break-glass.end');
    const row = await this.deps.grants.breakGlass(id);
    // someone else's period is answered as one that does not exist; the try is recorded (no
    // period id: an unknown id proves nothing, and a foreign one is not the caller's to name)
    if (!row || row.user_id !== me.user.id) {
      await this.trail.record(actor, { action: 'break-glass.end', outcome: 'denied', detail: { reason: 'scope' } });
      throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such break-the-glass period');
    }
    const now = new Date().toISOString();
    if (row.expires_at <= now) throw new CallvaultError(ErrorCodes.CONFLICT, 'this period has ended already');
    const entry = { action: 'break-glass.end', breakGlassId: row.id, controllerId: row.controller_id } as const;
    await this.trail.record(actor, { ...entry, outcome: 'success', detail: { expiresAt: row.expires_at } });
    const ended = await this.#orFailure(actor, entry, () => this.deps.grants.endBreakGlass(row.id, now));
    if (!ended) {
      // it expired between the check and here
      await this.trail.record(actor, { ...entry, outcome: 'failure', detail: { reason: ErrorCodes.CONFLICT } });
      throw new CallvaultError(ErrorCodes.CONFLICT, 'this period has ended already');
    }
    return (await this.#views([(await this.deps.grants.breakGlass(row.id))!]))[0]!;
  }

  /** the periods as answered, with the usernames and roles of who opened and who reviewed them */
  async #views(rows: BreakGlassRow[]): Promise<BreakGlassPeriod[]> {
    const ids = [...new Set(rows.flatMap((r) => [r.user_id, r.reviewed_by].filter((x): x is string => x !== null)))];
    const users = new Map((await Promise.all(ids.map((id) => this.deps.users.get(id)))).filter((u) => u !== undefined).map((u) => [u.id, u]));
    return rows.map((row) => {
      const owner = users.get(row.user_id);
      return {
        ...view(row),
        username: owner?.username ?? null,
        role: owner?.role ?? null,
        reviewedByName: row.reviewed_by ? (users.get(row.reviewed_by)?.username ?? null) : null,
      };
    });
  }

  /** runs a change whose success entry is written; when it fails, a failure entry follows and the error is rethrown */
  async #orFailure<T>(actor: Actor, entry: { action: string; breakGlassId: string; controllerId: string }, change: () => Promise<T>): Promise<T> {
    try {
      return await change();
    } catch (err) {
      await this.trail.record(actor, { ...entry, outcome: 'failure', detail: { reason: (err as { code?: string })?.code ?? 'error' } } as ServiceEvent);
      throw err;
    }
  }
}

function reviewedAlready(): CallvaultError {
  return new CallvaultError(ErrorCodes.CONFLICT, 'this period has been reviewed already');
}

function view(row: BreakGlassRow): Omit<BreakGlassPeriod, 'username' | 'role' | 'reviewedByName'> {
  return {
    id: row.id,
    userId: row.user_id,
    controllerId: row.controller_id,
    reason: row.reason,
    startedAt: row.started_at,
    expiresAt: row.expires_at,
    reviewedAt: row.reviewed_at,
    reviewedBy: row.reviewed_by,
    reviewNote: row.review_note,
  };
}
