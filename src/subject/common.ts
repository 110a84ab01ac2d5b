/**
 * What the data-subject requests share (src/subject, src/http/routes/subject.ts and
 * `POST /subject/find`): the kind of identifier a request names, and the person's recordings a
 * caller reaches.
 */
import { decide, reachesEverything, recordingScopes, type Action, type Principal } from '../policy/policy.js';
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

/**
 * The controllers a search or request by identifier covered, for its audit entry (the patient's
 * access log shows the entry to those who reach one of them): those the principal reaches for
 * `scopeAction`, or, for one that reaches everything, those the person was found at.
 */
export function controllersCovered(principal: Principal, scopeAction: Action, found: readonly { controller_id: string }[]): string[] {
  const ids = reachesEverything(principal) ? found.map((r) => r.controller_id) : recordingScopes(principal, scopeAction, new Date()).map((s) => s.controllerId);
  return [...new Set(ids)].sort();
}
