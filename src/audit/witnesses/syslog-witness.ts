/**
 * A witness that sends each checkpoint to a syslog collector (a SIEM, a remote rsyslog), one
 * RFC 5424 message per checkpoint:
 *
 *   syslog+udp://host[:514]   RFC 5426, one datagram; delivery is not confirmed
 *   syslog+tcp://host:port    RFC 6587 octet counting, "<length> <message>"
 *   syslog+tls://host[:6514]  RFC 5425, the same framing over TLS (the system CAs, plus
 *                             NODE_EXTRA_CA_CERTS, verify the collector)
 *
 * Checkpoints are rare, so each one gets its own connection, closed once the message is sent.
 */
import type { Socket } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import { parseCheckpointText } from '../checkpoint.js';
import { formatSyslog, Severity } from '../syslog.js';
import type { Witness, WitnessedCheckpoint } from '../witness.js';

export type SyslogTransport = 'udp' | 'tcp' | 'tls';

const DEFAULT_PORTS: Record<SyslogTransport, number | undefined> = { udp: 514, tcp: undefined, tls: 6514 };
const DEFAULT_TIMEOUT_MS = 10_000;
/** the largest UDP payload over IPv4, RFC 5426 §3.2 */
const MAX_DATAGRAM = 65_507;

export interface SyslogWitnessOptions {
  timeoutMs?: number;
  /** HOSTNAME in the messages; the machine's name by default */
  hostname?: string;
  /** trusted CA certificates for TLS instead of the system's (tests, private CAs) */
  ca?: string | Buffer;
}

export class SyslogWitness implements Witness {
  readonly description: string;
  readonly transport: SyslogTransport;
  readonly host: string;
  readonly port: number;
  private readonly timeoutMs: number;
  private readonly hostname: string;
  private readonly ca: string | Buffer | undefined;

  constructor(url: string | URL, options: SyslogWitnessOptions = {}) {
    const u = new URL(url);
    const transport = /^syslog\+(udp|tcp|tls):$/.exec(u.protocol)?.[1] as SyslogTransport | undefined;
    if (!transport) throw usage('a syslog witness is syslog+udp://, syslog+tcp:// or syslog+tls://HOST:PORT');
    if (u.username || u.password || (u.pathname !== '' && u.pathname !== '/') || u.search || u.hash) {
      throw usage('a syslog witness URL is only syslog+TRANSPORT://HOST:PORT');
    }
    const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = u.port ? Number(u.port) : DEFAULT_PORTS[transport];
    if (!host) throw usage('a syslog witness URL needs a host');
    if (port === undefined) throw usage('syslog over TCP has no standard port (RFC 6587): give one, syslog+tcp://HOST:PORT');
    this.transport = transport;
    this.host = host;
    this.port = port;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.hostname = options.hostname ?? osHostname();
    this.ca = options.ca;
    this.description = `syslog ${transport} ${u.hostname}:${port}`;
  }

  async send(checkpoint: WitnessedCheckpoint): Promise<void> {
    try {
      await this.deliver(this.message(checkpoint));
    } catch (err) {
      if (err instanceof CallvaultError) throw err;
      const e = err as NodeJS.ErrnoException;
      throw this.failed(`cannot send the checkpoint at size ${checkpoint.size} (${e.code ?? e.message})`, err);
    }
  }

  /** one formatted RFC 5424 message over this transport (the alert outputs use it too) */
  async deliver(message: string): Promise<void> {
    if (this.transport === 'udp') await this.sendDatagram(Buffer.from(message, 'utf8'));
    else await this.sendFramed(message);
  }

  /** the RFC 5424 message for a checkpoint: MSGID "checkpoint", the MSG one line of JSON */
  message(checkpoint: WitnessedCheckpoint, now = new Date()): string {
    let parsed: ReturnType<typeof parseCheckpointText>;
    try {
      parsed = parseCheckpointText(checkpoint.note.slice(0, checkpoint.note.lastIndexOf('\n\n') + 1));
    } catch {
      throw this.failed(`the note at size ${checkpoint.size} is not a checkpoint`);
    }
    const json = JSON.stringify({ origin: parsed.origin, size: parsed.size, rootHash: parsed.rootHash.toString('base64'), note: checkpoint.note });
    return formatSyslog({ time: now, hostname: this.hostname, appName: 'callvault', msgId: 'checkpoint', severity: Severity.informational, message: json });
  }

  private async sendDatagram(payload: Buffer): Promise<void> {
    if (payload.length > MAX_DATAGRAM) throw this.failed(`a ${payload.length}-byte message does not fit in one datagram`);
    // loaded here, not with the module: the configuration makes a witness on every command
    const [{ lookup }, { createSocket }] = await Promise.all([import('node:dns/promises'), import('node:dgram')]);
    const { address, family } = await lookup(this.host);
    const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.send(payload, this.port, address, (err) => (err ? reject(err) : resolve()));
      });
    } finally {
      socket.close();
    }
  }

  private async sendFramed(message: string): Promise<void> {
    const frame = `${Buffer.byteLength(message, 'utf8')} ${message}`;
    // node:tls takes longer to load than most commands take to run; a checkpoint is rare
    const [{ connect: netConnect }, { connect: tlsConnect }] = await Promise.all([import('node:net'), import('node:tls')]);
    return new Promise<void>((resolve, reject) => {
      const socket: Socket =
        this.transport === 'tls' ? tlsConnect({ host: this.host, port: this.port, ...(this.ca ? { ca: this.ca } : {}) }) : netConnect({ host: this.host, port: this.port });
      let settled = false;
      const settle = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => settle(this.failed(`no delivery within ${this.timeoutMs / 1000} s`)), this.timeoutMs);
      socket.once('error', settle);
      // 'finish': the frame reached the kernel, so closing loses nothing (never after an error)
      socket.once('finish', () => settle());
      // written before the connection is up, the frame is buffered and sent once it is (after
      // the handshake, for TLS)
      socket.end(frame);
    });
  }

  private failed(message: string, cause?: unknown): CallvaultError {
    return new CallvaultError(ErrorCodes.WITNESS_FAILED, `${this.description}: ${message}`, { cause });
  }
}

function usage(message: string): CallvaultError {
  return new CallvaultError(ErrorCodes.USAGE, message);
}
