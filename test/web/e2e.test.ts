/**
 * The web UI end to end: a real `callvault demo` server with generated calls, Debian's chromium
 * driven by playwright-core, one browser profile per person (under the suite's data root, so the
 * final plaintext scan reads what the browsers kept). The tests run in order on one server: the
 * auditor looks for the nurse's listening in the log, and the later nurse tests reuse her browser.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { syntheticPersonnummer, syntheticPhone } from '../../src/demo/synthetic-identity.js';
import { shredCutoff } from '../../src/retention/periods.js';
import { cli } from '../helpers.js';
import { Screenshots, VIEWPORT, fact, fetchFromPage, freshCode, newPassword, openBrowser, signIn, startDemo, watchAudio, type DemoRecording, type DemoServer } from './browser.js';

const CALLS = 6;
/** the demo's agents in turn, call i by AGENTS[i % 3] (src/demo/demo-calls.ts) */
const DEMO_AGENTS = ['nurse-anna', 'nurse-erik', 'nurse-sara'];
/** the display names the demo gives its regions and agents (src/demo/demo-names.ts) */
const REGION_NAMES: Record<string, string> = { stockholm: 'Stockholm', uppsala: 'Uppsala', skane: 'Skåne' };
const AGENT_NAMES: Record<string, string> = { 'nurse-anna': 'Anna Lind', 'nurse-erik': 'Erik Berg', 'nurse-sara': 'Sara Holm' };
/** the phone's width the pages must fit */
const PHONE = { width: 390, height: 844 };
const SCREENSHOTS = [
  'signin-enrolment',
  'recordings',
  'purpose-dialog',
  'player',
  'break-glass',
  'audit',
  'audit-log',
  'privacy',
  'admin',
  'approvals',
  'retention',
  'breach',
  'breach-imy',
  'alerts',
  'break-glass-review',
  'phone-recordings',
  'phone-player',
  'phone-audit',
] as const;

/** polls `read` until `ok` holds, then returns the value; fails with the last value seen */
async function eventually<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!ok(value)) {
    if (Date.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(value)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
    value = await read();
  }
  return value;
}

/** the rows of a table as objects keyed by the column headers' text */
async function tableRows(table: Locator): Promise<Array<Record<string, string>>> {
  if ((await table.count()) === 0) return [];
  return table.first().evaluate((t: HTMLTableElement) => {
    const headers = [...t.tHead!.rows[0]!.cells].map((c) => c.textContent!.trim());
    return [...t.tBodies[0]!.rows].map((tr) => {
      const row: Record<string, string> = {};
      for (const [i, c] of [...tr.cells].entries()) row[headers[i] ?? String(i)] = c.textContent!.trim();
      row.links = [...tr.querySelectorAll('a[href], [title]')].map((a) => a.getAttribute('href') ?? a.getAttribute('title')).join(' ');
      return row;
    });
  });
}

/** a cell of a row by its column header (`links`: the row's link targets and titles) */
function cell(row: Record<string, string>, column: string): string {
  const value = row[column];
  if (value === undefined) assert.fail(`no column ${column} in ${JSON.stringify(row)}`);
  return value;
}

/** the recording ids the list on the page links to */
async function listedIds(page: Page): Promise<string[]> {
  const rows = await tableRows(page.locator('table.recordings'));
  return rows.map((r) => /\/recordings\/([0-9a-f-]{36})/.exec(cell(r, 'links'))?.[1] ?? '?').sort();
}

const sorted = (ids: string[]) => [...ids].sort();
const digits = (s: string | null) => (s ?? '').replace(/\D/g, '');

/** the slider's position in whole seconds */
async function position(page: Page): Promise<number> {
  return Number(await page.getByRole('slider', { name: /^Waveform/ }).getAttribute('aria-valuenow'));
}

