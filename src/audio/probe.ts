/**
 * Audio probing: what is this file, and is it intact enough to store?
 *
 * The format is detected from the content only (a recorder may well name an MP3 `.wav`). Two
 * formats are accepted: WAV (RIFF/WAVE, and its 64-bit variants RF64/BW64) with PCM, IEEE float,
 * A-law or mu-law samples, and MP3 (MPEG-1/2/2.5 layer III, with or without ID3v2 tags).
 *
 * The probe is written once, as a generator that asks for byte ranges (and, last, for the total
 * size), and driven two ways: over random access (a file, or decrypted content) by probeSource
 * and probeAudio, and over a stream as it passes by (an upload, encrypted on its way to storage,
 * never held whole and never written in plaintext) by StreamProbe. Its reads only go forward
 * (but for one byte back), so a stream keeps just the range being asked for. Both paths give the
 * same answer for the same bytes: an upload is accepted exactly when `callvault import` accepts.
 *
 * WAV is parsed by a small RIFF chunk walk of our own rather than by music-metadata, because
 * music-metadata (checked with v11.16.1) does not handle what telephony recorders write:
 *  - RIFF size 0 (recorder never finalised the header): it walks zero chunks and returns no codec,
 *    sample rate, channels or duration, and neither an error nor a warning;
 *  - data size 0: it returns no duration and then walks the samples as if they were chunks;
 *  - a data chunk declared larger than the file (a truncated file): it only adds a warning and
 *    reports the shortened duration, so a damaged file looks fine;
 *  - WAVE_FORMAT_EXTENSIBLE: it reports the codec as "non-PCM (65534)" without the sub-format;
 *  - and it picks its parser from the file extension, so an MP3 named `.wav` yields an empty result.
 * (sox is no better on recorder files: data size 0 gives 0 s, 0xFFFFFFFF gives ~268435 s.)
 * The walk reads only chunk headers, never the samples, so a one-hour file is probed in
 * a few small reads. The header must also be one a decoder plays as we describe it (checked in
 * checkFmt): a plausible sample rate and channel count, a block size that matches the samples,
 * a known WAVE_FORMAT_EXTENSIBLE sub-format, and the ds64 chunk an RF64 file cannot be read without.
 *
 * MP3 is walked frame by frame (every frame header, not the audio in between), and the duration is
 * the number of audio frames times their length. The Xing/Info header and a constant-bitrate
 * estimate are not trusted: one flipped bit in an Info frame count made an 8.5 KB file last 42
 * hours, and music-metadata (which reads them) can only estimate a stream it sees in part. Damage
 * between frames is skipped as a decoder skips it, up to half of the file; trailing ID3v1, ID3v2
 * and APE tags are not damage.
 *
 * Error messages are fixed strings: never a path, never file content.
 */
import { open as openFile, type FileHandle } from 'node:fs/promises';
import { CallvaultError, ErrorCodes } from '../errors.js';

export type AudioFormat = 'wav' | 'mp3';

/** Codec names follow ffmpeg/ffprobe's `codec_name`. */
export type AudioCodec = 'pcm_u8' | 'pcm_s16le' | 'pcm_s24le' | 'pcm_s32le' | 'pcm_f32le' | 'pcm_f64le' | 'pcm_mulaw' | 'pcm_alaw' | 'mp3';

/** Where the samples of a WAV file are, for code that needs to read or rewrite them. */
export interface WavLayout {
  /** `fmt ` format tag, with WAVE_FORMAT_EXTENSIBLE resolved to its sub-format. */
  formatTag: number;
  /** True when the file used WAVE_FORMAT_EXTENSIBLE (0xFFFE). */
  extensible: boolean;
  /** Bits per sample as stored (the container size). */
  bitsPerSample: number;
  blockAlign: number;
  /** Byte offset of the first sample. */
  dataOffset: number;
  /** Bytes of sample data actually present (whole frames only). */
  dataBytes: number;
  /** True when the header sizes were left at 0 or 0xFFFFFFFF and the data was taken to run to end of file. */
  sizeFromFileEnd: boolean;
  /** 'RIFF', 'RF64' or 'BW64'. */
  container: 'RIFF' | 'RF64' | 'BW64';
}

