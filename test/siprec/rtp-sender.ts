/**
 * Sends one RTP stream (G.711 µ-law, 20 ms packets, payload type 0) from a µ-law WAV, as an SBC
 * forks a participant's audio: the second stream of the SIPp scenarios (SIPp's rtp_stream sends
 * to the first m-line only). `--drop=3,4 --reorder=10 --duplicate=20` alter the packets with those
 * indexes deterministically (reorder: that packet is sent after the next). `--g722`: FILE is a raw
 * G.722 bitstream (ffmpeg's `-f g722`), sent as payload type 9: 160 bytes (320 samples at 16 kHz)
 * per packet, the timestamp advancing by 160, G.722's RTP clock being 8000 (RFC 3551).
 * Usage: node rtp-sender.js [--drop=…] [--reorder=…] [--duplicate=…] [--g722] FILE HOST PORT SOURCE_PORT
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
const [file, host, port, sourcePort] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const list = (name: string) => new Set((flags.find((f) => f.startsWith(`--${name}=`))?.slice(name.length + 3) ?? '').split(',').filter(Boolean).map(Number));
const drop = list('drop');
const reorder = list('reorder');
const duplicate = list('duplicate');

const g722 = flags.includes('--g722');
const payloadType = g722 ? 9 : 0;
const input = readFileSync(file!);
const data = input.indexOf('data', 12, 'latin1');
const audio = g722 ? input : input.subarray(data + 8, data + 8 + input.readUInt32LE(data + 4));
/** bytes per 20 ms packet and RTP clock ticks per packet: 160 in both codecs */
const SAMPLES = 160;
const packets: Buffer[] = [];
const ssrc = 0x5eed0002;
for (let i = 0, seq = 65500, ts = 4294960000; i * SAMPLES < audio.length; i++) {
  // sequence numbers and timestamps start near their wrap, so every run crosses it
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = (i === 0 ? 0x80 : 0x00) | payloadType;
  h.writeUInt16BE((seq + i) & 0xffff, 2);
  h.writeUInt32BE((ts + i * SAMPLES) >>> 0, 4);
  h.writeUInt32BE(ssrc, 8);
  packets.push(Buffer.concat([h, audio.subarray(i * SAMPLES, (i + 1) * SAMPLES)]));
}

const socket = createSocket('udp4');
socket.bind(Number(sourcePort), async () => {
  const send = (b: Buffer) => new Promise<void>((resolve) => socket.send(b, Number(port), host, () => resolve()));
  const start = Date.now();
  let held: Buffer | undefined;
  for (let i = 0; i < packets.length; i++) {
    const wait = start + i * 20 - Date.now();
    if (wait > 0) await sleep(wait);
    if (drop.has(i)) continue;
    if (reorder.has(i)) {
      held = packets[i];
      continue;
    }
    await send(packets[i]!);
    if (duplicate.has(i)) await send(packets[i]!);
    if (held) {
      await send(held);
      held = undefined;
    }
  }
  socket.close();
});
