/**
 * `callvault siprec` with SIPp as the session border controller (testdata/siprec/sipp/*.xml): a
 * SIPREC call with two streams (the caller by SIPp's rtp_stream, the agent by rtp-sender.js) and
 * RFC 7865 metadata is stored as a two-channel recording, listed after BYE, found by either
 * participant's number, audited, and nowhere on disk in plaintext. OPTIONS answers; an SBC the
 * configuration does not name gets 403. A call with a G.722 stream is stored at 16 kHz.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect as connectTls } from 'node:tls';
import { connect as connectTcp } from 'node:net';
import { randomBytes } from 'node:crypto';
import { ProtectionProfileAes128CmHmacSha1_80, RtpHeader, SrtpSession } from 'werift-rtp';
import { readdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import SQLite from 'better-sqlite3';
import { decodeG711 } from '../../src/siprec/g711.js';
import { readSealedFields } from '../../src/recordings/read.js';
import { G722Decoder } from '../../src/siprec/g722.js';
import type { SealedFields } from '../../src/recordings/sealed-metadata.js';
import { Vault } from '../../src/vault.js';
import { CLI, cli, initVault, PASSPHRASE, REPO, tempDir } from '../helpers.js';

const run = promisify(execFile);
const CALLER = '+46701740611';
const AGENT = '+46701740622';
/** the call's length as SIPp holds it (-d), in ms */
const CALL_MS = 5000;

let dir: string;
let audio: string;
/** the server's temporary directory (its TMPDIR, so os.tmpdir() there): under the suite's data root, so the final plaintext scan reads it too */
let serverTmp: string;
let server: ChildProcess;
let sipPort: number;
let tlsPort: number;
let serverLog = '';
/** a block of ports of its own, so that concurrent test files do not collide */
const base = 30000 + (process.pid % 500) * 40;

async function spokenWav(path: string, text: string): Promise<void> {
  const raw = `${path}.raw.wav`;
  await run('espeak-ng', ['-v', 'sv', '-w', raw, text]);
  await run('sox', [raw, '-r', '8000', '-c', '1', '-e', 'u-law', path]);
}

before(async () => {
  ({ dir } = await initVault());
  audio = await tempDir('src', 'siprec');
  serverTmp = await tempDir('data', 'siprec-tmpdir');
  await spokenWav(join(audio, 'caller.wav'), 'Hej, jag ringer om min tid på vårdcentralen i morgon.');
  await spokenWav(join(audio, 'agent.wav'), 'Vårdcentralen, du talar med Anna. Vad gäller det?');
  // the agent's words in G.722 too, a raw bitstream as ffmpeg writes it
  await run('sh', [
    '-c',
    'espeak-ng -v sv --stdout "$1" | ffmpeg -v error -i pipe:0 -ar 16000 -ac 1 -c:a g722 -f g722 -y "$2"',
    'sh',
    'Vårdcentralen, du talar med Anna. Vad gäller det?',
    join(audio, 'agent.g722'),
  ]);
  // a CA, this server's certificate and an SBC's client certificate, all signed by the CA
  const ssl = (...args: string[]) => run('openssl', args, { cwd: audio });
  await ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=test SBC CA');
  for (const [name, cn] of [
    ['srs', 'srs.test'],
    ['sbc', 'sbc1.test'],
  ]) {
    await ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    await ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2');
  }
  // the SBCs that may record here: one by its certificate over TLS, one by its address (docs/siprec.md §5)
  const config = join(dir, 'config.json');
  const json = JSON.parse(await readFile(config, 'utf8'));
  await writeFile(
    config,
    JSON.stringify(
      {
        ...json,
        siprec: {
          sbcs: [
            { name: 'sbc-tls', match: { cn: 'sbc1.test' }, controller: 'region' },
            { name: 'sbc-test', match: { address: '127.0.0.1' }, controller: 'region' },
          ],
        },
      },
      null,
      2,
    ),
  );
  await startSiprec();
});

/** `callvault siprec` as a child process; resolves once it listens */
async function startSiprec(): Promise<void> {
  server = spawn(
    process.execPath,
    [
      CLI,
      '--data',
      dir,
      'siprec',
      '--json',
      '--listen',
      '127.0.0.1',
      '--sip-port',
      '0',
      '--tls-port',
      '0',
      '--tls-cert',
      join(audio, 'srs.pem'),
      '--tls-key',
      join(audio, 'srs.key'),
      '--tls-ca',
      join(audio, 'ca.pem'),
      '--rtp-ports',
      `${base}-${base + 19}`,
      '--media-timeout',
      '10',
    ],
    {
      env: { ...process.env, CALLVAULT_PASSPHRASE: PASSPHRASE, TMPDIR: serverTmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  server.stderr!.on('data', (b: Buffer) => {
    serverLog += b.toString();
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    server.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    server.once('exit', () => reject(new Error(`callvault siprec exited: ${serverLog}`)));
  });
  ({ sipPort, tlsPort } = JSON.parse(line).listening);
}

after(async () => {
  if (server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
  }
});

/** one SIP request over UDP from `address`; resolves with the first final response */
async function request(text: string, address = '127.0.0.1', waitMs = 5000): Promise<string> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, address, () => resolve()));
  const { port } = socket.address();
  try {
    const final = new Promise<string>((resolve) => {
      socket.on('message', (m) => {
        if (!/^SIP\/2\.0 1\d\d/.test(m.toString())) resolve(m.toString());
      });
    });
    let msg = text.replaceAll('PORT', String(port)).replaceAll('ADDR', address).replace(/\n/g, '\r\n');
    const body = msg.slice(msg.indexOf('\r\n\r\n') + 4);
    msg = msg.replace('Content-Length: AUTO', `Content-Length: ${Buffer.byteLength(body)}`);
    socket.send(msg, sipPort, '127.0.0.1');
    return await Promise.race([final, sleep(waitMs).then(() => 'no answer')]);
  } finally {
    socket.close();
  }
}

