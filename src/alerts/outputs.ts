/**
 * Where alerts go besides the database and the log, for a SIEM (CALLVAULT_ALERT_OUTPUT):
 *
 *   file:PATH                          one JSON line per alert, appended
 *   https://HOST/PATH, http://…        a webhook: the alert POSTed as JSON
 *   syslog+udp|tcp|tls://HOST:PORT     RFC 5424, MSGID `alert`, severity by the alert's
 *
 * An alert carries no identifier (its evidence is words and positions), so it may leave the host.
 * A failed delivery is a warning: the alert stays in the database, and its `alert.raise` entry
 * reaches a SIEM that follows the log.
 */
import { appendFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { CallvaultError, ErrorCodes } from '../errors.js';
import { formatSyslog, SD_ID, Severity } from '../audit/syslog.js';
import { SyslogWitness } from '../audit/witnesses/syslog-witness.js';
import type { AlertView } from './alert.js';

export interface AlertOutput {
  readonly description: string;
  send(alert: AlertView): Promise<void>;
}

const FORMS = 'file:PATH, https://HOST/PATH (or http://), syslog+udp://HOST:PORT, syslog+tcp://HOST:PORT or syslog+tls://HOST:PORT';
const TIMEOUT_MS = 10_000;

class FileOutput implements AlertOutput {
  readonly description: string;
  constructor(private readonly path: string) {
    this.description = `alert file ${path}`;
  }
  async send(alert: AlertView): Promise<void> {
    await appendFile(this.path, `${JSON.stringify(alert)}\n`, { mode: 0o600 });
  }
}

class WebhookOutput implements AlertOutput {
  readonly description: string;
  constructor(private readonly url: URL) {
    // the query string may carry a token
    this.description = `alert webhook ${url.origin}${url.pathname}`;
  }
  async send(alert: AlertView): Promise<void> {
    const res = await fetch(this.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alert), signal: AbortSignal.timeout(TIMEOUT_MS) });
    await res.arrayBuffer();
    if (!res.ok) throw new CallvaultError(ErrorCodes.WITNESS_FAILED, `${this.description} answered ${res.status}`);
  }
}

class SyslogOutput implements AlertOutput {
  readonly description: string;
  private readonly transport: SyslogWitness;
  constructor(url: URL) {
    this.transport = new SyslogWitness(url);
    this.description = `alert ${this.transport.description}`;
  }
  async send(alert: AlertView): Promise<void> {
    const severity = alert.severity === 'high' ? 2 : alert.severity === 'medium' ? Severity.warning : Severity.notice;
    const message = formatSyslog({
      time: new Date(alert.createdAt),
      hostname: hostname(),
      appName: 'callvault',
      msgId: 'alert',
      severity,
      structuredData: [{ id: SD_ID, params: { alertId: alert.id, rule: alert.rule, severity: alert.severity } }],
      message: JSON.stringify(alert),
    });
    await this.transport.deliver(message);
  }
}

export function parseAlertOutputs(list: string | undefined): AlertOutput[] {
  if (!list) return [];
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      if (s.startsWith('file:')) {
        if (s.length === 'file:'.length) throw new CallvaultError(ErrorCodes.USAGE, 'an alert file needs a path: file:PATH');
        return new FileOutput(s.slice('file:'.length));
      }
      let url: URL | undefined;
      try {
        url = new URL(s);
      } catch {
        url = undefined;
      }
      if (url?.protocol === 'http:' || url?.protocol === 'https:') return new WebhookOutput(url);
      if (url && /^syslog\+(udp|tcp|tls):$/.test(url.protocol)) return new SyslogOutput(url);
      throw new CallvaultError(ErrorCodes.USAGE, `an alert output is one of ${FORMS}`);
    });
}
