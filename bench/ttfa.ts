/**
 * Time to first audio in the browser (issue 21): in Chromium (playwright-core, Debian's
 * /usr/bin/chromium, as test/web drives it), a nurse opens a call in callvault's web UI, states
 * her purpose in the dialog, and once the player is there clicks Play; measured from that click
 * to the first `timeupdate` of the audio element with `currentTime > 0`. Against a static page on
 * nginx with an `<audio>` element and a Play button playing the same file (the plaintext of the
 * same rendition). Each play is a different call (so nothing is cached); the two alternate.
 * p50 and p95 of each; p95 callvault / nginx, target ≤ 2. Needs the web UI built (`npm run bench`
 * builds it). Sizes: BENCH_TTFA_PLAYS (default 30), BENCH_TTFA_AUDIO_SECONDS (each call, 120).
 *
 * The times are taken inside the page (performance.now() in a capturing click listener and in the
 * media element's timeupdate listener), so Playwright's own round trips are not in them.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Page } from 'playwright-core';
import { ensureSelfSignedCertificate } from '../src/http/tls.js';
import { openBrowser, signIn } from '../test/web/browser.js';
import { envInt, fmt, loadAverage, makeScratch, run, type Benchmark, type BenchOptions, type BenchResult } from './common.js';
import { quantile } from './latency.js';
import { freePort, prepareCalls, startCallvault, startNginx, stopChild, waitForTls } from './playback.js';

const TARGET = 2;

type Server = 'callvault' | 'nginx';

/** nginx's page: one audio element for the file named in the query, and a Play button */
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>audio</title></head>
<body>
<audio id="audio"></audio>
<button id="play" type="button">Play</button>
<script>
  const audio = document.getElementById('audio');
  audio.src = new URLSearchParams(location.search).get('file');
  document.getElementById('play').addEventListener('click', () => audio.play());
</script>
</body></html>
`;

/**
 * Installed in every page before its scripts: every media element that is played reports its
 * first timeupdate past 0, and a click is noted while armed. WaveSurfer's element need not be in
 * the document, so the listener goes on the element when it is played.
 */
const PROBE = `
  window.__ttfa = { armed: false, clicked: 0, first: 0 };
  document.addEventListener('click', () => {
    if (window.__ttfa.armed && !window.__ttfa.clicked) window.__ttfa.clicked = performance.now();
  }, true);
  const play = HTMLMediaElement.prototype.play;
  HTMLMediaElement.prototype.play = function (...args) {
    if (!this.__ttfaWatched) {
      this.__ttfaWatched = true;
      this.addEventListener('timeupdate', () => {
        if (window.__ttfa.armed && !window.__ttfa.first && this.currentTime > 0) window.__ttfa.first = performance.now();
      });
    }
    return play.apply(this, args);
  };
