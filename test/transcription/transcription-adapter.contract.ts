/**
 * The contract every TranscriptionAdapter passes (the OpenAI-compatible client now; others later).
 * `make` gives an adapter configured for Swedish by default, in front of an engine that answers
 * real requests (a stand-in where no engine can run), and the text that engine puts in its error
 * answers, if known, so the suite can check that no error message carries it.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { TranscriptionAdapter } from '../../src/transcription/index.js';
import type { Transcript } from '../../src/transcripts/index.js';
import { ErrorCodes } from '../../src/errors.js';
import { makeWav } from './wav.js';

export interface ContractSubject {
  adapter: TranscriptionAdapter;
  /** text the engine behind the adapter puts in its error answers: no error may carry it */
  errorBodyMarker?: string;
  cleanup(): Promise<void>;
}

function checkTimings(t: Transcript, seconds: number): void {
  assert.equal(t.format, 'verbose_json');
  assert.ok(t.segments.length > 0, 'no segments');
  const words = t.segments.flatMap((s) => s.words ?? []);
  assert.ok(words.length > 0, 'no word timings');
  const slack = 0.05;
  let prev = -Infinity;
  for (const s of t.segments) {
    assert.ok(s.start >= prev, 'segments in order');
    prev = s.start;
    assert.ok(s.start >= 0 && s.start <= s.end && s.end <= seconds + slack, `segment ${s.start}–${s.end} outside 0–${seconds} s`);
    assert.ok(s.text.length > 0);
    for (const w of s.words ?? []) {
      assert.ok(Number.isFinite(w.start) && Number.isFinite(w.end));
      assert.ok(w.start >= 0 && w.start <= w.end && w.end <= seconds + slack, `word ${w.start}–${w.end} outside 0–${seconds} s`);
      assert.ok(w.text.length > 0 && w.text === w.text.trim());
    }
  }
  if (t.durationSeconds !== undefined) assert.ok(Math.abs(t.durationSeconds - seconds) < 0.1);
}

export function transcriptionAdapterContract(name: string, make: () => Promise<ContractSubject>): void {
  describe(`TranscriptionAdapter contract: ${name}`, () => {
    let subject: ContractSubject;
    before(async () => {
      subject = await make();
    });
    after(async () => subject.cleanup());

    it('returns segments with word timings inside the audio duration', async () => {
      const t = await subject.adapter.transcribe(makeWav(3.2), { format: 'wav' });
      checkTimings(t, 3.2);
    });

    it('passes the language through: Swedish by default, another when asked', async () => {
      const sv = await subject.adapter.transcribe(makeWav(1.5), { format: 'wav' });
      assert.equal(sv.language, 'sv');
      const en = await subject.adapter.transcribe(makeWav(1.5), { format: 'wav', language: 'en' });
      assert.equal(en.language, 'en');
    });

    it('gives each of two calls at once its own transcript', async () => {
      const [short, long] = await Promise.all([subject.adapter.transcribe(makeWav(1), { format: 'wav' }), subject.adapter.transcribe(makeWav(6), { format: 'wav' })]);
      checkTimings(short, 1);
      checkTimings(long, 6);
      assert.ok(long.segments.at(-1)!.end > 2, 'the longer call answers for its own length');
    });

    it('fails with CV_TRANSCRIPTION_FAILED, without the engine answer, for audio the engine cannot read', async () => {
      const garbage = new TextEncoder().encode('inte ljud, bara text som låtsas vara en inspelning');
      await assert.rejects(subject.adapter.transcribe(garbage, { format: 'wav' }), (err: any) => {
        assert.equal(err.code, ErrorCodes.TRANSCRIPTION_FAILED);
        if (subject.errorBodyMarker) {
          assert.ok(!String(err.message).includes(subject.errorBodyMarker), 'the message carries the answer body');
          assert.ok(!String(err.stack).includes(subject.errorBodyMarker), 'the stack carries the answer body');
        }
        return true;
      });
      // and the adapter goes on working
      checkTimings(await subject.adapter.transcribe(makeWav(1), { format: 'wav' }), 1);
    });

    it('an abort rejects with the abort, whether before the call or while it runs', async () => {
      const before = new AbortController();
      before.abort();
      await assert.rejects(subject.adapter.transcribe(makeWav(1), { format: 'wav', signal: before.signal }), { name: 'AbortError' });
      const during = new AbortController();
      const pending = subject.adapter.transcribe(makeWav(2), { format: 'wav', signal: during.signal });
      during.abort();
      await assert.rejects(pending, { name: 'AbortError' });
      const reason = new Error('the caller gave up');
      const custom = new AbortController();
      const pending2 = subject.adapter.transcribe(makeWav(2), { format: 'wav', signal: custom.signal });
      custom.abort(reason);
      await assert.rejects(pending2, (err) => err === reason);
    });
  });
}
