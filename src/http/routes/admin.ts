/**
 * Administration for the `admin` role: users, machine tokens, controllers, processors and
 * contracts, the same as `callvault users|tokens|controllers|processors|contracts`
 * (src/services/administration.ts), and the second person's approvals. An administrator never
 * sees anyone's password or authenticator secret: a new or reset account answers with a
 * single-use enrolment code to hand over. Machine tokens appear once, in the answer that made them.
 */
import type { FastifyInstance } from 'fastify';
import { ROLES } from '../../identities/roles.js';
import { MAX_LIMIT_NAME, MAX_TOKEN_DAYS, MAX_TOKEN_LIMITS } from '../../identities/tokens.js';
import { APPROVALS, TOKEN_SCOPES, type Approval } from '../../services/vocabulary.js';
import { CONTRACT_ROLES } from '../../tenancy/tenancy.js';
import { requestActor } from '../auth.js';
import { ErrorBody, Security, Type, typed } from '../contract.js';
import { errorResponses } from '../schemas.js';

/** a string from a fixed list, as a plain JSON-schema `enum`, typed as the list's union */
function stringEnum<T extends string>(values: readonly T[]) {
  return Type.Unsafe<T>({ type: 'string', enum: [...values] });
}

const NullableString = Type.Union([Type.String(), Type.Null()]);
const OrgId = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' });
const IdParam = Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' }) }, { additionalProperties: false });
const conflict = { 409: ErrorBody };

const UserView = Type.Object({
  id: Type.String(),
  username: Type.String(),
  role: Type.String(),
  controllerId: NullableString,
  processorId: NullableString,
  agent: NullableString,
  team: NullableString,
  totpEnrolled: Type.Boolean(),
  disabled: Type.Boolean(),
  locked: Type.Boolean(),
  oidcIssuer: NullableString,
  createdAt: Type.String(),
  approval: stringEnum(APPROVALS),
  approvalRequest: NullableString,
});

const ApprovalField = { approval: Type.Unsafe<Approval>({ type: 'string', enum: [...APPROVALS], description: 'pending: usable for nothing until a second person approves' }) };

const AccountRequest = Type.Object({
  id: Type.String(),
  username: Type.String(),
  role: stringEnum(ROLES),
  ...ApprovalField,
  enrolment: Type.Union(
    [
      Type.Object({
        code: Type.String({ description: 'single-use, shown once: hand it to the person, who sets their password and authenticator with it (POST /auth/enrol)' }),
        expiresAt: Type.String(),
      }),
      Type.Null(),
    ],
    { description: 'null for an OpenID account, which signs in at its provider' },
  ),
});

const TokenView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  scope: Type.String(),
  controllerId: Type.String(),
  createdAt: Type.String(),
  expiresAt: Type.String(),
  revokedAt: NullableString,
  lastUsedAt: NullableString,
  regions: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'the regions it may store calls of; null: every region of its controller' }),
  agents: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'the agents it may store calls of; null: every agent' }),
});

/** the regions or agents a new token is limited to */
const TokenLimit = (what: string) =>
  Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: MAX_LIMIT_NAME, pattern: '^[^,]+$' }), {
      maxItems: MAX_TOKEN_LIMITS,
      description: `an upload must name one of these ${what}; absent or empty: any`,
    }),
  );

const ContractView = Type.Object({
  id: Type.String(),
  processorId: Type.String(),
  controllerId: Type.String(),
  roles: Type.Array(Type.String()),
  regions: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'null: every region of the controller' }),
  validFrom: Type.String(),
  validTo: Type.String(),
  ...ApprovalField,
});

const Organisation = Type.Object({ id: Type.String(), name: Type.String(), createdAt: Type.String() });
const NewOrganisation = Type.Object({ id: OrgId, name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });

