/**
 * Personal identifiers: how well `pii detect` finds them, how fast, and whether redaction removes
 * them from generated calls.
 *
 * Part 1, quality: `detectIdentifiers` on every sentence of the labelled set
 * (testdata/pii/labelled.txt, which the detector was developed against) and of the held-out set
 * (heldout.txt, written afterwards by someone who had not seen the detector). A detection counts
 * when its type and its [start, end) equal a label's exactly; precision and recall per type.
 * Target ≥ 0.98 each, on each set.
 *
 * Part 2, speed: the labelled sentences shuffled into a transcript-like text of BENCH_PII_MB
 * (default 8) MB, one sentence per line, with the plain sentences of the set as filler between
 * them. Timed in this process, contenders interleaved round by round:
 *   detect     detectIdentifiers(text)
 *   regex      one pass of a naive written-digit and e-mail pattern, the kind of detector that
 *              misses every spoken number: a floor for what scanning the text costs at all
 * MB/s of UTF-8 text. No target; the ratio detect/regex says what the Swedish number grammar costs.
 *
 * Part 3, redaction: BENCH_PII_CALLS (default 10) calls spoken by espeak-ng phrase by phrase (so the
 * true span of every spoken identifier is known): 16-bit PCM, mu-law, A-law, stereo and MP3, with
 * verbose_json transcripts writing identifiers as digits or as Swedish words. Imported into a fresh
 * vault and examined (`redactPending`, the default tone fill and 250 ms padding); then every
 * rendition is decrypted and checked:
 *   spans      each true identifier span holds the tone (> 90 % of its energy at 1 kHz, decoded by
 *              ffmpeg): target: every span
 *   identical  for WAV, every sample byte outside the spans and their padding equals the
 *              original's: target: no byte differs
 * and the time to examine and redact against the time to decrypt the same recordings once.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { detectIdentifiers } from '../src/pii/detector.js';
import { createServices } from '../src/services/index.js';
import { operatorActor } from '../src/services/actor.js';
import { openStoredRecording } from '../src/recordings/read.js';
import { redactPending } from '../src/redaction/backlog.js';
import { DEFAULT_REDACTION } from '../src/redaction/redact-recording.js';
import { Vault } from '../src/vault.js';
import { makeCallWav, makeMp3, type SyntheticCall } from '../test/fixtures/audio.js';
import { decodeMono, toneShare, wavDifferences } from '../test/fixtures/redaction-check.js';
import { verboseJson } from '../test/fixtures/transcripts.js';
import { BENCH_PASSPHRASE, makeScratch, median, nowSeconds, type Benchmark, type BenchOptions, type BenchResult } from './common.js';
import { ENTITY_TYPES, loadLabelledSet, type LabelledSentence } from './labelled-set.js';

const TARGET = 0.98;

export const piiBenchmark: Benchmark = {
  name: 'pii',
  description: 'pii detect precision/recall per type on the labelled set, detection MB/s, and redaction of generated calls',
  async run(options: BenchOptions): Promise<BenchResult> {
    const result: BenchResult = { name: 'pii', rows: [], ratios: [], notes: [] };
    const set = await loadLabelledSet('labelled');
    quality('labelled', set, result);
    quality('held-out', await loadLabelledSet('heldout'), result);
    speed(set, options, result);
    await redaction(options, result);
    return result;
  },
};

function quality(name: string, set: LabelledSentence[], result: BenchResult): void {
  const counts = Object.fromEntries(ENTITY_TYPES.map((t) => [t, { tp: 0, fp: 0, fn: 0 }]));
  const misses: string[] = [];
  let secondReadings = 0;
  for (const s of set) {
    const found = detectIdentifiers(s.text);
    const key = (e: { type: string; start: number; end: number }) => `${e.type}:${e.start}:${e.end}`;
    const truth = new Set(s.entities.map(key));
    const got = new Set(found.map(key));
    for (const [i, d] of found.entries()) {
      // the second reading of a number that is both kinds (docs/redaction.md §1) follows its first
      // over the same span: the labels name one kind, so it is counted apart, not as a false one
      const previous = found[i - 1];
      if (previous && previous.start === d.start && previous.end === d.end && !truth.has(key(d))) {
        secondReadings++;
        continue;
      }
      if (truth.has(key(d))) counts[d.type]!.tp++;
      else {
        counts[d.type]!.fp++;
        misses.push(`${name} line ${s.line}: extra ${d.type} ${JSON.stringify(s.text.slice(d.start, d.end))}`);
      }
    }
    for (const e of s.entities) {
      if (got.has(key(e))) continue;
      counts[e.type]!.fn++;
      misses.push(`${name} line ${s.line}: missed ${e.type} ${JSON.stringify(s.text.slice(e.start, e.end))}`);
    }
  }
  result.notes.push(
    `${name} set: ${set.length} sentences, ${set.reduce((n, s) => n + s.entities.length, 0)} identifiers, ${set.filter((s) => s.entities.length === 0).length} sentences without one`,
  );
  for (const type of ENTITY_TYPES) {
    const { tp, fp, fn } = counts[type]!;
    const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
    const recall = tp + fn === 0 ? 1 : tp / (tp + fn);
    result.rows.push({ label: `${name}: ${type} found`, value: tp, unit: 'spans', note: `${fp} false, ${fn} missed` });
    result.ratios.push({ label: `${name} ${type} precision`, ratio: precision, comparator: '>=', target: TARGET, pass: precision >= TARGET });
    result.ratios.push({ label: `${name} ${type} recall`, ratio: recall, comparator: '>=', target: TARGET, pass: recall >= TARGET });
  }
  result.notes.push(`${name} set: ${secondReadings} numbers that are a personnummer and a phone number reported as both`);
  for (const m of misses) result.notes.push(m);
}

const NAIVE = /\+?\d[\d -]{5,}\d|[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g;

function speed(set: LabelledSentence[], options: BenchOptions, result: BenchResult): void {
  const targetBytes = Number(process.env.BENCH_PII_MB ?? 8) * 1e6;
  const plain = set.filter((s) => s.entities.length === 0).map((s) => s.text);
  const lines: string[] = [];
  let bytes = 0;
  for (let i = 0; bytes < targetBytes; i++) {
    const line = i % 4 === 0 ? set[(i * 7919) % set.length]!.text : plain[(i * 104729) % plain.length]!;
    lines.push(line);
    bytes += Buffer.byteLength(line) + 1;
  }
  const text = lines.join('\n');
  const mb = Buffer.byteLength(text) / 1e6;
  const samples: Record<'detect' | 'regex', number[]> = { detect: [], regex: [] };
  let found = 0;
  for (let round = 0; round < (options.rounds ?? 3); round++) {
    let t = nowSeconds();
    found = detectIdentifiers(text).length;
    samples.detect.push(mb / (nowSeconds() - t));
    t = nowSeconds();
    let n = 0;
    for (const _ of text.matchAll(NAIVE)) n++;
    samples.regex.push(mb / (nowSeconds() - t));
    options.log(`round ${round + 1}: detect ${samples.detect.at(-1)!.toFixed(1)} MB/s, regex ${samples.regex.at(-1)!.toFixed(1)} MB/s (${n} regex matches)`);
  }
  result.rows.push({
    label: `detectIdentifiers over ${mb.toFixed(1)} MB of transcript text`,
    value: median(samples.detect),
    unit: 'MB/s',
    samples: samples.detect,
    note: `${found} identifiers`,
  });
  result.rows.push({ label: 'naive digit/e-mail regex, one pass (floor)', value: median(samples.regex), unit: 'MB/s', samples: samples.regex });
  result.notes.push(`detect/regex: ${(median(samples.detect) / median(samples.regex)).toFixed(2)} (no target); an hour-long call is about 50 KB of transcript`);
}

async function redaction(options: BenchOptions, result: BenchResult): Promise<void> {
  const count = Number(process.env.BENCH_PII_CALLS ?? 10);
  const scratch = await makeScratch('callvault-bench-pii-', options.keep);
  try {
    const src = join(scratch.dir, 'calls');
    await mkdir(src, { recursive: true });
    const kinds = ['pcm16', 'mulaw', 'alaw', 'stereo', 'mp3'] as const;
    const calls = new Map<string, { call: SyntheticCall; kind: (typeof kinds)[number] }>();
    for (let i = 0; i < count; i++) {
      const kind = kinds[i % kinds.length]!;
      const name = `call-${i}-${kind}.${kind === 'mp3' ? 'mp3' : 'wav'}`;
      const path = join(src, name);
      const seed = 9000 + i;
      const call =
        kind === 'mp3'
          ? await makeMp3(path, { seed })
          : await makeCallWav(path, { seed, encoding: kind === 'stereo' || kind === 'pcm16' ? 'pcm16' : kind, stereo: kind === 'stereo' });
      await writeFile(path.replace(/\.(wav|mp3)$/, '.transcript.json'), verboseJson(call, i % 2 ? 'words' : 'digits').json);
      calls.set(path, { call, kind });
    }
    const vault = await Vault.create(join(scratch.dir, 'data'), { passphrase: BENCH_PASSPHRASE, controllerId: 'region-bench', controllerName: 'Bench' });
    try {
      const { report } = await createServices(vault).ingest.importPaths(operatorActor('bench'), [src], { examine: false });
      if (report.imported.length !== count) throw new Error(`imported ${report.imported.length} of ${count}`);
      let t = nowSeconds();
      const progress = await redactPending(vault, DEFAULT_REDACTION);
      const redactSeconds = nowSeconds() - t;
      if (progress.byState.redacted !== count) throw new Error(`redacted ${JSON.stringify(progress.byState)}`);
      t = nowSeconds();
      for (const r of report.imported) for await (const _ of (await openStoredRecording(vault, (await vault.recordings.get(r.id))!)).read()) void _;
      const decryptSeconds = nowSeconds() - t;

      let spans = 0;
      let covered = 0;
      let differing = 0;
      let wavs = 0;
      const out = join(scratch.dir, 'out');
      await mkdir(out, { recursive: true });
      for (const r of report.imported) {
        const { call, kind } = calls.get(r.path)!;
        const row = (await vault.recordings.get(r.id))!;
        const parts: Buffer[] = [];
        for await (const c of (await openStoredRecording(vault, row, await vault.recordings.rendition(row.id))).read()) parts.push(c);
        const redacted = Buffer.concat(parts);
        const file = join(out, `${r.id}.${kind === 'mp3' ? 'mp3' : 'wav'}`);
        await writeFile(file, redacted);
        const samples = await decodeMono(file, call.sampleRate);
        for (const p of call.phrases.filter((x) => x.identifierSpan)) {
          spans++;
          if (toneShare(samples, call.sampleRate, p.identifierSpan!.startMs / 1000, p.identifierSpan!.endMs / 1000).share > 0.9) covered++;
        }
        if (kind !== 'mp3') {
          wavs++;
          const { outside } = wavDifferences(await readFile(r.path), redacted, call, DEFAULT_REDACTION.paddingSeconds);
          differing += outside < 0 ? redacted.length : outside;
        }
      }
      const minutes = [...calls.values()].reduce((n, c) => n + c.call.durationMs, 0) / 60_000;
      result.rows.push({ label: `identifier spans that are tone after redaction (${count} calls, ${minutes.toFixed(1)} min)`, value: covered, unit: 'spans', note: `of ${spans}` });
      result.rows.push({ label: `WAV sample bytes outside spans + padding that differ (${wavs} WAV calls)`, value: differing, unit: 'bytes' });
      result.rows.push({ label: 'examine + redact + encrypt the renditions', value: redactSeconds, unit: 's' });
      result.rows.push({ label: 'decrypt the same recordings once', value: decryptSeconds, unit: 's' });
      result.ratios.push({ label: 'spans covered', ratio: covered / spans, comparator: '>=', target: 1, pass: covered === spans });
      result.ratios.push({ label: 'WAV outside spans sample-identical (1 = no byte differs)', ratio: differing === 0 ? 1 : 0, comparator: '>=', target: 1, pass: differing === 0 });
      result.notes.push(`redaction/decrypt time: ${(redactSeconds / decryptSeconds).toFixed(1)}× (no target; MP3 re-encodes through ffmpeg)`);
    } finally {
      await vault.close();
    }
  } finally {
    await scratch.cleanup();
  }
}
