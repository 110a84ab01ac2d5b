/**
 * What the web UI tests share: a real `callvault demo` server (its printed sign-ins and recordings
 * parsed), Debian's chromium driven by playwright-core with one profile per person under the
 * suite's root (so the final plaintext scan also reads what the browser kept), TOTP codes that
 * respect the server's one-use-per-step rule, and screenshots.
 */
import { spawn } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type BrowserContext, type Page, type Request } from 'playwright-core';
import { generate } from 'otplib';
import { CLI, REPO, tempDir } from '../helpers.js';

export const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--autoplay-policy=no-user-gesture-required',
];
export const VIEWPORT = { width: 1280, height: 800 };

export interface DemoSignIn {
  username: string;
  role: string;
  password: string;
  totpSecret: string;
}

export interface DemoRecording {
  id: string;
  startedAt: string | null;
  durationMs: number;
  agent: string | null;
  region: string | null;
  direction: string | null;
  redaction: string;
}

export interface DemoServer {
  url: string;
  dataDir: string;
  /** the demo keyring's passphrase, printed by `demo --json` (a test that opens the vault beside the server needs it) */
  passphrase: string;
  /** anna, erik, maria, dpo, auditor and admin (whose password is one-time) */
  users: Map<string, DemoSignIn>;
  recordings: DemoRecording[];
  stop(): Promise<void>;
}

/**
 * `callvault demo --json` on a port of its own: the JSON it prints before serving (data directory,
 * sign-ins, recordings), then the URL on stderr. Fails with what was printed when either changes.
 */
export async function startDemo(calls: number): Promise<DemoServer> {
  const dataDir = await tempDir('data', 'web-demo');
  const child = spawn(process.execPath, [CLI, 'demo', '--calls', String(calls), '--host', '127.0.0.1', '--port', '0', '--json'], {
    cwd: REPO,
    env: { ...process.env, CALLVAULT_DATA: dataDir, CALLVAULT_PASSPHRASE: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  // the server logs every request on stdout: keep reading it, or the pipe fills and it stalls
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    if (stdout.length < 1_000_000) stdout += s;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`callvault demo printed no URL within 90 s:\n${stderr}`)), 90_000);
    child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      const m = /serving on (https:\/\/[^\s]+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`callvault demo exited (${code}) before serving:\n${stderr}\n${stdout.slice(0, 2000)}`));
    });
  });
  const printed = parseDemoJson(stdout);
  const users = new Map<string, DemoSignIn>();
  for (const u of printed.users) users.set(u.username, u);
  users.set(printed.admin.username, { ...printed.admin, role: 'admin' });
  return {
    url: url.replace(/\/$/, ''),
    dataDir,
    passphrase: printed.passphrase,
    users,
    recordings: printed.recordings,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** the document `demo --json` prints first; the server's JSON log lines follow it on stdout */
function parseDemoJson(stdout: string): { passphrase: string; admin: DemoSignIn; users: DemoSignIn[]; recordings: DemoRecording[] } {
  const end = stdout.indexOf('\n}\n');
  let doc: any;
  try {
    doc = JSON.parse(stdout.slice(0, end + 2));
  } catch {
    throw new Error(`callvault demo --json did not start with a JSON document:\n${stdout.slice(0, 2000)}`);
  }
  const problems: string[] = [];
  const signIn = (u: any, where: string) => {
    for (const k of ['username', 'password', 'totpSecret']) if (typeof u?.[k] !== 'string' || !u[k]) problems.push(`${where}.${k} missing`);
  };
  signIn(doc.admin, 'admin');
  if (typeof doc.passphrase !== 'string' || !doc.passphrase) problems.push('passphrase missing');
  if (!Array.isArray(doc.users)) problems.push('users is not a list');
  else for (const [i, u] of doc.users.entries()) signIn(u, `users[${i}]`);
  for (const name of ['anna', 'erik', 'maria', 'dpo', 'auditor']) if (!doc.users?.some((u: any) => u.username === name)) problems.push(`no demo user ${name}`);
  if (!Array.isArray(doc.recordings) || doc.recordings.length === 0) problems.push('no recordings listed');
  else
    doc.recordings.forEach((r: any, i: number) => {
      if (!/^[0-9a-f-]{36}$/.test(r?.id ?? '')) problems.push(`recordings[${i}].id is not a UUID`);
      for (const k of ['agent', 'region', 'direction', 'redaction']) if (typeof r?.[k] !== 'string') problems.push(`recordings[${i}].${k} missing`);
      if (typeof r?.durationMs !== 'number') problems.push(`recordings[${i}].durationMs missing`);
    });
  if (problems.length) throw new Error(`callvault demo --json changed shape: ${problems.join('; ')}\n${stdout.slice(0, end + 2)}`);
  return doc;
}

/**
 * One person's browser: a persistent chromium profile of its own under the suite's data root, so
 * whatever the browser writes to disk (cache, cookies, storage, downloads) is scanned with the
 * data directories.
 */
export async function openBrowser(server: Pick<DemoServer, 'url' | 'dataDir'>, who: string, locale = 'en-GB'): Promise<{ context: BrowserContext; page: Page; profile: string }> {
  const profile = await tempDir('data', `browser-${who}`);
  // the server's own certificate trusted by its key, as an installed certificate would be: chromium
  // keeps nothing in its disk cache from a site whose certificate error was merely ignored, and
  // the scan should see what a browser that trusts the server keeps
  const cert = new X509Certificate(await readFile(join(server.dataDir, 'tls', 'cert.pem')));
  const spki = createHash('sha256')
    .update(cert.publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64');
  const downloads = join(profile, 'downloads');
  await mkdir(downloads, { recursive: true });
  const context = await chromium.launchPersistentContext(join(profile, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, `--ignore-certificate-errors-spki-list=${spki}`],
    ignoreHTTPSErrors: true,
    baseURL: server.url,
    viewport: VIEWPORT,
    locale,
    timezoneId: 'Europe/Stockholm',
    acceptDownloads: true,
    downloadsPath: downloads,
  });
  context.setDefaultTimeout(10_000);
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page, profile };
}

