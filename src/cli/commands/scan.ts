/**
 * `callvault scan PATH... [--json] [--items FILE.jsonl] [--retention-days N]` (docs/scan.md): what
 * an archive of recordings holds and exposes, before it is migrated. Needs no data directory and
 * no passphrase; it reads the archive and writes nothing but the items file.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Command } from 'commander';
import { ArchiveScanner, type ScanReport } from '../../scan/scan.js';
import { count, positiveInt, print, type GlobalOptions } from '../io.js';

function summary(r: ScanReport): string {
  const ids = r.identifiers;
  const hours = (r.audio.seconds / 3600).toFixed(1);
  return [
    `${count(r.files, 'file')}: ${count(r.audio.count, 'recording')} (${
      Object.entries(r.audio.formats)
        .map(([f, n]) => `${n} ${f}`)
        .join(', ') || 'none'
    }), ${(r.audio.bytes / 1e9).toFixed(2)} GB, ${hours} hours${r.span ? `, calls from ${r.span.from.slice(0, 10)} to ${r.span.to.slice(0, 10)}` : ''}`,
    `identifiers (distinct): ${ids.personnummer} personnummer, ${ids.samordningsnummer} samordningsnummer, ${count(ids.phone, 'phone number')}, ${count(ids.email, 'e-mail address', 'e-mail addresses')}`,
    `  found in names ${ids.inNames}, tags ${ids.inTags}, sidecars ${ids.inSidecars}, transcripts ${ids.inTranscripts}`,
    `readable by everyone: ${count(r.exposed.worldReadable, 'file')}${r.unreadable ? `; could not read ${r.unreadable}` : ''}`,
    ...(r.pastRetention !== null ? [`past the retention named: ${count(r.pastRetention, 'recording')}`] : []),
  ].join('\n');
}

export function register(program: Command, globals: () => GlobalOptions): void {
  program
    .command('scan')
    .description(
      'what an archive of call recordings holds and exposes: audio by content, identifiers in names, tags, sidecars and transcripts (never printed), files readable by everyone',
    )
    .argument('<path...>', 'directories, files, http(s):// directory listings, or s3://bucket/prefix[?endpoint=…]')
    .option('--items <file>', 'one JSON line per file, paths masked, for the migration')
    .option('--retention-days <n>', 'count the recordings older than this', positiveInt)
    .action(async (paths: string[], cmd: { items?: string; retentionDays?: number }) => {
      const opts = globals();
      const items = cmd.items ? createWriteStream(cmd.items, { mode: 0o600 }) : undefined;
      const progress = process.stderr.isTTY && !opts.json;
      const scanner = new ArchiveScanner({
        retentionDays: cmd.retentionDays,
        onItem: items ? (item) => items.write(`${JSON.stringify(item)}\n`) : undefined,
        onProgress: progress ? (n) => process.stderr.write(`\rscanned ${count(n, 'file')}`) : undefined,
      });
      for (const p of paths) await scanner.scan(p);
      if (progress) process.stderr.write('\r\x1b[K');
      if (items) {
        items.end();
        await once(items, 'finish');
      }
      const report = scanner.result();
      print(opts, report, () => summary(report));
    });
}
