/**
 * What the insider-misuse detector (src/alerts/, docs/alerts.md) matches accesses against, as the
 * people who know it enter it: members of staff's own personnummer and phone numbers and their
 * working hours (an administrator, `callvault users add|edit`, `PATCH /users/{id}`), and persons
 * marked protected (a privacy officer, `callvault subject protect|unprotect|protected`,
 * `/protected`). Identifiers are stored only as blind-index digests, one per controller and kind,
 * under the metadata's kinds and the transcript's, so that a call by or about the person matches
 * whichever way they were found in it. The detector reads the tables itself.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { CallvaultError, ErrorCodes } from '../errors.js';
import type { Database } from '../db/schema.js';
import { normalizePersonnummer, normalizePhone } from '../identifiers/normalize.js';
import { controllerReach, reachesEverything, type Principal } from '../policy/policy.js';
import { personDigests } from '../recordings/indexer.js';
import type { Vault } from '../vault.js';
import { actorRef, type Actor } from './actor.js';
import type { AuditTrail } from './audit-trail.js';
import { requireText } from './retention.js';

/** one person's identifiers, as given (validated and made canonical by `canonicalPerson`) */
export interface PersonIdentifiers {
  personnummer?: string;
  phone?: string;
}

const HOURS = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/;

/**
 * Working hours `HH:MM-HH:MM` (24-hour clock); an end before the start spans midnight (a night
 * shift, 22:00-06:00). A span of no length is refused: it would make every access after hours.
 */
export function parseWorkHours(hours: string): string {
  const m = HOURS.exec(hours.trim());
  if (!m) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'working hours are HH:MM-HH:MM, e.g. 07:00-17:00 (22:00-06:00 spans midnight)');
  if (m[1] === m[3] && m[2] === m[4]) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'working hours must not start and end at the same time');
  return hours.trim();
}

/** the identifiers in their canonical forms; the error names which one is bad, never its value */
export function canonicalPerson(person: PersonIdentifiers): { personnummer?: string; phone?: string } {
  const out: { personnummer?: string; phone?: string } = {};
  if (person.personnummer !== undefined) {
    try {
      out.personnummer = normalizePersonnummer(person.personnummer);
    } catch {
      throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'the personnummer is not a valid Swedish personal or coordination number');
    }
  }
  if (person.phone !== undefined) {
    try {
      out.phone = normalizePhone(person.phone);
    } catch {
      throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'the phone number is not a valid phone number');
    }
  }
  return out;
}

/** staff identifier rows for one account under every controller that exists (needs the keyring) */
export async function staffIdentifierRows(
  vault: Pick<Vault, 'keys' | 'controllers'>,
  userId: string,
  person: { personnummer?: string; phone?: string },
): Promise<{ user_id: string; controller_id: string; kind: string; digest: string }[]> {
  if (!person.personnummer && !person.phone) return [];
  requireUnlocked(vault);
  const controllers = (await vault.controllers.list()).map((c) => c.id);
  return personDigests(vault, controllers, person, { spoken: true }).map((d) => ({ user_id: userId, controller_id: d.controllerId, kind: d.kind, digest: d.digest }));
}

/**
 * Replaces the stored digests of the kinds given (a new personnummer replaces the old one's
 * digests, and leaves the phone's alone); `clear` removes every one first.
 */
export async function storeStaffIdentifiers(
  db: Kysely<Database>,
  userId: string,
  rows: { user_id: string; controller_id: string; kind: string; digest: string }[],
  replace: { personnummer: boolean; phone: boolean; clear: boolean },
): Promise<void> {
  const kinds = [
    ...(replace.clear || replace.personnummer ? ['personnummer', 'transcript_personnummer'] : []),
    ...(replace.clear || replace.phone ? ['phone', 'transcript_phone'] : []),
  ];
  await db.transaction().execute(async (tx) => {
    if (kinds.length) await tx.deleteFrom('staff_identifiers').where('user_id', '=', userId).where('kind', 'in', kinds).execute();
    if (rows.length) await tx.insertInto('staff_identifiers').values(rows).execute();
  });
}

/** which identifiers an account has stored (never their values: only digests are kept) */
export async function staffIdentifierKinds(db: Kysely<Database>, userId: string): Promise<{ personnummer: boolean; phone: boolean }> {
  const kinds = new Set((await db.selectFrom('staff_identifiers').select('kind').distinct().where('user_id', '=', userId).execute()).map((r) => r.kind));
  return { personnummer: kinds.has('personnummer'), phone: kinds.has('phone') };
}

export function requireUnlocked(vault: Pick<Vault, 'keys'>): void {
  if (!vault.keys.unlocked) throw new CallvaultError(ErrorCodes.KEYS_LOCKED, 'this needs the keyring: set CALLVAULT_PASSPHRASE (or the HSM PIN)');
}

// ---- protected persons

export interface ProtectedView {
  id: string;
  /** as given, with any identifier in it as its label */
  reason: string;
  createdAt: string;
  createdBy: string;
  released: boolean;
  releasedAt: string | null;
}

