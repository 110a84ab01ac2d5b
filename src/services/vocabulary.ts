/**
 * The words adapters share with the services: the policy's lists (purposes, renditions, token
 * scopes, limits) for schemas and option parsers, and the shapes of what services return. Adapters
 * import these from here and nothing from the policy, the audit log, keys or storage directly
 * (biome.json's restricted imports); this module re-exports values and types, never behaviour
 * that reads or writes.
 */
export {
  ACTIONS,
  BREAK_GLASS_MAX_MINUTES,
  BREAK_GLASS_MIN_REASON,
  PURPOSE_TEXT_MIN,
  PURPOSES,
  RENDITIONS,
  TOKEN_SCOPES,
  type Action,
  type Purpose,
  type Rendition,
  type TokenScope,
} from '../policy/policy.js';
export { ACTION_PATTERN, SEARCH_DEFAULT_LIMIT, SEARCH_MAX_LIMIT } from '../audit/search.js';
export { auditEntryJsonLine } from '../audit/syslog.js';
export type { StoredEntry } from '../audit/audit-log.js';
export { isRecordingId } from '../container/header.js';
export type { RecordingRow } from '../db/recordings-repository.js';
export type { Approval, RedactionState } from '../db/schema.js';
export { APPROVALS } from '../db/schema.js';
export { REDACTION_STATES } from './redaction.js';
export { NAME_KINDS, type NameKind } from '../db/names-repository.js';