/** Where the audio of an MP3 file begins, and what precedes it. */
export interface Mp3Layout {
  /** Byte offset of the first MPEG audio frame. */
  firstFrameOffset: number;
  /** Whether one or more ID3v2 tags precede the audio. */
  hasId3v2: boolean;
  /** MPEG version of the first frame: 1, 2 or 2.5. */
  mpegVersion: 1 | 2 | 2.5;
}

export interface AudioInfo {
  format: AudioFormat;
  codec: AudioCodec;
  sampleRate: number;
  channels: number;
  /** Duration in whole milliseconds (rounded). */
  durationMs: number;
  /** Present when format is 'wav'. */
  wav?: WavLayout;
  /** Present when format is 'mp3'. */
  mp3?: Mp3Layout;
}

/**
 * Sample rates a recording may have: 8 kHz is narrowband telephony (G.711), the lowest rate any
 * phone system or call recorder writes; 192 kHz is the highest that professional recorders offer.
 * A rate outside is a damaged header (3 Hz and 255 Hz were seen), which a player would refuse or
 * stretch over hours.
 */
export const MIN_SAMPLE_RATE = 8000;
export const MAX_SAMPLE_RATE = 192_000;
/** Calls are mono or one channel per side; conference and multitrack recorders write up to 8. */
export const MAX_CHANNELS = 8;

function unsupported(reason: string): CallvaultError {
  return new CallvaultError(ErrorCodes.UNSUPPORTED_AUDIO, `unsupported audio: ${reason}`);
}

function broken(reason: string): CallvaultError {
  return new CallvaultError(ErrorCodes.BROKEN_AUDIO, `broken audio: ${reason}`);
}

/** Random access to the bytes being probed: a file, or decrypted content. */
export interface ProbeSource {
  size: number;
  /** up to `length` bytes at `position`; fewer only at the end */
  read(position: number, length: number): Promise<Buffer>;
}

// ---------------------------------------------------------------------------------------------
// The probe as a generator of byte-range requests, and its two drivers

/** what a probe asks for: `length` bytes at `position` (fewer only at the end), or the total size */
type Ask = { position: number; length: number } | 'size';
type Probe<T> = Generator<Ask, T, Buffer | number>;

function* read(position: number, length: number): Probe<Buffer> {
  return (yield { position, length }) as Buffer;
}

/** The total size: asked for last, as a stream knows it only at its end. */
function* totalSize(): Probe<number> {
  return (yield 'size') as number;
}

/**
 * Detects the format by content (never by extension) and validates the file.
 * Throws CallvaultError UNSUPPORTED_AUDIO when the content is neither WAV nor MP3 (or is a WAV
 * with a codec we do not handle), BROKEN_AUDIO with a short reason when it claims to be one of
 * them but is damaged.
 */
export async function probeAudio(path: string): Promise<AudioInfo> {
  let fh: FileHandle;
  try {
    fh = await openFile(path, 'r');
  } catch (err) {
    throw ioError(err);
  }
  try {
    let size: number;
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw unsupported('not a regular file');
      size = st.size;
    } catch (err) {
      if (err instanceof CallvaultError) throw err;
      throw ioError(err);
    }
    return await probeSource(fileSource(fh, size));
  } finally {
    await fh.close().catch(() => undefined);
  }
}

