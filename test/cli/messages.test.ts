/**
 * What the command line says when an operator gets something wrong or meets something they must
 * act on (issue 20): one line on stderr, `callvault: MESSAGE [CODE]`, the same in JSON with
 * --json, exit 2 for what the operator must fix on the command line; a closed pipe ends a
 * command quietly; counts read "1 recording"; `recordings list` has a header row.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { CLI, PASSPHRASE, cli, initVault, tempDir, type CliResult } from '../helpers.js';
import { noiseCall } from '../faults/serve-process.js';

/** exactly this one line on stderr, this code in the --json answer, this exit code */
async function says(args: string[], code: string, message: string, exit = 2, env: Record<string, string | undefined> = {}): Promise<void> {
  const text = await cli(args, env);
  assert.equal(text.stderr, `callvault: ${message} [${code}]\n`, `callvault ${args.join(' ')}`);
  assert.equal(text.code, exit, text.stderr);
  const json = await cli([...args, '--json'], env);
  assert.deepEqual(json.json, { error: { code, message } }, json.stdout + json.stderr);
  assert.equal(json.code, exit);
}

let dir: string;
let src: string;
let id: string;
let imported: CliResult;

before(async () => {
  ({ dir } = await initVault());
  src = await tempDir('src', 'messages');
  await writeFile(join(src, 'call.wav'), noiseCall(20_000));
  imported = await cli(['--data', dir, 'import', src]);
  assert.equal(imported.code, 0, imported.stderr);
  id = (await cli(['--data', dir, 'recordings', 'list', '--json'])).json.recordings[0].id;
});

describe('a fresh vault', () => {
  it('audit verify says that no checkpoint is signed yet, and how one is', async () => {
    const { dir: fresh } = await initVault();
    const r = await cli(['--data', fresh, 'audit', 'verify']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^1 entry, root [A-Za-z0-9+/]{43}=$/, 'the read of the log that verify is');
    assert.deepEqual(lines.slice(1), [
      'no checkpoint signed yet: `callvault serve` signs one every minute while the log grows, or run `callvault audit checkpoint`',
      'the audit log verifies',
    ]);
    assert.equal((await cli(['--data', fresh, 'audit', 'checkpoint'])).code, 0);
    const signed = await cli(['--data', fresh, 'audit', 'verify']);
    assert.equal(signed.stdout.trimEnd().split('\n')[1], '1 checkpoint checked, the latest at size 1; 1 entry after it not signed yet');
  });
});

describe('import and redact without transcripts', () => {
  it('import says that the call has no transcript and what to do', () => {
    const advice =
      '1 recording has no transcript, so nothing says where identifiers are spoken and only the original can be played: ' +
      'add one with `callvault transcripts add ID FILE` (.vtt, .srt or .transcript.json), put call.vtt beside call.wav before importing, ' +
      'or set CALLVAULT_TRANSCRIBE_URL (docs/redaction.md) and run `callvault redact --again none`';
    assert.deepEqual(imported.stdout.trimEnd().split('\n').slice(-2), ['redaction: 1 none', advice]);
  });

  it('redact says the same, in the singular', async () => {
    const r = await cli(['--data', dir, 'redact', '--again', 'none']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines[0], '1 recording examined: 1 none');
    assert.match(lines[1]!, /^1 recording has no transcript, .* `callvault transcripts add ID FILE` .* CALLVAULT_TRANSCRIBE_URL/);
    assert.equal(lines.length, 2);
    const nothing = await cli(['--data', dir, 'redact']);
    assert.equal(nothing.stdout, 'no recording was waiting to be examined\n');
  });
});

describe('recordings list', () => {
  it('has a header row and aligned columns', async () => {
    const { dir: two } = await initVault();
    const calls = await tempDir('src', 'list');
    await writeFile(join(calls, 'a.wav'), noiseCall(20_000));
    await writeFile(join(calls, 'b.wav'), noiseCall(200_000));
    await writeFile(join(calls, 'b.json'), JSON.stringify({ agent: 'nurse-anna', region: 'skane', direction: 'inbound' }));
    assert.equal((await cli(['--data', two, 'import', calls])).code, 0);
    const r = await cli(['--data', two, 'recordings', 'list']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /^ID {36}STARTED +DURATION {2}AUDIO +REGION +AGENT +DIRECTION {2}REDACTION$/);
    // every column starts where its header does; the duration is right-aligned under its header
    for (const header of ['STARTED', 'AUDIO', 'REGION', 'AGENT', 'DIRECTION', 'REDACTION']) {
      const at = lines[0]!.indexOf(header);
      for (const row of lines.slice(1)) assert.match(row.slice(at - 2, at + 1), /^ {2}\S$/, `${header} in ${row}`);
    }
    const end = lines[0]!.indexOf('DURATION') + 'DURATION'.length;
    for (const row of lines.slice(1)) assert.match(row.slice(0, end), / s$/);
    assert.ok(
      lines.some((l) => / skane +nurse-anna +inbound +none$/.test(l)),
      r.stdout,
    );
  });
});

