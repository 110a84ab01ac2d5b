/**
 * Audio known by its first bytes, before it is probed: what `callvault scan` takes for a recording
 * and what `callvault doctor` calls plaintext audio in a data directory.
 */

/** the kind of audio a file's first bytes show, or undefined */
export function audioSignature(head: Buffer): string | undefined {
  const magic = head.subarray(0, 4).toString('latin1');
  if ((magic === 'RIFF' || magic === 'RF64' || magic === 'BW64') && head.subarray(8, 12).toString('latin1') === 'WAVE') return 'WAV';
  if (magic.startsWith('ID3') && head[3]! >= 2 && head[3]! <= 4) return 'MP3 (ID3)';
  // an MPEG audio frame: 11 sync bits, a version and layer that exist, a bitrate and a sample rate that exist
  if (head.length >= 4 && head[0] === 0xff && (head[1]! & 0xe0) === 0xe0) {
    const version = (head[1]! >> 3) & 3;
    const layer = (head[1]! >> 1) & 3;
    const bitrate = head[2]! >> 4;
    const rate = (head[2]! >> 2) & 3;
    if (version !== 1 && layer !== 0 && bitrate !== 15 && rate !== 3) return 'MP3';
  }
  return undefined;
}
