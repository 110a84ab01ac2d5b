/**
 * A data subject's export (GDPR art. 15): one ZIP archive with every recording of the person in
 * the caller's reach (the original audio, decrypted; the transcript as canonical JSON and WebVTT;
 * the call's metadata, the person's own identifiers included), the access log of those recordings
 * and a README manifest. docs/subject-rights.md.
 *
 * The archive streams (yazl): each recording is opened, decrypted and written when its turn
 * comes, so at most one recording's segment and one transcript are in memory, and nothing is
 * written to the server's disk. Every entry is audited before the first byte leaves.
 */
import { createHash, randomUUID } from 'node:crypto';
import { type PassThrough, Readable } from 'node:stream';
import { ZipFile } from 'yazl';
import { subjectAccessLog, type SubjectAccessLog } from '../audit/subject-access-log.js';
import type { UnattributedEvent } from '../audit/audit-log.js';
import type { RecordingRow } from '../db/recordings-repository.js';
import { CallvaultError, ErrorCodes } from '../errors.js';
import type { SubjectHit } from '../recordings/indexer.js';
import { openRecordingParts, type RecordingParts } from '../recordings/read.js';
import { parseTranscript, serializeTranscript, toWebVtt } from '../transcripts/index.js';
import type { Vault } from '../vault.js';
import { scrubbedText } from '../redaction/transcript.js';
import type { SubjectKind } from './common.js';

/** an audit event as the caller completes it (actor, address, request id) */
export type SubjectAuditEvent = UnattributedEvent;

export interface SubjectExportRequest {
  kind: SubjectKind;
  /** the canonical identifier */
  value: string;
  /** the person's recordings the caller may export, found through the blind indexes */
  hits: readonly SubjectHit[];
  /** the access log covers these controllers' recordings (the caller's reach); all when absent */
  controllers?: readonly string[];
  /** the controllers the request covered, for its entries (`controllersCovered`) */
  covered: readonly string[];
  /** the case reference; identifiers in it are replaced by labels before it reaches the log */
  purposeText?: string;
  /** appends one event to the audit log as the caller (fails closed: it throws when it cannot) */
  append: (event: SubjectAuditEvent) => Promise<void>;
}

export interface SubjectExport {
  exportId: string;
  recordings: number;
  /** the ZIP archive; it errors (and stops) if a recording cannot be read or does not match its hash */
  archive: Readable;
  /** a file name that names no identifier */
  filename: string;
}

const ARCHIVE_TYPES: Record<string, string> = { wav: 'wav', mp3: 'mp3' };

/**
 * Audits the export (one `subject.export` with the identifier's keyed hash and the count, one
 * `recording.export` per recording, marked as a subject request), then reads the access log
 * (which so includes this export) and returns the archive, not yet read.
 */
export async function prepareSubjectExport(vault: Vault, request: SubjectExportRequest): Promise<SubjectExport> {
  const exportId = randomUUID();
  const generatedAt = new Date();
  const purposeText = scrubbedText(request.purposeText);
  const hash = vault.audit.identifierHash(request.kind, request.value);
  await request.append({
    action: 'subject.export',
    outcome: 'success',
    purpose: 'subject-request',
    purposeText,
    detail: { [`${request.kind}Hash`]: hash, controllers: [...request.covered], exportId, recordings: request.hits.length },
  });
  for (const hit of request.hits) {
    await request.append({
      action: 'recording.export',
      outcome: 'success',
      recordingId: hit.row.id,
      controllerId: hit.row.controller_id,
      purpose: 'subject-request',
      purposeText,
      detail: { rendition: 'original', subjectRequest: true, exportId },
    });
  }
  const log = await subjectAccessLog(vault, request.kind, request.value, request.controllers);
  const names = new Map((await vault.controllers.list()).map((c) => [c.id, c.name]));
  const archive = subjectArchive(vault, { exportId, kind: request.kind, value: request.value, generatedAt, hits: request.hits, log, controllerNames: names });
  return { exportId, recordings: request.hits.length, archive, filename: `subject-export-${generatedAt.toISOString().slice(0, 10)}-${exportId.slice(0, 8)}.zip` };
}

/** the audit event of an export that stopped after it began (best effort: the export's own entries are already written) */
export function exportFailedEvent(vault: Vault, kind: SubjectKind, value: string, exportId: string, covered: readonly string[]): SubjectAuditEvent {
  return { action: 'subject.export', outcome: 'failure', detail: { [`${kind}Hash`]: vault.audit.identifierHash(kind, value), controllers: [...covered], exportId } };
}

interface ArchiveContents {
  exportId: string;
  kind: SubjectKind;
  /** the canonical identifier */
  value: string;
  generatedAt: Date;
  hits: readonly SubjectHit[];
  log: SubjectAccessLog;
  controllerNames: Map<string, string>;
}

function audioName(row: RecordingRow): string {
  return `audio.${ARCHIVE_TYPES[row.format] ?? 'bin'}`;
}

