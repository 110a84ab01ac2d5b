/**
 * Synthetic calls for `callvault demo`: Swedish speech from espeak-ng when it is installed,
 * otherwise a generated two-tone signal, each with a sidecar of synthetic identifiers.
 */
import { execFile as execFileCb } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { prng, syntheticPersonnummer, syntheticPhone } from './synthetic-identity.js';

const execFile = promisify(execFileCb);

const REASONS = [
  'Mitt barn har haft feber i två dagar.',
  'Jag har ont i bröstet när jag andas.',
  'Jag undrar om min medicin kan tas med alvedon.',
  'Min pappa har fallit och slagit i huvudet.',
  'Jag har fått utslag efter en ny kräm.',
];
const AGENTS = ['nurse-anna', 'nurse-erik', 'nurse-sara'];
const REGIONS = ['stockholm', 'uppsala', 'skane'];

async function hasEspeak(): Promise<boolean> {
  return execFile('espeak-ng', ['--version']).then(() => true, () => false);
}

function spoken(digits: string): string {
  return digits.replace(/\D/g, '').split('').join(' ');
}

/** Writes `count` calls with sidecars into `dir`; returns whether they are speech or tones. */
export async function writeDemoCalls(dir: string, count: number): Promise<'speech' | 'tones'> {
  const speech = await hasEspeak();
  for (let i = 0; i < count; i++) {
    const rnd = prng(1000 + i);
    const personnummer = syntheticPersonnummer(1000 + i);
    const phone = syntheticPhone(1000 + i);
    const wav = join(dir, `call-${String(i + 1).padStart(3, '0')}.wav`);
    if (speech) {
      const text = [
        '1177 Vårdguiden, du talar med en sjuksköterska.',
        `Hej. Mitt personnummer är ${spoken(personnummer.slice(2))}.`,
        REASONS[Math.floor(rnd() * REASONS.length)],
        `Du kan ringa mig på ${spoken(phone)}.`,
      ].join(' ');
      const raw = `${wav}.espeak.wav`;
      await execFile('espeak-ng', ['-v', 'sv', '-s', '150', '-w', raw, text]);
      await execFile('sox', [raw, '-r', '8000', '-e', 'mu-law', '-c', '1', wav]);
      await execFile('rm', ['-f', raw]);
    } else {
      await writeFile(wav, toneWav(4 + Math.floor(rnd() * 6), 300 + i * 40));
    }
    const started = new Date(Date.UTC(2026, 10, 1 + (i % 20), 7 + Math.floor(rnd() * 10), Math.floor(rnd() * 60)));
    await writeFile(
      wav.replace(/\.wav$/, '.json'),
      JSON.stringify({
        caller: phone,
        personnummer,
        agent: AGENTS[i % AGENTS.length],
        region: REGIONS[Math.floor(rnd() * REGIONS.length)],
        startedAt: started.toISOString(),
        direction: rnd() < 0.8 ? 'inbound' : 'outbound',
      }),
    );
  }
  return speech ? 'speech' : 'tones';
}

/** 8 kHz 16-bit mono: two tones, the way a dial tone sounds */
function toneWav(seconds: number, hz: number): Buffer {
  const rate = 8000;
  const n = rate * seconds;
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) {
    const v = 0.2 * Math.sin((2 * Math.PI * hz * i) / rate) + 0.2 * Math.sin((2 * Math.PI * hz * 1.5 * i) / rate);
    data.writeInt16LE(Math.round(v * 32767), i * 2);
  }
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}
