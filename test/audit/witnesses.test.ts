/**
 * Witnesses (src/audit/witnesses/) against real files and sockets: the file witness's format,
 * torn tails and mode; the HTTP witness against a small C2SP tlog-witness server written here
 * (it checks signatures, old sizes and consistency proofs the way the protocol says); the syslog
 * witness over UDP, TCP and TLS listeners; and the RFC 5424 formatting shared with `audit export`.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createServer as createTlsServer } from 'node:tls';
import { encodeEntry, type AuditEvent, type EncodableEvent, type StoredEntry } from '../../src/audit/audit-log.js';
import { parseCheckpointText, signCheckpoint } from '../../src/audit/checkpoint.js';
import { consistencyRanges, EMPTY_ROOT, leafHash, rootOf, verifyConsistency } from '../../src/audit/merkle.js';
import { NoteError, NoteSigner, openNote, type NoteVerifier } from '../../src/audit/signed-note.js';
import { auditEntryJsonLine, auditEntrySyslog, formatSyslog, SD_ID } from '../../src/audit/syslog.js';
import { fileWitnessNotes, FileWitness, HttpWitness, parseWitness, parseWitnesses, readWitnessFile, SyslogWitness } from '../../src/audit/witnesses/index.js';
import type { WitnessedCheckpoint } from '../../src/audit/witness.js';
import { CallvaultError, ErrorCodes, type ErrorCode } from '../../src/errors.js';
import { removeDir, tempDir } from '../helpers.js';

const ORIGIN = 'test.example/log';
const signer = new NoteSigner(ORIGIN, Buffer.alloc(32, 7));

/** leaf hashes of a synthetic log; a different `branch` gives different leaves from `forkAt` on */
function leaves(n: number, branch = 'main', forkAt = n): Buffer[] {
  return Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`entry ${i < forkAt ? 'main' : branch} ${i}`)));
}

function checkpoint(tree: Buffer[], size: number, by = signer): WitnessedCheckpoint {
  return { note: signCheckpoint({ origin: ORIGIN, size, rootHash: rootOf(tree.slice(0, size)) }, by), size };
}

function proofs(tree: Buffer[], size: number): (oldSize: number) => Promise<Buffer[]> {
  return async (oldSize) => consistencyRanges(oldSize, size).map(([a, b]) => rootOf(tree.slice(a, b)));
}

async function rejectsWith(p: Promise<unknown>, code: ErrorCode, pattern?: RegExp): Promise<CallvaultError> {
  let caught: unknown;
  await p.then(
    () => assert.fail(`expected ${code}`),
    (err) => (caught = err),
  );
  assert.ok(caught instanceof CallvaultError, `expected a CallvaultError, got ${caught}`);
  assert.equal(caught.code, code, caught.message);
  if (pattern) assert.match(caught.message, pattern);
  return caught;
}

function rootB64(tree: Buffer[], size: number): string {
  return rootOf(tree.slice(0, size)).toString('base64');
}

