// Session cut-offs on one clock: Auth's host clock (its `Clock`) skewed by minutes either way changes nothing about
// which sessions a password reset or a cut-off ends, at Auth or at Identity, because a session's start and the
// subject's cut-off are both PostgreSQL's `now()` and the token's `iat` takes no part.
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentityApp } from '../../identity-service/app.js';
import { createTokenVerifier } from '../../platform/auth/token-verifier.js';
import { createAuthHarness, type AuthHarness } from '../support/auth-harness.js';
import { pollUntil } from '../support/system/poll.js';

interface Tokens {
  readonly accessToken: string;
  readonly refreshToken: string;
}

for (const skewMinutes of [-5, 5]) {
  describe(`Auth's host clock ${skewMinutes < 0 ? 'behind' : 'ahead'} by ${Math.abs(skewMinutes)} minutes`, () => {
    let h: AuthHarness;
    let identity: () => supertest.Agent;
    let org: { id: string; slug: string };
    let adminToken: string;

    const signIn = async (username: string, password: string): Promise<Tokens> => {
      const res = await h.http().post('/v1/login/oauth/access_token').send({ grantType: 'password', username, password });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body as Tokens;
    };
    const authStatus = async (token: string) => (await h.http().get('/v1/userinfo').set('Authorization', `Bearer ${token}`)).status;
    const identityStatus = async (token: string, userId: string) => (await identity().get(`/v1/users/${userId}/mfa`).set('Authorization', `Bearer ${token}`)).status;
    const refreshStatus = async (refreshToken: string) => {
      const res = await h.http().post('/oauth/token').type('form').send({ grant_type: 'refresh_token', refresh_token: refreshToken });
      return res.status === 200 ? 200 : `${res.status} ${res.body.error}`;
    };
    /** Both services refuse the token; another replica's cached verdict may stand for the staleness bound, no longer. */
    const refusedEverywhere = (token: string, userId: string) =>
      pollUntil('the ended session refused by Auth and Identity', async () => ((await authStatus(token)) === 401 && (await identityStatus(token, userId)) === 401 ? true : undefined), 10_000);

    beforeAll(async () => {
      const clock = { nowMs: () => Date.now() + skewMinutes * 60_000 };
      h = await createAuthHarness(`clock_skew_${skewMinutes < 0 ? 'behind' : 'ahead'}`, { clock });
      // Identity on the same database and host (so the same skewed clock verifies Auth's tokens there).
      const app = createIdentityApp({
        pool: h.deps.pool,
        engine: h.deps.engine,
        tokens: createTokenVerifier({ keys: h.deps.keys.keyResolver(), issuer: h.deps.settings.issuer, audience: h.deps.settings.audience, tokenType: 'at+jwt', clock }),
        tenancy: h.deps.tenancy,
        platformTenantId: h.defaultTenantId,
        passwords: h.deps.passwords,
        secrets: h.deps.secrets,
        report: h.deps.report,
        fetch: globalThis.fetch,
        clock,
      });
      identity = () => supertest.agent(app);
      org = await h.createOrganization();
      const admin = await h.createUser(org.id);
      await h.grant(org.id, `user:${admin.id}`, [['reset-password', 'patch']]);
      adminToken = (await signIn(admin.username, admin.password)).accessToken;
    });
    afterAll(async () => h?.close());

    it('a password reset through Identity refuses the old access token at Auth and Identity and the old refresh token; a sign-in right after works', async () => {
      const user = await h.createUser(org.id);
      const before = await signIn(user.username, user.password);
      expect(await authStatus(before.accessToken)).toBe(200);
      expect(await identityStatus(before.accessToken, user.id)).toBe(200);

      const newPassword = 'Another-Horse-7-Battery';
      const reset = await identity().patch(`/v1/users/${user.id}/reset-password`).set('Authorization', `Bearer ${adminToken}`).send({ newPassword });
      expect(reset.status, JSON.stringify(reset.body)).toBe(204);

      // Identity ended the session on its own replica at once; Auth (another replica) within the bound.
      expect(await identityStatus(before.accessToken, user.id)).toBe(401);
      await refusedEverywhere(before.accessToken, user.id);
      expect(await refreshStatus(before.refreshToken)).toBe('400 invalid_grant');

      const after = await signIn(user.username, newPassword);
      expect(await authStatus(after.accessToken)).toBe(200);
      expect(await identityStatus(after.accessToken, user.id)).toBe(200);
      expect(await refreshStatus(after.refreshToken)).toBe(200);
    });

    it("a cut-off alone (no session ended) splits sessions on PostgreSQL's clock: the one before it is refused, the one after it served", async () => {
      const user = await h.createUser(org.id);
      const before = await signIn(user.username, user.password);
      expect(await authStatus(before.accessToken)).toBe(200);
      expect(await identityStatus(before.accessToken, user.id)).toBe(200);

      await h.deps.pool.query('UPDATE users SET tokens_valid_after = now() WHERE id = $1', [user.id]);
      const after = await signIn(user.username, user.password);

      // Ahead, the old token's iat is after the cut-off; behind, the new one's is before it: neither counts.
      await refusedEverywhere(before.accessToken, user.id);
      expect(await refreshStatus(before.refreshToken)).toBe('400 invalid_grant');
      expect(await authStatus(after.accessToken)).toBe(200);
      expect(await identityStatus(after.accessToken, user.id)).toBe(200);
      expect(await refreshStatus(after.refreshToken)).toBe(200);
    });
  });
}
