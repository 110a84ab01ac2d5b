/**
 * Which controller, region and agent a recorded call belongs to: the `siprec` section of the data
 * directory's config.json (docs/siprec.md §4) names each SBC allowed to record, by its TLS client
 * certificate (subject CN or subjectAltName) or its source address, and says where the agent's id
 * is found in the metadata. A call from an SBC no rule names is refused (the server answers 403).
 */
import { BlockList, isIP } from 'node:net';
import { CallvaultError, ErrorCodes, isCallvaultError } from '../errors.js';
import { assertOrganisationId } from '../tenancy/tenancy.js';
import type { CallMapping, RecordingSessionMetadata, SbcIdentity } from './types.js';

/** one SBC, as config.json's `siprec.sbcs[i]` gives it */
export interface SbcRule {
  /** the SBC's name in logs and audit entries (not an identifier: an operator's label) */
  name: string;
  /** every given field must match: `cn` and `san` only a mutual-TLS connection's verified certificate */
  match: { cn?: string; san?: string; address?: string };
  controller: string;
  region?: string;
  /** where the agent's id is: a participant's AOR that agentPattern matches, or an extension value */
  agentFrom?: 'participant-aor' | `extension:${string}`;
  /** a regular expression; its first group (else the whole match) is the agent id */
  agentPattern?: string;
  /** the IANA zone of the times the SBC writes without a zone (Oracle's draft form); absent, UTC */
  timeZone?: string;
}

export interface SiprecConfig {
  sbcs: SbcRule[];
}

/** a rule ready to match: its address block and pattern compiled once */
interface CompiledRule {
  rule: SbcRule;
  addresses?: BlockList;
  pattern?: RegExp;
}

export interface SiprecMapping {
  readonly rules: readonly CompiledRule[];
}

function badConfig(source: string, path: string, expected: string): CallvaultError {
  return new CallvaultError(ErrorCodes.USAGE, `${source}.${path} ${expected}`);
}

const isText = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

/** an address or CIDR block as a BlockList; IPv4 also matches its IPv4-mapped IPv6 form */
function addressBlock(value: string, source: string, path: string): BlockList {
  const [address = '', prefixText, ...rest] = value.trim().split('/');
  const type = isIP(address) === 6 ? 'ipv6' : isIP(address) === 4 ? 'ipv4' : undefined;
  const prefix = prefixText === undefined ? (type === 'ipv6' ? 128 : 32) : Number(prefixText);
  if (!type || rest.length > 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (type === 'ipv6' ? 128 : 32)) {
    throw badConfig(source, `${path}.match.address`, 'is an IPv4 or IPv6 address, or a CIDR block such as 10.20.0.0/24');
  }
  const list = new BlockList();
  list.addSubnet(address, prefix, type);
  return list;
}

/**
 * The `siprec` section of config.json, checked: each mistake is a CV_USAGE error naming the
 * setting, under `source` (where the section was read). No section (or no SBC) leaves every SBC refused.
 */
export function parseSiprecConfig(raw: unknown, source = 'config.json siprec'): SiprecMapping {
  if (raw === undefined) return { rules: [] };
  if (typeof raw !== 'object' || raw === null || !Array.isArray((raw as { sbcs?: unknown }).sbcs)) throw badConfig(source, 'sbcs', 'is a list of SBCs');
  const names = new Set<string>();
  const rules = ((raw as { sbcs: unknown[] }).sbcs ?? []).map((entry, i): CompiledRule => {
    const path = `sbcs[${i}]`;
    if (typeof entry !== 'object' || entry === null) throw badConfig(source, path, 'is an object');
    const e = entry as Record<string, unknown>;
    if (!isText(e.name)) throw badConfig(source, `${path}.name`, 'is the SBC’s name');
    if (names.has(e.name)) throw badConfig(source, `${path}.name`, 'names another SBC already');
    names.add(e.name);
    const match = e.match as Record<string, unknown> | undefined;
    if (typeof match !== 'object' || match === null) throw badConfig(source, `${path}.match`, 'is an object with cn, san or address');
    for (const key of Object.keys(match)) if (!['cn', 'san', 'address'].includes(key)) throw badConfig(source, `${path}.match.${key}`, 'is not a setting (cn, san, address)');
    if (![match.cn, match.san, match.address].some(isText)) throw badConfig(source, `${path}.match`, 'names a certificate cn, a san or an address');
    for (const key of ['cn', 'san', 'address'] as const) if (match[key] !== undefined && !isText(match[key])) throw badConfig(source, `${path}.match.${key}`, 'is text');
    if (!isText(e.controller)) throw badConfig(source, `${path}.controller`, 'is a controller id');
    try {
      assertOrganisationId(e.controller, 'controller');
    } catch (err) {
      if (isCallvaultError(err)) throw badConfig(source, `${path}.controller`, 'is a controller id: lower-case letters, digits and dashes');
      throw err;
    }
    if (e.region !== undefined && !isText(e.region)) throw badConfig(source, `${path}.region`, 'is text');
    const agentFrom = e.agentFrom;
    if (agentFrom !== undefined && agentFrom !== 'participant-aor' && !(typeof agentFrom === 'string' && /^extension:.+/.test(agentFrom))) {
      throw badConfig(source, `${path}.agentFrom`, 'is participant-aor or extension:KEY');
    }
    if (agentFrom === 'participant-aor' && e.agentPattern === undefined)
      throw badConfig(source, `${path}.agentPattern`, 'is needed with agentFrom participant-aor: it tells the agent from the caller');
    let pattern: RegExp | undefined;
    if (e.agentPattern !== undefined) {
      if (!isText(e.agentPattern)) throw badConfig(source, `${path}.agentPattern`, 'is a regular expression');
      try {
        pattern = new RegExp(e.agentPattern, 'i');
      } catch {
        throw badConfig(source, `${path}.agentPattern`, 'is not a valid regular expression');
      }
    }
    if (e.timeZone !== undefined) {
      if (!isText(e.timeZone)) throw badConfig(source, `${path}.timeZone`, 'is an IANA time zone such as Europe/Stockholm');
      try {
        new Intl.DateTimeFormat('en', { timeZone: e.timeZone });
      } catch {
        throw badConfig(source, `${path}.timeZone`, 'is an IANA time zone such as Europe/Stockholm');
      }
    }
    const rule: SbcRule = {
      name: e.name,
      match: { ...(isText(match.cn) && { cn: match.cn }), ...(isText(match.san) && { san: match.san }), ...(isText(match.address) && { address: match.address }) },
      controller: e.controller,
      ...(isText(e.region) && { region: e.region }),
      ...(agentFrom !== undefined && { agentFrom: agentFrom as SbcRule['agentFrom'] }),
      ...(isText(e.agentPattern) && { agentPattern: e.agentPattern }),
      ...(isText(e.timeZone) && { timeZone: e.timeZone }),
    };
    return { rule, ...(rule.match.address && { addresses: addressBlock(rule.match.address, source, path) }), ...(pattern && { pattern }) };
  });
  return { rules };
}

