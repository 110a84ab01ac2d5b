/**
 * Writes blind indexes for recordings stored while the keyring was locked. An importer holds only
 * public keys, so it cannot compute keyed indexes; whoever next unlocks the keyring does.
 */
import { basename } from 'node:path';
import { BlindIndex, type IdentifierKind } from '../identifiers/blind-index.js';
import type { Vault } from '../vault.js';
import { readSealedFields } from './read.js';
import type { SealedFields } from './sealed-metadata.js';

export function blindIndexFor(vault: Vault, controllerId: string): BlindIndex {
  return new BlindIndex(vault.keys.derivedSecret('blind-index'), controllerId);
}

export function identifierDigests(index: BlindIndex, fields: SealedFields): { kind: IdentifierKind; digest: string }[] {
  const out: { kind: IdentifierKind; digest: string }[] = [];
  if (fields.caller) out.push({ kind: 'phone', digest: index.digest('phone', fields.caller) });
  if (fields.personnummer) out.push({ kind: 'personnummer', digest: index.digest('personnummer', fields.personnummer) });
  out.push({ kind: 'source_name', digest: index.digest('source_name', basename(fields.sourceName)) });
  return out;
}

/** indexes one recording at once, when whoever stored it holds the unlocked keyring (the server) */
export async function indexNow(vault: Vault, recordingId: string, controllerId: string, fields: SealedFields): Promise<boolean> {
  if (!vault.keys.unlocked) return false;
  await vault.recordings.setIdentifiers(recordingId, identifierDigests(blindIndexFor(vault, controllerId), fields));
  return true;
}

export async function indexPending(vault: Vault): Promise<number> {
  const indexes = new Map<string, BlindIndex>();
  let done = 0;
  for (;;) {
    const rows = await vault.recordings.unindexed(200);
    if (rows.length === 0) return done;
    for (const row of rows) {
      let index = indexes.get(row.controller_id);
      if (!index) indexes.set(row.controller_id, (index = blindIndexFor(vault, row.controller_id)));
      await vault.recordings.setIdentifiers(row.id, identifierDigests(index, await readSealedFields(vault, row)));
      done += 1;
    }
  }
}

/** stored recordings whose sealed identifiers include this canonical value, across controllers */
export async function findByIdentifier(vault: Vault, kind: IdentifierKind, canonicalValue: string) {
  const controllers = await vault.controllers.list();
  const digests = controllers.map((c) => blindIndexFor(vault, c.id).digest(kind, canonicalValue));
  return vault.recordings.findByIdentifier(kind, digests);
}
