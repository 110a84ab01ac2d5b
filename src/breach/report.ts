/**
 * The personal data breach report (GDPR art. 33/34): what one compromised thing exposed, per
 * controller, computed from the metadata and the blind indexes without decrypting anything.
 *
 * A scope names what was compromised: a key (the recordings whose data key is wrapped to it), a
 * controller, a storage location (object keys under a prefix) or an account (what it was served,
 * from its own audit entries). The counts of persons are exact per controller: a blind-index
 * digest is keyed per controller and per kind (src/identifiers/blind-index.ts), so within one
 * controller and one kind one digest is one person's personnummer or phone number. Across kinds
 * they are not comparable (the same personnummer in the metadata and spoken in the call gives two
 * digests), so the report keeps the metadata and the spoken counts apart and bounds the total.
 *
 * The subjects list (art. 34 notices) is the only part that decrypts: the identifiers themselves,
 * out of each affected recording's sealed metadata and detections.
 */
import { RECORDING_READS } from '../audit/catalogue.js';
import type { Kysely, RawBuilder } from 'kysely';
import { sql } from '../db/kysely.js';
import type { Database } from '../db/schema.js';
import type { RecordingRow } from '../db/recordings-repository.js';
import { readSealedDetections, readSealedFields } from '../recordings/read.js';
import type { Vault } from '../vault.js';

export const SCOPE_KINDS = ['key', 'controller', 'blob-prefix', 'user'] as const;
export type ScopeKind = (typeof SCOPE_KINDS)[number];

export type BreachScope =
  | { kind: 'key'; keyId: string }
  | { kind: 'controller'; controllerId: string }
  | { kind: 'blob-prefix'; prefix: string }
  /** an account: what its successful reading entries in the audit log name */
  | { kind: 'user'; userId: string };

/** [from, to) as ISO 8601 instants; either end may be open */
export interface BreachWindow {
  from?: string;
  to?: string;
}

/** the controllers (and regions in them) a report may cover; absent: every one */
export type Reach = readonly { controllerId: string; regions: readonly string[] | null }[] | undefined;

/** the blind-index kinds that stand for a person (a file name does not) */
const PERSON_KINDS = ['personnummer', 'phone', 'transcript_personnummer', 'transcript_phone'] as const;
type PersonKind = (typeof PERSON_KINDS)[number];

export type Exposure = 'keys' | 'ciphertext-only' | 'plaintext-served' | 'depends';

const EXPOSURE_TEXT: Record<ScopeKind, { level: Exposure; statement: string }> = {
  key: {
    level: 'keys',
    statement:
      "whoever holds this key's private part and the ciphertext can read these recordings: audio, transcripts and the sealed identifiers (the data keys are wrapped to it)",
  },
  'blob-prefix': {
    level: 'ciphertext-only',
    statement: 'only ciphertext was exposed: without a controller key it is unreadable (AES-256-GCM, keys held apart from the objects)',
  },
  user: {
    level: 'plaintext-served',
    statement: 'plaintext was served to this account: what its audit entries name (see `served`), in the redacted or original rendition it was granted',
  },
  controller: {
    level: 'depends',
    statement:
      "depends on what was exposed: with the controller's keys every recording below is readable (recordings, by key in `byKey`); with the stored objects or a database dump alone, only ciphertext and keyed hashes (recordings readable: 0)",
  },
};

export interface PersonCounts {
  /** distinct values in the recordings' metadata (the caller's number and personnummer) */
  inMetadata: number;
  /** distinct values spoken in the calls, as the transcripts show */
  spokenInCalls: number;
}

