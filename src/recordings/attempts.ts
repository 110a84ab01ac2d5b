/**
 * Attempts at storing a recording, and the housekeeping of those whose writer died.
 *
 * An attempt is a pending row (its id, its content hash, its wrapped key) and an object being
 * written under the row's blob key. Every writing process names itself in the rows it inserts,
 * `host:pid:instance`, and holds the lease `writer:instance` while it lives, renewed well within
 * its time to live. A pending row's writer is dead when its lease has expired, or at once when it
 * ran on this host and its pid is gone (a killed importer or server, restarted at once).
 *
 * The housekeeper (`cleanAttempts`, under one lease across servers) settles each dead attempt:
 *   - its object is committed and is what the row says (size and ciphertext hash): the attempt
 *     had done all its work but the last step, so it is completed: audited, then made visible;
 *   - otherwise its object, if any, and its row are removed.
 * Nothing an answer confirmed is ever removed: an attempt is confirmed only once its row is
 * stored, and the housekeeper touches pending rows only, through conditional statements. A writer
 * wrongly judged dead (frozen past its lease) finds its row gone or settled when it wakes, and
 * fails (or reports the completed recording) instead of answering with a lie.
 */
import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { isCallvaultError, ErrorCodes } from '../errors.js';
import { processAlive } from '../util/fs.js';
import type { CiphertextSource } from '../container/decrypt.js';
import type { RecordingRow } from '../db/recordings-repository.js';
import type { Vault } from '../vault.js';
import { systemActor } from '../services/actor.js';
import { AuditTrail } from '../services/audit-trail.js';

const HOST = hostname();
const INSTANCE = randomUUID();
/** how long a writer's lease lasts without renewal, and how often it is renewed */
export const WRITER_LEASE_MS = 90_000;
const RENEW_MS = 20_000;
const HOUSEKEEPING_LEASE = 'ingest-housekeeping';
const HOUSEKEEPING_TTL_MS = 10 * 60_000;

/** who settles the attempts of dead writers, in the audit log */
const HOUSEKEEPER = systemActor('housekeeping');

/** this process as the writer of pending rows */
export const WRITER = `${HOST}:${process.pid}:${INSTANCE}`;

/**
 * This process's attempts still being worked on. One of its own pending rows not in here is an
 * attempt it gave up on and could not remove (the database failed at that moment): dead too.
 */
export const inFlight = new Set<string>();

const writers = new WeakMap<Vault, { held?: Promise<void> }>();

/**
 * Holds this process's writer lease in the vault's database before its first attempt, and keeps
 * renewing it until the vault is closed. A failed renewal is retried at the next beat (a first
 * one that failed, by the next attempt); if the lease lapses meanwhile, the process's attempts
 * may be settled by another: they then fail rather than answer.
 */
export function holdWriterLease(vault: Vault): Promise<void> {
  const state = writers.get(vault) ?? startHeartbeat(vault);
  state.held ??= renewWriterLease(vault).catch((err) => {
    state.held = undefined;
    throw err;
  });
  return state.held;
}

function renewWriterLease(vault: Vault): Promise<void> {
  return vault.coordination.acquireLease(`writer:${INSTANCE}`, WRITER, WRITER_LEASE_MS).then(() => {});
}

function startHeartbeat(vault: Vault): { held?: Promise<void> } {
  const state = {};
  writers.set(vault, state);
  const timer = setInterval(() => void renewWriterLease(vault).catch(() => {}), RENEW_MS);
  timer.unref();
  vault.onClose(async () => {
    clearInterval(timer);
    await vault.coordination.releaseLease(`writer:${INSTANCE}`, WRITER).catch(() => {});
  });
  return state;
}

/** true when the writer of this pending row has provably stopped working on it */
export async function writerDead(vault: Vault, row: Pick<RecordingRow, 'id' | 'writer'>, now = new Date()): Promise<boolean> {
  const writer = row.writer;
  if (!writer) return true;
  if (writer === WRITER) return !inFlight.has(row.id);
  const [host, pid, instance] = writer.split(':');
  if (host === HOST && pid && !processAlive(Number(pid))) return true;
  // rows written before writers held leases carry host:pid only: judged by pid alone
  if (!instance) return false;
  return !(await vault.coordination.leaseHeld(`writer:${instance}`, writer, now));
}

