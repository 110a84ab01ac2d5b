/**
 * The access policy as a table: each row is one principal, one action, one recording, and the
 * decision the rules in the brief demand. The rows are written out, not derived from the code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decide,
  mayBreakGlass,
  permissionsOf,
  recordingScopes,
  ROLE_PERMISSIONS,
  type ContractTerms,
  type Principal,
  type RecordingFacts,
  type UserPrincipal,
} from '../../src/policy/policy.js';

const NOW = new Date('2026-06-15T12:00:00Z');

const callcoContract: ContractTerms = {
  id: 'c-callco',
  processorId: 'callco',
  controllerId: 'region-a',
  roles: ['nurse', 'supervisor'],
  regions: ['north'],
  validFrom: '2026-01-01T00:00:00Z',
  validTo: '2027-01-01T00:00:00Z',
  approved: true,
};
const endedContract: ContractTerms = { ...callcoContract, id: 'c-old', processorId: 'oldco', validTo: '2026-06-01T00:00:00Z' };
const futureContract: ContractTerms = { ...callcoContract, id: 'c-future', processorId: 'newco', validFrom: '2026-07-01T00:00:00Z' };
// made by an administrator and not yet approved by the controller (four-eyes): reaches nothing
const unapprovedContract: ContractTerms = { ...callcoContract, id: 'c-pending', processorId: 'pendco', approved: false };
const dpoOnlyContract: ContractTerms = { ...callcoContract, id: 'c-dpo', processorId: 'privco', roles: ['dpo'], regions: null };

function user(p: Partial<UserPrincipal> & Pick<UserPrincipal, 'role'>): UserPrincipal {
  return { kind: 'user', userId: `u-${p.role}`, controllerId: null, processorId: null, agent: null, teamAgents: [], contracts: [], breakGlass: [], ...p };
}

const P: Record<string, Principal> = {
  staffNurseA1: user({ role: 'nurse', controllerId: 'region-a', agent: 'a1' }),
  callcoNurseA2: user({ role: 'nurse', processorId: 'callco', agent: 'a2', contracts: [callcoContract] }),
  callcoNurseA2Glass: user({
    role: 'nurse',
    processorId: 'callco',
    agent: 'a2',
    contracts: [callcoContract],
    breakGlass: [{ id: 'bg-1', controllerId: 'region-a', expiresAt: '2026-06-15T12:30:00Z' }],
  }),
  callcoNurseA2GlassExpired: user({
    role: 'nurse',
    processorId: 'callco',
    agent: 'a2',
    contracts: [callcoContract],
    breakGlass: [{ id: 'bg-0', controllerId: 'region-a', expiresAt: '2026-06-15T11:00:00Z' }],
  }),
  callcoSupervisorT1: user({ role: 'supervisor', processorId: 'callco', agent: 's1', teamAgents: ['a1', 'a2'], contracts: [callcoContract] }),
  callcoDpo: user({ role: 'dpo', processorId: 'callco', contracts: [callcoContract] }),
  oldcoNurseA1: user({ role: 'nurse', processorId: 'oldco', agent: 'a1', contracts: [endedContract] }),
  newcoNurseA1: user({ role: 'nurse', processorId: 'newco', agent: 'a1', contracts: [futureContract] }),
  privcoDpo: user({ role: 'dpo', processorId: 'privco', contracts: [dpoOnlyContract] }),
  pendcoNurseA1: user({ role: 'nurse', processorId: 'pendco', agent: 'a1', contracts: [unapprovedContract] }),
  // a contract of another processor must not count for this user
  callcoNurseWithForeignContract: user({ role: 'nurse', processorId: 'callco', agent: 'a1', contracts: [{ ...callcoContract, processorId: 'other' }] }),
  staffDpoA: user({ role: 'dpo', controllerId: 'region-a' }),
  staffNurseB1: user({ role: 'nurse', controllerId: 'region-b', agent: 'b1' }),
  nurseWithoutAgent: user({ role: 'nurse', controllerId: 'region-a' }),
  auditor: user({ role: 'auditor', controllerId: 'region-a' }),
  admin: user({ role: 'admin' }),
  ingestA: { kind: 'token', tokenId: 't1', scope: 'ingest', controllerId: 'region-a', regions: null, agents: null },
  // limited when it was made: the north region's calls of agent a1 only
  ingestANorthA1: { kind: 'token', tokenId: 't2', scope: 'ingest', controllerId: 'region-a', regions: ['north'], agents: ['a1'] },
  ingestANorth: { kind: 'token', tokenId: 't3', scope: 'ingest', controllerId: 'region-a', regions: ['north'], agents: null },
  ingestAAgentA2: { kind: 'token', tokenId: 't4', scope: 'ingest', controllerId: 'region-a', regions: null, agents: ['a2'] },
};

const R: Record<string, RecordingFacts> = {
  northA1: { controllerId: 'region-a', region: 'north', agent: 'a1' },
  northA2: { controllerId: 'region-a', region: 'north', agent: 'a2' },
  southA1: { controllerId: 'region-a', region: 'south', agent: 'a1' },
  noRegionA1: { controllerId: 'region-a', region: null, agent: 'a1' },
  noAgent: { controllerId: 'region-a', region: 'north', agent: null },
  northB1: { controllerId: 'region-b', region: 'north', agent: 'b1' },
};

type Row = [
  principal: string,
  action: 'recording:view' | 'recording:play' | 'recording:unredacted' | 'recording:export' | 'recording:ingest',
  recording: string,
  expected: 'allow' | 'glass' | 'role' | 'scope' | 'contract' | 'token-scope' | 'token-limits',
];

const TABLE: Row[] = [
  // a controller's own nurse: the calls they handled, in every region
  ['staffNurseA1', 'recording:play', 'northA1', 'allow'],
  ['staffNurseA1', 'recording:play', 'southA1', 'allow'],
  ['staffNurseA1', 'recording:play', 'noRegionA1', 'allow'],
  ['staffNurseA1', 'recording:play', 'northA2', 'scope'],
  ['staffNurseA1', 'recording:play', 'noAgent', 'scope'],
  ['staffNurseA1', 'recording:play', 'northB1', 'scope'],
  ['staffNurseA1', 'recording:view', 'northA1', 'allow'],
  ['staffNurseA1', 'recording:export', 'northA1', 'role'],
  ['nurseWithoutAgent', 'recording:play', 'northA1', 'scope'],
  // a processor's nurse: own calls, inside the contract's regions
  ['callcoNurseA2', 'recording:play', 'northA2', 'allow'],
  ['callcoNurseA2', 'recording:play', 'northA1', 'scope'],
  ['callcoNurseA2', 'recording:play', 'northB1', 'scope'],
  ['callcoNurseWithForeignContract', 'recording:play', 'northA1', 'contract'],
  // break-the-glass widens to every agent, never beyond the contract's regions or controllers
  ['callcoNurseA2Glass', 'recording:play', 'northA2', 'allow'],
  ['callcoNurseA2Glass', 'recording:play', 'northA1', 'glass'],
  ['callcoNurseA2Glass', 'recording:play', 'noAgent', 'glass'],
  ['callcoNurseA2Glass', 'recording:play', 'southA1', 'scope'],
  ['callcoNurseA2Glass', 'recording:play', 'northB1', 'scope'],
  ['callcoNurseA2Glass', 'recording:export', 'northA1', 'role'],
  ['callcoNurseA2GlassExpired', 'recording:play', 'northA1', 'scope'],
  // a supervisor: the team's calls within the contract's regions
  ['callcoSupervisorT1', 'recording:play', 'northA1', 'allow'],
  ['callcoSupervisorT1', 'recording:play', 'northA2', 'allow'],
  ['callcoSupervisorT1', 'recording:play', 'southA1', 'scope'],
  ['callcoSupervisorT1', 'recording:play', 'noAgent', 'scope'],
  ['callcoSupervisorT1', 'recording:export', 'northA1', 'role'],
  // the contract names roles: callco's DPO is not covered by a nurse/supervisor contract
  ['callcoDpo', 'recording:view', 'northA1', 'contract'],
  ['privcoDpo', 'recording:export', 'southA1', 'allow'],
  ['privcoDpo', 'recording:export', 'northB1', 'scope'],
  // ended and not yet started contracts give nothing
  ['oldcoNurseA1', 'recording:play', 'northA1', 'contract'],
  ['newcoNurseA1', 'recording:play', 'northA1', 'contract'],
  // a contract the controller has not approved gives nothing either
  ['pendcoNurseA1', 'recording:play', 'northA1', 'contract'],
  // the controller's privacy officer: every call of the controller, export included
  ['staffDpoA', 'recording:export', 'southA1', 'allow'],
  ['staffDpoA', 'recording:play', 'noAgent', 'allow'],
  ['staffDpoA', 'recording:play', 'northB1', 'scope'],
  // a foreign tenant
  ['staffNurseB1', 'recording:play', 'northA1', 'scope'],
  ['staffNurseB1', 'recording:play', 'northB1', 'allow'],
  // auditors and administrators never reach recordings
  ['auditor', 'recording:view', 'northA1', 'role'],
  ['auditor', 'recording:play', 'northA1', 'role'],
  ['admin', 'recording:view', 'northA1', 'role'],
  ['admin', 'recording:play', 'northA1', 'role'],
  ['admin', 'recording:export', 'northA1', 'role'],
  // the original, with identifiers: a nurse for her own calls and a privacy officer; never a supervisor
  ['staffNurseA1', 'recording:unredacted', 'northA1', 'allow'],
  ['callcoSupervisorT1', 'recording:unredacted', 'northA1', 'role'],
  ['staffNurseA1', 'recording:unredacted', 'northA2', 'scope'],
  ['staffDpoA', 'recording:unredacted', 'northA2', 'allow'],
  ['staffDpoA', 'recording:unredacted', 'northB1', 'scope'],
  ['auditor', 'recording:unredacted', 'northA1', 'role'],
  ['admin', 'recording:unredacted', 'northA1', 'role'],
  // an ingest token uploads and does nothing else
  ['ingestA', 'recording:ingest', 'northA1', 'allow'],
  ['ingestA', 'recording:ingest', 'southA1', 'allow'],
  ['ingestA', 'recording:ingest', 'noRegionA1', 'allow'],
  ['ingestA', 'recording:ingest', 'noAgent', 'allow'],
  ['ingestA', 'recording:ingest', 'northB1', 'scope'],
  ['ingestA', 'recording:view', 'northA1', 'token-scope'],
  ['ingestA', 'recording:play', 'northA1', 'token-scope'],
  // a token limited to regions and agents: their calls only, and a call naming none is refused
  ['ingestANorthA1', 'recording:ingest', 'northA1', 'allow'],
  ['ingestANorthA1', 'recording:ingest', 'northA2', 'token-limits'],
  ['ingestANorthA1', 'recording:ingest', 'southA1', 'token-limits'],
  ['ingestANorthA1', 'recording:ingest', 'noRegionA1', 'token-limits'],
  ['ingestANorthA1', 'recording:ingest', 'noAgent', 'token-limits'],
  ['ingestANorthA1', 'recording:ingest', 'northB1', 'scope'],
  ['ingestANorthA1', 'recording:view', 'northA1', 'token-scope'],
  ['ingestANorth', 'recording:ingest', 'northA2', 'allow'],
  ['ingestANorth', 'recording:ingest', 'noAgent', 'allow'],
  ['ingestANorth', 'recording:ingest', 'southA1', 'token-limits'],
  ['ingestANorth', 'recording:ingest', 'noRegionA1', 'token-limits'],
  ['ingestAAgentA2', 'recording:ingest', 'northA2', 'allow'],
  ['ingestAAgentA2', 'recording:ingest', 'northA1', 'token-limits'],
  ['ingestAAgentA2', 'recording:ingest', 'noAgent', 'token-limits'],
  ['staffNurseA1', 'recording:ingest', 'northA1', 'role'],
];

for (const [who, action, rec, expected] of TABLE) {
  test(`${who} ${action} ${rec} → ${expected}`, () => {
    const d = decide(P[who]!, action, R[rec]!, NOW);
    const got = d.allowed ? (d.breakGlassId ? 'glass' : 'allow') : d.reason;
    assert.equal(got, expected);
  });
}

test('every role has exactly the permissions the brief gives it', () => {
  assert.deepEqual(ROLE_PERMISSIONS, {
    nurse: ['recordings:list', 'recording:view', 'recording:play', 'recording:unredacted', 'break-glass:start'],
    supervisor: ['recordings:list', 'recording:view', 'recording:play', 'break-glass:start'],
    dpo: [
      'recordings:list',
      'recording:view',
      'recording:play',
      'recording:unredacted',
      'recording:export',
      'break-glass:list',
      'break-glass:review',
      'subject:access-log',
      'subject:find',
      'subject:export',
      'subject:erase',
      'subject:protect',
      'breach:report',
      'accounts:approve',
      'retention:manage',
      'alerts:read',
      'alerts:resolve',
      'alerts:manage',
    ],
    auditor: ['audit:read', 'audit:review', 'break-glass:list', 'subject:access-log', 'keys:read', 'alerts:read', 'alerts:resolve', 'alerts:manage'],
    admin: ['users:manage', 'tokens:manage', 'tenancy:manage', 'keys:read'],
  });
});

test('permissionsOf lists what the role or token scope allows, sorted, and nothing else', () => {
  for (const [role, actions] of Object.entries(ROLE_PERMISSIONS)) {
    const user = { kind: 'user', userId: 'u', role, controllerId: 'region-a', processorId: null, agent: null, teamAgents: [], contracts: [], breakGlass: [] } as UserPrincipal;
    assert.deepEqual(permissionsOf(user), [...actions].sort(), role);
  }
  assert.deepEqual(permissionsOf({ kind: 'token', tokenId: 't', scope: 'ingest', controllerId: 'region-a', regions: null, agents: null }), ['recording:ingest']);
  assert.deepEqual(permissionsOf(P.ingestANorthA1!), ['recording:ingest'], 'limits narrow where, not what');
});

test('list scopes follow the same rules: contract regions, own agent, break-the-glass flagged', () => {
  assert.deepEqual(recordingScopes(P.callcoNurseA2Glass!, 'recordings:list', NOW), [
    { controllerId: 'region-a', regions: ['north'], agents: ['a2'] },
    { controllerId: 'region-a', regions: ['north'], agents: null, breakGlassId: 'bg-1' },
  ]);
  assert.deepEqual(recordingScopes(P.oldcoNurseA1!, 'recordings:list', NOW), []);
  assert.deepEqual(recordingScopes(P.admin!, 'recordings:list', NOW), []);
  assert.deepEqual(recordingScopes(P.staffDpoA!, 'recordings:list', NOW), [{ controllerId: 'region-a', regions: null, agents: null }]);
});

test('break-the-glass can be started only for a controller already reached, by nurses and supervisors', () => {
  assert.equal(mayBreakGlass(P.callcoNurseA2 as UserPrincipal, 'region-a', NOW), true);
  assert.equal(mayBreakGlass(P.callcoNurseA2 as UserPrincipal, 'region-b', NOW), false);
  assert.equal(mayBreakGlass(P.oldcoNurseA1 as UserPrincipal, 'region-a', NOW), false);
  assert.equal(mayBreakGlass(P.staffDpoA as UserPrincipal, 'region-a', NOW), false);
  assert.equal(mayBreakGlass(P.admin as UserPrincipal, 'region-a', NOW), false);
});
