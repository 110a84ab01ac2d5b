/**
 * What the data-subject requests share (src/subject): the kind of identifier a request names and
 * the free text that goes into the audit log with it.
 */
import { redactText } from '../redaction/transcript.js';

export type SubjectKind = 'personnummer' | 'phone';

/**
 * A case reference or reason as the audit log stores it: trimmed, and any identifier the writer
 * put in replaced by its label, as for every other purpose text (src/http/routes/recordings.ts).
 */
export function scrubbedText(text: string | undefined): string | undefined {
  const trimmed = text?.trim();
  return trimmed ? redactText(trimmed) : undefined;
}
