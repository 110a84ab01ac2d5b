/**
 * RFC 7865 recording metadata (`application/rs-metadata+xml`, namespace
 * urn:ietf:params:xml:ns:recording:1) read into the model of types.ts, with the forms SBCs still
 * send from the drafts before it (docs/siprec.md §2):
 *   - ids as `participant_id`/`session_id`/`stream_id` (RFC) or `id` with a `session` reference (draft);
 *   - a participant's streams in `participantstreamassoc` (RFC) or as `send`/`recv` inside it (draft);
 *   - a participant's address as `nameID aor` (RFC) or as `aor`/`name` elements (early draft);
 *   - `datamode` or `dataMode`; the namespace with or without `:1`, default or prefixed (`tns:`).
 * Vendor elements (Oracle's `apkt:` extension data, AudioCodes' `ac:` tags, Ribbon's `callData`)
 * are kept as flat text in `extensions`. No message quotes the document: it holds phone numbers.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { CallvaultError, ErrorCodes } from '../errors.js';
import type { RecordingSessionMetadata, SiprecParticipant, SiprecParticipantSessionAssoc, SiprecSession, SiprecStream } from './types.js';

/** metadata larger than this is refused unread: a real one is a few KiB (Ribbon caps its call data at 2 KiB) */
export const MAX_METADATA_BYTES = 64 * 1024;
/** at most this many extension values are kept; a vendor that sends more has its excess dropped */
const MAX_EXTENSIONS = 256;
const MAX_EXTENSION_VALUE = 1024;

const NAMESPACE = /^urn:ietf:params:xml:ns:recording(:1)?$/;

function invalid(message: string): CallvaultError {
  return new CallvaultError(ErrorCodes.SIPREC_INVALID, `recording metadata: ${message}`);
}

/** one element as fast-xml-parser gives it with the options below: attributes under ':@', text under '#text', children by qualified name */
interface XmlNode {
  '#text'?: string;
  ':@'?: Record<string, string>;
  [child: string]: XmlNode[] | string | Record<string, string> | undefined;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  attributesGroupName: ':@',
  // every element an object, every child a list: one shape to walk, whatever the vendor nests
  alwaysCreateTextNode: true,
  isArray: (_name: string, _path: unknown, _leaf: boolean, isAttribute: boolean) => !isAttribute,
  // labels and ids stay text: '0012' is not 12
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  // only the five predefined entities are decoded; a document with a DTD is refused before this
  processEntities: true,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  removeNSPrefix: false,
});

const local = (name: string) => name.slice(name.indexOf(':') + 1);
const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

function childEntries(node: XmlNode): [string, XmlNode[]][] {
  return Object.entries(node).filter((e): e is [string, XmlNode[]] => e[0] !== '#text' && e[0] !== ':@' && Array.isArray(e[1]));
}

/** the children named `name` in any namespace prefix (vendors prefix the RFC's elements, or not) */
function children(node: XmlNode, name: string): XmlNode[] {
  return childEntries(node)
    .filter(([key]) => same(local(key), name))
    .flatMap(([, nodes]) => nodes);
}

function text(node: XmlNode | undefined): string | undefined {
  const t = node?.['#text'];
  return typeof t === 'string' && t.trim() !== '' ? t.trim() : undefined;
}

function childText(node: XmlNode, name: string): string | undefined {
  return text(children(node, name)[0]);
}

function childTexts(node: XmlNode, name: string): string[] {
  return children(node, name)
    .map(text)
    .filter((t): t is string => t !== undefined);
}

/** the first of the attributes named, by local name */
function attr(node: XmlNode, ...names: string[]): string | undefined {
  const attributes = node[':@'] ?? {};
  for (const name of names) {
    for (const [key, value] of Object.entries(attributes)) if (local(key) === name && value.trim() !== '') return value.trim();
  }
  return undefined;
}

function required(value: string | undefined, what: string): string {
  if (value === undefined) throw invalid(`${what} has no id`);
  return value;
}

/** the RFC's own children of each element; anything else under it is a vendor extension */
const KNOWN: Record<string, ReadonlySet<string>> = {
  recording: new Set(['datamode', 'group', 'session', 'participant', 'stream', 'participantsessionassoc', 'participantstreamassoc', 'sessionrecordingassoc', 'extensiondata']),
  group: new Set(['associate-time', 'disassociate-time', 'extensiondata']),
  session: new Set(['sipsessionid', 'start-time', 'stop-time', 'group-ref', 'associate-time', 'disassociate-time', 'extensiondata']),
  participant: new Set(['nameid', 'aor', 'name', 'send', 'recv', 'associate-time', 'disassociate-time', 'start-time', 'extensiondata']),
  stream: new Set(['label', 'mode', 'content-type', 'associate-time', 'disassociate-time', 'start-time', 'extensiondata']),
};

class Extensions {
  readonly values: Record<string, string> = {};
  #count = 0;

