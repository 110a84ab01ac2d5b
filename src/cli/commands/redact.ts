/**
 * `callvault redact`: examines stored recordings for identifiers and makes their redacted
 * renditions (docs/redaction.md). Without ids it works through the backlog; `--again` first
 * marks recordings in the given states to be examined anew (after a transcription service is
 * configured, say, or the detector has improved). Needs the passphrase.
 */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { isRecordingId } from '../../container/header.js';
import type { RedactionState } from '../../db/schema.js';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import { redactPending, type BacklogProgress } from '../../redaction/backlog.js';
import { redactRecording } from '../../redaction/redact-recording.js';
import { cliActor, commaList, print, withVault, type GlobalOptions } from '../io.js';

const STATES: readonly RedactionState[] = ['none', 'clean', 'redacted', 'failed'];

export function register(program: Command, globals: () => GlobalOptions): void {
  program
    .command('redact')
    .description('find identifiers in transcripts and make the redacted audio and transcript (needs the passphrase)')
    .argument('[ids...]', 'recordings to examine now (default: every one not yet examined)')
    .option('--again <states>', `first mark recordings in these states to be examined again: ${STATES.join(',')} or all`, commaList)
    .action(async (ids: string[], cmd: { again?: string[] }) => {
      const opts = globals();
      const again = cmd.again?.includes('all') ? STATES : cmd.again;
      for (const state of again ?? []) if (!STATES.includes(state as RedactionState)) throw new CallvaultError(ErrorCodes.USAGE, `--again takes ${STATES.join(', ')} or all`);
      for (const id of ids) if (!isRecordingId(id)) throw new CallvaultError(ErrorCodes.USAGE, 'a recording id is a UUID');
      await withVault(
        opts,
        async (vault) => {
          const options = { ...vault.redaction(), actor: cliActor() };
          const progress: BacklogProgress = { done: 0, byState: {}, errors: 0 };
          if (ids.length) {
            for (const id of ids) {
              const row = await vault.recordings.get(id.toLowerCase());
              if (!row || row.state !== 'stored') throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such recording');
              const outcome = await redactRecording(vault, row, options);
              progress.byState[outcome.state] = (progress.byState[outcome.state] ?? 0) + 1;
              progress.done += 1;
            }
          } else {
            if (again?.length) await vault.recordings.resetRedaction(again as RedactionState[]);
            const total = (await vault.recordings.redactionCounts()).pending ?? 0;
            const bar = !opts.json && process.stderr.isTTY && total > 1 ? new cliProgress.SingleBar({ format: 'redacting [{bar}] {value}/{total} | eta {eta_formatted}', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
            bar?.start(total, 0);
            try {
              Object.assign(progress, await redactPending(vault, options, { onRecording: () => bar?.increment() }));
            } finally {
              bar?.stop();
            }
          }
          print(opts, progress, () =>
            [
              `${progress.done} recordings examined: ${Object.entries(progress.byState).map(([state, n]) => `${n} ${state}`).join(', ') || 'none waiting'}`,
              ...(progress.byState.failed ? [`${progress.byState.failed} flagged: an identifier could not be removed, only the original can be played`] : []),
              ...(progress.errors ? [`${progress.errors} could not be decrypted: run callvault verify --deep`] : []),
            ].join('\n'),
          );
          if (progress.errors) process.exitCode = 1;
        },
        true,
      );
    });
}
