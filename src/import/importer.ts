/**
 * `callvault import`: files and directories of WAV and MP3 recordings, with their sidecar
 * metadata. Idempotent by content hash and so resumable: a re-run skips what is stored, after
 * removing what an interrupted run left behind.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { readFile, readdir, stat, unlink } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { CallvaultError, ErrorCodes, isCallvaultError } from '../errors.js';
import { probeAudio, type AudioInfo } from '../audio/probe.js';
import type { StoreJournal, StoreResult } from '../recordings/store.js';
import { cleanAttempts } from '../recordings/attempts.js';
import { plaintextSha256 } from '../recordings/read.js';
import type { RedactionState } from '../db/schema.js';
import type { RecordingRow } from '../db/recordings-repository.js';
import type { Vault } from '../vault.js';
import { parseSidecar, readCsvMetadata, readJsonSidecar, type Sidecar } from './sidecar.js';
import { fileIdentity, ImportJournal } from './journal.js';
import { identifiersOfFile, type FoundIdentifiers } from '../identifiers/in-files.js';
import type { SealedFields } from '../recordings/sealed-metadata.js';
import { MAX_TRANSCRIPT_BYTES, parseTranscript, serializeTranscript } from '../transcripts/index.js';

/** one recording as an adapter hands it to the store path (IngestService.ingest): its bytes, read once, and what describes it */
export interface IncomingRecording {
  source: Readable;
  /** known before (a file) or only after the bytes have streamed through (an upload) */
  audio: AudioInfo | (() => Promise<AudioInfo>);
  /** `controller` absent: the token's controller, or the vault's default for the operator */
  sidecar: Sidecar;
  /** canonical form, validated */
  transcript?: Buffer;
  sourceName: string;
  sourcePath: string;
  /** identifiers in the file's names and tags, sealed and indexed with the caller's */
  found?: FoundIdentifiers;
  onChunk?: (chunk: Buffer) => void;
  /** the content's SHA-256 when it was hashed before (a file the size of one already stored) */
  expectedSha256?: string;
  /** a live call's facts, known only once its audio has ended (src/siprec/): sealed and indexed with the rest */
  atEnd?: () => Pick<SealedFields, 'siprec'>;
  /** a live call's crash journal (src/siprec/journal.ts); its fields are the ones known at the start */
  journal?: Omit<StoreJournal, 'fields'>;
}

export interface ImportOptions {
  /** stores one file: IngestService.ingest, so that each is authorised and audited as an upload is */
  store: (incoming: IncomingRecording) => Promise<Pick<StoreResult, 'status' | 'id' | 'sha256'>>;
  metadataCsv?: string;
  /** delete each source only after its stored copy was read back, decrypted and compared; needs an unlocked keyring */
  shredSource?: boolean;
  concurrency?: number;
  onStart?: (totalBytes: number, files: number) => void;
  onBytes?: (n: number) => void;
}

export interface ImportReport {
  imported: { path: string; id: string; sha256: string }[];
  skipped: { path: string; reason: string }[];
  failed: { path: string; reason: string }[];
  /** housekeeping that could not be done (it is tried again by the next import and by the server) */
  warnings?: string[];
  /** when the keyring was unlocked: how examining the stored recordings for identifiers came out */
  redaction?: Partial<Record<RedactionState, number>>;
}

interface FileEntry {
  path: string;
  size: number;
  /** the import's argument it was found under: names below it are read for identifiers */
  root?: string;
  /** for the import journal (src/import/journal.ts) */
  identity?: string;
}

interface Candidate extends FileEntry {
  sidecar?: string;
  transcript?: string;
}

/**
 * Files beside `call.wav` that describe it rather than being recordings: `call.json` (metadata),
 * and its transcript as `call.vtt`, `call.srt` or `call.transcript.json` (whisper verbose_json).
 */
const SIDECAR_SUFFIXES = [
  { suffix: '.transcript.json', kind: 'transcript', mediaType: 'application/json' },
  { suffix: '.vtt', kind: 'transcript', mediaType: 'text/vtt' },
  { suffix: '.srt', kind: 'transcript', mediaType: 'application/x-subrip' },
  { suffix: '.json', kind: 'sidecar', mediaType: 'application/json' },
] as const;

/** the media type a transcript file's name says (`call.vtt`: text/vtt), or undefined: then its content says */
export function transcriptMediaType(path: string): string | undefined {
  return sidecarOf(path)?.mediaType;
}

