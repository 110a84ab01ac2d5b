/**
 * TEMPORARY stand-in for multipart.ts, metadata.ts, facts.ts and mapping.ts (branch h-sipmeta):
 * the least the recording server needs until they are merged, with their signatures. Replaced on
 * merge; not to be extended.
 */
// biome-ignore-all lint/suspicious/noExplicitAny: a stand-in until h-sipmeta's metadata.ts is merged
import { XMLParser } from 'fast-xml-parser';
import { CallvaultError, ErrorCodes } from '../errors.js';
import type { CallFacts, CallMapping, RecordingSessionMetadata, SbcIdentity, SiprecOffer, SiprecParticipant } from './types.js';

function invalid(reason: string): CallvaultError {
  return new CallvaultError(ErrorCodes.SIPREC_INVALID, `SIPREC body: ${reason}`);
}

export function parseSiprecBody(contentType: string | undefined, body: string | Buffer): SiprecOffer {
  const text = body.toString();
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/sdp') return { sdp: text };
  if (type !== 'multipart/mixed') throw invalid('not SDP or multipart/mixed');
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType ?? '')?.[1];
  if (!boundary) throw invalid('no boundary');
  let sdp: string | undefined;
  let metadata: RecordingSessionMetadata | undefined;
  for (const part of text.split(`--${boundary}`).slice(1)) {
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) continue;
    const head = part.slice(0, split).toLowerCase();
    const content = part.slice(split + 4).replace(/\r\n$/, '');
    if (head.includes('application/sdp')) sdp = content;
    else if (head.includes('application/rs-metadata+xml')) metadata = parseMetadata(content);
  }
  if (!sdp) throw invalid('no SDP part');
  return { sdp, ...(metadata ? { metadata } : {}) };
}

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export function parseMetadata(xml: string): RecordingSessionMetadata {
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', removeNSPrefix: true }).parse(xml) as Record<string, any>;
  const rs = doc.recording;
  if (!rs) throw invalid('no recording element');
  const participants: SiprecParticipant[] = list(rs.participant).map((p: any) => ({
    id: String(p['@participant_id'] ?? ''),
    nameIds: list(p.nameID).map((n: any) => ({ aor: String(n['@aor'] ?? ''), ...(n.name ? { name: String(typeof n.name === 'object' ? n.name['#text'] : n.name) } : {}) })),
    sends: list(p.send).map(String),
    receives: list(p.recv).map(String),
  }));
  for (const a of list<any>(rs.participantstreamassoc)) {
    const p = participants.find((x) => x.id === String(a['@participant_id']));
    if (p) p.sends.push(...list(a.send).map(String));
  }
  return {
    dataMode: rs.datamode === 'partial' ? 'partial' : 'complete',
    groups: [],
    sessions: list<any>(rs.session).map((s) => ({ id: String(s['@session_id'] ?? ''), sipSessionIds: [], ...(s['start-time'] ? { startTime: String(s['start-time']) } : {}) })),
    participants,
    streams: list<any>(rs.stream).map((s) => ({ id: String(s['@stream_id'] ?? ''), label: String(s.label ?? '') })),
    associations: [],
    extensions: {},
  };
}

export function mergeMetadata(previous: RecordingSessionMetadata | undefined, update: RecordingSessionMetadata): RecordingSessionMetadata {
  if (!previous || update.dataMode === 'complete') return update;
  return { ...previous, participants: [...previous.participants, ...update.participants], streams: [...previous.streams, ...update.streams] };
}

function e164(aor: string): string | undefined {
  const m = /^(?:sips?:|tel:)?(\+\d{6,15})(?:[@;]|$)/.exec(aor);
  return m?.[1];
}

export function callFacts(metadata: RecordingSessionMetadata | undefined, _sdp: string, mapping?: CallMapping): CallFacts {
  const participantsByLabel = new Map<string, SiprecParticipant>();
  for (const p of metadata?.participants ?? []) {
    for (const streamId of p.sends) {
      const label = metadata?.streams.find((s) => s.id === streamId)?.label;
      if (label) participantsByLabel.set(label, p);
    }
  }
  const phones = (metadata?.participants ?? []).map((p) => p.nameIds.map((n) => e164(n.aor)).find(Boolean));
  return {
    ...(metadata?.sessions[0]?.startTime ? { startedAt: metadata.sessions[0].startTime } : {}),
    ...(phones[0] ? { caller: phones[0] } : {}),
    ...(phones[1] ? { callee: phones[1] } : {}),
    participantsByLabel,
    ...(mapping?.agent ? { agent: mapping.agent } : {}),
  };
}

/** one SBC the recording server accepts calls from, and where its calls belong */
export interface SbcConfig {
  name: string;
  addresses?: string[];
  certificateCn?: string;
  controller: string;
  region?: string;
  agent?: string;
}

export function mapCall(config: readonly SbcConfig[], sbc: SbcIdentity, _metadata: RecordingSessionMetadata | undefined): CallMapping & { sbc: string } {
  const found = config.find((c) => (c.certificateCn !== undefined && c.certificateCn === sbc.certificateCn) || (c.addresses ?? []).includes(sbc.address));
  if (!found) throw new CallvaultError(ErrorCodes.FORBIDDEN, 'this session border controller is not configured');
  return { sbc: found.name, controller: found.controller, ...(found.region ? { region: found.region } : {}), ...(found.agent ? { agent: found.agent } : {}) };
}
