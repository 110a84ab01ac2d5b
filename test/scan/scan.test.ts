/**
 * `callvault scan` over a generated archive whose truth the generator knows: audio by content
 * (also misnamed), broken audio and other files, identifiers in directory and file names, WAV INFO
 * and ID3 tags, JSON and CSV sidecars and transcripts, files readable by everyone, calls past a
 * retention. Every count is checked against the truth, and neither the report nor the items file
 * holds an identifier in any form.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
import { startS3rver } from '../storage/s3rver.js';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cli, tempDir } from '../helpers.js';
import { syntheticPersonnummer, wavHeader } from '../fixtures/audio.js';
import { filesUnder } from '../http/fixtures.js';

const run = promisify(execFile);

/** a second of 8 kHz 16-bit silence-ish noise, as a recorder writes it */
function wav(seconds: number): Buffer {
  const data = Buffer.alloc(8000 * 2 * seconds, 3);
  return Buffer.concat([wavHeader({ formatTag: 1, channels: 1, rate: 8000, bits: 16, dataBytes: data.length }), data]);
}

const P1 = syntheticPersonnummer(401); // in a tag and a sidecar
const P2 = syntheticPersonnummer(402); // in a CSV sidecar
const SAM = '19850769-9802'; // a samordningsnummer (day + 60), in a sidecar
const PH1 = '46701740621'; // in a directory name and a tag (same number twice)
const PH2 = '070-174 06 22'; // in a file name
const PH3 = '0701740624'; // in a transcript (…23 would also read as a samordningsnummer, and be counted as both)
const MAIL = 'anna.andersson@example.se'; // in a CSV sidecar

