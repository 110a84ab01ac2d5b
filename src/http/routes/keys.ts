/**
 * Key status, the same as `callvault keys list`: per controller its key pairs (id, created,
 * active or retired, algorithm) and how many stored recordings each holds the data keys of, which
 * provider keeps them and whether this server has them unlocked. Never key material or wrapped keys.
 */
import type { FastifyInstance } from 'fastify';
import { SUITE_NAME } from '../../keys/hpke.js';
import { audit, authorize } from '../auth.js';
import { errorResponses } from '../schemas.js';

export async function registerKeyRoutes(api: FastifyInstance): Promise<void> {
  const vault = api.vault;

  api.get('/keys', {
    schema: {
      tags: ['keys'],
      summary: "Every controller's key pairs: status, algorithm, and how many stored recordings each holds; the provider, and whether this server's keys are unlocked (no key material)",
      response: {
        200: {
          type: 'object',
          properties: {
            /** keyfile: a keyring sealed under the custodian's passphrase; pkcs11: an HSM */
            provider: { type: 'string', enum: ['keyfile', 'pkcs11'] },
            unlocked: { type: 'boolean' },
            controllers: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  id: { type: 'string' },
                  name: { type: 'string' },
                  keys: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: {
                        keyId: { type: 'string' },
                        createdAt: { type: 'string' },
                        status: { type: 'string', enum: ['active', 'retired'] },
                        algorithm: { type: 'string' },
                        recordings: { type: 'integer' },
                      },
                      required: ['keyId', 'createdAt', 'status', 'algorithm', 'recordings'],
                    },
                  },
                },
                required: ['id', 'name', 'keys'],
              },
            },
          },
          required: ['provider', 'unlocked', 'controllers'],
        },
        ...errorResponses,
      },
    },
    handler: async (req) => {
      await authorize(req, 'keys:read', 'keys.read');
      const [controllers, keys, counts] = await Promise.all([vault.controllers.list(), vault.keys.list(), vault.recordings.countByKey('stored')]);
      await audit(req, { action: 'keys.read', outcome: 'success', detail: { controllers: controllers.length, keys: keys.length } });
      return {
        provider: vault.keys.kind,
        unlocked: vault.keys.unlocked,
        controllers: controllers.map((c) => ({
          id: c.id,
          name: c.name,
          keys: keys
            .filter((k) => k.controllerId === c.id)
            .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0))
            .map((k) => ({ keyId: k.keyId, createdAt: k.createdAt, status: k.status, algorithm: SUITE_NAME, recordings: counts.get(k.keyId) ?? 0 })),
        })),
      };
    },
  });
}
