/**
 * The labelled Swedish sentence set (testdata/pii/labelled.txt) that measures the precision and
 * recall of the personal-identifier detector.
 *
 * Format: one sentence per line, UTF-8; blank lines and lines starting with `#` are skipped.
 * Identifiers are marked inline as `[[type:text]]`: removing the markup gives the real sentence,
 * and each entity is the span [start, end) (JavaScript string indices) of `text` in it.
 */
import { readFile } from 'node:fs/promises';

export type EntityType = 'personnummer' | 'samordningsnummer' | 'phone' | 'email';

export const ENTITY_TYPES: readonly EntityType[] = ['personnummer', 'samordningsnummer', 'phone', 'email'];

export interface LabelledSentence {
  /** the sentence with the markup removed */
  text: string;
  entities: { type: EntityType; start: number; end: number }[];
  /** 1-based line number in the source */
  line: number;
}

/** Malformed markup or an unknown entity type, with the 1-based line it is on. */
export class LabelledSetError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`labelled set, line ${line}: ${message}`);
    this.name = 'LabelledSetError';
  }
}

function isEntityType(s: string): s is EntityType {
  return (ENTITY_TYPES as readonly string[]).includes(s);
}

function parseLine(raw: string, line: number): LabelledSentence {
  const entities: LabelledSentence['entities'] = [];
  let text = '';
  let pos = 0;
  for (;;) {
    const open = raw.indexOf('[[', pos);
    const plain = raw.slice(pos, open === -1 ? raw.length : open);
    if (plain.includes(']]')) throw new LabelledSetError(line, `']]' without a matching '[[' at column ${pos + plain.indexOf(']]') + 1}`);
    text += plain;
    if (open === -1) break;
    const close = raw.indexOf(']]', open + 2);
    if (close === -1) throw new LabelledSetError(line, `'[[' at column ${open + 1} is not closed with ']]'`);
    const inner = raw.slice(open + 2, close);
    if (inner.includes('[[')) throw new LabelledSetError(line, `nested '[[' in the entity at column ${open + 1}`);
    const colon = inner.indexOf(':');
    if (colon === -1) throw new LabelledSetError(line, `entity at column ${open + 1} has no 'type:' prefix`);
    const type = inner.slice(0, colon);
    if (!isEntityType(type)) throw new LabelledSetError(line, `unknown entity type '${type}' (expected one of ${ENTITY_TYPES.join(', ')})`);
    const value = inner.slice(colon + 1);
    if (value.length === 0) throw new LabelledSetError(line, `empty ${type} entity at column ${open + 1}`);
    if (value.trim() !== value) throw new LabelledSetError(line, `${type} entity at column ${open + 1} starts or ends with whitespace`);
    const start = text.length;
    text += value;
    entities.push({ type, start, end: text.length });
    pos = close + 2;
  }
  return { text, entities, line };
}

/** Parses the set; throws a LabelledSetError naming the line on malformed markup or an unknown type. */
export function parseLabelledSet(source: string): LabelledSentence[] {
  const lines = source.replace(/^\uFEFF/, '').split(/\r?\n/);
  const out: LabelledSentence[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] ?? '').trim();
    if (raw === '' || raw.startsWith('#')) continue;
    out.push(parseLine(raw, i + 1));
  }
  return out;
}

/**
 * testdata/pii/labelled.txt (the set the detector was developed against) or heldout.txt (written
 * later, without sight of the detector), read relative to the repository root (this file runs
 * from dist/bench/).
 */
export async function loadLabelledSet(which: 'labelled' | 'heldout' = 'labelled'): Promise<LabelledSentence[]> {
  const root = new URL('../../', import.meta.url);
  return parseLabelledSet(await readFile(new URL(`testdata/pii/${which}.txt`, root), 'utf8'));
}
