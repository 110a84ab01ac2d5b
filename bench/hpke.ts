/**
 * Wrapping and unwrapping a recording's data key with HPKE (RFC 9180: DHKEM(P-256, HKDF-SHA256),
 * HKDF-SHA256, AES-256-GCM, base mode): callvault's node:crypto construction (src/keys/rfc9180.ts,
 * through wrapDataKey / unwrapDataKey) against @hpke/core 1.9 (WebCrypto), which it replaced and
 * which the tests keep as the reference.
 *
 * In this process, one thread: each contender wraps (or unwraps) a fresh 32-byte key to one
 * recipient key pair, with the info a recording's key carries, in a loop of about SECONDS each,
 * interleaved round by round; 200 untimed operations of each first. Every unwrap's result is
 * compared with the key wrapped.
 */
import { randomBytes } from 'node:crypto';
import { Aes256Gcm, CipherSuite, DhkemP256HkdfSha256, HkdfSha256 } from '@hpke/core';
import { dataKeyContext, generateControllerKeyPair, Recipient, unwrapDataKey, wrapDataKey } from '../src/keys/hpke.js';
import { fmt, median, nowSeconds, type Benchmark, type BenchOptions, type BenchResult, type Row } from './common.js';

const SECONDS = 1;
const WARMUP = 200;

function ab(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

type Contender = 'wrap, node:crypto' | 'wrap, @hpke/core' | 'unwrap, node:crypto' | 'unwrap, @hpke/core';

export const hpkeBenchmark: Benchmark = {
  name: 'hpke',
  description: 'HPKE wrap and unwrap of a data key: node:crypto (src/keys/rfc9180.ts) vs @hpke/core (ms per key, ratio)',
  async run(options: BenchOptions): Promise<BenchResult> {
    const rounds = options.rounds ?? 3;
    const seconds = Number(process.env.BENCH_HPKE_SECONDS || SECONDS);
    const pair = generateControllerKeyPair();
    const recipient = new Recipient(pair.privateKey, pair.publicKey);
    const suite = new CipherSuite({ kem: new DhkemP256HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
    const publicKey = await suite.kem.deserializePublicKey(ab(pair.publicKey));
    const privateKey = await suite.kem.deserializePrivateKey(ab(pair.privateKey));
    const info = dataKeyContext('6f1c2a3e-8d4b-4c1e-9a7f-2b5d8e0c4a11', '0b7e9f2c-3a14-4d6b-8c5e-7f1a2b3c4d5e');
    const dataKey = randomBytes(32);
    const wrapped = await wrapDataKey(pair.publicKey, dataKey, info);

    const ops: Record<Contender, () => Promise<void>> = {
      'wrap, node:crypto': async () => void (await wrapDataKey(pair.publicKey, randomBytes(32), info)),
      'wrap, @hpke/core': async () => {
        const sender = await suite.createSenderContext({ recipientPublicKey: publicKey, info: ab(info) });
        await sender.seal(ab(randomBytes(32)));
      },
      'unwrap, node:crypto': async () => {
        if (!(await unwrapDataKey(recipient, wrapped, info)).equals(dataKey)) throw new Error('unwrap gave another key');
      },
      'unwrap, @hpke/core': async () => {
        const pt = await suite.open({ recipientKey: privateKey, enc: ab(wrapped.subarray(0, 65)), info: ab(info) }, ab(wrapped.subarray(65)));
        if (!Buffer.from(pt).equals(dataKey)) throw new Error('@hpke/core unwrapped another key');
      },
    };
    const names = Object.keys(ops) as Contender[];
    for (const who of names) for (let i = 0; i < WARMUP; i++) await ops[who]();

    const perOp: Record<Contender, number[]> = { 'wrap, node:crypto': [], 'wrap, @hpke/core': [], 'unwrap, node:crypto': [], 'unwrap, @hpke/core': [] };
    const counts: Record<Contender, number> = { 'wrap, node:crypto': 0, 'wrap, @hpke/core': 0, 'unwrap, node:crypto': 0, 'unwrap, @hpke/core': 0 };
    for (let r = 0; r < rounds; r++) {
      const order = names.map((_, i) => names[(i + r) % names.length]!);
      for (const who of order) {
        let n = 0;
        const t0 = nowSeconds();
        let t = t0;
        while (t - t0 < seconds) {
          for (let i = 0; i < 20; i++) await ops[who]();
          n += 20;
          t = nowSeconds();
        }
        perOp[who].push(((t - t0) / n) * 1000);
        counts[who] += n;
      }
      options.log(`round ${r + 1}/${rounds}: ${names.map((who) => `${who} ${fmt(perOp[who][r]!, 3)} ms`).join(', ')}`);
    }
    const m = (who: Contender) => median(perOp[who]);
    const row = (who: Contender): Row => ({
      label: who,
      value: m(who),
      unit: 'ms',
      samples: perOp[who],
      note: `median of ${rounds} rounds of about ${seconds} s; ${counts[who]} keys; ${fmt(1000 / m(who), 0)} keys/s`,
    });
    const wrapRatio = m('wrap, node:crypto') / m('wrap, @hpke/core');
    const unwrapRatio = m('unwrap, node:crypto') / m('unwrap, @hpke/core');
    return {
      name: 'hpke',
      rows: names.map(row),
      ratios: [
        { label: 'wrap: node:crypto time / @hpke/core time (target < 1)', ratio: wrapRatio, comparator: '<', target: 1, pass: wrapRatio < 1 },
        { label: 'unwrap: node:crypto time / @hpke/core time (target < 1)', ratio: unwrapRatio, comparator: '<', target: 1, pass: unwrapRatio < 1 },
      ],
      notes: [
        'one recipient key pair, a fresh 32-byte data key per wrap, info = dataKeyContext(keyId, recordingId); wrapped = enc (65 bytes) ‖ ciphertext (48)',
        `in this process, one thread, ${WARMUP} untimed operations of each first; node ${process.version}`,
      ],
    };
  },
};
