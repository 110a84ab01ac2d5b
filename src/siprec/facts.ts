/**
 * What the recorder keeps of one call, from its metadata and SDP: which participant speaks on
 * each m-line (by `a=label`, RFC 7866 §7.1.1), who called whom as E.164 numbers, when, and in which
 * direction. Any number of m-lines: one per participant, or one mixed stream that several send.
 */
import sdpTransform from 'sdp-transform';
import { CallvaultError, ErrorCodes } from '../errors.js';
import { detectIdentifiers } from '../pii/detector.js';
import { normalizePhone } from '../identifiers/normalize.js';
import { offsetAt } from '../audit/review.js';
import type { CallFacts, CallMapping, RecordingSessionMetadata, SiprecParticipant } from './types.js';

function invalid(message: string): CallvaultError {
  return new CallvaultError(ErrorCodes.SIPREC_INVALID, message);
}

/** the `a=label` of each m-line, in order; an m-line without one has none */
export function sdpLabels(sdp: string): (string | undefined)[] {
  let parsed: sdpTransform.SessionDescription;
  try {
    parsed = sdpTransform.parse(sdp);
  } catch {
    throw invalid('the SDP cannot be read');
  }
  // sdp-transform turns a label that reads as a number into one ("1" → 1); String() gives it back exactly
  return (parsed.media ?? []).map((m) => (m.label === undefined ? undefined : String(m.label)));
}

/** the user part of an AOR (`sip:`, `sips:`, `tel:` or none), without URI parameters */
function userPart(aor: string): string {
  const bare = aor.trim().replace(/^<|>$/g, '');
  const withoutScheme = bare.replace(/^(sips?|tel):/i, '');
  const user = withoutScheme.includes('@') ? withoutScheme.slice(0, withoutScheme.lastIndexOf('@')) : withoutScheme;
  let decoded = user;
  try {
    decoded = decodeURIComponent(user);
  } catch {
    // a stray % stays as it is
  }
  return decoded.split(';')[0]!.trim();
}

/**
 * A phone number in E.164 from a user part, read as Swedish when no country code is given. SBCs
 * write Swedish numbers with `+46`, `0046`, `46` (no plus) or nationally (`08-123 456 78`).
 */
function phoneFromUser(user: string): string | undefined {
  const compact = user.replace(/[\s().-]/g, '');
  if (!/^\+?\d{6,15}$/.test(compact)) return undefined;
  const candidates = [compact];
  if (compact.startsWith('00')) candidates.push(`+${compact.slice(2)}`);
  else if (compact.startsWith('46')) candidates.push(`+${compact}`);
  for (const candidate of candidates) {
    try {
      return normalizePhone(candidate);
    } catch {
      // not a valid number read this way
    }
  }
  return undefined;
}

/** the participant's phone number: from an AOR's user part, else from a display name that holds one */
export function participantPhone(p: SiprecParticipant): string | undefined {
  for (const n of p.nameIds) {
    const phone = phoneFromUser(userPart(n.aor));
    if (phone) return phone;
  }
  for (const n of p.nameIds) {
    const found = n.name ? detectIdentifiers(n.name).find((d) => d.type === 'phone') : undefined;
    if (found) return found.value;
  }
  return undefined;
}

/**
 * ISO 8601 in UTC. A time without a zone (Oracle's draft form writes the SBC's local time) is read
 * in `timeZone` (the SBC's, from its rule in config.json; UTC when none is set); `+0100` is read as
 * `+01:00` (OpenSIPS writes strftime's %z).
 */
export function metadataTime(value: string | undefined, timeZone?: string): string | undefined {
  if (!value) return undefined;
  const v = value.trim().replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const zoneless = /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(v);
  const t = Date.parse(zoneless ? `${v}Z` : v);
  if (Number.isNaN(t)) return undefined;
  if (!zoneless || !timeZone) return new Date(t).toISOString();
  // the instant whose local time in the zone is t: the offset at t, corrected once across a change of offset
  const first = t - offsetAt(t, timeZone);
  return new Date(t - offsetAt(first, timeZone)).toISOString();
}

function earliest(values: (string | undefined)[], timeZone: string | undefined): string | undefined {
  return values
    .map((v) => metadataTime(v, timeZone))
    .filter((v): v is string => v !== undefined)
    .sort()[0];
}

/**
 * Who called. Oracle (and the Avaya deployments behind it) mark the calling participant in their
 * extension data; Ribbon names the From and To headers in its call data; the others list the
 * calling participant first, as RFC 8068's call flows do.
 */
