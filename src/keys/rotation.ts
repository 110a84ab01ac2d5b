/**
 * Key rotation: a new key pair for new recordings, and moving old data keys to it without
 * touching any audio object. docs/keys.md §4.
 */
import { dataKeyContext, wrapDataKey } from './hpke.js';
import type { ControllerKey } from './key-provider.js';
import type { Vault } from '../vault.js';
import { unwrapRecordingKey } from '../recordings/read.js';

export async function rotateKeys(vault: Pick<Vault, 'keys'>, controllerIds: string[]): Promise<ControllerKey[]> {
  const created: ControllerKey[] = [];
  for (const id of controllerIds) created.push(await vault.keys.generate(id));
  return created;
}

/** Re-wraps every data key held by a retired key to its controller's active key. */
export async function rewrapRetired(vault: Pick<Vault, 'keys' | 'recordings'>, onProgress?: (n: number) => void): Promise<{ rewrapped: number }> {
  let rewrapped = 0;
  for (const key of await vault.keys.list()) {
    if (key.status !== 'retired') continue;
    const target = await vault.keys.activeKey(key.controllerId);
    for (;;) {
      const rows = await vault.recordings.withKey(key.keyId, 200);
      if (rows.length === 0) break;
      for (const row of rows) {
        const dataKey = await unwrapRecordingKey(vault, row);
        try {
          const wrapped = await wrapDataKey(target.publicKey, dataKey, dataKeyContext(target.keyId, row.id));
          if (await vault.recordings.replaceWrappedKey(row.id, key.keyId, target.keyId, wrapped.toString('base64'))) rewrapped += 1;
        } finally {
          dataKey.fill(0);
        }
        onProgress?.(rewrapped);
      }
    }
  }
  return { rewrapped };
}
