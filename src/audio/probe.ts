/**
 * Audio probing: what is this file, and is it intact enough to store?
 *
 * The format is detected from the content only (a recorder may well name an MP3 `.wav`). Two
 * formats are accepted: WAV (RIFF/WAVE, and its 64-bit variants RF64/BW64) with PCM, IEEE float,
 * A-law or mu-law samples, and MP3 (MPEG-1/2/2.5 layer III, with or without ID3v2 tags).
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
 * a few small reads.
 *
 * MP3 uses music-metadata for the duration (Xing/Info/LAME header, CBR size estimate, or a full
 * frame count when neither exists), after our own check that the file really contains a valid
 * MPEG audio frame: music-metadata's frame sync is lenient and returns "MPEG" for an ID3 tag
 * followed by garbage, or for a single frame header followed by garbage, without an error.
 *
 * Error messages are fixed strings: never a path, never file content.
 */
import { openAsBlob } from 'node:fs';
import { open as openFile, type FileHandle } from 'node:fs/promises';
import { CallvaultError, ErrorCodes } from '../errors.js';

export type AudioFormat = 'wav' | 'mp3';

/** Codec names follow ffmpeg/ffprobe's `codec_name`. */
export type AudioCodec =
  | 'pcm_u8'
  | 'pcm_s16le'
  | 'pcm_s24le'
  | 'pcm_s32le'
  | 'pcm_f32le'
  | 'pcm_f64le'
  | 'pcm_mulaw'
  | 'pcm_alaw'
  | 'mp3';

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

function unsupported(reason: string): CallvaultError {
  return new CallvaultError(ErrorCodes.UNSUPPORTED_AUDIO, `unsupported audio: ${reason}`);
}

function broken(reason: string): CallvaultError {
  return new CallvaultError(ErrorCodes.BROKEN_AUDIO, `broken audio: ${reason}`);
}

/** Random access to the bytes being probed: a file, or what an upload has kept of its stream. */
export interface ProbeSource {
  size: number;
  /** up to `length` bytes at `position`; fewer only at the end */
  read(position: number, length: number): Promise<Buffer>;
  /** the whole content for music-metadata, when it can be had without loading it into memory */
  blob?(): Promise<Blob>;
}

function readAt(src: ProbeSource, position: number, length: number): Promise<Buffer> {
  return src.read(position, length);
}

