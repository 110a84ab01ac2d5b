/**
 * What replaces an identifier's samples: digital silence, or a 1 kHz tone (the broadcast "bleep",
 * which tells a listener that something was removed rather than that the caller paused).
 * Samples are written in the recording's own encoding, so the rest of the file is untouched.
 */
import type { AudioCodec } from '../audio/probe.js';

export type Fill = 'silence' | 'tone';

export const TONE_HZ = 1000;
/** -14 dBFS: clearly audible, well below clipping after any resampling */
export const TONE_AMPLITUDE = 0.2;

/** A frame range [start, end) in samples per channel. */
export interface FrameRange {
  start: number;
  end: number;
}

/** the layout of the samples to write: one frame holds `channels` samples of `blockAlign / channels` bytes */
export interface SampleFormat {
  codec: AudioCodec;
  channels: number;
  blockAlign: number;
  sampleRate: number;
}

/**
 * Writes frames [firstFrame, firstFrame + count) of the fill into `target` at `offset`. The tone's
 * phase follows the absolute frame number, so a span written in pieces is one continuous tone.
 */
export function writeFill(target: Buffer, offset: number, firstFrame: number, count: number, format: SampleFormat, fill: Fill): void {
  const width = format.blockAlign / format.channels;
  for (let f = 0; f < count; f++) {
    const value = fill === 'silence' ? 0 : TONE_AMPLITUDE * Math.sin((2 * Math.PI * TONE_HZ * (firstFrame + f)) / format.sampleRate);
    const frameAt = offset + f * format.blockAlign;
    for (let c = 0; c < format.channels; c++) writeSample(target, frameAt + c * width, width, format.codec, value);
  }
}

/** one sample of `value` in [-1, 1]; bytes of a container wider than the sample are zero */
function writeSample(b: Buffer, at: number, width: number, codec: AudioCodec, value: number): void {
  b.fill(0, at, at + width);
  const int = (bits: number) => Math.max(-(2 ** (bits - 1)), Math.min(2 ** (bits - 1) - 1, Math.round(value * (2 ** (bits - 1) - 1))));
  switch (codec) {
    case 'pcm_u8':
      b[at] = int(8) + 128;
      return;
    case 'pcm_s16le':
      b.writeInt16LE(int(16), at);
      return;
    case 'pcm_s24le':
      b.writeIntLE(int(24), at, 3);
      return;
    case 'pcm_s32le':
      b.writeInt32LE(int(32), at);
      return;
    case 'pcm_f32le':
      b.writeFloatLE(value, at);
      return;
    case 'pcm_f64le':
      b.writeDoubleLE(value, at);
      return;
    case 'pcm_mulaw':
      b[at] = linearToMulaw(int(16));
      return;
    case 'pcm_alaw':
      b[at] = linearToAlaw(int(16));
      return;
    case 'mp3':
      throw new Error('MP3 is redacted as decoded PCM');
  }
}

/** ITU-T G.711 mu-law encoding of a 16-bit sample (the reference algorithm; 0 encodes as 0xFF) */
export function linearToMulaw(sample: number): number {
  const BIAS = 0x84;
  const CLIP = 32635;
  const sign = sample < 0 ? 0x80 : 0;
  let magnitude = Math.min(Math.abs(sample), CLIP) + BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (magnitude & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  magnitude = sign | (exponent << 4) | mantissa;
  return ~magnitude & 0xff;
}

const ALAW_SEGMENT_ENDS = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];

/** ITU-T G.711 A-law encoding of a 16-bit sample (the reference algorithm; 0 encodes as 0xD5) */
export function linearToAlaw(sample: number): number {
  let pcm = sample >> 3;
  let mask: number;
  if (pcm >= 0) {
    mask = 0xd5;
  } else {
    mask = 0x55;
    pcm = -pcm - 1;
  }
  const segment = ALAW_SEGMENT_ENDS.findIndex((end) => pcm <= end);
  if (segment === -1) return 0x7f ^ mask;
  const value = (segment << 4) | (segment < 2 ? (pcm >> 1) & 0x0f : (pcm >> segment) & 0x0f);
  return value ^ mask;
}

/** sorted, merged frame ranges for time spans in seconds, widened by `paddingSeconds`, clipped to the file */
export function frameRanges(spans: readonly { start: number; end: number }[], sampleRate: number, totalFrames: number, paddingSeconds: number): FrameRange[] {
  const ranges = spans
    .map((s) => ({
      start: Math.max(0, Math.floor((s.start - paddingSeconds) * sampleRate)),
      end: Math.min(totalFrames, Math.ceil((s.end + paddingSeconds) * sampleRate)),
    }))
    .filter((r) => r.end > r.start)
    .sort((a, b) => a.start - b.start);
  const merged: FrameRange[] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else merged.push({ ...r });
  }
  return merged;
}

/**
 * Applies the fill to `chunk`, which holds sample bytes [chunkStart, chunkStart + chunk.length)
 * counted from the first sample. Frames may straddle chunk boundaries.
 */
export function fillChunk(chunk: Buffer, chunkStart: number, ranges: readonly FrameRange[], format: SampleFormat, fill: Fill): void {
  const chunkEnd = chunkStart + chunk.length;
  for (const r of ranges) {
    const byteStart = r.start * format.blockAlign;
    const byteEnd = r.end * format.blockAlign;
    if (byteEnd <= chunkStart) continue;
    if (byteStart >= chunkEnd) break;
    const from = Math.max(byteStart, chunkStart);
    const to = Math.min(byteEnd, chunkEnd);
    const firstFrame = Math.floor(from / format.blockAlign);
    const lastFrame = Math.ceil(to / format.blockAlign);
    const frames = Buffer.alloc((lastFrame - firstFrame) * format.blockAlign);
    writeFill(frames, 0, firstFrame, lastFrame - firstFrame, format, fill);
    frames.copy(chunk, from - chunkStart, from - firstFrame * format.blockAlign, to - firstFrame * format.blockAlign);
  }
}
