/**
 * Retention and legal holds (docs/retention.md): what `callvault retention|hold …`, the
 * `/retention` and `/holds` routes and the server's daily run do. A controller's privacy officer
 * sets its retentions, classes and holds; the operator on the host (and the server's job) runs
 * retention, which destroys keys.
 */
import { randomUUID } from 'node:crypto';
import { CallvaultError, ErrorCodes } from '../errors.js';
import type { HoldRow } from '../db/retention-repository.js';
import { normalizePersonnummer, normalizePhone } from '../identifiers/normalize.js';
import { controllerReach, decide, reachesEverything, type Principal } from '../policy/policy.js';
import { personDigests } from '../recordings/indexer.js';
import { scrubbedText } from '../redaction/transcript.js';
import { assertRetentionClass, assertRetentionDays, DEFAULT_CLASS, shredCutoff } from '../retention/periods.js';
import { placeHold, runRetention, type RetentionReport } from '../retention/run.js';
import type { Vault } from '../vault.js';
import { actorRef, type Actor } from './actor.js';
import type { AuditTrail } from './audit-trail.js';

export interface RetentionView {
  controllerId: string;
  class: string;
  days: number;
  updatedAt: string;
}

export interface HoldView {
  id: string;
  kind: string;
  recordingId: string | null;
  agent: string | null;
  from: string | null;
  to: string | null;
  case: string;
  reason: string;
  createdAt: string;
  releasedAt: string | null;
  releaseReason: string | null;
}

/** what a hold covers: exactly one of a recording, a person (by personnummer or phone), or an agent's calls in a window */
export interface HoldSpec {
  recordingId?: string;
  personnummer?: string;
  phone?: string;
  agent?: string;
  from?: string;
  to?: string;
  case: string;
  reason: string;
}

const TEXT_MIN = 3;

export class RetentionService {
  constructor(
    private readonly vault: Vault,
    private readonly trail: AuditTrail,
  ) {}

  /** the retentions of the controllers the caller answers for */
  async policies(actor: Actor): Promise<RetentionView[]> {
    const principal = await this.trail.authorize(actor, 'retention:manage', 'retention.show');
    await this.trail.record(actor, { action: 'retention.show', outcome: 'success', detail: { what: 'policies' } });
    const reach = this.reach(principal);
    return (await this.vault.retention.policies())
      .filter((p) => !reach || reach.includes(p.controller_id))
      .map((p) => ({ controllerId: p.controller_id, class: p.class, days: p.days, updatedAt: p.updated_at }));
  }

  /**
   * Sets a class's retention. Lowering one shows first how many recordings the next run would
   * shred: `confirm` gets that count and returns whether to go on (the CLI asks, the API takes
   * `confirm: true`). Answers whether it was applied.
   */
  async set(
    actor: Actor,
    spec: { controllerId: string; class?: string; days: number },
    confirm: (wouldShred: number) => Promise<boolean>,
  ): Promise<{ applied: boolean; wouldShred: number; previousDays: number | null }> {
    const principal = await this.trail.authorize(actor, 'retention:manage', 'retention.set');
    const cls = spec.class ?? DEFAULT_CLASS;
    assertRetentionClass(cls);
    assertRetentionDays(spec.days);
    await this.requireController(actor, principal, spec.controllerId, 'retention.set');
    const previous = (await this.vault.retention.policies(spec.controllerId)).find((p) => p.class === cls);
    const previousDays = previous?.days ?? null;
    const lowering = previousDays === null || spec.days < previousDays;
    const holdKeys = (await this.vault.keys.list()).filter((k) => k.scope?.startsWith('hold/')).map((k) => k.keyId);
    const count = lowering ? await this.vault.retention.countBefore(spec.controllerId, cls, shredCutoff(spec.days, new Date()), holdKeys) : { recordings: 0, held: 0 };
    const wouldShred = count.recordings - count.held;
    const applied = wouldShred === 0 || (await confirm(wouldShred));
    await this.trail.record(actor, {
      action: 'retention.set',
      outcome: 'success',
      controllerId: spec.controllerId,
      detail: { class: cls, days: spec.days, ...(previousDays === null ? {} : { previousDays }), wouldShred, applied },
    });
    if (applied) await this.vault.retention.setPolicy({ controller_id: spec.controllerId, class: cls, days: spec.days, updated_at: new Date().toISOString() });
    return { applied, wouldShred, previousDays };
  }