const headers = (method: string, branch: string) => `${method} sip:srs@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP ADDR:PORT;branch=z9hG4bK${branch}
From: <sip:src@sbc.example>;tag=a1
To: <sip:srs@127.0.0.1>
Call-ID: ${branch}@test
CSeq: 1 ${method}
Contact: <sip:src@ADDR:PORT>;+sip.src
Max-Forwards: 70
`;

test('OPTIONS (an SBC health check) gets 200', async () => {
  assert.match(await request(`${headers('OPTIONS', 'opt1')}Content-Length: 0\n\n`), /^SIP\/2\.0 200 OK\r\n/);
});

/** OPTIONS over TLS with `cert` as the client's certificate (none: no certificate); the answer's start line, or the handshake's failure */
async function optionsOverTls(cert?: string): Promise<string> {
  const msg = `${headers('OPTIONS', `tls${cert ?? 'none'}`)}Content-Length: 0\n\n`
    .replaceAll('ADDR', '127.0.0.1')
    .replaceAll('PORT', '5061')
    .replace('SIP/2.0/UDP', 'SIP/2.0/TLS')
    .replace(/\n/g, '\r\n');
  const ca = await readFile(join(audio, 'ca.pem'));
  const options = {
    host: '127.0.0.1',
    port: tlsPort,
    ca,
    servername: 'srs.test',
    ...(cert ? { cert: await readFile(join(audio, `${cert}.pem`)), key: await readFile(join(audio, `${cert}.key`)) } : {}),
  };
  return new Promise((resolve) => {
    const socket = connectTls(options, () => socket.write(msg));
    let got = '';
    socket.on('data', (b) => {
      got += b.toString();
      if (got.includes('\r\n\r\n')) {
        resolve(got.split('\r\n')[0]!);
        socket.end();
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code ?? err.message}`));
    socket.on('close', () => resolve(got ? got.split('\r\n')[0]! : 'closed'));
  });
}

test('SIP over mutual TLS: an SBC with a certificate the CA signed is answered; one without is refused in the handshake', async () => {
  assert.equal(await optionsOverTls('sbc'), 'SIP/2.0 200 OK');
  assert.notEqual(await optionsOverTls(), 'SIP/2.0 200 OK');
});

test('an INVITE from an SBC the configuration does not name gets 403, and is audited', async () => {
  assert.match(await request(invite('unknown1'), '127.0.0.2'), /^SIP\/2\.0 403 Forbidden\r\n/);
});

/** an INVITE with a one-stream SDP offer and no metadata */
function invite(branch: string): string {
  return `${headers('INVITE', branch)}Content-Type: application/sdp\nContent-Length: AUTO\n\nv=0\no=x 1 1 IN IP4 ADDR\ns=-\nc=IN IP4 ADDR\nt=0 0\nm=audio 4000 RTP/AVP 0\na=label:1\na=sendonly\n`;
}

test('when the audit log cannot take the session entry, the INVITE gets 503 with Retry-After (the SBC fails over), and nothing is stored', async () => {
  // another process holds the database: the audit append waits out its busy timeout, then fails
  const db = new SQLite(join(dir, 'callvault.db'));
  db.exec('BEGIN EXCLUSIVE');
  let answer: string;
  try {
    answer = await request(invite('auditdown1'), '127.0.0.1', 30_000);
  } finally {
    db.exec('ROLLBACK');
    db.close();
  }
  assert.match(answer, /^SIP\/2\.0 503 Service Unavailable\r\n/);
  assert.match(answer, /\r\nRetry-After: 30\r\n/);
  assert.deepEqual((await cli(['--data', dir, 'recordings', 'list', '--json'])).json.recordings, []);
});

/** one call of the basic scenario; the agent's stream (from `agentFile`) altered by rtp-sender.js `flags`; resolves with the listed recording */
async function sippCall(flags: string[] = [], callMs = CALL_MS, signal?: AbortSignal, transport: 'u1' | 't1' = 'u1', file = 'basic.xml', agentFile = 'agent.wav'): Promise<any> {
  const list = async () => (await cli(['--data', dir, 'recordings', 'list', '--json'])).json?.recordings ?? [];
  const known = new Set((await list()).map((r: any) => r.id));
  const scenario = join(REPO, 'testdata', 'siprec', 'sipp', file);
  const sender = [process.execPath, join(REPO, 'dist', 'test', 'siprec', 'rtp-sender.js'), ...flags, join(audio, agentFile)].join(' ');
  const args = [
    '-sf',
    scenario,
    '-m',
    '1',
    '-d',
    String(callMs),
    '-key',
    'sender',
    sender,
    '-key',
    'agent_aor',
    `sip:${AGENT}@vardcentral.example`,
    '-i',
    '127.0.0.1',
    '-p',
    String(base + 30),
  ];
  args.push('-t', transport, '-mi', '127.0.0.1', '-mp', String(base + 32), '-nostdin', '-trace_err', `127.0.0.1:${sipPort}`);
  const sipp = await run('sipp', args, { cwd: audio, ...(signal ? { signal } : {}) }).catch((err) => err);
  assert.equal(sipp.code ?? 0, 0, `sipp failed: ${sipp.stdout?.slice(-2000)}\n${serverLog}`);
  // the recording is stored once the BYE is answered; listing it is polled, not timed
  for (let i = 0; i < 50; i++) {
    const listed = (await list()).find((r: any) => !known.has(r.id));
    if (listed) return listed;
    await sleep(100);
  }
  assert.fail(`not listed: ${serverLog}`);
}

async function sealedFields(id: string): Promise<SealedFields> {
  const vault = await Vault.open(dir);
  try {
    await vault.unlock(PASSPHRASE);
    return await readSealedFields(vault, (await vault.recordings.get(id))!);
  } finally {
    await vault.close();
  }
}

/**
 * What process `pid` has open or mapped, polled until `stop` aborts: every file descriptor's target
 * and every mapped file, as /proc shows them.
 */
async function watchOpenFiles(pid: number, stop: AbortSignal): Promise<Set<string>> {
  const seen = new Set<string>();
  while (!stop.aborted) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) seen.add(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''));
    for (const line of (await readFile(`/proc/${pid}/maps`, 'utf8').catch(() => '')).split('\n')) {
      const path = line.split(/\s+/).slice(5).join(' ');
      if (path) seen.add(path);
    }
    await sleep(50);
  }
  seen.delete('');
  return seen;
}

/** the mount points of swap-backed file systems (tmpfs, ramfs: their pages go to swap, or stay in memory unencrypted) */
async function swapBackedMounts(): Promise<string[]> {
  return (await readFile('/proc/mounts', 'utf8'))
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[2] === 'tmpfs' || f[2] === 'ramfs')
    .map((f) => f[1]!);
}

/**
 * 32 samples of the agent's speech as the server decodes them (16-bit little-endian), from the
 * middle of one 20 ms packet (so no loss or reordering splits them): plaintext audio of the call
 * holds these bytes, in a mono buffer or interleaved with the other channel.
 */
async function agentSignature(): Promise<Buffer> {
  const wav = await readFile(join(audio, 'agent.wav'));
  const data = wav.indexOf('data', 12, 'latin1') + 8;
  const ulaw = wav.subarray(data);
  let best = 0;
  let loudest = -1;
  for (let p = 0; p + 160 <= ulaw.length; p += 160) {
    const pcm = new Int16Array(160);
    decodeG711('pcmu', ulaw.subarray(p, p + 160), pcm, 0);
    const energy = pcm.reduce((a, v) => a + Math.abs(v), 0);
    if (energy > loudest) [best, loudest] = [p, energy];
  }
  const pcm = new Int16Array(32);
  decodeG711('pcmu', ulaw.subarray(best + 64, best + 96), pcm, 0);
  return Buffer.from(pcm.buffer);
}

/** whether `bytes` hold the 16-bit samples of `signature` in a row, or every `channels`-th sample (interleaved), at any byte alignment */
function holdsSamples(bytes: Buffer, signature: Buffer, channels = 2): boolean {
  if (bytes.includes(signature)) return true;
  const stride = 2 * channels;
  for (let start = 0; start < stride; start++) {
    const words = Buffer.alloc(Math.floor((bytes.length - start) / stride) * 2);
    for (let i = start, o = 0; i + 1 < bytes.length && o < words.length; i += stride, o += 2) {
      words[o] = bytes[i]!;
      words[o + 1] = bytes[i + 1]!;
    }
    if (words.includes(signature)) return true;
  }
  return false;
}

async function* filesUnder(d: string): AsyncGenerator<string> {
  for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory()) yield* filesUnder(join(d, e.name));
    else if (e.isFile()) yield join(d, e.name);
  }
}

test('a SIPREC call from SIPp is stored encrypted, listed, found by either number and audited; during it the server writes no plaintext to its temporary directory and opens no swap-backed file', async () => {
  const stopWatching = new AbortController();
  const opened = watchOpenFiles(server.pid!, stopWatching.signal);
  const shmBefore = new Set(await readdir('/dev/shm').catch(() => []));
  const callStarted = Date.now();
  let listed: any;
  try {
    listed = await sippCall();
  } finally {
    stopWatching.abort();
  }
  // what the server had open or mapped while it recorded: its data directory, the libraries and
  // devices of any process; never a memfd, a System V segment, a file on a tmpfs (/dev/shm), or a
  // file in its temporary directory
  const files = [...(await opened)].filter((f) => f.startsWith('/'));
  assert.ok(
    files.some((f) => f.startsWith(join(dir, 'callvault.db'))),
    `the watch saw the server's own files: ${files.join(', ')}`,
  );
  const swapBacked = await swapBackedMounts();
  const suspicious = files.filter(
    (f) =>
      /^\/memfd:|^\/dev\/shm\/|^\/SYSV/.test(f) ||
      (swapBacked.some((m) => m !== '/dev' && (f === m || f.startsWith(`${m}/`))) && !f.startsWith(`${dir}/`)) ||
      (f.startsWith(serverTmp) && !f.startsWith(`${dir}/`)),
  );
  assert.deepEqual(suspicious, [], 'swap-backed or temporary files open in the server during the call');

  // the server's temporary directory holds nothing of the call; nor does any file new in /dev/shm
  const signature = await agentSignature();
  for await (const f of filesUnder(serverTmp)) {
    const bytes = await readFile(f);
    assert.doesNotMatch(bytes.toString('latin1'), /RIFF[\s\S]{4}WAVE|RF64/, f);
    assert.equal(holdsSamples(bytes, signature), false, `${f} holds the call's PCM`);
  }
  for (const name of await readdir('/dev/shm').catch(() => [])) {
    if (shmBefore.has(name)) continue;
    const path = join('/dev/shm', name);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile() || info.mtimeMs < callStarted) continue;
    const bytes = await readFile(path).catch(() => undefined);
    if (bytes) assert.equal(holdsSamples(bytes, signature), false, `${path} holds the call's PCM`);
  }

  assert.equal(listed.channels, 2, 'a channel per participant stream');
  assert.equal(listed.sampleRate, 8000);
  assert.ok(listed.durationMs >= CALL_MS - 200 && listed.durationMs <= CALL_MS + 1500, `duration ${listed.durationMs} ms for a ${CALL_MS} ms call`);

  const out = join(await tempDir('out', 'siprec'), 'call.wav');
  const exported = await cli(['--data', dir, 'export', listed.id, '--out', out]);
  assert.equal(exported.code, 0, exported.stderr);
  const probe = JSON.parse((await run('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', out])).stdout).streams[0];
  assert.equal(probe.channels, 2);
  assert.ok(Math.abs(Number(probe.duration) * 1000 - listed.durationMs) < 50, 'ffprobe reads the streaming header to the end of the data');
  assert.ok(holdsSamples(await readFile(out), signature), 'the check for the call’s PCM finds it in the exported WAV');
  // both participants' speech is in their own channel
  for (const channel of ['1', '2']) {
    const stats = (await run('sox', [out, '-n', 'remix', channel, 'stat'])).stderr;
    const rms = Number(/RMS\s+amplitude:\s+([\d.]+)/.exec(stats)?.[1]);
    assert.ok(rms > 0.02, `channel ${channel} holds speech (RMS ${rms})`);
  }

  for (const phone of [CALLER, AGENT]) {
    const found = await cli(['--data', dir, 'subject', 'find', '--phone', phone, '--json']);
    assert.equal(found.code, 0, found.stderr);
    assert.deepEqual(
      found.json.recordings.map((r: any) => r.id),
      [listed.id],
    );
  }

  const audit = (await cli(['--data', dir, 'audit', 'export', '--format', 'jsonl'])).stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).event);
  const sessions = audit.filter((e) => e.action === 'siprec.session');
  assert.deepEqual(
    sessions.map((e) => [e.outcome, e.detail?.stage, e.detail?.reason ?? null]),
    [
      ['denied', 'start', 'unknown-sbc'],
      ['success', 'start', null],
      ['success', 'end', null],
    ],
  );
  const end = sessions[2];
  assert.equal(end.recordingId, listed.id);
  assert.equal(end.actor.name, 'siprec:sbc-test', 'the SBC acts as a system actor of its own');
  const ingest = audit.find((e) => e.action === 'recording.ingest' && e.recordingId === listed.id);
  assert.equal(ingest?.outcome, 'success', 'stored through the ingest path, with its entry');
  assert.equal(serverLog.includes(CALLER.slice(1)) || serverLog.includes(AGENT.slice(1)), false, 'no number in the log');

  const sealed = await sealedFields(listed.id);
  assert.equal(sealed.caller, CALLER);
  assert.deepEqual(
    sealed.siprec?.participants.map((p) => [p.phone, p.name, p.labels]),
    [
      [CALLER, 'Synthetic Caller', ['1']],
      [AGENT, 'Synthetic Agent', ['2']],
    ],
  );
  assert.deepEqual(
    sealed.siprec?.streams.map((s) => [s.label, s.codec, s.lost, s.duplicates]),
    [
      ['1', 'pcmu', 0, 0],
      ['2', 'pcmu', 0, 0],
    ],
  );
  assert.ok(
    sealed.siprec!.streams.every((s) => s.received > 100),
    `both streams arrived: ${sealed.siprec!.streams.map((s) => s.received)}`,
  );
});

