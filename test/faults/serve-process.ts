/**
 * For the fault suite: `callvault serve` as its own process (so it can be killed), and a recorder
 * that uploads the way a real one does: it sends again after an error or a 503 until it gets an
 * answer it can keep.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { FormData, request } from 'undici';
import { CLI, cli, PASSPHRASE } from '../helpers.js';
import { wavHeader } from '../fixtures/audio.js';

export interface ServeProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** what the server wrote to stderr and its log so far */
  stderr(): string;
}

/** starts `callvault serve` over plain HTTP on the loopback address and waits for its URL */
export async function startServe(data: string, env: NodeJS.ProcessEnv = {}, port = 0, extra: string[] = []): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, '--data', data, 'serve', '--insecure-http', '--host', '127.0.0.1', '--port', String(port), '--checkpoint-interval', '0', ...extra], {
    env: { ...process.env, CALLVAULT_PASSPHRASE: PASSPHRASE, CALLVAULT_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  // the log (warnings and errors only) goes to stdout: kept with stderr, for a failing test to show
  child.stdout!.on('data', (b: Buffer) => {
    err += b.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      const m = /serving on (http:\/\/[^\s]+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code, signal) => reject(new Error(`serve exited with ${code ?? signal}: ${err.slice(-2000)}`)));
  });
  return { url, port: Number(new URL(url).port), child, stderr: () => err };
}

export async function killHard(server: ServeProcess): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGKILL');
  await exited;
}

/** SIGTERM, as a supervisor sends it: the server must finish its work and exit 0, not die of the signal */
export async function stopGently(server: ServeProcess): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => server.child.once('exit', (code, signal) => resolve([code, signal])));
  server.child.kill('SIGTERM');
  const [code, signal] = await exited;
  if (code !== 0) throw new Error(`serve did not stop gracefully on SIGTERM (${signal ?? `exit ${code}`}): ${server.stderr().slice(-2000)}`);
}

export async function ingestToken(data: string, env: NodeJS.ProcessEnv = {}, controller = 'region'): Promise<string> {
  const r = await cli(['--data', data, 'tokens', 'create', '--name', 'recorder', '--scope', 'ingest', '--controller', controller, '--days', '1', '--json'], env);
  if (r.code !== 0) throw new Error(`tokens create failed: ${r.stderr}`);
  return r.json.token;
}

/** a WAV of noise, different every time: each call is its own recording */
export function noiseCall(bytes = 200_000): Buffer {
  const samples = randomBytes(bytes);
  return Buffer.concat([wavHeader({ formatTag: 1, channels: 1, rate: 8000, bits: 16, dataBytes: samples.length }), samples]);
}

export interface Answer {
  status: number;
  json: any;
  headers: Record<string, string | string[] | undefined>;
}

/** one upload; a connection that fails gives status 0 */
export async function upload(url: string, token: string, audio: Buffer, signal?: AbortSignal): Promise<Answer> {
  const form = new FormData();
  form.append('metadata', JSON.stringify({ agent: 'a-1', region: 'r1' }));
  form.append('audio', new Blob([new Uint8Array(audio)], { type: 'audio/wav' }), 'call.wav');
  try {
    const res = await request(`${url}/api/v1/recordings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: form,
      signal,
      headersTimeout: 60_000,
      bodyTimeout: 60_000,
    });
    const text = await res.body.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, json, headers: res.headers };
  } catch {
    return { status: 0, json: undefined, headers: {} };
  }
}

export interface RecorderLog {
  /** requests sent, retries included */
  requests: number;
  /** answers that were neither a kept answer nor a retryable failure */
  unexpected: Answer[];
  /** by status: what the server answered (0: no answer) */
  statuses: Map<number, number>;
}

/**
 * Uploads `audio` until the server answers 201 or 200, sending again after no answer or a 503 (as
 * the server asks with Retry-After, shortened for the test) for at most `deadlineMs`.
 */
export async function uploadUntilKept(url: () => string, token: string, audio: Buffer, log: RecorderLog, deadlineMs = 120_000): Promise<Answer | undefined> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    const answer = await upload(url(), token, audio);
    log.requests += 1;
    log.statuses.set(answer.status, (log.statuses.get(answer.status) ?? 0) + 1);
    if (answer.status === 201 || answer.status === 200) return answer;
    if (answer.status !== 0 && answer.status !== 503) {
      log.unexpected.push(answer);
      return undefined;
    }
    await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
  }
  return undefined;
}

export function newRecorderLog(): RecorderLog {
  return { requests: 0, unexpected: [], statuses: new Map() };
}
