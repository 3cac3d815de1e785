// Verified tokens cached in process and in Valkey, keyed by digest, for no longer than the token lives.
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWTVerifyGetKey } from 'jose';
import type { Valkey } from 'iovalkey';
import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPortUrl, testKeyPrefix, testValkeyUrl } from '../../test/support/valkey.js';
import { createValkeyClient } from '../valkey-client.js';
import { createTokenVerifier, tokenDigest, type TokenVerifierOptions } from './token-verifier.js';
import { derivedKey } from '../derived-key.js';
import { tokenCacheKeyPurpose, ValkeyTokenCache } from './valkey-token-cache.js';

const issuer = 'https://auth.test.local';
const audience = 'access-manager';
let client: Valkey;
let keyPrefix: string;
let sign: (claims: Record<string, unknown>, expSeconds: number, iatSeconds?: number) => Promise<string>;
let jwks: JWTVerifyGetKey;
const entryKey = derivedKey(randomBytes(32), tokenCacheKeyPurpose);

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
    const cache = new ValkeyTokenCache({ client, keyPrefix, entryKey });
    const token = await sign({ tenantId: 't1' }, Math.floor(Date.now() / 1000) + 600);
    const first = verifierWith(cache);
    const verified = await first.verifier.verify(token);
    expect(first.lookups()).toBe(1);
    expect(await client.exists(cache.keyOf(tokenDigest(token)))).toBe(1);
    // The token itself is never stored, only its digest and claims.
    expect(await client.get(cache.keyOf(tokenDigest(token)))).not.toContain(token.split('.')[2]);

    const second = verifierWith(cache);
    const again = await second.verifier.verify(token);
    expect(second.lookups()).toBe(0);
    expect(again.claims).toEqual(verified.claims);
    expect(again.expiresAtMs).toBe(verified.expiresAtMs);
  });

  it("the entry's TTL is at most the token's remaining life", async () => {
    const cache = new ValkeyTokenCache({ client, keyPrefix, entryKey });
    const remaining = 90;
    const token = await sign({}, Math.floor(Date.now() / 1000) + remaining);
    await verifierWith(cache).verifier.verify(token);
    const ttl = await client.ttl(cache.keyOf(tokenDigest(token)));
    expect(ttl).toBeGreaterThanOrEqual(1);
    expect(ttl).toBeLessThanOrEqual(remaining);
  });

  it('an expired token is not served from the tier', async () => {
    const cache = new ValkeyTokenCache({ client, keyPrefix, entryKey });
    const nowSeconds = Math.floor(Date.now() / 1000);
    const token = await sign({}, nowSeconds + 120, nowSeconds);
    await verifierWith(cache).verifier.verify(token);
    expect(await client.exists(cache.keyOf(tokenDigest(token)))).toBe(1);
    // Another replica whose clock is past exp (and the tolerance): the entry is still in Valkey, yet refused.
    const later = verifierWith(cache, { clock: { nowMs: () => (nowSeconds + 600) * 1000 } });
    await expect(later.verifier.verify(token)).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
    expect(later.lookups()).toBe(1);
  });

  it('claims planted for another issuer or audience are not trusted: jose decides', async () => {
    const cache = new ValkeyTokenCache({ client, keyPrefix, entryKey });
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
      const { verifier, lookups } = verifierWith(new ValkeyTokenCache({ client: down, keyPrefix, entryKey }), { onSharedError: (error) => failures.push(error) });
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

describe('token verifier: shared tier entries are authenticated', () => {
  const exp = () => Math.floor(Date.now() / 1000) + 600;

  it('an entry is v1.<HMAC>.<claims>; the same key on every replica reads it back', async () => {
    const cache = new ValkeyTokenCache({ client, keyPrefix, entryKey });
    const token = await sign({ tenantId: 't1' }, exp());
    await verifierWith(cache).verifier.verify(token);
    expect(await client.get(cache.keyOf(tokenDigest(token)))).toMatch(/^v1\.[A-Za-z0-9_-]{43}\.\{/);
    const replica = verifierWith(new ValkeyTokenCache({ client, keyPrefix, entryKey: Buffer.from(entryKey) }));
    expect((await replica.verifier.verify(token)).claims.tenantId).toBe('t1');
    expect(replica.lookups()).toBe(0);
  });

  it.each([
    ['plain claims JSON, as an unauthenticated cache wrote them', (json: string) => json],
    ['a made-up MAC', (json: string) => `v1.${randomBytes(32).toString('base64url')}.${json}`],
    ['a MAC under another key', (json: string, key: string) => `v1.${createHmac('sha256', randomBytes(32)).update(key).update('\n').update(json).digest('base64url')}.${json}`],
    ['a short MAC', (json: string) => `v1.AAAA.${json}`],
  ])('claims written straight into Valkey (%s) mint nothing: a miss, reported, and jose decides', async (_name, entry) => {
    const rejected: string[] = [];
    const cache = new ValkeyTokenCache({ client, keyPrefix, entryKey, onRejectedEntry: (key) => rejected.push(key) });
    const forged = 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhZG1pbiJ9.bm90LWEtc2lnbmF0dXJl';
    const key = cache.keyOf(tokenDigest(forged));
    const json = JSON.stringify({ sub: 'admin', iss: issuer, aud: audience, exp: exp(), iat: exp() - 600, tenantId: 't1' });
    await client.set(key, entry(json, key), 'EX', 60);
    const { verifier, lookups } = verifierWith(cache);
    await expect(verifier.verify(forged)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    expect(lookups()).toBe(1);
    expect(rejected).toEqual([key]);
    expect(cache.rejectedEntries).toBe(1);
  });

  it("a good entry altered, or moved under another token's digest, is refused; the real token is verified and its entry rewritten", async () => {
    const rejected: string[] = [];
    const cache = new ValkeyTokenCache({ client, keyPrefix, entryKey, onRejectedEntry: (key) => rejected.push(key) });
    const token = await sign({ tenantId: 't1' }, exp());
    await verifierWith(cache).verifier.verify(token);
    const key = cache.keyOf(tokenDigest(token));
    const good = (await client.get(key)) as string;
    await client.set(key, good.replace('"tenantId":"t1"', '"tenantId":"t2"'), 'EX', 60);
    const first = verifierWith(cache);
    expect((await first.verifier.verify(token)).claims.tenantId).toBe('t1');
    expect(first.lookups()).toBe(1);
    expect(await client.get(key)).toBe(good);

    const other = 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJvdGhlciJ9.bm90LWEtc2lnbmF0dXJl';
    const moved = cache.keyOf(tokenDigest(other));
    await client.set(moved, good, 'EX', 60);
    await expect(verifierWith(cache).verifier.verify(other)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    expect(rejected).toEqual([key, moved]);
  });
});