export interface ControllerBreach {
  controllerId: string;
  /** recordings affected (for an account: also those since erased, whose identifiers are gone) */
  recordings: number;
  /** of them, no longer stored (erased or shredded): their keys and identifiers are destroyed, so they count in no person below */
  noLongerStored: number;
  byKey: Record<string, number>;
  callTime: {
    /** min and max of the calls' start (started_at); null when none has one */
    first: string | null;
    last: string | null;
    /** recordings without a known start: a window compares their import time instead */
    withoutStart: number;
  };
  /** exact counts per kind; the two kinds are never added (one person may be in both) */
  persons: {
    personnummer: PersonCounts;
    phone: PersonCounts;
    /**
     * bounds on the people affected: at least the largest exact count; at most one caller per
     * affected stored recording plus every person named in a transcript (people named by name only are not counted)
     */
    atLeast: number;
    atMost: number;
  };
  categories: {
    /** every recording is audio */
    audio: number;
    /** recordings with a transcript */
    transcripts: number;
    /** recordings in which each kind of identifier was found (metadata: personnummer, phone; spoken: transcript_…) */
    identifiers: Partial<Record<PersonKind, number>>;
  };
  exposure: { level: Exposure; statement: string; recordingsReadable: number };
  /** an account's scope: per reading action, the recordings it was served */
  served?: Partial<Record<(typeof RECORDING_READS)[number], number>>;
  /** an account's scope: its first and last access in the window */
  accessTime?: { first: string | null; last: string | null };
  /** IMY's notification form (anmälan om personuppgiftsincident): what the vault can fill, and what it leaves to the privacy officer */
  imy: ImyFields;
}

export interface ImyFields {
  filled: {
    categoriesOfDataSubjects: string;
    approximateNumberOfDataSubjects: string;
    categoriesOfPersonalData: string[];
    approximateNumberOfRecords: string;
    timeSpanOfTheData: string;
    dataProtectedAgainstReading: string;
  };
  leftForDpo: string[];
}

export const IMY_LEFT_FOR_DPO = [
  'when the breach happened and when it was discovered',
  'how it happened (the nature of the breach) and whether it is over',
  'likely consequences for the data subjects',
  'measures taken or proposed to address it and mitigate its effects',
  'whether and when the data subjects were informed (art. 34): `--subjects` writes their list on the host',
  "the controller's contact person and data protection officer",
  'whether other countries or supervisory authorities are concerned',
] as const;

export interface BreachReport {
  reportId: string;
  generatedAt: string;
  scope: {
    kind: ScopeKind;
    keyId?: string;
    controllerId?: string;
    blobPrefix?: string;
    userId?: string;
    username?: string;
    from: string | null;
    to: string | null;
    /** what the window compares: the call's start (else its import), or the account's access time */
    window: string;
  };
  controllers: ControllerBreach[];
  totals: { controllers: number; recordings: number; transcripts: number; personnummerInMetadata: number; phonesInMetadata: number };
  notes: string[];
}

const CALL_WINDOW = 'call time: started_at, or imported_at when the start of the call is unknown';
const ACCESS_WINDOW = "access time: the time of the account's audit entries";

/** the recordings a scope affects, as a condition on `recordings r` */
function scopeCondition(scope: BreachScope, window: BreachWindow, reach: Reach): RawBuilder<unknown> {
  const parts: RawBuilder<unknown>[] = [];
  switch (scope.kind) {
    case 'key':
      parts.push(sql`r.key_id = ${scope.keyId}`);
      break;
    case 'controller':
      parts.push(sql`r.controller_id = ${scope.controllerId}`);
      break;
    case 'blob-prefix': {
      // substr, not LIKE: a prefix may hold % or _, and both databases compare it byte for byte
      const n = scope.prefix.length;
      parts.push(
        sql`(substr(r.blob_key, 1, ${n}) = ${scope.prefix} OR EXISTS (SELECT 1 FROM recording_renditions x WHERE x.recording_id = r.id AND substr(x.blob_key, 1, ${n}) = ${scope.prefix}))`,
      );
      break;
    }
    case 'user':
      parts.push(sql`r.id IN (SELECT a.recording_id FROM audit_entries a WHERE ${accessCondition(scope.userId, window)})`);
      break;
  }
  if (scope.kind !== 'user') {
    // an erased or shredded recording's key and identifiers are gone: nothing of it can be exposed
    parts.push(sql`r.state = 'stored'`);
    // the same expression as the recordings_call_time index (migration 0005)
    if (window.from) parts.push(sql`coalesce(r.started_at, r.imported_at) >= ${window.from}`);
    if (window.to) parts.push(sql`coalesce(r.started_at, r.imported_at) < ${window.to}`);
  }
  if (reach) {
    const within = reach.map((c) =>
      c.regions === null
        ? sql`r.controller_id = ${c.controllerId}`
        : c.regions.length === 0
          ? sql`1 = 0`
          : sql`(r.controller_id = ${c.controllerId} AND r.region IN (${sql.join(c.regions)}))`,
    );
    parts.push(within.length ? sql`(${sql.join(within, sql` OR `)})` : sql`1 = 0`);
  }
  return sql.join(parts, sql` AND `);
}