test('lost, reordered and duplicated packets (signalling over TCP): the loss is counted in the sealed metadata, the rest is in place', async () => {
  const listed = await sippCall(['--drop=10,11,12', '--reorder=30,60', '--duplicate=50,51'], CALL_MS, undefined, 't1');
  const agent = (await sealedFields(listed.id)).siprec!.streams[1]!;
  assert.deepEqual([agent.label, agent.lost, agent.duplicates, agent.late], ['2', 3, 2, 0]);
});

test('SRTP over TLS: SDES keys from the SDP decrypt the stream; SRTP offered over UDP is refused', async () => {
  const known = new Set(((await cli(['--data', dir, 'recordings', 'list', '--json'])).json?.recordings ?? []).map((r: any) => r.id));
  const sbcKey = randomBytes(30);
  const sdp = `v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${sbcKey.toString('base64')}\r\na=label:1\r\na=sendonly\r\n`;
  const request = (method: string, cseq: number, toTag = '', body = '') =>
    [
      `${method} sip:srs@127.0.0.1 SIP/2.0`,
      `Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKsrtp${cseq}`,
      'From: <sip:src@sbc.example>;tag=s1',
      `To: <sip:srs@127.0.0.1>${toTag ? `;tag=${toTag}` : ''}`,
      'Call-ID: srtp1@test',
      `CSeq: ${cseq} ${method}`,
      'Contact: <sip:src@127.0.0.1:5061;transport=tls>;+sip.src',
      ...(body ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
  // over UDP the same offer is refused: its keys would cross the network in the clear
  const overUdp = await (async () => {
    const udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', () => resolve()));
    const answer = new Promise<string>((resolve) => udp.on('message', (m) => (/^SIP\/2\.0 [2-6]/.test(m.toString()) ? resolve(m.toString()) : undefined)));
    udp.send(request('INVITE', 1, '', sdp).replace('SIP/2.0/TLS', 'SIP/2.0/UDP').replace('srtp1@test', 'srtp-udp@test'), sipPort, '127.0.0.1');
    const got = await Promise.race([answer, sleep(5000).then(() => 'no answer')]);
    udp.close();
    return got;
  })();
  assert.match(overUdp, /^SIP\/2\.0 488 /);

  const socket = connectTls({
    host: '127.0.0.1',
    port: tlsPort,
    ca: await readFile(join(audio, 'ca.pem')),
    servername: 'srs.test',
    cert: await readFile(join(audio, 'sbc.pem')),
    key: await readFile(join(audio, 'sbc.key')),
  });
  await new Promise((resolve) => socket.once('secureConnect', resolve));
  let received = '';
  const responses: string[] = [];
  socket.on('data', (b) => {
    received += b.toString();
    for (;;) {
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) break;
      const length = Number(/Content-Length: (\d+)/i.exec(received.slice(0, end))?.[1] ?? 0);
      if (received.length < end + 4 + length) break;
      responses.push(received.slice(0, end + 4 + length));
      received = received.slice(end + 4 + length);
    }
  });
  const final = async (status: RegExp) => {
    for (let i = 0; i < 100; i++) {
      const r = responses.find((x) => status.test(x));
      if (r) return r;
      await sleep(50);
    }
    assert.fail(`no answer over TLS: ${responses.join('|')} ${serverLog}`);
  };
  socket.write(request('INVITE', 1, '', sdp));
  const ok = await final(/^SIP\/2\.0 200 OK\r\n[\s\S]*CSeq: 1 INVITE/);
  const port = Number(/m=audio (\d+) RTP\/SAVP/.exec(ok)?.[1]);
  const ours = Buffer.from(/a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:([A-Za-z0-9+/=]+)/.exec(ok)![1]!, 'base64');
  const toTag = /To: [^\r]*;tag=([^;\r]+)/.exec(ok)![1]!;
  socket.write(request('ACK', 1, toTag));
  // the SBC's side of the SRTP session: it encrypts with the key it offered
  const sbc = new SrtpSession({
    keys: { localMasterKey: sbcKey.subarray(0, 16), localMasterSalt: sbcKey.subarray(16), remoteMasterKey: ours.subarray(0, 16), remoteMasterSalt: ours.subarray(16) },
    profile: ProtectionProfileAes128CmHmacSha1_80,
  });
  const udp = createSocket('udp4');
  for (let i = 0; i < 75; i++) {
    const header = new RtpHeader({ payloadType: 0, sequenceNumber: 1000 + i, timestamp: i * 160, ssrc: 0x5eed0003 });
    udp.send(sbc.encrypt(Buffer.alloc(160, 0x80), header), port, '127.0.0.1');
    await sleep(20);
  }
  udp.close();
  socket.write(request('BYE', 2, toTag));
  await final(/^SIP\/2\.0 200 OK\r\n[\s\S]*CSeq: 2 BYE/);
  socket.end();
  let listed: any;
  for (let i = 0; i < 50 && !listed; i++) {
    listed = ((await cli(['--data', dir, 'recordings', 'list', '--json'])).json.recordings as any[]).find((r) => !known.has(r.id));
    if (!listed) await sleep(100);
  }
  assert.ok(listed, `stored: ${serverLog}`);
  const sealed = await sealedFields(listed.id);
  assert.deepEqual([sealed.siprec?.streams[0]?.received, sealed.siprec?.streams[0]?.lost], [75, 0], 'every SRTP packet authenticated and decrypted');
  const out = join(await tempDir('out', 'siprec'), 'srtp.wav');
  assert.equal((await cli(['--data', dir, 'export', listed.id, '--out', out])).code, 0);
  const pcm = (await readFile(out)).subarray(44);
  const values = new Set<number>();
  for (let i = 0; i < pcm.length; i += 2) values.add(pcm.readInt16LE(i));
  assert.deepEqual(
    [...values].sort((a, b) => a - b),
    [0, 32124],
    'the decrypted µ-law constant, and silence around it: no ciphertext was decoded as audio',
  );
  const audit = (await cli(['--data', dir, 'audit', 'export', '--format', 'jsonl'])).stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).event);
  assert.ok(
    audit.some((e) => e.action === 'siprec.session' && e.recordingId === listed.id && e.actor.name === 'siprec:sbc-tls'),
    'the SBC known by its certificate',
  );
});

