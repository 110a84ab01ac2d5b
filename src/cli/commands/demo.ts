import type { Command } from 'commander';
import { mkdtemp, rm, stat } from 'node:fs/promises';
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
import { addServeOptions, serveUntilSignalled, type ServeOptions } from './serve.js';

/** Only for the demo data directory; a real installation's custodian chooses the passphrase. */
const DEMO_PASSPHRASE = 'callvault demo passphrase';

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
    const fresh = !(await stat(join(dir, 'config.json')).then(
      () => true,
      () => false,
    ));
    let admin: { username: string; password: string; totpSecret: string } | undefined;
    let people: DemoSignIn[] | undefined;
    let vault: Vault;
    if (fresh) {
      const created = await initDataDir({ ...opts, controller: 'region-demo', controllerName: 'Region Demo' });
      vault = created.vault;
      admin = created.result.admin;
    } else {
      vault = await Vault.open(dir, environment(opts.config));
    }
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
      }
      const page = await services.recordings.list(operator(), { limit: 100 });
      const recordings = page.recordings.map(recordingSummary);
      const demoPassphrase = opts.config.passphrase === DEMO_PASSPHRASE ? DEMO_PASSPHRASE : undefined;
      print(opts, { dataDir: dir, passphrase: demoPassphrase, admin, users: people, recordings }, () => {
        const lines = [`callvault demo data directory: ${dir}`];
        if (generated === 'tones') lines.push('espeak-ng is not installed: the demo calls are tones, not speech');
        if (demoPassphrase) lines.push(`keyring passphrase (demo only): ${demoPassphrase}`);
        if (admin) lines.push(`admin sign-in (shown once; the password must be changed at first sign-in): ${admin.username} / ${admin.password}, TOTP secret ${admin.totpSecret}`);
        if (people) {
          lines.push('demo sign-ins (shown once; the first sign-in answers with the authenticator to enrol):');
          for (const p of people) lines.push(`  ${p.role.padEnd(10)} ${p.username.padEnd(8)} password ${p.password}  TOTP secret ${p.totpSecret}`);
        }
        lines.push('', `${count(recordings.length, 'recording')} (identifiers are encrypted and not shown):`, formatRecordings(recordings));
        lines.push('', `try: npx callvault --data ${dir} export ${recordings[0]?.id ?? 'ID'} --out call.wav`);
        return lines.join('\n');
      });
      if (cmd.serve) {
        await serveUntilSignalled(vault, { ...cmd, logLevel: opts.config.logLevel, debug: opts.config.debug }, (url) =>
          process.stderr.write(`\ncallvault serving on ${url} (API documentation: ${url}/api/docs); Ctrl-C stops it\n`),
        );
      }
    } finally {
      await vault.close();
    }
  });
}
