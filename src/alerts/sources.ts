/**
 * The facts the detector needs beyond the entries, read from the database as they are now:
 * accounts, recordings with their callers' blind-index digests, staff identifiers, persons marked
 * protected, thresholds, and the canaries (sealed: the keyring opens them). Lists that change
 * rarely are cached for a few seconds; a change through callvault is seen at once, because the
 * runner calls `changed()` when the log shows one.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { AccountFacts, DetectorSources, RecordingFacts } from './detector.js';
import { withOverrides, type Thresholds } from './thresholds.js';

/** the digests that say who a call is with: the caller's number and personnummer, in the metadata or spoken */
const CALLER_KINDS = ['personnummer', 'phone', 'transcript_personnummer', 'transcript_phone'];
const CACHE_MS = 10_000;
const RECORDING_CACHE = 50_000;

class Cached<T> {
  private value?: Promise<T>;
  private at = 0;
  constructor(
    private readonly load: () => Promise<T>,
    private readonly ttlMs = CACHE_MS,
  ) {}
  get(): Promise<T> {
    if (!this.value || Date.now() - this.at > this.ttlMs) {
      this.at = Date.now();
      this.value = this.load().catch((err) => {
        this.value = undefined;
        throw err;
      });
    }
    return this.value;
  }
  clear(): void {
    this.value = undefined;
  }
}

export class DatabaseSources implements DetectorSources {
  private readonly recordingCache = new Map<string, RecordingFacts>();
  private readonly staff: Cached<Map<string, string[]>>;
  private readonly protectedSet: Cached<Set<string>>;
  private readonly canarySet: Cached<Set<string>>;
  private readonly settings: Cached<Map<string, Thresholds>>;
  private readonly accountCache: Cached<Map<string, AccountFacts>>;

  constructor(
    /** the vault's database, reached when first read (the OpenAPI script builds services without one) */
    private readonly vault: { readonly database: { readonly db: Kysely<Database> } },
    /** the canaries' recording ids; throws while the keyring is locked */
    loadCanaries: () => Promise<Set<string>>,
  ) {
    this.staff = new Cached(async () => {
      const map = new Map<string, string[]>();
      for (const r of await this.db.selectFrom('staff_identifiers').select(['digest', 'user_id']).execute()) map.set(r.digest, [...(map.get(r.digest) ?? []), r.user_id]);
      return map;
    });
    this.protectedSet = new Cached(async () => {
      const rows = await this.db
        .selectFrom('protected_digests')
        .innerJoin('protected_subjects', 'protected_subjects.id', 'protected_digests.protected_id')
        .select('protected_digests.digest')
        .where('protected_subjects.released_at', 'is', null)
        .execute();
      return new Set(rows.map((r) => r.digest));
    });
    // a second at most: a canary is stored a moment before its sealed record, and planting on the
    // host cannot tell a server's cache, so a canary is never missed for longer than that
    this.canarySet = new Cached(loadCanaries, 1000);
    this.settings = new Cached(async () => new Map((await this.db.selectFrom('alert_settings').selectAll().execute()).map((r) => [r.controller_id, withOverrides(r.settings)])));
    this.accountCache = new Cached(async () => {
      const users = await this.db.selectFrom('users').select(['id', 'username', 'role', 'agent', 'team', 'work_hours', 'controller_id', 'processor_id', 'approval']).execute();
      const teams = new Map<string, string[]>();
      for (const u of users) {
        if (!u.team || !u.agent || u.approval !== 'approved') continue;
        const k = `${u.processor_id ?? u.controller_id}|${u.team}`;
        teams.set(k, [...(teams.get(k) ?? []), u.agent]);
      }
      return new Map(
        users.map((u) => [
          u.id,
          {
            id: u.id,
            name: u.username,
            role: u.role,
            agent: u.agent,
            teamAgents: u.role === 'supervisor' && u.team ? (teams.get(`${u.processor_id ?? u.controller_id}|${u.team}`) ?? []) : [],
            workHours: u.work_hours,
            controllerId: u.controller_id,
          },
        ]),
      );
    });
  }

  private get db(): Kysely<Database> {
    return this.vault.database.db;
  }

  /** forget the cached lists: the log shows that one of them changed */
  changed(what: 'staff' | 'protected' | 'canaries' | 'settings' | 'accounts'): void {
    ({ staff: this.staff, protected: this.protectedSet, canaries: this.canarySet, settings: this.settings, accounts: this.accountCache })[what].clear();
  }

  async accounts(ids: readonly string[]): Promise<Map<string, AccountFacts>> {
    let all = await this.accountCache.get();
    // an account made since the list was read
    if (ids.some((id) => !all.has(id))) {
      this.accountCache.clear();
      all = await this.accountCache.get();
    }
    return all;
  }

  async recordings(ids: readonly string[]): Promise<Map<string, RecordingFacts>> {
    const missing = ids.filter((id) => !this.recordingCache.has(id));
    for (let i = 0; i < missing.length; i += 500) {
      const batch = missing.slice(i, i + 500);
      const [rows, digests] = await Promise.all([
        this.db.selectFrom('recordings').select(['id', 'controller_id', 'agent']).where('id', 'in', batch).execute(),
        this.db.selectFrom('recording_identifiers').select(['recording_id', 'kind', 'digest']).where('recording_id', 'in', batch).where('kind', 'in', CALLER_KINDS).execute(),
      ]);
      const byRecording = new Map<string, { kind: string; digest: string }[]>();
      for (const d of digests) byRecording.set(d.recording_id, [...(byRecording.get(d.recording_id) ?? []), d]);
      for (const r of rows) {
        const own = byRecording.get(r.id) ?? [];
        const person = own.find((d) => d.kind === 'personnummer') ?? own.find((d) => d.kind === 'phone');
        this.recordingCache.set(r.id, { id: r.id, controllerId: r.controller_id, agent: r.agent, callerDigests: own.map((d) => d.digest), person: person?.digest ?? null });
      }
    }
    if (this.recordingCache.size > RECORDING_CACHE) {
      // the oldest half goes: a Map iterates in insertion order
      let drop = this.recordingCache.size - RECORDING_CACHE / 2;
      for (const k of this.recordingCache.keys()) {
        if (drop-- <= 0) break;
        this.recordingCache.delete(k);
      }
    }
    const out = new Map<string, RecordingFacts>();
    for (const id of ids) {
      const r = this.recordingCache.get(id);
      if (r) out.set(id, r);
    }
    return out;
  }

  staffDigests(): Promise<Map<string, string[]>> {
    return this.staff.get();
  }

  protectedDigests(): Promise<Set<string>> {
    return this.protectedSet.get();
  }

  canaries(): Promise<Set<string>> {
    return this.canarySet.get();
  }

  async thresholds(controllerId: string | null): Promise<Thresholds> {
    return (controllerId ? (await this.settings.get()).get(controllerId) : undefined) ?? withOverrides(undefined);
  }

  async callerKnownTo(recording: RecordingFacts, agent: string): Promise<boolean> {
    if (recording.callerDigests.length === 0) return false;
    const row = await this.db
      .selectFrom('recording_identifiers')
      .innerJoin('recordings', 'recordings.id', 'recording_identifiers.recording_id')
      .select('recordings.id')
      .where('recording_identifiers.digest', 'in', [...recording.callerDigests])
      .where('recordings.controller_id', '=', recording.controllerId)
      .where('recordings.agent', '=', agent)
      .where('recordings.id', '!=', recording.id)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }
}
