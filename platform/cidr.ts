import ipaddr from 'ipaddr.js';

/** An address range: its network bytes (4 or 16), prefix length and canonical text (`10.0.0.0/8`, `2001:db8::/48`). */
export interface Cidr {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
  readonly prefixLength: number;
  readonly text: string;
}

/** An IP address as bytes; an IPv4-mapped IPv6 address (`::ffff:10.1.2.3`) is its IPv4 address. */
export interface IpAddress {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
}

export type CidrParse = { readonly ok: true; readonly cidr: Cidr } | { readonly ok: false; readonly reason: string };

/** The widest ranges an allowlist may hold: an IPv4 /8, an IPv6 /48. */
export const minPrefixLength = { 4: 8, 6: 48 } as const;

const maxTextLength = 64;
const decimalPrefix = /^(?:0|[1-9][0-9]{0,2})$/;
// Four decimal octets without leading zeros: `010.0.0.1` is octal to some parsers and decimal to others.
const dottedQuad = /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$/;

/**
 * Parses an address strictly: four decimal octets for IPv4, RFC 4291 text without a zone for IPv6; no
 * shorthand (`10.1`), hex or octal forms. Undefined when `text` is not such an address.
 */
export function parseIp(text: string): IpAddress | undefined {
  if (text.length === 0 || text.length > maxTextLength) return undefined;
  if (dottedQuad.test(text)) return { family: 4, bytes: Uint8Array.from(ipaddr.IPv4.parse(text).toByteArray()) };
  if (text.includes('%') || !text.includes(':') || !ipaddr.IPv6.isValid(text)) return undefined;
  const address = ipaddr.IPv6.parse(text);
  if (address.isIPv4MappedAddress()) return { family: 4, bytes: Uint8Array.from(address.toIPv4Address().toByteArray()) };
  return { family: 6, bytes: Uint8Array.from(address.toByteArray()) };
}

/**
 * Parses an allowlist entry `<address>/<prefix>`. Refused: a bare address (the prefix must be explicit), a
 * prefix wider than {@link minPrefixLength}, host bits set below the prefix (`10.1.0.0/8` is refused rather
 * than silently widened or narrowed: the author meant one of two things), IPv4-mapped IPv6 ranges (write
 * the IPv4 range), zones, and ambiguous spellings (`010.0.0.0`, `10.1`, `/08`). IPv6 is written back in
 * lower-case RFC 5952 form, so equal ranges have equal text.
 *
 * @example
 * parseCidr('2001:DB8::/48') // { ok: true, cidr: { family: 6, prefixLength: 48, text: '2001:db8::/48', ... } }
 * parseCidr('10.0.0.1')      // { ok: false, reason: 'a prefix length is required (e.g. 10.0.0.1/32)' }
 */
export function parseCidr(text: string): CidrParse {
  if (typeof text !== 'string' || text.length === 0 || text.length > maxTextLength) return refuse('not a CIDR');
  const slash = text.indexOf('/');
  if (slash === -1) return parseIp(text) ? refuse(`a prefix length is required (e.g. ${text}/${text.includes(':') ? 128 : 32})`) : refuse('not a CIDR');
  const addressText = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  if (!decimalPrefix.test(prefixText)) return refuse('the prefix length must be a decimal number');
  const prefixLength = Number(prefixText);
  const address = parseIp(addressText);
  if (!address) return refuse('not a CIDR');
  if (addressText.includes(':') && address.family === 4) return refuse('IPv4-mapped IPv6 ranges are not accepted; write the IPv4 range');
  const maxPrefix = address.family === 4 ? 32 : 128;
  if (prefixLength > maxPrefix) return refuse(`the prefix length must be at most /${maxPrefix}`);
  if (prefixLength < minPrefixLength[address.family]) return refuse(`ranges wider than /${minPrefixLength[address.family]} are not accepted`);
  const network = maskBytes(address.bytes, prefixLength);
  const networkText = toText(address.family, network);
  if (!sameBytes(network, address.bytes)) return refuse(`host bits are set; the network is ${networkText}/${prefixLength}`);
  return { ok: true, cidr: Object.freeze({ family: address.family, bytes: network, prefixLength, text: `${networkText}/${prefixLength}` }) };
}

/** Whether `ip` lies in `cidr` (families must match; IPv4-mapped addresses were already turned into IPv4). */
export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  if (cidr.family !== ip.family) return false;
  const full = cidr.prefixLength >> 3;
  for (let i = 0; i < full; i++) if (cidr.bytes[i] !== ip.bytes[i]) return false;
  const rest = cidr.prefixLength & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((ip.bytes[full] ?? 0) & mask) === (cidr.bytes[full] ?? 0);
}

/**
 * Whether a client address is inside any of the ranges. Fails closed: an address that does not parse, or
 * an entry that does not, never allows. Pass parsed {@link Cidr}s on hot paths; strings are parsed per call.
 *
 * @example
 * isAllowed('::ffff:10.1.2.3', ['10.0.0.0/8']) // true
 */
export function isAllowed(ip: string, cidrs: readonly (Cidr | string)[]): boolean {
  const address = parseIp(ip);
  if (!address) return false;
  for (const entry of cidrs) {
    const cidr = typeof entry === 'string' ? parsedOrUndefined(entry) : entry;
    if (cidr && cidrContains(cidr, address)) return true;
  }
  return false;
}

function parsedOrUndefined(text: string): Cidr | undefined {
  const parsed = parseCidr(text);
  return parsed.ok ? parsed.cidr : undefined;
}

function refuse(reason: string): CidrParse {
  return { ok: false, reason };
}

function maskBytes(bytes: Uint8Array, prefixLength: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const bits = Math.min(8, Math.max(0, prefixLength - i * 8));
    out[i] = (bytes[i] ?? 0) & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function toText(family: 4 | 6, bytes: Uint8Array): string {
  return family === 4 ? [...bytes].join('.') : new ipaddr.IPv6(toParts(bytes)).toRFC5952String();
}

function toParts(bytes: Uint8Array): number[] {
  const parts: number[] = [];
  for (let i = 0; i < bytes.length; i += 2) parts.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  return parts;
}