  /** a recording's retention class, set by a privacy officer in reach; the next run moves its key */
  async setClass(actor: Actor, recordingId: string, cls: string): Promise<{ id: string; class: string }> {
    const principal = await this.trail.authorize(actor, 'retention:manage', 'recording.class');
    assertRetentionClass(cls);
    const row = await this.vault.recordings.get(recordingId);
    const allowed =
      row?.state === 'stored' &&
      (reachesEverything(principal) || decide(principal, 'recording:view', { controllerId: row.controller_id, region: row.region, agent: row.agent }, new Date()).allowed);
    if (!row || !allowed) {
      await this.trail.record(actor, { action: 'recording.class', outcome: 'denied', recordingId, detail: { reason: 'scope' } });
      throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such recording');
    }
    await this.trail.record(actor, {
      action: 'recording.class',
      outcome: 'success',
      recordingId,
      controllerId: row.controller_id,
      detail: { class: cls, previous: row.retention_class },
    });
    await this.vault.recordings.setRetentionClass(recordingId, cls);
    return { id: recordingId, class: cls };
  }

  /** a retention run over every controller (the operator, or the server's daily job); each controller's entry comes first */
  async run(actor: Actor, options: { dryRun: boolean; now?: Date }): Promise<RetentionReport> {
    await this.trail.authorize(actor, 'retention:run', 'retention.run');
    if (!options.dryRun) this.requireUnlocked();
    return runRetention(this.vault, {
      dryRun: options.dryRun,
      now: options.now,
      record: (r) =>
        this.trail.record(actor, {
          action: 'retention.run',
          outcome: 'success',
          controllerId: r.controllerId,
          detail: { dryRun: options.dryRun, moved: r.moved, shredded: r.shredded, held: r.held, keysDestroyed: r.keysDestroyed },
        }),
    });
  }

  // ---- legal holds

  /** the holds placed for a controller the caller answers for (every one for the operator) */
  async holds(actor: Actor): Promise<HoldView[]> {
    const principal = await this.trail.authorize(actor, 'retention:manage', 'retention.show');
    await this.trail.record(actor, { action: 'retention.show', outcome: 'success', detail: { what: 'holds' } });
    const reach = this.reach(principal);
    return (await this.vault.retention.holds()).filter((h) => inReach(h, reach)).map(holdView);
  }

