/**
 * What the data-subject requests share (src/subject, src/http/routes/subject.ts and
 * `POST /subject/find`): the kind of identifier a request names, and the person's recordings a
 * caller reaches.
 */
import { decide, recordingScopes, type Action, type Principal } from '../policy/policy.js';
import { findByIdentifier, type SubjectHit } from '../recordings/indexer.js';
import type { Vault } from '../vault.js';

export type SubjectKind = 'personnummer' | 'phone';

/**
 * The person's recordings, found through the blind indexes of the controllers `scopeAction`
 * reaches, that `action` on each is allowed for.
 */
export async function subjectHits(vault: Vault, principal: Principal, action: Action, scopeAction: Action, kind: SubjectKind, value: string): Promise<SubjectHit[]> {
  const now = new Date();
  const controllers = [...new Set(recordingScopes(principal, scopeAction, now).map((s) => s.controllerId))];
  const hits = await findByIdentifier(vault, kind, value, controllers);
  return hits.filter((h) => decide(principal, action, { controllerId: h.row.controller_id, region: h.row.region, agent: h.row.agent }, now).allowed);
}
