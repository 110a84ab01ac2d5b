/**
 * A client of the C2SP tlog-witness protocol (https://c2sp.org/tlog-witness): each checkpoint
 * is POSTed to `<base URL>/add-checkpoint` with a consistency proof from the last size the
 * witness cosigned, and the witness answers with its cosignature.
 *
 *   old <N>\n
 *   <base64 proof hash>\n        (zero or more, at most 63)
 *   \n
 *   <signed checkpoint note>
 *
 * The cosignatures are kept (`lastCosignatures`) but not verified here: verifying needs the
 * witness's public key, which is configuration this client does not have.
 */
import { CallvaultError, ErrorCodes } from '../../errors.js';
import type { Witness, WitnessedCheckpoint } from '../witness.js';

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_PROOF_LINES = 63;
/** a witness answers a few lines; more than this is not a witness */
const MAX_RESPONSE_BYTES = 64 * 1024;

export interface HttpWitnessOptions {
  timeoutMs?: number;
}

export class HttpWitness implements Witness {
  readonly description: string;
  /** the signature lines ("— name base64\n") of the last 200 answer, unverified */
  lastCosignatures: string[] = [];
  private readonly endpoint: URL;
  private readonly timeoutMs: number;
  /** the size this witness last cosigned for us, as far as this process knows */
  private knownSize = 0;

  constructor(baseUrl: string | URL, options: HttpWitnessOptions = {}) {
    const url = new URL(baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CallvaultError(ErrorCodes.USAGE, 'an HTTP witness needs an http:// or https:// URL');
    if (url.username || url.password) throw new CallvaultError(ErrorCodes.USAGE, 'an HTTP witness URL may not hold a user name or password');
    url.hash = '';
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/add-checkpoint`;
    this.endpoint = url;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // the query string may carry a token, so it stays out of messages
    this.description = `witness ${url.origin}${url.pathname}`;
  }

  async send(checkpoint: WitnessedCheckpoint, consistencyProof: (oldSize: number) => Promise<Buffer[]>): Promise<void> {
    let old = this.knownSize;
    this.lastCosignatures = [];
    // One retry: a 409 tells us the size the witness holds (another process, or a restart, moved
    // it on), and the second request proves consistency from there.
    for (let attempt = 0; ; attempt++) {
      if (old > checkpoint.size) {
        throw this.failed(`it cosigned size ${old}, larger than this checkpoint's ${checkpoint.size}: the log was rolled back or forked`);
      }
      const proof = old > 0 && old < checkpoint.size ? await consistencyProof(old) : [];
      if (proof.length > MAX_PROOF_LINES) throw this.failed(`a consistency proof of ${proof.length} hashes is longer than the protocol allows`);
      const body = `old ${old}\n${proof.map((h) => `${h.toString('base64')}\n`).join('')}\n${checkpoint.note}`;
      const { status, text } = await this.post(body, checkpoint.size);

      if (status === 200) {
        this.knownSize = checkpoint.size;
        const lines = text.split('\n');
        // one or more signature lines, each ending in a newline
        if (lines.length < 2 || lines.pop() !== '' || !lines.every((l) => /^— \S+ \S+$/u.test(l))) {
          throw this.failed(`it accepted the checkpoint at size ${checkpoint.size} but answered no cosignature`);
        }
        this.lastCosignatures = lines.map((l) => `${l}\n`);
        return;
      }
      if (status === 409) {
        const match = /^(0|[1-9][0-9]{0,15})\n$/.exec(text);
        // the body is the witness's size (served as text/x.tlog.size, which is not insisted on)
        const theirs = match ? Number(match[1]) : NaN;
        if (!Number.isSafeInteger(theirs)) {
          throw this.failed(`it answered 409 Conflict without its tree size (to old size ${old}, size ${checkpoint.size})`);
        }
        this.knownSize = theirs;
        if (theirs === old && old === checkpoint.size) {
          // our old size was right, so the conflict is a different root at the same size
          throw this.failed(`it holds a different tree at size ${theirs}: the log was forked`);
        }
        if (attempt > 0 || theirs === old) throw this.failed(`it answered 409 Conflict twice (its size ${theirs}, this checkpoint's ${checkpoint.size})`);
        old = theirs;
        continue;
      }
      throw this.failed(`it answered ${status}${REASONS[status] ? ` (${REASONS[status]})` : ''} to the checkpoint at size ${checkpoint.size}, old size ${old}`);
    }
  }

  private async post(body: string, size: number): Promise<{ status: number; text: string }> {
    try {
      const res = await fetch(this.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await readLimited(res);
      if (text === undefined) throw this.failed(`it answered more than ${MAX_RESPONSE_BYTES} bytes to the checkpoint at size ${size}`);
      return { status: res.status, text };
    } catch (err) {
      if (err instanceof CallvaultError) throw err;
      const e = err as Error & { cause?: { code?: string } };
      const why = e.name === 'TimeoutError' ? `no answer within ${this.timeoutMs / 1000} s` : `cannot reach it (${e.cause?.code ?? e.message})`;
      throw this.failed(`${why}, sending the checkpoint at size ${size}`, err);
    }
  }

  private failed(message: string, cause?: unknown): CallvaultError {
    return new CallvaultError(ErrorCodes.WITNESS_FAILED, `${this.description}: ${message}`, { cause });
  }
}

/** what the protocol means by each status a witness may answer */
const REASONS: Record<number, string> = {
  400: 'bad request',
  403: 'it does not trust the key that signed the checkpoint',
  404: "it does not know this log's origin",
  422: 'the consistency proof does not verify: the log was rolled back or forked',
};

/** the answer's text, or undefined when it is longer than a witness's answer can be */
async function readLimited(res: Response): Promise<string | undefined> {
  if (!res.body) return '';
  const chunks: Buffer[] = [];
  let total = 0;
  // leaving the loop early cancels the stream
  for await (const chunk of res.body) {
    total += chunk.length;
    if (total > MAX_RESPONSE_BYTES) return undefined;
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}
