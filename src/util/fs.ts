import { readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { randomBytes } from 'node:crypto';

/** fsyncs a directory so a rename or unlink inside it survives a crash */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Replaces a small file so that a crash leaves either the old or the new content. */
export async function writeFileAtomic(path: string, data: string | Buffer, mode = 0o600): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await fsyncDir(dirname(path));
}

/**
 * true when a process with this pid exists on this host, and (when `since` is given) was already
 * running at `since`: a pid reused by a process started later is not the writer that left debris
 * behind. The start time is read from /proc on Linux; elsewhere only existence is checked.
 */
export function processAlive(pid: number, since?: Date): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (!since) return true;
  const started = processStart(pid);
  // a second's slack: the start time is in clock ticks, the file time in the file system's resolution
  return started === undefined || started <= since.getTime() + 1000;
}

let bootTimeMs: number | undefined;

/** when the process started, in ms since the epoch, from /proc/PID/stat; undefined where unknown */
function processStart(pid: number): number | undefined {
  try {
    bootTimeMs ??= Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))![1]) * 1000;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: count from its closing one
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // field 22, starttime, in clock ticks since boot; Linux's USER_HZ is 100 on every architecture node runs on
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) && Number.isFinite(bootTimeMs) ? bootTimeMs + ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}
