/**
 * Reading the audit log, for auditors: entries, the auditor's search, checkpoints, the verifier
 * key, RFC 9162 proofs, full verification, the export for a SIEM and the keyed hash of an
 * identifier. What `GET /api/v1/audit/…` and `callvault audit …` do, the same way: every read is
 * itself an `audit.read` entry (`detail.what` says which read), the export an `audit.export`, each
 * appended before anything of the log is handed out.
 *
 * What is handed out is byte for byte what outside verifiers check: the canonical entry bytes, the
 * C2SP signed note, RFC 9162 proofs, the syslog and JSON-lines forms (docs/audit-log.md).
 */
import { hostname } from 'node:os';
import { CallvaultError, ErrorCodes } from '../errors.js';
import type { StoredEntry } from '../audit/audit-log.js';
import type { StoredCheckpoint, WitnessOutcome } from '../audit/checkpoints.js';
import { formatVerifierKey } from '../audit/signed-note.js';
import { actorFilter, searchAuditLog, type AuditSearchFilters, type AuditSearchPage } from '../audit/search.js';
import { auditEntryJsonLine, auditEntrySyslog } from '../audit/syslog.js';
import type { RecordedVerifyReport } from '../audit/verify.js';
import { fileWitnessNotes } from '../audit/witnesses/index.js';
import { subjectIdentifier } from '../identifiers/normalize.js';
import { scrubbedFilter } from '../redaction/transcript.js';
import type { Vault } from '../vault.js';
import type { Actor } from './actor.js';
import type { AuditTrail } from './audit-trail.js';

/** entries read from the database at a time */
const PAGE = 5_000;
/** the entries a read gives when it names no start: the last this many */
const DEFAULT_ENTRIES = 100;
/** how often `tail` looks for new entries when it follows the log */
const FOLLOW_INTERVAL_MS = 1000;

export type ExportFormat = 'jsonl' | 'syslog';

export type AuditReadingDeps = Pick<Vault, 'audit' | 'auditTree' | 'database' | 'auditSigner' | 'auditCheckpoints' | 'verifyAudit' | 'witnessSpecs'>;

export class AuditReadingService {
  constructor(
    private readonly deps: AuditReadingDeps,
    private readonly trail: AuditTrail,
  ) {}

  /**
   * Entries with from ≤ index < to: `to` at most the log's size (the default), `from` the last
   * 100 when absent; `limit` caps how many are read (the whole range when absent). The entries are
   * read a page at a time as the iterable is consumed.
   */
  async entries(actor: Actor, range: { from?: number; to?: number; limit?: number }): Promise<{ size: number; entries: AsyncIterable<StoredEntry> }> {
    await this.trail.authorize(actor, 'audit:read', 'audit.read');
    const size = await this.deps.audit.size();
    const to = Math.min(range.to ?? size, size);
    const from = Math.max(0, Math.min(range.from ?? Math.max(0, to - DEFAULT_ENTRIES), to));
    await this.trail.record(actor, { action: 'audit.read', outcome: 'success', detail: { what: 'entries', from, to } });
    const end = range.limit === undefined ? to : Math.min(to, from + range.limit);
    return { size, entries: this.between(from, end) };
  }

  /**
   * The last `lines` entries; with `follow`, then every new entry until `stopped()` answers true.
   * Following is one read: it is recorded once, when it starts (an entry per new line would itself
   * be a new line to follow). The entry written by this read is not among the last `lines`.
   */
  async tail(actor: Actor, options: { lines: number; follow: boolean; stopped?: () => boolean }): Promise<AsyncIterable<StoredEntry>> {
    await this.trail.authorize(actor, 'audit:read', 'audit.read');
    const to = await this.deps.audit.size();
    const from = Math.max(0, to - options.lines);
    await this.trail.record(actor, { action: 'audit.read', outcome: 'success', detail: { what: 'tail', from, to, follow: options.follow } });
    const self = this;
    return (async function* () {
      yield* self.between(from, to);
      let next = to;
      while (options.follow && !options.stopped?.()) {
        await new Promise((r) => setTimeout(r, FOLLOW_INTERVAL_MS));
        const size = await self.deps.audit.size();
        yield* self.between(next, size);
        next = size;
      }
    })();
  }

