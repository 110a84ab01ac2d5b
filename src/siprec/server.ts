/**
 * The SIPREC recording server (RFC 7866 SRS): SIP over UDP, TCP and TLS (mutual TLS with the SBC's
 * certificate), one RTP port per m-line, each call handed to SiprecService, which stores it through
 * the ingest path. The server answers; it never starts a dialog.
 *
 * What it does per request: INVITE (a new recording session: 100, then 200 with an SDP answer,
 * a=recvonly per m-line, or 403 for an SBC the configuration does not name, 488 for an INVITE that
 * is not SIPREC, 5xx when the vault cannot record), re-INVITE and UPDATE (changed metadata, a=inactive
 * to pause), ACK, BYE, CANCEL (487 to the INVITE when it is not answered yet), OPTIONS (health
 * checks). A UDP retransmission of a request gets the answer sent before (RFC 3261 §17.2).
 * Logs carry the call's recording id and counts only, never an address of record or a number.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, isIP, type Server, type Socket as NetSocket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import * as sdpTransform from 'sdp-transform';
import { ProtectionProfileAes128CmHmacSha1_80, RtpPacket, SrtpSession } from 'werift-rtp';
import { CallvaultError, ErrorCodes, isCallvaultError } from '../errors.js';
import type { LiveCallFields } from '../recordings/sealed-metadata.js';
import type { LiveCall, SiprecService } from '../services/siprec.js';
import type { MediaCodec, RecordingRate } from './recorder.js';
import { branchOf, header, headerParam, parseSipMessage, responseTo, SipStreamFramer, type SipMessage, type SipRequest } from './sip.js';
import { callFacts, participantPhone } from './facts.js';
import { mapCall, type SiprecMapping } from './mapping.js';
import { mergeMetadata } from './metadata.js';
import { parseSiprecBody } from './multipart.js';
import type { RecordingSessionMetadata, SbcIdentity, SiprecOffer } from './types.js';

export interface SiprecServerOptions {
  host: string;
  sipPort: number;
  /** mutual TLS: the SBC presents a certificate signed by `ca` */
  tls?: { port: number; cert: Buffer; key: Buffer; ca: Buffer };
  /** the first and last RTP port (inclusive); one port per m-line */
  rtpPorts: [number, number];
  /** the address put in the SDP answer and Contact; default: the listen address, or this host's first */
  advertise?: string;
  /** what an INVITE gets when the vault cannot record: 503 with Retry-After (the SBC tries another recorder) or 500 */
  failStatus: 500 | 503;
  retryAfterSeconds: number;
  /** a call that has had no RTP (on a stream not paused) and no request for this long is ended as at a BYE: its BYE was lost, or its SBC died */
  mediaTimeoutSeconds: number;
  /** the `siprec` section of config.json, parsed (src/siprec/mapping.ts) */
  sbcs: SiprecMapping;
  /** one line per session event, without identifiers */
  log?: (line: string) => void;
}

type Send = (data: Buffer) => void;

interface Media {
  label: string;
  socket: Socket;
  port: number;
  channel: number;
  /** SRTP with SDES keys (RFC 4568): the SBC's key decrypts; the answer's a=crypto line carries ours */
  srtp?: { session: SrtpSession; answer: string };
  /**
   * The address the offer says the stream comes from: plain RTP from any other is dropped, so that
   * nobody who can reach the port can put audio into a recorded call (SRTP authenticates itself).
   */
  source?: string;
}

/** an SDP connection address that names one host; a hostname, 0.0.0.0 or :: names none */
function mediaSource(address: string | undefined): string | undefined {
  return address && isIP(address) && address !== '0.0.0.0' && address !== '::' ? address : undefined;
}

/** the SDES suite accepted: the one every SBC offers */
const SDES_SUITE = 'AES_CM_128_HMAC_SHA1_80';

interface Dialog {
  callId: string;
  toTag: string;
  state: 'starting' | 'active' | 'cancelled' | 'ended';
  call?: LiveCall;
  invite: SipRequest;
  inviteSend: Send;
  media: Media[];
  metadata?: RecordingSessionMetadata;
  sdpVersion: number;
  /** when the call last had an RTP packet or a request (ms since the epoch) */
  lastHeard: number;
  /** every stream paused (a=inactive): silence is expected, and no timeout runs */
  paused: boolean;
}

