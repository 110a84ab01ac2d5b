/**
 * A live call's crash journal. While a call is recorded, the container bytes the ingest path seals
 * are also committed to the blob store as they come (whole 64 KiB segments, about every two
 * seconds of a two-channel call), after an entry holding the recording's wrapped data key and its
 * identifiers sealed under it. When the call is stored the journal is removed. When the process
 * dies mid-call, the journal is what survives: ciphertext only, like everything in the store.
 *
 * Recovery (`callvault siprec` at start, with the keyring unlocked) unwraps the data key, opens
 * the journal's segments in order up to the last whole one, and stores what they hold as a new
 * recording through the ingest path, marked incomplete (sealed `siprec.incomplete`). The new
 * recording has a data key and nonces of its own: no nonce is ever used twice under a key, and the
 * journal's container, which has no final segment, is never listed.
 *
 * Objects: `siprec-journal/<recording id>/entry` (JSON) and `siprec-journal/<recording id>/<n>`.
 */
import { Readable } from 'node:stream';
import { decodeHeader, HEADER_SIZE, SEGMENT_SIZE } from '../container/header.js';
import { openSegment, payloadKey, TAG_SIZE } from '../container/segments.js';
import { dataKeyContext } from '../keys/hpke.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { StoreJournal } from '../recordings/store.js';
import type { SealedFields } from '../recordings/sealed-metadata.js';
import { openMetadata } from '../recordings/sealed-metadata.js';
import type { Sidecar } from '../import/sidecar.js';
import type { KeyProvider } from '../keys/key-provider.js';

export const JOURNAL_PREFIX = 'siprec-journal/';

/** what the entry object holds: nothing identifying in the clear */
export interface JournalEntry {
  recordingId: string;
  controllerId: string;
  keyId: string;
  wrappedKey: string;
  sealedMetadata: string;
  /** the SBC's name in the configuration: the recovered call is stored as its actor */
  sbc: string;
  /** where the call belongs and when it started: the row's own columns, not identifiers */
  sidecar: Pick<Sidecar, 'region' | 'agent' | 'startedAt' | 'direction'>;
}

async function put(blobs: BlobStore, key: string, bytes: Buffer): Promise<void> {
  const pending = await blobs.begin(key);
  try {
    await new Promise<void>((resolve, reject) => pending.stream.end(bytes, (err?: Error | null) => (err ? reject(err) : resolve())));
    await pending.commit();
  } catch (err) {
    await pending.abort();
    throw err;
  }
}

async function get(blobs: BlobStore, key: string): Promise<Buffer> {
  const source = await blobs.open(key);
  const parts: Buffer[] = [];
  for await (const chunk of source.read(0, source.size)) parts.push(chunk);
  return Buffer.concat(parts);
}

export class BlobJournal implements Omit<StoreJournal, 'fields'> {
  #recordingId: string | undefined;
  #parts = 0;

  constructor(
    private readonly blobs: BlobStore,
    private readonly sbc: string,
    private readonly sidecar: JournalEntry['sidecar'],
  ) {}

  async begin(entry: Omit<JournalEntry, 'sbc' | 'sidecar'>): Promise<void> {
    this.#recordingId = entry.recordingId;
    const full: JournalEntry = { ...entry, sbc: this.sbc, sidecar: this.sidecar };
    await put(this.blobs, `${JOURNAL_PREFIX}${entry.recordingId}/entry`, Buffer.from(JSON.stringify(full)));
  }

  async append(bytes: Buffer): Promise<void> {
    if (bytes.length === 0) return;
    this.#parts += 1;
    await put(this.blobs, partKey(this.#recordingId!, this.#parts), bytes);
  }

  async close(): Promise<void> {
    if (!this.#recordingId) return;
    await removeJournal(this.blobs, this.#recordingId, this.#parts);
  }
}

/** the parts first, the entry last: a removal cut short leaves a journal that is still whole up to its end */
async function removeJournal(blobs: BlobStore, recordingId: string, parts: number): Promise<void> {
  for (let n = parts; n >= 1; n--) await blobs.delete(partKey(recordingId, n));
  await blobs.delete(`${JOURNAL_PREFIX}${recordingId}/entry`);
}

/** the journals left by a process that died mid-call: recording id → number of parts */
export async function leftJournals(blobs: BlobStore): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for await (const key of blobs.list()) {
    if (!key.startsWith(JOURNAL_PREFIX)) continue;
    const [id, part] = key.slice(JOURNAL_PREFIX.length).split('/');
    if (!id || !part) continue;
    found.set(id, Math.max(found.get(id) ?? 0, part === 'entry' ? 0 : Number(part)));
  }
  return found;
}

export interface RecoveredCall {
  entry: JournalEntry;
  /** the identifiers sealed at the call's start */
  fields: SealedFields;
  /** the WAV up to the last whole segment */
  audio: Readable;
  /** removes the journal, once what it held is stored */
  remove: () => Promise<void>;
}

/**
 * Opens one left journal: undefined when it has no entry or nothing whole to recover (it is
 * removed then). A segment that does not open (cut off by the crash) ends the recovered audio.
 */
export async function openJournal(blobs: BlobStore, keys: Pick<KeyProvider, 'unwrap'>, recordingId: string, parts: number): Promise<RecoveredCall | undefined> {
  let entry: JournalEntry;
  try {
    entry = JSON.parse((await get(blobs, `${JOURNAL_PREFIX}${recordingId}/entry`)).toString('utf8')) as JournalEntry;
  } catch {
    await removeJournal(blobs, recordingId, parts);
    return undefined;
  }
  const dataKey = await keys.unwrap(entry.keyId, Buffer.from(entry.wrappedKey, 'base64'), dataKeyContext(entry.keyId, entry.recordingId));
  let fields: SealedFields;
  let first: Buffer;
  let key: Buffer;
  let header: ReturnType<typeof decodeHeader>;
  try {
    fields = openMetadata(entry.sealedMetadata, dataKey, entry.recordingId);
    first = parts >= 1 ? await get(blobs, partKey(recordingId, 1)) : Buffer.alloc(0);
    if (first.length < HEADER_SIZE) {
      await removeJournal(blobs, recordingId, parts);
      return undefined;
    }
    header = decodeHeader(first.subarray(0, HEADER_SIZE), entry.recordingId);
    key = payloadKey(dataKey, header);
  } finally {
    dataKey.fill(0);
  }
  // segment by segment, part by part: the recovered call is never whole in memory
  async function* segments(): AsyncGenerator<Buffer> {
    const sealedSize = SEGMENT_SIZE + TAG_SIZE;
    let buf = first.subarray(HEADER_SIZE);
    let index = 0;
    for (let n = 1; ; ) {
      while (buf.length >= sealedSize) {
        let plain: Buffer;
        try {
          plain = openSegment(key, header, index, false, buf.subarray(0, sealedSize));
        } catch {
          return;
        }
        yield plain;
        index += 1;
        buf = buf.subarray(sealedSize);
      }
      n += 1;
      if (n > parts) return;
      try {
        buf = Buffer.concat([buf, await get(blobs, partKey(recordingId, n))]);
      } catch {
        return;
      }
    }
  }
  return { entry, fields, audio: Readable.from(segments()), remove: () => removeJournal(blobs, recordingId, parts) };
}

function partKey(recordingId: string, n: number): string {
  return `${JOURNAL_PREFIX}${recordingId}/${String(n).padStart(6, '0')}`;
}
