import type { Command } from 'commander';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDemoCalls } from '../../demo/demo-calls.js';
import { createServices } from '../../services/index.js';
import { Vault } from '../../vault.js';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import { withPassphrase } from '../../config.js';
import { initDataDir } from './init.js';
import { recordingSummary, formatRecordings } from './recordings.js';
import { count, dataDir, operator, environment, positiveInt, print, type GlobalOptions } from '../io.js';
import { createDemoUsers, type DemoSignIn } from '../../demo/demo-users.js';
import { nameDemo } from '../../demo/demo-names.js';
import { addServeOptions, assertPortFree, serveUntilSignalled, type ServeOptions } from './serve.js';

/** Only for the demo data directory; a real installation's custodian chooses the passphrase. */
const DEMO_PASSPHRASE = 'callvault demo passphrase';
/**
 * The sign-ins as made by the first `demo`, so that a second one can print them again. Only the
 * demo's data directory has it (synthetic people, a passphrase printed in clear anyway), readable
 * by this user only.
 */
const SIGN_INS_FILE = 'demo-sign-ins.json';
/** the server's request log: on stdout it buried the sign-ins */
const REQUEST_LOG_FILE = 'demo-requests.log';

export const TONES_NOTICE = 'espeak-ng not found: the demo calls are tones, not speech; install espeak-ng and sox for Swedish speech';

type AdminSignIn = { username: string; password: string; totpSecret: string };
interface SavedSignIns {
  admin: AdminSignIn;
  users: DemoSignIn[];
}

async function readSignIns(path: string): Promise<SavedSignIns | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as SavedSignIns;
  } catch {
    return undefined;
  }
}

/** the framed block printed last: where to go, who to be, how to get the second factor */
function signInBlock(a: { url?: string; dir: string; passphrase?: string; signIns?: SavedSignIns; again: boolean; requestLog?: string }): string {
  const rule = '='.repeat(72);
  const lines = [rule, ' callvault demo: sign in', rule];
  if (a.url) lines.push(` open      ${a.url}   (a self-signed certificate: the browser warns about it once)`);
  else lines.push(` not serving (--no-serve): start it with  npx callvault --data ${a.dir} demo`);
  if (a.signIns) {
    if (a.again) lines.push(' (as made at the first `demo`; a password changed since then is not shown here)');
    const rows: [string, string, string, string][] = [['role', 'username', 'password', 'TOTP secret']];
    rows.push(['admin', a.signIns.admin.username, a.signIns.admin.password, a.signIns.admin.totpSecret]);
    for (const p of a.signIns.users) rows.push([p.role, p.username, p.password, p.totpSecret]);
    const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const r of rows) lines.push(`   ${r[0].padEnd(w[0]!)}  ${r[1].padEnd(w[1]!)}  ${r[2].padEnd(w[2]!)}  ${r[3]}`);
    lines.push(
      ' the admin must choose a new password at the first sign-in; the others keep theirs.',
      ' TOTP code: the first sign-in shows a QR code; scan it with an authenticator app (or type',
      '   the TOTP secret above into one, or run `oathtool --totp -b SECRET`) and enter the 6-digit code.',
    );
  } else {
    lines.push(` the sign-ins were printed when ${a.dir} was made and are not kept;`, ' remove that directory and run `npx callvault demo` again for new ones.');
  }
  if (a.passphrase) lines.push(` keyring passphrase (demo only): ${a.passphrase}`);
  if (a.requestLog) lines.push(` the server's request log: ${a.requestLog}`);
  if (a.signIns) lines.push(` these sign-ins are kept in ${join(a.dir, SIGN_INS_FILE)}: \`npx callvault --data ${a.dir} demo\` prints them again.`);
  lines.push(rule);
  return lines.join('\n');
}

