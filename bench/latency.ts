/**
 * Latency of a player's range requests under load (issue 21): LISTENERS nurses, each signed in
 * and under a purpose stated for her own call, read 256 KiB ranges forward through it at SPEED ×
 * real time, while `callvault import` stores IMPORT_FILES new files into the same vault; against
 * nginx serving the same plaintext files to the same listeners during the same kind of import.
 * Both servers HTTPS on 127.0.0.1 with the same certificate, one process each (bench/playback.ts
 * starts them). Reported: p50 and p99 of each request, from sending it to its last byte, over the
 * requests made while the import ran; p99 callvault / nginx, target ≤ 2.
 *
 * Each round runs both servers (the order rotates), each under an import of its own fresh files
 * (new content, so nothing is a duplicate). The listeners' requests in a round stop when its
 * import ends. Sizes: BENCH_LATENCY_LISTENERS (default 50), BENCH_LATENCY_IMPORT_FILES (300),
 * BENCH_LATENCY_FILE_SECONDS (seconds of audio per imported file, 60), BENCH_LATENCY_AUDIO_SECONDS
 * (each listener's call, 180), BENCH_LATENCY_SPEED (× real time, 8).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { ensureSelfSignedCertificate } from '../src/http/tls.js';
import {
  BYTES_PER_SECOND,
  CLI,
  envInt,
  envWithoutPassphrase,
  fmt,
  loadAverage,
  makeScratch,
  WavPool,
  variedSeconds,
  type Benchmark,
  type BenchOptions,
  type BenchResult,
  type Row,
} from './common.js';
import { freePort, prepareCalls, signInAndAccess, startCallvault, startNginx, stopChild, tlsInfo, waitForTls } from './playback.js';

const RANGE_BYTES = 256 * 1024;
const P99_TARGET = 2;

type Server = 'callvault' | 'nginx';
const SERVERS: Server[] = ['callvault', 'nginx'];

interface Listener {
  /** full URL of her call's audio on that server */
  url: Record<Server, string>;
  /** the session cookie (callvault only) */
  headers: Record<Server, Record<string, string>>;
}

/** the q-quantile of `xs` (nearest rank) */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * Every listener reads forward from a place of her own, a range every RANGE_BYTES / (speed ×
 * bytes per second), until `done` says stop; a request that comes back late is followed at once.
 * Returns each request's time to its last byte, in ms.
 */
async function listen(who: Server, listeners: Listener[], dispatcher: Agent, size: number, speed: number, done: () => boolean): Promise<{ ms: number[]; errors: string[] }> {
  const interval = (RANGE_BYTES / (BYTES_PER_SECOND * speed)) * 1000;
  const ms: number[] = [];
  const errors: string[] = [];
  await Promise.all(
    listeners.map(async (l, i) => {
      // spread over the file and over the first interval, as listeners who started at different times
      let position = Math.floor(((i * 7919) % listeners.length) * (size / listeners.length)) & ~1;
      let due = performance.now() + (interval * i) / listeners.length;
      await sleep(due - performance.now());
      while (!done()) {
        const first = position + RANGE_BYTES > size ? 0 : position;
        const last = first + RANGE_BYTES - 1;
        const started = performance.now();
        try {
          const res = await request(l.url[who], { dispatcher, headers: { ...l.headers[who], range: `bytes=${first}-${last}` } });
          let got = 0;
          for await (const chunk of res.body) got += (chunk as Buffer).length;
          if (res.statusCode !== 206 || got !== RANGE_BYTES) errors.push(`${who}: ${res.statusCode}, ${got} bytes`);
          else ms.push(performance.now() - started);
        } catch (err) {
          errors.push(`${who}: ${(err as Error).message}`);
        }
        position = last + 1;
        due += interval;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        else due = performance.now();
      }
    }),
  );
  return { ms, errors };
}

/** `count` new WAV files of about `seconds` each under `dir`, their content unlike any other round's */
async function importSource(dir: string, pool: WavPool, count: number, seconds: number, offset: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const bytes = Math.round(variedSeconds(seconds, i, count) * BYTES_PER_SECOND);
    await writeFile(join(dir, `in-${i}.wav`), pool.file(offset + i, bytes));
    await writeFile(join(dir, `in-${i}.json`), JSON.stringify({ agent: 'agent-import', region: 'south' }));
  }
}

