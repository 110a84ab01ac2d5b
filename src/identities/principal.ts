/**
 * What the policy needs to know about an authenticated caller, read from the database: contracts
 * and break-the-glass periods change, and a change must take effect at once. The HTTP server keeps
 * it with the session only until the revocation epoch moves (src/identities/epoch-cache.ts).
 */
import { contractTerms } from '../db/tenancy-repository.js';
import type { ApiTokenRow } from '../db/sessions-repository.js';
import { tokenLimits } from './tokens.js';
import type { User } from '../db/users-repository.js';
import type { TokenPrincipal, TokenScope, UserPrincipal } from '../policy/policy.js';
import type { Vault } from '../vault.js';
import type { Role } from './roles.js';

export async function userPrincipal(vault: Pick<Vault, 'tenancy' | 'users' | 'grants'>, user: User, now = new Date()): Promise<UserPrincipal> {
  const [contracts, teamAgents, breakGlass] = await Promise.all([
    user.processor_id ? vault.tenancy.contracts(user.processor_id) : [],
    user.role === 'supervisor' && user.team ? vault.users.teamAgents(user.team, { controllerId: user.controller_id, processorId: user.processor_id }) : [],
    user.role === 'nurse' || user.role === 'supervisor' ? vault.grants.activeBreakGlass(user.id, now.toISOString()) : [],
  ]);
  return {
    kind: 'user',
    userId: user.id,
    role: user.role as Role,
    controllerId: user.controller_id,
    processorId: user.processor_id,
    agent: user.agent,
    teamAgents,
    contracts: contracts.map(contractTerms),
    breakGlass: breakGlass.map((g) => ({ id: g.id, controllerId: g.controller_id, expiresAt: g.expires_at })),
  };
}

export function tokenPrincipal(token: ApiTokenRow): TokenPrincipal {
  return { kind: 'token', tokenId: token.id, scope: token.scope as TokenScope, controllerId: token.controller_id, ...tokenLimits(token) };
}
