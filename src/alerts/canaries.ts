/**
 * Canary recordings (docs/alerts.md, "Canaries"): synthetic calls planted among a controller's
 * real ones, which nobody has a reason to open. They are stored through the same path as an
 * upload (metadata, sealed fields, blind indexes, transcript, redaction), so that lists and search
 * show them like any other; what marks them is a record sealed under a key from the keyring, and
 * the log names them nowhere: one `canary.add` entry counts them, and their storing writes no
 * `recording.ingest`. The detector (src/alerts/detector.ts) opens the record to alert on any access.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { CallvaultError, ErrorCodes } from '../errors.js';
import type { Database } from '../db/schema.js';
import { probeAudio } from '../audio/probe.js';
import { hasEspeak, REASONS, speakAdviceCall } from '../demo/demo-calls.js';
import { syntheticPhone, unbornPersonnummer } from '../demo/synthetic-identity.js';
import { parseSidecar, type Sidecar } from '../import/sidecar.js';
import { DEFAULT_CLASS } from '../retention/periods.js';
import { parseTranscript, serializeTranscript } from '../transcripts/index.js';
import { open, seal } from '../util/aead.js';
import type { Actor } from '../services/actor.js';
import type { AuditTrail } from '../services/audit-trail.js';
import type { AlertsService } from '../services/alerts.js';
import { withOverrides } from './thresholds.js';
import { IngestService } from '../services/ingest.js';
import type { Vault } from '../vault.js';

export const MAX_CANARIES = 20;
const DEFAULT_COUNT = 3;
/** how far back a canary's call time lies at most, in days */
const WITHIN_DAYS = 60;

export interface PlantSpec {
  controllerId: string;
  count?: number;
  /** the controller's choice: suspend an account that reaches a canary; absent leaves it as it is */
  suspend?: boolean;
}

/** what `canary add --json` prints: the count, never which recordings */
export interface PlantResult {
  controller: string;
  planted: number;
  suspend: boolean;
}

/**
 * Plants `count` canaries for a controller: the key custodian on the host (it needs the keyring
 * to seal the record). The `canary.add` entry comes before anything is stored.
 */