function fileSource(fh: FileHandle, path: string, size: number): ProbeSource {
  return {
    size,
    async read(position, length) {
      const buf = Buffer.alloc(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await fh.read(buf, done, length - done, position + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done === length ? buf : buf.subarray(0, done);
    },
    blob: () => openAsBlob(path, { type: 'audio/mpeg' }),
  };
}

/**
 * A source for an upload probed after it has streamed through: the first `head.length` bytes and
 * the last `tail.length` bytes of `size`. Headers of every recording we accept lie in the head;
 * a read anywhere else means a layout streaming ingest cannot handle.
 */
export function headTailSource(head: Buffer, tail: Buffer, size: number): ProbeSource {
  const tailStart = size - tail.length;
  return {
    size,
    async read(position, length) {
      const end = Math.min(position + length, size);
      if (end <= head.length) return head.subarray(position, end);
      if (position >= tailStart) return tail.subarray(position - tailStart, end - tailStart);
      throw unsupported('the audio headers are not near the start of the upload');
    },
  };
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
    return await probeSource(fileSource(fh, path, size));
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** probeAudio for any source of bytes */
export async function probeSource(src: ProbeSource): Promise<AudioInfo> {
  const size = src.size;
  if (size === 0) throw unsupported('file is empty');
  const head = await readAt(src, 0, Math.min(size, 16));
  const magic = head.subarray(0, 4).toString('latin1');
  if (magic === 'RIFF' || magic === 'RF64' || magic === 'BW64') {
    return await probeWav(src, size, head);
  }
  if (magic === 'RIFX' || magic === 'FORM') throw unsupported('not WAV or MP3');
  const mp3 = await findMp3Audio(src, size, head);
  if (!mp3) throw unsupported('not WAV or MP3');
  return await probeMp3(src, size, mp3);
}

function ioError(err: unknown): CallvaultError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new CallvaultError(ErrorCodes.NOT_FOUND, 'audio file not found', { cause: err });
  if (code === 'EISDIR') return unsupported('not a regular file');
  return new CallvaultError(ErrorCodes.STORAGE_FAILED, 'could not read audio file', { cause: err });
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
    // The GUID's first two bytes (little-endian) are the format tag of the actual codec.
    if (body.length < 40) throw broken('WAV extensible fmt chunk is too short');
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

async function probeWav(fh: ProbeSource, size: number, head: Buffer): Promise<AudioInfo> {
  if (size < 12 || head.length < 12) throw broken('WAV header is truncated');
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
  for (let n = 0; !(fmt && dataOffset !== undefined); n++) {
    if (n > MAX_CHUNKS) throw broken('WAV has too many chunks');
    if (pos + 8 > size) {
      if (!fmt) throw broken('WAV has no fmt chunk');
      throw broken('WAV has no data chunk');
    }
    let header = await readAt(fh, pos, 8);
    if (padded && !isChunkId(header)) {
      // Some writers omit the pad byte after an odd-sized chunk; accept the unpadded position.
      const alt = await readAt(fh, pos - 1, 8);
      if (isChunkId(alt)) {
        pos -= 1;
        header = alt;
      }
    }
    const id = header.subarray(0, 4).toString('latin1');
    const chunkSize = header.readUInt32LE(4);
    const bodyStart = pos + 8;

    if (id === 'data') {
      dataOffset = bodyStart;
      declaredDataSize = chunkSize;
      if (fmt) break;
      // fmt after data is legal but rare; it can only be found when the data size is real.
      if (chunkSize === 0 || chunkSize === SIZE_UNKNOWN) throw broken('WAV has no fmt chunk before its data');
    }
    if (bodyStart + chunkSize > size) {
      if (id === 'fmt ') throw broken('WAV fmt chunk is truncated');
      throw broken(id === 'data' ? 'WAV data chunk is truncated' : 'WAV chunk is truncated');
    }
    if (id === 'fmt ') {
      if (chunkSize > 4096) throw broken('WAV fmt chunk is too large');
      fmt = parseFmt(await readAt(fh, bodyStart, chunkSize));
    } else if (id === 'ds64' && container !== 'RIFF') {
      if (chunkSize < 24) throw broken('WAV ds64 chunk is too short');
      const ds64 = await readAt(fh, bodyStart, 24);
      ds64DataSize = Number(ds64.readBigUInt64LE(8));
    } else if (!isChunkId(header) && header.readUInt32LE(0) !== 0) {
      throw broken('WAV chunk header is invalid');
    }
    padded = (chunkSize & 1) === 1;
    pos = bodyStart + chunkSize + (padded ? 1 : 0);
  }
  if (!fmt || dataOffset === undefined) throw broken('WAV has no data chunk');

  const codec = wavCodec(fmt);
  const minBlock = fmt.channels * Math.ceil(fmt.bitsPerSample / 8);
  if (fmt.blockAlign < minBlock || fmt.blockAlign % fmt.channels !== 0) {
    throw broken('WAV block alignment is invalid');
  }

  const available = size - dataOffset;
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
  if (frames === 0) throw broken('WAV contains no audio');
  return {
    format: 'wav',
    codec,
    sampleRate: fmt.sampleRate,
    channels: fmt.channels,
    durationMs: Math.round((frames * 1000) / fmt.sampleRate),
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

interface Mp3Start {
  offset: number;
  frame: MpegFrame;
  hasId3v2: boolean;
}

/** How far past the ID3v2 tag(s) we look for the first frame (junk or padding before audio). */
const MP3_SEARCH_WINDOW = 1 << 20;

/**
 * Decides whether the content claims to be MP3 (ID3v2 tag, or an MPEG layer III frame header at
 * offset 0) and, if so, finds its first valid frame. Returns undefined when the content does not
 * claim to be MP3; throws BROKEN_AUDIO when it does but holds no valid frame.
 */
async function findMp3Audio(fh: ProbeSource, size: number, head: Buffer): Promise<Mp3Start | undefined> {
  let pos = 0;
  let hasId3v2 = false;
  // Skip one or more ID3v2 tags.
  for (let n = 0; n < 16; n++) {
    const h = n === 0 ? head : await readAt(fh, pos, 10);
    const len = id3v2Length(h, 0);
    if (len === undefined) break;
    hasId3v2 = true;
    if (pos + len > size) throw broken('ID3 tag is truncated');
    pos += len;
  }
  if (!hasId3v2) {
    if (!parseMpegHeader(head, 0)) return undefined;
  }
  if (pos >= size) throw broken('MP3 contains no audio frame');

  // Scan a window for a frame that is confirmed by the next one (or by the end of the file).
  const window = await readAt(fh, pos, Math.min(size - pos, MP3_SEARCH_WINDOW + 4096));
  const limit = hasId3v2 ? Math.min(window.length, MP3_SEARCH_WINDOW) : 1;
  for (let i = 0; i < limit; i++) {
    if (window[i] !== 0xff) continue;
    const frame = parseMpegHeader(window, i);
    if (!frame) continue;
    if (await frameConfirmed(fh, size, window, pos, i, frame)) {
      return { offset: pos + i, frame, hasId3v2 };
    }
  }
  throw broken('MP3 contains no valid audio frame');
}

async function frameConfirmed(
  fh: ProbeSource,
  size: number,
  window: Buffer,
  windowPos: number,
  i: number,
  frame: MpegFrame,
): Promise<boolean> {
  const next = windowPos + i + frame.frameLength;
  if (next > size) return false; // frame runs past the end of the file
  if (next === size) return true; // single last frame
  const after = next - windowPos + 10 <= window.length ? window.subarray(next - windowPos, next - windowPos + 10) : await readAt(fh, next, 10);
  const nextFrame = parseMpegHeader(after, 0);
  if (nextFrame) return nextFrame.version === frame.version && nextFrame.sampleRate === frame.sampleRate;
  // An ID3v1 ("TAG"), APE ("APETAGEX") or Lyrics3 tag may follow the last frame.
  const tag = after.subarray(0, 3).toString('latin1');
  return tag === 'TAG' || tag === 'APE' || tag === 'LYR';
}

async function probeMp3(src: ProbeSource, size: number, start: Mp3Start): Promise<AudioInfo> {
  let durationSec: number | undefined;
  let sampleRate = start.frame.sampleRate;
  let channels = start.frame.channels;
  try {
    // Force the MPEG parser by MIME type: music-metadata would otherwise pick its parser from
    // the file extension. A file's blob gives it random access without loading the file; for an
    // upload it sees the head and the total size (Xing/Info header or a CBR estimate).
    // loaded on first use: most archives are WAV, and the module costs ~80 ms to load
    const { parseBlob, parseBuffer } = await import('music-metadata');
    const meta = src.blob
      ? await parseBlob(await src.blob(), { duration: true, skipCovers: true })
      : await parseBuffer(await src.read(0, Math.min(size, 1 << 20)), { mimeType: 'audio/mpeg', size }, { duration: false, skipCovers: true });
    durationSec = meta.format.duration;
    if (meta.format.sampleRate) sampleRate = meta.format.sampleRate;
    if (meta.format.numberOfChannels) channels = meta.format.numberOfChannels;
  } catch {
    throw broken('MP3 could not be parsed');
  }
  if (durationSec === undefined || !Number.isFinite(durationSec) || durationSec <= 0) {
    // Fallback: CBR estimate from the first frame.
    const samplesPerFrame = start.frame.version === 1 ? 1152 : 576;
    const frames = Math.floor((size - start.offset) / start.frame.frameLength);
    if (frames === 0) throw broken('MP3 contains no audio');
    durationSec = (frames * samplesPerFrame) / start.frame.sampleRate;
  }
  return {
    format: 'mp3',
    codec: 'mp3',
    sampleRate,
    channels,
    durationMs: Math.round(durationSec * 1000),
    mp3: { firstFrameOffset: start.offset, hasId3v2: start.hasId3v2, mpegVersion: start.frame.version },
  };
}