/** the account's successful reading entries in the window, as a condition on `audit_entries a` */
function accessCondition(userId: string, window: BreachWindow): RawBuilder<unknown> {
  const parts = [sql`a.actor_id = ${userId}`, sql`a.outcome = 'success'`, sql`a.action IN (${sql.join([...RECORDING_READS])})`, sql`a.recording_id IS NOT NULL`];
  if (window.from) parts.push(sql`a.time >= ${window.from}`);
  if (window.to) parts.push(sql`a.time < ${window.to}`);
  return sql.join(parts, sql` AND `);
}

const num = (v: unknown) => Number(v ?? 0);

/** A breach report of `scope` in `window`, within `reach`. Reads metadata only; decrypts nothing. */
export async function breachReport(
  db: Kysely<Database>,
  request: { reportId: string; scope: BreachScope; window: BreachWindow; reach: Reach; username?: string; now?: Date },
): Promise<BreachReport> {
  const { scope, window, reach } = request;
  const where = scopeCondition(scope, window, reach);

  const base = await sql<{
    controller_id: string;
    key_id: string;
    recordings: unknown;
    stored: unknown;
    transcripts: unknown;
    first: string | null;
    last: string | null;
    without_start: unknown;
  }>`SELECT r.controller_id, r.key_id, count(*) AS recordings,
       sum(CASE WHEN r.state = 'stored' THEN 1 ELSE 0 END) AS stored,
       sum(CASE WHEN r.state = 'stored' AND r.sealed_transcript IS NOT NULL THEN 1 ELSE 0 END) AS transcripts,
       min(r.started_at) AS first, max(r.started_at) AS last,
       sum(CASE WHEN r.started_at IS NULL THEN 1 ELSE 0 END) AS without_start
     FROM recordings r WHERE ${where} GROUP BY r.controller_id, r.key_id`.execute(db);

  // one digest per person, kind and controller: count(DISTINCT digest) is exact within a group
  const ids = await sql<{ controller_id: string; kind: PersonKind; persons: unknown; recordings: unknown }>`
     SELECT r.controller_id, i.kind, count(DISTINCT i.digest) AS persons, count(DISTINCT i.recording_id) AS recordings
     FROM recordings r JOIN recording_identifiers i ON i.recording_id = r.id
     WHERE ${where} AND i.kind IN (${sql.join([...PERSON_KINDS])})
     GROUP BY r.controller_id, i.kind`.execute(db);

  const served =
    scope.kind === 'user'
      ? (
          await sql<{ controller_id: string; action: string; recordings: unknown; first: string | null; last: string | null }>`
         SELECT r.controller_id, a.action, count(DISTINCT a.recording_id) AS recordings, min(a.time) AS first, max(a.time) AS last
         FROM audit_entries a JOIN recordings r ON r.id = a.recording_id
         WHERE ${accessCondition(scope.userId, window)} AND ${where}
         GROUP BY r.controller_id, a.action`.execute(db)
        ).rows
      : [];

  const byController = new Map<string, ControllerBreach>();
  const entry = (controllerId: string): ControllerBreach => {
    let c = byController.get(controllerId);
    if (!c) {
      c = {
        controllerId,
        recordings: 0,
        noLongerStored: 0,
        byKey: {},
        callTime: { first: null, last: null, withoutStart: 0 },
        persons: { personnummer: { inMetadata: 0, spokenInCalls: 0 }, phone: { inMetadata: 0, spokenInCalls: 0 }, atLeast: 0, atMost: 0 },
        categories: { audio: 0, transcripts: 0, identifiers: {} },
        exposure: { ...EXPOSURE_TEXT[scope.kind], recordingsReadable: 0 },
        imy: undefined as unknown as ImyFields,
      };
      byController.set(controllerId, c);
    }
    return c;
  };
  for (const row of base.rows) {
    const c = entry(row.controller_id);
    const n = num(row.recordings);
    c.recordings += n;
    c.noLongerStored += n - num(row.stored);
    c.categories.transcripts += num(row.transcripts);
    c.byKey[row.key_id] = (c.byKey[row.key_id] ?? 0) + n;
    c.callTime.withoutStart += num(row.without_start);
    if (row.first !== null && (c.callTime.first === null || row.first < c.callTime.first)) c.callTime.first = row.first;
    if (row.last !== null && (c.callTime.last === null || row.last > c.callTime.last)) c.callTime.last = row.last;
  }
  for (const row of ids.rows) {
    const c = entry(row.controller_id);
    const persons = num(row.persons);
    c.categories.identifiers[row.kind] = num(row.recordings);
    if (row.kind === 'personnummer') c.persons.personnummer.inMetadata = persons;
    else if (row.kind === 'phone') c.persons.phone.inMetadata = persons;
    else if (row.kind === 'transcript_personnummer') c.persons.personnummer.spokenInCalls = persons;
    else c.persons.phone.spokenInCalls = persons;
  }
  for (const row of served) {
    const c = entry(row.controller_id);
    c.served = { ...c.served, [row.action]: num(row.recordings) };
    c.accessTime ??= { first: null, last: null };
    const t = c.accessTime;
    if (row.first !== null && (t.first === null || row.first < t.first)) t.first = row.first;
    if (row.last !== null && (t.last === null || row.last > t.last)) t.last = row.last;
  }

  const controllers = [...byController.values()].sort((a, b) => (a.controllerId < b.controllerId ? -1 : 1));
  for (const c of controllers) {
    const stored = c.recordings - c.noLongerStored;
    c.categories.audio = c.recordings;
    const { personnummer: pn, phone } = c.persons;
    c.persons.atLeast = Math.max(pn.inMetadata, pn.spokenInCalls, phone.inMetadata, phone.spokenInCalls);
    c.persons.atMost = Math.max(c.persons.atLeast, stored + pn.spokenInCalls + phone.spokenInCalls);
    c.exposure.recordingsReadable = scope.kind === 'blob-prefix' ? 0 : scope.kind === 'user' ? c.recordings : stored;
    c.imy = imyFields(c);
  }
  const sum = (f: (c: ControllerBreach) => number) => controllers.reduce((s, c) => s + f(c), 0);
  const notes = [
    'persons are counted per controller: a person known to two controllers counts once at each',
    'a personnummer or phone number in the metadata and the same one spoken in the call are separate digests: the report gives both counts and bounds the people between atLeast and atMost',
  ];
  if (scope.kind === 'user')
    notes.push(
      'recordings the account was served and that were erased or shredded since count as recordings (noLongerStored) but in no person count: their identifiers are destroyed',
    );
  return {
    reportId: request.reportId,
    generatedAt: (request.now ?? new Date()).toISOString(),
    scope: {
      kind: scope.kind,
      ...(scope.kind === 'key' ? { keyId: scope.keyId } : {}),
      ...(scope.kind === 'controller' ? { controllerId: scope.controllerId } : {}),
      ...(scope.kind === 'blob-prefix' ? { blobPrefix: scope.prefix } : {}),
      ...(scope.kind === 'user' ? { userId: scope.userId, username: request.username } : {}),
      from: window.from ?? null,
      to: window.to ?? null,
      window: scope.kind === 'user' ? ACCESS_WINDOW : CALL_WINDOW,
    },
    controllers,
    totals: {
      controllers: controllers.length,
      recordings: sum((c) => c.recordings),
      transcripts: sum((c) => c.categories.transcripts),
      personnummerInMetadata: sum((c) => c.persons.personnummer.inMetadata),
      phonesInMetadata: sum((c) => c.persons.phone.inMetadata),
    },
    notes,
  };
}