export async function plantCanaries(vault: Vault, trail: AuditTrail, alerts: AlertsService, actor: Actor, spec: PlantSpec): Promise<PlantResult> {
  await trail.authorize(actor, 'keys:manage', 'canary.add');
  if (!vault.keys.unlocked) throw new CallvaultError(ErrorCodes.KEYS_LOCKED, 'planting canaries needs the keyring: set CALLVAULT_PASSPHRASE (or the HSM PIN)');
  const count = spec.count ?? DEFAULT_COUNT;
  if (!Number.isInteger(count) || count < 1 || count > MAX_CANARIES) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, `plant 1 to ${MAX_CANARIES} canaries at a time`);
  if (!(await vault.controllers.get(spec.controllerId))) throw new CallvaultError(ErrorCodes.CONTROLLER_UNKNOWN, 'no such controller');
  // a canary of beeps among spoken calls would stand out: refuse rather than plant one
  if (!(await hasEspeak())) throw new CallvaultError(ErrorCodes.USAGE, 'canaries are spoken by espeak-ng (and sox): install them first');

  const db = vault.database.db;
  const [agents, regions, retentionDays] = await Promise.all([
    plausibleAgents(vault, spec.controllerId),
    controllerRegions(db, spec.controllerId),
    vault.retention.policies(spec.controllerId).then((p) => p.find((r) => r.class === DEFAULT_CLASS)?.days),
  ]);
  // the choice is made before the first canary exists, so its first access already suspends; it is
  // a threshold like the others, audited as `alert.settings`
  if (spec.suspend !== undefined) await alerts.setThresholds(actor, spec.controllerId, { canarySuspend: spec.suspend });
  const dir = await mkdtemp(join(tmpdir(), 'callvault-canary-'));
  try {
    const calls = [];
    for (let i = 0; i < count; i++) calls.push(await synthesise(dir, i, agents, regions, retentionDays));
    await trail.record(actor, { action: 'canary.add', outcome: 'success', controllerId: spec.controllerId, detail: { count } });
    const ingest = new IngestService(vault, trail);
    for (const call of calls) {
      const stored = await ingest.ingest(
        actor,
        {
          source: createReadStream(call.wav),
          audio: await probeAudio(call.wav),
          sidecar: { ...call.sidecar, controller: spec.controllerId },
          transcript: call.transcript,
          sourceName: call.sourceName,
          sourcePath: call.sourceName,
        },
        { examine: 'now', canary: true },
      );
      await recordCanary(vault, stored.id, spec.controllerId);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { controller: spec.controllerId, planted: count, suspend: withOverrides(JSON.stringify(await vault.alerts.settings(spec.controllerId))).canarySuspend };
}

/**
 * Which recordings are canaries, by recording id: opens every sealed record. Throws
 * CV_KEYS_LOCKED when the keyring is locked, and the opaque CV_DECRYPTION_FAILED for a record that
 * does not authenticate (altered, or moved to another row).
 */
export async function readCanaries(vault: Pick<Vault, 'keys' | 'database'>): Promise<Map<string, { controllerId: string; createdAt: string }>> {
  const key = vault.keys.derivedSecret('canaries');
  const rows = await vault.database.db.selectFrom('canaries').selectAll().orderBy('created_at').orderBy('id').execute();
  const out = new Map<string, { controllerId: string; createdAt: string }>();
  for (const row of rows) {
    const record = JSON.parse(open(key, Buffer.from(row.sealed, 'base64'), aad(row.id)).toString('utf8')) as { recordingId: string; controllerId: string };
    out.set(record.recordingId, { controllerId: record.controllerId, createdAt: row.created_at });
  }
  return out;
}

/** `callvault canary list`: the key custodian on the host reads which recordings are canaries */
export async function listCanaries(vault: Vault, trail: AuditTrail, actor: Actor): Promise<{ recordingId: string; controllerId: string; createdAt: string }[]> {
  await trail.authorize(actor, 'keys:manage', 'canary.list');
  if (!vault.keys.unlocked) throw new CallvaultError(ErrorCodes.KEYS_LOCKED, 'the canaries are known to the keyring only: set CALLVAULT_PASSPHRASE (or the HSM PIN)');
  const canaries = await readCanaries(vault);
  await trail.record(actor, { action: 'canary.list', outcome: 'success', detail: { results: canaries.size } });
  return [...canaries].map(([recordingId, c]) => ({ recordingId, ...c }));
}

// ----

/** the row's id is the associated data: a record moved to another row does not open */
const aad = (id: string) => Buffer.from(id, 'utf8');

async function recordCanary(vault: Vault, recordingId: string, controllerId: string): Promise<void> {
  const id = randomUUID();
  const sealed = seal(vault.keys.derivedSecret('canaries'), Buffer.from(JSON.stringify({ recordingId, controllerId }), 'utf8'), aad(id));
  await vault.database.db
    .insertInto('canaries')
    .values({ id, sealed: sealed.toString('base64'), created_at: new Date().toISOString() })
    .execute();
}

interface SynthesisedCall {
  wav: string;
  transcript: Buffer;
  sourceName: string;
  sidecar: Sidecar;
}

async function synthesise(dir: string, i: number, agents: AgentChoice, regions: string[], retentionDays: number | undefined): Promise<SynthesisedCall> {
  const rnd = () => randomInt(0, 2 ** 32) / 2 ** 32;
  const personnummer = unbornPersonnummer(rnd);
  const phone = syntheticPhone(randomInt(0, 1_000_000));
  const wav = join(dir, `call-${i}.wav`);
  // the 12-digit form, grouped as written: the 10-digit form would read as born a century earlier
  const said = `${personnummer.slice(0, 8)}-${personnummer.slice(8)}`;
  const transcript = await speakAdviceCall(wav, { personnummer: said, phone, reason: REASONS[randomInt(0, REASONS.length)]! });
  const startedAt = plausibleTime(retentionDays);
  return {
    wav,
    transcript: Buffer.from(serializeTranscript(parseTranscript(Buffer.from(transcript, 'utf8'), 'application/json')), 'utf8'),
    // as a recorder names its files: the call's time
    sourceName: `${startedAt.replace(/[-:]/g, '').slice(0, 15)}-${randomInt(1000, 10000)}.wav`,
    // through the importer's own validation, so that the fields take the canonical forms an import's do
    sidecar: parseSidecar({
      caller: phone,
      personnummer,
      agent: agents.pick(),
      ...(regions.length ? { region: regions[randomInt(0, regions.length)]! } : {}),
      startedAt,
      direction: 'inbound',
    }),
  };
}

/** a weekday, in office hours, within the last 60 days and inside the controller's retention */
function plausibleTime(retentionDays: number | undefined): string {
  const maxDays = Math.max(1, Math.min(WITHIN_DAYS, (retentionDays ?? WITHIN_DAYS + 1) - 1));
  for (;;) {
    // whole days back, fewer than maxDays: the hour set below may fall earlier in that day
    const day = new Date(Date.now() - randomInt(1, Math.max(2, maxDays)) * 86_400_000);
    if (day.getUTCDay() === 0 || day.getUTCDay() === 6) continue;
    // 07:00–14:59 UTC: 08–16 or 09–17 in Stockholm
    day.setUTCHours(7 + randomInt(0, 8), randomInt(0, 60), randomInt(0, 60), 0);
    return day.toISOString();
  }
}

async function controllerRegions(db: Kysely<Database>, controllerId: string): Promise<string[]> {
  const rows = await db.selectFrom('recordings').select('region').distinct().where('controller_id', '=', controllerId).where('region', 'is not', null).execute();
  return rows.map((r) => r.region!).sort();
}

interface AgentChoice {
  pick(): string;
}

/**
 * Agent ids shaped like the controller's own (`a1`, `a2` → `a7`) that no account holds, so that
 * no nurse finds a canary among her own calls and plays it in good faith.
 */
async function plausibleAgents(vault: Vault, controllerId: string): Promise<AgentChoice> {
  const held = new Set((await vault.users.list()).map((u) => u.agent).filter((a): a is string => Boolean(a)));
  const seen = (await vault.database.db.selectFrom('recordings').select('agent').distinct().where('controller_id', '=', controllerId).where('agent', 'is not', null).execute()).map(
    (r) => r.agent!,
  );
  const shapes = new Map<string, { count: number; max: number; width: number }>();
  for (const agent of [...seen, ...held]) {
    const m = /^(.*?)(\d+)$/.exec(agent);
    if (!m) continue;
    const shape = shapes.get(m[1]!) ?? { count: 0, max: 0, width: m[2]!.length };
    shape.count += 1;
    shape.max = Math.max(shape.max, Number(m[2]));
    shapes.set(m[1]!, shape);
  }
  const [prefix, shape] = [...shapes].sort((a, b) => b[1].count - a[1].count || a[0].localeCompare(b[0]))[0] ?? ['a', { count: 0, max: 5, width: 1 }];
  const candidates: string[] = [];
  for (let n = 1; n <= shape.max + 5; n++) {
    const agent = `${prefix}${String(n).padStart(shape.width, '0')}`;
    if (!held.has(agent)) candidates.push(agent);
  }
  return { pick: () => candidates[randomInt(0, candidates.length)]! };
}
