/**
 * Tiny WAV audio for the transcription tests: 8 kHz mono 16-bit PCM, made in memory (a tone
 * with a little variation, no speech: the stand-in engine only reads the length).
 */

import { wavHeader } from '../fixtures/audio.js';

export const TEST_RATE = 8000;

/** `seconds` of 8 kHz mono PCM as a WAV file */
export function makeWav(seconds: number, rate = TEST_RATE): Uint8Array {
  const samples = Math.round(seconds * rate);
  const data = samples * 2;
  const header = wavHeader({ formatTag: 1, channels: 1, rate, bits: 16, dataBytes: data });
  const buf = Buffer.concat([header, Buffer.alloc(data)]);
  for (let i = 0; i < samples; i++) {
    const t = i / rate;
    const v = Math.sin(2 * Math.PI * 220 * t) * 0.3 + Math.sin(2 * Math.PI * 3 * t) * Math.sin(2 * Math.PI * 440 * t) * 0.2;
    buf.writeInt16LE(Math.round(v * 32767), header.length + i * 2);
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** the length in seconds of a PCM WAV file, or undefined when it is not one */
export function wavSeconds(bytes: Uint8Array): number | undefined {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') return undefined;
  let byteRate: number | undefined;
  let pos = 12;
  while (pos + 8 <= buf.length) {
    const id = buf.toString('latin1', pos, pos + 4);
    const size = buf.readUInt32LE(pos + 4);
    if (id === 'fmt ' && size >= 16 && pos + 8 + 16 <= buf.length) byteRate = buf.readUInt32LE(pos + 8 + 8);
    if (id === 'data') return byteRate ? Math.min(size, buf.length - pos - 8) / byteRate : undefined;
    pos += 8 + size + (size % 2);
  }
  return undefined;
}
