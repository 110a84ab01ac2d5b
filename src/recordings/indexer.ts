/**
 * Writes blind indexes for recordings stored while the keyring was locked. An importer holds only
 * public keys, so it cannot compute keyed indexes; whoever next unlocks the keyring does.
 */
import { basename } from 'node:path';
import type { RecordingRow } from '../db/recordings-repository.js';
import { BlindIndex, transcriptKind, type IdentifierKind } from '../identifiers/blind-index.js';
import type { FoundIdentifier } from '../redaction/transcript.js';
import type { Vault } from '../vault.js';
import { readSealedDetections, readSealedFields } from './read.js';
import type { SealedFields } from './sealed-metadata.js';
import type { Destruction } from './destroyed.js';

/** one per controller and vault: deriving its key costs more than a lookup */
const indexes = new WeakMap<object, Map<string, BlindIndex>>();

export function blindIndexFor(vault: Pick<Vault, 'keys'>, controllerId: string): BlindIndex {
  let byController = indexes.get(vault);
  if (!byController) {
    byController = new Map();
    indexes.set(vault, byController);
  }
  let index = byController.get(controllerId);
  if (!index) {
    index = new BlindIndex(vault.keys.derivedSecret('blind-index'), controllerId);
    byController.set(controllerId, index);
  }
  return index;
}

/**
 * One person's digests under each controller's blind index, as stored to match them later
 * (legal holds, staff identifiers, protected persons). `kinds` says under which kinds: the
 * metadata's (`personnummer`, `phone`) and, for matching what was said in a call, the transcript's.
 */
export function personDigests(
  vault: Pick<Vault, 'keys'>,
  controllerIds: readonly string[],
  person: { personnummer?: string; phone?: string },
  options: { spoken: boolean },
): { controllerId: string; kind: IdentifierKind; digest: string }[] {
  const out: { controllerId: string; kind: IdentifierKind; digest: string }[] = [];
  for (const controllerId of controllerIds) {
    const index = blindIndexFor(vault, controllerId);
    for (const kind of ['personnummer', 'phone'] as const) {
      const value = person[kind];
      if (!value) continue;
      out.push({ controllerId, kind, digest: index.digest(kind, value) });
      if (options.spoken) out.push({ controllerId, kind: transcriptKind(kind), digest: index.digest(transcriptKind(kind), value) });
    }
  }
  return out;
}

/** digests of the metadata's identifiers (the sidecar's, and those found in the file's names and tags) and of those found in the transcript, each once */
export function identifierDigests(index: BlindIndex, fields: SealedFields, found: readonly FoundIdentifier[] = []): { kind: IdentifierKind; digest: string }[] {
  const out = new Map<string, { kind: IdentifierKind; digest: string }>();
  const add = (kind: IdentifierKind, value: string) => out.set(`${kind}\0${value}`, { kind, digest: index.digest(kind, value) });
  if (fields.caller) add('phone', fields.caller);
  if (fields.personnummer) add('personnummer', fields.personnummer);
  // what the file's names and tags held is metadata too; e-mail addresses are sealed, not indexed (nothing looks one up)
  for (const phone of fields.found?.phone ?? []) add('phone', phone);
  // every participant of a live call: the caller and the called party alike
  for (const p of fields.siprec?.participants ?? []) if (p.phone) add('phone', p.phone);
  for (const personnummer of fields.found?.personnummer ?? []) add('personnummer', personnummer);
  add('source_name', basename(fields.sourceName));
  for (const f of found) {
    if (f.type === 'phone') add(transcriptKind('phone'), f.value);
    else if (f.type === 'personnummer' || f.type === 'samordningsnummer') add(transcriptKind('personnummer'), f.value);
  }
  return [...out.values()];
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
      if (!index) {
        index = blindIndexFor(vault, row.controller_id);
        indexes.set(row.controller_id, index);
      }
      await vault.recordings.setIdentifiers(row.id, identifierDigests(index, await readSealedFields(vault, row), await readSealedDetections(vault, row)));
      done += 1;
    }
  }
}

export interface SubjectHit {
  row: RecordingRow;
  foundIn: ('metadata' | 'transcript')[];
}

/**
 * Stored recordings whose metadata holds this canonical value or whose transcript mentions it,
 * across controllers (or those given), each with where it was found.
 */
export async function findByIdentifier(
  vault: Pick<Vault, 'controllers' | 'keys' | 'recordings'>,
  kind: 'phone' | 'personnummer' | 'source_name',
  canonicalValue: string,
  controllerIds?: readonly string[],
): Promise<SubjectHit[]> {
  const { kinds, digests } = await lookup(vault, kind, canonicalValue, controllerIds);
  const found = new Map<string, SubjectHit>();
  // one query for both kinds; a digest is keyed by its kind, so it matches only its own
  for (const { kind: k, ...row } of await vault.recordings.findByIdentifier(kinds, digests)) {
    const hit = found.get(row.id) ?? { row, foundIn: [] };
    hit.foundIn.push(k === kind ? 'metadata' : 'transcript');
    found.set(row.id, hit);
  }
  for (const hit of found.values()) hit.foundIn.sort();
  return [...found.values()].sort((a, b) => (a.row.id < b.row.id ? -1 : 1));
}

/** the kinds to look a value up by, and its digest under each controller's key, one per kind and controller */
async function lookup(
  vault: Pick<Vault, 'controllers' | 'keys'>,
  kind: 'phone' | 'personnummer' | 'source_name',
  canonicalValue: string,
  controllerIds: readonly string[] | undefined,
): Promise<{ controllers: readonly string[]; kinds: IdentifierKind[]; digests: string[] }> {
  const controllers = controllerIds ?? (await vault.controllers.list()).map((c) => c.id);
  const kinds: IdentifierKind[] = kind === 'source_name' ? [kind] : [kind, transcriptKind(kind)];
  const digests = kinds.flatMap((k) => controllers.map((c) => blindIndexFor(vault, c).digest(k, canonicalValue)));
  return { controllers, kinds, digests };
}

export interface DestroyedHit {
  id: string;
  controllerId: string;
  startedAt: string | null;
  destruction: Destruction;
  destroyedAt: string;
}

/**
 * The person's recordings that were destroyed (erased or shredded) at these controllers (all when
 * absent), through the links a destroyer kept (src/recordings/destroyed.ts): for the access log
 * only, never for finding recordings, which are gone.
 */
export async function findDestroyedByIdentifier(
  vault: Pick<Vault, 'controllers' | 'keys' | 'recordings'>,
  kind: 'phone' | 'personnummer',
  canonicalValue: string,
  controllerIds?: readonly string[],
): Promise<DestroyedHit[]> {
  const { controllers, kinds, digests } = await lookup(vault, kind, canonicalValue, controllerIds);
  return (await vault.recordings.destroyedByIdentifier(kinds, digests, controllers)).map((r) => ({
    id: r.recording_id,
    controllerId: r.controller_id,
    startedAt: r.started_at,
    destruction: r.destruction,
    destroyedAt: r.destroyed_at,
  }));
}