describe('file witness', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir('out', 'witness');
  });
  after(async () => {
    await removeDir(dir);
  });

  test('appends notes separated by blank lines, mode 0600, and reads them back byte for byte', async () => {
    const path = join(dir, 'round-trip.txt');
    const tree = leaves(9);
    const sent = [1, 4, 9].map((n) => checkpoint(tree, n));
    const witness = new FileWitness(path);
    for (const cp of sent) await witness.send(cp);

    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal(await readFile(path, 'utf8'), sent.map((cp) => `${cp.note}\n`).join(''));
    const back = await readWitnessFile(path);
    assert.equal(back.warning, undefined);
    assert.deepEqual(back.checkpoints, sent);
    for (const cp of back.checkpoints) assert.deepEqual(openNote(cp.note, [signer.verifier]).verifiedBy, [ORIGIN]);
  });

  test('an empty or missing-separator file reads cleanly', async () => {
    const path = join(dir, 'no-separator.txt');
    const cp = checkpoint(leaves(3), 3);
    await writeFile(path, '');
    assert.deepEqual(await readWitnessFile(path), { checkpoints: [] });
    // a complete note whose trailing blank line was torn off is still a complete note
    await writeFile(path, cp.note);
    assert.deepEqual(await readWitnessFile(path), { checkpoints: [cp] });
  });

  test('a torn last note is left out with a warning naming its line; appending after it is refused', async () => {
    const tree = leaves(5);
    const good = [checkpoint(tree, 2), checkpoint(tree, 5)];
    const prefix = good.map((cp) => `${cp.note}\n`).join('');
    const next = checkpoint(tree, 5).note;
    const text = next.slice(0, next.indexOf('\n\n') + 1);
    const firstLineOfTorn = prefix.split('\n').length;
    const torn: Record<string, Buffer> = {
      'half a text line': Buffer.from(next.slice(0, 20)),
      'text without its blank line': Buffer.from(text),
      'text and blank line, no signature': Buffer.from(`${text}\n`),
      'a signature line without its newline': Buffer.from(next.slice(0, -1)),
      'half a signature line': Buffer.from(next.slice(0, next.length - 30)),
      // the write stopped inside the three bytes of the em dash
      'a third of the em dash': Buffer.from(next).subarray(0, Buffer.byteLength(text) + 2),
    };
    for (const [name, tail] of Object.entries(torn)) {
      const path = join(dir, `torn-${name.replaceAll(' ', '-')}.txt`);
      const content = Buffer.concat([Buffer.from(prefix), tail]);
      await writeFile(path, content);
      const back = await readWitnessFile(path);
      assert.deepEqual(back.checkpoints, good, name);
      assert.match(back.warning ?? '', new RegExp(`incomplete note that starts at line ${firstLineOfTorn}\\b`), name);
      assert.ok(!back.warning!.includes(rootB64(tree, 5)), 'the warning does not quote the note');

      const refused = await rejectsWith(new FileWitness(path).send(checkpoint(leaves(6), 6)), ErrorCodes.WITNESS_FAILED, /incomplete note/);
      assert.ok(!refused.message.includes(rootB64(leaves(6), 6)));
      assert.ok((await readFile(path)).equals(content), 'nothing appended');
    }
  });

  test('damage before the end throws, naming the line and not the content', async () => {
    const tree = leaves(5);
    const [a, b] = [checkpoint(tree, 2), checkpoint(tree, 5)];
    const aText = a.note.slice(0, a.note.indexOf('\n\n') + 1);
    const cases: [string, string, number][] = [
      ['text, blank line, then text again', `${aText}\n${b.note}\n`, 5],
      ['a malformed signature line', `${a.note.replace('— ', '— x y z ')}\n`, 5],
      ['no blank line between notes', `${a.note}${b.note}\n`, 6],
      ['not a checkpoint', `hello\n\n${a.note.slice(a.note.indexOf('\n\n') + 2)}\n`, 1],
    ];
    for (const [name, content, line] of cases) {
      const path = join(dir, `damaged-${name.replaceAll(' ', '-')}.txt`);
      await writeFile(path, content);
      const err = await rejectsWith(readWitnessFile(path), ErrorCodes.WITNESS_FAILED, new RegExp(`line ${line}:`));
      assert.ok(!err.message.includes(rootB64(tree, 5)) && !err.message.includes(rootB64(tree, 2)), name);
    }
    // A torn text buried by a later append runs into the next note's text, which reads as one
    // note with extension lines: only its signature shows the damage, and the caller checks that.
    const path = join(dir, 'damaged-buried.txt');
    await writeFile(path, `${aText}${b.note}\n`);
    const [buried] = (await readWitnessFile(path)).checkpoints;
    assert.equal(buried?.size, 2);
    assert.throws(() => openNote(buried.note, [signer.verifier]), NoteError);
  });

  test('fileWitnessNotes reads the notes of the configured file witnesses; one not written yet holds none', async () => {
    const path = join(dir, 'configured.txt');
    const cp = checkpoint(leaves(2), 2);
    await new FileWitness(path).send(cp);
    assert.deepEqual(await fileWitnessNotes(`file:${path}, syslog+udp://127.0.0.1:9, file:${join(dir, 'not-yet.txt')}`), [cp.note]);
    assert.deepEqual(await fileWitnessNotes(undefined), []);
  });

  test('an unwritable path fails with CV_WITNESS_FAILED', async () => {
    await rejectsWith(new FileWitness(join(dir, 'missing-dir', 'w.txt')).send(checkpoint(leaves(1), 1)), ErrorCodes.WITNESS_FAILED, /ENOENT/);
  });
});

/**
 * A tlog-witness (https://c2sp.org/tlog-witness) trusting one log key, keeping the latest
 * cosigned size and root per origin and every root it cosigned.
 */