`;

type Probe = { armed: boolean; clicked: number; first: number };

/** arms the probe, clicks, and returns ms from the click to the first audio */
async function timeToFirstAudio(page: Page, click: () => Promise<void>): Promise<number> {
  await page.evaluate(() => {
    (window as unknown as { __ttfa: Probe }).__ttfa = { armed: true, clicked: 0, first: 0 };
  });
  await click();
  const handle = await page.waitForFunction(
    () => {
      const t = (window as unknown as { __ttfa: Probe }).__ttfa;
      return t.clicked && t.first ? t.first - t.clicked : 0;
    },
    undefined,
    { timeout: 30_000, polling: 20 },
  );
  return (await handle.jsonValue()) as number;
}

/** the call's page, the purpose stated in the dialog, the player ready: then Play */
async function playInCallvault(page: Page, recordingId: string): Promise<number> {
  await page.goto(`/recordings/${recordingId}`);
  await page.getByRole('button', { name: 'Play…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Why are you listening?' });
  await dialog.getByLabel('Purpose', { exact: true }).selectOption('quality-review');
  await dialog.getByRole('button', { name: 'Start listening' }).click();
  await dialog.waitFor({ state: 'detached' });
  const player = page.getByRole('region', { name: 'Audio player' });
  const button = player.getByRole('button', { name: 'Play', exact: true });
  await button.waitFor();
  await page.waitForFunction(() => !(document.querySelector('[aria-label="Audio player"] button[disabled]') as HTMLButtonElement | null), undefined, { timeout: 30_000 });
  const ms = await timeToFirstAudio(page, () => button.click());
  await player.getByRole('button', { name: 'Pause', exact: true }).click();
  return ms;
}

async function playInNginx(page: Page, url: string): Promise<number> {
  await page.goto(url);
  const button = page.getByRole('button', { name: 'Play', exact: true });
  const ms = await timeToFirstAudio(page, () => button.click());
  await page.evaluate(() => (document.getElementById('audio') as HTMLAudioElement).pause());
  return ms;
}

export const ttfaBenchmark: Benchmark = {
  name: 'ttfa',
  description: 'time to first audio in Chromium: Play in the web UI (purpose stated) to the first timeupdate past 0, vs an <audio> element on nginx playing the same file',
  async run(options: BenchOptions): Promise<BenchResult> {
    const log = options.log;
    const PLAYS = envInt('BENCH_TTFA_PLAYS', 30);
    const AUDIO_SECONDS = envInt('BENCH_TTFA_AUDIO_SECONDS', 120);
    const loadBefore = await loadAverage();
    const scratch = await makeScratch('ttfa', options.keep);
    const children: ChildProcess[] = [];
    let profile: string | undefined;
    let close: (() => Promise<void>) | undefined;
    try {
      const prepared = await prepareCalls(scratch.dir, AUDIO_SECONDS, PLAYS, { oneNurse: true });
      const { data, served } = prepared;
      await writeFile(join(served, 'play.html'), PAGE);
      const tlsFiles = await ensureSelfSignedCertificate(data);
      const cv = await startCallvault(data, join(scratch.dir, 'callvault-requests.log'));
      children.push(cv.child);
      const nginxPort = await freePort();
      const ng = await startNginx(join(scratch.dir, 'nginx'), nginxPort, tlsFiles.cert, tlsFiles.key, served);
      children.push(ng.child);
      await waitForTls(nginxPort, await readFile(tlsFiles.cert), ng.child, 'nginx', async () => ng.stderr().trim().slice(-500));
      log(`${PLAYS} calls of ${AUDIO_SECONDS} s imported and redacted; callvault ${cv.url}, nginx on port ${nginxPort}`);

      const browser = await openBrowser({ url: cv.url, dataDir: data }, 'ttfa');
      profile = browser.profile;
      close = () => browser.context.close();
      const { page, context } = browser;
      await context.addInitScript(PROBE);
      await page.goto('/');
      const nurse = prepared.calls[0]!.nurse;
      await signIn(page, { ...nurse, role: 'nurse' }, { newPassword: `Correct horse ${nurse.totpSecret} battery staple` });

      const ms: Record<Server, number[]> = { callvault: [], nginx: [] };
      for (const [i, call] of prepared.calls.entries()) {
        const order: Server[] = i % 2 ? ['nginx', 'callvault'] : ['callvault', 'nginx'];
        for (const who of order) {
          const t = who === 'callvault' ? await playInCallvault(page, call.recordingId) : await playInNginx(page, `https://127.0.0.1:${nginxPort}/play.html?file=${call.file}`);
          ms[who].push(t);
        }
        log(`play ${i + 1}/${PLAYS}: callvault ${fmt(ms.callvault.at(-1)!)} ms, nginx ${fmt(ms.nginx.at(-1)!)} ms`);
      }
      const loadAfter = await loadAverage();
      const p95 = (who: Server) => quantile(ms[who], 0.95);
      const ratio = p95('callvault') / p95('nginx');
      return {
        name: 'ttfa',
        rows: (['callvault', 'nginx'] as const).flatMap((who) => [
          { label: `${who} time to first audio p50`, value: quantile(ms[who], 0.5), unit: 'ms', samples: ms[who], note: `${PLAYS} plays, each of a different call` },
          { label: `${who} time to first audio p95`, value: p95(who), unit: 'ms', note: 'nearest rank' },
        ]),
        ratios: [{ label: `p95 callvault / nginx (target ≤ ${TARGET})`, ratio, comparator: '<', target: TARGET, pass: ratio <= TARGET }],
        notes: [
          `Chromium ${(await run('/usr/bin/chromium', ['--version'])).stdout.trim()} headless (playwright-core), one profile; callvault: the web UI's player (WaveSurfer over the browser's audio element, the waveform's peaks from the server) after the purpose dialog; nginx: a static page with an <audio> element; both HTTPS on 127.0.0.1 with the same certificate`,
          `each call ${AUDIO_SECONDS} s, 8 kHz 16-bit mono WAV, its redacted rendition; the clock starts at the click on Play (in the page) and stops at the first timeupdate with currentTime > 0`,
          `load average (1, 5, 15 min) before the run ${loadBefore}, after ${loadAfter}`,
          scratch.filesystem,
        ],
      };
    } finally {
      await close?.().catch(() => {});
      for (const c of children) await stopChild(c).catch(() => {});
      if (profile) await rm(profile, { recursive: true, force: true });
      await scratch.cleanup();
    }
  },
};
