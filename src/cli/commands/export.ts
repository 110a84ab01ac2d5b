import type { Command } from 'commander';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import { isRecordingId } from '../../services/vocabulary.js';
import type { Export } from '../../services/recordings.js';
import { print, withServices, writeThroughTemporary, type GlobalOptions } from '../io.js';

/**
 * Decrypts a recording to a file, through the same service method as `POST …/export`: the policy,
 * then the audit entry, then the plaintext. It goes to a temporary file beside the target (made
 * first, so a bad --out fails before anything is logged or decrypted) and is renamed only once
 * complete and, for the original, once its hash matches the recorded one: a failure leaves no
 * partial audio behind.
 */
export function register(program: Command, globals: () => GlobalOptions): void {
  program
    .command('export')
    .description('decrypt one recording to a file (needs the passphrase)')
    .argument('[id]', 'recording id (`callvault recordings list` shows them)')
    .option('--out <file>', 'required: where to write the audio (a new file, unless --force)')
    .option('--force', 'replace the --out file if it exists')
    .option('--redacted', 'the rendition with identifiers replaced (default: the original)')
    .action(async (id: string | undefined, cmd: { out?: string; force?: boolean; redacted?: boolean }) => {
      const opts = { ...globals(), ...cmd };
      // what is missing or malformed is said before anyone is asked for the passphrase; the id
      // first, as it comes first on the command line (commander would ask for --out first)
      if (id === undefined) throw new CallvaultError(ErrorCodes.USAGE, 'give the recording id: callvault export ID --out FILE (`callvault recordings list` shows the ids)');
      if (!isRecordingId(id)) throw new CallvaultError(ErrorCodes.USAGE, 'a recording id is a UUID (`callvault recordings list` shows the ids)');
      if (cmd.out === undefined) throw new CallvaultError(ErrorCodes.USAGE, 'give --out FILE: where to write the audio');
      const out = cmd.out;
      const rendition = cmd.redacted ? 'redacted' : 'original';
      const result = await withServices(
        opts,
        async (services, actor) => {
          let exported: Export | undefined;
          const { sha256, bytes } = await writeThroughTemporary(
            out,
            async () => {
              exported = await services.playback.export(actor, id.toLowerCase(), { rendition });
              return exported.read();
            },
            (sha256) => {
              if (exported?.contentSha256 && sha256 !== exported.contentSha256)
                throw new CallvaultError(ErrorCodes.INTEGRITY_MISMATCH, 'the decrypted recording does not match its recorded hash');
            },
            { force: cmd.force },
          );
          return { id: exported!.recordingId, out, sha256, bytes, rendition };
        },
        true,
      );
      print(opts, result, () => `exported ${result.id} to ${result.out} (${result.bytes} bytes, sha256 ${result.sha256})`);
    });
}
