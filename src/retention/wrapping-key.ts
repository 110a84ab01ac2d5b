/**
 * Which public key a new recording's data key is wrapped to (docs/retention.md): the key of a
 * legal hold by agent that covers the call, else the key of its class and month, else (no such
 * key made yet: a call from before the first retention run, or far in the past) the controller's
 * active key, which the next run moves off. Public keys only: an importer without the keyring
 * chooses the same way.
 */
import type { ControllerKey } from '../keys/key-provider.js';
import type { Vault } from '../vault.js';
import { DEFAULT_CLASS, periodScope } from './periods.js';

export async function wrappingKey(
  vault: Pick<Vault, 'keys' | 'retention'>,
  call: { controllerId: string; retentionClass?: string; agent?: string; startedAt?: string },
): Promise<ControllerKey> {
  const time = call.startedAt ?? new Date().toISOString();
  const keys = (await vault.keys.list()).filter((k) => k.controllerId === call.controllerId && k.scope);
  if (call.agent) {
    for (const hold of await vault.retention.holds({ active: true })) {
      if (hold.kind !== 'agent' || hold.agent !== call.agent) continue;
      if ((hold.from_time && time < hold.from_time) || (hold.to_time && time >= hold.to_time)) continue;
      const key = keys.find((k) => k.scope === `hold/${hold.id}`);
      if (key) return key;
    }
  }
  return keys.find((k) => k.scope === periodScope(call.retentionClass ?? DEFAULT_CLASS, time)) ?? vault.keys.activeKey(call.controllerId);
}
