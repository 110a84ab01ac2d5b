/**
 * Speech to text: what callvault asks of an engine. An adapter is handed the plaintext recording
 * in memory (after decryption) and answers a Transcript; it writes nothing to disk and logs no
 * text. Failures are CallvaultError CV_TRANSCRIPTION_FAILED with a message that never holds the
 * engine's answer (it may hold transcript text) nor any credential; an abort through `signal`
 * rejects with the signal's reason, as fetch does.
 */
import type { Transcript } from '../transcripts/index.js';

export interface TranscribeInfo {
  format: 'wav' | 'mp3';
  /** a language tag such as `sv`; the adapter's configured language when absent */
  language?: string;
  signal?: AbortSignal;
}

export interface TranscriptionAdapter {
  readonly name: string;
  /** audio: the plaintext recording bytes (WAV or MP3), held in memory only */
  transcribe(audio: Uint8Array, info: TranscribeInfo): Promise<Transcript>;
}
