// Hostile id_token_hint values and access tokens at POST /v1/logout: refused with 401/403, and no session ends.
import { randomUUID } from 'node:crypto';
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authIssuer, createAuthHarness, type AuthHarness } from '../../test/support/auth-harness.js';
import { endSessions } from '../../directory/sessions.js';
import { lockRefreshToken, refreshTokenHash } from '../../directory/session-tokens.js';
import type { TokenSubject } from '../tokens/token-issuer.js';

let h: AuthHarness;
let org: { id: string; slug: string };

interface Person {
  readonly subject: TokenSubject;
  readonly sid: string;
}

async function person(): Promise<Person> {
  const user = await h.createUser(org.id);
  const sid = randomUUID();
  await h.deps.pool.query(
    `INSERT INTO sessions (id, org_id, subject_kind, subject_id, absolute_expires_at) VALUES ($1, $2, 'user', $3, now() + interval '1 day')`,
    [sid, org.id, user.id],
  );
  return { subject: { kind: 'user', id: user.id, name: user.username, displayName: 'U', tenantId: org.id, tenantSlug: org.slug }, sid };
}

async function isRevoked(sid: string): Promise<boolean> {
  const { rows } = await h.deps.pool.query<{ revoked: boolean }>('SELECT revoked_at IS NOT NULL AS revoked FROM sessions WHERE id = $1', [sid]);
  return rows[0]?.revoked ?? false;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** ID-token claims for `p`, as Auth's issuer writes them. */
function claimsOf(p: Person, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { sub: p.subject.id, sid: p.sid, tenantId: org.id, iss: authIssuer, aud: 'console', iat: now, nbf: now, exp: now + 3600, ...overrides };
}

const logout = (hint: string) => h.http().post('/v1/logout').type('form').send({ id_token_hint: hint });

beforeAll(async () => {
  h = await createAuthHarness('logout');
  org = await h.createOrganization();
});

afterAll(async () => {
  await h?.close();
});

describe('POST /v1/logout refuses hints that are not our ID token, and ends nothing', () => {
  it('alg none, an HS256 token keyed with our public key, a foreign key under our kid, another issuer, an expired-beyond-session hint', async () => {
    const p = await person();
    const { kid, key } = await h.deps.keys.signingKey();
    const publicJwk = ((await h.http().get('/.well-known/jwks')).body as { keys: { kid: string }[] }).keys.find((k) => k.kid === kid);
    const foreign = (await generateKeyPair('RS256')).privateKey;
    const sign = (claims: Record<string, unknown>, signingKey: Parameters<SignJWT['sign']>[0], alg = 'RS256') =>
      new SignJWT(claims).setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(signingKey);
    const hints = [
      `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claimsOf(p))}.`,
      `${b64({ alg: 'NONE', kid, typ: 'JWT' })}.${b64(claimsOf(p))}.`,
      await sign(claimsOf(p), new TextEncoder().encode(JSON.stringify(publicJwk)), 'HS256'),
      await sign(claimsOf(p), foreign),
      await sign(claimsOf(p, { iss: `${authIssuer}/` }), key),
      await sign(claimsOf(p, { iat: 1, nbf: 1, exp: 2 }), key),
    ];
    for (const hint of hints) {
      const res = await logout(hint);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 'AUT-0009' });
    }
    expect(await isRevoked(p.sid)).toBe(false);
    // The genuine hint still works afterwards.
    expect((await logout((await h.deps.issuer.idToken(p.subject, 'console', p.sid)).token)).status).toBe(200);
    expect(await isRevoked(p.sid)).toBe(true);
  });

  it("a hint naming another user's session ends nothing; an access token of another subject is 403", async () => {
    const victim = await person();
    const attacker = await person();
    const { kid, key } = await h.deps.keys.signingKey();
    // Our own valid ID token, but with the victim's sid (only a key holder could mint it; the subject check still holds).
    const crossed = await new SignJWT(claimsOf(attacker, { sid: victim.sid })).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(key);
    expect((await logout(crossed)).status).toBe(200);
    expect(await isRevoked(victim.sid)).toBe(false);

    const attackerAccess = await h.deps.issuer.accessToken(attacker.subject, 'console', undefined, attacker.sid);
    const victimHint = await h.deps.issuer.idToken(victim.subject, 'console', victim.sid);
    const res = await h.http().post('/v1/logout').set('Authorization', `Bearer ${attackerAccess.token}`).type('form').send({ id_token_hint: victimHint.token });
    expect(res.status).toBe(403);
    expect(await isRevoked(victim.sid)).toBe(false);
    expect(await isRevoked(attacker.sid)).toBe(false);
  });
});

describe('POST /v1/logout beside a refresh of the same session', () => {
  it('takes the refresh token before the session row, as a refresh does, so the two never deadlock', async () => {
    const p = await person();
    const hash = refreshTokenHash(randomUUID());
    await h.deps.pool.query(`INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES ($1, $2, now() + interval '1 day')`, [hash, p.sid]);
    const hint = (await h.deps.issuer.idToken(p.subject, 'console', p.sid)).token;
    const refresh = await h.deps.pool.connect();
    try {
      // A refresh holding its token row (as a reuse does before revoking the session).
      await refresh.query('BEGIN');
      expect(await lockRefreshToken(refresh, hash)).toMatchObject({ sessionId: p.sid });
      const pending = logout(hint).then((res) => res.status);
      // Wait until logout blocks on a lock (with the old order it would hold the session row by then).
      const deadline = Date.now() + 5_000;
      for (;;) {
        const { rows } = await h.deps.pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE%' AND (query LIKE '%refresh_tokens%' OR query LIKE '%sessions%')",
        );
        if ((rows[0]?.n ?? 0) > 0 || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await endSessions(refresh, { kind: 'session', sessionId: p.sid, tenantId: org.id }, 'refresh_reuse');
      await refresh.query('COMMIT');
      expect(await pending).toBe(200);
    } finally {
      refresh.release();
    }
    expect(await isRevoked(p.sid)).toBe(true);
    const { rows } = await h.deps.pool.query<{ live: boolean }>('SELECT expires_at > now() AS live FROM refresh_tokens WHERE token_hash = $1', [hash]);
    expect(rows[0]?.live).toBe(false);
  });
});
