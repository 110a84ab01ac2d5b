/**
 * How a route states its contract: TypeBox schemas that are at once the JSON schema fastify
 * validates and serialises with, the OpenAPI document's schema, and the handler's TypeScript type;
 * who may call it (`security`); and a stable `operationId` for generated clients.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';

export { Type };

/** the route plugin's instance with request and reply typed from the route's schemas */
export function typed(api: FastifyInstance) {
  return api.withTypeProvider<TypeBoxTypeProvider>();
}

/** OpenAPI security requirements (the schemes are declared in server.ts) */
export const Security = {
  /** a signed-in person: the session cookie (and X-CSRF-Token on anything but GET/HEAD) */
  session: [{ session: [] }],
  /** a machine: a bearer token */
  token: [{ token: [] }],
  /** either */
  sessionOrToken: [{ session: [] }, { token: [] }],
  /** anyone: sign-in, enrolment, the OpenID Connect redirects */
  none: [],
} as const;

/** what went wrong: a stable `CV_` code (src/errors.ts) and a message naming no data */
export const ErrorBody = Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String() }) });
