/**
 * Running ffmpeg on audio that passes through pipes only, never a file: the redaction of MP3
 * (src/redaction/mp3.ts) and the waveform (src/audio/waveform.ts) both decode through it.
 */
import type { ChildProcessByStdio } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Readable, Writable } from 'node:stream';
import { childEnvironment } from '../config.js';

// node:child_process is required when ffmpeg first runs, not when this module loads: every
// import reaches this module (through the redaction) and most run no ffmpeg, while loading
// child_process is a noticeable part of a command's start-up (docs/benchmarks.md)
const require = createRequire(import.meta.url);

/**
 * ffmpeg with `args`, reading stdin and writing stdout. `exit` resolves with its exit code, or
 * -1 when it could not be started; it never rejects. The caller kills the child when done.
 */
export function ffmpeg(args: string[]): { child: ChildProcessByStdio<Writable, Readable, null>; exit: Promise<number | null> } {
  // stderr is discarded, never logged: ffmpeg prints tag values (titles, comments) in it
  const { spawn } = require('node:child_process') as typeof import('node:child_process');
  const child = spawn('ffmpeg', ['-hide_banner', '-nostats', '-v', 'error', ...args], { stdio: ['pipe', 'pipe', 'ignore'], env: childEnvironment() });
  const exit = new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(-1));
    child.once('close', (code) => resolve(code));
  });
  child.stdin.on('error', () => undefined);
  return { child, exit };
}
