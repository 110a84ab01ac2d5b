/**
 * Recordings waiting to be examined for identifiers: everything an importer stored while the
 * keyring was locked, and everything marked again with `callvault redact --again`. Whoever holds
 * the unlocked keyring works through them: `callvault redact`, and `serve` in the background.
 */
import type { RedactionState } from '../db/schema.js';
import { isCallvaultError } from '../errors.js';
import { holdLease, releaseLease } from '../util/lease.js';
import type { Vault } from '../vault.js';
import { redactRecording, type RedactionOptions, type RedactionOutcome } from './redact-recording.js';

export interface BacklogProgress {
  done: number;
  byState: Partial<Record<RedactionState, number>>;
  /** recordings that could not be examined at all (damaged ciphertext): left pending */
  errors: number;
}

export async function redactPending(
  vault: Vault,
  options: RedactionOptions,
  each: {
    onRecording?: (id: string, outcome: RedactionOutcome | undefined) => void;
    signal?: AbortSignal;
    /** asked before each recording: false stops the work (another server has taken it over) */
    mayContinue?: () => Promise<boolean>;
  } = {},
): Promise<BacklogProgress> {
  const progress: BacklogProgress = { done: 0, byState: {}, errors: 0 };
  let after = '';
  while (!each.signal?.aborted) {
    const rows = await vault.recordings.awaitingRedaction(['pending'], 50, after);
    if (rows.length === 0) break;
    for (const row of rows) {
      if (each.signal?.aborted || (each.mayContinue && !(await each.mayContinue()))) return progress;
      after = row.id;
      let outcome: RedactionOutcome | undefined;
      try {
        outcome = await redactRecording(vault, row, options);
        progress.byState[outcome.state] = (progress.byState[outcome.state] ?? 0) + 1;
      } catch (err) {
        // a recording that does not decrypt is verify's business; the rest of the backlog goes on
        if (!isCallvaultError(err)) throw err;
        progress.errors += 1;
      }
      progress.done += 1;
      each.onRecording?.(row.id, outcome);
    }
  }
  return progress;
}

const LEASE = 'redaction-backlog';
const LEASE_MS = 5 * 60_000;

/**
 * `serve`: works through the backlog now, every interval and whenever `poke()` says more may
 * have arrived. With several servers, the one holding the `redaction-backlog` lease does it,
 * renewing the lease before each recording, so each recording is examined once.
 */
export class RedactionWorker {
  readonly #controller = new AbortController();
  #running: Promise<void> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly vault: Vault,
    private readonly options: RedactionOptions,
    private readonly intervalMs = 60_000,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  start(): void {
    this.poke();
    this.#timer = setInterval(() => this.poke(), this.intervalMs);
    this.#timer.unref();
  }

  poke(): void {
    if (this.#controller.signal.aborted) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        if (!(await holdLease(this.vault, LEASE, LEASE_MS))) return;
        const renew = () => holdLease(this.vault, LEASE, LEASE_MS);
        await redactPending(this.vault, this.options, { signal: this.#controller.signal, mayContinue: renew }).catch(this.onError);
      } while (this.#again && !this.#controller.signal.aborted);
    })().finally(() => (this.#running = undefined));
  }

  /** finishes the recording in hand, then stops */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#controller.abort();
    await this.#running;
    await releaseLease(this.vault, LEASE);
  }
}