const TICK_MS = 50;
/** how long a transaction's answer is kept for retransmissions (64 × T1) */
const TRANSACTION_MS = 32_000;
const ALLOW = 'INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE';

export class SiprecServer {
  readonly #dialogs = new Map<string, Dialog>();
  readonly #transactions = new Map<string, { response?: Buffer; at: number }>();
  readonly #rtpInUse = new Set<number>();
  #udp: Socket | undefined;
  #tcp: Server | undefined;
  #tls: Server | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #advertise: string;

  constructor(
    private readonly service: SiprecService,
    private readonly opts: SiprecServerOptions,
  ) {
    this.#advertise = opts.advertise ?? (opts.host !== '0.0.0.0' && opts.host !== '::' ? opts.host : firstAddress());
  }

  async start(): Promise<{ sipPort: number; tlsPort?: number }> {
    const udp = createSocket('udp4');
    this.#udp = udp;
    udp.on('message', (data, rinfo) => {
      this.#receive(data, { address: rinfo.address, transport: 'udp' }, (out) => udp.send(out, rinfo.port, rinfo.address));
    });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(this.opts.sipPort, this.opts.host, () => resolve());
    });
    const sipPort = udp.address().port;
    this.#tcp = createServer((conn) => this.#stream(conn, { address: conn.remoteAddress ?? '', transport: 'tcp' }));
    await listen(this.#tcp, sipPort, this.opts.host);
    let tlsPort: number | undefined;
    if (this.opts.tls) {
      const { cert, key, ca, port } = this.opts.tls;
      this.#tls = createTlsServer({ cert, key, ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' }, (conn) => {
        const peer = conn.getPeerCertificate();
        const sans = (peer.subjectaltname ?? '').split(',').map((s) => s.trim().replace(/^(DNS|IP Address):/, ''));
        this.#stream(conn, { address: conn.remoteAddress ?? '', transport: 'tls', certificateCn: peer.subject?.CN as string | undefined, certificateSans: sans });
      });
      await listen(this.#tls, port, this.opts.host);
      tlsPort = (this.#tls.address() as { port: number }).port;
    }
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    return { sipPort, ...(tlsPort ? { tlsPort } : {}) };
  }

  /** stops listening; calls in progress are ended as at a BYE, so what was received is stored */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#udp?.close();
    this.#tcp?.close();
    this.#tls?.close();
    await Promise.allSettled([...this.#dialogs.values()].map((d) => this.#end(d)));
  }

  get activeCalls(): number {
    return [...this.#dialogs.values()].filter((d) => d.state === 'active').length;
  }

  #stream(conn: NetSocket | TLSSocket, peer: SbcIdentity): void {
    const framer = new SipStreamFramer();
    conn.on('error', () => conn.destroy());
    conn.on('data', (chunk: Buffer) => {
      let messages: Buffer[];
      try {
        messages = framer.push(chunk);
      } catch {
        conn.destroy();
        return;
      }
      for (const m of messages) this.#receive(m, peer, (out) => conn.write(out));
    });
  }

  #receive(data: Buffer, peer: SbcIdentity, send: Send): void {
    // keep-alives (RFC 5626 double CRLF) and stray datagrams
    if (data.length < 16) return;
    let msg: SipMessage;
    try {
      msg = parseSipMessage(data);
    } catch {
      return;
    }
    if (msg.kind === 'response') return;
    const key = `${branchOf(msg)}\0${msg.method}`;
    if (peer.transport === 'udp' && msg.method !== 'ACK') {
      const known = this.#transactions.get(key);
      if (known) {
        if (known.response) send(known.response);
        return;
      }
      this.#transactions.set(key, { at: Date.now() });
    }
    const reply: Send = (out) => {
      const t = this.#transactions.get(key);
      if (t) t.response = out;
      send(out);
    };
    this.#handle(msg, peer, reply).catch((err: unknown) => {
      this.#log(`request failed: ${isCallvaultError(err) ? err.code : 'error'}`);
      reply(responseTo(msg, 500, 'Server Internal Error'));
    });
  }

  async #handle(req: SipRequest, peer: SbcIdentity, reply: Send): Promise<void> {
    const callId = header(req, 'call-id')!;
    const dialog = this.#dialogs.get(callId);
    if (dialog) dialog.lastHeard = Date.now();
    const toTag = headerParam(header(req, 'to'), 'tag');
    switch (req.method) {
      case 'OPTIONS':
        reply(
          responseTo(req, 200, 'OK', {
            headers: [
              ['Allow', ALLOW],
              ['Accept', 'application/sdp, multipart/mixed'],
              ['Supported', 'siprec'],
            ],
          }),
        );
        return;
      case 'ACK':
        return;
      case 'INVITE':
        if (!toTag) return this.#invite(req, peer, reply);
        if (!dialog || dialog.toTag !== toTag) return reply(responseTo(req, 481, 'Call/Transaction Does Not Exist'));
        return this.#reinvite(dialog, req, reply);
      case 'UPDATE':
        if (!dialog || dialog.toTag !== toTag) return reply(responseTo(req, 481, 'Call/Transaction Does Not Exist'));
        return this.#reinvite(dialog, req, reply);
      case 'CANCEL':
        if (!dialog) return reply(responseTo(req, 481, 'Call/Transaction Does Not Exist'));
        reply(responseTo(req, 200, 'OK', { toTag: dialog.toTag }));
        if (dialog.state === 'starting') {
          dialog.state = 'cancelled';
          dialog.inviteSend(responseTo(dialog.invite, 487, 'Request Terminated', { toTag: dialog.toTag }));
        }
        return;
      case 'BYE':
        if (!dialog || dialog.toTag !== toTag) return reply(responseTo(req, 481, 'Call/Transaction Does Not Exist'));
        reply(responseTo(req, 200, 'OK'));
        await this.#end(dialog);
        return;
      default:
        reply(responseTo(req, 501, 'Not Implemented', { headers: [['Allow', ALLOW]] }));
    }
  }

  async #invite(req: SipRequest, peer: SbcIdentity, reply: Send): Promise<void> {
    const callId = header(req, 'call-id')!;
    if (this.#dialogs.has(callId)) return reply(responseTo(req, 482, 'Loop Detected'));
    const toTag = randomBytes(8).toString('hex');
    reply(responseTo(req, 100, 'Trying'));
    const contact = header(req, 'contact') ?? '';
    const requires = req.headers.get('require') ?? [];
    if (!/[;\s]\+sip\.src\b/i.test(contact) && !requires.some((r) => r.toLowerCase() === 'siprec')) {
      return reply(responseTo(req, 488, 'Not Acceptable Here', { toTag, headers: [['Warning', '399 callvault "a recording server accepts SIPREC sessions only"']] }));
    }
    let offer: SiprecOffer;
    try {
      offer = parseSiprecBody(header(req, 'content-type'), req.body);
    } catch {
      return reply(responseTo(req, 400, 'Bad Request', { toTag }));
    }
    let mapping: ReturnType<typeof mapCall>;
    try {
      mapping = mapCall(this.opts.sbcs, peer, offer.metadata);
    } catch (err) {
      if (!isCallvaultError(err, ErrorCodes.FORBIDDEN)) throw err;
      await this.service.refuse('unknown-sbc').catch(() => undefined);
      this.#log('session refused: unknown session border controller');
      return reply(responseTo(req, 403, 'Forbidden', { toTag }));
    }
    const sdp = sdpTransform.parse(offer.sdp);
    const audio = sdp.media.map((m, i) => ({ m, i })).filter(({ m }) => m.type === 'audio' && m.port !== 0);
    const labels = audio.map(({ m, i }) => String(m.label ?? `m${i}`));
    if (audio.length === 0 || new Set(labels).size !== labels.length) return reply(responseTo(req, 488, 'Not Acceptable Here', { toTag }));
    // SRTP keys travel in the SDP: accepted over TLS only, where they are not readable on the way
    const keys = audio.map(({ m }) => (/SAVP/.test(m.protocol) ? sdesKey(m) : null));
    if (keys.some((k) => k === undefined) || (keys.some((k) => k) && peer.transport !== 'tls')) {
      return reply(responseTo(req, 488, 'Not Acceptable Here', { toTag, headers: [['Warning', '399 callvault "SRTP needs SDES AES_CM_128_HMAC_SHA1_80 over TLS"']] }));
    }
    const dialog: Dialog = {
      callId,
      toTag,
      state: 'starting',
      invite: req,
      inviteSend: reply,
      media: [],
      metadata: offer.metadata,
      sdpVersion: 1,
      lastHeard: Date.now(),
      paused: false,
    };
    this.#dialogs.set(callId, dialog);
    try {
      for (const [channel, label] of labels.entries()) dialog.media.push(await this.#openMedia(dialog, label, channel, keys[channel] ?? undefined));
    } catch {
      this.#close(dialog);
      return reply(responseTo(req, 503, 'Service Unavailable', { toTag, headers: [['Retry-After', String(this.opts.retryAfterSeconds)]] }));
    }
    let facts: ReturnType<typeof callFacts>;
    try {
      facts = callFacts(offer.metadata, offer.sdp, mapping);
    } catch {
      this.#close(dialog);
      return reply(responseTo(req, 488, 'Not Acceptable Here', { toTag }));
    }
    let call: LiveCall;
    try {
      call = await this.service.begin({
        sbc: mapping.sbc,
        mapping,
        labels,
        sampleRate: recordingRate(audio.map(({ m }) => m)),
        ...(facts.caller ? { caller: facts.caller } : {}),
        ...(facts.callee ? { callee: facts.callee } : {}),
        ...(facts.startedAt ? { startedAt: facts.startedAt } : {}),
        ...(facts.direction ? { direction: facts.direction } : {}),
        participants: participantsOf(offer.metadata),
      });
    } catch (err) {
      this.#close(dialog);
      this.#log(`session not recorded: ${isCallvaultError(err) ? err.code : 'error'}`);
      if (dialog.state === 'cancelled') return;
      const status = this.opts.failStatus;
      return reply(
        responseTo(req, status, status === 503 ? 'Service Unavailable' : 'Server Internal Error', {
          toTag,
          headers: status === 503 ? [['Retry-After', String(this.opts.retryAfterSeconds)]] : [],
        }),
      );
    }
    dialog.call = call;
    if (dialog.state === 'cancelled') {
      this.#close(dialog);
      await call.cancel('cancelled');
      return;
    }
    for (const { m } of audio) this.#setPayloads(dialog, m, sdp.connection?.ip);
    dialog.state = 'active';
    reply(this.#answer(req, dialog, sdp));
  }

  async #reinvite(dialog: Dialog, req: SipRequest, reply: Send): Promise<void> {
    if (dialog.state !== 'active') return reply(responseTo(req, 491, 'Request Pending'));
    if (req.body.length === 0) return reply(this.#answer(req, dialog, undefined));
    let offer: SiprecOffer;
    try {
      offer = parseSiprecBody(header(req, 'content-type'), req.body);
    } catch {
      return reply(responseTo(req, 400, 'Bad Request'));
    }
    if (offer.metadata) {
      try {
        dialog.metadata = mergeMetadata(dialog.metadata, offer.metadata);
        dialog.call?.update(participantsOf(dialog.metadata), callFacts(dialog.metadata, offer.sdp).callee);
      } catch {
        return reply(responseTo(req, 400, 'Bad Request'));
      }
    }
    const sdp = sdpTransform.parse(offer.sdp);
    for (const m of sdp.media) this.#setPayloads(dialog, m, sdp.connection?.ip);
    dialog.paused = sdp.media.every((m) => m.direction === 'inactive' || m.port === 0);
    dialog.sdpVersion += 1;
    reply(this.#answer(req, dialog, sdp));
  }

  /** the 200 OK with the SDP answer: each known m-line recvonly (or inactive when offered so), others refused with port 0 */
  #answer(req: SipRequest, dialog: Dialog, offer: sdpTransform.SessionDescription | undefined): Buffer {
    const lines = ['v=0', `o=callvault 1 ${dialog.sdpVersion} IN IP4 ${this.#advertise}`, 's=callvault SIPREC', `c=IN IP4 ${this.#advertise}`, 't=0 0'];
    const media =
      offer?.media ??
      dialog.media.map(
        (d) =>
          ({
            type: 'audio',
            port: 1,
            protocol: 'RTP/AVP',
            payloads: Object.keys(STATIC).join(' '),
            label: d.label,
            direction: 'sendonly',
            rtp: [],
          }) as unknown as sdpTransform.MediaDescription,
      );
    for (const [i, m] of media.entries()) {
      const label = String(m.label ?? `m${i}`);
      const ours = dialog.media.find((d) => d.label === label);
      const accepted = acceptedPayloads(m);
      if (!ours || m.type !== 'audio' || accepted.length === 0) {
        lines.push(`m=${m.type} 0 ${m.protocol} ${String(m.payloads ?? '0').split(' ')[0]}`);
        continue;
      }
      lines.push(`m=audio ${ours.port} ${m.protocol} ${accepted.map((a) => a.payload).join(' ')}`);
      for (const a of accepted) lines.push(`a=rtpmap:${a.payload} ${a.name}/${a.rate}`);
      if (ours.srtp) lines.push(ours.srtp.answer);
      lines.push(`a=label:${label}`, m.direction === 'inactive' ? 'a=inactive' : 'a=recvonly');
    }
    const body = Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8');
    const transport = headerParam(header(req, 'via'), 'transport') ?? '';
    const contactUri = `sip:srs@${this.#advertise}:${this.opts.sipPort}`;
    return responseTo(req, 200, 'OK', {
      toTag: dialog.toTag,
      headers: [
        ['Contact', `<${contactUri}${/tls/i.test(header(req, 'via') ?? '') ? ';transport=tls' : transport ? '' : ''}>`],
        ['Allow', ALLOW],
        ['Supported', 'siprec'],
      ],
      body: { type: 'application/sdp', data: body },
    });
  }

  /** what an offer's m-line says of its stream: the payload types it sends, and from where */
  #setPayloads(dialog: Dialog, m: sdpTransform.MediaDescription, sessionAddress: string | undefined): void {
    const ours = dialog.media.find((d) => d.label === String(m.label ?? ''));
    if (!ours || !dialog.call) return;
    ours.source = mediaSource(m.connection?.ip ?? sessionAddress);
    const payloads = new Map<number, MediaCodec>();
    for (const a of acceptedPayloads(m)) payloads.set(a.payload, a.codec);
    dialog.call.recorder.setPayloads(ours.channel, payloads);
  }

  async #openMedia(dialog: Dialog, label: string, channel: number, remote?: { tag: number; key: Buffer }): Promise<Media> {
    let srtp: Media['srtp'];
    if (remote) {
      const local = randomBytes(30);
      const session = new SrtpSession({
        keys: {
          localMasterKey: local.subarray(0, 16),
          localMasterSalt: local.subarray(16),
          remoteMasterKey: remote.key.subarray(0, 16),
          remoteMasterSalt: remote.key.subarray(16),
        },
        profile: ProtectionProfileAes128CmHmacSha1_80,
      });
      srtp = { session, answer: `a=crypto:${remote.tag} ${SDES_SUITE} inline:${local.toString('base64')}` };
    }
    const [first, last] = this.opts.rtpPorts;
    for (let port = first + (first % 2); port <= last; port += 2) {
      if (this.#rtpInUse.has(port)) continue;
      this.#rtpInUse.add(port);
      const socket = createSocket('udp4');
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('error', reject);
          socket.bind(port, this.opts.host, () => resolve());
        });
      } catch {
        socket.close();
        continue;
      }
      socket.on('error', () => undefined);
      const media: Media = { label, socket, port, channel, ...(srtp ? { srtp } : {}) };
      socket.on('message', (data, from) => {
        if (dialog.state !== 'active' || !dialog.call) return;
        if (!srtp && media.source && from.address !== media.source) return;
        dialog.lastHeard = Date.now();
        let packet: RtpPacket;
        try {
          // an SRTP packet that does not authenticate is dropped (and counted lost by its gap)
          packet = RtpPacket.deSerialize(srtp ? srtp.session.decrypt(data) : data);
        } catch {
          return;
        }
        if (packet.header.version !== 2) return;
        dialog.call.recorder.packet(channel, {
          payloadType: packet.header.payloadType,
          sequenceNumber: packet.header.sequenceNumber,
          timestamp: packet.header.timestamp,
          payload: packet.payload,
        });
      });
      return media;
    }
    throw new CallvaultError(ErrorCodes.STORAGE_UNAVAILABLE, 'no RTP port is free');
  }

  async #end(dialog: Dialog): Promise<void> {
    if (dialog.state === 'ended') return;
    const wasActive = dialog.state === 'active';
    dialog.state = 'ended';
    this.#close(dialog);
    if (!wasActive || !dialog.call) return;
    const byeAt = performance.now();
    try {
      const outcome = await dialog.call.finish();
      const storedMs = Math.round(performance.now() - byeAt);
      this.#log(`session recorded: ${outcome.recordingId} ${outcome.durationMs} ms, ${outcome.lost} packets lost, stored ${storedMs} ms after the BYE`);
    } catch (err) {
      this.#log(`session not stored: ${isCallvaultError(err) ? err.code : 'error'}`);
    }
  }

  #close(dialog: Dialog): void {
    for (const m of dialog.media) {
      m.socket.close();
      this.#rtpInUse.delete(m.port);
    }
    dialog.media = dialog.state === 'ended' || dialog.state === 'cancelled' ? [] : dialog.media;
    this.#dialogs.delete(dialog.callId);
  }

  #tick(): void {
    // after the poll phase: datagrams that queued while the event loop was busy are placed first,
    // rather than found late by a window written out before them
    setImmediate(() => {
      const silentSince = Date.now() - this.opts.mediaTimeoutSeconds * 1000;
      for (const d of this.#dialogs.values()) {
        if (d.state !== 'active') continue;
        if (!d.paused && d.lastHeard < silentSince) {
          this.#log('session ended: no media within the media timeout');
          void this.#end(d);
          continue;
        }
        d.call?.recorder.tick();
      }
    });
    const old = Date.now() - TRANSACTION_MS;
    for (const [k, t] of this.#transactions) if (t.at < old) this.#transactions.delete(k);
  }

  #log(line: string): void {
    this.opts.log?.(line);
  }
}

