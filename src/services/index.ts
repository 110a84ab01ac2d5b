/**
 * The application layer: every use case of callvault, one service per family. Adapters (HTTP
 * routes, CLI commands, background jobs) parse their input, make an Actor, call one method and
 * present the answer; the method asks the policy, appends the audit entry and only then does the
 * work. Services get the parts of the vault they use, never the whole of it.
 */
import { AuditTrail } from './audit-trail.js';
import { KeysService } from './keys.js';
import { PlaybackService, RecordingsService } from './recordings.js';
import { verifyStore } from '../recordings/verify.js';
import type { Vault } from '../vault.js';

export interface Services {
  trail: AuditTrail;
  keys: KeysService;
  recordings: RecordingsService;
  playback: PlaybackService;
}

export function createServices(vault: Vault): Services {
  const trail = new AuditTrail(vault.audit);
  return {
    trail,
    keys: new KeysService(vault, trail),
    // verify walks every table and object of the vault: it alone gets the whole of it
    recordings: new RecordingsService(vault, trail, (options) => verifyStore(vault, options)),
    playback: new PlaybackService(vault, trail),
  };
}

export type { Actor } from './actor.js';