function sidecarOf(path: string): { stem: string; kind: 'sidecar' | 'transcript'; mediaType: string } | undefined {
  const lower = path.toLowerCase();
  const match = SIDECAR_SUFFIXES.find((s) => lower.endsWith(s.suffix));
  return match && { stem: path.slice(0, path.length - match.suffix.length), kind: match.kind, mediaType: match.mediaType };
}

export async function importPaths(vault: Vault, paths: string[], options: ImportOptions): Promise<ImportReport> {
  const report: ImportReport = { imported: [], skipped: [], failed: [] };
  // what an interrupted run left behind is settled first; housekeeping that cannot be done now
  // (an object store that does not list partial uploads) is told, and the import goes on
  const housekeeping = await cleanAttempts(vault).catch(() => ({ skipped: ['interrupted attempts could not be settled now'] }));
  if (housekeeping?.skipped.length) report.warnings = housekeeping.skipped;
  const csv = options.metadataCsv ? await readCsvMetadata(options.metadataCsv) : undefined;
  const csvPath = options.metadataCsv ? resolve(options.metadataCsv) : undefined;

  const files: FileEntry[] = [];
  for (const p of paths) {
    try {
      await collect(p, p, files);
    } catch {
      report.failed.push({ path: p, reason: 'no such file or directory, or not readable' });
    }
  }
  const candidates = pairSidecars(files.filter((f) => resolve(f.path) !== csvPath));
  const controllers = new Set((await vault.controllers.list()).map((c) => c.id));
  // a file shredded after the import is not there to be skipped next time
  const journal = options.shredSource
    ? undefined
    : new ImportJournal(
        vault,
        candidates.map((c) => c.identity),
      );
  options.onStart?.(
    candidates.reduce((n, c) => n + c.size, 0),
    candidates.length,
  );

  const work = async (c: Candidate, index: number) => {
    try {
      const outcome = await importOne(vault, c, controllers, csv, options, journal && { journal, index });
      if (outcome.kind === 'imported') report.imported.push({ path: c.path, id: outcome.id, sha256: outcome.sha256 });
      else report.skipped.push({ path: c.path, reason: outcome.reason });
    } catch (err) {
      if (isCallvaultError(err, ErrorCodes.UNSUPPORTED_AUDIO)) {
        report.skipped.push({ path: c.path, reason: 'not a WAV or MP3 file' });
        options.onBytes?.(c.size);
      } else {
        report.failed.push({ path: c.path, reason: failureReason(err) });
      }
    }
  };
  // many files in flight: their durable commits are grouped (src/util/group-commit.ts), which a few cannot fill
  await runPool(candidates, options.concurrency ?? 16, work);
  const unjournaled = await journal?.close();
  if (unjournaled) report.warnings = [...(report.warnings ?? []), unjournaled];
  for (const list of [report.imported, report.skipped, report.failed]) list.sort((a, b) => a.path.localeCompare(b.path));
  return report;
}

async function importOne(
  vault: Vault,
  c: Candidate,
  controllers: Set<string>,
  csv: Map<string, Record<string, string>> | undefined,
  options: ImportOptions,
  at?: { journal: ImportJournal; index: number },
): Promise<{ kind: 'imported'; id: string; sha256: string } | { kind: 'skipped'; reason: string }> {
  const sidecar: Sidecar = {
    ...(c.sidecar ? await readJsonSidecar(c.sidecar) : {}),
    ...(csv?.has(resolve(c.path)) ? parseSidecar(csv.get(resolve(c.path))!) : {}),
  };
  const controllerId = sidecar.controller ?? vault.config.defaultController;
  if (!controllers.has(controllerId)) {
    throw new CallvaultError(ErrorCodes.CONTROLLER_UNKNOWN, 'metadata: controller is not known to this vault');
  }
  // unchanged since it was stored: skipped without being opened
  const journaled = await at?.journal.storedAs(at.index, controllerId);
  if (journaled) {
    options.onBytes?.(c.size);
    const stored = c.transcript ? await vault.recordings.get(journaled) : undefined;
    return { kind: 'skipped', reason: `already stored as ${journaled} (unchanged since: not read again)${transcriptHint(c, stored)}` };
  }
  const audio: AudioInfo = await probeAudio(c.path);
  // A file the size of one already stored is hashed first, so a resumed run skips it without
  // encrypting it again; other files are hashed once, while they are encrypted.
  let sha256: string | undefined;
  if (await vault.recordings.hasSize(controllerId, c.size)) {
    sha256 = await hashFile(c.path);
    const existing = await vault.recordings.findByContent(controllerId, sha256);
    if (existing) {
      at?.journal.record(at.index, controllerId, existing.id);
      options.onBytes?.(c.size);
      if (options.shredSource) await shred(vault, c, existing.id, sha256);
      return { kind: 'skipped', reason: `already stored as ${existing.id}${transcriptHint(c, existing)}` };
    }
  }
  const result = await options.store({
    // reads end at the size stat gave: the last read is sized to what is left, so no chunk is copied to fit
    source: createReadStream(c.path, { highWaterMark: 1024 * 1024, end: Math.max(0, c.size - 1) }),
    audio,
    sidecar: { ...sidecar, controller: controllerId },
    transcript: c.transcript ? await readTranscript(c.transcript) : undefined,
    sourceName: basename(c.path),
    sourcePath: resolve(c.path),
    found: await identifiersOfFile(c.path, c.root ?? c.path),
    onChunk: (b) => options.onBytes?.(b.length),
    expectedSha256: sha256,
  });
  at?.journal.record(at.index, controllerId, result.id);
  if (options.shredSource) await shred(vault, c, result.id, result.sha256);
  return result.status === 'stored' ? { kind: 'imported', id: result.id, sha256: result.sha256 } : { kind: 'skipped', reason: `already stored as ${result.id}` };
}

