/**
 * The passphrase prompt on a real terminal: `callvault init` run in a pseudo-terminal (util-linux
 * `script`, as tmux or an ssh session gives one), typed at like a person would. The prompt must
 * show (it did not under tmux when it was drawn through readline's private `_writeToOutput`), the
 * passphrase must not echo, two different ones or a weak one are refused at the prompt with the
 * reason and asked again (three times at most), and the one typed opens the keyring.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CLI, cli, tempDir } from '../helpers.js';

const STRONG = 'vinter kanel fyrtorn pendel';

/**
 * A command on a pseudo-terminal, answering each prompt (a text the screen shows, after the
 * previous one) with a line; a prompt without a line is only waited for.
 */
async function onTerminal(args: string[], answers: [prompt: string, line?: string][]): Promise<{ code: number | null; screen: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color' };
  delete env.CALLVAULT_PASSPHRASE;
  const command = [process.execPath, CLI, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  // -q: no banner; -e: script exits with the command's status; the typescript goes nowhere
  const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  let seen = 0;
  const pending = [...answers];
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    screen += d;
    // answer a prompt once it is on the screen (typed earlier, the terminal would echo it)
    for (let next = pending[0]; next && screen.indexOf(next[0], seen) !== -1; next = pending[0]) {
      seen = screen.indexOf(next[0], seen) + next[0].length;
      pending.shift();
      const line = next[1];
      if (line !== undefined) setTimeout(() => child.stdin.write(`${line}\r`), 200);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (screen += d));
  const timer = setTimeout(() => child.kill(), 60_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  child.stdin.destroy();
  assert.deepEqual(
    pending.map((p) => p[0]),
    [],
    `prompts never shown:\n${screen}`,
  );
  return { code, screen };
}

describe('the passphrase prompt on a terminal', () => {
  it('init: the prompt shows, nothing echoes, and the passphrase typed twice opens the keyring', async () => {
    const data = join(await tempDir('data', 'prompt'), 'v');
    const r = await onTerminal(
      ['--data', data, 'init'],
      [
        ['New passphrase for the key custodian:', STRONG],
        ['Repeat the passphrase:', STRONG],
      ],
    );
    assert.equal(r.code, 0, r.screen);
    assert.match(r.screen, /Initialised /);
    assert.equal(r.screen.includes('vinter'), false, 'the passphrase is not echoed');
    await stat(join(data, 'config.json'));
    // the passphrase typed is the keyring's, from the environment and at the unlock prompt
    const rotated = await cli(['--data', data, 'keys', 'rotate', '--json'], { CALLVAULT_PASSPHRASE: STRONG });
    assert.equal(rotated.code, 0, rotated.stderr);
    const prompted = await onTerminal(['--data', data, 'keys', 'rotate'], [['Passphrase:', STRONG]]);
    assert.equal(prompted.code, 0, prompted.screen);
    assert.match(prompted.screen, /new active key/);
  });

  it('init: two different passphrases are asked for again, and a third pair that differs is refused with one clear line, nothing made', async () => {
    const data = join(await tempDir('data', 'prompt'), 'v');
    const slip = await onTerminal(
      ['--data', data, 'init'],
      [
        ['New passphrase for the key custodian:', STRONG],
        ['Repeat the passphrase:', 'vinter kanel fyrtorn pendla'],
        ['the two passphrases differ: type the same passphrase twice'],
        ['New passphrase for the key custodian:', STRONG],
        ['Repeat the passphrase:', STRONG],
      ],
    );
    assert.equal(slip.code, 0, slip.screen);
    assert.equal(slip.screen.includes('vinter'), false, 'the passphrases are not echoed');
    assert.match(slip.screen, /Initialised /);

    const other = join(await tempDir('data', 'prompt'), 'v');
    const differ: [string, string][] = [
      ['New passphrase for the key custodian:', STRONG],
      ['Repeat the passphrase:', 'vinter kanel fyrtorn pendla'],
    ];
    const r = await onTerminal(['--data', other, 'init'], [...differ, ...differ, ...differ]);
    assert.equal(r.code, 2, r.screen);
    assert.equal(r.screen.includes('vinter'), false, 'the passphrases are not echoed');
    assert.match(r.screen, /callvault: the passphrases do not match: run the command again and type the same passphrase twice \[CV_USAGE\]/);
    await assert.rejects(stat(join(other, 'config.json')));
  });

  it('init: a weak passphrase is refused at the prompt with the reason, and asked for again', async () => {
    const data = join(await tempDir('data', 'prompt'), 'v');
    const r = await onTerminal(
      ['--data', data, 'init'],
      [
        ['New passphrase for the key custodian:', 'aaaaaaaaaaaa'],
        ['Repeat the passphrase:', 'aaaaaaaaaaaa'],
        ['use four or more unrelated words'],
        ['New passphrase for the key custodian:', STRONG],
        ['Repeat the passphrase:', STRONG],
      ],
    );
    assert.equal(r.code, 0, r.screen);
    assert.equal(r.screen.includes('vinter') || r.screen.includes('aaaa'), false, 'the passphrases are not echoed');
    assert.match(r.screen, /the passphrase is too easy to guess: Repeated characters like "aaa" are easy to guess; use four or more unrelated words/);
    assert.match(r.screen, /Initialised /);
  });
});
