/**
 * What one slow or greedy client may hold of the server: how long it may take to send headers, how
 * long a connection may sit idle, how slowly a request body may arrive, and how many connections
 * it may keep open. Recordings are large (an hour of 44.1 kHz stereo WAV is 635 MB) and playback
 * streams are long, so no limit here bounds the total time of a transfer that keeps moving: an
 * upload is judged by its progress, a download by whether the client still reads.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { BlockList, isIP, type Socket } from 'node:net';
import { closedConnections } from '../metrics/metrics.js';

export interface ConnectionLimits {
  /** seconds a client has to finish the TLS handshake, and then to send a request's headers */
  headerTimeoutSeconds: number;
  /** seconds a client has to send a whole request, body included; 0: no limit */
  requestTimeoutSeconds: number;
  /** seconds a connection may carry no bytes while the server waits on the client */
  idleTimeoutSeconds: number;
  /** seconds within which a request body must grow by UPLOAD_PROGRESS_BYTES or end */
  uploadStallSeconds: number;
  /** connections open at once, all clients together */
  maxConnections: number;
  /** connections open at once from one remote address (load balancers named in trustProxy are exempt) */
  maxConnectionsPerAddress: number;
}

/** a body must advance this much every uploadStallSeconds: 16 KiB in 30 s is about 4 kbit/s */
export const UPLOAD_PROGRESS_BYTES = 16 * 1024;

export const DEFAULT_LIMITS: Omit<ConnectionLimits, 'maxConnections'> = {
  headerTimeoutSeconds: 30,
  requestTimeoutSeconds: 0,
  idleTimeoutSeconds: 60,
  uploadStallSeconds: 30,
  maxConnectionsPerAddress: 64,
};

const MAX_CONNECTIONS_CEILING = 8192;

/**
 * Half the process's open-file limit, at most 8192: each connection takes a descriptor, and an
 * upload one or two more (its temporary object, the database), so the server keeps descriptors for
 * its own work however many clients come. Where the limit cannot be read, 8192.
 */
export function defaultMaxConnections(): number {
  let limit: number | undefined;
  try {
    const line = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (line) limit = Number(line[1]);
  } catch {
    // not Linux: no cheap way to read the limit
  }
  return limit === undefined ? MAX_CONNECTIONS_CEILING : Math.max(1, Math.min(MAX_CONNECTIONS_CEILING, Math.floor(limit / 2)));
}

export function resolveLimits(given: Partial<ConnectionLimits> = {}): ConnectionLimits {
  const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  return { ...DEFAULT_LIMITS, maxConnections: defaultMaxConnections(), ...defined };
}

/**
 * Options node's HTTP(S) server takes when it is created (fastify passes `https`/`http` through).
 * Node checks the header and request deadlines every connectionsCheckingInterval (30 s by
 * default); once a second keeps a short limit from being overrun by up to 30 s.
 */
export function serverCreationOptions(limits: ConnectionLimits) {
  // node refuses a header timeout longer than the request timeout: the headers are part of the request
  const headerSeconds = limits.requestTimeoutSeconds > 0 ? Math.min(limits.headerTimeoutSeconds, limits.requestTimeoutSeconds) : limits.headerTimeoutSeconds;
  return {
    headersTimeout: headerSeconds * 1000,
    requestTimeout: limits.requestTimeoutSeconds * 1000,
    connectionsCheckingInterval: 1000,
    // a TLS handshake that never finishes holds a descriptor like any other connection
    handshakeTimeout: headerSeconds * 1000,
  };
}

/**
 * Enforces the limits on `server` that node does not: the connection caps, the upload progress
 * rule, and an idle timeout that closes a connection only when the client is the one not moving.
 * (The socket idle timeout itself is fastify's `connectionTimeout`.)
 */
