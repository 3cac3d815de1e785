// Issue #4: verified tokens cached in process and in Valkey, keyed by digest, for no longer than the token lives.
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWTVerifyGetKey } from 'jose';
import type { Valkey } from 'iovalkey';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPortUrl, testKeyPrefix, testValkeyUrl } from '../../test/support/valkey.js';
import { createValkeyClient } from '../valkey-client.js';
import { createTokenVerifier, tokenDigest, type TokenVerifierOptions } from './token-verifier.js';
import { ValkeyTokenCache } from './valkey-token-cache.js';

const issuer = 'https://auth.test.local';
const audience = 'access-manager';
let client: Valkey;
let keyPrefix: string;
let sign: (claims: Record<string, unknown>, expSeconds: number, iatSeconds?: number) => Promise<string>;
let jwks: JWTVerifyGetKey;

beforeAll(async () => {
  client = createValkeyClient({ url: testValkeyUrl });
  if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
  keyPrefix = testKeyPrefix('token_cache');
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' }] });
  sign = (claims, expSeconds, iatSeconds = Math.floor(Date.now() / 1000)) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'at+jwt' })
      .setSubject('user-1')
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt(iatSeconds)
      .setExpirationTime(expSeconds)
      .sign(privateKey);
});

afterAll(async () => {
  const left = await client.keys(`${keyPrefix}*`);
  if (left.length > 0) await client.del(...left);
  client.disconnect();
});

/** A verifier with its own in-process cache, counting how often jose asked for a key. */
function verifierWith(cache: ValkeyTokenCache | undefined, extra: Partial<TokenVerifierOptions> = {}) {
  let keyLookups = 0;
  const keys: JWTVerifyGetKey = (header, token) => {
    keyLookups++;
    return jwks(header, token);
  };
  const verifier = createTokenVerifier({ keys, issuer, audience, tokenType: 'at+jwt', ...(cache ? { shared: cache } : {}), ...extra });
  return { verifier, lookups: () => keyLookups };
}

describe('token verifier: shared Valkey tier', () => {
  it('a token verified by one replica is accepted by another without running jose', async () => {
    const cache = new ValkeyTokenCache({ client, keyPrefix });
    const token = await sign({ tenantId: 't1' }, Math.floor(Date.now() / 1000) + 600);
    const first = verifierWith(cache);
    const verified = await first.verifier.verify(token);
    expect(first.lookups()).toBe(1);
    expect(await client.exists(`${keyPrefix}token:${tokenDigest(token)}`)).toBe(1);
    // The token itself is never stored, only its digest and claims.
    expect(await client.get(`${keyPrefix}token:${tokenDigest(token)}`)).not.toContain(token.split('.')[2]);

    const second = verifierWith(cache);
    const again = await second.verifier.verify(token);
    expect(second.lookups()).toBe(0);
    expect(again.claims).toEqual(verified.claims);
    expect(again.expiresAtMs).toBe(verified.expiresAtMs);
  });

  it("the entry's TTL is at most the token's remaining life", async () => {
    const cache = new ValkeyTokenCache({ client, keyPrefix });
    const remaining = 90;
    const token = await sign({}, Math.floor(Date.now() / 1000) + remaining);
    await verifierWith(cache).verifier.verify(token);
    const ttl = await client.ttl(`${keyPrefix}token:${tokenDigest(token)}`);
    expect(ttl).toBeGreaterThanOrEqual(1);
    expect(ttl).toBeLessThanOrEqual(remaining);
  });

  it('an expired token is not served from the tier', async () => {
    const cache = new ValkeyTokenCache({ client, keyPrefix });
    const nowSeconds = Math.floor(Date.now() / 1000);
    const token = await sign({}, nowSeconds + 120, nowSeconds);
    await verifierWith(cache).verifier.verify(token);
    expect(await client.exists(`${keyPrefix}token:${tokenDigest(token)}`)).toBe(1);
    // Another replica whose clock is past exp (and the tolerance): the entry is still in Valkey, yet refused.
    const later = verifierWith(cache, { nowMs: () => (nowSeconds + 600) * 1000 });
    await expect(later.verifier.verify(token)).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
    expect(later.lookups()).toBe(1);
  });

  it('claims planted for another issuer or audience are not trusted: jose decides', async () => {
    const cache = new ValkeyTokenCache({ client, keyPrefix });
    const forged = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
    const exp = Math.floor(Date.now() / 1000) + 600;
    await cache.set(tokenDigest(forged), { sub: 'admin', iss: 'https://elsewhere', aud: audience, exp, iat: exp - 600 }, 60);
    await expect(verifierWith(cache).verifier.verify(forged)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    await cache.set(tokenDigest(forged), { sub: 'admin', iss: issuer, aud: 'another-service', exp, iat: exp - 600 }, 60);
    await expect(verifierWith(cache).verifier.verify(forged)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
  });

  it('with Valkey unreachable, verification still runs, within the command timeout, and never allows a bad token', async () => {
    const down = createValkeyClient({ url: closedPortUrl, commandTimeoutMs: 200, connectTimeoutMs: 200 });
    const failures: unknown[] = [];
    try {
      const { verifier, lookups } = verifierWith(new ValkeyTokenCache({ client: down, keyPrefix }), { onSharedError: (error) => failures.push(error) });
      const token = await sign({}, Math.floor(Date.now() / 1000) + 600);
      const started = performance.now();
      const verified = await verifier.verify(token);
      expect(performance.now() - started).toBeLessThan(500);
      expect(verified.claims.sub).toBe('user-1');
      expect(lookups()).toBe(1);
      expect(failures.length).toBeGreaterThan(0);
      const [header, payload] = token.split('.') as [string, string, string];
      await expect(verifier.verify(`${header}.${payload}.AAAA`)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    } finally {
      down.disconnect();
    }
  });
});
