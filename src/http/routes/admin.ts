/**
 * Administration for the `admin` role: users, machine tokens, controllers, processors and
 * contracts. Secrets (one-time passwords, TOTP secrets, tokens) appear once, in the answer that
 * created them; every change is audited.
 */
import type { FastifyInstance } from 'fastify';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import { ROLES, type Role } from '../../identities/roles.js';
import { createUser, resetCredentials } from '../../identities/users.js';
import { createToken, MAX_TOKEN_DAYS } from '../../identities/tokens.js';
import { TOKEN_SCOPES, type TokenScope } from '../../policy/policy.js';
import { addContract, addController, addProcessor, CONTRACT_ROLES } from '../../tenancy/tenancy.js';
import type { User } from '../../db/users-repository.js';
import { contractTerms, type ContractRow } from '../../db/tenancy-repository.js';
import type { ApiTokenRow } from '../../db/sessions-repository.js';
import { audit, authorize } from '../auth.js';
import { errorResponses, errorSchema, uuidParam } from '../schemas.js';

const nullable = { type: ['string', 'null'] } as const;
const orgId = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' } as const;
const conflict = { 409: errorSchema };

const userSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    username: { type: 'string' },
    role: { type: 'string' },
    controllerId: nullable,
    processorId: nullable,
    agent: nullable,
    team: nullable,
    totpEnrolled: { type: 'boolean' },
    disabled: { type: 'boolean' },
    locked: { type: 'boolean' },
    oidcIssuer: nullable,
    createdAt: { type: 'string' },
  },
} as const;

const credentialsSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, username: { type: 'string' }, password: { type: 'string' }, totpSecret: { type: 'string' }, totpUri: { type: 'string' } },
} as const;

const tokenSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    scope: { type: 'string' },
    controllerId: { type: 'string' },
    createdAt: { type: 'string' },
    expiresAt: { type: 'string' },
    revokedAt: nullable,
    lastUsedAt: nullable,
  },
} as const;

const contractSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    processorId: { type: 'string' },
    controllerId: { type: 'string' },
    roles: { type: 'array', items: { type: 'string' } },
    regions: { type: ['array', 'null'], items: { type: 'string' } },
    validFrom: { type: 'string' },
    validTo: { type: 'string' },
  },
} as const;

const orgSchema = { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, createdAt: { type: 'string' }, keyId: { type: 'string' } } } as const;

export function userView(u: User) {
  return {
    id: u.id,
    username: u.username,
    role: u.role,
    controllerId: u.controller_id,
    processorId: u.processor_id,
    agent: u.agent,
    team: u.team,
    totpEnrolled: u.totp_enrolled === 1,
    disabled: u.disabled === 1,
    locked: u.locked_until !== null && u.locked_until > new Date().toISOString(),
    oidcIssuer: u.oidc_issuer,
    createdAt: u.created_at,
  };
}

export function tokenView(t: ApiTokenRow) {
  return { id: t.id, name: t.name, scope: t.scope, controllerId: t.controller_id, createdAt: t.created_at, expiresAt: t.expires_at, revokedAt: t.revoked_at, lastUsedAt: t.last_used_at };
}

/** a contract as the API and CLI show it: the policy's own view of its terms */
export function contractView(c: ContractRow) {
  return contractTerms(c);
}