const STEP_SECONDS = 30;
const usedStep = new Map<string, number>();

/**
 * A TOTP code the server will take now: it accepts the previous, current and next 30 s step, but
 * each step only once per user and only after the last one used. So a second sign-in uses the
 * next step at once; a third within the same step waits for time to catch up.
 */
export async function freshCode(secret: string): Promise<string> {
  for (;;) {
    const current = Math.floor(Date.now() / 1000 / STEP_SECONDS);
    const step = Math.max(current, (usedStep.get(secret) ?? -Infinity) + 1);
    if (step <= current + 1) {
      usedStep.set(secret, step);
      return generate({ secret, epoch: step * STEP_SECONDS + 1 });
    }
    await sleep((step - 1) * STEP_SECONDS * 1000 - Date.now() + 200);
  }
}

/**
 * Signs in on the full-page form the way a person does: username and password first; when the
 * server answers with the authenticator to enrol, checks the QR code and the secret shown, then
 * the code; and when the password must be changed, a new one.
 */
export async function signIn(
  page: Page,
  user: DemoSignIn,
  options: { newPassword?: string; onEnrolment?: () => Promise<void> } = {},
): Promise<{ enrolled: boolean; changedPassword: boolean }> {
  const form = page.locator('form').filter({ has: page.getByLabel('Username') });
  await form.getByLabel('Username').fill(user.username);
  await form.getByLabel('Password', { exact: true }).fill(user.password);
  await form.getByRole('button', { name: 'Sign in' }).click();
  const enrolment = page.getByRole('group', { name: 'Set up your authenticator' });
  const signedIn = page.getByRole('button', { name: 'Sign out' });
  // an enrolled account without a code is refused like a wrong password
  await enrolment.or(page.getByRole('alert')).or(signedIn).first().waitFor();
  let enrolled = false;
  if (await enrolment.isVisible()) {
    enrolled = true;
    await options.onEnrolment?.();
  }
  await form.getByLabel('Code', { exact: true }).fill(await freshCode(user.totpSecret));
  await form.getByRole('button', { name: 'Sign in' }).click();
  const newPassword = form.getByLabel('New password');
  await newPassword.or(signedIn).first().waitFor();
  let changedPassword = false;
  if (await newPassword.isVisible()) {
    if (!options.newPassword) throw new Error(`${user.username} must choose a new password`);
    // the code was not spent: the server takes it again with the new password
    await newPassword.fill(options.newPassword);
    await form.getByRole('button', { name: 'Sign in' }).click();
    await signedIn.waitFor();
    changedPassword = true;
  }
  return { enrolled, changedPassword };
}

