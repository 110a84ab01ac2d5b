/**
 * Synthetic calls for `callvault demo`: Swedish speech from espeak-ng when it is installed, with a
 * transcript carrying word timings, otherwise a generated two-tone signal; each with a sidecar of
 * synthetic identifiers.
 */
import { execFile as execFileCb } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { childEnvironment } from '../config.js';
import { prng, syntheticPersonnummer, syntheticPhone } from './synthetic-identity.js';

const execFile = promisify(execFileCb);

export const REASONS = [
  'Mitt barn har haft feber i två dagar.',
  'Jag har ont i bröstet när jag andas.',
  'Jag undrar om min medicin kan tas med alvedon.',
  'Min pappa har fallit och slagit i huvudet.',
  'Jag har fått utslag efter en ny kräm.',
];
export const AGENTS = ['nurse-anna', 'nurse-erik', 'nurse-sara'] as const;
export const REGIONS = ['stockholm', 'uppsala', 'skane'] as const;

export async function hasEspeak(): Promise<boolean> {
  return execFile('espeak-ng', ['--version'], { env: childEnvironment() }).then(
    () => true,
    () => false,
  );
}

/** what is said (`say`, digit by digit for espeak) and how a transcript writes it (`text`) */
interface Part {
  text: string;
  say: string;
}

const RATE = 8000;

function digitsSpoken(written: string): string {
  return written.replace(/\D/g, '').split('').join(' ');
}

/**
 * Speaks each part with espeak-ng separately and lays them out one after another, so the time of
 * every word in the transcript is known: the demo's calls come with transcripts, and so with
 * redacted renditions to look at.
 */
async function speakCall(wav: string, phrases: Part[][]): Promise<string> {
  const samples: Buffer[] = [];
  let at = Math.round(RATE * 0.3);
  samples.push(Buffer.alloc(at * 2));
  const segments: { id: number; start: number; end: number; text: string; words: { word: string; start: number; end: number }[] }[] = [];
  for (const [i, parts] of phrases.entries()) {
    const start = at;
    const words: { word: string; start: number; end: number }[] = [];
    for (const part of parts) {
      const raw = `${wav}.part.raw`;
      await execFile('espeak-ng', ['-v', 'sv', '-s', '150', '-w', `${raw}.wav`, part.say], { env: childEnvironment() });
      await execFile('sox', [`${raw}.wav`, '-t', 'raw', '-r', String(RATE), '-e', 'signed', '-b', '16', '-c', '1', '-L', raw], { env: childEnvironment() });
      const pcm = await readFile(raw);
      await rm(raw, { force: true });
      await rm(`${raw}.wav`, { force: true });
      const n = pcm.length / 2;
      const list = part.text.split(' ');
      for (const [k, word] of list.entries()) words.push({ word: ` ${word}`, start: seconds(at + (k * n) / list.length), end: seconds(at + ((k + 1) * n) / list.length) });
      samples.push(pcm);
      at += n;
      const gap = Math.round(RATE * 0.08);
      samples.push(Buffer.alloc(gap * 2));
      at += gap;
    }
    segments.push({ id: i, start: seconds(start), end: seconds(at), text: words.map((w) => w.word).join(''), words });
    const pause = Math.round(RATE * 0.4);
    samples.push(Buffer.alloc(pause * 2));
    at += pause;
  }
  const raw = `${wav}.raw`;
  await writeFile(raw, Buffer.concat(samples));
  await execFile('sox', ['-t', 'raw', '-r', String(RATE), '-e', 'signed', '-b', '16', '-c', '1', '-L', raw, '-e', 'mu-law', wav], { env: childEnvironment() });
  await rm(raw, { force: true });
  return JSON.stringify({ task: 'transcribe', language: 'swedish', duration: seconds(at), segments });
}

/**
 * An advice-line call in which the caller says their personnummer and phone number (as written in
 * `identity`: how the transcript shows them; they are spoken digit by digit), written as 8 kHz
 * mu-law WAV to `wav`; answers the transcript (whisper verbose_json) with word timings.
 */
export function speakAdviceCall(wav: string, identity: { personnummer: string; phone: string; reason: string }): Promise<string> {
  return speakCall(wav, [
    [{ text: '1177 Vårdguiden, du talar med en sjuksköterska.', say: '1177 Vårdguiden, du talar med en sjuksköterska.' }],
    [
      { text: 'Hej. Mitt personnummer är', say: 'Hej. Mitt personnummer är' },
      { text: identity.personnummer, say: digitsSpoken(identity.personnummer) },
    ],
    [{ text: identity.reason, say: identity.reason }],
    [
      { text: 'Du kan ringa mig på', say: 'Du kan ringa mig på' },
      { text: identity.phone, say: digitsSpoken(identity.phone) },
    ],
  ]);
}

const seconds = (samples: number) => Math.round((samples / RATE) * 1000) / 1000;

/** Writes `count` calls with sidecars (and transcripts, when they speak) into `dir`. */
export async function writeDemoCalls(dir: string, count: number): Promise<'speech' | 'tones'> {
  const speech = await hasEspeak();
  for (let i = 0; i < count; i++) {
    const rnd = prng(1000 + i);
    const personnummer = syntheticPersonnummer(1000 + i);
    const phone = syntheticPhone(1000 + i);
    const wav = join(dir, `call-${String(i + 1).padStart(3, '0')}.wav`);
    if (speech) {
      const pnr = personnummer.slice(2).match(/../g)!.join(' ');
      const reason = REASONS[Math.floor(rnd() * REASONS.length)]!;
      await writeFile(wav.replace(/\.wav$/, '.transcript.json'), await speakAdviceCall(wav, { personnummer: pnr, phone, reason }));
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
