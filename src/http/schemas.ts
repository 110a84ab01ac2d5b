/**
 * JSON schemas shared by routes. Response schemas are allow-lists: a field not named here never
 * leaves the server, whatever a handler returns.
 */
export const errorSchema = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } },
  required: ['error'],
} as const;

/** the error answers any authenticated route can give */
export const errorResponses = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 429: errorSchema, 503: errorSchema } as const;

export const uuidParam = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' } },
  required: ['id'],
  additionalProperties: false,
} as const;

const nullableString = { type: ['string', 'null'] } as const;

export const recordingSummarySchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    controllerId: { type: 'string' },
    region: nullableString,
    agent: nullableString,
    direction: nullableString,
    startedAt: nullableString,
    importedAt: { type: 'string' },
    durationMs: { type: 'integer' },
    format: { type: 'string' },
    codec: { type: 'string' },
    sampleRate: { type: 'integer' },
    channels: { type: 'integer' },
    size: { type: 'integer' },
    hasTranscript: { type: 'boolean' },
    /** pending, none (no transcript), clean (no identifiers), redacted, or failed (flagged: original only) */
    redaction: { type: 'string' },
  },
  required: ['id', 'controllerId', 'durationMs', 'format'],
} as const;

export const recordingPageSchema = {
  type: 'object',
  properties: {
    recordings: { type: 'array', items: recordingSummarySchema },
    next: { type: 'string' },
  },
  required: ['recordings'],
} as const;

/** the one person a data-subject request names: in the body, never in a URL */
export const subjectBody = {
  type: 'object',
  properties: { personnummer: { type: 'string', maxLength: 20 }, phone: { type: 'string', maxLength: 40 } },
  additionalProperties: false,
} as const;
