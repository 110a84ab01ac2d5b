import type { Command } from 'commander';
import { unlink } from 'node:fs/promises';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import { isRecordingId } from '../../container/header.js';
import { openStoredRecording } from '../../recordings/read.js';
import type { Rendition } from '../../policy/policy.js';
import type { Vault } from '../../vault.js';
import { cliActor, openUnlocked, print, writeThroughTemporary, type GlobalOptions } from '../io.js';

/**
 * Decrypts a recording to a file. The plaintext goes to a temporary file beside the target and is
 * renamed only once its hash matches the original's, so a failure leaves no partial audio behind.
 */
export async function exportRecording(vault: Vault, id: string, out: string, rendition: Rendition = 'original'): Promise<{ id: string; out: string; sha256: string; bytes: number; rendition: Rendition }> {
  const row = await vault.recordings.get(id.toLowerCase());
  if (!row) throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such recording');
  // the redacted rendition of a call with nothing to remove is the original itself
  const redacted = rendition === 'redacted' && row.redaction !== 'clean' ? await vault.recordings.rendition(row.id) : undefined;
  if (rendition === 'redacted' && row.redaction !== 'clean' && !redacted) {
    throw new CallvaultError(ErrorCodes.REDACTION_UNAVAILABLE, `this recording has no redacted rendition (redaction: ${row.redaction})`);
  }
  const opened = await openStoredRecording(vault, row, redacted);
  const { sha256, bytes } = await writeThroughTemporary(
    out,
    async () => opened.read(),
    (sha256) => {
      // a rendition has no hash of its own to compare: its segments authenticated as they decrypted
      if (!redacted && sha256 !== row.content_sha256) throw new CallvaultError(ErrorCodes.INTEGRITY_MISMATCH, 'the decrypted recording does not match its recorded hash');
    },
  );
  return { id: row.id, out, sha256, bytes, rendition };
}

export function register(program: Command, globals: () => GlobalOptions): void {
  program
    .command('export')
    .description('decrypt one recording to a file (needs the passphrase)')
    .argument('<id>', 'recording id')
    .requiredOption('--out <file>', 'where to write the audio')
    .option('--redacted', 'the rendition with identifiers replaced (default: the original)')
    .action(async (id: string, cmd: { out: string; redacted?: boolean }) => {
      const opts = { ...globals(), ...cmd };
      // a malformed id is a usage error, told before anyone is asked for the passphrase
      if (!isRecordingId(id)) throw new CallvaultError(ErrorCodes.USAGE, 'a recording id is a UUID');
      const vault = await openUnlocked(opts);
      try {
        const result = await exportRecording(vault, id, cmd.out, cmd.redacted ? 'redacted' : 'original');
        const row = (await vault.recordings.get(result.id))!;
        try {
          await vault.audit.append({ action: 'recording.export', outcome: 'success', actor: cliActor(), recordingId: result.id, controllerId: row.controller_id, detail: { rendition: result.rendition } });
        } catch (err) {
          // fail closed: no plaintext copy is left behind that the audit log does not know of
          await unlink(result.out).catch(() => {});
          throw err;
        }
        print(opts, result, () => `exported ${result.id} to ${result.out} (${result.bytes} bytes, sha256 ${result.sha256})`);
      } finally {
        await vault.close();
      }
    });
}
