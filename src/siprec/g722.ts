/**
 * G.722 (ITU-T G.722, 7 kHz audio coding within 64 kbit/s) decoding, mode 1 (64 kbit/s: each byte
 * is a 6-bit lower sub-band code and a 2-bit higher sub-band code), to 16-bit linear PCM at 16 kHz,
 * or at 8 kHz from the lower sub-band alone. Written from the recommendation's decoder: block 5L
 * (the lower band's 6-bit inverse quantizer and reconstruction), blocks 2L/3L/4L (its adaptation
 * and predictor, on the 4-bit truncated code), the same blocks for the higher band's 2-bit codes,
 * and the receive QMF (Table 11's 24 coefficients). No npm package decodes G.722; the test checks
 * this decoder sample by sample against ffmpeg's (test/siprec/g722.test.ts).
 *
 * ADPCM carries its state from one code to the next: one decoder per stream, fed the stream's
 * codes in timestamp order (the recorder decodes as it writes its window out, not as packets
 * arrive, so a reordered packet is decoded in its place).
 */

/** the quantizer adaptation tables: the log scale factor's step per code (WL, WH) and ILB's antilog */
const WL = [-60, -30, 58, 172, 334, 538, 1198, 3042];
/** the 4-bit lower-band code → its magnitude class for WL */
const RIL4 = [0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0];
const WH = [0, -214, 798];
const RIH2 = [2, 1, 2, 1];
const ILB = [
  2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834, 2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756,
  3838, 3922, 4008,
];
/** the inverse quantizers' outputs (QQ2, QQ4, QQ6 of the recommendation, scaled by 8), indexed by code */
const QM2 = [-7408, -1616, 7408, 1616];
const QM4 = [0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0];
const QM6 = [
  -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856, -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576,
  -3168, -2776, -2400, -2032, -1688, -1360, -1040, -728, 24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192, 10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456, 4944, 4464, 4008,
  3576, 3168, 2776, 2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432, -136,
];
/** the QMF's coefficients (Table 11); their sum, the filter's DC gain, is 4096 */
const QMF = [3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11];

function limit(x: number, low: number, high: number): number {
  return Math.min(Math.max(x, low), high);
}

function sat16(x: number): number {
  return limit(x, -32768, 32767);
}

/** one sub-band's ADPCM state: the adaptive predictor (two poles, six zeros) and the quantizer scale */
class Band {
  /** the signal estimate (s = sp + sz) */
  s = 0;
  sz = 0;
  /** the reconstructed signal, partial reconstructed signal and difference signal, most recent first */
  readonly r = [0, 0, 0];
  readonly p = [0, 0, 0];
  readonly d = [0, 0, 0, 0, 0, 0, 0];
  /** the pole and zero predictor coefficients */
  readonly a = [0, 0, 0];
  readonly b = [0, 0, 0, 0, 0, 0, 0];
  /** the log scale factor (NBL, NBH) and the scale factor (DETL, DETH) */
  nb = 0;
  det: number;

  constructor(det: number) {
    this.det = det;
  }

  /** blocks 3L/3H: adapts the scale factor by the code's step, within the band's bound */
  scale(step: number, bound: number, shiftBase: number): void {
    this.nb = limit(((this.nb * 127) >> 7) + step, 0, bound);
    const wd1 = ILB[(this.nb >> 6) & 31]!;
    const shift = shiftBase - (this.nb >> 11);
    this.det = (shift < 0 ? wd1 << -shift : wd1 >> shift) << 2;
  }