const CODECS: Record<string, MediaCodec> = { pcmu: 'pcmu', pcma: 'pcma', g722: 'g722', 'telephone-event': 'telephone-event' };
/** RFC 3551's static payload types; G.722's clock rate is 8000 there although it samples at 16 kHz */
const STATIC: Record<number, { name: string; codec: MediaCodec }> = {
  0: { name: 'PCMU', codec: 'pcmu' },
  8: { name: 'PCMA', codec: 'pcma' },
  9: { name: 'G722', codec: 'g722' },
};

/**
 * The recording's sample rate, fixed when the call starts (the WAV header is written first): 16 kHz
 * when an m-line's chosen codec is G.722, its chosen codec being the first audio codec it offers
 * that this server decodes (the offer lists codecs in the SBC's order of preference, RFC 3264 §5.1).
 * Whatever codec a stream sends later is converted to that rate (src/siprec/recorder.ts).
 */
function recordingRate(media: sdpTransform.MediaDescription[]): RecordingRate {
  const chosen = media.map((m) => acceptedPayloads(m).find((a) => a.codec !== 'telephone-event')?.codec);
  return chosen.includes('g722') ? 16000 : 8000;
}

/** the offered payload types this server decodes: G.711 µ-law and A-law, G.722, and telephone-event */
function acceptedPayloads(m: sdpTransform.MediaDescription): { payload: number; name: string; rate: number; codec: MediaCodec }[] {
  const out: { payload: number; name: string; rate: number; codec: MediaCodec }[] = [];
  for (const p of String(m.payloads ?? '')
    .split(' ')
    .filter(Boolean)
    .map(Number)) {
    const map = m.rtp?.find((r) => r.payload === p);
    const codec = map ? CODECS[map.codec.toLowerCase()] : STATIC[p]?.codec;
    if (!codec || (map && map.rate !== 8000)) continue;
    out.push({ payload: p, name: map?.codec ?? STATIC[p]!.name, rate: 8000, codec });
  }
  return out;
}

function participantsOf(metadata: RecordingSessionMetadata | undefined): LiveCallFields['participants'] {
  if (!metadata) return [];
  return metadata.participants.map((p) => {
    const first = p.nameIds[0];
    const aor = first?.aor ?? '';
    const labels = p.sends.map((id) => metadata.streams.find((s) => s.id === id)?.label).filter((l): l is string => Boolean(l));
    const phone = participantPhone(p);
    return { aor, ...(first?.name ? { name: first.name } : {}), ...(phone ? { phone } : {}), labels };
  });
}

/** the SBC's SDES key of an RTP/SAVP m-line: undefined when it offers no suite this server takes */
function sdesKey(m: sdpTransform.MediaDescription): { tag: number; key: Buffer } | undefined {
  for (const c of m.crypto ?? []) {
    if (c.suite !== SDES_SUITE) continue;
    const inline = /^inline:([A-Za-z0-9+/=]+)/.exec(c.config)?.[1];
    const key = inline ? Buffer.from(inline, 'base64') : undefined;
    if (key?.length === 30) return { tag: c.id, key };
  }
  return undefined;
}

function firstAddress(): string {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
}