/** the housekeeping lease of a process on this host that is gone (killed mid-housekeeping) is taken over at once */
async function takeOverFromDead(vault: Vault): Promise<boolean> {
  const holder = await vault.coordination.leaseHolder(HOUSEKEEPING_LEASE);
  const [host, pid] = holder?.split(':') ?? [];
  if (!holder || host !== HOST || !pid || processAlive(Number(pid))) return false;
  return vault.coordination.takeOverLease(HOUSEKEEPING_LEASE, holder, WRITER, HOUSEKEEPING_TTL_MS);
}

export interface HousekeepingReport {
  /** dead attempts whose object was complete: audited and made visible */
  completed: number;
  /** dead attempts removed with whatever they had written */
  removed: number;
  /** partial objects the blob store removed (temporary files, incomplete multipart uploads) */
  objects: number;
  /** parts of the work the blob store or database could not do now, in words; retried next time */
  skipped: string[];
}

/**
 * Settles the attempts of writers that died. Runs under a lease so that one server does it at a
 * time; answers undefined when another holds it.
 */
export async function cleanAttempts(vault: Vault): Promise<HousekeepingReport | undefined> {
  if (!(await vault.coordination.acquireLease(HOUSEKEEPING_LEASE, WRITER, HOUSEKEEPING_TTL_MS)) && !(await takeOverFromDead(vault))) return undefined;
  const report: HousekeepingReport = { completed: 0, removed: 0, objects: 0, skipped: [] };
  try {
    try {
      report.objects = await vault.blobs.removeDebris();
    } catch (err) {
      // some S3-compatible stores do not list multipart uploads: their lifecycle rules clean up
      report.skipped.push(`partial objects were not cleaned: ${isCallvaultError(err) ? err.message : 'the object store failed'}`);
    }
    for (const row of await vault.recordings.pending()) {
      if (!(await writerDead(vault, row))) continue;
      try {
        if (await objectComplete(vault, row)) {
          if (await completeAttempt(vault, row)) report.completed += 1;
          else report.removed += 1;
        } else {
          await vault.blobs.delete(row.blob_key);
          if (await vault.recordings.deleteAttempt(row.id)) report.removed += 1;
        }
      } catch (err) {
        report.skipped.push(`an interrupted attempt could not be settled now: ${isCallvaultError(err) ? err.message : 'the database or object store failed'}`);
      }
    }
    await vault.coordination.pruneLeases('writer:', new Date(Date.now() - WRITER_LEASE_MS));
  } finally {
    await vault.coordination.releaseLease(HOUSEKEEPING_LEASE, WRITER).catch(() => {});
  }
  return report;
}

/** audits the recording's arrival, then makes it visible; false when it turned out a duplicate */
async function completeAttempt(vault: Vault, row: RecordingRow): Promise<boolean> {
  await new AuditTrail(vault.audit).record(HOUSEKEEPER, {
    action: 'recording.ingest',
    outcome: 'success',
    recordingId: row.id,
    controllerId: row.controller_id,
    detail: { status: 'recovered' },
  });
  try {
    if (await vault.recordings.markStored(row.id)) return true;
  } catch {
    // the same content was stored by a later attempt meanwhile: this one is a duplicate
  }
  if ((await vault.recordings.attempt(row.id))?.state === 'stored') return true;
  await vault.blobs.delete(row.blob_key);
  await vault.recordings.deleteAttempt(row.id);
  return false;
}

async function objectComplete(vault: Vault, row: RecordingRow): Promise<boolean> {
  let source: CiphertextSource;
  try {
    source = await vault.blobs.open(row.blob_key);
  } catch (err) {
    if (isCallvaultError(err, ErrorCodes.BLOB_NOT_FOUND)) return false;
    throw err;
  }
  if (source.size !== row.ciphertext_size) return false;
  const hash = createHash('sha256');
  for await (const chunk of source.read(0, source.size)) hash.update(chunk);
  return hash.digest('hex') === row.ciphertext_sha256;
}

/**
 * Runs the housekeeping at start and then periodically, in `serve`. Failures are told and tried
 * again next time; they never stop the server.
 */
export function startHousekeeping(
  vault: Vault,
  intervalMs: number,
  warn: (message: string) => void,
  settled: (report: HousekeepingReport) => void = () => {},
): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const run = () => {
    running ??= cleanAttempts(vault)
      .then((r) => {
        if (r) settled(r);
        for (const s of r?.skipped ?? []) warn(s);
      })
      .catch(() => warn('housekeeping of interrupted uploads failed; it is tried again later'))
      .finally(() => {
        running = undefined;
      });
  };
  run();
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