test('a call paused (a=inactive) and resumed by re-INVITEs with changed metadata: answered inactive, then recvonly; the new metadata is sealed', async () => {
  const listed = await sippCall([], 2000, undefined, 'u1', 'reinvite.xml');
  assert.ok(listed.durationMs >= 4900 && listed.durationMs <= 6500, `two calls' lengths and the pause: ${listed.durationMs} ms`);
  const sealed = await sealedFields(listed.id);
  assert.deepEqual(
    sealed.siprec?.participants.map((p) => p.name),
    ['Synthetic Caller', 'Synthetic Agent Renamed'],
  );
});

test('a call whose agent stream is G.722 (payload type 9, RTP clock 8000) is stored at 16 kHz: that channel is the G.722 decode of what was sent, sample for sample', async () => {
  const listed = await sippCall(['--g722'], CALL_MS, undefined, 'u1', 'g722.xml', 'agent.g722');
  assert.deepEqual([listed.channels, listed.sampleRate], [2, 16000]);
  assert.ok(listed.durationMs >= CALL_MS - 200 && listed.durationMs <= CALL_MS + 1500, `duration ${listed.durationMs} ms for a ${CALL_MS} ms call`);
  const sealed = await sealedFields(listed.id);
  assert.deepEqual(
    sealed.siprec?.streams.map((s) => [s.label, s.codec, s.lost, s.late]),
    [
      ['1', 'pcmu', 0, 0],
      ['2', 'g722', 0, 0],
    ],
  );

  const out = join(await tempDir('out', 'siprec'), 'g722.wav');
  const exported = await cli(['--data', dir, 'export', listed.id, '--out', out]);
  assert.equal(exported.code, 0, exported.stderr);
  const probe = JSON.parse((await run('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', out])).stdout).streams[0];
  assert.deepEqual([probe.sample_rate, probe.channels], ['16000', 2]);
  assert.ok(Math.abs(Number(probe.duration) * 1000 - listed.durationMs) < 50, `ffprobe ${probe.duration} s, listed ${listed.durationMs} ms`);
  const pcm = (await readFile(out)).subarray(44);
  assert.equal(pcm.length, Math.round((listed.durationMs * 16000) / 1000) * 4, '16 kHz × 2 channels × 16 bits for the call’s length');
  const stats = (await run('sox', [out, '-n', 'remix', '1', 'stat'])).stderr;
  assert.ok(Number(/RMS\s+amplitude:\s+([\d.]+)/.exec(stats)?.[1]) > 0.02, 'the caller’s G.711, interpolated to 16 kHz, holds speech');

  // every packet arrived: the agent's channel holds ffmpeg's decode of the G.722 file, exactly
  const decoded = (await run('ffmpeg', ['-v', 'error', '-f', 'g722', '-i', join(audio, 'agent.g722'), '-f', 's16le', 'pipe:1'], { encoding: 'buffer', maxBuffer: 1 << 26 })).stdout;
  const reference = Int16Array.from({ length: decoded.length / 2 }, (_, i) => decoded.readInt16LE(i * 2));
  const agent = Int16Array.from({ length: pcm.length / 4 }, (_, i) => pcm.readInt16LE(i * 4 + 2));
  const first = reference.findIndex((x) => x !== 0);
  const probeRun = reference.subarray(first, first + 64);
  let at = -1;
  for (let i = 0; i + probeRun.length <= agent.length && at < 0; i++) if (probeRun.every((x, j) => agent[i + j] === x)) at = i - first;
  assert.ok(at >= 0, 'the start of the agent’s speech is in the recording');
  assert.ok(at + reference.length <= agent.length, 'the whole stream is in the recording');
  assert.deepEqual(agent.subarray(at, at + reference.length), reference);
});

