// Spraying many accounts of one organization trips a per-organization limit, beside the
// per-address limit and the per-account lockout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthHarness, type AuthHarness } from '../../test/support/auth-harness.js';

let h: AuthHarness;
let clockMs = Date.now();

beforeAll(async () => {
  h = await createAuthHarness('tenant_spray', {
    clock: { nowMs: () => clockMs },
    settings: { signIn: { maxFailures: 5, lockSeconds: 900, tenant: { maxFailures: 4, windowSeconds: 60 } } },
  });
});
afterAll(async () => h?.close());

const signIn = (username: string, password: string) => h.http().post('/v1/login/oauth/access_token').send({ grantType: 'password', username, password });
const sessionsOf = async (userId: string) => (await h.deps.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions WHERE subject_id = $1', [userId])).rows[0]!.n;

describe('per-organization sign-in failure limit', () => {
  it('one wrong password on each of several accounts trips it: even a right password then gets 429 until the window ends; other organizations are untouched', async () => {
    const sprayed = await h.createOrganization();
    const other = await h.createOrganization();
    const victims = await Promise.all([1, 2, 3, 4].map(() => h.createUser(sprayed.id)));
    const target = await h.createUser(sprayed.id);
    const bystander = await h.createUser(other.id);
    // Unknown names count for no organization.
    for (let i = 0; i < 6; i++) expect((await signIn(`nobody-${i}-${sprayed.id}`, 'wrong-password')).status).toBe(400);
    expect((await signIn(target.username, target.password)).status).toBe(200);

    for (const victim of victims) expect((await signIn(victim.username, 'wrong-password')).status).toBe(400);
    const refused = await signIn(target.username, target.password);
    expect(refused.status).toBe(429);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(refused.body.accessToken).toBeUndefined();
    expect(await sessionsOf(target.id)).toBe(1);
    const { rows } = await h.deps.pool.query(
      "SELECT count(*)::int AS n FROM audit_events WHERE action = 'auth.sign-in' AND outcome = 'failure' AND after->>'reason' = 'organization_rate_limited' AND org_id = $1",
      [sprayed.id],
    );
    expect(rows[0].n).toBe(1);

    expect((await signIn(bystander.username, bystander.password)).status).toBe(200);

    clockMs += 61_000;
    expect((await signIn(target.username, target.password)).status).toBe(200);
  });
});
