/** Key status, the same as `callvault keys list` (src/services/keys.ts). */
import type { FastifyInstance } from 'fastify';
import { requestActor } from '../auth.js';
import { Security, Type, typed } from '../contract.js';
import { errorResponses } from '../schemas.js';

const KeyStatus = Type.Object({
  provider: Type.String({ description: "keyfile: a keyring sealed under the custodian's passphrase; pkcs11: an HSM" }),
  unlocked: Type.Boolean(),
  controllers: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      keys: Type.Array(
        Type.Object({
          keyId: Type.String(),
          createdAt: Type.String(),
          status: Type.Union([Type.Literal('active'), Type.Literal('retired')]),
          algorithm: Type.String(),
          recordings: Type.Integer(),
        }),
      ),
    }),
  ),
});

export async function registerKeyRoutes(api: FastifyInstance): Promise<void> {
  const { keys } = api.services;

  typed(api).get('/keys', {
    schema: {
      tags: ['keys'],
      operationId: 'getKeyStatus',
      security: Security.session,
      summary:
        "Every controller's key pairs: status, algorithm, and how many stored recordings each holds; the provider, and whether this server's keys are unlocked (no key material)",
      response: { 200: KeyStatus, ...errorResponses },
    },
    handler: async (req) => keys.status(requestActor(req)),
  });
}
