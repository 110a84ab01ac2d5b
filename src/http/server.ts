/**
 * `callvault serve`: fastify over HTTPS. Every route declares request and response schemas; the
 * response schema is the allow-list of fields that may leave (fast-json-stringify drops the rest).
 * Authentication (session cookie or bearer token) happens in one hook; authorisation in each route
 * through the policy module; every security-relevant access is appended to the audit log before
 * the response is sent, and nothing is served when that append fails.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { CallvaultError, ErrorCodes, httpStatus, isCallvaultError, unavailableError } from '../errors.js';
import type { Vault } from '../vault.js';
import { createServices, type Services } from '../services/index.js';
import type { LogLevel } from '../config.js';
import { DOCS_CSS, ICON_SVG, LOGO_SVG } from './brand.js';
import { TLS_POLICY } from './tls.js';
import { authenticate, SESSION_COOKIE, sessionCache, type AuthContext } from './auth.js';
import { errorSchema } from './schemas.js';
import { registerAuthRoutes } from './routes/auth.js';
import { registerEnrolmentRoutes } from './routes/enrolment.js';
import { registerRetentionRoutes } from './routes/retention.js';
import { registerAlertRoutes } from './routes/alerts.js';
import { registerRecordingRoutes } from './routes/recordings.js';
import { registerIngestRoutes } from './routes/ingest.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerBreakGlassRoutes } from './routes/break-glass.js';
import { registerAuditRoutes } from './routes/audit.js';
import { registerReviewRoutes } from './routes/review.js';
import { registerOidcRoutes } from './routes/oidc.js';
import { registerSubjectRoutes } from './routes/subject.js';
import { registerBreachRoutes } from './routes/breach.js';
import { registerKeyRoutes } from './routes/keys.js';
import { registerProtectedRoutes } from './routes/protected.js';
import { rateLimitStore } from './rate-limit-store.js';
import { enforceConnectionLimits, resolveLimits, serverCreationOptions, type ConnectionLimits } from './connection-limits.js';
import type { OidcProviderConfig } from '../identities/oidc.js';
import { Readiness } from '../metrics/readiness.js';
import { ServerMetrics } from '../metrics/metrics.js';

export interface ServerOptions {
  vault: Vault;
  /** addresses or CIDR ranges of the load balancers in front (`serve --trust-proxy`) */
  trustProxy?: string[];
  /** absent: plain HTTP, which `serve` allows only on a loopback address */
  tls?: { cert: Buffer; key: Buffer };
  /** requests per minute per client address, all routes together */
  rateLimitPerMinute?: number;
  /** sign-in attempts per minute per client address */
  signInPerMinute?: number;
  logger?: boolean;
  /** the request log's level (CALLVAULT_LOG_LEVEL); default info */
  logLevel?: LogLevel;
  /** where the request log goes; default stdout (`demo` writes it to a file in its data directory) */
  logStream?: NodeJS.WritableStream;
  /** stack traces of failed requests on stderr (CALLVAULT_DEBUG) */
  debug?: boolean;
  /** organisations' own OpenID Connect providers (src/identities/oidc.ts) */
  oidc?: OidcProviderConfig[];
  /** timeouts and connection caps; each one left out takes its default (src/http/connection-limits.ts) */
  limits?: Partial<ConnectionLimits>;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext | null;
  }
  interface FastifyInstance {
    vault: Vault;
    /** the use cases; routes are adapters over them (src/services) */
    services: Services;
    /** served by `serve --metrics-listen` on a listener of its own (src/metrics) */
    metrics: ServerMetrics;
  }
}

/** the web UI as `vite build` leaves it (web/vite.config.ts), beside the compiled server */
const WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));

/** answered without authentication; /healthz also without rate limit or any dependency */
const PROBE_ROUTES = new Set(['/healthz', '/readyz']);

export const JSON_BODY_LIMIT = 64 * 1024;
export const MAX_HEADER_BYTES = 16 * 1024;