  /**
   * Places a hold, with no cap on what it covers. It takes effect at once: every recording it
   * covers now is rewrapped to the hold's key before this returns, so it stays readable from any
   * backup taken after, whatever retention destroys; recordings that arrive later and match are
   * wrapped to it (an agent's) or moved by the next run (a person's). Needs the keyring: the
   * person's blind-index digests and the rewrap do.
   */
  async addHold(actor: Actor, spec: HoldSpec): Promise<HoldView & { covered: number }> {
    const principal = await this.trail.authorize(actor, 'retention:manage', 'hold.add');
    this.requireUnlocked();
    const kinds = [spec.recordingId && 'recording', spec.personnummer && 'personnummer', spec.phone && 'phone', spec.agent && 'agent'].filter(Boolean) as string[];
    if (kinds.length !== 1) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'a hold covers exactly one of: a recording, a personnummer, a phone number, an agent');
    const kind = kinds[0]!;
    const caseRef = requireText(spec.case, 'the case reference');
    const reason = requireText(spec.reason, 'the reason');
    for (const t of [spec.from, spec.to])
      if (t !== undefined && Number.isNaN(Date.parse(t))) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'from and to are ISO 8601 times');
    if (kind !== 'agent' && (spec.from || spec.to)) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'from and to go with an agent');
    const reach = this.reach(principal);
    const controllers = (await this.vault.controllers.list()).map((c) => c.id).filter((c) => !reach || reach.includes(c));
    if (kind === 'recording') {
      const row = await this.vault.recordings.get(spec.recordingId!);
      if (row?.state !== 'stored' || !controllers.includes(row.controller_id)) {
        await this.trail.record(actor, { action: 'hold.add', outcome: 'denied', recordingId: spec.recordingId, detail: { kind, reason: 'scope' } });
        throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such recording');
      }
    }
    const value =
      kind === 'personnummer'
        ? invalidAsRequest(() => normalizePersonnummer(spec.personnummer!))
        : kind === 'phone'
          ? invalidAsRequest(() => normalizePhone(spec.phone!))
          : undefined;
    const hold: HoldRow = {
      id: randomUUID(),
      kind,
      recording_id: spec.recordingId ?? null,
      agent: spec.agent ?? null,
      from_time: spec.from ? new Date(spec.from).toISOString() : null,
      to_time: spec.to ? new Date(spec.to).toISOString() : null,
      case_ref: caseRef,
      reason,
      created_by: actorRef(actor),
      created_at: new Date().toISOString(),
      released_at: null,
      released_by: null,
      release_reason: null,
      controllers: controllers.join(','),
    };
    const digests = value
      ? personDigests(this.vault, controllers, { [kind]: value }, { spoken: false }).map((d) => ({
          hold_id: hold.id,
          controller_id: d.controllerId,
          kind: d.kind,
          digest: d.digest,
        }))
      : [];
    await this.trail.record(actor, {
      action: 'hold.add',
      outcome: 'success',
      recordingId: spec.recordingId,
      detail: {
        holdId: hold.id,
        kind,
        ...(value ? { [`${kind}Hash`]: this.vault.audit.identifierHash(kind as 'personnummer' | 'phone', value) } : {}),
        ...(spec.agent ? { agent: scrubbedText(spec.agent) } : {}),
        ...(hold.from_time ? { from: hold.from_time } : {}),
        ...(hold.to_time ? { to: hold.to_time } : {}),
        case: caseRef,
      },
    });
    await this.vault.retention.addHold(hold, digests);
    const covered = await placeHold(this.vault, hold.id, controllers);
    return { ...holdView(hold), covered };
  }

  /** releases a hold; what it kept goes to the next run, which shreds what is past retention */
  async releaseHold(actor: Actor, id: string, reasonText: string): Promise<HoldView> {
    const principal = await this.trail.authorize(actor, 'retention:manage', 'hold.release');
    const reason = requireText(reasonText, 'the reason');
    const hold = await this.vault.retention.hold(id);
    if (!hold || !inReach(hold, this.reach(principal))) {
      await this.trail.record(actor, { action: 'hold.release', outcome: 'denied', detail: { holdId: id, reason: 'scope' } });
      throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such hold');
    }
    if (hold.released_at) throw new CallvaultError(ErrorCodes.CONFLICT, 'this hold was released already');
    await this.trail.record(actor, { action: 'hold.release', outcome: 'success', detail: { holdId: id, case: hold.case_ref, reason } });
    if (!(await this.vault.retention.release(id, new Date().toISOString(), actorRef(actor), reason)))
      throw new CallvaultError(ErrorCodes.CONFLICT, 'this hold was released already');
    return holdView((await this.vault.retention.hold(id))!);
  }

  /** the controllers a privacy officer answers for; undefined: every one (the operator) */
  private reach(principal: Principal): string[] | undefined {
    if (reachesEverything(principal)) return undefined;
    return principal.kind === 'user' ? controllerReach(principal, new Date()).map((r) => r.controllerId) : [];
  }

  private async requireController(actor: Actor, principal: Principal, controllerId: string, action: 'retention.set'): Promise<void> {
    const reach = this.reach(principal);
    const known = await this.vault.controllers.get(controllerId);
    if (!known || (reach && !reach.includes(controllerId))) {
      await this.trail.record(actor, { action, outcome: 'denied', controllerId, detail: { reason: known ? 'scope' : 'unknown' } });
      throw new CallvaultError(ErrorCodes.CONTROLLER_UNKNOWN, 'no such controller in your reach');
    }
  }

  private requireUnlocked(): void {
    if (!this.vault.keys.unlocked) throw new CallvaultError(ErrorCodes.KEYS_LOCKED, 'this needs the keyring: set CALLVAULT_PASSPHRASE (or the HSM PIN)');
  }
}

/** a hold is a privacy officer's to see and release when it was placed for a controller they answer for */
function inReach(hold: HoldRow, reach: string[] | undefined): boolean {
  return !reach || hold.controllers.split(',').some((c) => reach.includes(c));
}

function holdView(h: HoldRow): HoldView {
  return {
    id: h.id,
    kind: h.kind,
    recordingId: h.recording_id,
    agent: h.agent,
    from: h.from_time,
    to: h.to_time,
    case: h.case_ref,
    reason: h.reason,
    createdAt: h.created_at,
    releasedAt: h.released_at,
    releaseReason: h.release_reason,
  };
}

/** free text of a few characters at least, with any identifier in it kept as its label */
export function requireText(text: string | undefined, what: string): string {
  const scrubbed = scrubbedText(text);
  if (!scrubbed || scrubbed.length < TEXT_MIN) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, `${what} needs at least ${TEXT_MIN} characters`);
  return scrubbed;
}

function invalidAsRequest<T>(f: () => T): T {
  try {
    return f();
  } catch {
    throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'not a valid personnummer or phone number');
  }
}
