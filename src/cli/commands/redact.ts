/**
 * `callvault redact`: examines stored recordings for identifiers and makes their redacted
 * renditions (docs/redaction.md). Without ids it works through the backlog; `--again` first
 * marks recordings in the given states to be examined anew (after a transcription service is
 * configured, say, or the detector has improved). Needs the passphrase.
 */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import { isRecordingId, REDACTION_STATES, type RedactionState } from '../../services/vocabulary.js';
import { commaList, count, print, withServices, type GlobalOptions } from '../io.js';

const STATES = REDACTION_STATES;

/** `2 redacted, 1 clean` */
export function states(byState: Partial<Record<RedactionState, number>>): string {
  return Object.entries(byState)
    .map(([state, n]) => `${n} ${state}`)
    .join(', ');
}

/** what the states of recordings just examined ask of the operator, one line each */
export function redactionAdvice(byState: Partial<Record<RedactionState, number>>): string[] {
  const lines: string[] = [];
  const none = byState.none ?? 0;
  if (none)
    lines.push(
      `${none === 1 ? '1 recording has' : `${none} recordings have`} no transcript, so nothing says where identifiers are spoken and only the original can be played: ` +
        'add one with `callvault transcripts add ID FILE` (.vtt, .srt or .transcript.json), put call.vtt beside call.wav before importing, ' +
        'or set CALLVAULT_TRANSCRIBE_URL (docs/redaction.md) and run `callvault redact --again none`',
    );
  const failed = byState.failed ?? 0;
  if (failed)
    lines.push(
      `${count(failed, 'recording')} flagged: an identifier could not be removed, only the original can be played; \`callvault recordings list\` shows them (REDACTION FAILED)`,
    );
  return lines;
}

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
      await withServices(
        opts,
        async (services, actor) => {
          let bar: cliProgress.SingleBar | undefined;
          let progress: Awaited<ReturnType<typeof services.redaction.redact>>;
          try {
            progress = await services.redaction.redact(
              actor,
              { ids, again: again as RedactionState[] | undefined },
              {
                onStart: (total) => {
                  if (opts.json || !process.stderr.isTTY || total <= 1) return;
                  bar = new cliProgress.SingleBar(
                    { format: 'redacting [{bar}] {value}/{total} | eta {eta_formatted}', stream: process.stderr, hideCursor: true },
                    cliProgress.Presets.shades_classic,
                  );
                  bar.start(total, 0);
                },
                onRecording: () => bar?.increment(),
              },
            );
          } finally {
            bar?.stop();
          }
          print(opts, progress, () =>
            [
              progress.done === 0 ? 'no recording was waiting to be examined' : `${count(progress.done, 'recording')} examined: ${states(progress.byState)}`,
              ...redactionAdvice(progress.byState),
              ...(progress.errors ? [`${count(progress.errors, 'recording')} could not be decrypted: run callvault verify --deep`] : []),
            ].join('\n'),
          );
          if (progress.errors) process.exitCode = 1;
        },
        true,
      );
    });
}