function addressMatches(block: BlockList, address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const plain = mapped ? mapped[1]! : address;
  const type = isIP(plain) === 6 ? 'ipv6' : isIP(plain) === 4 ? 'ipv4' : undefined;
  return type !== undefined && block.check(plain, type);
}

function matches(compiled: CompiledRule, sbc: SbcIdentity): boolean {
  const { match } = compiled.rule;
  const tls = sbc.transport === 'tls';
  if (match.cn !== undefined && !(tls && sbc.certificateCn?.toLowerCase() === match.cn.toLowerCase())) return false;
  if (match.san !== undefined && !(tls && (sbc.certificateSans ?? []).some((s) => s.toLowerCase() === match.san!.toLowerCase()))) return false;
  if (compiled.addresses && !addressMatches(compiled.addresses, sbc.address)) return false;
  return true;
}

/** the first rule that names this SBC; an SBC none names is refused with CV_FORBIDDEN (SIP 403) */
export function findSbc(mapping: SiprecMapping, sbc: SbcIdentity): SbcRule {
  return compiledFor(mapping, sbc).rule;
}

function compiledFor(mapping: SiprecMapping, sbc: SbcIdentity): CompiledRule {
  const found = mapping.rules.find((r) => matches(r, sbc));
  if (!found) throw new CallvaultError(ErrorCodes.FORBIDDEN, 'this SBC is not configured to record here (config.json siprec.sbcs)');
  return found;
}

/** the agent's id and, when it came from one, the participant it is */
function agentOf(compiled: CompiledRule, metadata: RecordingSessionMetadata | undefined): { agent: string; participantId?: string } | undefined {
  const { rule, pattern } = compiled;
  if (!rule.agentFrom || !metadata) return undefined;
  const pick = (value: string) => {
    if (!pattern) return value;
    const m = pattern.exec(value);
    return m ? (m[1] ?? m[0]) : undefined;
  };
  if (rule.agentFrom === 'participant-aor') {
    for (const p of metadata.participants) {
      for (const n of p.nameIds) {
        const agent = pick(n.aor);
        if (agent) return { agent, participantId: p.id };
      }
    }
    return undefined;
  }
  const value = metadata.extensions[rule.agentFrom.slice('extension:'.length)];
  const agent = value === undefined ? undefined : pick(value);
  return agent ? { agent } : undefined;
}

/**
 * Where a call from `sbc` belongs: its controller and region from the rule that names the SBC,
 * its agent from the metadata as the rule says. Throws CV_FORBIDDEN for an SBC no rule names.
 */
export function mapCall(mapping: SiprecMapping, sbc: SbcIdentity, metadata: RecordingSessionMetadata | undefined): CallMapping & { sbc: string } {
  const compiled = compiledFor(mapping, sbc);
  const { rule } = compiled;
  const agent = agentOf(compiled, metadata);
  return {
    sbc: rule.name,
    controller: rule.controller,
    ...(rule.region !== undefined && { region: rule.region }),
    ...(rule.timeZone !== undefined && { timeZone: rule.timeZone }),
    ...(agent && { agent: agent.agent }),
    ...(agent?.participantId !== undefined && { agentParticipantId: agent.participantId }),
  };
}