function subjectArchive(vault: Vault, c: ArchiveContents): Readable {
  const zip = new ZipFile();
  const output = zip.outputStream as PassThrough;
  const mtime = c.generatedAt;
  /** the entry being read: destroyed when the reader of the archive goes away */
  let current: Readable | undefined;
  zip.on('error', (err: Error) => output.destroy(err));
  output.on('close', () => current?.destroy());

  /** an entry whose bytes are made when the archive reaches it */
  const lazy = (path: string, options: { size?: number; compress: boolean }, make: () => Promise<Readable>) =>
    zip.addReadStreamLazy(path, { mtime, ...options }, (cb) => {
      make().then(
        (stream) => {
          current = stream;
          stream.once('error', (err) => zip.emit('error', err));
          cb(null, stream);
        },
        (err) => cb(err, undefined as never),
      );
    });
  const text = (path: string, make: () => Promise<string>) => lazy(path, { compress: true }, async () => Readable.from([Buffer.from(await make(), 'utf8')]));

  zip.addBuffer(Buffer.from(readme(c), 'utf8'), 'README.txt', { mtime });
  zip.addBuffer(Buffer.from(`${JSON.stringify(c.log, null, 2)}\n`, 'utf8'), 'access-log.json', { mtime });
  for (const { row, foundIn } of c.hits) {
    const dir = `recordings/${row.id}`;
    // the data key is unwrapped once per recording, when the archive reaches its first entry, and
    // its parts are let go at its last entry: one recording's transcript at a time is in memory
    let parts: Promise<RecordingParts> | undefined;
    const open = () => (parts ??= openRecordingParts(vault, row));
    text(`${dir}/metadata.json`, async () => {
      const { fields } = await open();
      const metadata = {
        id: row.id,
        controller: { id: row.controller_id, name: c.controllerNames.get(row.controller_id) ?? null },
        startedAt: row.started_at,
        importedAt: row.imported_at,
        durationMs: row.duration_ms,
        direction: row.direction,
        region: row.region,
        agent: row.agent,
        // the person's own data, as recorded with the call
        caller: fields.caller ?? null,
        personnummer: fields.personnummer ?? null,
        // the person's identifier where the original file's name or tags held it (an import found
        // it there); what else they held may be other people's, and is not given
        inSourceFile: fields.found?.[c.kind]?.includes(c.value) ? [c.value] : [],
        foundIn,
        audio: {
          file: audioName(row),
          format: row.format,
          codec: row.codec,
          sampleRate: row.sample_rate,
          channels: row.channels,
          bytes: row.plaintext_size,
          sha256: row.content_sha256,
        },
        transcript: row.sealed_transcript ? { files: ['transcript.json', 'transcript.vtt'] } : null,
      };
      return `${JSON.stringify(metadata, null, 2)}\n`;
    });
    // audio is stored as it is: WAV and MP3 hardly deflate, and the size is then known in advance
    lazy(`${dir}/${audioName(row)}`, { size: row.plaintext_size, compress: false }, async () => {
      const { audio } = await open();
      if (!row.sealed_transcript) parts = undefined;
      // a segment that does not decrypt, or a hash that differs, fails the entry and the archive
      return Readable.from(checkedAgainst(audio.read(), row.content_sha256), { objectMode: false });
    });
    if (row.sealed_transcript) {
      let vtt: string | undefined;
      text(`${dir}/transcript.json`, async () => {
        const transcript = parseTranscript(Buffer.from((await open()).transcript!, 'utf8'), 'application/json');
        parts = undefined;
        vtt = toWebVtt(transcript);
        return serializeTranscript(transcript);
      });
      text(`${dir}/transcript.vtt`, async () => {
        const out = vtt!;
        vtt = undefined;
        return out;
      });
    }
  }
  zip.end();
  return output;
}

/** the bytes as they come, failing at the end unless their SHA-256 is the recorded one */
async function* checkedAgainst(chunks: AsyncIterable<Buffer>, sha256: string): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  for await (const chunk of chunks) {
    hash.update(chunk);
    yield chunk;
  }
  if (hash.digest('hex') !== sha256) throw new CallvaultError(ErrorCodes.INTEGRITY_MISMATCH, 'a decrypted recording does not match its recorded hash');
}

function readme(c: ArchiveContents): string {
  const lines = [
    'callvault: export of the recorded calls held about one person (GDPR article 15)',
    '',
    `Made:       ${c.generatedAt.toISOString()}`,
    `Export id:  ${c.exportId} (the audit log's entries for this export carry it)`,
    `Person:     found by ${c.kind === 'phone' ? 'phone number' : 'personnummer'} in the calls' metadata and in what was said in them`,
    `Recordings: ${c.hits.length}`,
    `Accesses:   ${c.log.accesses.length} audited events in access-log.json`,
    '',
    'Contents',
    '  README.txt                       this file',
    '  access-log.json                  who accessed these recordings, and those destroyed since, or searched for',
    '                                   this person: when, what, for which stated purpose, and whether under',
    '                                   break-the-glass',
    '  recordings/<id>/metadata.json    when the call began, how long it lasted, its direction and region, the',
    '                                   agent who took it, the organisation responsible for it (controller), and',
    '                                   the caller number and personnummer recorded with it, and your number',
    "                                   or personnummer when the original file's name or tags held it",
    '  recordings/<id>/audio.wav|mp3    the original recording, decrypted, byte for byte as it was received',
    '                                   (its SHA-256 is in metadata.json)',
    '  recordings/<id>/transcript.json  the transcript, when the call has one',
    '  recordings/<id>/transcript.vtt   the same transcript as WebVTT subtitles',
    '',
    'Recordings',
  ];
  for (const { row, foundIn } of c.hits) {
    lines.push(
      `  ${row.id}  ${row.started_at ?? row.imported_at}  ${(row.duration_ms / 1000).toFixed(1)} s  ${row.format}  ${row.sealed_transcript ? 'transcript' : 'no transcript'}  found in ${foundIn.join(' and ')}`,
    );
  }
  if (c.hits.length === 0) lines.push('  none');
  const destroyed = c.log.recordings.filter((r) => r.state !== 'stored');
  if (destroyed.length) {
    lines.push(
      '',
      'Recordings destroyed (erased at a request, or shredded when their retention ran out): nothing of them is',
      'left to export, and access-log.json still lists who accessed them before',
    );
    for (const r of destroyed) lines.push(`  ${r.id}  ${r.state} ${r.destroyedAt}  call of ${r.startedAt ?? 'unknown time'}`);
  }
  return `${lines.join('\n')}\n`;
}
