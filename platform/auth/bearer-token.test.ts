import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { bearerToken } from './bearer-token.js';

const jws = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';

/** A request as node's parser leaves it: raw header names as sent, `headers` holding the first value under the lowercased name. */
function requestWith(rawHeaders: readonly string[], url = '/v1/authorize'): IncomingMessage {
  const lower = new Map<string, string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (!lower.has(name)) lower.set(name, rawHeaders[i + 1]!);
  }
  return { rawHeaders, url, headers: Object.fromEntries(lower) } as unknown as IncomingMessage;
}

describe('bearerToken', () => {
  it('takes the token of the one Authorization header, whatever the case of its name', () => {
    expect(bearerToken(requestWith(['Host', 'x', 'AUTHORIZATION', `Bearer ${jws}`, 'X-Authorization', 'y']))).toBe(jws);
  });

  it('refuses more than one Authorization header, in any spelling of the name (RFC 6750 2.1)', () => {
    for (const second of ['authorization', 'Authorization', 'AuThOrIzAtIoN']) {
      expect(() => bearerToken(requestWith(['Authorization', `Bearer ${jws}`, 'Host', 'x', second, `Bearer ${jws}`]))).toThrow(
        expect.objectContaining({ code: 'TOKEN_INVALID', detail: 'more than one Authorization header' }),
      );
    }
  });

  it('refuses a request with a token in the query string, even beside a good header (RFC 6750 2.3 not supported)', () => {
    for (const url of [`/v1/authorize?access_token=${jws}`, '/v1/authorize?x=1&access_token=', '/v1/authorize?access_token']) {
      expect(() => bearerToken(requestWith(['Authorization', `Bearer ${jws}`], url))).toThrow(expect.objectContaining({ code: 'TOKEN_INVALID', detail: 'token in the query string' }));
    }
    expect(bearerToken(requestWith(['Authorization', `Bearer ${jws}`], '/v1/authorize?x=1'))).toBe(jws);
  });

  it('does not count headers whose names merely contain or resemble it', () => {
    expect(bearerToken(requestWith(['Authorization', `Bearer ${jws}`, 'Proxy-Authorization', 'Basic eA==', 'Authorisation', 'z', 'authorization-x', 'w']))).toBe(jws);
  });
});
