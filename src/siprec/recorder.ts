/**
 * One live call's audio: RTP packets of each stream in, a WAV (16-bit PCM at 8 or 16 kHz, one
 * channel per stream, in the order of the SDP's m-lines) out as a Readable, which the ingest path encrypts
 * segment by segment (src/services/ingest.ts). Memory is bounded per call: a window of a few
 * seconds per channel, and what the encryptor has not taken yet (MAX_BUFFERED).
 *
 * Each stream's packets are placed by their RTP timestamp at a position on the call's clock, so a
 * packet that arrives late or twice lands where it belongs (the jitter buffer); a position that
 * nothing filled when the clock passes it is silence, which is what a lost packet or a paused
 * stream (a=inactive) becomes. The window is written out JITTER_MS behind the wall clock.
 *
 * The WAV header is written first, before the length is known: its RIFF and data sizes are
 * 0xFFFFFFFF, the "still recording" value that ffmpeg, browsers and callvault's own probe read as
 * "the data runs to the end" (src/audio/probe.ts, sizeFromFileEnd). The exact length is in the
 * recording's row (duration_ms, plaintext_size).
 */
import { Readable } from 'node:stream';
import { CallvaultError, ErrorCodes } from '../errors.js';
import { decodeG711 } from './g711.js';
import { G722Decoder } from './g722.js';

/**
 * The recording's sample rate: 16 kHz when a stream's codec is G.722 (wideband), else 8 kHz. Every
 * codec is converted to it: G.711 at 16 kHz by linear interpolation, G.722 at 8 kHz by its lower
 * sub-band alone (src/siprec/g722.ts).
 */
export type RecordingRate = 8000 | 16000;
/** the RTP clock of every codec recorded: G.711's, and G.722's too although it samples at 16 kHz (RFC 3551 §4.5.2) */
const RTP_CLOCK = 8000;
/** how far behind the wall clock the window is written out: the longest delay a packet may have */
export const JITTER_MS = 300;
/** the window per channel: packets further ahead than this force the window forward */
const WINDOW_SECONDS = 4;
/** a stream whose timestamps stray further than this from the wall clock is re-anchored (a new source, a restart after a pause) */
const RESYNC_SECONDS = 2;
/** what the encryptor may lag behind before the call is failed rather than memory grow */
const MAX_BUFFERED = 8 * 1024 * 1024;
/** packets remembered per stream to tell a duplicate from a new packet */
const SEQ_WINDOW = 1024;

export type MediaCodec = 'pcmu' | 'pcma' | 'g722' | 'telephone-event';

export interface StreamStats {
  label: string;
  codec: string;
  received: number;
  lost: number;
  duplicates: number;
  late: number;
  telephoneEvents: number;
}

/** one code in, its samples out: the scratch of G.722's in-order decoding */
const CODE = new Uint8Array(1);
const PCM = new Int16Array(2);

class Channel {
  readonly ring: Int16Array;
  /**
   * G.722 codes placed in the window but not decoded yet, at the ring slot of their first sample:
   * ADPCM decodes in order, so codes are decoded as the window is written out (decodeTo)
   */
  g722: { decoder: G722Decoder; codes: Uint8Array; pending: Uint8Array } | undefined;
  /** payload type → codec, from the SDP */
  payloads = new Map<number, MediaCodec>();
  codec = '';
  anchor: { ts: number; pos: number } | undefined;
  lastTs = 0;
  /** the extended (32-bit wrap-free) sequence numbers seen recently: a bitmap modulo SEQ_WINDOW */
  readonly seen = new Uint8Array(SEQ_WINDOW);
  firstSeq: number | undefined;
  highestSeq = 0;
  received = 0;
  duplicates = 0;
  late = 0;
  telephoneEvents = 0;

  constructor(
    readonly label: string,
    window: number,
  ) {
    this.ring = new Int16Array(window);
  }

  /** places a G.722 packet's codes from `pos`, each at the slot of its first sample */
  placeG722(payload: Uint8Array, pos: number, sampleRate: RecordingRate): void {
    const window = this.ring.length;
    this.g722 ??= { decoder: new G722Decoder(sampleRate), codes: new Uint8Array(window), pending: new Uint8Array(window) };
    const step = this.g722.decoder.samplesPerByte;
    for (let i = 0; i < payload.length; i++) {
      const slot = (pos + i * step) % window;
      this.g722.codes[slot] = payload[i]!;
      this.g722.pending[slot] = 1;
    }
  }

