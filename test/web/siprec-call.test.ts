/**
 * A call recorded live over SIPREC, heard in the web UI (issue 22): `callvault siprec` shares the
 * data directory of a running `callvault demo` server (two processes on one SQLite database, as
 * serve and import are); SIPp is the SBC, streaming a Swedish call made by espeak-ng in which the
 * caller says a (synthetic) personnummer and phone number. The call's streaming WAV header
 * (sizes 0xFFFFFFFF) must play, show its length and seek in Chromium. Its transcript is attached
 * afterwards with `callvault transcripts add` (a whisper verbose_json written from the call's
 * known timing, as the redaction tests do; no transcription service is mocked), and the redacted
 * rendition must hold the fill tone where the identifiers are spoken. The nurse whose agent the
 * call belongs to (config.json siprec.sbcs' agentPattern) plays the redacted version by default,
 * sees the participants as labels, and in clear only under a purpose stated for the original.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { BrowserContext, Page } from 'playwright-core';
import { formatPhone } from '../../src/identifiers/display.js';
import { CLI, cli, REPO, tempDir } from '../helpers.js';
import { makeCallWav, type SyntheticCall } from '../fixtures/audio.js';
import { verboseJson } from '../fixtures/transcripts.js';
import { decodeMono, toneShare } from '../fixtures/redaction-check.js';
import { fact, openBrowser, signIn, startDemo, watchAudio, type DemoServer } from './browser.js';

const run = promisify(execFile);
const CALLER = '+46701740611';
/** a block of ports of its own (test/siprec/server.test.ts takes 30000-49999 by pid) */
const base = 51000 + (process.pid % 200) * 40;

/** the call with every time moved `offsetMs` later: the call as the recording holds it */
function shifted(call: SyntheticCall, offsetMs: number): SyntheticCall {
  const move = <T extends { startMs: number; endMs: number }>(x: T): T => ({ ...x, startMs: x.startMs + offsetMs, endMs: x.endMs + offsetMs });
  return {
    ...call,
    durationMs: call.durationMs + offsetMs,
    phrases: call.phrases.map((p) => ({ ...move(p), parts: p.parts.map(move), ...(p.identifierSpan ? { identifierSpan: move(p.identifierSpan) } : {}) })),
  };
}

/**
 * the first sample after the first second louder than speech's onset: the caller's first words
 * come seconds in (the agent speaks first), and SIPp's rtp_stream sends the WAV's header bytes as
 * audio: a click in the stream's first packet
 */
function onset(samples: Int16Array): number {
  const i = samples.findIndex((s, i) => i >= 8000 && Math.abs(s) > 2000);
  assert.ok(i >= 0, 'speech in the channel');
  return i;
}

