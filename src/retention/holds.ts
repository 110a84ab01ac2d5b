/**
 * Whether a legal hold covers a call as it arrives (docs/retention.md): by agent and call time
 * from the metadata alone, and by the person's identifiers through the blind index when the
 * keyring is open. A call a hold covers is stored even when past its retention.
 */
import type { FoundIdentifiers } from '../identifiers/in-files.js';
import { blindIndexFor } from '../recordings/indexer.js';
import type { Vault } from '../vault.js';

export async function heldOnArrival(
  vault: Pick<Vault, 'keys' | 'retention'>,
  controllerId: string,
  call: { agent?: string; time: string; caller?: string; personnummer?: string; found?: FoundIdentifiers },
): Promise<boolean> {
  const holds = await vault.retention.holds({ active: true });
  for (const h of holds) {
    if (h.kind !== 'agent' || h.agent !== call.agent) continue;
    if ((h.from_time && call.time < h.from_time) || (h.to_time && call.time >= h.to_time)) continue;
    return true;
  }
  if (!vault.keys.unlocked || !holds.some((h) => h.kind === 'personnummer' || h.kind === 'phone')) return false;
  const index = blindIndexFor(vault, controllerId);
  const digests = [
    ...(call.personnummer ? [{ kind: 'personnummer', digest: index.digest('personnummer', call.personnummer) }] : []),
    ...(call.caller ? [{ kind: 'phone', digest: index.digest('phone', call.caller) }] : []),
    // and those in the file's names and tags, which the recording is indexed by too
    ...(call.found?.personnummer ?? []).map((v) => ({ kind: 'personnummer', digest: index.digest('personnummer', v) })),
    ...(call.found?.phone ?? []).map((v) => ({ kind: 'phone', digest: index.digest('phone', v) })),
  ];
  return vault.retention.anyHoldDigest(controllerId, digests);
}
