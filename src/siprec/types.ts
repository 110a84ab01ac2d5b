/**
 * The SIPREC recording session model callvault keeps (RFC 7865 metadata, docs/siprec.md), and
 * what the recording server derives from it for one call. The functions over these types:
 *   - multipart.ts  `parseSiprecBody(contentType, body): SiprecOffer`,
 *                   `buildMultipartBody(parts): { contentType, body }`
 *   - metadata.ts   `parseMetadata(xml): RecordingSessionMetadata`,
 *                   `mergeMetadata(previous, update): RecordingSessionMetadata`
 *   - facts.ts      `callFacts(metadata, sdp, mapping?): CallFacts`
 *   - mapping.ts    `parseSiprecConfig(vault.config.siprec): SiprecMapping` (CV_USAGE on a bad setting),
 *                   `mapCall(mapping, sbc, metadata): CallMapping & { sbc }` (CV_FORBIDDEN for an unknown SBC)
 * Every error they throw is a CallvaultError with code CV_SIPREC_INVALID (or CV_FORBIDDEN for an
 * unknown SBC), and no message quotes the body: it holds phone numbers.
 */

/** one name of a participant: its address of record and, when sent, its display name */
export interface SiprecNameId {
  /** e.g. 'sip:+46701740611@sbc.example' or 'tel:+46701740611' */
  aor: string;
  name?: string;
}

export interface SiprecParticipant {
  id: string;
  nameIds: SiprecNameId[];
  /** ids of the streams this participant sends */
  sends: string[];
  /** ids of the streams this participant receives */
  receives: string[];
}

export interface SiprecStream {
  id: string;
  /** the SDP `a=label` of the m-line carrying this stream */
  label: string;
  sessionId?: string;
}

export interface SiprecSession {
  id: string;
  groupId?: string;
  /** the Call-IDs (RFC 7865 sipSessionID) of the communication session */
  sipSessionIds: string[];
  startTime?: string;
  stopTime?: string;
}

export interface SiprecParticipantSessionAssoc {
  participantId: string;
  sessionId: string;
  associateTime?: string;
  disassociateTime?: string;
}

export interface RecordingSessionMetadata {
  dataMode: 'complete' | 'partial';
  groups: { id: string; associateTime?: string }[];
  sessions: SiprecSession[];
  participants: SiprecParticipant[];
  streams: SiprecStream[];
  associations: SiprecParticipantSessionAssoc[];
  /** vendor extension elements kept as flat key → value text (no identifiers logged) */
  extensions: Record<string, string>;
}

/** the body of an INVITE or re-INVITE from the SBC (the session recording client) */
export interface SiprecOffer {
  sdp: string;
  metadata?: RecordingSessionMetadata;
}

/** who the SBC is, as the server saw it */
export interface SbcIdentity {
  /** the TLS client certificate's subject CN, when the SBC connected over mutual TLS */
  certificateCn?: string;
  /** the certificate's subjectAltName DNS names and IP addresses */
  certificateSans?: string[];
  /** the source address of the connection or datagram */
  address: string;
  transport: 'udp' | 'tcp' | 'tls';
}

/** where a call from one SBC belongs, from configuration (siprec.sbcs) and the metadata */
export interface CallMapping {
  controller: string;
  region?: string;
  agent?: string;
  /** the participant the agent is, when the agent's id came from a participant's AOR */
  agentParticipantId?: string;
  /** the IANA zone the SBC writes times without a zone in (absent: UTC) */
  timeZone?: string;
}

/** what the recorder needs for one call, derived from metadata + SDP */
export interface CallFacts {
  startedAt?: string;
  endedAt?: string;
  direction?: 'inbound' | 'outbound';
  /** E.164 when the AOR holds a phone number */
  caller?: string;
  callee?: string;
  /** a=label of each m-line → the participant who sends it (absent for a mixed stream, which several send) */
  participantsByLabel: Map<string, SiprecParticipant>;
  /** a=label of each m-line → every participant who sends it: one, several for a mixed stream, none when the metadata does not say */
  sendersByLabel: Map<string, SiprecParticipant[]>;
  /** from mapping */
  agent?: string;
}
