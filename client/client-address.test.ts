import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createClientAddress, parseTrustedProxies } from './client-address.js';

const request = (remoteAddress: string, forwardedFor?: string) =>
  ({ socket: { remoteAddress }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } }) as unknown as IncomingMessage;

describe('client address from TRUSTED_PROXIES', () => {
  it('without trusted proxies the socket address is the client, whatever X-Forwarded-For says', () => {
    expect(createClientAddress([])(request('198.51.100.7', '10.0.0.1'))).toBe('198.51.100.7');
  });

  it('from a trusted proxy the rightmost untrusted hop is the client', () => {
    const address = createClientAddress(['10.0.0.0/8', '127.0.0.1']);
    expect(address(request('127.0.0.1', '203.0.113.9'))).toBe('203.0.113.9');
    expect(address(request('127.0.0.1', '1.2.3.4, 203.0.113.9, 10.1.1.1'))).toBe('203.0.113.9');
    expect(address(request('::ffff:127.0.0.1', '203.0.113.9'))).toBe('203.0.113.9');
  });

  it('a header from an untrusted socket is ignored', () => {
    expect(createClientAddress(['10.0.0.0/8'])(request('192.0.2.1', '10.2.3.4'))).toBe('192.0.2.1');
  });

  it('every hop trusted: the leftmost is the client; no header: the proxy itself', () => {
    const address = createClientAddress(['10.0.0.0/8']);
    expect(address(request('10.0.0.1', '10.9.9.9, 10.0.0.2'))).toBe('10.9.9.9');
    expect(address(request('10.0.0.1'))).toBe('10.0.0.1');
  });

  it('a hop that is not an address makes the client unknown (never a guess)', () => {
    const address = createClientAddress(['127.0.0.1']);
    expect(address(request('127.0.0.1', 'garbage'))).toBeUndefined();
    expect(address(request('127.0.0.1', '010.0.0.1'))).toBeUndefined();
    expect(address(request('127.0.0.1', 'fe80::1%eth0'))).toBeUndefined();
  });

  it('refuses unusable TRUSTED_PROXIES entries at start', () => {
    for (const entry of ['10.0.0.0/33', 'proxy.local', '10.0.0.0/8/1', '', '::1/129']) expect(() => parseTrustedProxies([entry])).toThrow(/TRUSTED_PROXIES/);
    expect(parseTrustedProxies(['::1', '2001:db8::/32'])).toHaveLength(2);
  });
});