export interface ApiAnswer {
  status: number;
  json: any;
}

/**
 * A request sent by the page's own JavaScript (`fetch`, same origin, the session cookie, the CSRF
 * token of the session), as a script injected into the UI could send it.
 */
export async function fetchFromPage(page: Page, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer> {
  return page.evaluate(
    async ({ method, path, body, headers }) => {
      const session = await fetch('/api/v1/auth/session', { credentials: 'same-origin' });
      const csrf = session.ok ? ((await session.json()) as { csrfToken?: string }).csrfToken : undefined;
      const res = await fetch(path, {
        method,
        credentials: 'same-origin',
        headers: { ...(csrf ? { 'X-CSRF-Token': csrf } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, json };
    },
    { method, path, body, headers },
  );
}

/** every request the page makes for a recording's audio, with its Range header and answer */
export function watchAudio(page: Page): Array<{ url: string; range: string | undefined; status: Promise<number | undefined> }> {
  const seen: Array<{ url: string; range: string | undefined; status: Promise<number | undefined> }> = [];
  page.on('request', (req: Request) => {
    if (!/\/api\/v1\/recordings\/[0-9a-f-]{36}\/audio(\?|$)/.test(new URL(req.url()).pathname + new URL(req.url()).search)) return;
    const entry = {
      url: req.url(),
      range: undefined as string | undefined,
      status: req.response().then(
        (r) => r?.status(),
        () => undefined,
      ),
    };
    seen.push(entry);
    void req.allHeaders().then(
      (h) => (entry.range = h.range),
      () => undefined,
    );
  });
  return seen;
}

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export class Screenshots {
  readonly taken = new Map<string, string>();
  #dir: Promise<string> | undefined;

  /** the page as it is now, at the viewport's size (1280×800 unless a test changed it), into the suite's output directory */
  async take(page: Page, name: string): Promise<void> {
    this.#dir ??= tempDir('out', 'screenshots');
    const path = join(await this.#dir, `${name}.png`);
    await page.screenshot({ path, animations: 'disabled', caret: 'hide' });
    this.taken.set(name, path);
  }

  /** each is a PNG of the viewport's size (or the size given for it); copied into docs/screenshots/ when asked to */
  async check(names: readonly string[], update: boolean, sizes: Readonly<Record<string, { width: number; height: number }>> = {}): Promise<string[]> {
    const problems: string[] = [];
    for (const name of names) {
      const path = this.taken.get(name);
      if (!path) {
        problems.push(`${name}: not taken`);
        continue;
      }
      const png = await readFile(path);
      if (png.length < 1000 || !png.subarray(0, 8).equals(PNG)) problems.push(`${name}: not a PNG`);
      else if (png.readUInt32BE(16) !== (sizes[name] ?? VIEWPORT).width || png.readUInt32BE(20) !== (sizes[name] ?? VIEWPORT).height)
        problems.push(`${name}: ${png.readUInt32BE(16)}×${png.readUInt32BE(20)}`);
      else if (update) {
        await mkdir(join(REPO, 'docs', 'screenshots'), { recursive: true });
        await copyFile(path, join(REPO, 'docs', 'screenshots', `${name}.png`));
      }
    }
    return problems;
  }
}

/** a password zxcvbn scores strong and quickly (72 random bits in a short string) */
export function newPassword(): string {
  const bytes = new Uint8Array(9);
  crypto.getRandomValues(bytes);
  return `Pw ${Buffer.from(bytes).toString('base64url')} lamp`;
}

/** the value of one fact on a call page, by its term */
export async function fact(page: Page, name: string): Promise<string> {
  return (
    (await page
      .locator('dl.facts dt', { hasText: new RegExp(`^${name}$`) })
      .locator('xpath=following-sibling::dd[1]')
      .textContent()) ?? ''
  ).trim();
}
