import type { IncomingMessage } from 'node:http';
import { cidrContains, parseCidr, parseIp, type Cidr } from '../cidr.js';

/** Canonical text of an address (`::ffff:10.0.0.1` → `10.0.0.1`), or undefined when it is not one. */
function canonical(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const ip = parseIp(text.trim());
  if (!ip) return undefined;
  return ip.family === 4 ? ip.bytes.join('.') : text.trim().toLowerCase();
}

/** Parses a range list where a bare address means itself (`/32`, `/128`); throws on anything else. */
export function parseRanges(name: string, entries: readonly string[]): readonly Cidr[] {
  return entries.map((entry) => {
    const text = entry.includes('/') ? entry : `${entry}/${entry.includes(':') ? 128 : 32}`;
    const parsed = parseCidr(text);
    if (!parsed.ok) throw new Error(`${name}: ${JSON.stringify(entry)} is not a usable range (${parsed.reason})`);
    return parsed.cidr;
  });
}

export function inRanges(address: string | undefined, ranges: readonly Cidr[]): boolean {
  if (address === undefined) return false;
  const ip = parseIp(address);
  return ip !== undefined && ranges.some((range) => cidrContains(range, ip));
}

/**
 * The address of the client that made a request. The socket address, unless that is a trusted proxy
 * (TRUSTED_PROXIES): then `X-Forwarded-For` is read from the right, skipping trusted hops, and the first
 * untrusted hop is the client (an untrusted hop's header is never believed, and what
 * a client writes at the left of the list is never read past a hop we do not trust). Undefined when the
 * chain holds something that is not an address: an unknown client is never taken for an internal one.
 */
export function createClientAddress(trustedProxies: readonly string[]): (req: Pick<IncomingMessage, 'socket' | 'headers'>) => string | undefined {
  const trusted = parseRanges('TRUSTED_PROXIES', trustedProxies);
  // A connection's address does not change: a keep-alive connection's requests parse it once, not each (parsing
  // was most of what the decision log cost a request). Only the forwarded chain is read per request.
  const bySocket = new WeakMap<object, { readonly address: string; readonly isTrustedProxy: boolean }>();
  return (req) => {
    let peer = bySocket.get(req.socket);
    if (peer === undefined) {
      const address = canonical(req.socket.remoteAddress);
      // A socket that tells no address (closed before it was asked) is asked again next time.
      if (address === undefined) return undefined;
      peer = { address, isTrustedProxy: trusted.length > 0 && inRanges(address, trusted) };
      bySocket.set(req.socket, peer);
    }
    const socket = peer.address;
    if (!peer.isTrustedProxy) return socket;
    const header = req.headers['x-forwarded-for'];
    if (header === undefined) return socket;
    const hops = (Array.isArray(header) ? header.join(',') : header).split(',');
    let client = socket;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = canonical(hops[i]);
      if (hop === undefined) return undefined;
      client = hop;
      if (!inRanges(hop, trusted)) return hop;
    }
    return client;
  };
}