test("an offer preferring G.711 over G.722 (static payload types, no rtpmap) is recorded at 8 kHz; G.722 sent anyway is its lower sub-band; RTP from another address than the offer's is not", async () => {
  const known = new Set(((await cli(['--data', dir, 'recordings', 'list', '--json'])).json?.recordings ?? []).map((r: any) => r.id));
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const { port } = socket.address();
  const finals: string[] = [];
  socket.on('message', (m) => (/^SIP\/2\.0 [2-6]/.test(m.toString()) ? finals.push(m.toString()) : undefined));
  const send = (text: string) => {
    let msg = text.replaceAll('PORT', String(port)).replaceAll('ADDR', '127.0.0.1').replace(/\n/g, '\r\n');
    msg = msg.replace('Content-Length: AUTO', `Content-Length: ${Buffer.byteLength(msg.slice(msg.indexOf('\r\n\r\n') + 4))}`);
    socket.send(msg, sipPort, '127.0.0.1');
  };
  const final = async (method: string) => {
    for (let i = 0; i < 100; i++) {
      const r = finals.find((f) => f.includes(` ${method}\r\n`));
      if (r) return r;
      await sleep(50);
    }
    assert.fail(`no answer to ${method}: ${serverLog}`);
  };
  send(invite('g722rate1').replace('RTP/AVP 0', 'RTP/AVP 0 9'));
  const ok = await final('INVITE');
  assert.match(ok, /^SIP\/2\.0 200 OK\r\n/);
  assert.match(ok, /\r\nm=audio \d+ RTP\/AVP 0 9\r\na=rtpmap:0 PCMU\/8000\r\na=rtpmap:9 G722\/8000\r\n/, 'both codecs accepted, by their static payload types');
  const rtpPort = Number(/m=audio (\d+)/.exec(ok)?.[1]);
  const toTag = /To: [^\r]*;tag=([^;\r]+)/.exec(ok)![1]!;
  // one second of the agent's G.722, which the answer accepted though the offer preferred PCMU
  const codes = (await readFile(join(audio, 'agent.g722'))).subarray(0, 50 * 160);
  // first, packets of the same numbers from another address than the offer's: dropped, not recorded
  const intruder = createSocket('udp4');
  await new Promise<void>((resolve) => intruder.bind(0, '127.0.0.2', () => resolve()));
  for (let i = 0; i < 20; i++) {
    const h = Buffer.alloc(12);
    h[0] = 0x80;
    h[1] = 9;
    h.writeUInt16BE(i, 2);
    h.writeUInt32BE(i * 160, 4);
    intruder.send(Buffer.concat([h, Buffer.alloc(160, 0x5a)]), rtpPort, '127.0.0.1');
  }
  await sleep(100);
  intruder.close();
  for (let i = 0; i < 50; i++) {
    const h = Buffer.alloc(12);
    h[0] = 0x80;
    h[1] = 9;
    h.writeUInt16BE(i, 2);
    h.writeUInt32BE(i * 160, 4);
    socket.send(Buffer.concat([h, codes.subarray(i * 160, (i + 1) * 160)]), rtpPort, '127.0.0.1');
    await sleep(20);
  }
  send(`${headers('BYE', 'g722rate1').replace('To: <sip:srs@127.0.0.1>', `To: <sip:srs@127.0.0.1>;tag=${toTag}`)}Content-Length: 0\n\n`);
  assert.match(await final('BYE'), /^SIP\/2\.0 200 OK\r\n/);
  socket.close();
  let listed: any;
  for (let i = 0; i < 50 && !listed; i++) {
    listed = ((await cli(['--data', dir, 'recordings', 'list', '--json'])).json.recordings as any[]).find((r) => !known.has(r.id));
    if (!listed) await sleep(100);
  }
  assert.ok(listed, `stored: ${serverLog}`);
  assert.deepEqual([listed.channels, listed.sampleRate], [1, 8000], 'the chosen codec, PCMU, sets the rate');
  const stream = (await sealedFields(listed.id)).siprec!.streams[0]!;
  assert.deepEqual([stream.codec, stream.received, stream.lost], ['g722', 50, 0]);
  const out = join(await tempDir('out', 'siprec'), 'g722-8k.wav');
  assert.equal((await cli(['--data', dir, 'export', listed.id, '--out', out])).code, 0);
  const pcm = (await readFile(out)).subarray(44);
  const recorded = Int16Array.from({ length: pcm.length / 2 }, (_, i) => pcm.readInt16LE(i * 2));
  const expected = new Int16Array(codes.length);
  new G722Decoder(8000).decode(codes, expected, 0);
  const first = expected.findIndex((x) => x !== 0);
  const start = recorded.findIndex((_, i) => expected.subarray(first, first + 32).every((x, j) => recorded[i + j] === x)) - first;
  assert.ok(start >= 0, 'the stream is in the recording');
  assert.deepEqual(recorded.subarray(start, start + expected.length), expected, 'one sample per byte: the lower sub-band, exactly');
});

