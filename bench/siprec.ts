/**
 * Concurrent live calls recorded by `callvault siprec`: SIPp as the SBC places N calls at once
 * (testdata/siprec/sipp/basic.xml), each with two G.711 streams (the caller's by SIPp's
 * rtp_stream, the agent's by this process, one socket for all calls), for CALL seconds. For each
 * N in BENCH_SIPREC_CALLS (default 5,10,20), in one run:
 *   - the packets the server lost, from every recording's sealed stream counts, against what was
 *     sent (the baseline: the load generator's own count);
 *   - every recording complete: listed, two channels, its duration the call's;
 *   - the server's CPU time per call (per cent of one core) and its resident memory per call
 *     (peak under load minus idle);
 *   - the time from BYE to stored (p99), as the server measures it.
 * The most calls held is the largest N with under 0.1 % lost and every recording complete; its
 * ratio is against BENCH_SIPREC_TARGET calls (default 10). The load generator shares the machine:
 * figures from a loaded machine say so in the notes. The levels' calls add up to 500 at most (one
 * page of `recordings list`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { readSealedFields } from '../src/recordings/read.js';
import { Vault } from '../src/vault.js';
import { BENCH_PASSPHRASE, CLI, envInt, fmt, REPO_ROOT, run, type Benchmark, type BenchOptions, type BenchResult, type Row } from './common.js';

const PACKET_MS = 20;

/** utime + stime of /proc/PID/stat (fields 14 and 15, after the command name in parentheses), at 100 ticks a second */
function cpuSeconds(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}

