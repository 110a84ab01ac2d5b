import type { Command } from 'commander';
import type { RecordingRow } from '../../services/vocabulary.js';
import { asUsage, positiveInt, print, table, withServices, type GlobalOptions } from '../io.js';

/** The fields of a recording that may be shown without unlocking anything: no identifiers. */
export function recordingSummary(r: RecordingRow) {
  return {
    id: r.id,
    controller: r.controller_id,
    startedAt: r.started_at,
    durationMs: r.duration_ms,
    format: r.format,
    codec: r.codec,
    sampleRate: r.sample_rate,
    channels: r.channels,
    agent: r.agent,
    region: r.region,
    direction: r.direction,
    redaction: r.redaction,
  };
}

export function register(program: Command, globals: () => GlobalOptions): void {
  const recordings = program.command('recordings').description('stored recordings');
  recordings
    .command('list')
    .description("list stored recordings, newest first (no identifiers; no passphrase needed); audited like the API's list")
    .option('--limit <n>', 'page size (at most 500)', positiveInt, 50)
    .option('--after <cursor>', 'cursor from the previous page')
    .action(async (cmd: { limit: number; after?: string }) => {
      const opts = globals();
      const page = await asUsage(() => withServices(opts, (services, actor) => services.recordings.list(actor, { limit: cmd.limit, cursor: cmd.after })));
      const out = { recordings: page.recordings.map(recordingSummary), next: page.next };
      print(opts, out, () => formatRecordings(out.recordings) + (out.next ? `\nmore: --after ${out.next}` : ''));
    });
}

/** the recordings as a table under a header row; says so when there are none */
export function formatRecordings(list: ReturnType<typeof recordingSummary>[]): string {
  if (list.length === 0) return 'no recordings';
  return table(
    [
      { header: 'ID' },
      { header: 'STARTED' },
      { header: 'DURATION', align: 'right' },
      { header: 'AUDIO' },
      { header: 'REGION' },
      { header: 'AGENT' },
      { header: 'DIRECTION' },
      { header: 'REDACTION' },
    ],
    list.map((r) => [
      r.id,
      r.startedAt ?? '-',
      `${(r.durationMs / 1000).toFixed(1)} s`,
      `${r.codec}/${r.sampleRate}Hz/${r.channels}ch`,
      r.region ?? '-',
      r.agent ?? '-',
      r.direction ?? '-',
      r.redaction === 'failed' ? 'REDACTION FAILED' : r.redaction,
    ]),
  );
}
