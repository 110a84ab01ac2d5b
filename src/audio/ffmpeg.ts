/**
 * Running ffmpeg on audio that passes through pipes only, never a file: the redaction of MP3
 * (src/redaction/mp3.ts) and the waveform (src/audio/waveform.ts) both decode through it.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { childEnvironment } from '../config.js';

/**
 * ffmpeg with `args`, reading stdin and writing stdout. `exit` resolves with its exit code, or
 * -1 when it could not be started; it never rejects. The caller kills the child when done.
 */
export function ffmpeg(args: string[]): { child: ChildProcessByStdio<Writable, Readable, null>; exit: Promise<number | null> } {
  // stderr is discarded, never logged: ffmpeg prints tag values (titles, comments) in it
  const child = spawn('ffmpeg', ['-hide_banner', '-nostats', '-v', 'error', ...args], { stdio: ['pipe', 'pipe', 'ignore'], env: childEnvironment() });
  const exit = new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(-1));
    child.once('close', (code) => resolve(code));
  });
  child.stdin.on('error', () => undefined);
  return { child, exit };
}