export const siprecBenchmark: Benchmark = {
  name: 'siprec',
  description: 'concurrent SIPREC calls (two G.711 streams each, SIPp): most calls held with < 0.1 % lost, CPU and memory per call, p99 BYE to stored',
  async run(options: BenchOptions): Promise<BenchResult> {
    const levels = (process.env.BENCH_SIPREC_CALLS || '5,10,20').split(',').map(Number);
    if (levels.reduce((a, b) => a + b, 0) > 500) throw new Error('BENCH_SIPREC_CALLS adds up to more than 500 calls');
    const callSeconds = envInt('BENCH_SIPREC_SECONDS', 10);
    const target = envInt('BENCH_SIPREC_TARGET', 10);
    const scratch = await mkdtemp(join(process.env.CALLVAULT_BENCH_TMP || tmpdir(), 'callvault-bench-siprec-'));
    const dir = join(scratch, 'data');
    const env = { ...process.env, CALLVAULT_PASSPHRASE: BENCH_PASSPHRASE };
    let server: ChildProcess | undefined;
    try {
      await run(process.execPath, [CLI, '--data', dir, 'init', '--json'], { env });
      const config = join(dir, 'config.json');
      const json = JSON.parse(await readFile(config, 'utf8'));
      await writeFile(config, JSON.stringify({ ...json, siprec: { sbcs: [{ name: 'bench', match: { address: '127.0.0.1' }, controller: json.defaultController ?? 'region' }] } }));
      // the caller speaks for the whole call: espeak-ng's Swedish, repeated, as 8 kHz µ-law
      await run('espeak-ng', ['-v', 'sv', '-w', join(scratch, 'speech.wav'), 'Hej, jag ringer om min tid på vårdcentralen i morgon, och om mitt recept.']);
      await run('sox', [join(scratch, 'speech.wav'), '-r', '8000', '-c', '1', '-e', 'u-law', join(scratch, 'caller.wav'), 'repeat', String(Math.ceil(callSeconds / 3) + 1)]);
      const agent = (await readFile(join(scratch, 'caller.wav'))).subarray(44);

      server = spawn(process.execPath, [CLI, '--data', dir, 'siprec', '--json', '--listen', '127.0.0.1', '--sip-port', '0', '--rtp-ports', '40000-44999'], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const storedMs: number[] = [];
      createInterface({ input: server.stderr! }).on('line', (line) => {
        const m = /stored (\d+) ms after the BYE/.exec(line);
        if (m) storedMs.push(Number(m[1]));
      });
      const sipPort = await new Promise<number>((resolve, reject) => {
        createInterface({ input: server!.stdout! }).once('line', (line) => resolve(JSON.parse(line).listening.sipPort));
        server!.once('exit', () => reject(new Error('callvault siprec exited')));
      });
      const pid = server.pid!;
      await sleep(1000);
      const idleRss = await rssBytes(pid);

      // the agent's streams: SIPp's scenario runs `[sender] ADDRESS PORT 0` per call; here that writes the port to a pipe
      const fifo = join(scratch, 'ports');
      await run('mkfifo', [fifo]);
      const socket = createSocket('udp4');
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
      const streams: { port: number; seq: number; sent: number; until: number }[] = [];
      let sentPackets = 0;
      const pump = setInterval(() => {
        const now = Date.now();
        for (const s of streams) {
          if (now > s.until) continue;
          const due = Math.floor((now - (s.until - callSeconds * 1000)) / PACKET_MS);
          while (s.sent <= due) {
            const h = Buffer.alloc(12);
            h[0] = 0x80;
            h.writeUInt16BE(s.seq & 0xffff, 2);
            h.writeUInt32BE((s.sent * 160) >>> 0, 4);
            h.writeUInt32BE(s.port, 8);
            const off = (s.sent * 160) % (agent.length - 160);
            socket.send(Buffer.concat([h, agent.subarray(off, off + 160)]), s.port, '127.0.0.1');
            s.seq += 1;
            s.sent += 1;
            sentPackets += 1;
          }
        }
      }, 5);
      // opened for reading and writing, so that it does not end between two writers; destroyed at the end
      const pipe = createReadStream(fifo, { flags: 'r+' });
      const reader = createInterface({ input: pipe });
      reader.on('line', (line) => {
        const port = Number(line.trim());
        if (port > 0) streams.push({ port, seq: 1, sent: 0, until: Date.now() + callSeconds * 1000 });
      });

      const rows: Row[] = [];
      const notes: string[] = [];
      let held = 0;
      let stored = 0;
      for (const [i, calls] of levels.entries()) {
        const cpu0 = cpuSeconds(await readFile(`/proc/${pid}/stat`, 'utf8'));
        let peak = idleRss;
        const sampler = setInterval(() => {
          rssBytes(pid).then(
            (r) => (peak = Math.max(peak, r)),
            () => undefined,
          );
        }, 250);
        const sent0 = sentPackets;
        const byeTimes = storedMs.length;
        const base = 46000 + i * 200;
        const args = ['-sf', join(REPO_ROOT, 'testdata', 'siprec', 'sipp', 'basic.xml'), '-m', String(calls), '-l', String(calls), '-r', String(calls), '-rp', '1000'];
        args.push(
          '-d',
          String(callSeconds * 1000),
          '-key',
          'agent_aor',
          'sip:+46701740622@vardcentral.example',
          '-key',
          'sender',
          `sh -c 'echo $2 >> ${fifo}' sender`,
          '-i',
          '127.0.0.1',
          '-p',
          String(base),
          '-mi',
          '127.0.0.1',
          '-mp',
          String(base + 10),
        );
        args.push('-nostdin', '-trace_err', '-timeout', String(callSeconds * 3), '-timeout_error', `127.0.0.1:${sipPort}`);
        const sipp = await run('sipp', args, { cwd: scratch }).then(
          () => true,
          () => false,
        );
        clearInterval(sampler);
        const cpu = cpuSeconds(await readFile(`/proc/${pid}/stat`, 'utf8')) - cpu0;
        // every call stored (polled; the p99 below is the server's own measurement)
        let recordings: { id: string; durationMs: number; channels: number }[] = [];
        for (let t = 0; t < 100; t++) {
          const list = JSON.parse((await run(process.execPath, [CLI, '--data', dir, 'recordings', 'list', '--json', '--limit', '500'], { env })).stdout).recordings;
          recordings = list.slice(0, list.length - stored);
          if (recordings.length >= calls) break;
          await sleep(200);
        }
        stored += recordings.length;
        const vault = await Vault.open(dir);
        let lost = 0;
        let received = 0;
        try {
          await vault.unlock(BENCH_PASSPHRASE);
          for (const r of recordings) {
            const fields = await readSealedFields(vault, (await vault.recordings.get(r.id))!);
            for (const s of fields.siprec?.streams ?? []) {
              lost += s.lost;
              received += s.received;
            }
          }
        } finally {
          await vault.close();
        }
        const complete = sipp && recordings.length === calls && recordings.every((r) => r.channels === 2 && Math.abs(r.durationMs - callSeconds * 1000) < 1500);
        const lossPct = received + lost === 0 ? 100 : (100 * lost) / (received + lost);
        const p99 = percentile(storedMs.slice(byeTimes), 99);
        const cpuPct = (100 * cpu) / (calls * callSeconds);
        const memPerCall = (peak - idleRss) / calls;
        options.log(
          `${calls} calls: sipp ${sipp ? 'ok' : 'failed'}, ${recordings.length} stored, lost ${fmt(lossPct, 3)} % (${lost}/${received + lost}; agent packets sent ${sentPackets - sent0}), CPU ${fmt(cpuPct, 2)} % of a core per call, ${fmt(memPerCall / 1e6, 2)} MB per call, BYE to stored p99 ${p99} ms`,
        );
        rows.push(
          { label: `${calls} calls: packets lost by the server`, value: lossPct, unit: '%' },
          { label: `${calls} calls: every recording complete`, value: complete ? 1 : 0, unit: 'bool' },
          { label: `${calls} calls: server CPU per call`, value: cpuPct, unit: '% of a core' },
          { label: `${calls} calls: server memory per call`, value: memPerCall / 1e6, unit: 'MB' },
          { label: `${calls} calls: BYE to stored, p99`, value: p99, unit: 'ms' },
        );
        if (lossPct < 0.1 && complete) held = calls;
        else break;
      }
      clearInterval(pump);
      reader.close();
      pipe.destroy();
      // the read the stream had waiting on the pipe holds a thread until a line comes
      await writeFile(fifo, '\n');
      socket.close();
      rows.push({ label: 'most calls held (< 0.1 % lost, every recording complete)', value: held, unit: 'calls' });
      notes.push(`SIPp and the agent streams' sender run on the same machine as the server (${levels.join(', ')} calls of ${callSeconds} s tried)`);
      return {
        name: 'siprec',
        rows,
        ratios: [{ label: 'calls held / target', ratio: held / target, comparator: '>=', target: 1, pass: held >= target }],
        notes,
      };
    } finally {
      if (server && server.exitCode === null) {
        server.kill('SIGTERM');
        await new Promise((resolve) => server!.once('exit', resolve));
      }
      if (!options.keep) await rm(scratch, { recursive: true, force: true });
    }
  },
};
