/**
 * The demo's display names: its region codes and agent ids as people would call them, so the web
 * UI shows "Skåne" and "Anna Lind" where recordings carry `skane` and `nurse-anna`.
 */
import type { Vault } from '../vault.js';
import type { AGENTS, REGIONS } from './demo-calls.js';

const REGION_NAMES: Record<(typeof REGIONS)[number], string> = { stockholm: 'Stockholm', uppsala: 'Uppsala', skane: 'Skåne' };
const AGENT_NAMES: Record<(typeof AGENTS)[number], string> = { 'nurse-anna': 'Anna Lind', 'nurse-erik': 'Erik Berg', 'nurse-sara': 'Sara Holm' };

export async function nameDemo(vault: Pick<Vault, 'names'>): Promise<void> {
  const at = new Date().toISOString();
  for (const [id, name] of Object.entries(REGION_NAMES)) await vault.names.set('region', id, name, at);
  for (const [id, name] of Object.entries(AGENT_NAMES)) await vault.names.set('agent', id, name, at);
}