export class WatchlistsService {
  constructor(
    private readonly vault: Pick<Vault, 'keys' | 'controllers' | 'audit' | 'database'>,
    private readonly trail: AuditTrail,
  ) {}

  /**
   * Marks a person protected (skyddad identitet, or someone a privacy officer names): any access
   * to a call of theirs alerts. The digests are made for the controllers the caller answers for
   * (every controller for the operator), as a legal hold by person is. Needs the keyring.
   */
  async protect(actor: Actor, spec: PersonIdentifiers & { reason: string }): Promise<{ id: string; controllers: string[] }> {
    const principal = await this.trail.authorize(actor, 'subject:protect', 'subject.protect');
    requireUnlocked(this.vault);
    if (!spec.personnummer && !spec.phone) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'give the personnummer, the phone number, or both');
    const person = canonicalPerson(spec);
    const reason = requireText(spec.reason, 'the reason');
    const reach = this.reach(principal);
    const controllers = (await this.vault.controllers.list()).map((c) => c.id).filter((c) => !reach || reach.includes(c));
    if (controllers.length === 0) throw new CallvaultError(ErrorCodes.FORBIDDEN, 'you answer for no controller');
    const id = randomUUID();
    const digests = personDigests(this.vault, controllers, person, { spoken: true }).map((d) => ({
      protected_id: id,
      controller_id: d.controllerId,
      kind: d.kind,
      digest: d.digest,
    }));
    await this.trail.record(actor, {
      action: 'subject.protect',
      outcome: 'success',
      detail: {
        protectedId: id,
        ...(person.personnummer ? { personnummerHash: this.vault.audit.identifierHash('personnummer', person.personnummer) } : {}),
        ...(person.phone ? { phoneHash: this.vault.audit.identifierHash('phone', person.phone) } : {}),
        controllers,
      },
    });
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('protected_subjects')
        .values({ id, reason, created_by: actorRef(actor), created_at: new Date().toISOString(), released_at: null, released_by: null })
        .execute();
      await tx.insertInto('protected_digests').values(digests).execute();
    });
    return { id, controllers };
  }

  /** ends a protected mark: accesses to the person's calls no longer alert as such */
  async unprotect(actor: Actor, id: string, reasonText: string): Promise<ProtectedView> {
    const principal = await this.trail.authorize(actor, 'subject:protect', 'subject.unprotect');
    const reason = requireText(reasonText, 'the reason');
    const row = await this.db.selectFrom('protected_subjects').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row || !(await this.inReach(id, this.reach(principal)))) {
      await this.trail.record(actor, { action: 'subject.unprotect', outcome: 'denied', detail: { protectedId: id, reason: 'scope' } });
      throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such protected person');
    }
    if (row.released_at) throw new CallvaultError(ErrorCodes.CONFLICT, 'this mark was released already');
    await this.trail.record(actor, { action: 'subject.unprotect', outcome: 'success', detail: { protectedId: id, reason } });
    const released = await this.db
      .updateTable('protected_subjects')
      .set({ released_at: new Date().toISOString(), released_by: actorRef(actor) })
      .where('id', '=', id)
      .where('released_at', 'is', null)
      .executeTakeFirst();
    if (Number(released.numUpdatedRows) !== 1) throw new CallvaultError(ErrorCodes.CONFLICT, 'this mark was released already');
    return protectedView((await this.db.selectFrom('protected_subjects').selectAll().where('id', '=', id).executeTakeFirst())!);
  }

  /** the protected persons marked for a controller the caller answers for, released ones too */
  async protectedList(actor: Actor): Promise<ProtectedView[]> {
    const principal = await this.trail.authorize(actor, 'subject:protect', 'protected.list');
    const reach = this.reach(principal);
    const rows = await this.db.selectFrom('protected_subjects').selectAll().orderBy('created_at').orderBy('id').execute();
    const visible = [];
    for (const r of rows) if (await this.inReach(r.id, reach)) visible.push(protectedView(r));
    await this.trail.record(actor, { action: 'protected.list', outcome: 'success', detail: { results: visible.length } });
    return visible;
  }

  private get db(): Kysely<Database> {
    return this.vault.database.db;
  }

  /** a mark is a privacy officer's when it was made for a controller they answer for */
  private async inReach(id: string, reach: string[] | undefined): Promise<boolean> {
    if (!reach) return true;
    if (reach.length === 0) return false;
    const hit = await this.db.selectFrom('protected_digests').select('protected_id').where('protected_id', '=', id).where('controller_id', 'in', reach).limit(1).executeTakeFirst();
    return hit !== undefined;
  }

  /** the controllers a privacy officer answers for; undefined: every one (the operator) */
  private reach(principal: Principal): string[] | undefined {
    if (reachesEverything(principal)) return undefined;
    return principal.kind === 'user' ? controllerReach(principal, new Date()).map((r) => r.controllerId) : [];
  }
}

function protectedView(r: { id: string; reason: string; created_at: string; created_by: string; released_at: string | null }): ProtectedView {
  return { id: r.id, reason: r.reason, createdAt: r.created_at, createdBy: r.created_by, released: r.released_at !== null, releasedAt: r.released_at };
}
