/**
 * Redacted WAV, in process and streaming: the samples inside the ranges are overwritten in the
 * file's own encoding, every other sample is copied byte for byte. The header is rebuilt from the
 * `fmt ` (and `fact`) chunk only: LIST/INFO, bext, iXML and other metadata chunks are dropped,
 * because recorders write caller numbers and agent names into them.
 */
import type { AudioInfo } from '../audio/probe.js';
import { CallvaultError, ErrorCodes } from '../errors.js';
import { fillChunk, type Fill, type FrameRange, type SampleFormat } from './fill.js';

/** reads plaintext bytes [start, end) of the original */
export type ReadRange = (start: number, end: number) => AsyncIterable<Buffer>;

/** the header a recording's own can be up to: larger ones are not recordings we redact */
const MAX_HEADER_BYTES = 16 * 1024 * 1024;

export function wavSampleFormat(info: AudioInfo): SampleFormat {
  if (!info.wav) throw redactionFailed();
  return { codec: info.codec, channels: info.channels, blockAlign: info.wav.blockAlign, sampleRate: info.sampleRate };
}

export async function* redactWav(read: ReadRange, info: AudioInfo, ranges: readonly FrameRange[], fill: Fill): AsyncGenerator<Buffer> {
  const layout = info.wav;
  if (!layout || layout.dataOffset > MAX_HEADER_BYTES || layout.dataBytes > 0xffffffff - 4096) throw redactionFailed();
  const header = await collect(read(0, layout.dataOffset));
  yield cleanHeader(header, layout.dataBytes);
  const format = wavSampleFormat(info);
  let at = 0;
  for await (const piece of read(layout.dataOffset, layout.dataOffset + layout.dataBytes)) {
    // a copy: the reader may reuse or share its buffers
    const chunk = Buffer.from(piece);
    fillChunk(chunk, at, ranges, format, fill);
    at += chunk.length;
    yield chunk;
  }
  if (layout.dataBytes % 2 === 1) yield Buffer.alloc(1);
}

/** RIFF/WAVE with the original `fmt ` and `fact` chunks and a `data` chunk of `dataBytes` */
function cleanHeader(original: Buffer, dataBytes: number): Buffer {
  const kept: Buffer[] = [];
  let pos = 12;
  while (pos + 8 <= original.length) {
    const id = original.toString('latin1', pos, pos + 4);
    const size = original.readUInt32LE(pos + 4);
    const end = pos + 8 + size;
    if (id === 'fmt ' || id === 'fact') {
      if (end > original.length) throw redactionFailed();
      const chunk = Buffer.alloc(8 + size + (size % 2));
      original.copy(chunk, 0, pos, end);
      kept.push(chunk);
    }
    if (id === 'data') break;
    pos = end + (size % 2);
  }
  if (!kept.some((c) => c.toString('latin1', 0, 4) === 'fmt ')) throw redactionFailed();
  const data = Buffer.alloc(8);
  data.write('data', 0, 'latin1');
  data.writeUInt32LE(dataBytes, 4);
  const body = Buffer.concat([Buffer.from('WAVE', 'latin1'), ...kept, data]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(body.length + dataBytes + (dataBytes % 2), 4);
  return Buffer.concat([riff, body]);
}

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of source) parts.push(Buffer.from(b));
  return Buffer.concat(parts);
}

export function redactionFailed(cause?: unknown): CallvaultError {
  if (cause instanceof CallvaultError) return cause;
  return new CallvaultError(ErrorCodes.REDACTION_FAILED, 'the audio could not be redacted', { cause });
}

export type { FrameRange };