test('CANCEL before the INVITE is answered: 200 to the CANCEL, 487 to the INVITE, nothing stored, audited', async () => {
  const before = (await cli(['--data', dir, 'recordings', 'list', '--json'])).json.recordings.length;
  // over TCP, in one write: the server reads the CANCEL while the INVITE still waits for the vault
  const socket = connectTcp({ host: '127.0.0.1', port: sipPort });
  await new Promise((resolve) => socket.once('connect', resolve));
  const { localPort } = socket;
  const fill = (text: string) => {
    let msg = text.replaceAll('PORT', String(localPort)).replaceAll('ADDR', '127.0.0.1').replace('SIP/2.0/UDP', 'SIP/2.0/TCP').replace(/\n/g, '\r\n');
    const body = msg.slice(msg.indexOf('\r\n\r\n') + 4);
    msg = msg.replace('Content-Length: AUTO', `Content-Length: ${Buffer.byteLength(body)}`);
    return msg;
  };
  const answers: string[] = [];
  let received = '';
  const done = new Promise<void>((resolve) => {
    socket.on('data', (b) => {
      received += b.toString();
      for (let end = received.indexOf('\r\n\r\n'); end >= 0; end = received.indexOf('\r\n\r\n')) {
        const length = Number(/Content-Length: (\d+)/i.exec(received.slice(0, end))?.[1] ?? 0);
        if (received.length < end + 4 + length) break;
        const m = received.slice(0, end + 4 + length);
        received = received.slice(end + 4 + length);
        const method = /CSeq: \d+ ([A-Z]+)/.exec(m)?.[1];
        if (!m.startsWith('SIP/2.0 100 ')) answers.push(`${method} ${m.split('\r\n')[0]}`);
      }
      if (answers.length >= 2) resolve();
    });
  });
  socket.write(fill(invite('cancel1')) + fill(`${headers('CANCEL', 'cancel1')}Content-Length: 0\n\n`));
  await Promise.race([done, sleep(10_000)]);
  socket.end();
  assert.deepEqual(answers.sort(), ['CANCEL SIP/2.0 200 OK', 'INVITE SIP/2.0 487 Request Terminated']);
  // the session's closing entry is written once the call's start is undone
  let audit: any[] = [];
  for (let i = 0; i < 50; i++) {
    audit = (await cli(['--data', dir, 'audit', 'export', '--format', 'jsonl'])).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).event);
    if (audit.some((e) => e.action === 'siprec.session' && e.detail?.stage === 'cancel')) break;
    await sleep(100);
  }
  assert.ok(audit.some((e) => e.action === 'siprec.session' && e.outcome === 'failure' && e.detail?.stage === 'cancel'));
  assert.equal((await cli(['--data', dir, 'recordings', 'list', '--json'])).json.recordings.length, before);
});

