/**
 * The demo's people: one of each role in the demo region, so every view of the API can be tried.
 * Their passwords are not one-time (a demo is signed into again and again); the first sign-in
 * still enrols the authenticator.
 */
import type { Vault } from '../vault.js';
import { createUser } from '../identities/users.js';
import type { Role } from '../identities/roles.js';

const PEOPLE: { username: string; role: Role; agent?: string; team?: string }[] = [
  { username: 'anna', role: 'nurse', agent: 'nurse-anna', team: 'team-1' },
  { username: 'erik', role: 'nurse', agent: 'nurse-erik', team: 'team-1' },
  { username: 'maria', role: 'supervisor', team: 'team-1' },
  { username: 'dpo', role: 'dpo' },
  { username: 'auditor', role: 'auditor' },
];

export interface DemoSignIn {
  username: string;
  role: Role;
  password: string;
  totpSecret: string;
}

export async function createDemoUsers(vault: Vault, controllerId: string): Promise<DemoSignIn[]> {
  const out: DemoSignIn[] = [];
  for (const p of PEOPLE) {
    const created = await createUser(vault, { ...p, controllerId: p.role === 'auditor' ? null : controllerId });
    await vault.users.update(created.id, { password_one_time: 0 });
    out.push({ username: p.username, role: p.role, password: created.password, totpSecret: created.totpSecret });
  }
  return out;
}
