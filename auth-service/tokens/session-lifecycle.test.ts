// Where Auth starts and ends sessions against the rest of the system: a sign-in whose credentials were checked
// before a password reset starts no session, and a refresh-token reuse ends its session at once on the replica
// that saw it, with the user's remembered devices.
import { randomBytes } from 'node:crypto';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../../platform/postgres-transaction.js';
import { endSessions } from '../../directory/sessions.js';
import { createTotpSecret, totpCodeAt } from '../../domain/totp.js';
import { createAuthHarness, type AuthHarness } from '../../test/support/auth-harness.js';
import { pollUntil } from '../../test/support/system/poll.js';
import { createAuthApp } from '../app.js';
import { wireAuth } from '../wiring.js';
import { hashDeviceToken } from '../mfa/mfa-gate.js';

let h: AuthHarness;
let org: { id: string; slug: string };

beforeAll(async () => {
  h = await createAuthHarness('session_lifecycle');
  org = await h.createOrganization();
});
afterAll(async () => h?.close());

const signIn = (username: string, password: string) => h.http().post('/v1/login/oauth/access_token').send({ grantType: 'password', username, password });
const userinfo = (agent: supertest.Agent, token: string) => agent.get('/v1/userinfo').set('Authorization', `Bearer ${token}`);

async function rememberDevice(userId: string): Promise<void> {
  await h.deps.pool.query(`INSERT INTO remembered_devices (token_hash, org_id, user_id, expires_at) VALUES ($1, $2, $3, now() + interval '30 days')`, [
    hashDeviceToken(randomBytes(32).toString('base64url')),
    org.id,
    userId,
  ]);
}

async function devicesOf(userId: string): Promise<number> {
  const { rows } = await h.deps.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM remembered_devices WHERE user_id = $1', [userId]);
  return rows[0]!.n;
}

describe('a session starts only with credentials that are still good', () => {
  it('a password reset between the password and the second factor refuses the sign-in (invalid_grant): no session starts', async () => {
    const user = await h.createUser(org.id);
    const secret = createTotpSecret();
    await h.deps.pool.query(`INSERT INTO user_mfa (org_id, user_id, totp_secret_ciphertext, totp_enabled, preferred_type) VALUES ($1, $2, $3, true, 'app')`, [
      org.id,
      user.id,
      h.deps.secrets.seal(secret, user.id),
    ]);
    const challenge = await signIn(user.username, user.password);
    expect(challenge.body).toMatchObject({ mfaRequired: true });
    // An administrator resets the password while the sign-in waits for its second factor.
    await withTransaction(h.deps.pool, async (tx) => {
      await tx.query('UPDATE users SET password_hash = $2 WHERE id = $1', [user.id, await h.deps.passwords.hash('Another-Horse-7-Battery')]);
      await endSessions(tx, { kind: 'user', tenantId: org.id, userId: user.id }, 'password_reset');
    });
    const verified = await h.http().post('/v1/login/mfa/verify').send({ mfaToken: challenge.body.mfaToken, mfaType: 'app', passcode: await totpCodeAt(secret, Date.now()) });
    expect(verified.status).toBe(400);
    expect(verified.body.code).toBe('AUT-0100');
    const { rows } = await h.deps.pool.query('SELECT 1 FROM sessions WHERE subject_id = $1', [user.id]);
    expect(rows).toHaveLength(0);
  });

  it('without a change in between, the same sign-in starts its session', async () => {
    const user = await h.createUser(org.id);
    const res = await signIn(user.username, user.password);
    expect(res.status).toBe(200);
    expect((await userinfo(h.http(), res.body.accessToken)).status).toBe(200);
  });
});

describe('a refresh-token reuse (RFC 9700 4.14.2)', () => {
  it("ends the session at once on this replica (cached verdicts included), within the bound on another, and revokes the user's remembered devices", async () => {
    const user = await h.createUser(org.id);
    const other = supertest.agent(createAuthApp(wireAuth({ ...h.deps })));
    const tokens = (await signIn(user.username, user.password)).body as { accessToken: string; refreshToken: string };
    await rememberDevice(user.id);
    // Both replicas have a verdict for the access token in their caches.
    expect((await userinfo(h.http(), tokens.accessToken)).status).toBe(200);
    expect((await userinfo(other, tokens.accessToken)).status).toBe(200);
    const rotated = await h.http().post('/v1/login/oauth/refresh_token').send({ refreshToken: tokens.refreshToken });
    expect(rotated.status).toBe(200);
    expect((await userinfo(h.http(), rotated.body.accessToken)).status).toBe(200);

    const reused = await h.http().post('/v1/login/oauth/refresh_token').send({ refreshToken: tokens.refreshToken });
    expect(reused.status).toBe(400);
    expect((await userinfo(h.http(), tokens.accessToken)).status).toBe(401);
    expect((await userinfo(h.http(), rotated.body.accessToken)).status).toBe(401);
    expect(await devicesOf(user.id)).toBe(0);
    await pollUntil('the other replica refuses the reused session', async () => ((await userinfo(other, tokens.accessToken)).status === 401 ? true : undefined), 10_000);
  });
});
