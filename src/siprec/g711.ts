/**
 * G.711 (ITU-T G.711, 1988) µ-law and A-law expansion to 16-bit linear PCM, by the tables the
 * recommendation defines: 256 entries each, computed once.
 */

function mulawSample(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return u & 0x80 ? -magnitude : magnitude;
}

function alawSample(byte: number): number {
  const a = byte ^ 0x55;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  const magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  return a & 0x80 ? magnitude : -magnitude;
}

const MULAW = Int16Array.from({ length: 256 }, (_, i) => mulawSample(i));
const ALAW = Int16Array.from({ length: 256 }, (_, i) => alawSample(i));

/** expands `payload` into `out` from `offset`; one sample per byte */
export function decodeG711(law: 'pcmu' | 'pcma', payload: Uint8Array, out: Int16Array, offset: number): void {
  const table = law === 'pcmu' ? MULAW : ALAW;
  for (let i = 0; i < payload.length; i++) out[offset + i] = table[payload[i]!]!;
}
