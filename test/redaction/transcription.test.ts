/**
 * A call imported without a transcript is transcribed by the configured service and redacted.
 *
 * The transcription service here is a local stand-in: the one mock this project allows, because a
 * real speech-to-text engine (model weights) cannot run on this machine. It answers, in the
 * OpenAI `verbose_json` shape, the true transcript of the espeak-ng call it is sent, and checks
 * that it was sent that call's audio. Everything else (import, decryption, redaction, export) is
 * the real CLI.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cli, initVault, PASSPHRASE, tempDir } from '../helpers.js';
import { makeCallWav, type SyntheticCall } from '../fixtures/audio.js';
import { verboseJson } from '../fixtures/transcripts.js';

describe('transcription before redaction', () => {
  let server: Server;
  let url: string;
  let src: string;
  let call: SyntheticCall;
  let audioSha: string;
  const seen: { sha: string; model: string | null; language: string | null; format: string | null }[] = [];
  let failing = false;

  before(async () => {
    src = await tempDir('src', 'stt');
    call = await makeCallWav(join(src, 'call.wav'), { seed: 601, encoding: 'alaw' });
    audioSha = createHash('sha256')
      .update(await readFile(join(src, 'call.wav')))
      .digest('hex');
    server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const form = await new Request('http://stand-in', { method: 'POST', headers: req.headers as Record<string, string>, body: Buffer.concat(chunks) }).formData();
      const file = form.get('file') as File;
      seen.push({
        sha: createHash('sha256')
          .update(Buffer.from(await file.arrayBuffer()))
          .digest('hex'),
        model: form.get('model') as string | null,
        language: form.get('language') as string | null,
        format: form.get('response_format') as string | null,
      });
      if (failing) return void res.writeHead(500, { 'content-type': 'text/plain' }).end(`internal error while transcribing "${call.personnummer}"`);
      res.writeHead(200, { 'content-type': 'application/json' }).end(verboseJson(call, 'words').json);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1?model=whisper-large-v3&language=sv`;
  });

  after(() => server.close());

  it('transcribes the call, redacts it and keeps the transcript sealed', async () => {
    const { dir } = await initVault();
    const env = { CALLVAULT_PASSPHRASE: PASSPHRASE, CALLVAULT_TRANSCRIBE_URL: url };
    const res = await cli(['--data', dir, 'import', join(src, 'call.wav'), '--json'], env);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(JSON.parse(res.stdout).redaction, { redacted: 1 });
    assert.deepEqual(seen.at(-1), { sha: audioSha, model: 'whisper-large-v3', language: 'sv', format: 'verbose_json' });

    const found = await cli(['--data', dir, 'subject', 'find', '--personnummer', call.personnummer, '--json'], env);
    assert.deepEqual(
      JSON.parse(found.stdout).recordings.map((r: { foundIn: string[] }) => r.foundIn),
      [['transcript']],
    );
  });

  it('a failing service flags the call instead of leaving it unredacted, and says nothing of the answer', async () => {
    failing = true;
    try {
      const { dir } = await initVault();
      const env = { CALLVAULT_PASSPHRASE: PASSPHRASE, CALLVAULT_TRANSCRIBE_URL: url };
      const res = await cli(['--data', dir, 'import', join(src, 'call.wav'), '--json'], env);
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(JSON.parse(res.stdout).redaction, { failed: 1 });
      assert.ok(!res.stdout.includes(call.personnummer) && !res.stderr.includes(call.personnummer));
      const list = JSON.parse((await cli(['--data', dir, 'recordings', 'list', '--json'], env)).stdout);
      assert.equal(list.recordings[0].redaction, 'failed');
      // once the service works again, the flagged call is examined anew
      failing = false;
      const again = await cli(['--data', dir, 'redact', '--again', 'failed', '--json'], env);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(JSON.parse(again.stdout).byState, { redacted: 1 });
    } finally {
      failing = false;
    }
  });
});