test('a call whose BYE never comes is ended by the media timeout and stored', async () => {
  const known = new Set(((await cli(['--data', dir, 'recordings', 'list', '--json'])).json?.recordings ?? []).map((r: any) => r.id));
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const { port } = socket.address();
  const answered = new Promise<string>((resolve) => socket.on('message', (m) => (/^SIP\/2\.0 200/.test(m.toString()) ? resolve(m.toString()) : undefined)));
  let msg = invite('nobye1').replaceAll('PORT', String(port)).replaceAll('ADDR', '127.0.0.1').replace(/\n/g, '\r\n');
  msg = msg.replace('Content-Length: AUTO', `Content-Length: ${Buffer.byteLength(msg.slice(msg.indexOf('\r\n\r\n') + 4))}`);
  socket.send(msg, sipPort, '127.0.0.1');
  const rtpPort = Number(/m=audio (\d+)/.exec(await answered)?.[1]);
  // one second of RTP, then the SBC goes quiet: no BYE
  for (let i = 0; i < 50; i++) {
    const h = Buffer.alloc(12);
    h[0] = 0x80;
    h.writeUInt16BE(i, 2);
    h.writeUInt32BE(i * 160, 4);
    socket.send(Buffer.concat([h, Buffer.alloc(160, 0x80)]), rtpPort, '127.0.0.1');
    await sleep(20);
  }
  socket.close();
  let listed: any;
  for (let i = 0; i < 300 && !listed; i++) {
    listed = ((await cli(['--data', dir, 'recordings', 'list', '--json'])).json.recordings as any[]).find((r) => !known.has(r.id));
    if (!listed) await sleep(100);
  }
  assert.ok(listed, `stored after the media timeout: ${serverLog}`);
  assert.equal(listed.channels, 1);
  assert.match(serverLog, /session ended: no media within the media timeout/);
});