  /** writes G.711 samples from `pos`; at 16 kHz each is followed by the mean of it and the next (the packet's last: itself again) */
  placePcm(samples: Int16Array, pos: number, step: number): void {
    const window = this.ring.length;
    for (let i = 0; i < samples.length; i++) {
      const x = samples[i]!;
      const slot = (pos + i * step) % window;
      this.ring[slot] = x;
      if (step === 2) this.ring[(slot + 1) % window] = i + 1 < samples.length ? (x + samples[i + 1]!) >> 1 : x;
      // a G.722 code placed here before (the stream changed codec) is overwritten
      if (this.g722) for (let j = 0; j < step; j++) this.g722.pending[(slot + j) % window] = 0;
    }
  }

  /** decodes, in order, the G.722 codes placed in the `n` slots from `from` */
  decodeTo(from: number, n: number): void {
    if (!this.g722) return;
    const { decoder, codes, pending } = this.g722;
    const window = this.ring.length;
    for (let i = 0; i < n; i++) {
      const slot = (from + i) % window;
      if (!pending[slot]) continue;
      pending[slot] = 0;
      CODE[0] = codes[slot]!;
      const k = decoder.decode(CODE, PCM, 0);
      for (let j = 0; j < k; j++) this.ring[(slot + j) % window] = PCM[j]!;
    }
  }

  /** extends a 16-bit sequence number to the one nearest the highest seen */
  extendSeq(seq: number): number {
    if (this.firstSeq === undefined) return seq;
    const delta = ((seq - (this.highestSeq & 0xffff) + 0x8000) & 0xffff) - 0x8000;
    return this.highestSeq + delta;
  }

  /** extends a 32-bit timestamp to the one nearest the last seen */
  extendTs(ts: number): number {
    if (!this.anchor) return ts;
    const delta = ((ts - (this.lastTs >>> 0)) | 0) >>> 0;
    return this.lastTs + (delta >= 0x80000000 ? delta - 0x100000000 : delta);
  }

  stats(): StreamStats {
    const expected = this.firstSeq === undefined ? 0 : this.highestSeq - this.firstSeq + 1;
    return {
      label: this.label,
      codec: this.codec,
      received: this.received,
      lost: Math.max(0, expected - this.received) + this.late,
      duplicates: this.duplicates,
      late: this.late,
      telephoneEvents: this.telephoneEvents,
    };
  }
}

export class CallRecorder {
  readonly channels: Channel[];
  readonly output: Readable;
  /** the call's clock starts when the recording does: position 0 */
  readonly #startedAt: number;
  /** positions before this are written out */
  #flushed = 0;
  #headerSent = false;
  #ended = false;
  #firstRead: () => void = () => {};
  /** resolves when the ingest path first asks for data: storage, keys and audit are ready */
  readonly ready: Promise<void>;

  readonly sampleRate: RecordingRate;
  readonly #window: number;
  readonly #now: () => number;

