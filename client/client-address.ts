import type { IncomingMessage } from 'node:http';
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Range = [Address, number];

/** Strict text → address: four decimal octets or RFC 4291 IPv6 without a zone; IPv4-mapped IPv6 is IPv4. */
function parseAddress(text: string): Address | undefined {
  const trimmed = text.trim();
  if (trimmed.length === 0 || trimmed.length > 64) return undefined;
  if (ipaddr.IPv4.isValidFourPartDecimal(trimmed)) return ipaddr.IPv4.parse(trimmed);
  if (trimmed.includes('%') || !ipaddr.IPv6.isValid(trimmed)) return undefined;
  const v6 = ipaddr.IPv6.parse(trimmed);
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address() : v6;
}

/** TRUSTED_PROXIES entries: CIDRs or bare addresses (a single host). Throws on anything else, at start. */
export function parseTrustedProxies(entries: readonly string[]): readonly Range[] {
  return entries.map((entry) => {
    const [addressText, prefixText, ...rest] = entry.trim().split('/');
    const address = addressText === undefined ? undefined : parseAddress(addressText);
    const maxPrefix = address?.kind() === 'ipv4' ? 32 : 128;
    const prefix = prefixText === undefined ? maxPrefix : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
    if (!address || rest.length > 0 || !(prefix >= 0 && prefix <= maxPrefix)) throw new Error(`TRUSTED_PROXIES: ${JSON.stringify(entry)} is not an address or CIDR`);
    return [address, prefix];
  });
}

function isTrusted(address: Address, ranges: readonly Range[]): boolean {
  return ranges.some(([network, prefix]) => network.kind() === address.kind() && address.match(network, prefix));
}

/**
 * The address of the end user behind a request. The socket address, unless that is a trusted proxy: then
 * `X-Forwarded-For` is read from the right, skipping trusted hops, and the first untrusted hop is the
 * client. What an untrusted hop wrote is never believed, and anything that is not an address in the chain
 * makes the answer undefined (an unknown client is never taken for a known one).
 */
export function createClientAddress(trustedProxies: readonly string[]): (req: IncomingMessage) => string | undefined {
  const trusted = parseTrustedProxies(trustedProxies);
  return (req) => {
    const socket = req.socket.remoteAddress === undefined ? undefined : parseAddress(req.socket.remoteAddress);
    if (!socket) return undefined;
    if (trusted.length === 0 || !isTrusted(socket, trusted)) return socket.toString();
    const header = req.headers['x-forwarded-for'];
    if (header === undefined) return socket.toString();
    const hops = (Array.isArray(header) ? header.join(',') : header).split(',');
    let client = socket;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = parseAddress(hops[i]!);
      if (!hop) return undefined;
      client = hop;
      if (!isTrusted(hop, trusted)) break;
    }
    return client.toString();
  };
}