class TestWitness {
  readonly latest = new Map<string, { size: number; root: Buffer }>();
  readonly cosigned: { origin: string; size: number; root: Buffer }[] = [];
  readonly requests: { old: number; proofLines: number; status: number }[] = [];
  private readonly server = createHttpServer((req, res) => void this.handle(req, res));
  url = '';

  constructor(private readonly trusted: NoteVerifier) {}

  async start(): Promise<void> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/w`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const answer = (status: number, text = '', type = 'text/plain') => {
      res.writeHead(status, { 'content-type': type }).end(text);
      return status;
    };
    let old = -1;
    let proofLines = 0;
    const status = ((): number => {
      if (req.method !== 'POST' || req.url !== '/w/add-checkpoint') return answer(404);
      const split = body.indexOf('\n\n');
      if (split < 0) return answer(400);
      const [oldLine, ...proofText] = body.slice(0, split).split('\n');
      const m = /^old (0|[1-9][0-9]*)$/.exec(oldLine ?? '');
      const proof = proofText.map((l) => Buffer.from(l, 'base64'));
      if (!m || proof.length > 63 || proof.some((p, i) => p.length !== 32 || p.toString('base64') !== proofText[i])) return answer(400);
      old = Number(m[1]);
      proofLines = proof.length;
      let cp: ReturnType<typeof parseCheckpointText>;
      try {
        cp = parseCheckpointText(openNote(body.slice(split + 2), [this.trusted]).text);
      } catch (err) {
        if (err instanceof NoteError) return answer(403);
        throw err;
      }
      if (cp.origin !== this.trusted.name) return answer(404);
      if (old > cp.size) return answer(400);
      const known = this.latest.get(cp.origin) ?? { size: 0, root: EMPTY_ROOT };
      const conflict = () => answer(409, `${known.size}\n`, 'text/x.tlog.size');
      if (old !== known.size) return conflict();
      if (old === cp.size) {
        if (!cp.rootHash.equals(known.root)) return conflict();
      } else if (!verifyConsistency(old, cp.size, known.root, cp.rootHash, proof)) {
        return answer(422);
      }
      this.latest.set(cp.origin, { size: cp.size, root: cp.rootHash });
      this.cosigned.push({ origin: cp.origin, size: cp.size, root: cp.rootHash });
      // shaped like a cosignature (key id, timestamp, signature); nothing here checks it
      return answer(200, `— witness.test/w1 ${randomBytes(4 + 8 + 64).toString('base64')}\n`);
    })();
    this.requests.push({ old, proofLines, status });
  }
}

describe('HTTP witness (C2SP tlog-witness)', () => {
  const server = new TestWitness(signer.verifier);
  const tree = leaves(40);
  before(() => server.start());
  after(() => server.stop());

  test('first checkpoint, then a larger one with a consistency proof, then recovery from a 409', async () => {
    const client = new HttpWitness(server.url);
    assert.equal(client.description, `witness ${server.url}/add-checkpoint`);
    await client.send(checkpoint(tree, 5), proofs(tree, 5));
    assert.deepEqual(server.latest.get(ORIGIN), { size: 5, root: rootOf(tree.slice(0, 5)) });
    assert.equal(client.lastCosignatures.length, 1);
    assert.match(client.lastCosignatures[0]!, /^— witness\.test\/w1 \S+\n$/);
    assert.deepEqual(server.requests.at(-1), { old: 0, proofLines: 0, status: 200 });

    await client.send(checkpoint(tree, 13), proofs(tree, 13));
    assert.equal(server.latest.get(ORIGIN)?.size, 13);
    assert.deepEqual(server.requests.at(-1), { old: 5, proofLines: consistencyRanges(5, 13).length, status: 200 });
    assert.ok(consistencyRanges(5, 13).length > 0);

    // a client that has not seen the witness (another process, a restart) starts from old 0
    const fresh = new HttpWitness(`${server.url}/`);
    const before = server.requests.length;
    await fresh.send(checkpoint(tree, 20), proofs(tree, 20));
    assert.deepEqual(server.requests.slice(before), [
      { old: 0, proofLines: 0, status: 409 },
      { old: 13, proofLines: consistencyRanges(13, 20).length, status: 200 },
    ]);
    assert.equal(server.latest.get(ORIGIN)?.size, 20);
    assert.deepEqual(
      server.cosigned.map((c) => c.size),
      [5, 13, 20],
    );

    // resending the size the witness holds needs no proof and is cosigned again
    await fresh.send(checkpoint(tree, 20), async () => assert.fail('no proof is needed'));
    assert.deepEqual(server.requests.at(-1), { old: 20, proofLines: 0, status: 200 });
  });

  test('a forked tree is refused (422), and so is a different root at the same size (409)', async () => {
    const size = server.latest.get(ORIGIN)!.size;
    const forked = leaves(40, 'fork', 3);
    const client = new HttpWitness(server.url);
    const err = await rejectsWith(client.send(checkpoint(forked, 30), proofs(forked, 30)), ErrorCodes.WITNESS_FAILED, /422.*rolled back or forked/);
    assert.ok(!err.message.includes(rootB64(forked, 30)), 'no note contents in the message');
    assert.equal(server.latest.get(ORIGIN)?.size, size, 'the witness kept its state');

    await rejectsWith(client.send(checkpoint(forked, size), proofs(forked, size)), ErrorCodes.WITNESS_FAILED, new RegExp(`different tree at size ${size}`));
    await rejectsWith(client.send(checkpoint(tree, size - 1), proofs(tree, size - 1)), ErrorCodes.WITNESS_FAILED, /larger than this checkpoint/);
  });

  test('a checkpoint signed by a key the witness does not trust gets 403', async () => {
    const other = new NoteSigner(ORIGIN, Buffer.alloc(32, 9));
    await rejectsWith(new HttpWitness(server.url).send(checkpoint(tree, 40, other), proofs(tree, 40)), ErrorCodes.WITNESS_FAILED, /403/);
  });

  test('a witness that does not answer times out; one that is not there fails', async () => {
    const silent = createHttpServer(() => undefined);
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const port = (silent.address() as AddressInfo).port;
    try {
      await rejectsWith(
        new HttpWitness(`http://127.0.0.1:${port}`, { timeoutMs: 200 }).send(checkpoint(tree, 1), proofs(tree, 1)),
        ErrorCodes.WITNESS_FAILED,
        /no answer within 0.2 s/,
      );
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
    await rejectsWith(new HttpWitness(`http://127.0.0.1:${port}`).send(checkpoint(tree, 1), proofs(tree, 1)), ErrorCodes.WITNESS_FAILED, /ECONNREFUSED/);
  });
});