export async function registerAdminRoutes(api: FastifyInstance): Promise<void> {
  const vault = api.vault;

  // ---- users
  api.get('/users', {
    schema: { tags: ['admin'], summary: 'Every account', response: { 200: { type: 'object', properties: { users: { type: 'array', items: userSchema } } }, ...errorResponses } },
    handler: async (req) => {
      await authorize(req, 'users:manage', 'user.list');
      const users = await vault.users.list();
      await audit(req, { action: 'user.list', outcome: 'success' });
      return { users: users.map(userView) };
    },
  });

  api.post('/users', {
    schema: {
      tags: ['admin'],
      summary: 'Create an account; the answer holds its one-time password and TOTP secret, shown once',
      body: {
        type: 'object',
        properties: {
          username: { type: 'string', minLength: 2, maxLength: 64 },
          role: { type: 'string', enum: [...ROLES] },
          controllerId: orgId,
          processorId: orgId,
          agent: { type: 'string', minLength: 1, maxLength: 100 },
          team: { type: 'string', minLength: 1, maxLength: 100 },
          oidcIssuer: { type: 'string', format: 'uri', maxLength: 500 },
          oidcSubject: { type: 'string', minLength: 1, maxLength: 255 },
        },
        required: ['username', 'role'],
        additionalProperties: false,
      },
      response: { 201: credentialsSchema, ...conflict, ...errorResponses },
    },
    handler: async (req, reply) => {
      await authorize(req, 'users:manage', 'user.create');
      const b = req.body as { username: string; role: Role; controllerId?: string; processorId?: string; agent?: string; team?: string; oidcIssuer?: string; oidcSubject?: string };
      const created = await createUser(vault, {
        username: b.username,
        role: b.role,
        controllerId: b.controllerId,
        processorId: b.processorId,
        agent: b.agent,
        team: b.team,
        oidc: b.oidcIssuer ? { issuer: b.oidcIssuer, subject: b.oidcSubject! } : undefined,
      });
      await audit(req, { action: 'user.create', outcome: 'success', detail: { userId: created.id, role: b.role, controllerId: b.controllerId ?? null, processorId: b.processorId ?? null } });
      return reply.code(201).send(created);
    },
  });

  api.post('/users/:id/reset', {
    schema: { tags: ['admin'], summary: 'New one-time password and TOTP secret; every session of the account ends', params: uuidParam, response: { 200: credentialsSchema, ...errorResponses } },
    handler: async (req) => {
      await authorize(req, 'users:manage', 'user.reset');
      const user = await vault.users.get((req.params as { id: string }).id);
      if (!user) throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such user');
      const credentials = await resetCredentials(vault, user);
      await audit(req, { action: 'user.reset', outcome: 'success', detail: { userId: user.id } });
      return credentials;
    },
  });

  for (const [path, disabled] of [['disable', 1], ['enable', 0]] as const) {
    api.post(`/users/:id/${path}`, {
      schema: { tags: ['admin'], summary: disabled ? 'Disable an account and end its sessions' : 'Enable an account again', params: uuidParam, response: { 200: userSchema, ...errorResponses } },
      handler: async (req) => {
        await authorize(req, 'users:manage', `user.${path}`);
        const user = await vault.users.get((req.params as { id: string }).id);
        if (!user) throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such user');
        if (req.auth?.kind === 'user' && req.auth.user.id === user.id) throw new CallvaultError(ErrorCodes.FORBIDDEN, 'you cannot disable your own account');
        await vault.users.update(user.id, { disabled, failed_signins: 0, locked_until: null });
        if (disabled) await vault.sessions.revokeAllOf(user.id, new Date().toISOString());
        await audit(req, { action: `user.${path}`, outcome: 'success', detail: { userId: user.id } });
        return userView((await vault.users.get(user.id))!);
      },
    });
  }

  // ---- tokens
  api.get('/tokens', {
    schema: { tags: ['admin'], summary: 'Machine tokens (never their secrets)', response: { 200: { type: 'object', properties: { tokens: { type: 'array', items: tokenSchema } } }, ...errorResponses } },
    handler: async (req) => {
      await authorize(req, 'tokens:manage', 'token.list');
      const tokens = await vault.sessions.tokens();
      await audit(req, { action: 'token.list', outcome: 'success' });
      return { tokens: tokens.map(tokenView) };
    },
  });

  api.post('/tokens', {
    schema: {
      tags: ['admin'],
      summary: 'Create a machine token; the answer holds the token, shown once',
      body: {
        type: 'object',
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 100 },
          scope: { type: 'string', enum: [...TOKEN_SCOPES] },
          controllerId: orgId,
          days: { type: 'integer', minimum: 1, maximum: MAX_TOKEN_DAYS },
        },
        required: ['name', 'scope', 'controllerId'],
        additionalProperties: false,
      },
      response: { 201: { type: 'object', properties: { id: { type: 'string' }, token: { type: 'string' }, expiresAt: { type: 'string' } } }, ...errorResponses },
    },
    handler: async (req, reply) => {
      await authorize(req, 'tokens:manage', 'token.create');
      const b = req.body as { name: string; scope: TokenScope; controllerId: string; days?: number };
      const created = await createToken(vault, { name: b.name, scope: b.scope, controllerId: b.controllerId, days: b.days ?? 90 });
      await audit(req, { action: 'token.create', outcome: 'success', controllerId: b.controllerId, detail: { tokenId: created.id, scope: b.scope, expiresAt: created.expiresAt } });
      return reply.code(201).send(created);
    },
  });

  api.delete('/tokens/:id', {
    schema: { tags: ['admin'], summary: 'Revoke a machine token at once', params: uuidParam, response: { 204: { type: 'null' }, ...errorResponses } },
    handler: async (req, reply) => {
      await authorize(req, 'tokens:manage', 'token.revoke');
      const { id } = req.params as { id: string };
      if (!(await vault.sessions.revokeToken(id, new Date().toISOString()))) throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such live token');
      await audit(req, { action: 'token.revoke', outcome: 'success', detail: { tokenId: id } });
      return reply.code(204).send();
    },
  });

  // ---- controllers and processors
  api.get('/controllers', {
    schema: { tags: ['tenancy'], summary: 'Controllers', response: { 200: { type: 'object', properties: { controllers: { type: 'array', items: orgSchema } } }, ...errorResponses } },
    handler: async (req) => {
      await authorize(req, 'tenancy:manage', 'controller.list');
      const list = await vault.controllers.list();
      await audit(req, { action: 'controller.list', outcome: 'success', detail: { results: list.length } });
      return { controllers: list.map((c) => ({ id: c.id, name: c.name, createdAt: c.created_at })) };
    },
  });

  api.post('/controllers', {
    schema: {
      tags: ['tenancy'],
      summary: 'Add a controller with its own key pair',
      body: { type: 'object', properties: { id: orgId, name: { type: 'string', minLength: 1, maxLength: 200 } }, required: ['id', 'name'], additionalProperties: false },
      response: { 201: orgSchema, ...conflict, ...errorResponses },
    },
    handler: async (req, reply) => {
      await authorize(req, 'tenancy:manage', 'controller.create');
      const b = req.body as { id: string; name: string };
      const created = await addController(vault, b.id, b.name);
      await audit(req, { action: 'controller.create', outcome: 'success', controllerId: b.id, detail: { keyId: created.keyId } });
      return reply.code(201).send({ ...created, name: b.name });
    },
  });

  api.get('/processors', {
    schema: { tags: ['tenancy'], summary: 'Processors', response: { 200: { type: 'object', properties: { processors: { type: 'array', items: orgSchema } } }, ...errorResponses } },
    handler: async (req) => {
      await authorize(req, 'tenancy:manage', 'processor.list');
      const list = await vault.tenancy.processors();
      await audit(req, { action: 'processor.list', outcome: 'success', detail: { results: list.length } });
      return { processors: list.map((p) => ({ id: p.id, name: p.name, createdAt: p.created_at })) };
    },
  });

  api.post('/processors', {
    schema: {
      tags: ['tenancy'],
      summary: 'Add a processor (a call-centre company)',
      body: { type: 'object', properties: { id: orgId, name: { type: 'string', minLength: 1, maxLength: 200 } }, required: ['id', 'name'], additionalProperties: false },
      response: { 201: orgSchema, ...conflict, ...errorResponses },
    },
    handler: async (req, reply) => {
      await authorize(req, 'tenancy:manage', 'processor.create');
      const b = req.body as { id: string; name: string };
      await addProcessor(vault, b.id, b.name);
      await audit(req, { action: 'processor.create', outcome: 'success', detail: { processorId: b.id } });
      return reply.code(201).send({ id: b.id, name: b.name });
    },
  });

  // ---- contracts
  api.get('/contracts', {
    schema: { tags: ['tenancy'], summary: 'Contracts, in force or not', response: { 200: { type: 'object', properties: { contracts: { type: 'array', items: contractSchema } } }, ...errorResponses } },
    handler: async (req) => {
      await authorize(req, 'tenancy:manage', 'contract.list');
      const contracts = await vault.tenancy.contracts();
      await audit(req, { action: 'contract.list', outcome: 'success', detail: { results: contracts.length } });
      return { contracts: contracts.map(contractView) };
    },
  });

  api.post('/contracts', {
    schema: {
      tags: ['tenancy'],
      summary: 'A contract: which processor reaches which controller\'s calls, in which roles and regions, from when to when',
      body: {
        type: 'object',
        properties: {
          processorId: orgId,
          controllerId: orgId,
          roles: { type: 'array', items: { type: 'string', enum: [...CONTRACT_ROLES] }, minItems: 1, maxItems: 3 },
          regions: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 100 }, maxItems: 100 },
          validFrom: { type: 'string', format: 'date-time' },
          validTo: { type: 'string', format: 'date-time' },
        },
        required: ['processorId', 'controllerId', 'roles', 'validFrom', 'validTo'],
        additionalProperties: false,
      },
      response: { 201: contractSchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      await authorize(req, 'tenancy:manage', 'contract.create');
      const b = req.body as { processorId: string; controllerId: string; roles: string[]; regions?: string[]; validFrom: string; validTo: string };
      const row = await addContract(vault, b);
      await audit(req, { action: 'contract.create', outcome: 'success', controllerId: row.controller_id, detail: { contractId: row.id, processorId: row.processor_id, roles: row.roles, regions: row.regions, validFrom: row.valid_from, validTo: row.valid_to } });
      return reply.code(201).send(contractView(row));
    },
  });

  api.post('/contracts/:id/end', {
    schema: { tags: ['tenancy'], summary: 'End a contract now: its access ends with it', params: uuidParam, response: { 200: contractSchema, ...errorResponses } },
    handler: async (req) => {
      await authorize(req, 'tenancy:manage', 'contract.end');
      const { id } = req.params as { id: string };
      if (!(await vault.tenancy.contract(id))) throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such contract');
      await vault.tenancy.endContract(id, new Date().toISOString());
      await audit(req, { action: 'contract.end', outcome: 'success', detail: { contractId: id } });
      return contractView((await vault.tenancy.contract(id))!);
    },
  });
}
