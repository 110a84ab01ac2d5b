/**
 * Redacted MP3 through ffmpeg: decode to 16-bit PCM, overwrite the ranges in process, encode
 * again. Audio passes only through pipes, never a file, and the output carries no tags
 * (`-map_metadata -1`): ID3 titles and comments are where recorders put caller numbers.
 *
 * MP3 cannot be edited sample-exactly: re-encoding changes every sample a little, and the encoder
 * adds its delay (about 1105 samples for LAME) in front when, as here, the output is a pipe and
 * carries no LAME header to say so. Ranges are therefore widened at their end by that delay, so
 * that every span is covered wherever the decoder places the start.
 */
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ffmpeg } from '../audio/ffmpeg.js';
import type { AudioInfo } from '../audio/probe.js';
import { fillChunk, type Fill, type FrameRange, type SampleFormat } from './fill.js';
import { redactionFailed } from './wav.js';

/** LAME's encoder delay plus the decoder's, in samples */
export const MP3_CODEC_DELAY_FRAMES = 1105 + 529;

const BITRATES_KBPS = [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];

export function widenForMp3(ranges: readonly FrameRange[], totalFrames: number): FrameRange[] {
  const merged: FrameRange[] = [];
  for (const r of ranges) {
    const widened = { start: r.start, end: Math.min(totalFrames, r.end + MP3_CODEC_DELAY_FRAMES) };
    const last = merged[merged.length - 1];
    if (last && widened.start <= last.end) last.end = Math.max(last.end, widened.end);
    else merged.push(widened);
  }
  return merged;
}

export async function* redactMp3(source: AsyncIterable<Buffer>, info: AudioInfo, plaintextSize: number, ranges: readonly FrameRange[], fill: Fill): AsyncGenerator<Buffer> {
  const rate = String(info.sampleRate);
  const channels = String(info.channels);
  const kbps = nearestBitrate((plaintextSize * 8) / Math.max(1, info.durationMs));
  const decoder = ffmpeg(['-f', 'mp3', '-i', 'pipe:0', '-map', '0:a:0', '-f', 's16le', '-c:a', 'pcm_s16le', '-ar', rate, '-ac', channels, 'pipe:1']);
  const encoder = ffmpeg(['-f', 's16le', '-ar', rate, '-ac', channels, '-i', 'pipe:0', '-map_metadata', '-1', '-c:a', 'libmp3lame', '-b:a', `${kbps}k`, '-f', 'mp3', 'pipe:1']);
  const format: SampleFormat = { codec: 'pcm_s16le', channels: info.channels, blockAlign: 2 * info.channels, sampleRate: info.sampleRate };
  let at = 0;
  const overwrite = new Transform({
    transform(chunk: Buffer, _enc, done) {
      fillChunk(chunk, at, ranges, format, fill);
      at += chunk.length;
      done(null, chunk);
    },
  });
  const feeding = pipeline(source, decoder.child.stdin).catch(() => undefined);
  const piping = pipeline(decoder.child.stdout, overwrite, encoder.child.stdin);
  try {
    for await (const chunk of encoder.child.stdout) yield chunk as Buffer;
    await piping;
    await feeding;
    if ((await decoder.exit) !== 0 || (await encoder.exit) !== 0) throw redactionFailed();
  } catch (err) {
    throw redactionFailed(err);
  } finally {
    decoder.child.kill('SIGKILL');
    encoder.child.kill('SIGKILL');
  }
}

function nearestBitrate(kbps: number): number {
  return BITRATES_KBPS.reduce((best, b) => (Math.abs(b - kbps) < Math.abs(best - kbps) ? b : best), 32);
}
