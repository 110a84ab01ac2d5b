/**
 * A retention run (docs/retention.md), per controller:
 *
 * 1. every stored recording whose data key is not wrapped to the key of its own period (its
 *    class and month of call time) is rewrapped to it, the key made when missing; legal holds
 *    come before periods: a recording a hold covers is wrapped to the hold's key instead;
 * 2. each period key whose month has passed its class's retention is destroyed, after its
 *    recordings became tombstones (erased, `shredded_at` set) and before their objects are
 *    deleted. A backup of the database taken before the run still holds the wrapped keys, but
 *    the private key that opens them is gone from the keyring, so nothing in it decrypts;
 * 3. a released hold's key is destroyed once none of its recordings is both unexpired and
 *    without a period key to go back to;
 * 4. recordings whose key an earlier run destroyed (a database restored from a backup older than
 *    that run names them as stored) become tombstones too: nothing lists what cannot be read.
 *
 * Key operations grow with the number of periods, not of recordings: one destroy per month and
 * class. The rewrap in step 1 touches each recording once, the first time (or after a hold).
 *
 * The audit entry of a controller is written before anything of it is destroyed; with the log
 * refusing it nothing is.
 */
import { dataKeyContext, wrapDataKey } from '../keys/hpke.js';
import type { ControllerKey } from '../keys/key-provider.js';
import type { RecordingRow } from '../db/recordings-repository.js';
import { unwrapRecordingKey } from '../recordings/read.js';
import { deleteErasureDebris } from '../subject/erase.js';
import type { Vault } from '../vault.js';
import { callTime, DEFAULT_CLASS, monthOf, nextMonth, parsePeriodScope, periodExpiresAt, periodScope } from './periods.js';

export interface ControllerRun {
  controllerId: string;
  /** recordings rewrapped to their period's (or a hold's) key */
  moved: number;
  /** recordings shredded: their period's key destroyed */
  shredded: number;
  /** key ids destroyed, period and released-hold keys */
  keysDestroyed: string[];
  /** expired recordings a hold kept */
  held: number;
  /** the next period to expire, and when */
  nextDue: { scope: string; at: string } | null;
}

export interface RetentionReport {
  dryRun: boolean;
  at: string;
  controllers: ControllerRun[];
}

export interface RunOptions {
  dryRun: boolean;
  now?: Date;
  /** the audit entry of one controller's run; written before anything is destroyed */
  record: (run: ControllerRun) => Promise<void>;
}

const BATCH = 500;

export async function runRetention(vault: Vault, options: RunOptions): Promise<RetentionReport> {
  const now = options.now ?? new Date();
  const controllers: ControllerRun[] = [];
  for (const { id } of await vault.controllers.list()) controllers.push(await runController(vault, id, now, options));
  return { dryRun: options.dryRun, at: now.toISOString(), controllers };
}