  /**
   * Every non-RFC child of `node`, under `scope`. An `extensiondata` at the top that names its
   * `parent` (Oracle's form) goes under the scope of that element, as `scopeOf` gives it.
   */
  collect(node: XmlNode, kind: keyof typeof KNOWN, scope: string, scopeOf?: (id: string) => string | undefined): void {
    for (const [key, nodes] of childEntries(node)) {
      const name = local(key).toLowerCase();
      if (name === 'extensiondata') {
        for (const wrapper of nodes) {
          const parent = attr(wrapper, 'parent');
          this.flatten(wrapper, (parent && scopeOf?.(parent)) ?? scope);
        }
      } else if (!KNOWN[kind]!.has(name)) {
        for (const n of nodes) this.flattenNamed(key, n, scope);
      }
    }
  }

  /** an element's children as `path.to.leaf` → text; an element labelled by an attribute (Oracle's `apkt:header label="…"`) gets `[label]` */
  flatten(node: XmlNode, path: string): void {
    for (const [key, nodes] of childEntries(node)) for (const n of nodes) this.flattenNamed(key, n, path);
  }

  private flattenNamed(key: string, node: XmlNode, path: string): void {
    const label = attr(node, 'label', 'name');
    const here = `${path}${key}${label ? `[${label}]` : ''}`;
    const value = text(node);
    if (value !== undefined) this.add(here, value);
    this.flatten(node, `${here}.`);
  }

