/**
 * `callvault pii detect [FILE|-]`: the personal identifiers in a transcript, with their offsets.
 * Needs no data directory and no passphrase: it reads text and writes where the identifiers are.
 */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import { detectIdentifiers } from '../../pii/detector.js';
import { audioSignature } from '../../audio/signature.js';
import { print, shownPath, type GlobalOptions } from '../io.js';

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
  const stdin = file === undefined || file === '-';
  let bytes: Buffer;
  if (stdin) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    bytes = Buffer.concat(chunks);
  } else {
    try {
      bytes = await readFile(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException)?.code;
      if (code === 'EISDIR') throw new CallvaultError(ErrorCodes.USAGE, `${shownPath(file)} is a folder: name a text file`, { cause: err });
      const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' || code === 'EPERM' ? 'cannot be read: permission denied' : 'cannot be read';
      throw new CallvaultError(ErrorCodes.USAGE, `${named(file)} ${why}`, { cause: err });
    }
  }
  const what = stdin ? 'the input' : named(file);
  const audio = audioSignature(bytes.subarray(0, 16));
  if (audio) throw new CallvaultError(ErrorCodes.USAGE, `${what} is ${audio} audio, not text: pii detect reads a transcript or other UTF-8 text`);
  // a NUL byte or a byte sequence that is not UTF-8: a binary file, whose "no identifiers found" would mislead
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new CallvaultError(ErrorCodes.USAGE, `${what} is not UTF-8 text: pii detect reads a transcript or other UTF-8 text`);
  }
  if (text.includes('\0')) throw new CallvaultError(ErrorCodes.USAGE, `${what} is a binary file, not text: pii detect reads a transcript or other UTF-8 text`);
  return text;
}

/** the file as the operator named it, with any identifier in its name (`19121212-1212.txt`) shown as its label */
function named(file: string): string {
  return `the file ${shownPath(file)}`;
}
