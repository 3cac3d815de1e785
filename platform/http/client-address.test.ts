import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createClientAddress } from './client-address.js';

/** A socket that counts how often its address is read. */
function socketAt(remoteAddress: string | undefined) {
  const socket = {
    reads: 0,
    address: remoteAddress,
    get remoteAddress() {
      socket.reads++;
      return socket.address;
    },
  };
  return socket;
}

const requestOn = (socket: ReturnType<typeof socketAt>, forwardedFor?: string) =>
  ({ socket, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } }) as unknown as IncomingMessage;

describe('the client address of a request', () => {
  it('is the socket address in canonical form (an IPv4-mapped IPv6 address is the IPv4 address)', () => {
    const address = createClientAddress([]);
    expect(address(requestOn(socketAt('::ffff:198.51.100.7')))).toBe('198.51.100.7');
    expect(address(requestOn(socketAt('2001:DB8::1')))).toBe('2001:db8::1');
    expect(address(requestOn(socketAt('not an address')))).toBeUndefined();
  });

  it("reads a keep-alive connection's address once, not at each of its requests", () => {
    const address = createClientAddress([]);
    const socket = socketAt('198.51.100.7');
    for (let i = 0; i < 5; i++) expect(address(requestOn(socket))).toBe('198.51.100.7');
    expect(socket.reads).toBe(1);
    const other = socketAt('203.0.113.9');
    expect(address(requestOn(other))).toBe('203.0.113.9');
    expect(other.reads).toBe(1);
  });

  it('asks a socket that told no address again at its next request', () => {
    const address = createClientAddress([]);
    const socket = socketAt(undefined);
    expect(address(requestOn(socket))).toBeUndefined();
    socket.address = '198.51.100.7';
    expect(address(requestOn(socket))).toBe('198.51.100.7');
  });

  it("reads a trusted proxy's X-Forwarded-For at each request of its connection (only the socket's address is kept)", () => {
    const address = createClientAddress(['10.0.0.0/8']);
    const proxy = socketAt('10.0.0.1');
    expect(address(requestOn(proxy, '203.0.113.9'))).toBe('203.0.113.9');
    expect(address(requestOn(proxy, '198.51.100.7'))).toBe('198.51.100.7');
    expect(address(requestOn(proxy))).toBe('10.0.0.1');
    expect(address(requestOn(proxy, 'garbage'))).toBeUndefined();
    expect(proxy.reads).toBe(1);
  });

  it('never believes X-Forwarded-For from a socket that is not a trusted proxy, on its first request or later', () => {
    const address = createClientAddress(['10.0.0.0/8']);
    const client = socketAt('192.0.2.1');
    expect(address(requestOn(client, '10.2.3.4'))).toBe('192.0.2.1');
    expect(address(requestOn(client, '10.2.3.4'))).toBe('192.0.2.1');
  });
});
