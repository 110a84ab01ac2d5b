/**
 * `callvault transcripts add ID FILE`: a transcript for a recording stored without one (or, with
 * `--replace`, instead of the one it has), sealed as at import, and the recording examined for
 * identifiers again at once (RedactionService.attachTranscript). Needs the passphrase.
 */
import type { Command } from 'commander';
import { readFile, stat } from 'node:fs/promises';
import { CallvaultError, ErrorCodes, isCallvaultError } from '../../errors.js';
import { transcriptMediaType } from '../../import/importer.js';
import { MAX_TRANSCRIPT_BYTES } from '../../transcripts/index.js';
import type { AttachedTranscript } from '../../services/redaction.js';
import { isRecordingId } from '../../services/vocabulary.js';
import { count, print, shownPath, withServices, type GlobalOptions } from '../io.js';

export function register(program: Command, globals: () => GlobalOptions): void {
  const transcripts = program.command('transcripts').description('transcripts of stored recordings');

  transcripts
    .command('add')
    .description('attach a transcript (.vtt, .srt or whisper .transcript.json) to a stored recording, then examine it for identifiers again (needs the passphrase)')
    .argument('<id>', 'recording id (`callvault recordings list` shows them)')
    .argument('<file>', 'the transcript: WebVTT, SRT or whisper verbose_json')
    .option('--replace', 'replace the transcript the recording has; its redaction is made again from the new one')
    .action(async (id: string, file: string, cmd: { replace?: boolean }) => {
      const opts = globals();
      if (!isRecordingId(id)) throw new CallvaultError(ErrorCodes.USAGE, 'a recording id is a UUID (`callvault recordings list` shows the ids)');
      const bytes = await readTranscriptFile(file);
      const result = await withServices(
        opts,
        async (services, actor) => {
          try {
            return await services.redaction.attachTranscript(actor, id, { bytes, mediaType: transcriptMediaType(file), replace: cmd.replace });
          } catch (err) {
            if (isCallvaultError(err, ErrorCodes.INVALID_TRANSCRIPT)) throw new CallvaultError(ErrorCodes.INVALID_TRANSCRIPT, `${shownPath(file)}: ${err.message}`, { cause: err });
            if (isCallvaultError(err, ErrorCodes.CONFLICT) && !cmd.replace)
              throw new CallvaultError(ErrorCodes.CONFLICT, `${err.message}: give --replace to replace it (the recording is then examined again with the new one)`, {
                cause: err,
              });
            throw err;
          }
        },
        true,
      );
      print(opts, result, () => describe(result));
    });
}

async function readTranscriptFile(file: string): Promise<Buffer> {
  const shown = shownPath(file);
  try {
    if ((await stat(file)).size > MAX_TRANSCRIPT_BYTES) throw new CallvaultError(ErrorCodes.INVALID_TRANSCRIPT, `the transcript ${shown} is larger than 4 MiB`);
    return await readFile(file);
  } catch (err) {
    if (isCallvaultError(err)) throw err;
    const code = (err as NodeJS.ErrnoException)?.code;
    if (code === 'EISDIR') throw new CallvaultError(ErrorCodes.USAGE, `${shown} is a folder: name the transcript file`, { cause: err });
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' || code === 'EPERM' ? 'cannot be read: permission denied' : 'cannot be read';
    throw new CallvaultError(ErrorCodes.USAGE, `the file ${shown} ${why}`, { cause: err });
  }
}

const PROBLEMS: Record<string, string> = {
  unplaced: 'an identifier could not be placed in time (is it the transcript of this call?)',
  audio: 'the audio could not be rewritten',
  transcript: 'the transcript could not be read',
};

function describe(r: AttachedTranscript): string {
  const head = `transcript (${r.format}) ${r.replaced ? 'replaced' : 'added'} for ${r.recordingId}`;
  const { state, identifiers, problem } = r.redaction;
  if (state === 'clean') return `${head}; no identifiers in it: the original is its own redaction`;
  if (state === 'redacted') return `${head}; ${count(identifiers, 'identifier')} removed in the redacted rendition`;
  if (state === 'failed')
    return `${head}; REDACTION FAILED: ${PROBLEMS[problem ?? ''] ?? problem}; only the original can be played, by roles allowed to hear it (docs/redaction.md)`;
  return `${head}; redaction: ${state}`;
}