function callerAndCallee(metadata: RecordingSessionMetadata): { caller?: SiprecParticipant; callee?: SiprecParticipant } {
  const participants = metadata.participants.filter((p) => p.nameIds.length > 0);
  const flag = (p: SiprecParticipant) =>
    Object.entries(metadata.extensions)
      .find(([key]) => key.startsWith(`participant[${p.id}]/`) && /(^|[:/])callingParty$/i.test(key))?.[1]
      ?.toLowerCase();
  const marked = participants.find((p) => flag(p) === 'true');
  if (marked) return { caller: marked, callee: participants.find((p) => p !== marked && flag(p) !== 'true') };
  const header = (suffix: string) => Object.entries(metadata.extensions).find(([key]) => key.toLowerCase().endsWith(suffix))?.[1];
  const fromUri = header('.fromhdr') ?? header('callData.from');
  const toUri = header('.tohdr') ?? header('callData.to');
  const userOfHeader = (h: string | undefined) => (h ? (/<([^>]+)>/.exec(h)?.[1] ?? h.split(';')[0]) : undefined);
  const byUser = (h: string | undefined) => {
    const uri = userOfHeader(h);
    return uri ? participants.find((p) => p.nameIds.some((n) => userPart(n.aor) === userPart(uri))) : undefined;
  };
  const fromParticipant = byUser(fromUri);
  const toParticipant = byUser(toUri);
  if (fromParticipant || toParticipant) return { caller: fromParticipant, callee: toParticipant };
  return { caller: participants[0], callee: participants[1] };
}

/**
 * The facts of one call. Every labelled m-line maps to the participants that send the stream with
 * its label; a stream in the metadata whose label no m-line carries is refused (the SBC and its
 * metadata disagree about the media), as are two m-lines with one label.
 */
export function callFacts(metadata: RecordingSessionMetadata | undefined, sdp: string, mapping?: CallMapping): CallFacts {
  const labels = sdpLabels(sdp);
  const present = labels.filter((l): l is string => l !== undefined);
  if (new Set(present).size !== present.length) throw invalid('two m-lines of the SDP carry the same a=label');
  const participantsByLabel = new Map<string, SiprecParticipant>();
  const sendersByLabel = new Map<string, SiprecParticipant[]>();
  const facts: CallFacts = { participantsByLabel, sendersByLabel, ...(mapping?.agent !== undefined && { agent: mapping.agent }) };
  if (!metadata) {
    for (const label of present) sendersByLabel.set(label, []);
    return facts;
  }
  for (const stream of metadata.streams) {
    if (stream.label !== '' && !present.includes(stream.label)) throw invalid('the metadata names a stream whose label no m-line of the SDP carries');
  }
  for (const label of present) {
    const streamIds = new Set(metadata.streams.filter((s) => s.label === label).map((s) => s.id));
    const senders = metadata.participants.filter((p) => p.sends.some((id) => streamIds.has(id)));
    sendersByLabel.set(label, senders);
    if (senders.length === 1) participantsByLabel.set(label, senders[0]!);
  }

  const { caller, callee } = callerAndCallee(metadata);
  const callerPhone = caller && participantPhone(caller);
  const calleePhone = callee && participantPhone(callee);
  if (callerPhone) facts.caller = callerPhone;
  if (calleePhone) facts.callee = calleePhone;

  const agentId = mapping?.agentParticipantId;
  if (agentId !== undefined && caller?.id === agentId) facts.direction = 'outbound';
  else if (agentId !== undefined && callee?.id === agentId) facts.direction = 'inbound';
  // without a known agent: a phone number calling an extension comes in; an extension calling a number goes out
  else if (callerPhone && callee && !calleePhone) facts.direction = 'inbound';
  else if (!callerPhone && caller && calleePhone) facts.direction = 'outbound';

  // a session's start; else (OpenSIPS sends none) the first association of a participant, then of the group
  const zone = mapping?.timeZone;
  const times = [metadata.sessions.map((s) => s.startTime), metadata.associations.map((a) => a.associateTime), metadata.groups.map((g) => g.associateTime)];
  const startedAt = times.map((t) => earliest(t, zone)).find((t) => t !== undefined);
  if (startedAt) facts.startedAt = startedAt;
  const stops = metadata.sessions.map((s) => metadataTime(s.stopTime, zone));
  if (stops.length > 0 && stops.every((s) => s !== undefined)) facts.endedAt = (stops as string[]).sort().at(-1)!;
  return facts;
}