/** PRI, version, timestamp, hostname, app, procid, msgid, SD ("-" or elements), MSG */
const RFC5424 = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: (.*))?$/s;

function checkCheckpointMessage(message: string, cp: WitnessedCheckpoint, tree: Buffer[]): void {
  const m = RFC5424.exec(message);
  assert.ok(m, 'an RFC 5424 message');
  assert.equal(Number(m[1]), 13 * 8 + 6);
  assert.match(m[2]!, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  assert.ok(Math.abs(Date.parse(m[2]!) - Date.now()) < 60_000);
  assert.deepEqual(m.slice(3, 8), ['vault.test', 'callvault', '-', 'checkpoint', '-']);
  assert.ok(!message.includes('\n'), 'one line');
  assert.deepEqual(JSON.parse(m[8]!), { origin: ORIGIN, size: cp.size, rootHash: rootB64(tree, cp.size), note: cp.note });
}

describe('syslog witness', () => {
  const tree = leaves(7);
  const cp = checkpoint(tree, 7);

  test('UDP: one RFC 5426 datagram holding the RFC 5424 message', async () => {
    const listener = createSocket('udp4');
    listener.bind(0, '127.0.0.1');
    await once(listener, 'listening');
    try {
      const received = once(listener, 'message');
      await new SyslogWitness(`syslog+udp://127.0.0.1:${listener.address().port}`, { hostname: 'vault.test' }).send(cp);
      const [datagram] = (await received) as [Buffer];
      checkCheckpointMessage(datagram.toString('utf8'), cp, tree);
    } finally {
      listener.close();
    }
  });

  /** a stream listener that hands back everything one connection sent */
  async function framedListener(make: (onConnection: (s: Socket) => void) => Server) {
    let resolveData!: (b: Buffer) => void;
    const data = new Promise<Buffer>((r) => (resolveData = r));
    const server = make((socket) => {
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => resolveData(Buffer.concat(chunks)));
      socket.on('error', () => undefined);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { server, port: (server.address() as AddressInfo).port, data };
  }

  function checkFrame(frame: Buffer): void {
    const space = frame.indexOf(0x20);
    const length = Number(frame.subarray(0, space).toString('ascii'));
    assert.match(frame.subarray(0, space).toString('ascii'), /^[1-9][0-9]*$/);
    assert.equal(frame.length - space - 1, length, 'the octet count is the message length in bytes');
    checkCheckpointMessage(frame.subarray(space + 1).toString('utf8'), cp, tree);
  }

  test('TCP: RFC 6587 octet-counting framing', async () => {
    const { server, port, data } = await framedListener((onConnection) => createNetServer(onConnection));
    try {
      await new SyslogWitness(`syslog+tcp://127.0.0.1:${port}`, { hostname: 'vault.test' }).send(cp);
      checkFrame(await data);
    } finally {
      server.close();
    }
  });

  test('TLS: RFC 5425, the same framing over a verified TLS connection', async () => {
    const { generate } = await import('selfsigned');
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    const { server, port, data } = await framedListener((onConnection) => createTlsServer({ key: pems.private, cert: pems.cert }, onConnection));
    try {
      // a collector whose certificate the system does not trust is refused
      await rejectsWith(new SyslogWitness(`syslog+tls://127.0.0.1:${port}`).send(cp), ErrorCodes.WITNESS_FAILED, /SELF_SIGNED|UNABLE_TO_VERIFY|self.signed/i);
      await new SyslogWitness(`syslog+tls://127.0.0.1:${port}`, { hostname: 'vault.test', ca: pems.cert }).send(cp);
      checkFrame(await data);
    } finally {
      server.close();
    }
  });

  test('a collector that is not there fails with CV_WITNESS_FAILED', async () => {
    const server = createNetServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    server.close();
    await once(server, 'close');
    await rejectsWith(new SyslogWitness(`syslog+tcp://127.0.0.1:${port}`).send(cp), ErrorCodes.WITNESS_FAILED, /ECONNREFUSED/);
  });
});

describe('RFC 5424 formatting', () => {
  test('SD-PARAM values escape ", \\ and ]; header fields are printable ASCII within their limits', () => {
    const line = formatSyslog({
      time: new Date('2024-05-06T07:08:09.010Z'),
      hostname: 'host name',
      appName: 'callvault',
      msgId: `a b${'x'.repeat(40)}`,
      severity: 3,
      structuredData: [{ id: SD_ID, params: { q: 'say "hi"', b: 'back\\slash', c: 'x]y', u: 'åäö' } }],
      message: '{"k":"v"}',
    });
    assert.equal(
      line,
      `<107>1 2024-05-06T07:08:09.010Z host_name callvault - a_b${'x'.repeat(29)} [callvault@32473 q="say \\"hi\\"" b="back\\\\slash" c="x\\]y" u="åäö"] {"k":"v"}`,
    );
    assert.equal(formatSyslog({ time: 'not a time', hostname: '', appName: 'callvault', msgId: '', severity: 0, message: '' }), '<104>1 - - callvault - - -');
    assert.throws(() => formatSyslog({ time: new Date(), hostname: 'h', appName: 'a', msgId: 'm', severity: 8, message: '' }), RangeError);
    assert.throws(() => formatSyslog({ time: new Date(), hostname: 'h', appName: 'a', msgId: 'm', severity: 6, message: 'two\nlines' }), TypeError);
    assert.throws(
      () => formatSyslog({ time: new Date(), hostname: 'h', appName: 'a', msgId: 'm', severity: 6, structuredData: [{ id: 'bad id', params: {} }], message: '' }),
      TypeError,
    );
  });

  const time = new Date('2024-05-06T07:08:09.010Z');
  function stored(index: number, event: EncodableEvent): StoredEntry {
    const entry = encodeEntry(event, time);
    return { index, entry, leafHash: leafHash(entry) };
  }

  test('an audit entry as syslog: MSGID the action, severity from the outcome, SD with index and leaf hash, MSG the canonical bytes', () => {
    const actor = { type: 'user' as const, id: 'u1', name: 'anna "the admin"' };
    const cases: [AuditEvent, number][] = [
      [{ action: 'recording.play', outcome: 'success', actor, recordingId: 'r1' }, 6],
      [{ action: 'recording.play', outcome: 'denied', actor }, 5],
      [{ action: 'auth.signin', outcome: 'failure', actor }, 4],
      [{ action: 'recording.play', outcome: 'success', actor, breakGlassId: 'bg1' }, 4],
    ];
    for (const [i, [event, severity]] of cases.entries()) {
      const entry = stored(41 + i, event);
      const m = RFC5424.exec(auditEntrySyslog(entry, 'vault.test'));
      assert.ok(m);
      assert.equal(Number(m[1]), 13 * 8 + severity, `${event.outcome} ${event.breakGlassId ?? ''}`);
      assert.deepEqual(m.slice(2, 8), [
        '2024-05-06T07:08:09.010Z',
        'vault.test',
        'callvault',
        '-',
        event.action,
        `[callvault@32473 index="${41 + i}" leafHash="${entry.leafHash.toString('base64')}"]`,
      ]);
      assert.equal(m[8], entry.entry.toString('utf8'));
      assert.ok(leafHash(Buffer.from(m[8]!, 'utf8')).equals(entry.leafHash), 'the MSG re-hashes to the leaf');
    }
  });

  test('an audit entry as a JSON line', () => {
    const entry = stored(7, { action: 'recording.export', outcome: 'success', actor: { type: 'cli', name: 'ops' }, detail: { '1': 'a', b: 2 } });
    const line = auditEntryJsonLine(entry);
    assert.ok(!line.includes('\n'));
    const parsed = JSON.parse(line);
    assert.deepEqual(Object.keys(parsed), ['index', 'entry', 'leafHash', 'event']);
    assert.equal(parsed.index, 7);
    assert.ok(Buffer.from(parsed.entry, 'base64').equals(entry.entry));
    assert.equal(parsed.leafHash, entry.leafHash.toString('base64'));
    assert.deepEqual(parsed.event, JSON.parse(entry.entry.toString('utf8')));
    assert.ok(line.endsWith(`"event":${entry.entry.toString('utf8')}}`), 'the event is the canonical text itself');
  });
});

describe('witness specs', () => {
  test('accepted forms', () => {
    const file = parseWitness('file:/var/lib/witness/checkpoints.txt');
    assert.ok(file instanceof FileWitness);
    assert.equal(file.description, 'file /var/lib/witness/checkpoints.txt');
    const http = parseWitness(' https://witness.example/prefix/?token=secret ');
    assert.ok(http instanceof HttpWitness);
    assert.equal(http.description, 'witness https://witness.example/prefix/add-checkpoint');
    assert.ok(parseWitness('http://127.0.0.1:8080') instanceof HttpWitness);
    const udp = parseWitness('syslog+udp://siem.example');
    assert.ok(udp instanceof SyslogWitness);
    assert.deepEqual([udp.transport, udp.host, udp.port], ['udp', 'siem.example', 514]);
    const tcp = parseWitness('syslog+tcp://[::1]:1514') as SyslogWitness;
    assert.deepEqual([tcp.transport, tcp.host, tcp.port], ['tcp', '::1', 1514]);
    const tls = parseWitness('syslog+tls://siem.example') as SyslogWitness;
    assert.deepEqual([tls.transport, tls.port], ['tls', 6514]);

    assert.deepEqual(parseWitnesses(undefined), []);
    assert.deepEqual(parseWitnesses(' '), []);
    assert.deepEqual(
      parseWitnesses('file:/tmp/a.txt, syslog+udp://127.0.0.1:514,').map((w) => w.description),
      ['file /tmp/a.txt', 'syslog udp 127.0.0.1:514'],
    );
  });

  test('rejected forms are CV_USAGE listing what is accepted, without echoing the spec', () => {
    for (const spec of ['ftp://user:secret@host/x', 'checkpoints.txt', 'file:', 'syslog+tcp://host', 'syslog+udp://host/path', 'https://user:secret@witness.example']) {
      assert.throws(
        () => parseWitness(spec),
        (err: unknown) => err instanceof CallvaultError && err.code === ErrorCodes.USAGE && !err.message.includes('secret'),
        spec,
      );
    }
    assert.throws(
      () => parseWitness('ftp://host'),
      /file:PATH, https:\/\/HOST\/PREFIX .*syslog\+udp:\/\/HOST:PORT, syslog\+tcp:\/\/HOST:PORT or syslog\+tls:\/\/HOST:PORT \(not ftp:\)/,
    );
  });
});