function imyFields(c: ControllerBreach): ImyFields {
  const kinds: string[] = ['health data (art. 9): the content of calls to a healthcare line, as audio'];
  if (c.categories.transcripts > 0) kinds.push(`health data (art. 9) as text: ${c.categories.transcripts} transcripts`);
  if (c.categories.identifiers.personnummer || c.categories.identifiers.transcript_personnummer)
    kinds.push('national identity numbers (personnummer, art. 87 / 3 kap. 10 § dataskyddslagen)');
  if (c.categories.identifiers.phone || c.categories.identifiers.transcript_phone) kinds.push('contact details: phone numbers');
  const records = [`${c.recordings} call recordings`];
  if (c.categories.transcripts > 0) records.push(`${c.categories.transcripts} transcripts`);
  const protectedText: Record<Exposure, string> = {
    'ciphertext-only': 'yes: only encrypted objects were exposed; the keys were not (art. 34(3)(a) may apply)',
    keys: 'no: a key that decrypts these recordings was exposed',
    'plaintext-served': 'no: the account was served the data in clear',
    depends: 'depends on what was exposed: yes if only stored objects or database rows, no if the keys too',
  };
  return {
    filled: {
      categoriesOfDataSubjects: 'callers to the healthcare line (patients and people calling on their behalf), and people named in the calls',
      approximateNumberOfDataSubjects: c.persons.atLeast === c.persons.atMost ? String(c.persons.atLeast) : `between ${c.persons.atLeast} and ${c.persons.atMost}`,
      categoriesOfPersonalData: kinds,
      approximateNumberOfRecords: records.join(', '),
      timeSpanOfTheData:
        c.callTime.first === null
          ? 'unknown (no recording has a known start)'
          : `calls from ${c.callTime.first} to ${c.callTime.last}${c.callTime.withoutStart ? `, and ${c.callTime.withoutStart} of unknown time` : ''}`,
      dataProtectedAgainstReading: protectedText[c.exposure.level],
    },
    leftForDpo: [...IMY_LEFT_FOR_DPO],
  };
}

