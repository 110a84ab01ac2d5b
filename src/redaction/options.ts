/**
 * How identifiers are redacted (docs/redaction.md): the fill, the padding, and the service that
 * transcribes calls that come without a transcript. Built from the configuration (src/config.ts:
 * CALLVAULT_REDACTION_FILL, CALLVAULT_REDACTION_PADDING_MS, CALLVAULT_TRANSCRIBE_URL and
 * CALLVAULT_TRANSCRIBE_API_KEY), apart from redact-recording.ts so that the vault can hold them
 * without importing the redaction itself.
 */
import type { AuditActor } from '../audit/audit-log.js';
import type { Config } from '../config.js';
import { transcriptionAdapterFromUrl, type TranscriptionAdapter } from '../transcription/index.js';
import type { Fill } from './fill.js';

export interface RedactionOptions {
  fill: Fill;
  /** who examines, for the audit log (default: the server's background work) */
  actor?: AuditActor;
  /** silence this much before and after each identifier as well */
  paddingSeconds: number;
  /** transcribes recordings that came without a transcript */
  transcriber?: TranscriptionAdapter;
}

export const DEFAULT_REDACTION: RedactionOptions = { fill: 'tone', paddingSeconds: 0.25 };

export type RedactionConfig = Pick<Config, 'redactionFill' | 'redactionPaddingMs' | 'transcribeUrl' | 'transcribeApiKey'>;

/** the options the configuration gives; its values were checked by loadConfig */
export function redactionOptionsFrom(config: RedactionConfig): RedactionOptions {
  const transcriber = transcriptionAdapterFromUrl(config.transcribeUrl, { apiKey: config.transcribeApiKey });
  return { fill: config.redactionFill, paddingSeconds: config.redactionPaddingMs / 1000, ...(transcriber ? { transcriber } : {}) };
}
