/**
 * `callvault siprec`: the SIPREC recording server (src/siprec/server.ts). Needs the passphrase,
 * because a call is indexed (found by `subject find --phone`) the moment it ends. Each SBC it
 * accepts is named in config.json's `siprec` section (docs/siprec.md §5) and acts as the system
 * actor `siprec:NAME`: see docs/siprec.md §8 for its authorization and audit entries.
 */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import { openUnlocked, positiveInt, untilSignalled, wholeNumber, type GlobalOptions } from '../io.js';

interface SiprecOptions {
  listen: string;
  sipPort: number;
  tlsPort: number;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  rtpPorts: [number, number];
  advertise?: string;
  failStatus: 500 | 503;
  retryAfter: number;
  mediaTimeout: number;
}

function portRange(value: string): [number, number] {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(value);
  const [a, b] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  if (!m || a < 1024 || b > 65535 || b - a < 1) throw new CallvaultError(ErrorCodes.USAGE, '--rtp-ports is FIRST-LAST, two ports or more between 1024 and 65535');
  return [a, b];
}

function failStatus(value: string): 500 | 503 {
  if (value !== '500' && value !== '503') throw new CallvaultError(ErrorCodes.USAGE, '--fail-status is 503 or 500');
  return Number(value) as 500 | 503;
}

export function register(program: Command, globals: () => GlobalOptions): void {
  program
    .command('siprec')
    .description('record live calls from a session border controller (SIPREC): audio is encrypted as it arrives, never a plaintext file; needs the passphrase')
    .option('--listen <address>', 'address to listen on (SIP and RTP)', '0.0.0.0')
    .option('--sip-port <n>', 'SIP over UDP and TCP', (v) => (v === '0' ? 0 : positiveInt(v)), 5060)
    .option('--tls-port <n>', 'SIP over mutual TLS (with --tls-cert, --tls-key, --tls-ca)', (v) => (v === '0' ? 0 : positiveInt(v)), 5061)
    .option('--tls-cert <file>', 'PEM certificate of this recording server')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--tls-ca <file>', 'PEM certificates that sign the SBCs’ client certificates')
    .option('--rtp-ports <first-last>', 'UDP ports for RTP, one per recorded stream', portRange, [20000, 20999] as [number, number])
    .option('--advertise <address>', 'address put in SDP answers (default: --listen, or this host’s first address)')
    .option('--fail-status <code>', 'what an INVITE gets when the vault cannot record: 503 (with Retry-After: the SBC tries another recorder) or 500', failStatus, 503 as const)
    .option('--retry-after <seconds>', 'Retry-After of a 503', wholeNumber, 30)
    .option('--media-timeout <seconds>', 'end a call (as at a BYE) that has had no RTP and no request this long, unless paused (a=inactive)', positiveInt, 60)
    .action(async (cmd: SiprecOptions) => {
      const opts = globals();
      const tlsFiles = [cmd.tlsCert, cmd.tlsKey, cmd.tlsCa].filter(Boolean).length;
      if (tlsFiles !== 0 && tlsFiles !== 3) throw new CallvaultError(ErrorCodes.USAGE, '--tls-cert, --tls-key and --tls-ca go together (mutual TLS)');
      const tls = cmd.tlsCert ? { port: cmd.tlsPort, cert: await readFile(cmd.tlsCert), key: await readFile(cmd.tlsKey!), ca: await readFile(cmd.tlsCa!) } : undefined;
      const signalled = untilSignalled();
      const vault = await openUnlocked(opts);
      try {
        const [{ IngestService }, { AuditTrail }, { SiprecService }, { SiprecServer }, { parseSiprecConfig }] = await Promise.all([
          import('../../services/ingest.js'),
          import('../../services/audit-trail.js'),
          import('../../services/siprec.js'),
          import('../../siprec/server.js'),
          import('../../siprec/mapping.js'),
        ]);
        // the SBCs that may record here: config.json's `siprec` section (docs/siprec.md §5)
        const sbcs = parseSiprecConfig(vault.config.siprec);
        const trail = new AuditTrail(vault.audit);
        const service = new SiprecService(trail, new IngestService(vault, trail), vault.blobs);
        // calls cut off by a crash are stored (marked incomplete) before new ones are taken
        const recovered = await service.recover(vault.keys);
        if (recovered > 0) process.stderr.write(`callvault siprec: ${recovered} call(s) cut off by a stop were stored as incomplete recordings\n`);
        const server = new SiprecServer(service, {
          host: cmd.listen,
          sipPort: cmd.sipPort,
          ...(tls ? { tls } : {}),
          rtpPorts: cmd.rtpPorts,
          ...(cmd.advertise ? { advertise: cmd.advertise } : {}),
          failStatus: cmd.failStatus,
          retryAfterSeconds: cmd.retryAfter,
          mediaTimeoutSeconds: cmd.mediaTimeout,
          sbcs,
          log: (line) => process.stderr.write(`callvault siprec: ${line}\n`),
        });
        const ports = await server.start();
        process.stdout.write(
          opts.json
            ? `${JSON.stringify({ listening: { host: cmd.listen, ...ports } })}\n`
            : `callvault siprec listening on ${cmd.listen} SIP ${ports.sipPort} (UDP, TCP)${ports.tlsPort ? `, TLS ${ports.tlsPort}` : ''}\n`,
        );
        await signalled;
        await server.stop();
      } finally {
        await vault.close();
      }
    });
}
