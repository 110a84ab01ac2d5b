/**
 * Key status and the custodian's key operations: what `GET /api/v1/keys` and `callvault keys`
 * do. Status holds ids, dates and counts, never key material or wrapped keys.
 */
import { CallvaultError, ErrorCodes } from '../errors.js';
import { SUITE_NAME } from '../keys/hpke.js';
import { rewrapRetired, rotateKeys } from '../keys/rotation.js';
import type { Vault } from '../vault.js';
import type { Actor } from './actor.js';
import type { AuditTrail } from './audit-trail.js';

export interface KeyStatus {
  /** keyfile: a keyring sealed under the custodian's passphrase; pkcs11: an HSM */
  provider: string;
  unlocked: boolean;
  controllers: {
    id: string;
    name: string;
    keys: { keyId: string; createdAt: string; status: 'active' | 'retired'; algorithm: string; recordings: number }[];
  }[];
}

export class KeysService {
  constructor(
    private readonly deps: Pick<Vault, 'controllers' | 'keys' | 'recordings'>,
    private readonly trail: AuditTrail,
  ) {}

  /** every controller's key pairs, oldest first, with how many stored recordings each holds the data keys of */
  async status(actor: Actor): Promise<KeyStatus> {
    await this.trail.authorize(actor, 'keys:read', 'keys.read');
    const { controllers: controllerRepo, keys: provider, recordings } = this.deps;
    const [controllers, keys, counts] = await Promise.all([controllerRepo.list(), provider.list(), recordings.countByKey('stored')]);
    await this.trail.record(actor, { action: 'keys.read', outcome: 'success', detail: { controllers: controllers.length, keys: keys.length } });
    const byAge = [...keys].sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
    return {
      provider: provider.kind,
      unlocked: provider.unlocked,
      controllers: controllers.map((c) => ({
        id: c.id,
        name: c.name,
        keys: byAge
          .filter((k) => k.controllerId === c.id)
          .map((k) => ({ keyId: k.keyId, createdAt: k.createdAt, status: k.status, algorithm: SUITE_NAME, recordings: counts.get(k.keyId) ?? 0 })),
      })),
    };
  }

  /** a new active key pair for each named controller (all when none is named); older recordings stay readable */
  async rotate(actor: Actor, controllerId?: string): Promise<{ keyId: string; controller: string }[]> {
    await this.trail.authorize(actor, 'keys:manage', 'key.rotate');
    const { controllers, keys } = this.deps;
    const all = (await controllers.list()).map((c) => c.id);
    if (controllerId && !all.includes(controllerId)) throw new CallvaultError(ErrorCodes.CONTROLLER_UNKNOWN, 'no such controller');
    const ids = controllerId ? [controllerId] : all;
    const previous = new Map<string, string>();
    for (const k of await keys.list()) if (k.status === 'active' && ids.includes(k.controllerId)) previous.set(k.controllerId, k.keyId);
    // a key pair unused yet exposes nothing: it is made first so that its entry can name it
    const created = await rotateKeys(this.deps, ids);
    for (const k of created) {
      await this.trail.record(actor, {
        action: 'key.rotate',
        outcome: 'success',
        controllerId: k.controllerId,
        detail: { keyId: k.keyId, retiredKeyId: previous.get(k.controllerId) ?? null },
      });
    }
    return created.map((k) => ({ keyId: k.keyId, controller: k.controllerId }));
  }

  /** moves the data keys held by retired keys to the active keys, without touching audio */
  async rewrap(actor: Actor): Promise<{ rewrapped: number }> {
    await this.trail.authorize(actor, 'keys:manage', 'key.rewrap');
    const { keys, recordings } = this.deps;
    const held = await recordings.countByKey();
    // entry first (the data keys are about to be unwrapped): per controller whose retired keys
    // hold data keys, which keys, to which key, how many
    const byController = new Map<string, { fromKeyIds: string[]; toKeyId: string; rewrapped: number }>();
    for (const key of await keys.list()) {
      const count = held.get(key.keyId) ?? 0;
      if (key.status !== 'retired' || count === 0) continue;
      const entry = byController.get(key.controllerId) ?? { fromKeyIds: [], toKeyId: (await keys.activeKey(key.controllerId)).keyId, rewrapped: 0 };
      entry.fromKeyIds.push(key.keyId);
      entry.rewrapped += count;
      byController.set(key.controllerId, entry);
    }
    for (const [controllerId, detail] of byController) await this.trail.record(actor, { action: 'key.rewrap', outcome: 'success', controllerId, detail });
    if (byController.size === 0) await this.trail.record(actor, { action: 'key.rewrap', outcome: 'success', detail: { rewrapped: 0 } });
    return rewrapRetired(this.deps);
  }
}
