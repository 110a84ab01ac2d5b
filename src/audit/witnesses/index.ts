/**
 * Witnesses from their configuration strings (`--witness`, CALLVAULT_AUDIT_WITNESS):
 *
 *   file:PATH                          append to a local file       (file-witness.ts)
 *   https://HOST/PREFIX, http://…      a C2SP tlog-witness          (http-witness.ts)
 *   syslog+udp|tcp|tls://HOST:PORT     a syslog collector           (syslog-witness.ts)
 */
import { CallvaultError, ErrorCodes } from '../../errors.js';
import type { Witness } from '../witness.js';
import { FileWitness, readWitnessFile } from './file-witness.js';
import { HttpWitness } from './http-witness.js';
import { SyslogWitness } from './syslog-witness.js';

export { FileWitness, readWitnessFile, parseWitnessFile, type WitnessFile } from './file-witness.js';
export { HttpWitness } from './http-witness.js';
export { SyslogWitness } from './syslog-witness.js';

const FORMS = 'file:PATH, https://HOST/PREFIX (or http://), syslog+udp://HOST:PORT, syslog+tcp://HOST:PORT or syslog+tls://HOST:PORT';

export function parseWitness(spec: string): Witness {
  const s = spec.trim();
  if (s.startsWith('file:')) {
    const path = s.slice('file:'.length);
    if (!path) throw new CallvaultError(ErrorCodes.USAGE, 'a file witness needs a path: file:PATH');
    return new FileWitness(path);
  }
  let url: URL | undefined;
  try {
    url = new URL(s);
  } catch {
    url = undefined;
  }
  switch (url?.protocol) {
    case 'http:':
    case 'https:':
      return new HttpWitness(url);
    case 'syslog+udp:':
    case 'syslog+tcp:':
    case 'syslog+tls:':
      return new SyslogWitness(url);
    default:
      // the spec itself is not repeated: a URL may carry a token
      throw new CallvaultError(ErrorCodes.USAGE, `a witness is one of ${FORMS}${url ? ` (not ${url.protocol})` : ''}`);
  }
}

/** a comma-separated list of witnesses; empty or absent gives none (a path with a comma cannot be listed) */
export function parseWitnesses(list: string | undefined): Witness[] {
  if (!list) return [];
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(parseWitness);
}

/**
 * The notes kept by the file witnesses among configured specs, for `audit verify`. A file not
 * written yet holds none (no checkpoint was witnessed), and a torn last note is left out, as
 * readWitnessFile does; a damaged file throws CV_WITNESS_FAILED.
 */
export async function fileWitnessNotes(list: string | undefined): Promise<string[]> {
  const notes: string[] = [];
  for (const witness of parseWitnesses(list)) {
    if (!(witness instanceof FileWitness)) continue;
    try {
      notes.push(...(await readWitnessFile(witness.path)).checkpoints.map((c) => c.note));
    } catch (err) {
      if ((err as { cause?: NodeJS.ErrnoException }).cause?.code !== 'ENOENT') throw err;
    }
  }
  return notes;
}