async function runController(vault: Vault, controllerId: string, now: Date, options: RunOptions): Promise<ControllerRun> {
  const days = new Map((await vault.retention.policies(controllerId)).map((p) => [p.class, p.days]));
  const run: ControllerRun = { controllerId, moved: 0, shredded: 0, keysDestroyed: [], held: 0, nextDue: null };
  const keys = new Keys(vault, controllerId, await vault.keys.list());
  const activeHolds = new Set((await vault.retention.holds({ active: true })).map((h) => h.id));

  // 1. holds first, then periods. Only what may be on the wrong key is read: the recordings of
  // controller keys and released holds' keys, those of a period key whose class was changed since,
  // and those a hold covers that are not on an active hold's key. A daily run of a settled vault
  // reads none of the rest.
  const coveredRows = await vault.retention.covered(controllerId);
  const covered = new Map(coveredRows.map((c) => [c.recordingId, c.holdId]));
  if (!options.dryRun) {
    const byId = new Map(keys.of(controllerId).map((k) => [k.keyId, k]));
    const onActiveHold = (keyId: string) => {
      const scope = byId.get(keyId)?.scope;
      return scope?.startsWith('hold/') === true && activeHolds.has(scope.slice(5));
    };
    const place = async (row: RecordingRow, key: ControllerKey) => {
      if (row.state !== 'stored') return;
      const holdId = covered.get(row.id);
      const target = holdId ? `hold/${holdId}` : periodScope(row.retention_class || DEFAULT_CLASS, callTime(row));
      if (key.scope === target || (!holdId && onActiveHold(key.keyId))) return;
      // a released hold's recording goes back to its month, if that month's key still exists
      if (!holdId && key.scope?.startsWith('hold/') && !keys.find(target)) return;
      if (await moveTo(vault, row, key, await keys.ensure(target))) run.moved += 1;
    };
    for (const key of keys.of(controllerId)) {
      const period = parsePeriodScope(key.scope);
      if (key.scope && !period && onActiveHold(key.keyId)) continue;
      for (let after = ''; ; ) {
        const rows = await vault.recordings.withKey(key.keyId, BATCH, after, period ? { classNot: period.cls } : {});
        if (rows.length === 0) break;
        after = rows.at(-1)!.id;
        for (const row of rows) await place(row, key);
      }
    }
    for (const c of coveredRows) {
      if (onActiveHold(c.keyId)) continue;
      const row = await vault.recordings.get(c.recordingId);
      const key = byId.get(c.keyId);
      if (row && key) await place(row, key);
    }
  }

  // keys for this month and the next, so that an importer without the keyring finds them
  if (!options.dryRun) {
    for (const cls of new Set([DEFAULT_CLASS, ...days.keys()])) for (const t of [now, nextMonth(now)]) await keys.ensure(periodScope(cls, t.toISOString()));
  }

  // 2. periods past retention
  for (const key of keys.of(controllerId)) {
    const period = parsePeriodScope(key.scope);
    const retention = period && days.get(period.cls);
    if (!period || retention === undefined) continue;
    const expiresAt = periodExpiresAt(period.month, retention);
    if (expiresAt > now) {
      if (!run.nextDue || expiresAt.toISOString() < run.nextDue.at) run.nextDue = { scope: key.scope!, at: expiresAt.toISOString() };
      continue;
    }
    const ids = await vault.retention.idsWithKey(key.keyId);
    run.keysDestroyed.push(key.keyId);
    run.shredded += ids.length;
  }
  const expired = (row: RecordingRow | undefined) => {
    const retention = row && days.get(row.retention_class);
    return row !== undefined && retention !== undefined && periodExpiresAt(monthOf(callTime(row)), retention) <= now;
  };
  // recordings whose key an earlier run destroyed, back from a database backup older than that run
  const gone = await vault.keys.destroyedKeys();
  const leftovers = gone.length ? await vault.retention.idsWithKeys(controllerId, gone) : [];
  run.shredded += leftovers.length;

  // recordings a hold keeps past their period's retention
  for (const [recordingId] of covered) if (expired(await vault.recordings.get(recordingId))) run.held += 1;
  // 3. released holds' keys with nothing left to keep
  for (const key of keys.of(controllerId).filter((k) => k.scope?.startsWith('hold/') && !activeHolds.has(k.scope.slice(5)))) {
    const ids = await vault.retention.idsWithKey(key.keyId);
    const rows = await Promise.all(ids.map((id) => vault.recordings.get(id)));
    if (!rows.every(expired)) continue;
    run.keysDestroyed.push(key.keyId);
    run.shredded += ids.length;
  }

  await options.record(run);
  if (options.dryRun) return run;
  const at = now.toISOString();
  await vault.recordings.erase(leftovers, at, { shredded: true });
  for (const keyId of run.keysDestroyed) {
    // tombstones first: a crash before the key is destroyed leaves a key no recording uses, which the next run destroys
    await vault.recordings.erase(await vault.retention.idsWithKey(keyId), at, { shredded: true });
    await vault.keys.destroy(keyId);
  }
  if (run.keysDestroyed.length + leftovers.length) {
    await deleteErasureDebris(vault);
    await vault.database.forgetOverwritten();
  }
  return run;
}

/** rewraps one recording's data key from `from` to `to`; false when it changed meanwhile */
async function moveTo(vault: Vault, row: RecordingRow, from: ControllerKey, to: ControllerKey): Promise<boolean> {
  const dataKey = await unwrapRecordingKey(vault, row);
  try {
    const wrapped = await wrapDataKey(to.publicKey, dataKey, dataKeyContext(to.keyId, row.id));
    return vault.recordings.replaceWrappedKey(row.id, from.keyId, to.keyId, wrapped.toString('base64'));
  } finally {
    dataKey.fill(0);
  }
}

/** one controller's keys as the run finds and makes them */
class Keys {
  constructor(
    private readonly vault: Vault,
    private readonly controllerId: string,
    private keys: ControllerKey[],
  ) {}

  of(controllerId: string): ControllerKey[] {
    return this.keys.filter((k) => k.controllerId === controllerId);
  }

  find(scope: string): ControllerKey | undefined {
    return this.keys.find((k) => k.controllerId === this.controllerId && k.scope === scope);
  }

  async ensure(scope: string): Promise<ControllerKey> {
    const found = this.find(scope);
    if (found) return found;
    const made = await this.vault.keys.generate(this.controllerId, scope);
    this.keys = [...this.keys, made];
    return made;
  }
}

/**
 * A hold takes effect at once: every recording of `controllers` it covers that is not on an
 * active hold's key yet is rewrapped to this hold's key (made per controller). Returns how many
 * recordings it covers.
 */
export async function placeHold(vault: Vault, holdId: string, controllers: readonly string[]): Promise<number> {
  const active = new Set((await vault.retention.holds({ active: true })).map((h) => `hold/${h.id}`));
  let covered = 0;
  for (const controllerId of controllers) {
    // the hold's key exists from the start: a call that arrives later and matches is wrapped to it
    const keys = new Keys(vault, controllerId, await vault.keys.list());
    const key = await keys.ensure(`hold/${holdId}`);
    const matches = await vault.retention.covered(controllerId, holdId);
    const byId = new Map(keys.of(controllerId).map((k) => [k.keyId, k]));
    for (const m of matches) {
      covered += 1;
      const from = byId.get(m.keyId);
      if (!from || (from.scope && active.has(from.scope))) continue;
      const row = await vault.recordings.get(m.recordingId);
      if (row?.state === 'stored') await moveTo(vault, row, from, key);
    }
  }
  return covered;
}