async function eventually<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!ok(value)) {
    if (Date.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(value)} after ${timeoutMs} ms`);
    await sleep(100);
    value = await read();
  }
  return value;
}

const clock = (seconds: number) => `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;

describe('a call recorded over SIPREC in the web UI', { timeout: 300_000 }, () => {
  let server: DemoServer;
  let siprec: ChildProcess;
  let siprecLog = '';
  let context: BrowserContext | undefined;
  let src: string;
  let call: SyntheticCall;
  /** the call as the recording holds it (its times moved by when the first packet came) */
  let recorded: SyntheticCall;
  let id: string;
  let durationMs: number;
  const env = () => ({ CALLVAULT_PASSPHRASE: server.passphrase });

  before(async () => {
    server = await startDemo(1);
    src = await tempDir('src', 'siprec-web');
    // the caller on the left, the agent on the right; each side as the SBC forks it: mono µ-law
    call = await makeCallWav(join(src, 'call.wav'), { seed: 531, stereo: true });
    await run('sox', [join(src, 'call.wav'), '-e', 'u-law', join(src, 'caller.wav'), 'remix', '1']);
    await run('sox', [join(src, 'call.wav'), '-e', 'u-law', join(src, 'agent.wav'), 'remix', '2']);
    // the SBC at 127.0.0.1 records for the demo's controller; its agent AOR names the nurse's agent id
    const config = join(server.dataDir, 'config.json');
    const json = JSON.parse(await readFile(config, 'utf8'));
    json.siprec = {
      sbcs: [
        {
          name: 'sbc-test',
          match: { address: '127.0.0.1' },
          controller: 'region-demo',
          region: 'stockholm',
          agentFrom: 'participant-aor',
          agentPattern: '^sip:(nurse-[a-z]+)@vardcentral\\.example$',
        },
      ],
    };
    await writeFile(config, JSON.stringify(json, null, 2));
    siprec = spawn(process.execPath, [CLI, '--data', server.dataDir, 'siprec', '--json', '--listen', '127.0.0.1', '--sip-port', '0', '--rtp-ports', `${base}-${base + 9}`], {
      env: { ...process.env, ...env() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    siprec.stderr!.on('data', (b: Buffer) => {
      siprecLog += b.toString();
    });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      siprec.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      siprec.once('exit', () => reject(new Error(`callvault siprec exited: ${siprecLog}`)));
    });
    const { sipPort } = JSON.parse(line).listening;

    const known = new Set(server.recordings.map((r) => r.id));
    const sender = [process.execPath, join(REPO, 'dist', 'test', 'siprec', 'rtp-sender.js'), join(src, 'agent.wav')].join(' ');
    const args = ['-sf', join(REPO, 'testdata', 'siprec', 'sipp', 'basic.xml'), '-m', '1', '-d', String(call.durationMs + 500)];
    args.push('-key', 'sender', sender, '-key', 'agent_aor', 'sip:nurse-anna@vardcentral.example');
    args.push('-i', '127.0.0.1', '-p', String(base + 20), '-t', 'u1', '-mi', '127.0.0.1', '-mp', String(base + 22), '-nostdin', `127.0.0.1:${sipPort}`);
    const sipp = await run('sipp', args, { cwd: src }).catch((err) => err);
    assert.equal(sipp.code ?? 0, 0, `sipp failed: ${sipp.stdout?.slice(-2000)}\n${siprecLog}`);
    const listed: any = await eventually<any>(
      'the call listed',
      async () => ((await cli(['--data', server.dataDir, 'recordings', 'list', '--json'], env())).json?.recordings ?? []).find((r: any) => !known.has(r.id)),
      Boolean,
    );
    ({ id, durationMs } = listed);
    assert.equal(listed.agent, 'nurse-anna', 'the agent from the SBC rule');
    assert.equal(listed.channels, 2);
    assert.ok(Math.abs(durationMs - call.durationMs) < 1500, `recorded ${durationMs} ms of a ${call.durationMs} ms call`);
  });

  after(async () => {
    await context?.close().catch(() => undefined);
    if (siprec && siprec.exitCode === null) {
      siprec.kill('SIGTERM');
      await new Promise((resolve) => siprec.once('exit', resolve));
    }
    await server?.stop();
  });

  it('its transcript, added after the call, gives a redacted rendition with the tone where the caller says the identifiers', async () => {
    const out = await tempDir('out', 'siprec-web');
    const original = join(out, 'original.wav');
    assert.equal((await cli(['--data', server.dataDir, 'export', id, '--out', original], env())).code, 0);
    // the recording starts at the INVITE, the speech when the first packet comes: measure the
    // offset on the caller's channel, as a transcriber would time the recorded call
    const left = (file: string) => run('sox', [file, '-t', 'raw', '-e', 'signed', '-b', '16', '-L', '-', 'remix', '1'], { encoding: 'buffer', maxBuffer: 1 << 26 });
    const samples = (b: Buffer) => new Int16Array(b.buffer, b.byteOffset, b.byteLength / 2);
    const offsetMs = ((onset(samples((await left(original)).stdout)) - onset(samples((await left(join(src, 'call.wav'))).stdout))) * 1000) / 8000;
    assert.ok(offsetMs >= 0 && offsetMs < 1000, `the speech starts ${offsetMs} ms into the recording`);
    recorded = shifted(call, Math.round(offsetMs));
    const transcript = join(src, 'call.transcript.json');
    await writeFile(transcript, verboseJson(recorded).json);
    const added = await cli(['--data', server.dataDir, 'transcripts', 'add', id, transcript, '--json'], env());
    assert.equal(added.code, 0, added.stderr);
    assert.equal(added.json.redaction.state, 'redacted');
    assert.equal(added.json.redaction.identifiers, 2);

    const redactedFile = join(out, 'redacted.wav');
    assert.equal((await cli(['--data', server.dataDir, 'export', id, '--redacted', '--out', redactedFile], env())).code, 0);
    const redacted = await decodeMono(redactedFile, 8000);
    const plain = await decodeMono(original, 8000);
    const spans = recorded.phrases.filter((p) => p.identifierSpan).map((p) => p.identifierSpan!);
    assert.equal(spans.length, 2);
    for (const span of spans) {
      const r = toneShare(redacted, 8000, span.startMs / 1000, span.endMs / 1000);
      assert.ok(r.share > 0.9 && r.rms > 1000, `${span.startMs}–${span.endMs} ms: ${r.share.toFixed(3)} of the energy at the tone, rms ${r.rms.toFixed(0)}`);
      assert.ok(toneShare(plain, 8000, span.startMs / 1000, span.endMs / 1000).share < 0.3, 'the original is speech there');
    }
  });

  it('the nurse plays it (redacted by default), sees its length, seeks, and sees its participants as labels, in clear under a purpose for the original', async () => {
    assert.ok(recorded, 'the transcript test ran');
    const opened = await openBrowser(server, 'anna-siprec');
    context = opened.context;
    const page = opened.page;
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    const audio = watchAudio(page);
    // the player's media element is not in the document (wavesurfer keeps it): keep it when it plays
    await page.addInitScript(() => {
      const play = HTMLMediaElement.prototype.play;
      HTMLMediaElement.prototype.play = function (this: HTMLMediaElement) {
        (window as unknown as { media: HTMLMediaElement }).media = this;
        return play.call(this);
      };
    });
    await page.goto('/');
    await signIn(page, server.users.get('anna')!);
    await page.getByRole('heading', { name: 'Recordings', level: 1 }).waitFor();
    await page.locator(`a[href="/recordings/${id}"]`).click();
    await page.getByRole('heading', { name: /^Call on / }).waitFor();
    assert.equal(await fact(page, 'Agent'), 'Anna Lind');
    assert.equal(await fact(page, 'Caller'), '[PHONE]');
    assert.equal(await fact(page, 'Length'), clock(durationMs / 1000));
    // the participants, their names and numbers as labels until a purpose for the original
    const participants = page.locator('ul.participants li');
    assert.deepEqual(
      (await participants.allTextContents()).map((s) => s.replace(/\s+/g, ' ').trim()),
      ['[NAME] · [PHONE] · channel 1', '[NAME] · — · channel 2'],
    );

    // the default purpose dialog: the redacted version
    await page.getByRole('button', { name: 'Play…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Why are you listening?' });
    await dialog.getByLabel('Purpose', { exact: true }).selectOption('patient-follow-up');
    const access = page.waitForResponse((r) => r.url().endsWith(`/recordings/${id}/access`) && r.request().method() === 'POST');
    await dialog.getByRole('button', { name: 'Start listening' }).click();
    assert.equal((await (await access).json()).rendition, 'redacted', 'the nurse hears the redacted version by default');
    await page.getByRole('region', { name: 'Audio player' }).getByText('2 identifier spans removed (marked in the waveform)').waitFor();
    await playAndSeek(page, 'redacted');
    const statuses = await Promise.all(audio.map((a) => a.status));
    assert.ok(audio.length > 0 && statuses.every((s) => s === 200 || s === 206), JSON.stringify(statuses));

    // a purpose for the original: the participants in clear, the numbers written the Swedish way
    await page.reload();
    await page.getByRole('button', { name: 'Play…' }).click();
    await dialog.getByLabel('Purpose', { exact: true }).selectOption('patient-follow-up');
    await dialog.getByLabel('Original (identifiers audible)').check();
    const originalAccess = page.waitForResponse((r) => r.url().endsWith(`/recordings/${id}/access`) && r.request().method() === 'POST');
    await dialog.getByRole('button', { name: 'Start listening' }).click();
    assert.equal((await (await originalAccess).json()).rendition, 'original');
    await eventually(
      'the participants in clear',
      async () => (await participants.allTextContents()).map((s) => s.replace(/\s+/g, ' ').trim()),
      (rows) => rows[0]?.startsWith('Synthetic Caller') ?? false,
    );
    assert.deepEqual(
      (await participants.allTextContents()).map((s) => s.replace(/\s+/g, ' ').trim()),
      [`Synthetic Caller · ${formatPhone(CALLER)} · channel 1`, 'Synthetic Agent · sip:nurse-anna@vardcentral.example · channel 2'],
    );
    assert.equal(formatPhone(CALLER), '070-174 06 11');
    assert.equal(await fact(page, 'Caller'), '070-174 06 11');
    // the original is the WAV as recorded, its header's sizes 0xFFFFFFFF (the redacted rendition's are exact)
    await playAndSeek(page, 'original');
    assert.deepEqual(errors, []);
  });

  /** plays the rendition from the start, then from a click at 75% of the waveform: the media element's own time and length */
  async function playAndSeek(page: Page, rendition: string): Promise<void> {
    const player = page.getByRole('region', { name: 'Audio player' });
    const playButton = player.getByRole('button', { name: 'Play', exact: true });
    await eventually('the Play button', () => playButton.isEnabled(), Boolean);
    const total = clock(durationMs / 1000);
    assert.equal((await player.getByTestId('position').textContent())!.trim(), `0:00 of ${total}`);
    await playButton.click();
    // the media element itself: it reads the streaming header's length and plays on
    const media = () =>
      page.evaluate(() => {
        const m = (window as unknown as { media?: HTMLMediaElement }).media;
        return m ? { t: m.currentTime, d: m.duration } : undefined;
      });
    await eventually('the media element playing', media, (m) => Boolean(m && m.t > 1), 10_000);
    const { d } = (await media())!;
    assert.ok(Math.abs(d * 1000 - durationMs) < 100, `${rendition}: the browser reads ${d} s of a ${durationMs} ms recording`);
    await player.getByRole('button', { name: 'Pause', exact: true }).click();
    // seek near the end by a click on the waveform
    const slider = page.getByRole('slider', { name: /^Waveform/ });
    const box = (await slider.boundingBox())!;
    await slider.click({ position: { x: box.width * 0.75, y: box.height / 2 } });
    await eventually('the media element after a click at 75%', media, (m) => Boolean(m && Math.abs(m.t - (durationMs / 1000) * 0.75) <= 1.5));
    await playButton.click();
    const from = (await media())!.t;
    await eventually('playing on from there', media, (m) => Boolean(m && m.t > from + 0.5), 5000);
    await player.getByRole('button', { name: 'Pause', exact: true }).click();
  }
});
