/** The committed SIPREC requests (testdata/siprec): a whole INVITE, read into its Content-Type and body. */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SIPREC_DATA = fileURLToPath(new URL('../../../testdata/siprec/', import.meta.url));

export interface SipFixture {
  /** the raw request, exactly as committed */
  raw: string;
  contentType: string;
  body: string;
}

export function readSipFixture(path: string): SipFixture {
  const raw = readFileSync(`${SIPREC_DATA}${path}`, 'utf8');
  const blank = /\r?\n\r?\n/.exec(raw);
  if (!blank) throw new Error(`${path} has no blank line after its headers`);
  const head = raw.slice(0, blank.index);
  const body = raw.slice(blank.index + blank[0].length);
  // Content-Type or its compact form c:
  const contentType = /^(?:content-type|c)[ \t]*:[ \t]*(.+)$/im.exec(head)?.[1]?.trim();
  if (!contentType) throw new Error(`${path} has no Content-Type`);
  const length = Number(/^(?:content-length|l)[ \t]*:[ \t]*(\d+)/im.exec(head)?.[1]);
  if (length !== Buffer.byteLength(body)) throw new Error(`${path}: Content-Length ${length} is not the body's ${Buffer.byteLength(body)} bytes`);
  return { raw, contentType, body };
}

export function fixtureNames(dir: string): string[] {
  return readdirSync(`${SIPREC_DATA}${dir}`)
    .filter((f) => f.endsWith('.sip'))
    .sort();
}
