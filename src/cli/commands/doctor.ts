/**
 * `callvault doctor [--url https://…]`: checks a deployment (src/doctor/) and exits 1 on any
 * failure. Warnings leave the exit status 0. It needs no passphrase and writes no audit entry:
 * it reads no recording.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { runDoctor } from '../../doctor/index.js';
import { dataDir, environment, print, type GlobalOptions } from '../io.js';

function serverUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('must be a URL such as https://callvault.example.org');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InvalidArgumentError('must be an https:// (or http://) URL');
  return url;
}

export function register(program: Command, globals: () => GlobalOptions): void {
  program
    .command('doctor')
    .description(
      'check this deployment: key and data permissions, plaintext audio, audit witness and checkpoints, retention, and with --url the server from outside; exits 1 on any failure',
    )
    .option('--url <url>', 'the server as clients reach it, e.g. https://callvault.example.org', serverUrl)
    .action(async (cmd: { url?: URL }) => {
      const opts = globals();
      const report = await runDoctor(dataDir(opts), environment(opts.config), { url: cmd.url });
      print(opts, report, () => report.findings.map((f) => `${f.status.toUpperCase().padEnd(4)}  ${f.check}: ${f.message}${f.fix ? ` (fix: ${f.fix})` : ''}`).join('\n'));
      if (!report.ok) process.exitCode = 1;
    });
}