/** seconds a client is asked to wait before retrying a 503: a restart or failover takes about this long */
const RETRY_AFTER_SECONDS = 5;

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const limits = resolveLimits(options.limits);
  // the header limit and the timeouts must be given when the server is created; setting them afterwards does nothing
  const serverOptions = { maxHeaderSize: MAX_HEADER_BYTES, ...serverCreationOptions(limits) };
  const app = Fastify({
    https: options.tls ? { cert: options.tls.cert, key: options.tls.key, ...TLS_POLICY, ...serverOptions } : null,
    http: options.tls ? undefined : serverOptions,
    bodyLimit: JSON_BODY_LIMIT,
    routerOptions: { maxParamLength: 100 },
    // a client that stops sending or reading must not hold a connection for ever; a transfer that
    // keeps moving is never cut (connection-limits.ts)
    connectionTimeout: limits.idleTimeoutSeconds * 1000,
    requestTimeout: limits.requestTimeoutSeconds * 1000,
    keepAliveTimeout: 10_000,
    forceCloseConnections: 'idle',
    // behind a load balancer, the client address (rate limits, the audit log) comes from
    // X-Forwarded-For, but only when the connection is from a proxy named here
    trustProxy: options.trustProxy?.length ? options.trustProxy : false,
    return503OnClosing: true,
    logger: options.logger ? loggerOptions(options.logLevel ?? 'info', options.logStream) : false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
    // errors raised before routing (a bad URL, an overlong id, oversize headers) get our error
    // shape too, and never echo the path, which may hold whatever a client typed
    frameworkErrors: (err: FastifyError, _req: FastifyRequest, reply: FastifyReply) => {
      void reply.code(err.statusCode === 414 ? 414 : 400).send({ error: { code: ErrorCodes.INVALID_REQUEST, message: 'the URL is not valid' } });
    },
    clientErrorHandler: (err: NodeJS.ErrnoException, socket: import('node:net').Socket) => {
      if (socket.writable && err.code === 'HPE_HEADER_OVERFLOW') {
        const body = JSON.stringify({ error: { code: ErrorCodes.INVALID_REQUEST, message: 'the request headers are too large' } });
        socket.end(
          `HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      } else {
        socket.destroy(err);
      }
    },
  } as never) as unknown as FastifyInstance;
  app.server.maxHeadersCount = 100;
  enforceConnectionLimits(app.server, limits, options.trustProxy);

  app.decorate('vault', options.vault);
  app.decorate('services', createServices(options.vault, { oidc: options.oidc }));
  app.decorateRequest('auth', null);
  const readiness = new Readiness(options.vault, (report) =>
    report.ready ? app.log.info({ checks: report.checks }, 'ready') : app.log.warn({ checks: report.checks }, 'not ready'),
  );
  const metrics = new ServerMetrics(options.vault, readiness);
  app.decorate('metrics', metrics);
  app.addHook('onResponse', async (req, reply) => metrics.observeRequest(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000));
  app.addHook('onClose', async () => metrics.close());

  await app.register(import('@fastify/helmet'), {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        // swagger-ui's page at /api/docs needs inline styles; nothing else does
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        mediaSrc: ["'self'", 'blob:'],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
    },
    hsts: options.tls ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
  await app.register(import('@fastify/cookie'));
  await app.register(import('@fastify/rate-limit'), {
    global: true,
    max: options.rateLimitPerMinute ?? 1200,
    timeWindow: 60_000,
    // the plugin throws what this returns: our error, so the error handler gives it our shape
    errorResponseBuilder: (_req, ctx) => new CallvaultError(ErrorCodes.RATE_LIMITED, `too many requests: try again in ${Math.ceil(ctx.ttl / 1000)} s`),
    store: rateLimitStore(options.vault.coordination),
  });
  await app.register(import('@fastify/multipart'), {
    limits: { fields: 4, fieldSize: JSON_BODY_LIMIT, files: 2, parts: 4, fileSize: 8 * 1024 * 1024 * 1024, headerPairs: 50 },
  });
  await app.register(import('@fastify/swagger'), {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'callvault',
        version: '1',
        description: 'A vault for recorded healthcare calls. Every access is authorised, bound to a purpose and audited.',
        license: { name: 'AGPL-3.0-only', identifier: 'AGPL-3.0-only' },
      },
      // the API is served by the server that serves this document, whatever its address
      servers: [{ url: '/' }],
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
          token: { type: 'http', scheme: 'bearer', description: 'cvt_… machine token' },
        },
      },
    },
  });
  // callvault's name and mark on the documentation page, not swagger-ui's
  await app.register(import('@fastify/swagger-ui'), {
    routePrefix: '/api/docs',
    staticCSP: true,
    logo: { type: 'image/svg+xml', content: Buffer.from(LOGO_SVG), href: '/api/docs', target: '_self' },
    theme: {
      title: 'callvault API',
      css: [{ filename: 'callvault.css', content: DOCS_CSS }],
      favicon: [{ filename: 'favicon.svg', rel: 'icon', sizes: 'any', type: 'image/svg+xml', content: Buffer.from(ICON_SVG) }],
    },
  });

  // JSON routes take JSON only: text/plain and multipart are what a cross-site form can send
  // without a preflight, so they are refused with 415 everywhere but the upload route
  app.removeContentTypeParser('text/plain');
  const sessions = sessionCache();
  app.addHook('onRequest', async (req) => {
    const type = req.headers['content-type'];
    if (type?.toLowerCase().startsWith('multipart/') && !(req.method === 'POST' && req.routeOptions.url === '/api/v1/recordings')) {
      throw new CallvaultError(ErrorCodes.UNSUPPORTED_MEDIA_TYPE, 'this route takes application/json');
    }
    if (PROBE_ROUTES.has(req.routeOptions.url ?? '')) return;
    req.auth = await authenticate(app.vault, req, sessions);
  });
  // answers about patients must not stay in a shared workstation's browser cache
  app.addHook('onSend', async (req, reply) => {
    if (req.url.startsWith('/api/v1/') && !reply.hasHeader('cache-control')) void reply.header('Cache-Control', 'no-store');
  });
  app.setErrorHandler(errorHandler(options.debug ?? false));
  const web = existsSync(join(WEB_ROOT, 'index.html'));
  if (web) {
    // file names under assets/ carry a hash of their content: they never change
    await app.register(import('@fastify/static'), {
      root: WEB_ROOT,
      wildcard: false,
      index: false,
      cacheControl: false,
      setHeaders: (res, path) => res.setHeader('Cache-Control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-store'),
    });
  }
  app.setNotFoundHandler((req, reply) => {
    // the web UI's own paths (/recordings/…, /audit) are pages of one document: the browser gets
    // index.html and the UI's router shows the page; anything under /api/ stays a JSON 404
    if (web && (req.method === 'GET' || req.method === 'HEAD') && !req.url.startsWith('/api/') && req.headers.accept?.includes('text/html')) {
      return void reply.sendFile('index.html');
    }
    void reply.code(404).send({ error: { code: ErrorCodes.NOT_FOUND, message: 'not found' } });
  });

  // the process is alive and answering: nothing else is asked, so a dependency that is down
  // makes the server not ready (below), never restarted
  app.get('/healthz', {
    config: { rateLimit: false },
    schema: { hide: true, response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } },
    handler: async (_req, reply) => reply.send({ status: 'ok' }),
  });
  // each check writes (the audit probe): an unauthenticated caller is held to the per-address limit
  app.get('/readyz', {
    schema: { hide: true, response: { 200: readinessSchema, 503: readinessSchema } },
    handler: async (_req, reply) => {
      const { ready, checks } = await readiness.check();
      if (ready) return reply.send({ status: 'ready', checks });
      const failing = Object.entries(checks)
        .filter(([, state]) => state !== 'ok')
        .map(([name]) => name);
      return reply.code(503).send({ status: 'not-ready', checks, error: { code: ErrorCodes.NOT_READY, message: `not ready: ${failing.join(', ')}` } });
    },
  });

  await app.register(
    async (api) => {
      await registerAuthRoutes(api, { signInPerMinute: options.signInPerMinute ?? 20 });
      await registerEnrolmentRoutes(api, { signInPerMinute: options.signInPerMinute ?? 20 });
      await registerRecordingRoutes(api);
      await registerIngestRoutes(api);
      await registerAdminRoutes(api);
      await registerBreakGlassRoutes(api);
      await registerAuditRoutes(api);
      await registerReviewRoutes(api);
      await registerSubjectRoutes(api);
      await registerRetentionRoutes(api);
      await registerAlertRoutes(api);
      await registerBreachRoutes(api);
      await registerProtectedRoutes(api);
      await registerKeyRoutes(api);
      await registerOidcRoutes(api, { signInPerMinute: options.signInPerMinute ?? 20 });
    },
    { prefix: '/api/v1' },
  );
  return app;
}

const readinessSchema = {
  type: 'object',
  properties: {
    status: { type: 'string' },
    checks: { type: 'object', properties: Object.fromEntries(['database', 'blobs', 'keys', 'audit'].map((name) => [name, { type: 'string' }])) },
    error: errorSchema.properties.error,
  },
} as const;

function errorHandler(debug: boolean) {
  return (thrown: FastifyError | CallvaultError, req: FastifyRequest, reply: FastifyReply): void => handleError(thrown, req, reply, debug);
}

function handleError(thrown: FastifyError | CallvaultError, req: FastifyRequest, reply: FastifyReply, debug: boolean): void {
  if (debug) process.stderr.write(`${thrown.stack}\n${(thrown as { cause?: Error }).cause?.stack ?? ''}\n`);
  // a dependency that is down, full or too slow: the client is to retry, the server stays up
  const err = unavailableError(thrown) ?? thrown;
  if (isCallvaultError(err)) {
    const status = httpStatus(err.code);
    if (status === 503) void reply.header('Retry-After', String(RETRY_AFTER_SECONDS));
    if (status >= 500) req.log.error({ code: err.code }, 'request failed');
    void reply.code(status).send({ error: { code: err.code, message: status === 500 ? 'internal error' : err.message } });
    return;
  }
  const fe = err as FastifyError;
  if (fe.validation) {
    void reply.code(400).send({
      error: {
        code: ErrorCodes.INVALID_REQUEST,
        message: `invalid request: ${fe.validationContext ?? ''}${fe.validation[0]?.instancePath ?? ''} ${fe.validation[0]?.message ?? ''}`.trim(),
      },
    });
    return;
  }
  const status = typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500 ? fe.statusCode : 500;
  if (status === 500) req.log.error({ code: fe.code }, 'request failed');
  const code =
    status === 429 ? ErrorCodes.RATE_LIMITED : status === 416 ? ErrorCodes.RANGE_NOT_SATISFIABLE : status === 415 ? ErrorCodes.UNSUPPORTED_MEDIA_TYPE : ErrorCodes.INVALID_REQUEST;
  // fastify's own 4xx messages (bad JSON, body too large, wrong content type) name no data
  void reply
    .code(status)
    .send({ error: { code: status === 500 ? ErrorCodes.INTERNAL : code, message: status === 500 ? 'internal error' : String(fe.message ?? 'request refused') } });
}

/** Request logs carry the route pattern, never the raw URL, headers or bodies. */
function loggerOptions(level: LogLevel, stream?: NodeJS.WritableStream) {
  return {
    level,
    ...(stream ? { stream } : {}),
    serializers: {
      req: (req: { method: string; routeOptions?: { url?: string }; id: string }) => ({ id: req.id, method: req.method, route: req.routeOptions?.url ?? 'unmatched' }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    redact: { paths: ['req.headers', 'err.message', 'err.stack'], remove: true },
  };
}