  private add(key: string, value: string): void {
    // Oracle repeats `<value>` under one header: the values are joined in order
    const previous = this.values[key];
    if (previous === undefined && this.#count >= MAX_EXTENSIONS) return;
    if (previous === undefined) this.#count++;
    this.values[key] = (previous === undefined ? value : `${previous}, ${value}`).slice(0, MAX_EXTENSION_VALUE);
  }
}

function readDocument(xml: string): XmlNode {
  if (Buffer.byteLength(xml) > MAX_METADATA_BYTES) throw invalid(`larger than ${MAX_METADATA_BYTES} bytes`);
  // SIPREC metadata never has a DTD; refusing one refuses every entity-expansion attack with it
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw invalid('declares a document type or entities, which SIPREC metadata never does');
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw invalid(`is not well-formed XML (line ${valid.err.line})`);
  const doc = parser.parse(xml) as XmlNode;
  const roots = childEntries(doc);
  const root = roots.length === 1 && roots[0]![1].length === 1 && same(local(roots[0]![0]), 'recording') ? roots[0]![1][0]! : undefined;
  if (!root) throw invalid('the document element is not <recording>');
  const prefix = roots[0]![0].includes(':') ? roots[0]![0].slice(0, roots[0]![0].indexOf(':')) : undefined;
  const namespace = root[':@']?.[prefix ? `xmlns:${prefix}` : 'xmlns'];
  if (!namespace || !NAMESPACE.test(namespace.trim())) throw invalid('the document is not in the urn:ietf:params:xml:ns:recording namespace');
  return root;
}

/**
 * The metadata of one INVITE, re-INVITE or UPDATE. A `partial` document holds only what changed:
 * give it to mergeMetadata with what came before.
 */
export function parseMetadata(xml: string): RecordingSessionMetadata {
  const root = readDocument(xml);
  const extensions = new Extensions();

  const mode = (childText(root, 'datamode') ?? 'complete').toLowerCase();
  if (mode !== 'complete' && mode !== 'partial') throw invalid('datamode is neither complete nor partial');

  const groups = children(root, 'group').map((g) => {
    extensions.collect(g, 'group', '');
    return withDefined({ id: required(attr(g, 'group_id', 'id'), 'a group'), associateTime: childText(g, 'associate-time') });
  });

  const sessions: SiprecSession[] = children(root, 'session').map((s) => {
    extensions.collect(s, 'session', '');
    return withDefined({
      id: required(attr(s, 'session_id', 'id'), 'a session'),
      groupId: childText(s, 'group-ref') ?? attr(s, 'group_id', 'group'),
      sipSessionIds: childTexts(s, 'sipSessionID'),
      // Oracle's draft form gives the time the SBC associated the session, and no start-time
      startTime: childText(s, 'start-time') ?? childText(s, 'associate-time'),
      stopTime: childText(s, 'stop-time') ?? childText(s, 'disassociate-time'),
    });
  });

  const associations: SiprecParticipantSessionAssoc[] = [];
  const participants = new Map<string, SiprecParticipant>();
  const participantFor = (id: string) => {
    const known = participants.get(id);
    if (known) return known;
    const p: SiprecParticipant = { id, nameIds: [], sends: [], receives: [] };
    participants.set(id, p);
    return p;
  };

  for (const node of children(root, 'participant')) {
    const id = required(attr(node, 'participant_id', 'id'), 'a participant');
    const p = participantFor(id);
    extensions.collect(node, 'participant', `participant[${id}]/`);
    for (const n of children(node, 'nameID')) {
      const aor = attr(n, 'aor');
      if (aor) p.nameIds.push(withDefined({ aor, name: childText(n, 'name') }));
    }
    // the early draft's flat form: <aor> and <name> beside each other
    const name = childText(node, 'name');
    for (const aor of childTexts(node, 'aor')) p.nameIds.push(withDefined({ aor, name }));
    p.sends.push(...childTexts(node, 'send'));
    p.receives.push(...childTexts(node, 'recv'));
    const session = attr(node, 'session', 'session_id');
    const associateTime = childText(node, 'associate-time') ?? childText(node, 'start-time');
    const disassociateTime = childText(node, 'disassociate-time');
    if (session) associations.push(withDefined({ participantId: id, sessionId: session, associateTime, disassociateTime }));
  }

  for (const node of children(root, 'participantstreamassoc')) {
    const p = participantFor(required(attr(node, 'participant_id', 'participant', 'id'), 'a participantstreamassoc'));
    p.sends.push(...childTexts(node, 'send'));
    p.receives.push(...childTexts(node, 'recv'));
  }

  for (const node of children(root, 'participantsessionassoc')) {
    associations.push(
      withDefined({
        participantId: required(attr(node, 'participant_id', 'participant'), 'a participantsessionassoc'),
        sessionId: required(attr(node, 'session_id', 'session'), 'a participantsessionassoc'),
        associateTime: childText(node, 'associate-time'),
        disassociateTime: childText(node, 'disassociate-time'),
      }),
    );
  }

  const streams: SiprecStream[] = children(root, 'stream').map((node) => {
    const id = required(attr(node, 'stream_id', 'id'), 'a stream');
    extensions.collect(node, 'stream', `stream[${id}]/`);
    const label = childText(node, 'label');
    // a partial update may name a stream only to change its times; its label stays what it was
    if (label === undefined && mode === 'complete') throw invalid('a stream has no label');
    return withDefined({ id, label: label ?? '', sessionId: attr(node, 'session_id', 'session') });
  });

  const scopeOf = (id: string) =>
    participants.has(id)
      ? `participant[${id}]/`
      : streams.some((s) => s.id === id)
        ? `stream[${id}]/`
        : sessions.some((s) => s.id === id) || groups.some((g) => g.id === id)
          ? ''
          : undefined;
  extensions.collect(root, 'recording', '', scopeOf);

  for (const p of participants.values()) {
    p.sends = unique(p.sends);
    p.receives = unique(p.receives);
  }
  return {
    dataMode: mode,
    groups,
    sessions,
    participants: [...participants.values()],
    streams,
    associations,
    extensions: extensions.values,
  };
}

/**
 * The metadata after a re-INVITE or UPDATE: a `complete` update replaces what came before; a
 * `partial` one (RFC 7865 §6) adds and changes elements by id and leaves the others as they were.
 */
export function mergeMetadata(previous: RecordingSessionMetadata | undefined, update: RecordingSessionMetadata): RecordingSessionMetadata {
  if (!previous || update.dataMode === 'complete') return update;
  const byId = <T extends { id: string }>(old: T[], changed: T[], merge: (a: T, b: T) => T): T[] => {
    const out = new Map(old.map((x) => [x.id, x]));
    for (const x of changed) out.set(x.id, out.has(x.id) ? merge(out.get(x.id)!, x) : x);
    return [...out.values()];
  };
  const associations = new Map(previous.associations.map((a) => [`${a.participantId}\n${a.sessionId}`, a]));
  for (const a of update.associations) {
    const key = `${a.participantId}\n${a.sessionId}`;
    associations.set(key, { ...associations.get(key), ...a });
  }
  return {
    // what the SRS holds is a whole picture again
    dataMode: 'complete',
    groups: byId(previous.groups, update.groups, (a, b) => ({ ...a, ...b })),
    sessions: byId(previous.sessions, update.sessions, (a, b) => ({ ...a, ...b, sipSessionIds: unique([...a.sipSessionIds, ...b.sipSessionIds]) })),
    participants: byId(previous.participants, update.participants, (a, b) => ({
      id: a.id,
      nameIds: b.nameIds.length > 0 ? b.nameIds : a.nameIds,
      sends: unique([...a.sends, ...b.sends]),
      receives: unique([...a.receives, ...b.receives]),
    })),
    streams: byId(previous.streams, update.streams, (a, b) => ({ ...a, ...b, label: b.label || a.label })),
    associations: [...associations.values()],
    extensions: { ...previous.extensions, ...update.extensions },
  };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** the object without its undefined properties, so that merging with `...` keeps older values */
function withDefined<T extends object>(o: T): T {
  for (const key of Object.keys(o) as (keyof T)[]) if (o[key] === undefined) delete o[key];
  return o;
}
