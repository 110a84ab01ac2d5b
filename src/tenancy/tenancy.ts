/**
 * Controllers (regions, which own recordings and keys), processors (call-centre companies) and
 * the contracts between them. Shared by the CLI and the admin API, so both validate alike.
 */
import { randomUUID } from 'node:crypto';
import { CallvaultError, ErrorCodes } from '../errors.js';
import type { ContractRow } from '../db/tenancy-repository.js';
import type { Vault } from '../vault.js';

const ORG_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** roles a processor's staff can hold: the clinical and privacy roles, never admin or auditor of the platform */
export const CONTRACT_ROLES = ['nurse', 'supervisor', 'dpo'] as const;

function invalid(message: string): CallvaultError {
  return new CallvaultError(ErrorCodes.INVALID_REQUEST, message);
}

export function assertOrganisationId(id: string, what: string): void {
  if (!ORG_ID.test(id)) throw invalid(`a ${what} id is lower-case letters, digits and dashes (at most 63)`);
}

/** a new controller's id is well formed and free */
export async function checkNewController(deps: Pick<Vault, 'controllers'>, id: string): Promise<void> {
  assertOrganisationId(id, 'controller');
  if (await deps.controllers.get(id)) throw new CallvaultError(ErrorCodes.CONFLICT, 'that controller exists already');
}

/** a controller with its first key pair; needs the unlocked keyring */
export async function addController(vault: Pick<Vault, 'controllers' | 'keys'>, id: string, name: string): Promise<{ id: string; keyId: string }> {
  await checkNewController(vault, id);
  await vault.controllers.add({ id, name, created_at: new Date().toISOString() });
  const key = await vault.keys.generate(id);
  return { id, keyId: key.keyId };
}

/** a new processor's id is well formed and free */
export async function checkNewProcessor(deps: Pick<Vault, 'tenancy'>, id: string): Promise<void> {
  assertOrganisationId(id, 'processor');
  if (await deps.tenancy.processor(id)) throw new CallvaultError(ErrorCodes.CONFLICT, 'that processor exists already');
}

export async function addProcessor(vault: Pick<Vault, 'tenancy'>, id: string, name: string): Promise<void> {
  await checkNewProcessor(vault, id);
  await vault.tenancy.addProcessor({ id, name, created_at: new Date().toISOString() });
}

export interface ContractSpec {
  processorId: string;
  controllerId: string;
  roles: string[];
  /** absent or empty: every region */
  regions?: string[];
  /** ISO 8601 */
  validFrom: string;
  validTo: string;
}

/**
 * Checks a contract and makes its row, storing nothing (the audit entry goes between).
 * `requestedBy`: made by an administrator, so it waits for the controller's approval (four-eyes);
 * absent, the operator made it on the host and it is in force from `validFrom`.
 */
export async function prepareContract(deps: Pick<Vault, 'tenancy' | 'controllers'>, spec: ContractSpec, requestedBy?: string): Promise<ContractRow> {
  if (!(await deps.tenancy.processor(spec.processorId))) throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such processor');
  if (!(await deps.controllers.get(spec.controllerId))) throw new CallvaultError(ErrorCodes.CONTROLLER_UNKNOWN, 'no such controller');
  if (spec.roles.length === 0) throw invalid('a contract names at least one role');
  for (const role of spec.roles) {
    if (!(CONTRACT_ROLES as readonly string[]).includes(role)) throw invalid(`a contract can grant the roles ${CONTRACT_ROLES.join(', ')}`);
  }
  const regions = (spec.regions ?? []).map((r) => r.trim()).filter(Boolean);
  if (regions.some((r) => r.includes(',') || r.length > 100)) throw invalid('a region name has no commas and at most 100 characters');
  const from = parseInstant(spec.validFrom);
  const to = parseInstant(spec.validTo);
  if (from === undefined || to === undefined) throw invalid('validFrom and validTo must be ISO 8601 dates, with a time zone when they have a time');
  if (to <= from) throw invalid('a contract must end after it starts');
  return {
    id: randomUUID(),
    processor_id: spec.processorId,
    controller_id: spec.controllerId,
    roles: [...new Set(spec.roles)].join(','),
    regions: regions.length ? regions.join(',') : null,
    valid_from: new Date(from).toISOString(),
    valid_to: new Date(to).toISOString(),
    created_at: new Date().toISOString(),
    approval: requestedBy ? 'pending' : 'approved',
    approval_request: requestedBy ? 'create' : null,
    approval_requested_by: requestedBy ?? null,
    approval_decided_by: null,
  };
}

export async function addContract(vault: Pick<Vault, 'tenancy' | 'controllers'>, spec: ContractSpec): Promise<ContractRow> {
  const row = await prepareContract(vault, spec);
  await vault.tenancy.addContract(row);
  return row;
}

/** YYYY-MM-DD (midnight UTC) or a date-time with Z or an offset; nothing Date.parse would guess at */
export function parseInstant(value: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?$/.exec(value);
  if (!m) return undefined;
  const t = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(t)) return undefined;
  // 2025-02-30 parses as 2 March: refuse dates that do not exist
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  if (d.getUTCMonth() !== Number(m[2]) - 1 || d.getUTCDate() !== Number(m[3])) return undefined;
  return t;
}
