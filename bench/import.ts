/**
 * Import throughput against a plain copy of the same files on the same disk.
 *
 * Contenders, interleaved in every round (the order rotates from round to round):
 *   cp        `cp -r SRC DST`                 copies into the page cache; nothing is durable yet
 *   cp+sync   `cp -r SRC DST && sync`         the same, made durable (import fsyncs every object)
 *   import    `callvault --data D import SRC` fresh data directory, `init`ed beforehand (not timed),
 *                                             run without CALLVAULT_PASSPHRASE
 * Before every timed run the previous destination is removed and `sync` flushes all dirty pages
 * (not timed), so no contender pays for another's writeback. The sources were written just before
 * and stay in the page cache for every contender alike.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import {
  CLI,
  countReport,
  envWithoutPassphrase,
  fmt,
  initDataDir,
  makeScratch,
  median,
  nowSeconds,
  run,
  variedSeconds,
  writeWav,
  BYTES_PER_SECOND,
  type Benchmark,
  type BenchOptions,
  type BenchResult,
} from './common.js';

const DEFAULT_FILES = 300;
/** about 2,000,000 bytes of samples: 125 s of 8 kHz 16-bit mono */
const SECONDS_PER_FILE = 2_000_000 / BYTES_PER_SECOND;
/** issue 19: import at disk speed, against a copy that is durable as the import is */
const TARGET = 0.5;

/**
 * What the crypto alone allows: an import hashes the plaintext (SHA-256), encrypts it (AES-256-GCM)
 * and hashes the ciphertext, on every core. Measured in this process over 64 MiB, one core.
 */
function cryptoCeilingMBps(): { perCore: number; cores: number } {
  const data = randomBytes(64 * 1024 * 1024);
  const key = randomBytes(32);
  const t = nowSeconds();
  // in the importer's 1 MiB reads, each encrypted into a buffer of its own as the import does
  const content = createHash('sha256');
  const sealed = createHash('sha256');
  const cipher = createCipheriv('aes-256-gcm', key, randomBytes(12));
  for (let at = 0; at < data.length; at += 1024 * 1024) {
    const chunk = data.subarray(at, at + 1024 * 1024);
    content.update(chunk);
    sealed.update(cipher.update(chunk));
  }
  sealed.update(cipher.final());
  content.digest();
  sealed.digest();
  return { perCore: data.length / 1e6 / (nowSeconds() - t), cores: availableParallelism() };
}

type Contender = 'cp' | 'cp+sync' | 'import';
const CONTENDERS: Contender[] = ['cp', 'cp+sync', 'import'];

export const importBenchmark: Benchmark = {
  name: 'import',
  description: '`callvault import` of many ~2 MB WAV files vs `cp -r` of the same files (MB/s, ratio import/cp)',
  async run(options: BenchOptions): Promise<BenchResult> {
    const files = options.files ?? DEFAULT_FILES;
    const rounds = options.rounds ?? 3;
    const log = options.log;
    const scratch = await makeScratch('import', options.keep);
    try {
      log(`scratch: ${scratch.filesystem}`);
      const src = join(scratch.dir, 'src');
      await mkdir(src);
      const t0 = nowSeconds();
      let totalBytes = 0;
      for (let i = 0; i < files; i++) {
        totalBytes += await writeWav(join(src, `call-${String(i).padStart(4, '0')}.wav`), variedSeconds(SECONDS_PER_FILE, i, files), i + 1);
      }
      await run('sync', []);
      log(`generated ${files} WAV files, ${fmt(totalBytes / 1e6)} MB, in ${fmt(nowSeconds() - t0)} s`);

      // fixed cost of one import process (start node, open the vault, find nothing to do)
      const emptyData = join(scratch.dir, 'data-empty');
      const emptySrc = join(scratch.dir, 'empty');
      await mkdir(emptySrc);
      await initDataDir(emptyData);
      const overhead: number[] = [];
      for (let i = 0; i < rounds; i++) {
        overhead.push((await run(process.execPath, [CLI, '--data', emptyData, 'import', emptySrc, '--json'], { env: envWithoutPassphrase() })).seconds);
      }

      const wall: Record<Contender, number[]> = { cp: [], 'cp+sync': [], import: [] };
      for (let r = 0; r < rounds; r++) {
        const order = CONTENDERS.map((_, i) => CONTENDERS[(i + r) % CONTENDERS.length]!);
        for (const who of order) {
          const dst = join(scratch.dir, `dst-${who}-${r}`);
          if (who === 'import') await initDataDir(dst);
          await run('sync', []);
          let s: number;
          if (who === 'import') {
            const res = await run(process.execPath, [CLI, '--data', dst, 'import', src, '--json'], { env: envWithoutPassphrase() });
            s = res.seconds;
            const counts = countReport(res.stdout);
            if (counts.imported !== files || counts.failed !== 0) {
              throw new Error(`import stored ${counts.imported} of ${files} files (${counts.skipped} skipped, ${counts.failed} failed)`);
            }
          } else {
            const t = nowSeconds();
            await run('cp', ['-r', src, dst]);
            if (who === 'cp+sync') await run('sync', []);
            s = nowSeconds() - t;
          }
          wall[who].push(s);
          log(`round ${r + 1}/${rounds} ${who.padEnd(7)} ${fmt(s, 2)} s  ${fmt(totalBytes / 1e6 / s)} MB/s`);
          await rm(dst, { recursive: true, force: true });
        }
      }

      const mbps = (who: Contender) => wall[who].map((s) => totalBytes / 1e6 / s);
      const m = (who: Contender) => median(mbps(who));
      const ratioCp = m('import') / m('cp');
      const ratioSync = m('import') / m('cp+sync');
      const rows = CONTENDERS.map((who) => ({
        label: who === 'import' ? 'callvault import' : who === 'cp' ? 'cp -r' : 'cp -r && sync',
        value: m(who),
        unit: 'MB/s',
        samples: mbps(who),
        note: `median of ${rounds}; wall ${wall[who].map((s) => fmt(s, 2)).join(', ')} s`,
      }));
      const ceiling = cryptoCeilingMBps();
      rows.push({
        label: 'crypto ceiling (SHA-256 + AES-256-GCM + SHA-256)',
        value: ceiling.perCore * ceiling.cores,
        unit: 'MB/s',
        samples: [ceiling.perCore],
        note: `${fmt(ceiling.perCore)} MB/s on one core × ${ceiling.cores} cores, nothing else done; import reaches ${fmt((m('import') / (ceiling.perCore * ceiling.cores)) * 100)} % of it`,
      });
      rows.push({
        label: 'import fixed cost (empty dir)',
        value: median(overhead),
        unit: 's',
        samples: overhead,
        note: 'node start, open vault, nothing to import; included in the import time above',
      });
      return {
        name: 'import',
        rows,
        ratios: [{ label: 'import / (cp -r && sync)', ratio: ratioSync, comparator: '>=', target: TARGET, pass: ratioSync >= TARGET }],
        notes: [
          `import / cp -r: ${fmt(ratioCp, 2)} (no target: cp -r leaves its copy in the page cache, not durable)`,
          `${files} files of ${fmt(totalBytes / files / 1e6, 2)} MB on average (about ${SECONDS_PER_FILE} s of 8 kHz 16-bit mono, every file a different size), ${fmt(totalBytes / 1e6)} MB in all`,
          scratch.filesystem,
          'sources are in the page cache for every contender; dirty pages are flushed (untimed) before each timed run',
        ],
      };
    } finally {
      await scratch.cleanup();
    }
  },
};