describe('web UI', { timeout: 420_000 }, () => {
  let server: DemoServer;
  const contexts: BrowserContext[] = [];
  const shots = new Screenshots();
  let anna: Page;
  let annaCalls: DemoRecording[];
  let erikCalls: DemoRecording[];
  /** what anna listened to in the first test */
  let listened: { id: string; purpose: string; purposeLabel: string } | undefined;
  /** the audio requests of her page */
  let audioSeen: ReturnType<typeof watchAudio> | undefined;
  /** the call anna played in the original, and its caller's personnummer as shown */
  let original: { id: string; personnummer: string } | undefined;

  const pages = new Map<string, Page>();
  const pageErrors: string[] = [];

  async function browserFor(who: string): Promise<Page> {
    const { context, page } = await openBrowser(server, who);
    contexts.push(context);
    pages.set(who, page);
    page.on('pageerror', (err) => pageErrors.push(`${who}: ${err.message}`));
    return page;
  }

  /** a test that, when it fails, says where each browser was and what it showed (screenshots in the output directory) */
  function test(name: string, body: () => Promise<void>) {
    it(name, async () => {
      try {
        await body();
      } catch (err) {
        const seen: string[] = [];
        for (const [who, page] of pages) {
          if (page.isClosed()) continue;
          await shots.take(page, `failed-${who}`).catch(() => undefined);
          const body = page.locator('body');
          // biome-ignore lint/performance/useDomNodeTextContent: Playwright's locator.innerText, not the DOM property: a failure report shows the visible text
          const text = await body.innerText({ timeout: 1000 }).catch(() => '?');
          seen.push(`${who} at ${page.url()} (${shots.taken.get(`failed-${who}`) ?? 'no screenshot'}): ${text.replace(/\s+/g, ' ').slice(0, 400)}`);
        }
        if (err instanceof Error) err.message += `\n  browsers:\n    ${seen.join('\n    ')}${pageErrors.length ? `\n  page errors: ${pageErrors.join('; ')}` : ''}`;
        throw err;
      }
    });
  }

  before(async () => {
    server = await startDemo(CALLS);
    annaCalls = server.recordings.filter((r) => r.agent === 'nurse-anna');
    erikCalls = server.recordings.filter((r) => r.agent === 'nurse-erik');
    assert.equal(server.recordings.length, CALLS, 'the demo lists every call it made');
    assert.ok(annaCalls.length >= 2 && erikCalls.length >= 1, `the demo gives anna two calls and erik one: ${JSON.stringify(server.recordings.map((r) => r.agent))}`);
    for (const r of server.recordings) assert.equal(r.redaction, 'redacted', `demo call ${r.id} has a redacted rendition`);
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await server?.stop();
  });

  test('a nurse enrols her authenticator, finds her call, states a purpose, plays and seeks', async () => {
    const user = server.users.get('anna')!;
    anna = await browserFor('anna');
    const audio = watchAudio(anna);
    await anna.goto('/');
    await anna.getByRole('heading', { name: 'Sign in' }).waitFor();

    const result = await signIn(anna, user, {
      onEnrolment: async () => {
        const qr = anna.getByRole('img', { name: 'QR code for your authenticator app' });
        await qr.waitFor();
        assert.match((await qr.getAttribute('src')) ?? '', /^data:image\/png;base64,/);
        assert.ok((await qr.evaluate((img: HTMLImageElement) => img.naturalWidth)) >= 100, 'the QR code image is drawn');
        const enrolment = anna.getByRole('group', { name: 'Set up your authenticator' });
        assert.equal((await enrolment.locator('code.secret').textContent())?.trim(), user.totpSecret, 'the secret shown is the account’s');
        await shots.take(anna, 'signin-enrolment');
      },
    });
    assert.ok(result.enrolled, 'the first sign-in asks to enrol the authenticator');
    await anna.getByRole('heading', { name: 'Recordings', level: 1 }).waitFor();
    await anna.getByText(/^Signed in as anna \(nurse\)$/).waitFor();

    // exactly her calls, every row hers
    await eventually(
      'anna’s list',
      () => listedIds(anna),
      (ids) => ids.join() === sorted(annaCalls.map((r) => r.id)).join(),
    );
    const rows = await tableRows(anna.locator('table.recordings'));
    // regions, agents and the region owner by their names, not their ids
    assert.deepEqual([...new Set(rows.map((r) => cell(r, 'Agent')))], [AGENT_NAMES['nurse-anna']]);
    assert.deepEqual(rows.map((r) => cell(r, 'Region')).sort(), annaCalls.map((c) => REGION_NAMES[c.region!]).sort());
    assert.deepEqual([...new Set(rows.map((r) => cell(r, 'Region owner')))], ['Region Demo']);
    await shots.take(anna, 'recordings');

    // a filter narrows the list and lives in the address: a region typed by its name, kept by its id
    const filters = anna.getByRole('form', { name: 'Filters' });
    const region = annaCalls[0]!.region!;
    await filters.getByLabel('Region', { exact: true }).fill(REGION_NAMES[region]!);
    await filters.getByRole('button', { name: 'Search' }).click();
    await anna.waitForURL((u) => u.searchParams.get('region') === region);
    assert.equal(await filters.getByLabel('Region', { exact: true }).inputValue(), REGION_NAMES[region], 'the filter shows the name');
    const inRegion = annaCalls.filter((r) => r.region === region).map((r) => r.id);
    await eventually(
      `anna’s calls in ${region}`,
      () => listedIds(anna),
      (ids) => ids.join() === sorted(inRegion).join(),
    );
    const elsewhere = ['stockholm', 'uppsala', 'skane', 'gotland'].find((r) => !annaCalls.some((c) => c.region === r))!;
    await filters.getByLabel('Region', { exact: true }).fill(elsewhere);
    await filters.getByRole('button', { name: 'Search' }).click();
    await anna.getByText('No recordings in your scope match.').waitFor();
    assert.equal(await anna.locator('table.recordings').count(), 0);
    await filters.getByRole('button', { name: 'Clear' }).click();
    await anna.waitForURL((u) => u.search === '');
    await eventually(
      'the list after Clear',
      () => listedIds(anna),
      (ids) => ids.length === annaCalls.length,
    );

    // her own call: the caller and personnummer as labels until she states a purpose for the original
    const call = annaCalls[0]!;
    await anna.locator(`a[href="/recordings/${call.id}"]`).click();
    await anna.getByRole('heading', { name: /^Call on / }).waitFor();
    // the labels the server writes in Swedish, in the interface's language
    assert.deepEqual([await fact(anna, 'Personnummer'), await fact(anna, 'Caller')], ['[PERSONAL ID]', '[PHONE]']);
    assert.deepEqual([await fact(anna, 'Region'), await fact(anna, 'Agent'), await fact(anna, 'Region owner')], [REGION_NAMES[call.region!], 'Anna Lind', 'Region Demo']);

    // a purpose first: the start button waits for one
    await anna.getByRole('button', { name: 'Play…' }).click();
    const dialog = anna.getByRole('dialog', { name: 'Why are you listening?' });
    await dialog.waitFor();
    const start = dialog.getByRole('button', { name: 'Start listening' });
    assert.ok(await start.isDisabled(), 'no purpose, no start');
    await dialog.getByLabel('Purpose', { exact: true }).selectOption('patient-follow-up');
    assert.ok(await start.isEnabled());
    await shots.take(anna, 'purpose-dialog');
    await start.click();
    await dialog.waitFor({ state: 'detached' });
    await anna
      .getByRole('status')
      .filter({ hasText: /^Purpose: Patient follow-up\. Access ends / })
      .waitFor();
    listened = { id: call.id, purpose: 'patient-follow-up', purposeLabel: 'Patient follow-up' };

    // play: the position advances and the word being spoken is marked
    const player = anna.getByRole('region', { name: 'Audio player' });
    const playButton = player.getByRole('button', { name: 'Play', exact: true });
    await eventually('the Play button', () => playButton.isEnabled(), Boolean);
    const positionText = player.getByTestId('position');
    const atStart = (await positionText.textContent())!.trim();
    assert.match(atStart, /^0:00 of 0:2\d$/);
    const scrolled = () => anna.evaluate(() => window.scrollY);
    const scrollBefore = await scrolled();
    await playButton.click();
    await player.getByRole('button', { name: 'Pause', exact: true }).waitFor();
    await eventually(
      'the position while playing',
      () => position(anna),
      (s) => s >= 2,
      8000,
    );
    // the transcript follows the words inside its own box: the page stays put under the pointer
    assert.equal(await scrolled(), scrollBefore, 'playing does not scroll the page');
    assert.notEqual((await positionText.textContent())!.trim(), atStart);
    const word = player.locator('.transcript [aria-current="time"]');
    await word.first().waitFor({ timeout: 5000 });
    assert.equal(await word.count(), 1, 'one word at a time is current');

    // the removed identifiers: counted in the summary and marked on the waveform
    const summary = player.getByText(/^\d+ identifier spans? removed \(marked in the waveform\)$/);
    const spans = Number(/^(\d+)/.exec((await summary.textContent())!)![1]);
    assert.ok(spans >= 1, 'the call has identifier spans removed');
    const regions = anna.locator('[data-testid="waveform"] [part^="region "]');
    await eventually(
      'marked regions',
      () => regions.count(),
      (n) => n === spans,
    );
    // each span named in the interface's language, and the transcript's labels too ([TELEFON] is the server's)
    assert.deepEqual([...new Set(await anna.locator('[data-testid="waveform"] [part="region-content"]').allTextContents())].sort(), ['personal identity number', 'phone number']);
    const masks = [...new Set(await player.locator('.transcript .word.redacted').allTextContents())].sort();
    assert.deepEqual(masks, ['[PERSONAL ID]', '[PHONE]']);
    assert.deepEqual(await player.getByLabel('Speed').locator('option').allTextContents(), ['0.75×', '1×', '1.25×', '1.5×', '2×']);
    await summary.click();
    // the waveform, the removed spans and the transcript with its current word in one picture
    await player.evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await eventually(
      'a highlighted word for the screenshot',
      () => word.count(),
      (n) => n === 1,
      5000,
    );
    await shots.take(anna, 'player');

    // seek by keyboard and by a click on the waveform
    await player.getByRole('button', { name: 'Pause', exact: true }).click();
    await playButton.waitFor();
    const slider = anna.getByRole('slider', { name: /^Waveform/ });
    const before = await position(anna);
    await slider.focus();
    await anna.keyboard.press('ArrowRight');
    await eventually(
      'the position after ArrowRight',
      () => position(anna),
      (s) => s >= before + 4 && s <= before + 6,
    );
    const total = call.durationMs / 1000;
    const box = (await slider.boundingBox())!;
    await slider.click({ position: { x: box.width * 0.75, y: box.height / 2 } });
    await eventually(
      'the position after a click at 75%',
      () => position(anna),
      (s) => Math.abs(s - total * 0.75) <= 1.5,
    );
    await playButton.click();
    const resumed = await position(anna);
    await eventually(
      'playing on from there',
      () => position(anna),
      (s) => s > resumed,
      5000,
    );
    await player.getByRole('button', { name: 'Pause', exact: true }).click();

    assert.ok(audio.length > 0 && audio.every((a) => a.url.includes(`/recordings/${call.id}/audio?access=`)), 'the audio of this recording, under the access');
    audioSeen = audio;
  });

  test('the player fetches the audio by byte ranges (206), as the server offers', async () => {
    // the media element asks for ranges (Range: bytes=0- at first, then from where it seeks) when
    // it plays from the audio URL; a player that downloads the whole file first asks for none
    assert.ok(audioSeen, 'the nurse test played a call');
    const requests = await Promise.all(audioSeen.map(async (a) => ({ range: a.range ?? null, status: await a.status })));
    assert.ok(
      requests.some((a) => a.range && a.status === 206),
      `no audio request with a Range header answered 206; the player asked for: ${JSON.stringify(requests)}`,
    );
    assert.ok(
      requests.filter((a) => a.range).every((a) => a.status === 206),
      JSON.stringify(requests),
    );
  });

  test('the auditor finds the nurse’s listening, with its purpose, in a verified log', async () => {
    assert.ok(listened, 'the nurse test played a call');
    const page = await browserFor('auditor');
    await page.goto('/');
    await signIn(page, server.users.get('auditor')!);
    await page.waitForURL((u) => u.pathname === '/audit');
    await page.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor();
    const nav = await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents();
    assert.deepEqual(nav, ['Audit log'], 'an auditor has no recordings to open');
    await page.getByText('Verified: the log is intact').waitFor({ timeout: 20_000 });
    // the figures are of one moment: the checkpoint shown, and the entries the verification recomputed beyond it
    const recomputed = Number(/Entries recomputed: (\d+)\./.exec((await page.locator('.verify-result').textContent()) ?? '')?.[1]);
    const signedSize = Number(await fact(page, 'Tree size'));
    const since = Number(/^(\d+),/.exec(await fact(page, 'Entries since'))?.[1]);
    assert.ok(signedSize > 0 && since > 0, `checkpoint ${signedSize}, ${since} since`);
    assert.equal(recomputed, signedSize + since, 'entries recomputed = the checkpoint’s size + the entries since');
    assert.equal(
      await page.getByTestId('verify-covers').textContent(),
      `The checkpoint below is among those checked: its ${signedSize} entries, and ${since === 1 ? 'the one entry' : `the ${since} entries`} added after it was signed (by reading this page, among others).`,
    );
    await shots.take(page, 'audit');
    // every action in the log is said in words, not by its code alone
    const actions = await page
      .locator('table.audit-table tbody tr')
      .evaluateAll((trs) =>
        trs.flatMap((tr) =>
          [...tr.querySelectorAll('td code')]
            .filter((c) => /^[a-z-]+\.[a-z.-]+$/.test(c.textContent ?? ''))
            .map((c) => ({ action: c.textContent, named: Boolean(c.parentElement?.querySelector('.hint')?.textContent) })),
        ),
      );
    assert.ok(actions.length >= 10, `${actions.length} actions on the page`);
    assert.deepEqual([...new Set(actions.filter((a) => !a.named).map((a) => a.action))], [], 'actions shown by their code only');

    // anna's first sign-in asked her to set up her authenticator: a step, not a failed sign-in
    {
      const filters = page.getByRole('form', { name: 'Filter the log' });
      await filters.getByLabel('Action', { exact: true }).selectOption('auth.signin');
      await filters.getByLabel('Person', { exact: true }).fill('anna');
      await filters.getByRole('button', { name: 'Show' }).click();
      const signins = await eventually(
        'anna’s sign-ins',
        () => tableRows(page.locator('table.audit-table')),
        (rs) => rs.length > 0 && rs.every((r) => cell(r, 'Action').startsWith('auth.signin')),
      );
      const outcomes = signins.map((r) => cell(r, 'Outcome'));
      assert.ok(outcomes.includes('next step: set up the authenticator'), outcomes.join(' | '));
      assert.ok(
        outcomes.some((o) => o.startsWith('success')),
        outcomes.join(' | '),
      );
      await page.goto('/audit');
      await page.getByText('Verified: the log is intact').waitFor({ timeout: 20_000 });
    }

    const filters = page.getByRole('form', { name: 'Filter the log' });
    await filters.getByLabel('Action', { exact: true }).selectOption('recording.');
    await filters.getByLabel('Person', { exact: true }).fill('anna');
    await filters.getByLabel('Recording id', { exact: true }).fill(listened.id);
    await filters.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL((u) => u.searchParams.get('recordingId') === listened!.id && u.searchParams.get('actor') === 'anna');
    const table = page.locator('table.audit-table');
    const rows = await eventually(
      'entries of anna’s listening',
      () => tableRows(table),
      // the filtered page replaces the newest entries of every kind shown first
      (rs) =>
        rs.every((r) => /^anna/.test(cell(r, 'Who')) && cell(r, 'links').includes(listened!.id) && cell(r, 'Action').startsWith('recording.')) &&
        rs.some((r) => cell(r, 'Action').startsWith('recording.access')) &&
        rs.some((r) => cell(r, 'Action').startsWith('recording.play')),
    );
    for (const action of ['recording.access', 'recording.play']) {
      const r = rows.find((x) => cell(x, 'Action').startsWith(action))!;
      assert.match(cell(r, 'Outcome'), /^success/);
      assert.equal(cell(r, 'Purpose'), listened.purposeLabel, `${action} carries the stated purpose`);
    }
    await page.getByRole('heading', { name: 'Log entries' }).evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await shots.take(page, 'audit-log');

    // the page shows what the log holds
    const search = await fetchFromPage(page, 'GET', `/api/v1/audit/search?action=recording.access&recordingId=${listened.id}&actor=anna`);
    assert.equal(search.status, 200);
    assert.ok(search.json.entries.some((e: any) => e.event.purpose === listened!.purpose && e.event.actor.name === 'anna'));
  });

  test('the auditor draws this month’s log review sample, checks an access, and the report counts it', async () => {
    const page = pages.get('auditor')!;
    await page.goto('/audit');
    const review = page.getByRole('region', { name: 'Log review' });
    await review.getByText('No sample has been drawn for this month.').waitFor();
    await review.getByLabel('Accesses to draw').fill('3');
    await review.getByRole('button', { name: 'Draw the sample' }).click();
    const progress = review.locator('.review-progress');
    await progress.getByText(/^0 of [1-3] checked$/).waitFor();
    const sampled = review.getByRole('article');
    const total = await sampled.count();
    assert.ok(total >= 1 && total <= 3, `${total} accesses sampled`);
    // anna's listening is this month's: every sampled access names who, what and why it was chosen
    const first = sampled.first();
    assert.match((await first.locator('dl.facts').textContent()) ?? '', /Who.*When.*What.*recording\..*Recording.*Purpose.*Why chosen/s);
    const justified = first.getByRole('button', { name: 'Justified', exact: true });
    assert.ok(await justified.isDisabled(), 'no outcome without a note');
    await first.getByLabel('Note').fill('Her own caller, a follow-up as stated');
    await justified.click();
    await progress.getByText(`1 of ${total} checked`).waitFor();
    await first.getByText(/^Justified, by auditor/).waitFor();

    await review.getByRole('button', { name: 'Show the report' }).click();
    const report = review.locator('dl.review-report');
    await report.waitFor();
    assert.equal(await fact(page, 'Checked'), `1 of ${total} checked`);
    assert.equal(await fact(page, 'Outcomes'), 'Justified: 1, Unjustified: 0, Unclear: 0');
    assert.ok(Number(await fact(page, 'Accesses in the month')) >= total);
    assert.match(await fact(page, 'Reproducible'), /^Yes/);

    // the page shows what the server holds
    const now = new Date();
    const period = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}`;
    const answer = await fetchFromPage(page, 'GET', `/api/v1/audit/review/${period}/report`);
    assert.equal(answer.status, 200);
    assert.equal(answer.json.checked, 1);
    assert.deepEqual(answer.json.outcomes, { justified: 1, unjustified: 0, unclear: 0 });
  });

  test('a nurse cannot see another nurse’s call, in the list, by its address or through the API', async () => {
    await anna.goto('/recordings');
    await eventually(
      'anna’s list',
      () => listedIds(anna),
      (ids) => ids.join() === sorted(annaCalls.map((r) => r.id)).join(),
    );
    for (const r of erikCalls) assert.ok(!(await listedIds(anna)).includes(r.id));

    // break the glass is there, loud, and not pressed here
    await anna.getByRole('button', { name: 'Break the glass' }).click();
    const glass = anna.getByRole('dialog', { name: 'Emergency access (break the glass)' });
    await glass.waitFor();
    assert.ok(await glass.getByRole('button', { name: 'Open emergency access' }).isDisabled(), 'no reason, no confirmation, no emergency access');
    // the calls of a region owner (the controller) open, chosen by its name: not the recordings' Region
    const owner = glass.getByLabel('Region owner (data controller)');
    assert.deepEqual([await owner.inputValue(), (await owner.locator('option:checked').textContent())?.trim()], ['region-demo', 'Region Demo']);
    assert.equal(await glass.getByLabel('Region', { exact: true }).count(), 0);
    await glass.getByLabel('Reason').fill('Synthetic demo: a caller collapsed during the call');
    await shots.take(anna, 'break-glass');
    await glass.getByRole('button', { name: 'Cancel' }).click();
    await glass.waitFor({ state: 'detached' });

    const filters = anna.getByRole('form', { name: 'Filters' });
    await filters.getByLabel('Agent', { exact: true }).fill('nurse-erik');
    await filters.getByRole('button', { name: 'Search' }).click();
    await anna.getByText('No recordings in your scope match.').waitFor();

    const erik = erikCalls[0]!;
    await anna.goto(`/recordings/${erik.id}`);
    await anna.getByRole('alert').filter({ hasText: 'no such recording' }).waitFor();
    assert.equal(await anna.getByRole('heading', { name: /^Call on / }).count(), 0);
    assert.equal(await anna.getByRole('button', { name: /Play/ }).count(), 0);
    assert.equal(await anna.getByRole('region', { name: 'Audio player' }).count(), 0);

    assert.equal((await fetchFromPage(anna, 'GET', `/api/v1/recordings/${erik.id}`)).status, 404);
    const access = await fetchFromPage(anna, 'POST', `/api/v1/recordings/${erik.id}/access`, { purpose: 'patient-follow-up' });
    assert.equal(access.status, 404, JSON.stringify(access.json));
    assert.equal((await fetchFromPage(anna, 'GET', `/api/v1/recordings/${erik.id}/audio?access=${randomUUID()}`)).status, 404);
  });

  test('the administrator changes the one-time password, manages, and can play no audio', async () => {
    const page = await browserFor('admin');
    await page.goto('/');
    const result = await signIn(page, server.users.get('admin')!, { newPassword: newPassword() });
    assert.ok(result.enrolled && result.changedPassword, 'the first sign-in enrols and replaces the one-time password');
    await page.waitForURL((u) => u.pathname === '/admin');
    await page.getByRole('heading', { name: 'Administration', level: 1 }).waitFor();
    await page.getByRole('tab', { name: 'Users' }).waitFor();
    const nav = await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents();
    assert.deepEqual(nav, ['Administration'], 'no Recordings link');
    await shots.take(page, 'admin');

    const id = server.recordings[0]!.id;
    for (const path of ['/recordings', `/recordings/${id}`]) {
      await page.goto(path);
      await page.waitForURL((u) => u.pathname === '/admin');
      await page.getByRole('heading', { name: 'Administration', level: 1 }).waitFor();
      assert.equal(await page.locator('table.recordings').count(), 0);
      assert.equal(await page.getByRole('region', { name: 'Audio player' }).count(), 0);
      assert.equal(await page.getByRole('button', { name: /Play/ }).count(), 0);
    }

    const answers = {
      list: (await fetchFromPage(page, 'GET', '/api/v1/recordings')).status,
      detail: (await fetchFromPage(page, 'GET', `/api/v1/recordings/${id}`)).status,
      access: (await fetchFromPage(page, 'POST', `/api/v1/recordings/${id}/access`, { purpose: 'incident-investigation', purposeText: 'checking the storage works' })).status,
      audio: (await fetchFromPage(page, 'GET', `/api/v1/recordings/${id}/audio?access=${randomUUID()}`)).status,
      transcript: (await fetchFromPage(page, 'GET', `/api/v1/recordings/${id}/transcript?access=${randomUUID()}`)).status,
    };
    assert.deepEqual(answers, { list: 403, detail: 403, access: 403, audio: 403, transcript: 403 });
    // without an access the server asks for a purpose (400) before it looks at the role: refused all the same
    const bare = (await fetchFromPage(page, 'GET', `/api/v1/recordings/${id}/audio`)).status;
    assert.ok(bare === 400 || bare === 403, `audio without an access: ${bare}`);
  });

  test('the API documentation at /api/docs shows callvault’s name and mark, not swagger-ui’s', async () => {
    const admin = pages.get('admin');
    assert.ok(admin, 'the administrator signed in in an earlier test');
    const docs = await admin.context().newPage();
    try {
      // swagger-ui's bundle is large: on a busy machine it takes a while to run
      await docs.goto('/api/docs/', { timeout: 60_000 });
      await docs.getByText(/^A vault for recorded healthcare calls\./).waitFor({ timeout: 60_000 });
      assert.equal(await docs.title(), 'callvault API');
      const logo = docs.locator('.swagger-ui .topbar .topbar-wrapper img');
      await logo.waitFor();
      assert.match((await logo.getAttribute('src')) ?? '', /^data:image\/svg\+xml;base64,/);
      assert.ok((await logo.evaluate((img: HTMLImageElement) => img.naturalWidth)) > 0, 'the logo is drawn');
      assert.match(Buffer.from((await logo.getAttribute('src'))!.split(',')[1]!, 'base64').toString(), /callvault/);
      assert.deepEqual(await docs.locator('link[rel="icon"]').evaluateAll((links) => links.map((l) => l.getAttribute('type'))), ['image/svg+xml']);
      assert.equal(await docs.locator('.swagger-ui .topbar').evaluate((el) => getComputedStyle(el).backgroundColor), 'rgb(28, 61, 110)', 'in the interface’s blue');
    } finally {
      await docs.close();
    }
  });

  test('when the session ends under an open page, signing in again keeps the place and finishes the action', async () => {
    const user = server.users.get('anna')!;
    const call = annaCalls.find((r) => r.id !== listened?.id) ?? annaCalls[0]!;
    await anna.goto(`/recordings?region=${encodeURIComponent(call.region!)}`);
    await anna.locator(`a[href="/recordings/${call.id}"]`).click();
    await anna.getByRole('heading', { name: /^Call on / }).waitFor();
    const url = anna.url();
    await anna.getByRole('button', { name: 'Play…' }).click();
    const dialog = anna.getByRole('dialog', { name: 'Why are you listening?' });
    await dialog.getByLabel('Purpose', { exact: true }).selectOption('quality-review');
    await dialog.getByLabel('Explanation').fill('Monthly review of follow-up calls');

    // the session ends behind the page's back (as at idle timeout or a sign-out elsewhere)
    assert.equal((await fetchFromPage(anna, 'POST', '/api/v1/auth/signout')).status, 204);
    await dialog.getByRole('button', { name: 'Start listening' }).click();
    const expired = anna.getByRole('dialog', { name: 'Your session has ended' });
    await expired.waitFor();
    assert.equal(anna.url(), url, 'the page stays where it was');
    assert.equal(await expired.getByLabel('Username').inputValue(), 'anna');
    assert.equal(await dialog.getByLabel('Purpose', { exact: true }).inputValue(), 'quality-review', 'what was entered stays');

    await expired.getByLabel('Password', { exact: true }).fill(user.password);
    await expired.getByLabel('Code', { exact: true }).fill(await freshCode(user.totpSecret));
    await expired.getByRole('button', { name: 'Sign in' }).click();
    await expired.waitFor({ state: 'detached' });

    // the refused request went again: the purpose is stated and the player is there
    await anna
      .getByRole('status')
      .filter({ hasText: /^Purpose: Quality review\. Access ends / })
      .waitFor();
    await anna.getByRole('region', { name: 'Audio player' }).waitFor();
    assert.equal(anna.url(), url);
    const player = anna.getByRole('region', { name: 'Audio player' });
    await eventually('the Play button', () => player.getByRole('button', { name: 'Play', exact: true }).isEnabled(), Boolean);

    // and back leads to the list as it was filtered
    await anna.getByRole('link', { name: /Back to recordings/ }).click();
    await anna.waitForURL((u) => u.pathname === '/recordings' && u.searchParams.get('region') === call.region);
    await eventually(
      'the filtered list',
      () => listedIds(anna),
      (ids) => ids.includes(call.id) && ids.length === annaCalls.filter((r) => r.region === call.region).length,
    );
  });

  test('break-the-glass: the banner and its stop button stay after a reload, and stopping ends the access at the server', async () => {
    const erik = erikCalls[0]!;
    await anna.goto('/recordings');
    await anna.getByRole('heading', { name: 'Recordings', level: 1 }).waitFor();
    await anna.getByRole('button', { name: 'Break the glass' }).click();
    const glass = anna.getByRole('dialog', { name: 'Emergency access (break the glass)' });
    await glass.waitFor();
    await glass.getByLabel('Reason').fill('Synthetic demo: a caller collapsed during the call');
    await glass.getByLabel('Minutes').fill('5');
    await glass.getByRole('checkbox', { name: 'I understand that this is reviewed' }).check();
    await glass.getByRole('button', { name: 'Open emergency access' }).click();
    await glass.waitFor({ state: 'detached' });
    const banner = anna.getByRole('alert').filter({ hasText: 'EMERGENCY ACCESS ACTIVE' });
    const stop = banner.getByRole('button', { name: 'End emergency access now' });
    await banner.waitFor();
    await banner.getByText(/^EMERGENCY ACCESS ACTIVE for Region Demo until /).waitFor();
    await eventually(
      'the list under break-the-glass',
      () => listedIds(anna),
      (ids) => ids.includes(erik.id),
    );

    // the state is the server's: a reload, and a page opened by its address, show it as long as it lasts
    await anna.reload();
    await banner.waitFor();
    await stop.waitFor();
    assert.equal(await anna.getByRole('button', { name: 'Break the glass' }).count(), 0, 'no second period while one lasts');
    await anna.goto(`/recordings/${erik.id}`);
    await anna.getByRole('heading', { name: /^Call on / }).waitFor();
    await stop.waitFor();
    // another tab keeps nothing of this one's memory or sessionStorage: it learns it from the server
    const tab = await anna.context().newPage();
    await tab.goto('/recordings');
    await tab.getByRole('alert').filter({ hasText: 'EMERGENCY ACCESS ACTIVE' }).getByRole('button', { name: 'End emergency access now' }).waitFor();
    await tab.close();

    // stopping ends it at the server, not only on the page
    await stop.click();
    await banner.waitFor({ state: 'detached' });
    const session = await fetchFromPage(anna, 'GET', '/api/v1/auth/session');
    assert.deepEqual(session.json.breakGlass, []);
    assert.equal((await fetchFromPage(anna, 'GET', `/api/v1/recordings/${erik.id}`)).status, 404, 'erik’s call is out of reach again');
    await anna.reload();
    await anna.getByRole('alert').filter({ hasText: 'no such recording' }).waitFor();
    assert.equal(await banner.count(), 0, 'no banner after a reload once it has ended');
  });

  test('the privacy officer finds a person’s recordings by personnummer', async () => {
    const page = await browserFor('dpo');
    await page.goto('/');
    await signIn(page, server.users.get('dpo')!);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Privacy' }).click();
    await page.getByRole('heading', { name: 'Privacy', level: 1 }).waitFor();
    // subject requests are the first of the page's sections
    assert.equal(await page.getByRole('tab', { name: 'Subject requests' }).getAttribute('aria-selected'), 'true');
    // the personnummer spoken in the first demo call, which is anna's
    const pnr = syntheticPersonnummer(1000);
    const form = page.getByRole('form', { name: 'The person' });
    await form.getByLabel('Identify the person by').selectOption('personnummer');
    await form.getByLabel('Personnummer', { exact: true }).fill(`${pnr.slice(0, 8)}-${pnr.slice(8)}`);
    await form.getByRole('button', { name: 'Find' }).click();
    await page.getByText(/ of the person in your reach\.$/).waitFor();
    const found = await tableRows(page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'Found in' }) }));
    assert.equal(found.length, 1, 'one demo call speaks this personnummer');
    assert.equal(cell(found[0]!, 'Agent'), AGENT_NAMES['nurse-anna']);
    assert.match(cell(found[0]!, 'Found in'), /metadata/);
    assert.ok(!page.url().includes(pnr.slice(2, 8)), 'the personnummer is not in the address');
    await shots.take(page, 'privacy');
  });

  test('four-eyes: a nurse the administrator makes enrols with her code, waits for the privacy officer’s approval, then signs in', async () => {
    const admin = pages.get('admin');
    const dpo = pages.get('dpo');
    assert.ok(admin && dpo, 'the administrator and the privacy officer signed in in earlier tests');

    // the administrator makes the account and gets an enrolment code, never a password or secret
    await admin.goto('/admin');
    await admin.getByRole('tab', { name: 'Users' }).waitFor();
    await admin.getByRole('button', { name: 'New user…' }).click();
    const create = admin.getByRole('dialog', { name: 'New user' });
    await create.getByLabel('Username').fill('nils');
    await create.getByLabel('Role').selectOption('nurse');
    await create.getByLabel('Controller (region)').check();
    await create.getByLabel('Agent').fill('nurse-nils');
    await create.getByRole('button', { name: 'Create user' }).click();
    const shown = admin.getByRole('dialog', { name: 'Account nils created' });
    await shown.getByText(/can sign in only once the controller’s privacy officer/).waitFor();
    const enrolmentCode = await shown.getByLabel('Enrolment code').inputValue();
    assert.match(enrolmentCode, /^[A-Z2-7]{5}(-[A-Z2-7]{5}){4}$/);
    assert.deepEqual(await shown.locator('input').evaluateAll((inputs: HTMLInputElement[]) => inputs.map((i) => i.value)), ['nils', enrolmentCode], 'the code and nothing else');
    await shown.getByRole('button', { name: 'I have passed it on' }).click();
    const nilsRow = async () => (await tableRows(admin.locator('table.admin-table'))).find((r) => cell(r, 'Username') === 'nils');
    await eventually('nils in the list', nilsRow, (r) => r !== undefined && cell(r, 'Status') === 'Waits for approval (new account)');

    // in a browser of her own, she enrols with the code through the sign-in page
    const nils = await browserFor('nils');
    await nils.goto('/');
    await nils.getByRole('button', { name: 'Enrol with a code' }).click();
    await nils.getByRole('heading', { name: 'Enrol with a code', level: 1 }).waitFor();
    await nils.getByLabel('Username').fill('nils');
    await nils.getByLabel('Enrolment code').fill(enrolmentCode);
    await nils.getByRole('button', { name: 'Continue' }).click();
    const setup = nils.getByRole('group', { name: 'Set up your authenticator' });
    await setup.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor();
    const secret = (await setup.locator('code.secret').textContent())!.trim();
    assert.match(secret, /^[A-Z2-7]{16,}$/);
    const password = newPassword();
    await nils.getByLabel('Code', { exact: true }).fill(await freshCode(secret));
    await nils.getByLabel('New password', { exact: true }).fill(password);
    await nils.getByLabel('New password again').fill(password);
    await nils.getByRole('button', { name: 'Enrol', exact: true }).click();
    await nils.getByRole('heading', { name: 'Enrolled: waiting for approval' }).waitFor();
    await nils.getByText(/waits for approval by your organisation’s privacy officer: you can sign in once they have approved it/).waitFor();

    // the privacy officer sees what waits and approves it
    await dpo.goto('/privacy?section=approvals');
    const approvals = dpo.getByRole('region', { name: 'Approvals' });
    const accounts = approvals.locator('table.approvals').filter({ has: dpo.getByRole('columnheader', { name: 'Username' }) });
    const rows = await eventually(
      'nils waiting for the officer',
      () => tableRows(accounts),
      (rs) => rs.some((r) => cell(r, 'Username') === 'nils'),
    );
    const waiting = rows.find((r) => cell(r, 'Username') === 'nils')!;
    assert.deepEqual(
      ['Role', 'Organisation', 'Agent', 'Requested'].map((c) => cell(waiting, c)),
      ['nurse', 'staff of Region Demo', 'nurse-nils', 'new account'],
    );
    await dpo.evaluate(() => window.scrollTo(0, 0));
    await shots.take(dpo, 'approvals');
    await approvals.getByRole('button', { name: 'Approve account nils' }).click();
    await approvals.getByRole('status').filter({ hasText: 'Account nils approved: it can sign in.' }).waitFor();
    await approvals.getByText('Nothing waits for your approval.').waitFor();

    // and the administrator's list no longer shows her waiting
    await admin.reload();
    await eventually('nils approved in the list', nilsRow, (r) => r !== undefined && cell(r, 'Status') === 'Active');

    // now she signs in with her own password and the authenticator's next code
    await nils.getByRole('button', { name: 'Back to sign-in' }).click();
    await nils.getByRole('heading', { name: 'Sign in' }).waitFor();
    const result = await signIn(nils, { username: 'nils', role: 'nurse', password, totpSecret: secret });
    assert.deepEqual(result, { enrolled: false, changedPassword: false }, 'enrolment set up everything');
    await nils.getByText(/^Signed in as nils \(nurse\)$/).waitFor();
    await nils.getByRole('heading', { name: 'Recordings', level: 1 }).waitFor();
  });

  test('a purpose stated for the original shows the caller and personnummer in clear, written the Swedish way, and says the identifiers are audible', async () => {
    const call = annaCalls[0]!;
    await anna.goto(`/recordings/${call.id}`);
    await anna.getByRole('heading', { name: /^Call on / }).waitFor();
    assert.equal(await fact(anna, 'Personnummer'), '[PERSONAL ID]');
    await anna.getByRole('button', { name: 'Play…' }).click();
    const dialog = anna.getByRole('dialog', { name: 'Why are you listening?' });
    await dialog.getByLabel('Purpose', { exact: true }).selectOption('patient-follow-up');
    await dialog.getByLabel('Original (identifiers audible)').check();
    await dialog.getByRole('button', { name: 'Start listening' }).click();
    await dialog.waitFor({ state: 'detached' });
    const shownPnr = await eventually(
      'the personnummer in clear',
      () => fact(anna, 'Personnummer'),
      (v) => /\d/.test(v),
    );
    const shownPhone = await fact(anna, 'Caller');
    // 19371020-9887 and 070-174 06 64, as Swedes write them, not 193710209887 and +46701740664
    assert.match(shownPnr, /^\d{8}-\d{4}$/);
    assert.match(shownPhone, /^0\d{1,3}-[\d ]+$/);
    const spoken = [...Array(CALLS).keys()]
      .filter((i) => DEMO_AGENTS[i % 3] === 'nurse-anna')
      .map((i) => ({ pnr: syntheticPersonnummer(1000 + i), phone: syntheticPhone(1000 + i) }));
    assert.ok(
      spoken.some((p) => shownPnr === `${p.pnr.slice(0, 8)}-${p.pnr.slice(8)}` && shownPhone === p.phone),
      `the caller (${shownPhone}) and personnummer (${shownPnr}) of one of anna’s demo calls are shown`,
    );
    original = { id: call.id, personnummer: shownPnr };

    // the original says, as a warning, that the identifiers are audible: nothing was removed
    const player = anna.getByRole('region', { name: 'Audio player' });
    const notice = player.getByRole('note').filter({ hasText: 'Original: the identifiers in this call are audible.' });
    await notice.waitFor();
    assert.equal(await notice.evaluate((el) => el.className), 'warning audible');
    assert.equal(await player.getByText(/identifier spans? removed/).count(), 0, 'no “identifier spans removed” in the original');
    await player.getByText(/^\d+ places where identifiers are spoken \(audible in this version\)$/).waitFor();
    // the spans are marked, named in the interface's language
    const labels = anna.locator('[data-testid="waveform"] [part="region-content"]');
    await eventually(
      'the spans’ labels on the waveform',
      async () => (await labels.allTextContents()).sort(),
      (l) => l.length >= 2 && l.every((x) => ['personal identity number', 'phone number'].includes(x)) && l.includes('phone number'),
    );
    // the transcript of the original has the identifiers themselves, not labels
    assert.equal(await player.locator('.transcript .word.redacted').count(), 0);
  });

  test('the privacy officer reviews break-the-glass in a section of its own, by who opened it, and sees in the access log that the original was played', async () => {
    const dpo = pages.get('dpo');
    assert.ok(dpo && original, 'the privacy officer signed in and anna played an original in earlier tests');

    // the review is not among the subject requests: it has its own tab
    await dpo.goto('/privacy');
    assert.equal(await dpo.getByRole('heading', { name: 'Break-the-glass review' }).count(), 0, 'not under Subject requests');
    await dpo.getByRole('tab', { name: 'Break-the-glass review' }).click();
    await dpo.waitForURL((u) => u.searchParams.get('section') === 'break-glass');
    const review = dpo.getByRole('region', { name: 'Break-the-glass review' });
    const card = review.getByRole('article').first();
    await card.waitFor();
    // anna's period from the break-the-glass test: who, by name and role, and the region owner by its name
    assert.equal(await fact(dpo, 'Who'), 'anna (nurse)');
    assert.equal(await fact(dpo, 'Region owner'), 'Region Demo');
    assert.match(await fact(dpo, 'Reason'), /^Synthetic demo: a caller collapsed during the call$/);
    await dpo.evaluate(() => window.scrollTo(0, 0));
    await shots.take(dpo, 'break-glass-review');
    await card.getByLabel('Review note').fill('Justified: the caller was unconscious; ended at once.');
    await card.getByRole('button', { name: 'Mark as reviewed' }).click();
    await review.getByText('Review saved.').waitFor();

    // the person of the call anna played in the original: the log says which version each access was for
    await dpo.getByRole('tab', { name: 'Subject requests' }).click();
    const form = dpo.getByRole('form', { name: 'The person' });
    await form.getByLabel('Identify the person by').selectOption('personnummer');
    await form.getByLabel('Personnummer', { exact: true }).fill(original.personnummer);
    await form.getByRole('button', { name: 'Find' }).click();
    await dpo.getByText(/ of the person in your reach\.$/).waitFor();
    await dpo.getByRole('button', { name: 'Show access log' }).click();
    const log = dpo.locator('.subject-access-log table.audit-table');
    const rows = await eventually(
      'the person’s access log',
      () => tableRows(log),
      (rs) => rs.some((r) => cell(r, 'Version').includes('ORIGINAL')),
    );
    const access = (rendition: string) => rows.filter((r) => cell(r, 'Action').startsWith('recording.access') && /^anna/.test(cell(r, 'Who')) && cell(r, 'Version') === rendition);
    assert.equal(access('⚠ ORIGINAL: identifiers audible').length, 1, `anna’s access to the original: ${JSON.stringify(rows.map((r) => [cell(r, 'Action'), cell(r, 'Version')]))}`);
    assert.ok(access('redacted version').length >= 1, 'and her access to the redacted version, told apart');
    // what she played of the original, too
    assert.ok(rows.some((r) => cell(r, 'Action').startsWith('recording.play') && cell(r, 'Version') === '⚠ ORIGINAL: identifiers audible'));
    assert.ok(
      rows.filter((r) => cell(r, 'Version').includes('ORIGINAL')).every((r) => cell(r, 'Recording') === original!.id.slice(0, 8)),
      'the original was of that call',
    );
  });

  test('the privacy officer sets a retention, is asked before one that would shred calls, and places and releases a legal hold', async () => {
    const dpo = pages.get('dpo');
    assert.ok(dpo, 'the privacy officer signed in in an earlier test');
    await dpo.goto('/privacy');
    await dpo.getByRole('tab', { name: 'Retention and holds' }).click();
    await dpo.waitForURL((u) => u.searchParams.get('section') === 'retention');

    // a long retention shreds nothing: applied at once
    const retention = dpo.getByRole('region', { name: 'Retention' });
    await retention.getByText('No retention is set: nothing is shredded.').waitFor();
    const form = retention.getByRole('form', { name: 'Set a retention' });
    assert.deepEqual(
      [await form.getByLabel('Controller').inputValue(), await form.getByLabel('Class').inputValue()],
      ['region-demo', 'default'],
      'the officer’s controller and the default class',
    );
    await form.getByLabel('Days').fill('3650');
    await form.getByRole('button', { name: 'Set retention' }).click();
    await retention.getByRole('status').filter({ hasText: 'Retention set: Region Demo, class default, 3650 days.' }).waitFor();
    const table = retention.getByRole('table', { name: 'Retentions in force' });
    const policies = async () => (await tableRows(table)).map((r) => [cell(r, 'Controller'), cell(r, 'Class'), cell(r, 'Retention (days)')].join(' '));
    await eventually('the retention in the table', policies, (rs) => rs.join() === 'Region Demo default 3650');

    // one day would shred the demo's calls: the dialog says how many, and cancelling changes nothing
    const cutoff = shredCutoff(1, new Date());
    const doomed = server.recordings.filter((r) => r.startedAt! < cutoff).length;
    assert.ok(doomed > 0, 'the demo’s calls are older than a day’s retention');
    await form.getByLabel('Days').fill('1');
    await form.getByRole('button', { name: 'Set retention' }).click();
    const ask = dpo.getByRole('dialog', { name: 'Shred recordings at the next run?' });
    await ask.getByText(`This would shred ${doomed} recording${doomed === 1 ? '' : 's'} at the next run, for good.`).waitFor();
    await ask.getByRole('button', { name: 'Cancel' }).click();
    await ask.waitFor({ state: 'detached' });
    await retention.getByRole('status').filter({ hasText: 'Nothing changed: the retention stays as it was.' }).waitFor();
    assert.deepEqual(await policies(), ['Region Demo default 3650']);
    const stored = await fetchFromPage(dpo, 'GET', '/api/v1/retention');
    assert.deepEqual(
      (stored.json as { policies: Array<{ days: number }> }).policies.map((p) => p.days),
      [3650],
      'the server kept the long retention',
    );

    // a hold on an agent's calls covers hers now and later
    const holds = dpo.getByRole('region', { name: 'Legal holds' });
    await holds.getByText('No legal holds.').waitFor();
    const place = holds.getByRole('form', { name: 'Place a legal hold' });
    await place.getByLabel('The hold covers').selectOption('agent');
    await place.getByLabel('Agent', { exact: true }).fill('nurse-anna');
    await place.getByLabel('Case reference').fill('Case DEMO-A');
    await place.getByLabel('Reason', { exact: true }).fill('Complaint about the advice given');
    await place.getByRole('button', { name: 'Place hold' }).click();
    await holds
      .getByRole('status')
      .filter({ hasText: `Hold placed for Case DEMO-A: it covers ${annaCalls.length} recordings now, and what arrives later and matches.` })
      .waitFor();
    const holdTable = holds.getByRole('table', { name: 'Legal holds, active and released' });
    const listed = async () => (await tableRows(holdTable)).map((r) => [cell(r, 'State'), cell(r, 'Covers'), cell(r, 'Case'), cell(r, 'Reason')].join(' | '));
    await eventually('the hold in the list', listed, (rs) => rs.join() === 'Active | Agent Anna Lind, any time | Case DEMO-A | Complaint about the advice given');
    await retention.evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await shots.take(dpo, 'retention');

    // a hold on a person: the number goes in the body only, the form forgets it, the list says "a person"
    const pnr = syntheticPersonnummer(1001);
    await place.getByLabel('The hold covers').selectOption('personnummer');
    await place.getByLabel('Personnummer', { exact: true }).fill(pnr);
    await place.getByLabel('Case reference').fill('Case DEMO-P');
    await place.getByLabel('Reason', { exact: true }).fill('Dispute over a referral');
    await place.getByRole('button', { name: 'Place hold' }).click();
    await holds
      .getByRole('status')
      .filter({ hasText: /^Hold placed for Case DEMO-P: it covers \d+ recordings? now/ })
      .waitFor();
    assert.equal(await place.getByLabel('Personnummer', { exact: true }).inputValue(), '', 'the form clears the personnummer');
    await eventually('the person’s hold in the list', listed, (rs) => rs.includes('Active | A person (by personnummer) | Case DEMO-P | Dispute over a referral'));
    // biome-ignore lint/performance/useDomNodeTextContent: Playwright's locator.innerText, not the DOM property
    const shown = digits(await holds.innerText());
    assert.ok(!shown.includes(pnr.slice(2)), 'the personnummer is nowhere in the section');
    assert.ok(!dpo.url().includes(pnr.slice(2, 8)), 'nor in the address');

    // releasing asks for a reason
    await holds.getByRole('button', { name: 'Release hold Case DEMO-A…' }).click();
    const release = dpo.getByRole('dialog', { name: 'Release the hold Case DEMO-A' });
    const confirmRelease = release.getByRole('button', { name: 'Release hold' });
    assert.ok(await confirmRelease.isDisabled(), 'no reason, no release');
    await release.getByLabel('Reason for releasing').fill('Complaint settled');
    await confirmRelease.click();
    await release.waitFor({ state: 'detached' });
    await holds.getByRole('status').filter({ hasText: 'Hold Case DEMO-A released.' }).waitFor();
    await eventually('the released hold', listed, (rs) => rs.includes('Released | Agent Anna Lind, any time | Case DEMO-A | Complaint about the advice given'));
    assert.equal(await holds.getByRole('button', { name: 'Release hold Case DEMO-A…' }).count(), 0, 'a released hold has no Release button');
    const answer = (await fetchFromPage(dpo, 'GET', '/api/v1/holds')).json as { holds: Array<{ case: string; releasedAt: string | null; releaseReason: string | null }> };
    assert.deepEqual(
      answer.holds.filter((h) => h.case === 'Case DEMO-A').map((h) => [Boolean(h.releasedAt), h.releaseReason]),
      [[true, 'Complaint settled']],
    );
  });

  test('the privacy officer runs a breach report by controller and by account, with IMY’s fields and no list of persons', async () => {
    const dpo = pages.get('dpo');
    assert.ok(dpo, 'the privacy officer signed in in an earlier test');
    assert.ok(listened, 'anna played a call in the first test');
    await dpo.goto('/privacy?section=breach');
    const breach = dpo.getByRole('region', { name: 'Breach report' });
    const form = breach.getByRole('form', { name: 'What was exposed' });
    assert.deepEqual(
      [await form.getByLabel('Scope').inputValue(), await form.getByLabel('Controller', { exact: true }).inputValue()],
      ['controller', 'region-demo'],
      'the officer’s controller first',
    );

    // by the demo's controller: every call, and the persons in them
    await form.getByRole('button', { name: 'Run report' }).click();
    await breach
      .getByRole('status')
      .filter({ hasText: `Report ready: ${CALLS} recordings affected.` })
      .waitFor();
    const region = breach.getByRole('article', { name: 'Controller Region Demo' });
    const term = (dl: Locator, name: string) =>
      dl
        .locator('dt', { hasText: new RegExp(`^${name.replace(/[?()]/g, '\\$&')}$`) })
        .locator('xpath=following-sibling::dd[1]')
        .textContent();
    const facts = region.locator('dl.facts').first();
    assert.equal((await term(facts, 'Recordings affected'))?.trim(), String(CALLS), 'as many recordings as the demo made calls');
    const shownPersons = (await term(facts, 'Persons affected'))!.trim();
    const bounds = (/^between (\d+) and (\d+)$/.exec(shownPersons) ?? [shownPersons, shownPersons, shownPersons]).slice(1).map(Number);
    assert.ok(bounds[0]! > 0 && bounds[1]! >= bounds[0]!, `persons affected: ${shownPersons}`);
    assert.match((await term(facts, 'Exposure'))!, /^Depends on what was exposed: .*Recordings readable: \d+\.$/);

    // what the page shows is what the server counted
    const answer = (await fetchFromPage(dpo, 'POST', '/api/v1/breach/report', { controller: 'region-demo' })).json as {
      controllers: Array<{ recordings: number; persons: { atLeast: number; atMost: number; personnummer: { inMetadata: number; spokenInCalls: number } } }>;
    };
    const counted = answer.controllers[0]!;
    assert.deepEqual([counted.recordings, counted.persons.atLeast, counted.persons.atMost], [CALLS, bounds[0], bounds[1]]);
    const persons = await tableRows(region.getByRole('table', { name: 'Distinct persons at Region Demo' }));
    const byPnr = persons.find((r) => cell(r, 'Identified by') === 'Personnummer')!;
    assert.deepEqual(
      [cell(byPnr, 'In the metadata'), cell(byPnr, 'Spoken in the calls')],
      [String(counted.persons.personnummer.inMetadata), String(counted.persons.personnummer.spokenInCalls)],
    );
    assert.ok(Number(cell(byPnr, 'In the metadata')) > 0, 'the demo’s callers have personnummer');

    // IMY's form: what the vault fills, and what is left, every item in the page's words
    const imy = region.locator('dl.breach-imy');
    assert.equal((await term(imy, 'Approximate number of data subjects'))?.trim(), shownPersons);
    assert.match((await term(imy, 'Approximate number of records'))!, new RegExp(`^${CALLS} call recordings`));
    assert.match((await term(imy, 'Was the data protected against reading?'))!, /^Depends on what was exposed/);
    await imy.getByText('Health data (art. 9): the content of calls to a healthcare line, as audio').waitFor();
    const left = await region.locator('ul.breach-left li').allTextContents();
    assert.equal(left.length, 7, `the fields left for the officer: ${JSON.stringify(left)}`);
    assert.ok(left.includes('When the breach happened and when it was discovered'), JSON.stringify(left));
    assert.equal(await region.locator('ul.breach-left li[lang="en"]').count(), 0, 'every field the server leaves is one the page translates');

    // the persons themselves are listed on the host only
    await breach
      .getByText(/is not made here: the key custodian or operator makes it on the host with callvault breach report --subjects FILE, which .* never travels over HTTP/)
      .waitFor();
    // biome-ignore lint/performance/useDomNodeTextContent: Playwright's locator.innerText, not the DOM property
    const text = await breach.innerText();
    for (const i of [...Array(CALLS).keys()]) assert.ok(!digits(text).includes(syntheticPersonnummer(1000 + i).slice(2)), 'no personnummer on the page');

    // the report as the server answered it, to keep with the case
    const reportId = /Report ([0-9a-f-]{36}), made /.exec(text)?.[1];
    assert.ok(reportId, 'the report id is shown');
    const [saved] = await Promise.all([dpo.waitForEvent('download'), breach.getByRole('button', { name: 'Download as JSON' }).click()]);
    assert.equal(saved.suggestedFilename(), `breach-report-${reportId}.json`);
    const json = JSON.parse(await readFile((await saved.path())!, 'utf8')) as { reportId: string; totals: { recordings: number } };
    assert.deepEqual([json.reportId, json.totals.recordings], [reportId, CALLS]);
    await breach.evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await shots.take(dpo, 'breach');
    await imy.evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await shots.take(dpo, 'breach-imy');

    // by an account: what anna was served, after she played her calls
    await form.getByLabel('Scope').selectOption('user');
    assert.equal(await form.getByLabel('Username').inputValue(), '', 'a controller is not left behind as a username');
    await form.getByLabel('From (access date)').waitFor();
    await form.getByLabel('Username').fill('anna');
    await form.getByRole('button', { name: 'Run report' }).click();
    await breach.getByText(/^Account anna · access time: any time$/).waitFor();
    const annas = breach.getByRole('article', { name: 'Controller Region Demo' });
    const annaFacts = annas.locator('dl.facts').first();
    assert.match((await term(annaFacts, 'Exposure'))!, /^Plaintext served: the account was shown these recordings in clear/);
    const served = Number((await term(annaFacts, 'Recordings affected'))!.trim());
    assert.ok(served >= 1 && served <= CALLS, `anna was served ${served} recordings`);
    assert.match((await term(annaFacts, 'Served'))!, /audio: \d+ recordings?/);
    assert.match((await term(annas.locator('dl.breach-imy'), 'Was the data protected against reading?'))!, /^No: the account was served the data in clear/);

    // an account that does not exist: the server's refusal, in words
    await form.getByLabel('Username').fill('nobody-here');
    await form.getByRole('button', { name: 'Run report' }).click();
    await breach.getByRole('alert').filter({ hasText: 'no account with that username' }).waitFor();
    assert.equal(await breach.getByRole('article').count(), 0, 'the earlier report does not stand under the refusal');
  });

  test('on a 390 px phone the recordings, the player, the audit log and the other pages fit the screen', async () => {
    const auditor = pages.get('auditor');
    const dpo = pages.get('dpo');
    const admin = pages.get('admin');
    assert.ok(auditor && dpo && admin, 'the auditor, the privacy officer and the administrator signed in in earlier tests');
    /** nothing wider than the phone, and the header across the whole page */
    const fits = async (page: Page, where: string) => {
      const m = await page.evaluate(() => {
        const header = document.querySelector('header.top')!.getBoundingClientRect();
        return { page: document.documentElement.scrollWidth, left: header.left, width: header.width };
      });
      assert.ok(m.page <= PHONE.width, `${where}: the page is ${m.page} px wide on a ${PHONE.width} px screen`);
      assert.deepEqual([m.left, m.width], [0, PHONE.width], `${where}: the header spans the page`);
    };
    const display = (el: Locator, pseudo?: string) => el.evaluate((e, p) => getComputedStyle(e, p).display, pseudo);

    // the nurse's list: one card a call, each value under its column's name
    await anna.setViewportSize(PHONE);
    await anna.goto('/recordings');
    await eventually(
      'anna’s list on the phone',
      () => listedIds(anna),
      (ids) => ids.length === annaCalls.length,
    );
    const card = anna.locator('table.recordings tbody tr').first();
    assert.equal(await display(card), 'block', 'a row is a card');
    assert.deepEqual(await card.locator('td').evaluateAll((tds) => tds.map((td) => getComputedStyle(td, '::before').content)), [
      '"Started"',
      '"Length"',
      '"Direction"',
      '"Region"',
      '"Agent"',
      '"Region owner"',
      '"Identifiers"',
    ]);
    await fits(anna, 'the recordings');
    await shots.take(anna, 'phone-recordings');

    // a call and its player
    const call = annaCalls[0]!;
    await anna.locator(`a[href="/recordings/${call.id}"]`).click();
    await anna.getByRole('heading', { name: /^Call on / }).waitFor();
    await fits(anna, 'a call');
    await anna.getByRole('button', { name: 'Play…' }).click();
    const dialog = anna.getByRole('dialog', { name: 'Why are you listening?' });
    await dialog.getByLabel('Purpose', { exact: true }).selectOption('patient-follow-up');
    const dialogBox = (await dialog.boundingBox())!;
    assert.ok(dialogBox.x >= 0 && dialogBox.x + dialogBox.width <= PHONE.width, `the purpose dialog fits: ${JSON.stringify(dialogBox)}`);
    await dialog.getByRole('button', { name: 'Start listening' }).click();
    const player = anna.getByRole('region', { name: 'Audio player' });
    await eventually('the Play button on the phone', () => player.getByRole('button', { name: 'Play', exact: true }).isEnabled(), Boolean);
    const wave = (await anna.getByTestId('waveform').boundingBox())!;
    assert.ok(wave.x >= 0 && wave.x + wave.width <= PHONE.width && wave.width > 250, `the waveform fits: ${JSON.stringify(wave)}`);
    await fits(anna, 'the player');
    await player.evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await shots.take(anna, 'phone-player');

    // the auditor's log: cards too, and the verification and checkpoint fit
    await auditor.setViewportSize(PHONE);
    await auditor.goto('/audit');
    await auditor.getByText('Verified: the log is intact').waitFor({ timeout: 20_000 });
    const entry = auditor.locator('table.audit-table.cards tbody tr').first();
    await entry.waitFor();
    assert.equal(await display(entry), 'block', 'an entry is a card');
    await fits(auditor, 'the audit log');
    await auditor.getByRole('heading', { name: 'Log entries' }).evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await shots.take(auditor, 'phone-audit');

    // every section of the privacy officer's page and of the administration
    await dpo.setViewportSize(PHONE);
    await dpo.goto('/privacy');
    for (const tab of ['Subject requests', 'Break-the-glass review', 'Approvals', 'Alerts', 'Retention and holds', 'Breach report']) {
      await dpo.getByRole('tab', { name: tab }).click();
      await dpo.getByRole('tab', { name: tab, selected: true }).waitFor();
      await dpo.locator('[role="tabpanel"] h2').first().waitFor();
      await fits(dpo, `the privacy officer’s ${tab}`);
    }
    await admin.setViewportSize(PHONE);
    for (const tab of ['Users', 'Machine tokens', 'Tenancy', 'Key status']) {
      await admin.goto('/admin');
      await admin.getByRole('tab', { name: tab }).click();
      await admin.getByRole('tab', { name: tab, selected: true }).waitFor();
      await admin.waitForTimeout(300);
      await fits(admin, `the administration’s ${tab}`);
    }

    for (const page of [anna, auditor, dpo, admin]) await page.setViewportSize(VIEWPORT);
  });

  test('in Swedish, the pages and the sign-in form speak Swedish', async () => {
    await anna.goto('/recordings');
    await anna.getByRole('heading', { name: 'Recordings', level: 1 }).waitFor();
    await anna.getByLabel('Language').selectOption({ label: 'Svenska' });
    await anna.getByRole('heading', { name: 'Inspelningar', level: 1 }).waitFor();
    assert.equal(await anna.locator('html').getAttribute('lang'), 'sv');
    await anna.getByRole('navigation', { name: 'Huvudmeny' }).getByRole('link', { name: 'Inspelningar' }).waitFor();
    await anna.getByRole('columnheader', { name: 'Handläggare' }).waitFor();
    const rows = await eventually(
      'anna’s list in Swedish',
      () => tableRows(anna.locator('table.recordings')),
      (rs) => rs.length === annaCalls.length,
    );
    assert.deepEqual(rows.map((r) => cell(r, 'Region')).sort(), annaCalls.map((c) => REGION_NAMES[c.region!]).sort());
    assert.deepEqual([...new Set(rows.map((r) => [cell(r, 'Handläggare'), cell(r, 'Ägande region')].join()))], ['Anna Lind,Region Demo']);

    // the search by a person's number says what it does in plain words: no “blindindex” for a nurse
    const filters = anna.getByRole('form', { name: 'Filter' });
    await filters.getByLabel('Sök en person via').selectOption('personnummer');
    await filters.getByText('Numret jämförs i kodad form: det sparas inte i adressfältet, och loggen sparar bara koden.').waitFor();
    // biome-ignore lint/performance/useDomNodeTextContent: Playwright's locator.innerText, not the DOM property
    assert.doesNotMatch(await anna.locator('body').innerText(), /blind/i);

    // the server's refusal in Swedish, without its English words
    await anna.goto(`/recordings/${erikCalls[0]!.id}`);
    const refusal = anna.getByRole('alert');
    await refusal.waitFor();
    assert.equal((await refusal.textContent())?.trim(), 'Hittades inte, eller ligger utanför det du får se.');

    // an invalid request: the Swedish message, and the server's words that name the field, marked as English
    await anna.goto('/recordings?direction=sideways');
    const invalid = anna.getByRole('alert');
    await invalid.waitFor();
    assert.match(
      (await invalid.textContent())?.trim() ?? '',
      /^Något i förfrågan är inte giltigt\. \(invalid request: body\/direction must be equal to one of the allowed values\)$/,
    );
    assert.equal(await invalid.locator('span[lang="en"]').count(), 1);

    // a call: the labels in place of identifiers, the waveform's names and the speeds in Swedish
    const call = annaCalls[0]!;
    await anna.goto(`/recordings/${call.id}`);
    await anna.getByRole('heading', { name: /^Samtal / }).waitFor();
    assert.deepEqual([await fact(anna, 'Personnummer'), await fact(anna, 'Uppringare')], ['[PERSONNUMMER]', '[TELEFON]']);
    assert.deepEqual([await fact(anna, 'Region'), await fact(anna, 'Handläggare'), await fact(anna, 'Ägande region')], [REGION_NAMES[call.region!], 'Anna Lind', 'Region Demo']);
    const listen = async (rendition: 'Maskerad (personuppgifter ersatta med ton)' | 'Original (personuppgifter hörs)') => {
      await anna.getByRole('button', { name: 'Spela upp…' }).click();
      const dialog = anna.getByRole('dialog', { name: 'Varför lyssnar du?' });
      await dialog.getByLabel('Syfte', { exact: true }).selectOption('patient-follow-up');
      await dialog.getByLabel(rendition).check();
      await dialog.getByRole('button', { name: 'Börja lyssna' }).click();
      await dialog.waitFor({ state: 'detached' });
      const player = anna.getByRole('region', { name: 'Ljudspelare' });
      await eventually('Spela', () => player.getByRole('button', { name: 'Spela', exact: true }).isEnabled(), Boolean);
      return player;
    };
    const labels = () => anna.locator('[data-testid="waveform"] [part="region-content"]').allTextContents();
    let player = await listen('Maskerad (personuppgifter ersatta med ton)');
    await player.getByText(/^\d+ avsnitt med personuppgifter borttagna \(markerade i vågformen\)$/).waitFor();
    await eventually(
      'the spans’ Swedish names',
      async () => [...new Set(await labels())].sort(),
      (l) => l.join() === 'personnummer,telefonnummer',
    );
    assert.deepEqual([...new Set(await player.locator('.transcript .word.redacted').allTextContents())].sort(), ['[PERSONNUMMER]', '[TELEFON]']);
    assert.deepEqual(await player.getByLabel('Hastighet').locator('option').allTextContents(), ['0,75×', '1×', '1,25×', '1,5×', '2×']);

    // the original: the numbers as Swedes write them, and the warning in Swedish
    await anna.reload();
    player = await listen('Original (personuppgifter hörs)');
    await player.getByRole('note').filter({ hasText: 'Original: personuppgifterna i samtalet hörs.' }).waitFor();
    assert.match(
      await eventually(
        'the personnummer',
        () => fact(anna, 'Personnummer'),
        (v) => /\d/.test(v),
      ),
      /^\d{8}-\d{4}$/,
    );
    assert.match(await fact(anna, 'Uppringare'), /^0\d{1,3}-\d{2,3}( \d{2,3})+$/);

    // the privacy officer's sections, each in its tab
    const dpo = pages.get('dpo')!;
    await dpo.goto('/privacy');
    await dpo.getByLabel('Language').selectOption({ label: 'Svenska' });
    await dpo.getByRole('heading', { name: 'Dataskydd', level: 1 }).waitFor();
    await dpo.getByRole('navigation', { name: 'Huvudmeny' }).getByRole('link', { name: 'Dataskydd' }).waitFor();
    await dpo.getByRole('tab', { name: 'Granskning av nödåtkomst' }).click();
    await dpo.getByRole('heading', { name: 'Granskning av nödåtkomst', level: 2 }).waitFor();
    await dpo.getByRole('tab', { name: 'Larm' }).click();
    await dpo.getByRole('heading', { name: 'Larm', level: 2 }).waitFor();
    await dpo.getByRole('tab', { name: 'Gallring och bevarande' }).click();
    for (const heading of ['Gallring', 'Bevarandebeslut']) await dpo.getByRole('heading', { name: heading, level: 2 }).waitFor();
    await dpo.getByRole('form', { name: 'Sätt en gallringsfrist' }).getByLabel('Dagar').waitFor();
    await dpo.getByRole('form', { name: 'Fatta ett bevarandebeslut' }).getByRole('button', { name: 'Fatta beslut' }).waitFor();
    await dpo.getByRole('table', { name: 'Bevarandebeslut, aktiva och hävda' }).getByRole('cell', { name: 'Hävt', exact: true }).first().waitFor();
    // and the breach report's
    await dpo.getByRole('tab', { name: 'Personuppgiftsincident' }).click();
    const incident = dpo.getByRole('region', { name: 'Personuppgiftsincident' });
    await incident.getByRole('form', { name: 'Vad som röjts' }).getByRole('button', { name: 'Ta fram rapport' }).click();
    const controller = incident.getByRole('article', { name: 'Personuppgiftsansvarig Region Demo' });
    for (const heading of ['Kategorier av uppgifter', 'Till anmälan till IMY: ifyllt ur systemet', 'Kvar för dig att fylla i'])
      await controller.getByRole('heading', { name: heading, level: 4 }).waitFor();
    await controller.getByText('När incidenten inträffade och när den upptäcktes').waitFor();
    await controller
      .locator('dl.facts')
      .first()
      .getByText(/^Beror på vad som röjts: /)
      .waitFor();
    // a refusal there in Swedish too
    await incident.getByLabel('Omfattning').selectOption('user');
    await incident.getByLabel('Användarnamn').fill('nobody-here');
    await incident.getByRole('button', { name: 'Ta fram rapport' }).click();
    const refused = incident.getByRole('alert');
    await refused.waitFor();
    assert.doesNotMatch((await refused.textContent()) ?? '', /no account|username/, 'no English words of the server');

    await anna.getByRole('button', { name: 'Logga ut' }).click();
    await anna.getByRole('heading', { name: 'Logga in' }).waitFor();
    for (const label of ['Användarnamn', 'Lösenord', 'Kod']) await anna.getByLabel(label, { exact: true }).waitFor();
    await anna.getByRole('button', { name: 'Logga in' }).waitFor();
  });

  // last but for the screenshots: the privacy officer's account is suspended here for good
  test('a canary reached through the UI suspends the privacy officer at once; the auditor sees the alert, loud, and resolves it', async () => {
    const auditor = pages.get('auditor');
    const dpo = pages.get('dpo');
    const admin = pages.get('admin');
    assert.ok(auditor && dpo && admin, 'the auditor, the privacy officer and the administrator signed in in earlier tests');

    // the auditor turns on suspension for the demo's controller, on the thresholds of the alerts
    // section (the custodian's --suspend below says the same: the change is the log's, so the
    // server's detector reads it at once)
    await auditor.goto('/audit');
    const section = auditor.getByRole('region', { name: 'Alerts' });
    const pick = section.getByRole('form', { name: 'Whose thresholds' });
    await pick.getByLabel('Controller').selectOption({ label: 'Region Demo' });
    await pick.getByRole('button', { name: 'Show' }).click();
    const thresholds = section.getByRole('form', { name: 'Thresholds of Region Demo' });
    const suspend = thresholds.getByLabel('Suspend an account that reaches a canary, and end its sessions');
    assert.equal(await suspend.isChecked(), false, 'off by default');
    assert.equal(await thresholds.getByLabel('Calls per hour without any history').inputValue(), '20', 'the documented default');
    await suspend.check();
    await thresholds.getByRole('button', { name: 'Save changes' }).click();
    await section.getByRole('status').filter({ hasText: 'Saved: one threshold changed.' }).waitFor();
    const settings = await fetchFromPage(auditor, 'GET', '/api/v1/alert-settings/region-demo');
    assert.equal(settings.json.canarySuspend, true, 'the server keeps the change');

    // the key custodian plants a canary on the host, beside the running server, and reads which it is
    const host = (args: string[]) => cli(['--data', server.dataDir, ...args, '--json'], { CALLVAULT_PASSPHRASE: server.passphrase });
    const added = await host(['canary', 'add', '--controller', 'region-demo', '--count', '1', '--suspend']);
    assert.equal(added.code, 0, added.stderr);
    assert.deepEqual(added.json, { controller: 'region-demo', planted: 1, suspend: true });
    const planted = await host(['canary', 'list']);
    assert.equal(planted.code, 0, planted.stderr);
    const canary = { id: (planted.json as Array<{ recordingId: string }>)[0]!.recordingId };

    // the privacy officer opens the call's page: a metadata view is an access
    await dpo.goto('/privacy');
    await dpo.getByLabel('Språk').selectOption({ label: 'English' });
    await dpo.getByRole('heading', { name: 'Privacy', level: 1 }).waitFor();
    await dpo.goto(`/recordings/${canary.id}`);
    await dpo.getByRole('heading', { name: /^Call on / }).waitFor();

    // within seconds the session is gone: the API refuses, the page asks for a sign-in, which fails
    await eventually(
      'the officer’s session after the canary',
      async () => (await fetchFromPage(dpo, 'GET', '/api/v1/recordings?limit=1')).status,
      (status) => status === 401,
      20_000,
    );
    await dpo.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Privacy' }).click();
    const expired = dpo.getByRole('dialog', { name: 'Your session has ended' });
    await expired.waitFor();
    const user = server.users.get('dpo')!;
    await expired.getByLabel('Password', { exact: true }).fill(user.password);
    await expired.getByLabel('Code', { exact: true }).fill(await freshCode(user.totpSecret));
    await expired.getByRole('button', { name: 'Sign in' }).click();
    await expired
      .getByRole('alert')
      .filter({ hasText: /^Sign-in failed/ })
      .waitFor();

    // and the account is disabled, as the administrator sees it
    await admin.goto('/admin');
    await admin.getByRole('tab', { name: 'Users' }).click();
    await eventually(
      'the officer in the administrator’s list',
      async () => (await tableRows(admin.locator('table.admin-table'))).find((r) => cell(r, 'Username') === 'dpo'),
      (r) => r !== undefined && cell(r, 'Status').includes('Disabled'),
    );

    // the auditor's page is loud about it: a banner at the top, and the alert naming the officer
    await auditor.reload();
    const banner = auditor.getByRole('alert').filter({ hasText: /open alerts?/ });
    await banner.waitFor();
    assert.match((await banner.textContent()) ?? '', /^⚠ (One open alert|\d+ open alerts) \((one|\d+) of high severity\)Review the alerts$/);
    assert.equal(await banner.evaluate((el) => el.className), 'alerts-banner high', 'high severity in the danger colour');
    const card = section.getByRole('article', { name: 'Canary recording reached — dpo' });
    await card.waitFor();
    const term = async (name: string) =>
      (
        (await card
          .locator('dt', { hasText: new RegExp(`^${name}$`) })
          .locator('xpath=following-sibling::dd[1]')
          .textContent()) ?? ''
      ).trim();
    assert.equal(await term('Account'), 'dpo (privacy officer)');
    // the evidence phrased from the alert's facts, the action in words; the API's text names its code
    assert.equal(await term('What happened'), 'reached a canary recording (view recording); canaries are planted calls that no work needs');
    const raised = await fetchFromPage(auditor, 'GET', '/api/v1/alerts?state=open&rule=canary');
    const api = (raised.json as Array<{ evidence: string; evidenceFacts: unknown }>)[0]!;
    assert.match(api.evidence, /^reached a canary recording \(recording\.view\)/);
    assert.deepEqual(api.evidenceFacts, { kind: 'canary', action: 'recording.view' });
    // and in Swedish, in Swedish words
    await auditor.getByLabel('Language').selectOption({ label: 'Svenska' });
    const svCard = auditor.getByRole('region', { name: 'Larm' }).getByRole('article', { name: 'Lockbetesinspelning öppnad — dpo' });
    await svCard.waitFor();
    const svTerm = await svCard
      .locator('dt', { hasText: /^Vad som hände$/ })
      .locator('xpath=following-sibling::dd[1]')
      .textContent();
    assert.equal(svTerm?.trim(), 'öppnade en lockbetesinspelning (visa inspelning); lockbeten är utplanterade samtal som inget arbete behöver');
    await auditor.getByLabel('Språk').selectOption({ label: 'English' });
    await card.waitFor();
    assert.equal(await term('Recordings'), canary.id.slice(0, 8), 'the recording by its id');
    assert.equal(await card.getByRole('link').count(), 0, 'an auditor opens no recording');
    await card.getByText('Severity: High').waitFor();
    await auditor.getByRole('heading', { name: 'Alerts', level: 2 }).evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await shots.take(auditor, 'alerts');

    // resolved with an outcome and a note, it shows as closed with who resolved it
    await card.getByRole('button', { name: 'Resolve the alert “Canary recording reached” about dpo…' }).click();
    const dialog = auditor.getByRole('dialog', { name: 'Resolve the alert “Canary recording reached” about dpo' });
    const submit = dialog.getByRole('button', { name: 'Resolve alert' });
    assert.ok(await submit.isDisabled(), 'no outcome and no note, no resolving');
    await dialog.getByRole('radio', { name: 'Misuse' }).check();
    await dialog.getByLabel('Note').fill('Opened a planted call outside any subject request; reported to the manager.');
    await submit.click();
    await dialog.waitFor({ state: 'detached' });
    await section.getByRole('status').filter({ hasText: 'Alert “Canary recording reached” about dpo resolved: Misuse.' }).waitFor();
    await card.waitFor({ state: 'detached' });
    await section.getByRole('group', { name: 'Show' }).getByRole('radio', { name: 'Closed' }).check();
    await card.waitFor();
    assert.equal(await term('Outcome'), 'Misuse');
    assert.equal(await term('Note'), 'Opened a planted call outside any subject request; reported to the manager.');
    assert.equal(await term('Resolved by'), 'auditor');
    await card.getByText('Closed', { exact: true }).waitFor();
    assert.equal(await card.getByRole('button').count(), 0, 'a closed alert has nothing to resolve');
    const closed = await fetchFromPage(auditor, 'GET', '/api/v1/alerts?state=closed&rule=canary');
    assert.deepEqual(
      (closed.json as Array<{ user: string; outcome: string; resolvedByName: string }>).map((a) => [a.user, a.outcome, a.resolvedByName]),
      [['dpo', 'misuse', 'auditor']],
    );
  });

  test('screenshots of every view, 1280×800, and of the phone’s, 390×844', async () => {
    const phone = Object.fromEntries(SCREENSHOTS.filter((n) => n.startsWith('phone-')).map((n) => [n, PHONE]));
    const problems = await shots.check(SCREENSHOTS, process.env.CALLVAULT_UPDATE_SCREENSHOTS === '1', phone);
    assert.deepEqual(problems, []);
  });
});
