/**
 * A data subject's rights for the privacy officer: the export of the person's recordings and
 * access log (art. 15), and their erasure (art. 17). The identifier is in the body, never in a URL.
 * `POST /subject/find` (src/http/routes/recordings.ts) lists what these act on; the erasure takes
 * the ids the officer saw there and confirms.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import { subjectIdentifier } from '../../identifiers/normalize.js';
import { controllerReach, decide, PURPOSE_TEXT_MIN } from '../../policy/policy.js';
import { subjectHits } from '../../subject/common.js';
import { exportFailedEvent, prepareSubjectExport } from '../../subject/export.js';
import { eraseSubjectRecordings } from '../../subject/erase.js';
import { audit, authorize } from '../auth.js';
import { errorResponses, errorSchema, subjectBody, uuidParam } from '../schemas.js';

const freeText = { type: 'string', minLength: PURPOSE_TEXT_MIN, maxLength: 500 } as const;

/** free text of at least PURPOSE_TEXT_MIN characters once trimmed */
function requireText(text: string, what: string): string {
  if (text.trim().length < PURPOSE_TEXT_MIN) throw new CallvaultError(ErrorCodes.PURPOSE_REQUIRED, `${what} needs at least ${PURPOSE_TEXT_MIN} characters`);
  return text;
}

export async function registerSubjectRoutes(api: FastifyInstance): Promise<void> {
  const vault = api.vault;

  api.post('/subject/export', {
    schema: {
      tags: ['subject'],
      summary:
        "A person's recordings in your reach and who accessed them, as one ZIP archive: per recording the original audio, the transcript (JSON and WebVTT) and the metadata, with access-log.json and README.txt (identifier in the body, never in a URL)",
      body: {
        type: 'object',
        properties: {
          ...subjectBody.properties,
          /** the case reference of the request, written to the audit log with identifiers replaced by labels */
          purposeText: freeText,
        },
        required: ['purposeText'],
        additionalProperties: false,
      },
      response: {
        200: { description: 'the archive', content: { 'application/zip': { schema: { type: 'string', format: 'binary' } } } },
        ...errorResponses,
      },
    },
    handler: async (req, reply) => {
      const principal = await authorize(req, 'subject:export', 'subject.export');
      const body = req.body as { personnummer?: string; phone?: string; purposeText: string };
      const { kind, value } = subjectIdentifier(body, ErrorCodes.INVALID_REQUEST);
      const purposeText = requireText(body.purposeText, 'the case reference (purposeText)');
      const hits = await subjectHits(vault, principal, 'recording:export', 'subject:export', kind, value);
      const controllers = principal.kind === 'user' ? controllerReach(principal, new Date()).map((r) => r.controllerId) : [];
      const made = await prepareSubjectExport(vault, { kind, value, hits, controllers, purposeText, append: (e) => audit(req, e) });
      made.archive.once('error', () => void audit(req, exportFailedEvent(vault, kind, value, made.exportId)).catch(() => undefined));
      // Cache-Control: no-store, as every answer under /api/v1/ (src/http/server.ts)
      void reply.header('Content-Type', 'application/zip').header('Content-Disposition', `attachment; filename="${made.filename}"`);
      return reply.send(made.archive);
    },
  });

  api.post('/subject/erase', {
    schema: {
      tags: ['subject'],
      summary:
        "Erase a person's recordings by destroying their data keys: the ids (from POST /subject/find) must each be the person's recording in your reach, or one erased before; otherwise nothing is erased (409). Erasing again is a no-op",
      body: {
        type: 'object',
        properties: {
          ...subjectBody.properties,
          recordingIds: { type: 'array', items: uuidParam.properties.id, maxItems: 1000, uniqueItems: true },
          /** why, written to the audit log with identifiers replaced by labels */
          reason: freeText,
        },
        required: ['recordingIds', 'reason'],
        additionalProperties: false,
      },
      response: {
        200: {
          type: 'object',
          properties: {
            erasureId: { type: 'string' },
            erased: { type: 'array', items: { type: 'string' } },
            alreadyErased: { type: 'array', items: { type: 'string' } },
            /** objects of erased recordings not deleted yet (unreadable: their key is destroyed); the next erasure retries */
            objectsLeft: { type: 'integer' },
          },
          required: ['erasureId', 'erased', 'alreadyErased', 'objectsLeft'],
        },
        409: errorSchema,
        ...errorResponses,
      },
    },
    handler: async (req: FastifyRequest) => {
      const principal = await authorize(req, 'subject:erase', 'subject.erase');
      const body = req.body as { personnummer?: string; phone?: string; recordingIds: string[]; reason: string };
      const { kind, value } = subjectIdentifier(body, ErrorCodes.INVALID_REQUEST);
      const reason = requireText(body.reason, 'the reason');
      const hits = await subjectHits(vault, principal, 'subject:erase', 'subject:erase', kind, value);
      const now = new Date();
      return eraseSubjectRecordings(vault, {
        kind,
        value,
        hits,
        ids: body.recordingIds,
        reason,
        mayErase: (t) => decide(principal, 'subject:erase', { controllerId: t.controller_id, region: t.region, agent: t.agent }, now).allowed,
        append: (e) => audit(req, e),
      });
    },
  });
}