/** one person to notify (art. 34): an identifier in clear, where it was found and in how many recordings */
export interface AffectedPerson {
  controllerId: string;
  kind: 'personnummer' | 'phone';
  value: string;
  foundIn: ('metadata' | 'transcript')[];
  recordings: number;
}

/**
 * The affected persons in clear, out of each affected stored recording's sealed metadata and
 * detections (needs the unlocked keyring). Read a page of rows at a time, in id order.
 */
export async function affectedPersons(
  vault: Pick<Vault, 'keys' | 'blobs'> & { database: { db: Kysely<Database> } },
  scope: BreachScope,
  window: BreachWindow,
  reach: Reach,
): Promise<AffectedPerson[]> {
  const db = vault.database.db;
  const where = scopeCondition(scope, window, reach);
  const found = new Map<string, AffectedPerson>();
  const add = (row: RecordingRow, kind: 'personnummer' | 'phone', value: string, where: 'metadata' | 'transcript', seen: Set<string>) => {
    const key = `${row.controller_id}\0${kind}\0${value}`;
    let person = found.get(key);
    if (!person) {
      person = { controllerId: row.controller_id, kind, value, foundIn: [], recordings: 0 };
      found.set(key, person);
    }
    if (!person.foundIn.includes(where)) person.foundIn.push(where);
    if (!seen.has(key)) {
      seen.add(key);
      person.recordings += 1;
    }
  };
  let after = '';
  for (;;) {
    const page = await sql<RecordingRow>`SELECT r.* FROM recordings r WHERE ${where} AND r.state = 'stored' AND r.id > ${after} ORDER BY r.id LIMIT 500`.execute(db);
    for (const row of page.rows) {
      const seen = new Set<string>();
      const fields = await readSealedFields(vault, row);
      if (fields.personnummer) add(row, 'personnummer', fields.personnummer, 'metadata', seen);
      if (fields.caller) add(row, 'phone', fields.caller, 'metadata', seen);
      // and those an import found in the file's names and tags
      for (const v of fields.found?.personnummer ?? []) add(row, 'personnummer', v, 'metadata', seen);
      for (const v of fields.found?.phone ?? []) add(row, 'phone', v, 'metadata', seen);
      for (const f of await readSealedDetections(vault, row)) {
        if (f.type === 'phone') add(row, 'phone', f.value, 'transcript', seen);
        else if (f.type === 'personnummer' || f.type === 'samordningsnummer') add(row, 'personnummer', f.value, 'transcript', seen);
      }
    }
    if (page.rows.length < 500) break;
    after = page.rows[page.rows.length - 1]!.id;
  }
  for (const p of found.values()) p.foundIn.sort();
  return [...found.values()].sort((a, b) => (a.controllerId + a.kind + a.value < b.controllerId + b.kind + b.value ? -1 : 1));
}
