/**
 * Machine API tokens for recorders: `cvt_<id>_<secret>`, shown once. The database keeps the id
 * and the SHA-256 of the secret (the secret is 256 random bits, so a fast hash is enough). A token
 * has one scope, one controller, an expiry, and can be revoked. It may be limited to regions and
 * agents of its controller: a recorder in one call centre then cannot store calls as another's.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { CallvaultError, ErrorCodes } from '../errors.js';
import type { ApiTokenRow } from '../db/sessions-repository.js';
import type { TokenScope } from '../policy/policy.js';
import type { Vault } from '../vault.js';
import { hashSecret, sameSecret, TOUCH_INTERVAL_MS } from './sessions.js';

export const MAX_TOKEN_DAYS = 366;
/** regions or agents a token may be limited to, and the length of each name (a sidecar's limit) */
export const MAX_TOKEN_LIMITS = 100;
export const MAX_LIMIT_NAME = 200;
const TOKEN = /^cvt_([0-9a-f-]{36})_([A-Za-z0-9_-]{43})$/;

export interface NewToken {
  id: string;
  /** shown once */
  token: string;
  expiresAt: string;
}

export interface TokenSpec {
  name: string;
  scope: TokenScope;
  controllerId: string;
  days: number;
  /** absent or empty: every region of the controller */
  regions?: readonly string[];
  /** absent or empty: every agent */
  agents?: readonly string[];
}

/** a token's limits as stored: comma-separated, or null for none */
function storedLimit(kind: 'region' | 'agent', names: readonly string[] | undefined): string | null {
  const list = [...new Set((names ?? []).map((n) => n.trim()).filter(Boolean))];
  if (list.length > MAX_TOKEN_LIMITS) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, `a token is limited to at most ${MAX_TOKEN_LIMITS} ${kind}s`);
  if (list.some((n) => n.includes(',') || n.length > MAX_LIMIT_NAME)) {
    throw new CallvaultError(ErrorCodes.INVALID_REQUEST, `a ${kind} name has no commas and at most ${MAX_LIMIT_NAME} characters`);
  }
  return list.length ? list.join(',') : null;
}

/** the regions and agents a token is limited to; null: no limit */
export function tokenLimits(row: Pick<ApiTokenRow, 'regions' | 'agents'>): { regions: string[] | null; agents: string[] | null } {
  return { regions: row.regions === null ? null : row.regions.split(','), agents: row.agents === null ? null : row.agents.split(',') };
}

/**
 * Checks a new token and makes it, storing nothing: the administration service writes the audit
 * entry between this and `sessions.addToken`.
 */
export async function prepareToken(deps: Pick<Vault, 'controllers'>, spec: TokenSpec, now = new Date()): Promise<{ row: ApiTokenRow; token: NewToken }> {
  if (spec.name.trim().length === 0 || spec.name.length > 100) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, 'a token name is 1 to 100 characters');
  if (!Number.isInteger(spec.days) || spec.days < 1 || spec.days > MAX_TOKEN_DAYS) {
    throw new CallvaultError(ErrorCodes.INVALID_REQUEST, `a token lives 1 to ${MAX_TOKEN_DAYS} days`);
  }
  const regions = storedLimit('region', spec.regions);
  const agents = storedLimit('agent', spec.agents);
  if (!(await deps.controllers.get(spec.controllerId))) throw new CallvaultError(ErrorCodes.CONTROLLER_UNKNOWN, 'no such controller');
  const id = randomUUID();
  const secret = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + spec.days * 86_400_000).toISOString();
  const row: ApiTokenRow = {
    id,
    name: spec.name,
    scope: spec.scope,
    controller_id: spec.controllerId,
    secret_hash: hashSecret(secret),
    created_at: now.toISOString(),
    expires_at: expiresAt,
    revoked_at: null,
    last_used_at: null,
    regions,
    agents,
  };
  return { row, token: { id, token: `cvt_${id}_${secret}`, expiresAt } };
}

export async function createToken(vault: Pick<Vault, 'controllers' | 'sessions'>, spec: TokenSpec, now = new Date()): Promise<NewToken> {
  const { row, token } = await prepareToken(vault, spec, now);
  await vault.sessions.addToken(row);
  return token;
}

/** the live token for a bearer value, or undefined */
export async function resolveToken(vault: Vault, bearer: string, now = new Date()): Promise<ApiTokenRow | undefined> {
  const m = TOKEN.exec(bearer);
  if (!m) return undefined;
  const row = await vault.sessions.token(m[1]!);
  if (!row || row.revoked_at || row.expires_at <= now.toISOString()) return undefined;
  if (!sameSecret(row.secret_hash, hashSecret(m[2]!))) return undefined;
  // last use to the minute, like sessions: a recorder uploading all day costs no write per request
  if (!row.last_used_at || now.getTime() - Date.parse(row.last_used_at) >= TOUCH_INTERVAL_MS) await vault.sessions.tokenUsed(row.id, now.toISOString());
  return row;
}