  constructor(labels: readonly string[], options: { sampleRate?: RecordingRate; now?: () => number } = {}) {
    if (labels.length === 0 || labels.length > 8) throw new CallvaultError(ErrorCodes.SIPREC_INVALID, 'SDP: a recording session has 1 to 8 audio streams');
    this.sampleRate = options.sampleRate ?? 8000;
    this.#now = options.now ?? Date.now;
    this.#window = WINDOW_SECONDS * this.sampleRate;
    this.channels = labels.map((l) => new Channel(l, this.#window));
    this.#startedAt = this.#now();
    this.ready = new Promise((resolve) => {
      this.#firstRead = resolve;
    });
    this.output = new Readable({ read: () => this.#firstRead() });
  }

  setPayloads(channel: number, payloads: Map<number, MediaCodec>): void {
    const c = this.channels[channel];
    if (c) c.payloads = payloads;
  }

  /** one RTP packet of a stream (the RTP header already parsed) */
  packet(channel: number, p: { payloadType: number; sequenceNumber: number; timestamp: number; payload: Buffer }): void {
    const c = this.channels[channel];
    if (!c || this.#ended) return;
    const codec = c.payloads.get(p.payloadType);
    if (codec === undefined) return;
    const seq = c.extendSeq(p.sequenceNumber);
    if (c.firstSeq !== undefined && seq <= c.highestSeq - SEQ_WINDOW) {
      c.late += 1;
      return;
    }
    if (c.firstSeq !== undefined && seq <= c.highestSeq && c.seen[seq % SEQ_WINDOW] === 1) {
      c.duplicates += 1;
      return;
    }
    if (c.firstSeq === undefined) {
      c.firstSeq = seq;
      c.highestSeq = seq;
    } else if (seq > c.highestSeq) {
      // forget the marks of the sequence numbers the window moves past
      for (let s = Math.max(c.highestSeq + 1, seq - SEQ_WINDOW + 1); s <= seq; s++) c.seen[s % SEQ_WINDOW] = 0;
      c.highestSeq = seq;
    } else if (seq < c.firstSeq) {
      c.firstSeq = seq;
    }
    c.seen[seq % SEQ_WINDOW] = 1;
    c.received += 1;
    if (codec === 'telephone-event') {
      // RFC 4733 events are signalling, not audio: the audio stream carries the tone too
      c.telephoneEvents += 1;
      return;
    }
    c.codec = codec;
    // output samples per tick of the RTP clock
    const step = this.sampleRate / RTP_CLOCK;
    const wall = this.#wallPosition();
    const ts = c.extendTs(p.timestamp);
    let pos = c.anchor ? c.anchor.pos + (ts - c.anchor.ts) * step : wall;
    if (!c.anchor || Math.abs(pos - wall) > RESYNC_SECONDS * this.sampleRate) {
      c.anchor = { ts, pos: Math.max(wall, this.#flushed) };
      pos = c.anchor.pos;
    }
    if (ts > c.lastTs || c.lastTs === 0) c.lastTs = ts;
    // one byte per tick of the RTP clock, in G.711 as in G.722 (8000 bytes a second each)
    const samples = p.payload.length * step;
    if (pos < this.#flushed) {
      c.late += 1;
      return;
    }
    // a packet far ahead of the window: write the window out up to where it fits
    if (pos + samples > this.#flushed + this.#window) this.#flushTo(pos + samples - this.#window);
    if (codec === 'g722') {
      c.placeG722(p.payload, pos, this.sampleRate);
      return;
    }
    const decoded = new Int16Array(p.payload.length);
    decodeG711(codec, p.payload, decoded, 0);
    c.placePcm(decoded, pos, step);
  }

  /** writes out what is JITTER_MS behind the wall clock; called by the server's timer */
  tick(): void {
    if (this.#ended) return;
    this.#flushTo(this.#wallPosition() - (JITTER_MS * this.sampleRate) / 1000);
  }

  /** the call ended (BYE): writes out the rest and ends the WAV */
  end(): void {
    if (this.#ended) return;
    this.#flushTo(this.#wallPosition());
    this.#ended = true;
    if (!this.#headerSent) this.#push(Buffer.alloc(0));
    this.output.push(null);
  }

  /** the call failed: the ingest path discards what it stored */
  abort(err: Error): void {
    this.#ended = true;
    this.output.destroy(err);
  }

  get durationMs(): number {
    return Math.round((this.#flushed * 1000) / this.sampleRate);
  }

  stats(): StreamStats[] {
    return this.channels.map((c) => c.stats());
  }

  #wallPosition(): number {
    return Math.floor(((this.#now() - this.#startedAt) * this.sampleRate) / 1000);
  }

  #flushTo(position: number): void {
    const n = Math.floor(position) - this.#flushed;
    if (n <= 0) return;
    const channels = this.channels.length;
    for (const c of this.channels) c.decodeTo(this.#flushed, n);
    const out = Buffer.allocUnsafe(n * channels * 2);
    let o = 0;
    for (let i = 0; i < n; i++) {
      const slot = (this.#flushed + i) % this.#window;
      for (const c of this.channels) {
        out.writeInt16LE(c.ring[slot]!, o);
        c.ring[slot] = 0;
        o += 2;
      }
    }
    this.#flushed += n;
    this.#push(out);
  }

  #push(pcm: Buffer): void {
    if (this.output.destroyed) return;
    if (this.output.readableLength > MAX_BUFFERED) {
      this.abort(new CallvaultError(ErrorCodes.STORAGE_UNAVAILABLE, 'the recording could not be stored as fast as the call arrived'));
      return;
    }
    if (!this.#headerSent) {
      this.#headerSent = true;
      this.output.push(streamingWavHeader(this.channels.length, this.sampleRate));
    }
    if (pcm.length) this.output.push(pcm);
  }
}

/** a canonical 44-byte PCM WAV header whose sizes say "unknown": the data runs to the end */
export function streamingWavHeader(channels: number, sampleRate: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(0xffffffff, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(0xffffffff, 40);
  return h;
}