export function enforceConnectionLimits(server: Server, limits: ConnectionLimits, trustedProxies: string[] = []): void {
  server.maxConnections = limits.maxConnections;
  capConnectionsPerAddress(server, limits.maxConnectionsPerAddress, proxyList(trustedProxies));
  const exchanges = new WeakMap<Socket, { req: IncomingMessage; res: ServerResponse }>();
  const bodies = new UploadProgress(limits.uploadStallSeconds * 1000);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    exchanges.set(req.socket, { req, res });
    if (hasBody(req)) bodies.watch(req);
  });
  server.on('close', () => bodies.stop());
  // node destroys a timed-out socket only when nobody listens for 'timeout'; listening, we decide
  server.on('timeout', (socket: Socket) => {
    const exchange = exchanges.get(socket);
    if (exchange && serverIsWorking(exchange.req, exchange.res, socket)) return;
    closedConnections.inc({ reason: 'idle' });
    socket.destroy();
  });
}

/**
 * Counted per socket address, before the TLS handshake costs anything. Behind a load balancer every
 * client arrives from the balancer's address: those addresses are not capped here, and the
 * balancer must enforce its own per-client cap.
 */
function capConnectionsPerAddress(server: Server, max: number, exempt: BlockList): void {
  const open = new Map<string, number>();
  server.prependListener('connection', (socket: Socket) => {
    const address = plainAddress(socket.remoteAddress);
    if (address === undefined || exempt.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4')) return;
    const count = (open.get(address) ?? 0) + 1;
    if (count > max) {
      closedConnections.inc({ reason: 'address-cap' });
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = open.get(address)! - 1;
      if (left === 0) open.delete(address);
      else open.set(address, left);
    });
  });
}

/** `serve --trust-proxy` entries: addresses and CIDR ranges */
function proxyList(entries: string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, bits] = entry.split('/');
    const family = isIP(address ?? '');
    if (family === 0) continue;
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address!, type);
    else list.addSubnet(address!, Number(bits), type);
  }
  return list;
}

/** an IPv4 client on a dual-stack socket appears as ::ffff:a.b.c.d */
function plainAddress(address: string | undefined): string | undefined {
  return address?.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/**
 * The socket went quiet. The client is to blame when the server has something waiting to be
 * written to it, or waits to read a body it does not send; not when the server itself is slow to
 * answer (a long upload being finished) or has stopped reading (the store is slow to take the
 * bytes). Closing then would cut a request the client did nothing wrong in, and a recorder would
 * send the whole recording again.
 */
function serverIsWorking(req: IncomingMessage, res: ServerResponse, socket: Socket): boolean {
  if (socket.writableLength > 0 || res.writableNeedDrain) return false;
  // a paused socket: the server stopped reading the body, not the client sending it
  if (!req.complete) return socket.isPaused();
  return !res.writableFinished;
}

/**
 * Request bodies that must keep moving: each must grow by UPLOAD_PROGRESS_BYTES, or end, within
 * `stallMs` of the last time it did. Progress is read from the socket's byte count, so nothing
 * listens on the body itself. Time while the server has paused the socket (backpressure from a
 * slow store) does not count against the client.
 */
class UploadProgress {
  readonly #watched = new Map<IncomingMessage, { bytes: number; since: number }>();
  readonly #timer: NodeJS.Timeout;

  constructor(readonly stallMs: number) {
    this.#timer = setInterval(() => this.#check(), Math.min(1000, stallMs / 4));
    this.#timer.unref();
  }

  watch(req: IncomingMessage): void {
    this.#watched.set(req, { bytes: req.socket.bytesRead, since: Date.now() });
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#watched.clear();
  }

  #check(): void {
    const now = Date.now();
    for (const [req, mark] of this.#watched) {
      const socket = req.socket;
      if (req.complete || socket.destroyed) {
        this.#watched.delete(req);
      } else if (socket.bytesRead - mark.bytes >= UPLOAD_PROGRESS_BYTES || socket.isPaused()) {
        mark.bytes = socket.bytesRead;
        mark.since = now;
      } else if (now - mark.since >= this.stallMs) {
        this.#watched.delete(req);
        closedConnections.inc({ reason: 'upload-stalled' });
        socket.destroy();
      }
    }
  }
}
