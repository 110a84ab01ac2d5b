/**
 * The waveform a player draws: the loudest sample of each of a few thousand equal slices of the
 * call, from 0 to 1. Computed here so that the browser need not download and decode a whole
 * hour-long call before it can show it; the browser then fetches only the ranges it plays.
 * ffmpeg decodes every format the vault stores, through pipes: nothing reaches the disk.
 */
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { CallvaultError, ErrorCodes, isCallvaultError } from '../errors.js';
import { ffmpeg } from './ffmpeg.js';

/** samples per second the peaks are taken from: telephone audio has nothing above 4 kHz */
const RATE = 8000;
const SLICES_PER_SECOND = 20;
const MAX_SLICES = 8000;

export function sliceCount(durationMs: number): number {
  return Math.max(1, Math.min(MAX_SLICES, Math.round((durationMs / 1000) * SLICES_PER_SECOND)));
}

/**
 * The peaks of `audio`. A failure to read the audio (a segment that does not decrypt, the store)
 * is thrown as it is, even when ffmpeg made something of the part it got; a failure of ffmpeg
 * (missing, or refusing the audio) is CV_BROKEN_AUDIO. ffmpeg is killed on every path.
 */
export async function waveformPeaks(audio: AsyncIterable<Buffer>, format: string, durationMs: number): Promise<number[]> {
  const slices = sliceCount(durationMs);
  const framesPerSlice = Math.max(1, Math.ceil(((durationMs / 1000) * RATE) / slices));
  const decoder = ffmpeg(['-f', format === 'mp3' ? 'mp3' : 'wav', '-i', 'pipe:0', '-map', '0:a:0', '-ac', '1', '-ar', String(RATE), '-f', 's16le', '-c:a', 'pcm_s16le', 'pipe:1']);
  const peaks: number[] = [];
  let current = 0;
  let inSlice = 0;
  let carry: Buffer | null = null;
  // the source's own error, told apart from ffmpeg closing its stdin early (EPIPE)
  let sourceError: unknown;
  const source = async function* () {
    try {
      yield* audio;
    } catch (err) {
      sourceError = err;
      throw err;
    }
  };
  const feeding = pipeline(Readable.from(source()), decoder.child.stdin).catch(() => undefined);
  try {
    for await (const raw of decoder.child.stdout as AsyncIterable<Buffer>) {
      const chunk: Buffer = carry ? Buffer.concat([carry, raw]) : raw;
      const whole = chunk.length & ~1;
      carry = whole < chunk.length ? chunk.subarray(whole) : null;
      for (let i = 0; i < whole; i += 2) {
        const v = Math.abs(chunk.readInt16LE(i));
        if (v > current) current = v;
        if (++inSlice === framesPerSlice) {
          peaks.push(current);
          current = 0;
          inSlice = 0;
        }
      }
    }
    await feeding;
    if (sourceError !== undefined) throw sourceError;
    if ((await decoder.exit) !== 0) throw new CallvaultError(ErrorCodes.BROKEN_AUDIO, 'the audio could not be decoded for its waveform');
  } catch (err) {
    throw err === sourceError || isCallvaultError(err) ? err : new CallvaultError(ErrorCodes.BROKEN_AUDIO, 'the audio could not be decoded for its waveform', { cause: err });
  } finally {
    decoder.child.kill('SIGKILL');
  }
  if (inSlice > 0) peaks.push(current);
  return peaks.map((p) => Math.round((p / 32768) * 1000) / 1000);
}
