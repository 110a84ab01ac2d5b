/**
 * The audit log for auditors. Issue 4 adds checkpoints, proofs and verification here; this route
 * serves the entries themselves.
 */
import type { FastifyInstance } from 'fastify';
import { audit, authorize } from '../auth.js';
import { errorResponses } from '../schemas.js';

export async function registerAuditRoutes(api: FastifyInstance): Promise<void> {
  api.get('/audit/entries', {
    schema: {
      tags: ['audit'],
      summary: 'Audit entries with from ≤ index < to (at most 1000), as canonical bytes in base64 and parsed',
      querystring: {
        type: 'object',
        properties: { from: { type: 'integer', minimum: 0 }, to: { type: 'integer', minimum: 0 } },
        additionalProperties: false,
      },
      response: {
        200: {
          type: 'object',
          properties: {
            size: { type: 'integer' },
            entries: { type: 'array', items: { type: 'object', properties: { index: { type: 'integer' }, entry: { type: 'string' }, event: { type: 'object', additionalProperties: true } } } },
          },
        },
        ...errorResponses,
      },
    },
    handler: async (req) => {
      await authorize(req, 'audit:read', 'audit.read');
      const size = await api.vault.audit.size();
      const q = req.query as { from?: number; to?: number };
      const to = Math.min(q.to ?? size, size);
      const from = Math.max(0, Math.min(q.from ?? Math.max(0, to - 100), to));
      const entries = await api.vault.audit.entries(from, Math.min(to, from + 1000));
      await audit(req, { action: 'audit.read', outcome: 'success', detail: { from, to } });
      return { size, entries: entries.map((e) => ({ index: e.index, entry: e.entry.toString('base64'), event: JSON.parse(e.entry.toString('utf8')) })) };
    },
  });
}
