/**
 * docs/audit-log.md's table of actions, rendered from the catalogue. `npm run`-free: rewrite the
 * doc with `node dist/scripts/audit-catalogue-doc.js`; test/audit/catalogue.test.ts fails when the
 * doc and the catalogue differ.
 */
import { AUDIT_CATALOGUE, type ActionSpec, type FieldSpec } from './catalogue.js';

export const TABLE_START = '<!-- audit-catalogue:start (generated from src/audit/catalogue.ts) -->';
export const TABLE_END = '<!-- audit-catalogue:end -->';

/** one detail field as the doc writes it: `name?: type`, and "(keyed hash)" for a blind index */
export function fieldText(name: string, field: FieldSpec): string {
  return `\`${name}${field.optional ? '?' : ''}: ${field.type.replaceAll('|', '\\|')}\`${field.hash ? ' (keyed hash)' : ''}`;
}

export function rowText(action: string, spec: ActionSpec): string {
  const uses = spec.uses.map((u) => `\`${u}\``).join(', ');
  const detail = Object.entries(spec.detail)
    .map(([name, field]) => fieldText(name, field))
    .join(', ');
  return `| \`${action}\` | ${spec.meaning} | ${uses} | ${detail} |`;
}

/** the table, header included, one row per action in catalogue order */
export function catalogueTable(): string[] {
  return [
    '| action | meaning | top-level fields | detail fields |',
    '|---|---|---|---|',
    ...Object.entries(AUDIT_CATALOGUE).map(([action, spec]) => rowText(action, spec as ActionSpec)),
  ];
}

/** the doc with its table replaced by the catalogue's */
export function withCatalogueTable(doc: string): string {
  const start = doc.indexOf(TABLE_START);
  const end = doc.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error('the doc has no audit catalogue markers');
  return `${doc.slice(0, start + TABLE_START.length)}\n${catalogueTable().join('\n')}\n${doc.slice(end)}`;
}
