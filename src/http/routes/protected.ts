/**
 * Persons marked protected (skyddad identitet, or someone the privacy officer names), the same as
 * `callvault subject protect|unprotect|protected` (src/services/watchlists.ts): any access to a call
 * of theirs raises an alert. For a controller's privacy officer, within the controllers they answer
 * for; the identifiers travel in the body only and are stored as keyed digests.
 */
import type { FastifyInstance } from 'fastify';
import { requestActor } from '../auth.js';
import { ErrorBody, Security, Type, typed } from '../contract.js';
import { errorResponses, uuidParam } from '../schemas.js';

const Protected = Type.Object({
  id: Type.String(),
  reason: Type.String({ description: 'as given, with any identifier in it as its label' }),
  createdAt: Type.String(),
  createdBy: Type.String(),
  released: Type.Boolean(),
  releasedAt: Type.Union([Type.String(), Type.Null()]),
});
const Reason = Type.String({ minLength: 3, maxLength: 1000 });
const IdParam = Type.Object({ id: Type.String({ pattern: uuidParam.properties.id.pattern }) }, { additionalProperties: false });

export async function registerProtectedRoutes(api: FastifyInstance): Promise<void> {
  const { watchlists } = api.services;
  const route = typed(api);

  route.get('/protected', {
    schema: {
      tags: ['subject'],
      operationId: 'listProtected',
      security: Security.session,
      summary: 'The persons marked protected for the controllers you answer for, released ones too (never their identifiers)',
      response: { 200: Type.Object({ protected: Type.Array(Protected) }), ...errorResponses },
    },
    handler: async (req) => ({ protected: await watchlists.protectedList(requestActor(req)) }),
  });

  route.post('/protected', {
    schema: {
      tags: ['subject'],
      operationId: 'protectSubject',
      security: Security.session,
      summary: 'Mark a person protected by personnummer, phone number or both: any access to their calls in the controllers you answer for raises an alert',
      body: Type.Object(
        {
          personnummer: Type.Optional(Type.String({ maxLength: 20 })),
          phone: Type.Optional(Type.String({ maxLength: 40 })),
          reason: Reason,
        },
        { additionalProperties: false },
      ),
      response: { 201: Type.Object({ id: Type.String(), controllers: Type.Array(Type.String()) }), ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(await watchlists.protect(requestActor(req), req.body)),
  });

  route.post('/protected/:id/release', {
    schema: {
      tags: ['subject'],
      operationId: 'releaseProtected',
      security: Security.session,
      summary: "Release a person's protected mark",
      params: IdParam,
      body: Type.Object({ reason: Reason }, { additionalProperties: false }),
      response: { 200: Protected, 409: ErrorBody, ...errorResponses },
    },
    handler: async (req) => watchlists.unprotect(requestActor(req), req.params.id, req.body.reason),
  });
}