  /** the auditor's search (src/audit/search.ts): one page, newest first */
  async search(actor: Actor, filters: AuditSearchFilters, page: { before?: number; limit: number }): Promise<AuditSearchPage> {
    await this.trail.authorize(actor, 'audit:read', 'audit.read');
    const { audit, database } = this.deps;
    const found = await searchAuditLog(database.db, filters, { size: await audit.size(), before: page.before, limit: page.limit });
    // what was asked, not what was found: the filters name staff and recordings, never a person;
    // an actor's name is typed, so a personnummer typed there is kept as its label (an id as it is).
    // The count of results makes it one of the reads recorded after the reading, before the answer.
    const asked = filters.actor === undefined || actorFilter(filters.actor).column === 'actor_id' ? filters : { ...filters, actor: scrubbedFilter(filters.actor) };
    await this.trail.record(actor, {
      action: 'audit.read',
      outcome: 'success',
      detail: { what: 'search', ...asked, ...(page.before === undefined ? {} : { before: page.before }), limit: page.limit, results: found.entries.length },
    });
    return found;
  }

  /**
   * The latest checkpoint, signed now if the log has grown (`GET /audit/checkpoint`): the read is
   * recorded first, so the checkpoint covers its own entry.
   */
  async checkpoint(actor: Actor): Promise<{ checkpoint: StoredCheckpoint; created: boolean; witnesses: WitnessOutcome[] }> {
    await this.trail.authorize(actor, 'audit:read', 'audit.read');
    await this.trail.record(actor, { action: 'audit.read', outcome: 'success', detail: { what: 'checkpoint' } });
    return (await this.deps.auditCheckpoints()).make();
  }

  /** the latest stored checkpoint, signing none (`audit checkpoint --no-new`); NOT_FOUND before the first */
  async latestCheckpoint(actor: Actor): Promise<StoredCheckpoint> {
    await this.trail.authorize(actor, 'audit:read', 'audit.read');
    await this.trail.record(actor, { action: 'audit.read', outcome: 'success', detail: { what: 'checkpoint' } });
    const latest = await (await this.deps.auditCheckpoints()).latest();
    if (!latest) throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no checkpoint has been signed yet');
    return latest;
  }

  /**
   * Signs a checkpoint of the log as it is now, if it grew, and hands it to the witnesses
   * (`callvault audit checkpoint`): the custodian's signing of the log's head, which the checkpoint
   * timer also does. It writes no entry: an entry per signing would grow the log it signs, so a
   * repeated signing could never find nothing new and every run would send the witnesses another
   * checkpoint. What it returns holds no entry, only the size and root the witnesses get anyway.
   */
  async signCheckpoint(actor: Actor): Promise<{ checkpoint: StoredCheckpoint; created: boolean; witnesses: WitnessOutcome[] }> {
    await this.trail.authorize(actor, 'audit:read', 'audit.read');
    return (await this.deps.auditCheckpoints()).make();
  }

  /** the checkpoint verifier key, `<name>+<hex key id>+<base64(0x01 ‖ public key)>`, and the log's origin */
  async verifierKey(actor: Actor): Promise<{ origin: string; vkey: string }> {
    await this.trail.authorize(actor, 'audit:read', 'audit.read');
    const signer = await this.deps.auditSigner();
    await this.trail.record(actor, { action: 'audit.read', outcome: 'success', detail: { what: 'key' } });
    return { origin: signer.name, vkey: formatVerifierKey(signer.verifier) };
  }