describe("commander's own errors", () => {
  it('an unknown command or option, or a missing argument, is one line with its suggestion, CV_USAGE, exit 2', async () => {
    await says(['--data', dir, 'recordings', 'lst'], 'CV_USAGE', "unknown command 'lst' (did you mean list?)");
    await says(['--data', dir, 'export', id, '--outt', 'x.wav'], 'CV_USAGE', "unknown option '--outt' (did you mean --out?)");
    await says(['--data', dir, 'transcripts', 'add', id], 'CV_USAGE', "missing required argument 'file'");
    await says(['--data', dir, 'recordings', 'list', '--limit', 'abc'], 'CV_USAGE', "option '--limit <n>' argument 'abc' is invalid. must be a whole number of at least 1");
  });

  it('--version prints the version, exit 0', async () => {
    const r = await cli(['--version']);
    assert.equal(r.code, 0, r.stderr);
    const { version } = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8'));
    assert.equal(r.stdout, `${version}\n`);
  });
});

describe('export', () => {
  it('without an id, or without --out, says which is missing', async () => {
    const give = 'give the recording id: callvault export ID --out FILE (`callvault recordings list` shows the ids)';
    await says(['--data', dir, 'export'], 'CV_USAGE', give);
    await says(['export', '--data', dir, '--out', 'x.wav'], 'CV_USAGE', give);
    await says(['--data', dir, 'export', id], 'CV_USAGE', 'give --out FILE: where to write the audio');
    await says(['--data', dir, 'export', 'nope', '--out', 'x.wav'], 'CV_USAGE', 'a recording id is a UUID (`callvault recordings list` shows the ids)');
  });

  it('refuses an existing --out unless --force, naming it', async () => {
    const out = join(await tempDir('out', 'export'), 'call.wav');
    await writeFile(out, 'kept');
    await says(['--data', dir, 'export', id, '--out', out], 'CV_USAGE', `--out ${out} already exists: name another file, or give --force to replace it`);
    assert.equal(await readFile(out, 'utf8'), 'kept');
    const forced = await cli(['--data', dir, 'export', id, '--out', out, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.ok((await readFile(out)).equals(await readFile(join(src, 'call.wav'))));
  });

  it('a folder for --out, and a caller number in the path, are said without the number', async () => {
    const folder = await tempDir('out', 'export');
    await says(['--data', dir, 'export', id, '--out', folder], 'CV_USAGE', `--out ${folder} is a folder: name a file in it`);
    const missing = join(folder, 'uppringare-0701740664');
    await says(
      ['--data', dir, 'export', id, '--out', join(missing, 'call.wav')],
      'CV_USAGE',
      `--out ${join(folder, 'uppringare-[TELEFON]', 'call.wav')}: the folder ${join(folder, 'uppringare-[TELEFON]')} does not exist; create it first or name another`,
    );
  });
});

describe('subject', () => {
  it('a number that is no phone number or personnummer is said in the option’s name, without the value', async () => {
    await says(['--data', dir, 'subject', 'find', '--phone', '12'], 'CV_USAGE', '--phone is not a valid phone number (e.g. 070-1740605 or +46701740605)');
    await says(
      ['--data', dir, 'subject', 'find', '--personnummer', '19121212-1213'],
      'CV_USAGE',
      '--personnummer is not a valid personnummer or samordningsnummer (12 or 10 digits, e.g. 19121212-1212)',
    );
  });

  it('find without --personnummer or --phone says which options it needs', async () => {
    await says(['--data', dir, 'subject', 'find'], 'CV_USAGE', 'give --personnummer or --phone: the person whose recordings are meant');
    await says(['--data', dir, 'subject', 'find', '--phone', '0701740664', '--personnummer', '198507099805'], 'CV_USAGE', 'give --personnummer or --phone, not both');
  });

  it('erase off a terminal without --reason complains about --reason first, then about --yes', async () => {
    await says(
      ['--data', dir, 'subject', 'erase', '--phone', '0701740664'],
      'CV_USAGE',
      'give --reason: why the recordings are erased, e.g. the case of the request (at least 10 characters)',
    );
    await says(
      ['--data', dir, 'subject', 'erase', '--phone', '0701740664', '--reason', 'Art. 17, ärende 2026-20'],
      'CV_USAGE',
      'erasure cannot be undone: confirm with --yes when not on a terminal',
    );
  });

  it('export without --out says so', async () => {
    await says(['--data', dir, 'subject', 'export', '--phone', '0701740664'], 'CV_USAGE', 'give --out FILE.zip: where to write the archive');
  });
});

describe('pii detect', () => {
  const env = { CALLVAULT_DATA: '/nonexistent/callvault-data', CALLVAULT_PASSPHRASE: undefined };

  it('names a file that cannot be read (an identifier in its name as a label)', async () => {
    const folder = await tempDir('src', 'pii');
    await says(['pii', 'detect', join(folder, 'nope.txt')], 'CV_USAGE', `the file ${join(folder, 'nope.txt')} does not exist`, 2, env);
    await says(['pii', 'detect', join(folder, '19850709-9805.txt')], 'CV_USAGE', `the file ${join(folder, '[PERSONNUMMER].txt')} does not exist`, 2, env);
    await says(['pii', 'detect', folder], 'CV_USAGE', `${folder} is a folder: name a text file`, 2, env);
  });

  it('answers that audio and other binary files are not text', async () => {
    const wav = join(src, 'call.wav');
    await says(['pii', 'detect', wav], 'CV_USAGE', `the file ${wav} is WAV audio, not text: pii detect reads a transcript or other UTF-8 text`, 2, env);
    const latin1 = join(await tempDir('src', 'pii'), 'latin1.txt');
    await writeFile(latin1, Buffer.from('Hej, jag heter Åsa', 'latin1'));
    await says(['pii', 'detect', latin1], 'CV_USAGE', `the file ${latin1} is not UTF-8 text: pii detect reads a transcript or other UTF-8 text`, 2, env);
    const nul = join(await tempDir('src', 'pii'), 'nul.bin');
    await writeFile(nul, Buffer.from('abc\0def'));
    await says(['pii', 'detect', nul], 'CV_USAGE', `the file ${nul} is a binary file, not text: pii detect reads a transcript or other UTF-8 text`, 2, env);
  });
});

describe('init', () => {
  it("refuses a weak key custodian's passphrase the way weak user passwords are refused, saying why", async () => {
    const data = join(await tempDir('data', 'weak'), 'v');
    await says(
      ['--data', data, 'init'],
      'CV_WEAK_PASSWORD',
      'the passphrase is too easy to guess: Repeated characters like "aaa" are easy to guess; use four or more unrelated words',
      2,
      { CALLVAULT_PASSPHRASE: 'aaaaaaaaaaaa' },
    );
    await says(['--data', data, 'init'], 'CV_WEAK_PASSWORD', 'the passphrase must be at least 12 characters', 2, { CALLVAULT_PASSPHRASE: 'short' });
    await says(
      ['--data', data, 'init'],
      'CV_WEAK_PASSWORD',
      'the passphrase is too easy to guess: This is similar to a commonly used password; use four or more unrelated words',
      2,
      {
        CALLVAULT_PASSPHRASE: 'password1234',
      },
    );
    const ok = await cli(['--data', data, 'init', '--json'], { CALLVAULT_PASSPHRASE: PASSPHRASE });
    assert.equal(ok.code, 0, ok.stderr);
  });
});

describe('a closed pipe', () => {
  let follower: ReturnType<typeof spawn> | undefined;
  after(() => follower?.kill());

  it('`audit tail --follow --json | head -1` ends quietly, exit 0, once the next entry cannot be written', async () => {
    follower = spawn(process.execPath, [CLI, '--data', dir, 'audit', 'tail', '--follow', '--json', '-n', '1'], {
      env: { ...process.env, CALLVAULT_PASSPHRASE: PASSPHRASE },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const child = follower;
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // the reader takes the first line and goes, as head does
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    child.stdout!.destroy();
    // new entries for the follower to write: the first write after the reader has gone fails
    let code: number | null | undefined;
    for (let i = 0; i < 20 && code === undefined; i++) {
      assert.equal((await cli(['--data', dir, 'audit', 'key'])).code, 0);
      code = await Promise.race([exited, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 1500))]);
    }
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
  });
});