export async function registerAdminRoutes(api: FastifyInstance): Promise<void> {
  const { administration } = api.services;
  const route = typed(api);

  // ---- users
  route.get('/users', {
    schema: {
      tags: ['admin'],
      operationId: 'listUsers',
      security: Security.session,
      summary: 'Every account',
      response: { 200: Type.Object({ users: Type.Array(UserView) }), ...errorResponses },
    },
    handler: async (req) => ({ users: await administration.listUsers(requestActor(req)) }),
  });

  route.post('/users', {
    schema: {
      tags: ['admin'],
      operationId: 'createUser',
      security: Security.session,
      summary:
        "Create an account; the answer holds a single-use enrolment code for the person (never a password). One that can reach recordings waits for the controller's approval",
      body: Type.Object(
        {
          username: Type.String({ minLength: 2, maxLength: 64 }),
          role: stringEnum(ROLES),
          controllerId: Type.Optional(OrgId),
          processorId: Type.Optional(OrgId),
          agent: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
          team: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
          oidcIssuer: Type.Optional(Type.String({ format: 'uri', maxLength: 500 })),
          oidcSubject: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
        },
        { additionalProperties: false },
      ),
      response: { 201: AccountRequest, ...conflict, ...errorResponses },
    },
    handler: async (req, reply) => {
      const { oidcIssuer, oidcSubject, ...b } = req.body;
      // an issuer without a subject is refused by the service (an OpenID account needs both)
      const created = await administration.createUser(requestActor(req), { ...b, oidc: oidcIssuer ? { issuer: oidcIssuer, subject: oidcSubject ?? '' } : undefined });
      return reply.code(201).send(created);
    },
  });

  route.post('/users/:id/reset', {
    schema: {
      tags: ['admin'],
      operationId: 'resetUser',
      security: Security.session,
      summary: 'Replace every credential of the account by a new enrolment code; every session ends. One that can reach recordings waits for approval again',
      params: IdParam,
      response: { 200: AccountRequest, ...errorResponses },
    },
    handler: async (req) => administration.resetUser(requestActor(req), { id: req.params.id }),
  });

  route.patch('/users/:id', {
    schema: {
      tags: ['admin'],
      operationId: 'editUser',
      security: Security.session,
      summary:
        "Set a member of staff's own personnummer and phone number (stored as keyed digests only) and working hours, for the insider-misuse alerts; hours null removes them. Needs no second approval: it widens nothing",
      params: IdParam,
      body: Type.Object(
        {
          personnummer: Type.Optional(Type.String({ maxLength: 20 })),
          phone: Type.Optional(Type.String({ maxLength: 40 })),
          hours: Type.Optional(
            Type.Union([
              Type.String({ pattern: '^\\d{2}:\\d{2}-\\d{2}:\\d{2}$', description: 'HH:MM-HH:MM (Europe/Stockholm); an end before the start spans midnight' }),
              Type.Null(),
            ]),
          ),
          clearIdentifiers: Type.Optional(Type.Boolean({ description: 'remove the stored personnummer and phone number first' })),
        },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({
          id: Type.String(),
          username: Type.String(),
          workHours: NullableString,
          identifiers: Type.Object({ personnummer: Type.Boolean(), phone: Type.Boolean() }, { description: 'which are stored (as digests), never their values' }),
        }),
        ...errorResponses,
      },
    },
    handler: async (req) => administration.editUser(requestActor(req), { id: req.params.id }, req.body),
  });

  for (const [path, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    route.post(`/users/:id/${path}`, {
      schema: {
        tags: ['admin'],
        operationId: disabled ? 'disableUser' : 'enableUser',
        security: Security.session,
        summary: disabled ? 'Disable an account and end its sessions' : 'Enable an account again (one that can reach recordings waits for approval)',
        params: IdParam,
        response: { 200: UserView, ...errorResponses },
      },
      handler: async (req) => administration.setUserDisabled(requestActor(req), { id: req.params.id }, disabled),
    });
  }

  // ---- the second pair of eyes: the controller's privacy officer
  route.get('/approvals', {
    schema: {
      tags: ['admin'],
      operationId: 'listPendingApprovals',
      security: Security.session,
      summary: "Accounts and contracts an administrator asked for that wait for the caller's approval",
      response: { 200: Type.Object({ users: Type.Array(UserView), contracts: Type.Array(ContractView) }), ...errorResponses },
    },
    handler: async (req) => administration.pendingApprovals(requestActor(req)),
  });

  for (const decision of ['approve', 'refuse'] as const) {
    route.post(`/users/:id/${decision}`, {
      schema: {
        tags: ['admin'],
        operationId: decision === 'approve' ? 'approveUser' : 'refuseUser',
        security: Security.session,
        summary: decision === 'approve' ? 'Approve what waits for approval on an account' : 'Refuse it: the account can do nothing until an administrator asks again',
        params: IdParam,
        response: { 200: UserView, ...conflict, ...errorResponses },
      },
      handler: async (req) => administration.decideUser(requestActor(req), { id: req.params.id }, decision),
    });
    route.post(`/contracts/:id/${decision}`, {
      schema: {
        tags: ['tenancy'],
        operationId: decision === 'approve' ? 'approveContract' : 'refuseContract',
        security: Security.session,
        summary: decision === 'approve' ? 'Approve a contract with your controller: it reaches recordings from its start' : 'Refuse a contract: it never reaches anything',
        params: IdParam,
        response: { 200: ContractView, ...conflict, ...errorResponses },
      },
      handler: async (req) => administration.decideContract(requestActor(req), req.params.id, decision),
    });
  }

  // ---- tokens
  route.get('/tokens', {
    schema: {
      tags: ['admin'],
      operationId: 'listTokens',
      security: Security.session,
      summary: 'Machine tokens (never their secrets)',
      response: { 200: Type.Object({ tokens: Type.Array(TokenView) }), ...errorResponses },
    },
    handler: async (req) => ({ tokens: await administration.listTokens(requestActor(req)) }),
  });

  route.post('/tokens', {
    schema: {
      tags: ['admin'],
      operationId: 'createToken',
      security: Security.session,
      summary: 'Create a machine token; the answer holds the token, shown once',
      body: Type.Object(
        {
          name: Type.String({ minLength: 1, maxLength: 100 }),
          scope: stringEnum(TOKEN_SCOPES),
          controllerId: OrgId,
          days: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TOKEN_DAYS })),
          regions: TokenLimit('regions'),
          agents: TokenLimit('agents'),
        },
        { additionalProperties: false },
      ),
      response: { 201: Type.Object({ id: Type.String(), token: Type.String({ description: 'shown once' }), expiresAt: Type.String() }), ...errorResponses },
    },
    handler: async (req, reply) => {
      const b = req.body;
      const created = await administration.createToken(requestActor(req), {
        name: b.name,
        scope: b.scope,
        controllerId: b.controllerId,
        days: b.days ?? 90,
        regions: b.regions,
        agents: b.agents,
      });
      return reply.code(201).send(created);
    },
  });

  route.delete('/tokens/:id', {
    schema: {
      tags: ['admin'],
      operationId: 'revokeToken',
      security: Security.session,
      summary: 'Revoke a machine token at once',
      params: IdParam,
      response: { 204: Type.Null(), ...errorResponses },
    },
    handler: async (req, reply) => {
      await administration.revokeToken(requestActor(req), req.params.id);
      return reply.code(204).send(null);
    },
  });

  // ---- controllers and processors
  route.get('/controllers', {
    schema: {
      tags: ['tenancy'],
      operationId: 'listControllers',
      security: Security.session,
      summary: 'Controllers',
      response: { 200: Type.Object({ controllers: Type.Array(Organisation) }), ...errorResponses },
    },
    handler: async (req) => ({ controllers: await administration.listControllers(requestActor(req)) }),
  });

  route.post('/controllers', {
    schema: {
      tags: ['tenancy'],
      operationId: 'createController',
      security: Security.session,
      summary: 'Add a controller with its own key pair',
      body: NewOrganisation,
      response: { 201: Type.Object({ id: Type.String(), name: Type.String(), keyId: Type.String() }), ...conflict, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(await administration.createController(requestActor(req), req.body)),
  });

  route.get('/processors', {
    schema: {
      tags: ['tenancy'],
      operationId: 'listProcessors',
      security: Security.session,
      summary: 'Processors',
      response: { 200: Type.Object({ processors: Type.Array(Organisation) }), ...errorResponses },
    },
    handler: async (req) => ({ processors: await administration.listProcessors(requestActor(req)) }),
  });

  route.post('/processors', {
    schema: {
      tags: ['tenancy'],
      operationId: 'createProcessor',
      security: Security.session,
      summary: 'Add a processor (a call-centre company)',
      body: NewOrganisation,
      response: { 201: Type.Object({ id: Type.String(), name: Type.String() }), ...conflict, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(await administration.createProcessor(requestActor(req), req.body)),
  });

  // ---- contracts
  route.get('/contracts', {
    schema: {
      tags: ['tenancy'],
      operationId: 'listContracts',
      security: Security.session,
      summary: 'Contracts, in force or not',
      response: { 200: Type.Object({ contracts: Type.Array(ContractView) }), ...errorResponses },
    },
    handler: async (req) => ({ contracts: await administration.listContracts(requestActor(req)) }),
  });

  route.post('/contracts', {
    schema: {
      tags: ['tenancy'],
      operationId: 'createContract',
      security: Security.session,
      summary: "A contract: which processor reaches which controller's calls, in which roles and regions, from when to when",
      body: Type.Object(
        {
          processorId: OrgId,
          controllerId: OrgId,
          roles: Type.Array(stringEnum(CONTRACT_ROLES), { minItems: 1, maxItems: 3 }),
          regions: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 100 })),
          validFrom: Type.String({ format: 'date-time' }),
          validTo: Type.String({ format: 'date-time' }),
        },
        { additionalProperties: false },
      ),
      response: { 201: ContractView, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(await administration.createContract(requestActor(req), req.body)),
  });

  route.post('/contracts/:id/end', {
    schema: {
      tags: ['tenancy'],
      operationId: 'endContract',
      security: Security.session,
      summary: 'End a contract now: its access ends with it',
      params: IdParam,
      response: { 200: ContractView, ...errorResponses },
    },
    handler: async (req) => administration.endContract(requestActor(req), req.params.id),
  });
}
