import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../engine/index.js';
import { jwtVerify } from 'jose';
import { createAuthHarness, type AuthHarness } from '../../test/support/auth-harness.js';
import { SigningKeyStore } from './signing-key-store.js';

let h: AuthHarness;
beforeAll(async () => {
  h = await createAuthHarness('signing_keys');
});
afterAll(async () => h.close());

describe('signing keys', () => {
  it('replicas starting together agree on one first key; its private half is sealed at rest', async () => {
    const stores = Array.from({ length: 3 }, () => new SigningKeyStore({ pool: h.deps.pool, secrets: h.deps.secrets, clock: systemClock, maxTokenLifetimeSeconds: 3600 }));
    await Promise.all(stores.map((s) => s.start()));
    const kids = await Promise.all(stores.map(async (s) => (await s.signingKey()).kid));
    expect(new Set(kids).size).toBe(1);
    const { rows } = await h.deps.pool.query('SELECT private_jwk_sealed FROM signing_keys');
    expect(rows).toHaveLength(1);
    expect(rows[0].private_jwk_sealed).toMatch(/^v1\./);
    expect(rows[0].private_jwk_sealed).not.toContain('"d"');
  });

  it('rotation publishes the new key before it signs and keeps the old key published until its tokens expire', async () => {
    const subject = { kind: 'user' as const, id: 'u1', name: 'alice', displayName: 'Alice', tenantId: 'o1', tenantSlug: 'acme' };
    const before = await h.deps.issuer.accessToken(subject, undefined, undefined);
    const oldKid = (await h.deps.keys.signingKey()).kid;
    const newKid = await h.deps.keys.rotate();
    const published = (await h.deps.keys.jwks()).keys.map((k) => k.kid);
    expect(published).toEqual(expect.arrayContaining([oldKid, newKid]));
    expect((await h.deps.keys.signingKey()).kid).toBe(oldKid); // not signing before its prepublish delay
    await expect(jwtVerify(before.token, h.deps.keys.keyResolver(), { issuer: h.deps.settings.issuer })).resolves.toBeDefined();
    expect((await h.deps.keys.jwks()).keys.every((k) => !('d' in k))).toBe(true);
  });
});
