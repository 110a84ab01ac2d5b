/**
 * A data subject's rights for the privacy officer, the same as `callvault subject export|erase`
 * (src/services/subject-rights.ts): the export of the person's recordings and access log
 * (art. 15), and their erasure (art. 17). The identifier is in the body, never in a URL.
 * `POST /subject/find` (src/http/routes/recordings.ts) lists what these act on; the erasure takes
 * the ids the officer saw there and confirms.
 */
import type { FastifyInstance } from 'fastify';
import type { Readable } from 'node:stream';
import { PURPOSE_TEXT_MIN } from '../../services/vocabulary.js';
import { requestActor } from '../auth.js';
import { Security, Type, typed } from '../contract.js';
import { errorResponses, errorSchema, uuidParam } from '../schemas.js';

/** the one person a data-subject request names: in the body, never in a URL */
const subjectFields = {
  personnummer: Type.Optional(Type.String({ maxLength: 20 })),
  phone: Type.Optional(Type.String({ maxLength: 40 })),
};
export const SubjectBody = Type.Object(subjectFields, { additionalProperties: false });

const FreeText = (description: string) => Type.String({ minLength: PURPOSE_TEXT_MIN, maxLength: 500, description });

export async function registerSubjectRoutes(api: FastifyInstance): Promise<void> {
  const { subjectRights } = api.services;
  const route = typed(api);

  route.post('/subject/export', {
    schema: {
      tags: ['subject'],
      operationId: 'exportSubject',
      security: Security.session,
      summary:
        "A person's recordings in your reach and who accessed them, as one ZIP archive: per recording the original audio, the transcript (JSON and WebVTT) and the metadata, with access-log.json and README.txt (identifier in the body, never in a URL)",
      body: Type.Object(
        { ...subjectFields, purposeText: FreeText('the case reference of the request, written to the audit log with identifiers replaced by labels') },
        { additionalProperties: false },
      ),
      response: {
        200: { description: 'the archive', content: { 'application/zip': { schema: Type.Unsafe<Readable>({ type: 'string', format: 'binary' }) } } },
        ...errorResponses,
      },
    },
    handler: async (req, reply) => {
      const { purposeText, ...identifier } = req.body;
      const made = await subjectRights.export(requestActor(req), { identifier, purposeText });
      made.archive.once('error', () => void made.recordFailure());
      // Cache-Control: no-store, as every answer under /api/v1/ (src/http/server.ts)
      void reply.header('Content-Type', 'application/zip').header('Content-Disposition', `attachment; filename="${made.filename}"`);
      return reply.send(made.archive);
    },
  });

  route.post('/subject/erase', {
    schema: {
      tags: ['subject'],
      operationId: 'eraseSubject',
      security: Security.session,
      summary:
        "Erase a person's recordings by destroying their data keys: the ids (from POST /subject/find) must each be the person's recording in your reach, or one erased before; otherwise nothing is erased (409). Erasing again is a no-op",
      body: Type.Object(
        {
          ...subjectFields,
          recordingIds: Type.Array(Type.String({ pattern: uuidParam.properties.id.pattern }), { maxItems: 1000, uniqueItems: true }),
          reason: FreeText('why, written to the audit log with identifiers replaced by labels'),
        },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({
          erasureId: Type.String(),
          erased: Type.Array(Type.String()),
          alreadyErased: Type.Array(Type.String()),
          objectsLeft: Type.Integer({ description: 'objects of erased recordings not deleted yet (unreadable: their key is destroyed); the next erasure retries' }),
        }),
        409: errorSchema,
        ...errorResponses,
      },
    },
    handler: async (req) => {
      const { recordingIds, reason, ...identifier } = req.body;
      return subjectRights.erase(requestActor(req), { identifier, recordingIds, reason });
    },
  });
}