/** `callvault import` into the vault the server serves, as an operator runs it beside it (no passphrase: it stores, examines later) */
function startImport(data: string, src: string): { child: ChildProcess; finished: Promise<{ code: number | null; seconds: number; stderr: string }> } {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, '--data', data, 'import', src, '--json'], { env: envWithoutPassphrase(), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => {
    if (stderr.length < 8192) stderr += b.toString('utf8');
  });
  const finished = once(child, 'exit').then(([code]) => ({ code: code as number | null, seconds: (performance.now() - started) / 1000, stderr }));
  return { child, finished };
}

export const latencyBenchmark: Benchmark = {
  name: 'latency',
  description: `p50/p99 of ${RANGE_BYTES / 1024} KiB range requests from concurrent nurses while an import runs, callvault vs nginx serving the same plaintext (HTTPS)`,
  async run(options: BenchOptions): Promise<BenchResult> {
    const rounds = options.rounds ?? 3;
    const log = options.log;
    const LISTENERS = envInt('BENCH_LATENCY_LISTENERS', 50);
    const IMPORT_FILES = envInt('BENCH_LATENCY_IMPORT_FILES', 300);
    const FILE_SECONDS = envInt('BENCH_LATENCY_FILE_SECONDS', 60);
    const AUDIO_SECONDS = envInt('BENCH_LATENCY_AUDIO_SECONDS', 180);
    const SPEED = envInt('BENCH_LATENCY_SPEED', 8);
    if (AUDIO_SECONDS * BYTES_PER_SECOND < 2 * RANGE_BYTES) throw new Error('BENCH_LATENCY_AUDIO_SECONDS: the call must hold two ranges');
    const loadBefore = await loadAverage();
    const scratch = await makeScratch('latency', options.keep);
    const children: ChildProcess[] = [];
    const dispatchers: Agent[] = [];
    try {
      log(`scratch: ${scratch.filesystem}`);
      log(`load average before the run: ${loadBefore}`);
      const prepared = await prepareCalls(scratch.dir, AUDIO_SECONDS, LISTENERS);
      const { data, served, size } = prepared;
      const tlsFiles = await ensureSelfSignedCertificate(data);
      const ca = await readFile(tlsFiles.cert);
      log(`${LISTENERS} calls of ${AUDIO_SECONDS} s (${fmt(size / 1e6)} MB each) imported and redacted, a nurse for each`);

      const cv = await startCallvault(data, join(scratch.dir, 'callvault-requests.log'));
      children.push(cv.child);
      const cvTls = await tlsInfo(Number(new URL(cv.url).port), ca);
      const nginxPort = await freePort();
      const ng = await startNginx(join(scratch.dir, 'nginx'), nginxPort, tlsFiles.cert, tlsFiles.key, served);
      children.push(ng.child);
      const ngTls = await waitForTls(nginxPort, ca, ng.child, 'nginx', async () => ng.stderr().trim().slice(-500));

      // one connection per listener and server, kept alive, as a player's
      const agents = Object.fromEntries(
        SERVERS.map((who) => {
          const a = new Agent({ connect: { ca, servername: 'localhost' }, connections: LISTENERS + 4 });
          dispatchers.push(a);
          return [who, a];
        }),
      ) as Record<Server, Agent>;
      const listeners: Listener[] = [];
      // sign-ins are limited to 20 a minute per client address: ten nurses per loopback address
      const signinAgents: Agent[] = [];
      for (const [i, c] of prepared.calls.entries()) {
        if (i % 10 === 0) {
          signinAgents.push(new Agent({ localAddress: `127.0.0.${10 + i / 10}`, connect: { ca, servername: 'localhost' } }));
          dispatchers.push(signinAgents.at(-1)!);
        }
        const { cookie, audioPath } = await signInAndAccess(cv.url, signinAgents.at(-1)!, c.nurse, c.recordingId);
        listeners.push({
          url: { callvault: `${cv.url}${audioPath}`, nginx: `https://127.0.0.1:${nginxPort}/${c.file}` },
          headers: { callvault: { cookie: `__Host-callvault=${cookie}` }, nginx: {} },
        });
      }
      log(`${LISTENERS} nurses signed in, each under a purpose for her call; callvault ${cvTls}, nginx ${ngTls}`);

      const pool = new WavPool(Math.max(FILE_SECONDS * 2, 60), 21);
      const samples: Record<Server, number[]> = { callvault: [], nginx: [] };
      const perRound: Record<Server, { p50: number; p99: number }[]> = { callvault: [], nginx: [] };
      const importSeconds: Record<Server, number[]> = { callvault: [], nginx: [] };
      let batch = 0;
      for (let r = 0; r < rounds; r++) {
        for (const who of r % 2 ? [...SERVERS].reverse() : SERVERS) {
          const src = join(scratch.dir, `import-${r}-${who}`);
          await importSource(src, pool, IMPORT_FILES, FILE_SECONDS, batch++ * IMPORT_FILES);
          const imp = startImport(data, src);
          children.push(imp.child);
          let importing = true;
          void imp.finished.then(() => (importing = false));
          const { ms, errors } = await listen(who, listeners, agents[who], size, SPEED, () => !importing);
          const ended = await imp.finished;
          if (ended.code !== 0) throw new Error(`the import beside ${who} failed (${ended.code}): ${ended.stderr.slice(-500)}`);
          if (errors.length) throw new Error(`${errors.length} failed range requests, e.g. ${errors[0]}`);
          if (ms.length < LISTENERS) throw new Error(`${who}: only ${ms.length} requests during the import (${fmt(ended.seconds)} s)`);
          samples[who].push(...ms);
          perRound[who].push({ p50: quantile(ms, 0.5), p99: quantile(ms, 0.99) });
          importSeconds[who].push(ended.seconds);
          log(
            `round ${r + 1}/${rounds} ${who.padEnd(9)} ${ms.length} requests during a ${fmt(ended.seconds)} s import of ${IMPORT_FILES} files: ` +
              `p50 ${fmt(quantile(ms, 0.5))} ms, p99 ${fmt(quantile(ms, 0.99))} ms`,
          );
        }
      }
      const loadAfter = await loadAverage();
      const rows: Row[] = [];
      for (const who of SERVERS) {
        for (const [q, name] of [
          [0.5, 'p50'],
          [0.99, 'p99'],
        ] as const) {
          rows.push({
            label: `${who} ${name}, ${RANGE_BYTES / 1024} KiB range`,
            value: quantile(samples[who], q),
            unit: 'ms',
            samples: perRound[who].map((x) => (q === 0.5 ? x.p50 : x.p99)),
            note: `over all ${samples[who].length} requests of ${rounds} round(s) (samples: per round); to the last byte`,
          });
        }
      }
      for (const who of SERVERS) {
        rows.push({
          label: `import of ${IMPORT_FILES} files beside ${who}`,
          value: importSeconds[who].reduce((a, b) => a + b, 0) / rounds,
          unit: 's',
          samples: importSeconds[who],
          note: 'mean',
        });
      }
      const ratio = quantile(samples.callvault, 0.99) / quantile(samples.nginx, 0.99);
      const ratio50 = quantile(samples.callvault, 0.5) / quantile(samples.nginx, 0.5);
      return {
        name: 'latency',
        rows,
        ratios: [
          { label: `p99 callvault / nginx (target ≤ ${P99_TARGET})`, ratio, comparator: '<', target: P99_TARGET, pass: ratio <= P99_TARGET },
          { label: 'p50 callvault / nginx [extra]', ratio: ratio50, comparator: '<', target: P99_TARGET, pass: ratio50 <= P99_TARGET },
        ],
        notes: [
          `${LISTENERS} listeners, each a nurse signed in with her own session and a purpose stated for her own call (${AUDIO_SECONDS} s, 8 kHz 16-bit mono, its redacted rendition), reading ${RANGE_BYTES / 1024} KiB ranges forward at ${SPEED} × real time (a range every ${fmt((RANGE_BYTES / (BYTES_PER_SECOND * SPEED)) * 1000, 0)} ms each; ${fmt((LISTENERS * BYTES_PER_SECOND * SPEED) / RANGE_BYTES)} requests/s in all), one kept-alive connection each; nginx serves the same plaintext files to the same listeners`,
          `while each server is measured, \`callvault import\` (its own process, no passphrase: it stores and leaves the examination for later) stores ${IMPORT_FILES} new WAV files of about ${FILE_SECONDS} s into the vault callvault serves; only requests made while it ran count`,
          `callvault appends one durable audit entry per range request (group commit through the writer thread) and checks session, policy and purpose on each; the listeners and the import share the 2 cores with the server under test`,
          `load average (1, 5, 15 min) before the run ${loadBefore}, after ${loadAfter}: anything else running shares the cores`,
          scratch.filesystem,
        ],
      };
    } finally {
      for (const d of dispatchers) await d.destroy().catch(() => {});
      for (const c of children) await stopChild(c).catch(() => {});
      await scratch.cleanup();
    }
  },
};
