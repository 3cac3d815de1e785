import { describe, expect, it } from 'vitest';
import { isAllowed, parseCidr, parseIp } from './cidr.js';

describe('CIDR allowlist entries', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['192.168.1.128/25', '192.168.1.128/25'],
    ['203.0.113.7/32', '203.0.113.7/32'],
    ['0.0.0.0/8', '0.0.0.0/8'],
    ['2001:DB8::/48', '2001:db8::/48'],
    ['2001:0db8:0000:0000:0001:0000:0000:0000/80', '2001:db8:0:0:1::/80'],
    ['2001:db8::1/128', '2001:db8::1/128'],
  ])('accepts %s as %s (canonical text)', (input, text) => {
    const parsed = parseCidr(input);
    expect(parsed).toMatchObject({ ok: true, cidr: { text } });
  });

  it.each([
    ['10.0.0.1', /prefix length is required/],
    ['2001:db8::1', /prefix length is required/],
    ['10.0.0.0/7', /wider than \/8/],
    ['0.0.0.0/0', /wider than \/8/],
    ['::/47', /wider than \/48/],
    ['::/0', /wider than \/48/],
    ['10.1.0.0/8', /host bits are set; the network is 10\.0\.0\.0\/8/],
    ['2001:db8::1/64', /host bits are set; the network is 2001:db8::\/64/],
    ['::ffff:10.0.0.0/104', /IPv4-mapped/],
    ['::ffff:0:0/96', /IPv4-mapped/],
    ['10.0.0.0/33', /at most \/32/],
    ['2001:db8::/129', /at most \/128/],
    ['garbage', /not a CIDR/],
    ['10.0.0.0/', /decimal/],
    ['10.0.0.0/08', /decimal/],
    ['10.0.0.0/+8', /decimal/],
    ['010.0.0.0/8', /not a CIDR/],
    ['0x0a.0.0.0/8', /not a CIDR/],
    ['10.0/8', /not a CIDR/],
    ['256.0.0.0/8', /not a CIDR/],
    ['fe80::%eth0/64', /not a CIDR/],
    [' 10.0.0.0/8', /not a CIDR/],
    ['10.0.0.0/8\n', /decimal/],
    ['', /not a CIDR/],
    [`${'1'.repeat(70)}/8`, /not a CIDR/],
  ])('refuses %j', (input, reason) => {
    const parsed = parseCidr(input);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });
});

describe('isAllowed (Auth checks clientIp with it)', () => {
  const list = ['10.0.0.0/8', '192.168.1.128/25', '2001:db8::/48'];

  it.each([
    ['10.255.255.255', true],
    ['10.0.0.0', true],
    ['11.0.0.0', false],
    ['9.255.255.255', false],
    ['192.168.1.128', true],
    ['192.168.1.255', true],
    ['192.168.1.127', false],
    ['2001:db8::5', true],
    ['2001:db8:0:ffff:ffff:ffff:ffff:ffff', true],
    ['2001:db8:1::', false],
    ['2001:db9::', false],
    ['::ffff:10.1.2.3', true],
    ['::ffff:a01:203', true],
    ['::FFFF:192.168.1.200', true],
    ['::ffff:11.0.0.1', false],
  ])('%s → %s (IPv4-mapped IPv6 is its IPv4 address)', (ip, allowed) => {
    expect(isAllowed(ip, list)).toBe(allowed);
  });

  it('fails closed: unparsable addresses and entries never allow', () => {
    for (const ip of ['', 'garbage', '10.1', '010.0.0.1', '10.0.0.1/32', 'fe80::1%eth0', ' 10.0.0.1']) expect(isAllowed(ip, list)).toBe(false);
    expect(isAllowed('10.0.0.1', ['garbage', '10.0.0.1'])).toBe(false);
    expect(isAllowed('10.0.0.1', [])).toBe(false);
  });

  it('takes parsed ranges too, and IPv4 never matches an IPv6 range or the reverse', () => {
    const parsed = list.map((text) => {
      const result = parseCidr(text);
      if (!result.ok) throw new Error(result.reason);
      return result.cidr;
    });
    expect(isAllowed('10.9.9.9', parsed)).toBe(true);
    expect(isAllowed('10.9.9.9', ['2001:db8::/48'])).toBe(false);
    expect(isAllowed('::a09:909', ['10.0.0.0/8'])).toBe(false);
    expect(parseIp('::ffff:10.9.9.9')).toEqual({ family: 4, bytes: Uint8Array.from([10, 9, 9, 9]) });
  });
});