/** the crash journal's parts committed so far, for every call in progress */
async function journalParts(): Promise<number> {
  const root = join(dir, 'objects', 'siprec-journal');
  let n = 0;
  for (const call of await readdir(root).catch(() => [])) n += (await readdir(join(root, call))).filter((f) => f !== 'entry').length;
  return n;
}

test('a server killed mid-call keeps what it had sealed: stored at restart as an incomplete recording, readable and found', async () => {
  const known = new Set(((await cli(['--data', dir, 'recordings', 'list', '--json'])).json?.recordings ?? []).map((r: any) => r.id));
  // a call long enough for the SIGKILL to come while it runs; its failure (no answer to the BYE) is expected
  const stopSipp = new AbortController();
  const call = sippCall([], 60_000, stopSipp.signal).catch(() => undefined);
  // two segments (128 KiB, four seconds of the two channels) sealed into the journal: polled, not timed
  for (let i = 0; i < 300 && (await journalParts()) < 3; i++) await sleep(100);
  assert.ok((await journalParts()) >= 3, `the journal grows while the call runs: ${serverLog}`);
  server.kill('SIGKILL');
  await new Promise((resolve) => server.once('exit', resolve));
  await startSiprec();
  assert.match(serverLog, /1 call\(s\) cut off by a stop were stored as incomplete recordings/);
  assert.equal(await journalParts(), 0, 'the journal is gone once its call is stored');
  const listed = ((await cli(['--data', dir, 'recordings', 'list', '--json'])).json.recordings as any[]).find((r) => !known.has(r.id));
  assert.ok(listed, 'the cut-off call is listed');
  assert.equal(listed.channels, 2);
  assert.ok(listed.durationMs >= 3900, `it holds the sealed segments (${listed.durationMs} ms)`);
  const sealed = await sealedFields(listed.id);
  assert.equal(sealed.siprec?.incomplete, true, 'marked incomplete');
  assert.equal(sealed.caller, CALLER);
  const out = join(await tempDir('out', 'siprec'), 'cut-off.wav');
  const exported = await cli(['--data', dir, 'export', listed.id, '--out', out]);
  assert.equal(exported.code, 0, exported.stderr);
  const found = await cli(['--data', dir, 'subject', 'find', '--phone', AGENT, '--json']);
  assert.ok(found.json.recordings.some((r: any) => r.id === listed.id));
  const audit = (await cli(['--data', dir, 'audit', 'export', '--format', 'jsonl'])).stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).event);
  assert.ok(audit.some((e) => e.action === 'siprec.session' && e.detail?.stage === 'recovered' && e.recordingId === listed.id));
  stopSipp.abort();
  await call;
});

test('the data directory holds no plaintext audio and no participant number', async () => {
  const walk = async function* (d: string): AsyncGenerator<string> {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) yield* walk(join(d, e.name));
      else if (e.isFile()) yield join(d, e.name);
    }
  };
  let files = 0;
  for await (const f of walk(dir)) {
    if ((await stat(f)).size === 0) continue;
    const text = (await readFile(f)).toString('latin1');
    files += 1;
    assert.doesNotMatch(text, /RIFF[\s\S]{4}WAVE/, f);
    assert.equal(text.includes('701740611') || text.includes('701740622'), false, f);
  }
  assert.ok(files > 3);
});
