/**
 * The application layer: every use case of callvault, one service per family. Adapters (HTTP
 * routes, CLI commands, background jobs) parse their input, make an Actor, call one method and
 * present the answer; the method asks the policy, appends the audit entry and only then does the
 * work. Services get the parts of the vault they use, never the whole of it.
 */
import { AuditTrail } from './audit-trail.js';
import { AuditReadingService } from './audit-reading.js';
import { KeysService } from './keys.js';
import { SubjectRightsService } from './subject-rights.js';
import type { Vault } from '../vault.js';

export interface Services {
  trail: AuditTrail;
  keys: KeysService;
  auditReading: AuditReadingService;
  subjectRights: SubjectRightsService;
}

export function createServices(vault: Vault): Services {
  const trail = new AuditTrail(vault.audit);
  return {
    trail,
    keys: new KeysService(vault, trail),
    auditReading: new AuditReadingService(vault, trail),
    subjectRights: new SubjectRightsService(vault, trail),
  };
}

export type { Actor } from './actor.js';