describe('callvault scan', () => {
  let root: string;
  let report: any;
  let items: any[];
  let itemsText: string;
  let human: string;

  before(async () => {
    root = await tempDir('src', 'archive');
    const old = join(root, '2018', `in-${PH1}`);
    await mkdir(old, { recursive: true });
    // 1: a WAV named by date and time (not a personnummer), with INFO tags naming the caller twice
    const plain = join(root, 'plain.wav');
    await writeFile(plain, wav(2));
    await run('ffmpeg', [
      '-loglevel',
      'error',
      '-y',
      '-i',
      plain,
      '-metadata',
      `title=samtal ${PH1.replace(/^46/, '0')}`,
      '-metadata',
      `comment=pnr ${P1}`,
      '-c',
      'copy',
      join(old, 'call-20180402-0830.wav'),
    ]);
    // 2: the same kind of WAV, misnamed
    await writeFile(join(old, 'recording.dat'), wav(3));
    // 3: an MP3 with an ID3 tag, named with a phone number and the date
    await run('ffmpeg', [
      '-loglevel',
      'error',
      '-y',
      '-i',
      plain,
      '-metadata',
      'title=utan nummer',
      '-codec:a',
      'libmp3lame',
      '-b:a',
      '32k',
      join(root, '2018', `in-${PH2}-20180403.mp3`),
    ]);
    // 4: a WAV whose call is recent (inside any retention)
    const recent = new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '');
    await writeFile(join(root, `call-${recent}.wav`), wav(1));
    // sidecars, a transcript, broken audio, other files
    await writeFile(join(old, 'recording.json'), JSON.stringify({ personnummer: P1, samordningsnummer: SAM, startedAt: '2018-04-01T10:00:00Z' }));
    await writeFile(join(root, 'index.csv'), `file,personnummer,email\nx.wav,${P2},${MAIL}\n`);
    await writeFile(join(root, '2018', 'call.vtt'), `WEBVTT\n\n00:00.000 --> 00:02.000\nring mig på ${PH3}\n`);
    await writeFile(join(root, 'broken.wav'), wav(1).subarray(0, 30));
    await writeFile(join(root, 'readme.md'), 'an archive\n');
    await writeFile(join(root, 'plain-copy.bin'), Buffer.from('not audio at all, just bytes'));
    await chmod(join(root, 'readme.md'), 0o600);
    await chmod(plain, 0o600);
    await chmod(join(root, 'plain-copy.bin'), 0o640);

    const out = await tempDir('out', 'scan');
    const itemsFile = join(out, 'items.jsonl');
    const json = await cli(['scan', root, '--retention-days', '365', '--items', itemsFile, '--json']);
    assert.equal(json.code, 0, json.stderr);
    report = JSON.parse(json.stdout);
    itemsText = await readFile(itemsFile, 'utf8');
    items = itemsText
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const text = await cli(['scan', root]);
    assert.equal(text.code, 0, text.stderr);
    human = text.stdout;
  });

  test('counts files and finds audio by content, misnamed too; broken audio and other files are not audio', () => {
    assert.equal(report.files, 11);
    assert.equal(report.audio.count, 5, 'plain, the tagged copy, the misnamed one, the MP3, the recent one');
    assert.deepEqual(report.audio.formats, { wav: 4, mp3: 1 });
    assert.ok(Math.abs(report.audio.seconds - 10) < 0.2, `${report.audio.seconds} s`);
    const misnamed = items.find((i) => i.path.endsWith('recording.dat'));
    assert.equal(misnamed.kind, 'audio');
    assert.equal(items.find((i) => i.path === 'broken.wav').audio, false);
  });

  test('counts distinct identifiers by type and by source, never files', () => {
    assert.deepEqual(report.identifiers, {
      personnummer: 2,
      samordningsnummer: 1,
      phone: 3,
      email: 1,
      inNames: 2, // PH1 (directory), PH2 (file); the date-time stamp is not a personnummer
      inTags: 2, // PH1 again and P1
      inSidecars: 4, // P1 again, SAM, P2, MAIL
      inTranscripts: 1, // PH3
    });
  });

  test('files readable by everyone, calls past the retention, and the calls’ time span', () => {
    assert.equal(report.exposed.worldReadable, 8, 'all but the three made 0600 or 0640');
    assert.equal(report.exposed.unauthenticated, 0);
    // the two calls whose names date them to 2018; the misnamed one and plain.wav have no date in
    // their names and were written now, the recent one is three days old
    assert.equal(report.pastRetention, 2);
    assert.equal(report.span.from, '2018-04-01T10:00:00.000Z');
  });

  test('no identifier in the report, the items or the summary, in any notation', () => {
    const all = `${JSON.stringify(report)}\n${itemsText}\n${human}`;
    for (const value of [P1, P2, SAM, PH1, PH2, PH3, MAIL]) {
      const digits = value.replace(/\D/g, '');
      assert.equal(all.includes(value), false, value);
      if (digits) assert.equal(all.replace(/\D/g, ' ').includes(digits.slice(-9)), false, `the digits of ${value}`);
    }
    assert.ok(items.some((i) => i.path === `2018/in-[TELEFON]/call-20180402-0830.wav`));
    assert.ok(items.some((i) => i.path === '2018/in-[TELEFON]-20180403.mp3'));
    assert.match(human, /5 recordings/);
  });

  test('the same archive served as a directory listing (python3 -m http.server): the same counts, every file served without a password, read by ranges', async () => {
    const server = spawn('python3', ['-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', root], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        const seen = (b: Buffer) => {
          out += b.toString();
          const m = /port (\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        };
        server.stdout!.on('data', seen);
        server.stderr!.on('data', seen);
        server.once('exit', () => reject(new Error(`http.server ended: ${out}`)));
      });
      const r = await cli(['scan', `http://127.0.0.1:${port}/`, '--retention-days', '365', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const remote = JSON.parse(r.stdout);
      assert.equal(remote.files, report.files);
      assert.deepEqual(remote.audio, report.audio);
      assert.deepEqual(remote.identifiers, report.identifiers);
      assert.deepEqual(remote.exposed, { worldReadable: 0, unauthenticated: report.files });
      assert.equal(remote.pastRetention, 2);
      for (const value of [P1, P2, SAM, PH1, PH2, PH3, MAIL]) assert.equal(r.stdout.includes(value), false, value);
    } finally {
      server.kill();
    }
  });

  test("the same archive in a bucket (s3rver): the same counts, read by ranges with the environment's credentials", async () => {
    const s3 = await startS3rver();
    try {
      const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: s3.credentials });
      for (const file of await filesUnder(root)) {
        await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `archive/${file}`, Body: await readFile(join(root, file)) }));
      }
      client.destroy();
      const r = await cli(['scan', `s3://${s3.bucket}/archive?endpoint=${s3.endpoint}&forcePathStyle=true`, '--retention-days', '365', '--json'], {
        AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
      });
      assert.equal(r.code, 0, r.stderr);
      const remote = JSON.parse(r.stdout);
      assert.equal(remote.files, report.files);
      assert.deepEqual(remote.audio, report.audio);
      assert.deepEqual(remote.identifiers, report.identifiers);
      assert.equal(remote.pastRetention, 2);
      for (const value of [P1, P2, SAM, PH1, PH2, PH3, MAIL]) assert.equal(r.stdout.includes(value), false, value);
    } finally {
      await s3.stop();
    }
  });

  test('a source it cannot read yet is refused with one line, naming it masked', async () => {
    const r = await cli(['scan', 's3://NOT a bucket/']);
    assert.equal(r.code, 2);
    const missing = await cli(['scan', join(root, `nothing-${PH2.replace(/\D/g, '')}`)]);
    assert.equal(missing.code, 2, missing.stderr);
    assert.equal(missing.stderr.includes(PH2.replace(/\D/g, '')), false, missing.stderr);
    assert.match(missing.stderr, /^callvault: cannot read ".*nothing-\[[A-Z]+\]": it does not exist \[CV_USAGE\]\n$/);
  });
});