  /**
   * An RFC 9162 inclusion proof (`index` in the tree of `size` entries) or consistency proof (from
   * the tree of `from` entries to that of `to`); hashes in base64. Without `size` or `to`, the
   * latest checkpoint's size (else the log's) when `defaultToSigned`, else the request is refused.
   */
  async proof(
    actor: Actor,
    q: { index?: number; size?: number; from?: number; to?: number },
    options: { defaultToSigned: boolean },
  ): Promise<{ index: number; size: number; leafHash: string; hashes: string[] } | { from: number; to: number; hashes: string[] }> {
    await this.trail.authorize(actor, 'audit:read', 'audit.read');
    const inclusion = q.index !== undefined && q.from === undefined && q.to === undefined && (q.size !== undefined || options.defaultToSigned);
    const consistency = q.from !== undefined && q.index === undefined && q.size === undefined && (q.to !== undefined || options.defaultToSigned);
    if (!inclusion && !consistency) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'ask for index and size, or for from and to');
    const { audit, auditTree } = this.deps;
    const logSize = await audit.size();
    const size = (inclusion ? q.size : q.to) ?? (await this.signedSize()) ?? logSize;
    if (inclusion) {
      const index = q.index!;
      if (size > logSize || index >= size) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'index must be below size, and size at most the log size');
      await this.trail.record(actor, { action: 'audit.read', outcome: 'success', detail: { what: 'inclusion-proof', index, size } });
      const [entry] = await audit.entries(index, index + 1);
      return { index, size, leafHash: entry!.leafHash.toString('base64'), hashes: base64(await auditTree.inclusionProof(index, size)) };
    }
    const from = q.from!;
    if (size > logSize || from > size) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'from must not exceed to, and to at most the log size');
    await this.trail.record(actor, { action: 'audit.read', outcome: 'success', detail: { what: 'consistency-proof', from, to: size } });
    return { from, to: size, hashes: base64(await auditTree.consistencyProof(from, size)) };
  }

  /**
   * Recomputes the tree from every entry and checks every stored checkpoint and the witnessed
   * ones: `witnessNotes` when given (notes the caller read from a witness's file), else those the
   * file witnesses configured for this installation kept. With `sinceCheckpoint`, only the entries
   * after the signed checkpoint the last verification reached (src/audit/verify.ts says what that
   * does and does not prove); in full when none was recorded yet.
   */
  async verify(actor: Actor, witnessNotes?: readonly string[], options: { sinceCheckpoint?: boolean } = {}): Promise<RecordedVerifyReport> {
    await this.trail.authorize(actor, 'audit:read', 'audit.read');
    await this.trail.record(actor, { action: 'audit.read', outcome: 'success', detail: { what: options.sinceCheckpoint ? 'verify-since-checkpoint' : 'verify' } });
    return this.deps.verifyAudit(witnessNotes ?? (await fileWitnessNotes(this.deps.witnessSpecs)), { sinceCheckpoint: options.sinceCheckpoint });
  }

  /**
   * Entries from ≤ index < to (default: all), one line each, as JSON lines or RFC 5424 syslog
   * messages, for a SIEM. The export leaves the system: it is recorded before the first line.
   */
  async export(actor: Actor, request: { from?: number; to?: number; format: ExportFormat }): Promise<{ from: number; to: number; lines: AsyncIterable<string> }> {
    // a refusal is recorded as a refused read, as every refusal of the audit log is
    await this.trail.authorize(actor, 'audit:read', 'audit.read');
    const size = await this.deps.audit.size();
    const from = Math.min(request.from ?? 0, size);
    const to = Math.max(from, Math.min(request.to ?? size, size));
    const { format } = request;
    await this.trail.record(actor, { action: 'audit.export', outcome: 'success', detail: { from, to, format } });
    const host = hostname();
    const entries = this.between(from, to);
    return {
      from,
      to,
      lines: (async function* () {
        for await (const e of entries) yield `${format === 'syslog' ? auditEntrySyslog(e, host) : auditEntryJsonLine(e)}\n`;
      })(),
    };
  }

  /**
   * The keyed hash under which a personnummer or phone number appears in the log's entries, to
   * search them for the person (needs the unlocked keys). Recorded with the hash, so the person's
   * access log shows that someone looked them up in the log.
   */
  async identifierHash(actor: Actor, identifier: { personnummer?: string; phone?: string }): Promise<{ kind: 'personnummer' | 'phone'; hash: string }> {
    await this.trail.authorize(actor, 'audit:read', 'audit.read');
    const { kind, value } = subjectIdentifier(identifier, ErrorCodes.INVALID_REQUEST);
    const hash = this.deps.audit.identifierHash(kind, value);
    await this.trail.record(actor, { action: 'audit.read', outcome: 'success', detail: { what: 'identifier-hash', [`${kind}Hash`]: hash } });
    return { kind, hash };
  }

  /** the size the latest checkpoint signed, if any */
  private async signedSize(): Promise<number | undefined> {
    return (await (await this.deps.auditCheckpoints()).latest())?.size;
  }

  /** entries from ≤ i < to, read a page at a time */
  private async *between(from: number, to: number): AsyncGenerator<StoredEntry> {
    for (let start = from; start < to; start += PAGE) {
      yield* await this.deps.audit.entries(start, Math.min(to, start + PAGE));
    }
  }
}

function base64(hashes: Buffer[]): string[] {
  return hashes.map((h) => h.toString('base64'));
}

/**
 * The checkpoint verifier key in note format, for `init` to print once: the installation's own
 * public key, not a read of the log, so no entry (the log has none yet).
 */
export async function auditVerifierKey(vault: Pick<Vault, 'auditSigner'>): Promise<string> {
  return formatVerifierKey((await vault.auditSigner()).verifier);
}
