/**
 * ffmpeg decodes untrusted audio: if a crafted file ever made it run code, the server's secrets
 * must not be within reach. Its environment, read from /proc as anything in that process could
 * read it, holds PATH and a locale and nothing else, whatever the server's own environment holds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { ffmpeg } from '../../src/audio/ffmpeg.js';

test("ffmpeg's environment holds no secret of the process that starts it", async () => {
  const saved = { ...process.env };
  process.env.CALLVAULT_PASSPHRASE = 'the custodian passphrase';
  process.env.CALLVAULT_TRANSCRIBE_API_KEY = 'sk-transcription-key';
  process.env.CALLVAULT_DATABASE_URL = 'postgres://callvault:password@db/callvault';
  try {
    // waits for audio on stdin, so it is alive while its environment is read
    const { child, exit } = ffmpeg(['-f', 's16le', '-ar', '8000', '-ac', '1', '-i', 'pipe:0', '-f', 'null', '-']);
    try {
      assert.ok(child.pid, 'ffmpeg started');
      const environ = (await readFile(`/proc/${child.pid}/environ`, 'utf8')).split('\0').filter(Boolean);
      assert.deepEqual(environ.map((e) => e.slice(0, e.indexOf('='))).sort(), ['LC_ALL', 'PATH']);
      assert.ok(!environ.some((e) => /passphrase|sk-transcription|password/.test(e)));
    } finally {
      child.stdin.end();
      child.kill();
      await exit;
    }
  } finally {
    for (const name of ['CALLVAULT_PASSPHRASE', 'CALLVAULT_TRANSCRIBE_API_KEY', 'CALLVAULT_DATABASE_URL']) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  }
});
