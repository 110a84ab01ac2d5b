/**
 * Standard output as the CLI writes it, and a reader that has gone (`callvault audit tail | head
 * -5`): apart from io.ts so that main loads it without io.ts's imports.
 */
import type { Writable } from 'node:stream';

let stdoutGone: Error | undefined;

/**
 * Takes the errors of standard output and standard error, so that a reader that has gone
 * (`callvault audit tail | head -5`) is no crash with a stack trace. Standard output stays
 * "writable" after an EPIPE (it is never destroyed): the error is kept here for `write` to stop
 * on and for main to recognise.
 */
export function watchOutput(): void {
  process.stdout.on('error', (err: Error) => {
    stdoutGone ??= err;
  });
  process.stderr.on('error', () => {});
}

/** `err` is standard output's own failure, or came after it: the command's output has nowhere to go */
export function outputGone(err: unknown): boolean {
  if (!stdoutGone) return false;
  const code = (err as NodeJS.ErrnoException)?.code;
  return err === stdoutGone || code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED';
}

/**
 * Writes `text` to `out`, waiting when its buffer is full. On a stream that has failed or closed
 * (a reader like `head` that has exited: EPIPE) it throws that error, which main treats as the
 * end of the output, instead of waiting for a 'drain' that never comes.
 */
export async function write(out: Writable, text: string): Promise<void> {
  if (out === process.stdout && stdoutGone) throw stdoutGone;
  if (out.errored) throw out.errored;
  if (out.destroyed) throw Object.assign(new Error('the output is closed'), { code: 'EPIPE' });
  if (out.write(text)) return;
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      out.off('drain', onDrain).off('error', done).off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(out.errored ?? Object.assign(new Error('the output is closed'), { code: 'EPIPE' }));
    out.once('drain', onDrain).once('error', done).once('close', onClose);
  });
}