/** Deletes the source and its sidecar once the stored copy decrypts to the same bytes. */
async function shred(vault: Vault, c: Candidate, id: string, sha256: string): Promise<void> {
  const row = await vault.recordings.get(id);
  if (!row) throw new CallvaultError(ErrorCodes.INTEGRITY_MISMATCH, 'stored copy not found; source kept');
  if (row.content_sha256 !== sha256 || (await plaintextSha256(vault, row)) !== sha256) {
    throw new CallvaultError(ErrorCodes.INTEGRITY_MISMATCH, 'stored copy does not match the source; source kept');
  }
  await unlink(c.path);
  if (c.sidecar) await unlink(c.sidecar);
  if (c.transcript) await unlink(c.transcript);
}

/** the transcript validated and in its canonical form, which is what is sealed */
async function readTranscript(path: string): Promise<Buffer> {
  const s = await stat(path);
  if (s.size > MAX_TRANSCRIPT_BYTES) throw new CallvaultError(ErrorCodes.INVALID_TRANSCRIPT, 'the transcript is larger than 4 MiB');
  return Buffer.from(serializeTranscript(parseTranscript(await readFile(path), sidecarOf(path)?.mediaType)), 'utf8');
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function collect(path: string, root: string, out: FileEntry[]): Promise<void> {
  const s = await stat(path, { bigint: true });
  if (s.isFile()) {
    out.push({ path, size: Number(s.size), root, identity: fileIdentity(s) });
    return;
  }
  if (!s.isDirectory()) return;
  const entries = await readdir(path, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const child = join(path, e.name);
    if (e.isDirectory() || e.isFile()) await collect(child, root, out);
  }
}

/** `call.json` and `call.vtt` beside `call.wav` describe it; they are not files to import. */
function pairSidecars(files: FileEntry[]): Candidate[] {
  const stem = (p: string) => p.slice(0, p.length - extname(p).length);
  const sidecars = new Map<string, string>();
  const transcripts = new Map<string, string>();
  for (const f of files) {
    const side = sidecarOf(f.path);
    if (side) (side.kind === 'sidecar' ? sidecars : transcripts).set(side.stem, f.path);
  }
  const candidates: Candidate[] = [];
  const used = new Set<string>();
  for (const f of files) {
    if (sidecarOf(f.path)) continue;
    const sidecar = sidecars.get(stem(f.path));
    const transcript = transcripts.get(stem(f.path));
    for (const p of [sidecar, transcript]) if (p) used.add(p);
    candidates.push({ ...f, sidecar, transcript });
  }
  // a sidecar without its recording is reported, as a file that is not audio
  for (const path of [...sidecars.values(), ...transcripts.values()]) if (!used.has(path)) candidates.push({ path, size: 0 });
  return candidates;
}

async function runPool<T>(items: T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

function failureReason(err: unknown): string {
  if (isCallvaultError(err)) return err.message;
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'SQLITE_FULL') return 'the disk is full: nothing was stored';
  return typeof code === 'string' ? `could not be read or stored (${code})` : 'could not be read or stored';
}

/** a transcript put beside a call after it was imported is not taken by a second import: say how to attach it */
function transcriptHint(c: Candidate, stored: Pick<RecordingRow, 'id' | 'sealed_transcript'> | undefined): string {
  return c.transcript && stored && !stored.sealed_transcript ? `; its transcript is not added by an import: callvault transcripts add ${stored.id} FILE` : '';
}