  /** block 4: the predictor's update by the quantized difference signal `dq` */
  adapt(dq: number): void {
    const { r, p, d, a, b } = this;
    // RECONS, PARREC
    r[0] = sat16(this.s + dq);
    p[0] = sat16(this.sz + dq);
    d[0] = dq;
    const sg0 = p[0] >> 15;
    const sg1 = p[1]! >> 15;
    const sg2 = p[2]! >> 15;
    // UPPOL2: the second pole coefficient
    const wd1 = sat16(a[1]! << 2);
    const wd2 = sg0 === sg1 ? Math.min(-wd1, 32767) : wd1;
    const a2 = limit((sg0 === sg2 ? 128 : -128) + (wd2 >> 7) + ((a[2]! * 32512) >> 15), -12288, 12288);
    // UPPOL1: the first pole coefficient, bounded so that the two poles stay stable
    const bound = sat16(15360 - a2);
    const a1 = limit(sat16((sg0 === sg1 ? 192 : -192) + ((a[1]! * 32640) >> 15)), -bound, bound);
    // UPZERO: the zero coefficients, each moved toward agreement of its delayed difference's sign
    const step = dq === 0 ? 0 : 128;
    const sgd = dq >> 15;
    for (let i = 6; i > 0; i--) b[i] = sat16((d[i]! >> 15 === sgd ? step : -step) + ((b[i]! * 32640) >> 15));
    // DELAYA
    for (let i = 6; i > 0; i--) d[i] = d[i - 1]!;
    r[2] = r[1]!;
    r[1] = r[0];
    p[2] = p[1]!;
    p[1] = p[0];
    a[1] = a1;
    a[2] = a2;
    // FILTEP, FILTEZ, PREDIC
    const sp = sat16(((a[1] * sat16(r[1] * 2)) >> 15) + ((a[2] * sat16(r[2] * 2)) >> 15));
    let sz = 0;
    for (let i = 6; i > 0; i--) sz += (b[i]! * sat16(d[i]! * 2)) >> 15;
    this.sz = sat16(sz);
    this.s = sat16(sp + this.sz);
  }
}

export class G722Decoder {
  readonly #low = new Band(32);
  readonly #high = new Band(8);
  /** the receive QMF's delay line: the last 12 pairs of (rl + rh, rl - rh), oldest first */
  readonly #x = new Int32Array(24);

  /** `sampleRate` 16000: the full band; 8000: the lower sub-band alone (0-4 kHz), which needs no filter */
  constructor(readonly sampleRate: 16000 | 8000 = 16000) {}

  /** samples `decode` writes per byte of G.722 */
  get samplesPerByte(): number {
    return this.sampleRate === 16000 ? 2 : 1;
  }

  /** decodes `codes` in order into `out` from `offset`; returns the samples written */
  decode(codes: Uint8Array, out: Int16Array, offset: number): number {
    let o = offset;
    const low = this.#low;
    const high = this.#high;
    const x = this.#x;
    for (let j = 0; j < codes.length; j++) {
      const code = codes[j]!;
      const il = code & 0x3f;
      // block 5L: the 6-bit inverse quantizer and the reconstructed lower band, limited to 15 bits
      const rl = limit(low.s + ((low.det * QM6[il]!) >> 15), -16384, 16383);
      // blocks 2L, 3L, 4L run on the code truncated to 4 bits, as the encoder's did
      const il4 = il >> 2;
      const dl = (low.det * QM4[il4]!) >> 15;
      low.scale(WL[RIL4[il4]!]!, 18432, 8);
      low.adapt(dl);
      if (this.sampleRate === 8000) {
        out[o++] = rl << 1;
        continue;
      }
      const ih = code >> 6;
      const dh = (high.det * QM2[ih]!) >> 15;
      const rh = limit(high.s + dh, -16384, 16383);
      high.scale(WH[RIH2[ih]!]!, 22528, 10);
      high.adapt(dh);
      // the receive QMF: two output samples per pair of sub-band samples
      x.copyWithin(0, 2);
      x[22] = rl + rh;
      x[23] = rl - rh;
      let even = 0;
      let odd = 0;
      for (let i = 0; i < 12; i++) {
        even += x[2 * i]! * QMF[i]!;
        odd += x[2 * i + 1]! * QMF[11 - i]!;
      }
      // the filter's gain of 4096, less one bit for the sub-bands' 15-bit range
      out[o++] = sat16(odd >> 11);
      out[o++] = sat16(even >> 11);
    }
    return o - offset;
  }
}
