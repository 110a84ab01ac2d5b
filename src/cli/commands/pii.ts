/**
 * `callvault pii detect [FILE|-]`: the personal identifiers in a transcript, with their offsets.
 * Needs no data directory and no passphrase: it reads text and writes where the identifiers are.
 */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import { detectIdentifiers } from '../../pii/detector.js';
import { print, type GlobalOptions } from '../io.js';

export function register(program: Command, globals: () => GlobalOptions): void {
  const pii = program.command('pii').description('personal identifiers in transcript text');

  pii
    .command('detect')
    .description('find personnummer, samordningsnummer, phone numbers and e-mail addresses in UTF-8 text (FILE, or stdin for - or none)')
    .argument('[file]', 'a UTF-8 text file; - or none reads stdin')
    .action(async (file: string | undefined) => {
      const opts = globals();
      const text = await readInput(file);
      const found = detectIdentifiers(text);
      // --json: exactly [{type, start, end}], offsets in UTF-16 code units, end exclusive
      print(
        opts,
        found.map((d) => ({ type: d.type, start: d.start, end: d.end })),
        () => (found.length === 0 ? 'no identifiers found' : found.map((d) => `${d.type}  ${d.start}–${d.end}  ${text.slice(d.start, d.end)}`).join('\n')),
      );
    });
}

async function readInput(file: string | undefined): Promise<string> {
  if (file === undefined || file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    // the file name stays out of the message: it may itself name a person
    const code = (err as NodeJS.ErrnoException)?.code;
    const why =
      code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' || code === 'EPERM' ? 'cannot be read: permission denied' : 'cannot be read';
    throw new CallvaultError(ErrorCodes.USAGE, `the input file ${why}`, { cause: err });
  }
}