export function register(program: Command, globals: () => GlobalOptions): void {
  const demo = program
    .command('demo')
    .description('a data directory with generated synthetic calls and one user of each role, then `serve`')
    .option('--calls <n>', 'how many calls to generate', positiveInt, 12)
    .option('--no-serve', 'set up and list only; do not start the server');
  // the demo listens on this machine only unless told otherwise, and its help says so
  addServeOptions(demo, '127.0.0.1');
  demo.action(async (cmd: ServeOptions & { calls: number; serve: boolean }) => {
    const given = globals();
    const opts = given.config.passphrase ? given : { ...given, config: withPassphrase(given.config, DEMO_PASSPHRASE) };
    const dir = dataDir(opts);
    // before the slow part (generating speech): a busy port is a usage error, said at once
    if (cmd.serve) await assertPortFree(cmd.host, cmd.port);
    const fresh = !(await stat(join(dir, 'config.json')).then(
      () => true,
      () => false,
    ));
    const signInsPath = join(dir, SIGN_INS_FILE);
    let admin: AdminSignIn | undefined;
    let people: DemoSignIn[] | undefined;
    let vault: Vault;
    if (fresh) {
      const created = await initDataDir({ ...opts, controller: 'region-demo', controllerName: 'Region Demo' });
      vault = created.vault;
      admin = created.result.admin;
    } else {
      vault = await Vault.open(dir, environment(opts.config));
    }
    let log: ReturnType<typeof createWriteStream> | undefined;
    try {
      await vault.unlock(opts.config.passphrase!);
      const services = createServices(vault);
      let generated: 'speech' | 'tones' | undefined;
      if (fresh) {
        // the plaintext calls exist only in a private temporary directory, removed at once
        const work = await mkdtemp(join(tmpdir(), 'callvault-demo-'));
        try {
          generated = await writeDemoCalls(work, cmd.calls);
          // stored, indexed and examined for identifiers, as `callvault import` does with the passphrase
          const run = await services.ingest.importPaths(operator(), [work]);
          if (run.incomplete.length > 0) throw new CallvaultError(ErrorCodes.INTERNAL, `the demo calls were stored but their ${run.incomplete.join(' and ')} failed`);
        } finally {
          await rm(work, { recursive: true, force: true });
        }
        people = await createDemoUsers(vault, 'region-demo');
        await nameDemo(vault);
        if (admin) await writeFile(signInsPath, `${JSON.stringify({ admin, users: people } satisfies SavedSignIns, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      }
      // once, on stderr, so that --json stays one document
      if (generated === 'tones') process.stderr.write(`${TONES_NOTICE}\n`);
      const saved = fresh ? (admin && people ? { admin, users: people } : undefined) : await readSignIns(signInsPath);
      const page = await services.recordings.list(operator(), { limit: 100 });
      const recordings = page.recordings.map(recordingSummary);
      const demoPassphrase = opts.config.passphrase === DEMO_PASSPHRASE ? DEMO_PASSPHRASE : undefined;
      const requestLog = cmd.serve ? join(dir, REQUEST_LOG_FILE) : undefined;
      const signInsFile = saved ? signInsPath : undefined;
      print(opts, { dataDir: dir, passphrase: demoPassphrase, admin, users: people, recordings, audio: generated, signInsFile, requestLog }, () => {
        const lines = [`callvault demo data directory: ${dir}`];
        lines.push('', `${count(recordings.length, 'recording')} (identifiers are encrypted and not shown):`, formatRecordings(recordings));
        lines.push('', `try: npx callvault --data ${dir} export ${recordings[0]?.id ?? 'ID'} --out call.wav`);
        if (!cmd.serve) lines.push('', signInBlock({ dir, passphrase: demoPassphrase, signIns: saved, again: !fresh }));
        return lines.join('\n');
      });
      if (cmd.serve) {
        log = createWriteStream(requestLog!, { flags: 'a', mode: 0o600 });
        await serveUntilSignalled(vault, { ...cmd, logLevel: opts.config.logLevel, debug: opts.config.debug, logStream: log }, (url) => {
          process.stderr.write(`\ncallvault serving on ${url} (API documentation: ${url}/api/docs); Ctrl-C stops it\n`);
          if (!opts.json) process.stdout.write(`\n${signInBlock({ url, dir, passphrase: demoPassphrase, signIns: saved, again: !fresh, requestLog })}\n`);
        });
      }
    } finally {
      await vault.close();
      if (log) await new Promise<void>((resolve) => log!.end(resolve));
    }
  });
}