function fileSource(fh: FileHandle, size: number): ProbeSource {
  return {
    size,
    async read(position, length) {
      const buf = Buffer.alloc(length);
      let done = 0;
      try {
        while (done < length) {
          const { bytesRead } = await fh.read(buf, done, length - done, position + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
      } catch (err) {
        throw ioError(err);
      }
      return done === length ? buf : buf.subarray(0, done);
    },
  };
}

function ioError(err: unknown): CallvaultError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new CallvaultError(ErrorCodes.NOT_FOUND, 'audio file not found', { cause: err });
  if (code === 'EISDIR') return unsupported('not a regular file');
  return new CallvaultError(ErrorCodes.STORAGE_FAILED, 'could not read audio file', { cause: err });
}

/** Reads ahead of the probe's small forward reads, so that an MP3's frame walk costs few reads. */
const READ_AHEAD = 256 * 1024;

/** probeAudio for any source of bytes with random access */
export async function probeSource(src: ProbeSource): Promise<AudioInfo> {
  let cached: Buffer = Buffer.alloc(0);
  let cachedAt = 0;
  const readAhead = async (position: number, length: number): Promise<Buffer> => {
    const end = Math.min(position + length, src.size);
    if (position >= end) return Buffer.alloc(0);
    if (position < cachedAt || end > cachedAt + cached.length) {
      cached = await src.read(position, Math.min(Math.max(length, READ_AHEAD), src.size - position));
      cachedAt = position;
    }
    return cached.subarray(position - cachedAt, end - cachedAt);
  };
  const probe = probeContent();
  let step = probe.next();
  while (!step.done) {
    const ask = step.value;
    step = probe.next(ask === 'size' ? src.size : await readAhead(ask.position, ask.length));
  }
  return step.value;
}

/** How far behind the range it is asking for the probe may read next (the WAV walk's pad byte). */
const READS_BEHIND = 1;

/**
 * Probes content while it streams past: push() every chunk in order, then finish(). Keeps only
 * what the probe is asking for (at most about 1 MiB, while an MP3's first frame is searched for
 * after its ID3 tags), copied, so chunks may be handed on (and detached) after push().
 */
export class StreamProbe {
  private readonly probe = probeContent();
  private ask: Ask | undefined;
  private outcome: { info: AudioInfo } | { error: unknown } | undefined;
  /**
   * The stream's bytes [keptAt, seen) are buf[start, end). One buffer, grown by doubling, so that a
   * client sending one byte at a time costs neither a copy of the window per byte nor an object per
   * byte; bytes once written are never written over, so what the probe was handed stays as it was.
   */
  private buf = Buffer.alloc(0);
  private start = 0;
  private end = 0;
  private keptAt = 0;
  private seen = 0;

  constructor() {
    this.step(() => this.probe.next());
  }

  push(chunk: Buffer): void {
    const chunkAt = this.seen;
    this.seen += chunk.length;
    const from = this.keepFrom();
    if (from >= this.seen) {
      this.buf = Buffer.alloc(0);
      this.start = this.end = 0;
      this.keptAt = this.seen;
      return;
    }
    if (this.start === this.end) this.keptAt = Math.max(from, chunkAt);
    this.keep(chunk.subarray(this.keptAt + (this.end - this.start) - chunkAt));
    this.serve(false);
    this.drop(this.keepFrom());
  }

  /** what the probe found, once the whole stream has been pushed; throws what it found wrong */
  finish(): AudioInfo {
    this.serve(true);
    if (!this.outcome) throw new Error('the audio probe did not finish');
    if ('error' in this.outcome) throw this.outcome.error;
    return this.outcome.info;
  }

  /** the first position the probe may still ask for */
  private keepFrom(): number {
    if (this.ask === undefined || this.ask === 'size') return Infinity;
    return Math.max(0, this.ask.position - READS_BEHIND);
  }

  private serve(ended: boolean): void {
    while (this.ask !== undefined) {
      if (this.ask === 'size') {
        if (!ended) return;
        const size = this.seen;
        this.step(() => this.probe.next(size));
        continue;
      }
      const { position, length } = this.ask;
      if (position + length > this.seen && !ended) return;
      if (position < this.keptAt) {
        this.step(() => this.probe.throw(new Error('the audio probe read behind the stream')));
        continue;
      }
      const from = this.start + Math.min(position, this.seen) - this.keptAt;
      const bytes = this.buf.subarray(from, this.start + Math.min(position + length, this.seen) - this.keptAt);
      this.step(() => this.probe.next(bytes));
    }
  }

  private keep(bytes: Buffer): void {
    if (this.end + bytes.length > this.buf.length) {
      const grown = Buffer.alloc(Math.max(2 * (this.end - this.start + bytes.length), 16 * 1024));
      this.buf.copy(grown, 0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
      this.buf = grown;
    }
    bytes.copy(this.buf, this.end);
    this.end += bytes.length;
  }

  private drop(before: number): void {
    const n = Math.min(Math.max(0, before - this.keptAt), this.end - this.start);
    this.start += n;
    this.keptAt += n;
  }

  private step(next: () => IteratorResult<Ask, AudioInfo>): void {
    try {
      const r = next();
      if (r.done) {
        this.outcome = { info: r.value };
        this.ask = undefined;
      } else {
        this.ask = r.value;
      }
    } catch (error) {
      this.outcome = { error };
      this.ask = undefined;
    }
  }
}

function* probeContent(): Probe<AudioInfo> {
  const head = yield* read(0, 16);
  if (head.length === 0) throw unsupported('file is empty');
  const magic = head.subarray(0, 4).toString('latin1');
  if (magic === 'RIFF' || magic === 'RF64' || magic === 'BW64') return yield* probeWav(head);
  if (magic === 'RIFX' || magic === 'FORM') throw unsupported('not WAV or MP3');
  const mp3 = yield* probeMp3(head);
  if (!mp3) throw unsupported('not WAV or MP3');
  return mp3;
}

// ---------------------------------------------------------------------------------------------
// WAV

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
const WAVE_FORMAT_ALAW = 0x0006;
const WAVE_FORMAT_MULAW = 0x0007;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
const SIZE_UNKNOWN = 0xffffffff;
/** A WAV with more chunks than this before its audio is not a recording. */
const MAX_CHUNKS = 4096;
/**
 * Bytes 2..15 of every KSDATAFORMAT_SUBTYPE GUID for a classic format tag,
 * {0000xxxx-0000-0010-8000-00AA00389B71}, as stored (little-endian fields); bytes 0..1 are the tag.
 */
const KSDATAFORMAT_SUBTYPE_TAIL = Buffer.from('000000001000800000aa00389b71', 'hex');

function isChunkId(b: Buffer): boolean {
  if (b.length < 4) return false;
  for (let i = 0; i < 4; i++) {
    const c = b[i]!;
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

interface Fmt {
  formatTag: number;
  extensible: boolean;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bitsPerSample: number;
}

function parseFmt(body: Buffer): Fmt {
  if (body.length < 16) throw broken('WAV fmt chunk is too short');
  let formatTag = body.readUInt16LE(0);
  const channels = body.readUInt16LE(2);
  const sampleRate = body.readUInt32LE(4);
  const blockAlign = body.readUInt16LE(12);
  const bitsPerSample = body.readUInt16LE(14);
  let extensible = false;
  if (formatTag === WAVE_FORMAT_EXTENSIBLE) {
    // WAVEFORMATEXTENSIBLE: cbSize(2) validBits(2) channelMask(4) subFormat GUID(16) at offset 16.
    // The GUID's first two bytes (little-endian) are the format tag of the actual codec. Decoders
    // (ffmpeg among them) read the extension only when cbSize says it is there.
    if (body.length < 40 || body.readUInt16LE(16) < 22) throw broken('WAV extensible fmt chunk is too short');
    if (!body.subarray(26, 40).equals(KSDATAFORMAT_SUBTYPE_TAIL)) throw unsupported('WAV extensible sub-format is not supported');
    if (body.readUInt16LE(18) > bitsPerSample) throw broken('WAV valid bits exceed its sample size');
    formatTag = body.readUInt16LE(24);
    extensible = true;
  }
  if (channels === 0) throw broken('WAV has zero channels');
  if (sampleRate === 0) throw broken('WAV has a zero sample rate');
  return { formatTag, extensible, channels, sampleRate, blockAlign, bitsPerSample };
}

function wavCodec(fmt: Fmt): AudioCodec {
  const { formatTag, bitsPerSample: bits } = fmt;
  switch (formatTag) {
    case WAVE_FORMAT_PCM:
      if (bits === 8) return 'pcm_u8';
      if (bits === 16) return 'pcm_s16le';
      if (bits === 24) return 'pcm_s24le';
      if (bits === 32) return 'pcm_s32le';
      if (bits === 0) throw broken('WAV has a zero sample size');
      throw unsupported('WAV sample size is not supported');
    case WAVE_FORMAT_IEEE_FLOAT:
      if (bits === 32) return 'pcm_f32le';
      if (bits === 64) return 'pcm_f64le';
      throw broken('WAV sample size does not match its codec');
    case WAVE_FORMAT_ALAW:
    case WAVE_FORMAT_MULAW:
      if (bits !== 8) throw broken('WAV sample size does not match its codec');
      return formatTag === WAVE_FORMAT_ALAW ? 'pcm_alaw' : 'pcm_mulaw';
    default:
      throw unsupported('WAV codec is not supported');
  }
}

/** Whether a decoder plays the samples as the header describes them (see MIN_SAMPLE_RATE). */
function checkFmt(fmt: Fmt): void {
  if (fmt.sampleRate < MIN_SAMPLE_RATE || fmt.sampleRate > MAX_SAMPLE_RATE) throw unsupported('WAV sample rate is outside 8-192 kHz');
  if (fmt.channels > MAX_CHANNELS) throw unsupported('WAV has more than 8 channels');
  // A decoder steps through the data by sample size, whatever the header's block size says: a
  // different block size would make the duration we store differ from what plays.
  if (fmt.blockAlign !== fmt.channels * Math.ceil(fmt.bitsPerSample / 8)) throw broken('WAV block alignment does not match its sample size');
}

function truncatedChunk(id: string): string {
  return id === 'data' ? 'WAV data chunk is truncated' : id === 'fmt ' ? 'WAV fmt chunk is truncated' : 'WAV chunk is truncated';
}

function* probeWav(head: Buffer): Probe<AudioInfo> {
  if (head.length < 12) throw broken('WAV header is truncated');
  const container = head.subarray(0, 4).toString('latin1') as WavLayout['container'];
  if (head.subarray(8, 12).toString('latin1') !== 'WAVE') throw unsupported('RIFF file is not WAVE');

  // The RIFF size is deliberately not trusted: recorders leave it at 0 or 0xFFFFFFFF, and some
  // writers get it wrong. Chunks are walked to the end of the file until fmt and data are found.
  let fmt: Fmt | undefined;
  let ds64DataSize: number | undefined;
  let dataOffset: number | undefined;
  let declaredDataSize = 0;
  let pos = 12;
  let padded = false;
  /** the chunk before `pos` and where it said it ends: the end of the file may fall inside it */
  let previous: { id: string; end: number } | undefined;
  for (let n = 0; !(fmt && dataOffset !== undefined); n++) {
    if (n > MAX_CHUNKS) throw broken('WAV has too many chunks');
    let header = yield* read(pos, 8);
    if (header.length < 8) {
      if (previous && previous.end > (yield* totalSize())) throw broken(truncatedChunk(previous.id));
      if (!fmt) throw broken('WAV has no fmt chunk');
      throw broken('WAV has no data chunk');
    }
    if (padded && !isChunkId(header)) {
      // Some writers omit the pad byte after an odd-sized chunk; accept the unpadded position.
      const alt = yield* read(pos - 1, 8);
      if (isChunkId(alt)) {
        pos -= 1;
        header = alt;
      }
    }
    const id = header.subarray(0, 4).toString('latin1');
    const chunkSize = header.readUInt32LE(4);
    const bodyStart = pos + 8;
    // RF64 keeps its real sizes in a ds64 chunk that must come first; without it, no reader knows
    // where the data ends
    if (n === 0 && container !== 'RIFF' && id !== 'ds64') throw broken('RF64 file has no ds64 chunk');

    if (id === 'data') {
      dataOffset = bodyStart;
      declaredDataSize = chunkSize;
      if (fmt) break;
      // fmt after data is legal but rare; it can only be found when the data size is real.
      if (chunkSize === 0 || chunkSize === SIZE_UNKNOWN) throw broken('WAV has no fmt chunk before its data');
    } else if (id === 'fmt ') {
      if (chunkSize > 4096) throw broken('WAV fmt chunk is too large');
      const body = yield* read(bodyStart, chunkSize);
      if (body.length < chunkSize) throw broken('WAV fmt chunk is truncated');
      fmt = parseFmt(body);
    } else if (id === 'ds64' && container !== 'RIFF') {
      if (chunkSize < 24) throw broken('WAV ds64 chunk is too short');
      const ds64 = yield* read(bodyStart, 24);
      if (ds64.length < 24) throw broken('WAV chunk is truncated');
      ds64DataSize = Number(ds64.readBigUInt64LE(8));
    } else if (!isChunkId(header) && header.readUInt32LE(0) !== 0) {
      throw broken('WAV chunk header is invalid');
    }
    previous = { id, end: bodyStart + chunkSize };
    padded = (chunkSize & 1) === 1;
    pos = bodyStart + chunkSize + (padded ? 1 : 0);
  }
  if (!fmt || dataOffset === undefined) throw broken('WAV has no data chunk');

  const codec = wavCodec(fmt);
  checkFmt(fmt);

  const available = Math.max(0, (yield* totalSize()) - dataOffset);
  let dataBytes: number;
  let sizeFromFileEnd = false;
  if (container !== 'RIFF' && declaredDataSize === SIZE_UNKNOWN && ds64DataSize !== undefined && ds64DataSize > 0) {
    // RF64/BW64: the 32-bit size is a placeholder, the real one is in ds64.
    if (ds64DataSize > available) throw broken('WAV data chunk is truncated');
    dataBytes = ds64DataSize;
  } else if (declaredDataSize === 0 || declaredDataSize === SIZE_UNKNOWN) {
    // Recorder-style header that was never finalised: the data runs to the end of the file.
    dataBytes = available;
    sizeFromFileEnd = true;
  } else {
    if (declaredDataSize > available) throw broken('WAV data chunk is truncated');
    dataBytes = declaredDataSize;
  }

  // A trailing partial frame (recorder killed mid-write) is tolerated and ignored.
  const frames = Math.floor(dataBytes / fmt.blockAlign);
  const durationMs = Math.round((frames * 1000) / fmt.sampleRate);
  // less than a millisecond (a few samples) is not a recording, and would be stored as 0 ms
  if (durationMs === 0) throw broken('WAV contains no audio');
  return {
    format: 'wav',
    codec,
    sampleRate: fmt.sampleRate,
    channels: fmt.channels,
    durationMs,
    wav: {
      formatTag: fmt.formatTag,
      extensible: fmt.extensible,
      bitsPerSample: fmt.bitsPerSample,
      blockAlign: fmt.blockAlign,
      dataOffset,
      dataBytes: frames * fmt.blockAlign,
      sizeFromFileEnd,
      container,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// MP3

interface MpegFrame {
  version: 1 | 2 | 2.5;
  sampleRate: number;
  channels: number;
  frameLength: number;
}

const MP3_BITRATES_V1 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0];
const MP3_BITRATES_V2 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0];
const SAMPLE_RATES: Record<1 | 2 | 2.5, readonly number[]> = {
  1: [44100, 48000, 32000],
  2: [22050, 24000, 16000],
  2.5: [11025, 12000, 8000],
};
/** The longest layer III frame (MPEG-1, 320 kbit/s at 32 kHz, padded), and a header after it. */
const MAX_FRAME_AND_HEADER = 1441 + 10;

/** Parses a strict MPEG audio layer III frame header at `off`; undefined when it is not one. */
function parseMpegHeader(b: Buffer, off: number): MpegFrame | undefined {
  if (off + 4 > b.length) return undefined;
  const b1 = b[off + 1]!;
  const b2 = b[off + 2]!;
  const b3 = b[off + 3]!;
  if (b[off] !== 0xff || (b1 & 0xe0) !== 0xe0) return undefined;
  const versionBits = (b1 >> 3) & 3;
  if (versionBits === 1) return undefined; // reserved
  const version = versionBits === 3 ? 1 : versionBits === 2 ? 2 : 2.5;
  if (((b1 >> 1) & 3) !== 1) return undefined; // layer III only
  const bitrateIndex = b2 >> 4;
  const rateIndex = (b2 >> 2) & 3;
  if (bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return undefined; // free format / reserved
  if ((b3 & 3) === 2) return undefined; // reserved emphasis
  const bitrate = (version === 1 ? MP3_BITRATES_V1 : MP3_BITRATES_V2)[bitrateIndex]! * 1000;
  const sampleRate = SAMPLE_RATES[version][rateIndex]!;
  const padding = (b2 >> 1) & 1;
  const frameLength = Math.floor(((version === 1 ? 144 : 72) * bitrate) / sampleRate) + padding;
  const channels = b3 >> 6 === 3 ? 1 : 2;
  return { version, sampleRate, channels, frameLength };
}

/** The same stream: a frame whose version or sample rate differs from the first is damage. */
function sameStream(a: MpegFrame, b: MpegFrame | undefined): b is MpegFrame {
  return b !== undefined && a.version === b.version && a.sampleRate === b.sampleRate;
}

/** Length of an ID3v2 tag at `off` (header, body and footer), or undefined if there is none. */
function id3v2Length(b: Buffer, off: number): number | undefined {
  if (off + 10 > b.length) return undefined;
  if (b[off] !== 0x49 || b[off + 1] !== 0x44 || b[off + 2] !== 0x33) return undefined; // "ID3"
  const major = b[off + 3]!;
  const minor = b[off + 4]!;
  if (major < 2 || major > 4 || minor === 0xff) return undefined;
  let body = 0;
  for (let i = 6; i < 10; i++) {
    const v = b[off + i]!;
    if (v & 0x80) return undefined; // sync-safe integer
    body = (body << 7) | v;
  }
  const footer = major === 4 && (b[off + 5]! & 0x10) !== 0 ? 10 : 0;
  return 10 + body + footer;
}

/** Length of a tag that may follow the last frame (ID3v1, ID3v2, APEv2) at the start of `b`. */
function trailingTagLength(b: Buffer): number | undefined {
  if (b.length >= 3 && b.toString('latin1', 0, 3) === 'TAG') return 128;
  const id3 = id3v2Length(b, 0);
  if (id3 !== undefined) return id3;
  if (b.length >= 32 && b.toString('latin1', 0, 8) === 'APETAGEX') {
    // an APEv2 header counts its items and footer in its size; a footer counts only itself
    const isHeader = (b.readUInt32LE(20) & (1 << 29)) !== 0;
    return isHeader ? 32 + b.readUInt32LE(12) : 32;
  }
  return undefined;
}

/**
 * Whether the frame at `i` of `window` is followed by another of the same stream (or by a tag, or
 * by the end of the content when `windowIsEnd`): a lone sync pattern in damaged data is not.
 */
function frameConfirmed(window: Buffer, i: number, frame: MpegFrame, windowIsEnd: boolean): boolean {
  const next = i + frame.frameLength;
  if (next > window.length) return false; // runs past what we have: past the end when windowIsEnd
  if (next === window.length) return windowIsEnd; // the last frame
  if (sameStream(frame, parseMpegHeader(window, next))) return true;
  // An ID3v1 ("TAG"), APE ("APETAGEX") or Lyrics3 tag may follow the last frame.
  const tag = window.toString('latin1', next, Math.min(next + 3, window.length));
  return tag === 'TAG' || tag === 'APE' || tag === 'LYR' || tag === 'ID3';
}

/** How far past the ID3v2 tag(s) we look for the first frame (junk or padding before audio). */
const MP3_SEARCH_WINDOW = 1 << 20;
/** How much damaged data is searched at a time for the next frame. */
const RESYNC_WINDOW = 16 * 1024;

/**
 * Decides whether the content claims to be MP3 (ID3v2 tag, or an MPEG layer III frame header at
 * offset 0) and, if so, walks its frames. Returns undefined when the content does not claim to be
 * MP3; throws BROKEN_AUDIO when it does but holds no valid frame, or more damage than audio.
 */
function* probeMp3(head: Buffer): Probe<AudioInfo | undefined> {
  let pos = 0;
  let hasId3v2 = false;
  // Skip one or more ID3v2 tags.
  for (let n = 0; n < 16; n++) {
    const h = n === 0 ? head : yield* read(pos, 10);
    const len = id3v2Length(h, 0);
    if (len === undefined) break;
    hasId3v2 = true;
    pos += len;
  }
  if (!hasId3v2 && !parseMpegHeader(head, 0)) return undefined;

  // The first frame: one that is confirmed by the next, within a window after the tags.
  const wanted = hasId3v2 ? MP3_SEARCH_WINDOW + MAX_FRAME_AND_HEADER : MAX_FRAME_AND_HEADER;
  const window = yield* read(pos, wanted);
  if (window.length === 0) {
    if (pos > (yield* totalSize())) throw broken('ID3 tag is truncated');
    throw broken('MP3 contains no audio frame');
  }
  const limit = hasId3v2 ? Math.min(window.length, MP3_SEARCH_WINDOW) : 1;
  let first: MpegFrame | undefined;
  let firstOffset = 0;
  for (let i = 0; i < limit && !first; i++) {
    if (window[i] !== 0xff) continue;
    const frame = parseMpegHeader(window, i);
    if (frame && frameConfirmed(window, i, frame, window.length < wanted)) {
      first = frame;
      firstOffset = pos + i;
    }
  }
  if (!first) throw broken('MP3 contains no valid audio frame');

  // Walk the frames. A Xing, Info or VBRI frame first holds no audio (a decoder plays it as
  // nothing, and the Info frame count leaves it out).
  let at = firstOffset;
  const firstBytes = yield* read(at, first.frameLength);
  if (isInfoFrame(firstBytes, first)) at += first.frameLength;
  let frames = 0;
  let frameBytes = 0;
  let damage = 0;
  let lastFrame = { end: at, length: 0 };
  for (;;) {
    const header = yield* read(at, 10);
    if (header.length < 4) break;
    const frame = parseMpegHeader(header, 0);
    if (sameStream(first, frame)) {
      frames += 1;
      frameBytes += frame.frameLength;
      at += frame.frameLength;
      lastFrame = { end: at, length: frame.frameLength };
      continue;
    }
    const tag = trailingTagLength(yield* read(at, 32));
    if (tag !== undefined) {
      at += tag;
      continue;
    }
    // damage: skip to the next frame that the one after it confirms
    const next = yield* nextFrame(first, at + 1);
    damage += next.position - at;
    if (!next.found) break;
    at = next.position;
  }
  // the last frame may be cut off (a recorder killed mid-write): a decoder drops it
  if (frames > 0 && lastFrame.end > (yield* totalSize())) {
    frames -= 1;
    frameBytes -= lastFrame.length;
  }
  if (frames === 0) throw broken('MP3 contains no audio');
  if (damage > frameBytes) throw broken('MP3 holds more damaged data than audio frames');
  const samplesPerFrame = first.version === 1 ? 1152 : 576;
  return {
    format: 'mp3',
    codec: 'mp3',
    sampleRate: first.sampleRate,
    channels: first.channels,
    durationMs: Math.round((frames * samplesPerFrame * 1000) / first.sampleRate),
    mp3: { firstFrameOffset: firstOffset, hasId3v2, mpegVersion: first.version },
  };
}

/** The next confirmed frame of the stream at or after `from`; not found: where the content ends. */
function* nextFrame(first: MpegFrame, from: number): Probe<{ position: number; found: boolean }> {
  for (let pos = from; ; ) {
    const window = yield* read(pos, RESYNC_WINDOW);
    const windowIsEnd = window.length < RESYNC_WINDOW;
    // a candidate needs its frame and the next header in the window, unless the window ends the content
    const limit = windowIsEnd ? window.length : window.length - MAX_FRAME_AND_HEADER;
    for (let i = 0; i < limit; i++) {
      if (window[i] !== 0xff) continue;
      const frame = parseMpegHeader(window, i);
      if (sameStream(first, frame) && frameConfirmed(window, i, frame, windowIsEnd)) return { position: pos + i, found: true };
    }
    if (windowIsEnd) return { position: pos + window.length, found: false };
    pos += limit;
  }
}

/** Whether a frame carries a Xing/Info (LAME, ffmpeg) or VBRI (Fraunhofer) header instead of audio. */
function isInfoFrame(bytes: Buffer, frame: MpegFrame): boolean {
  // the tag follows the side information, whose size depends on version and channels
  const side = frame.version === 1 ? (frame.channels === 1 ? 17 : 32) : frame.channels === 1 ? 9 : 17;
  const xing = bytes.toString('latin1', 4 + side, 8 + side);
  return xing === 'Xing' || xing === 'Info' || bytes.toString('latin1', 36, 40) === 'VBRI';
}
