/**
 * Rewrites the table of audit actions in docs/audit-log.md from src/audit/catalogue.ts:
 * `npx tsc -p . && node dist/scripts/audit-catalogue-doc.js` from the repository root.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { withCatalogueTable } from '../src/audit/catalogue-doc.js';

const path = 'docs/audit-log.md';
writeFileSync(path, withCatalogueTable(readFileSync(path, 'utf8')));
