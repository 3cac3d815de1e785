// sign_in_failures holds live counters only: rows whose window and lock have passed go away as failures are written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthHarness, type AuthHarness } from '../../test/support/auth-harness.js';

let h: AuthHarness;
let org: { id: string; slug: string };
const lockSeconds = 900;

const failSignIn = (username: string) => h.http().post('/v1/login/oauth/access_token').send({ grantType: 'password', username, password: 'Wrong-Password-1' });

/** A row as recordSignInFailure leaves it, with its window and lock placed relative to now (seconds; null: no lock). */
async function seed(name: string, windowAgoSeconds: number, lockedForSeconds: number | null, failures = 3): Promise<void> {
  await h.deps.pool.query(
    `INSERT INTO sign_in_failures (username_canonical, failures, window_started_at, locked_until)
     VALUES ($1, $2, now() - make_interval(secs => $3), CASE WHEN $4::float8 IS NULL THEN NULL ELSE now() + make_interval(secs => $4::float8) END)`,
    [name, failures, windowAgoSeconds, lockedForSeconds],
  );
}

async function names(prefix: string): Promise<string[]> {
  const { rows } = await h.deps.pool.query<{ username_canonical: string }>(
    'SELECT username_canonical FROM sign_in_failures WHERE username_canonical LIKE $1 ORDER BY 1',
    [`${prefix}%`],
  );
  return rows.map((r) => r.username_canonical);
}

beforeAll(async () => {
  // Loopback is a trusted proxy here, so each request may name its client address in X-Forwarded-For.
  h = await createAuthHarness('sign-in-lockout', { settings: { signIn: { maxFailures: 5, lockSeconds }, trustedProxies: ['127.0.0.0/8', '::1/128'] } });
  org = await h.createOrganization();
});

afterAll(async () => {
  await h?.close();
});

describe('sign-in lockout', () => {
  it('counts failures on the account, not the address: five failures from five addresses lock it for a sixth', async () => {
    const user = await h.createUser(org.id);
    for (let i = 1; i <= 5; i++) {
      const res = await h.http().post('/v1/login/oauth/access_token').set('X-Forwarded-For', `198.51.100.${i}`).send({ grantType: 'password', username: user.username, password: `wrong-${i}` });
      expect(res.status).toBe(400);
    }
    const sixth = await h.http().post('/v1/login/oauth/access_token').set('X-Forwarded-For', '198.51.100.77').send({ grantType: 'password', username: user.username, password: user.password });
    expect(sixth.status).toBe(429);
    expect(sixth.body).toMatchObject({ code: 'AUT-0104' });
    const { rows } = await h.deps.pool.query<{ ips: string[] }>(`SELECT array_agg(DISTINCT client_ip) AS ips FROM audit_events WHERE target_id = $1 AND action = 'auth.sign-in'`, [user.id]);
    expect(rows[0]?.ips).toHaveLength(6);
  });
});

describe('sign_in_failures cleanup', () => {
  it('a failed sign-in removes rows whose window and lock have passed, and keeps every live counter and lock', async () => {
    const p = `sweep-${Date.now()}-`;
    await seed(`${p}dead-window`, lockSeconds + 60, null);
    await seed(`${p}dead-lock`, 2 * lockSeconds, -10, 5);
    await seed(`${p}live-lock`, lockSeconds + 60, 120, 5);
    await seed(`${p}live-window`, 60, null);
    const user = await h.createUser(org.id);
    expect((await failSignIn(user.username)).status).toBe(400);
    expect(await names(p)).toEqual([`${p}live-lock`, `${p}live-window`]);
    // The live counters were not disturbed: the locked name is still locked.
    expect((await failSignIn(`${p}live-lock`)).status).toBe(429);
  });

  it('does not grow without bound: 300 dead rows are gone after three failures, each removing a bounded batch', async () => {
    const p = `bulk-${Date.now()}-`;
    await h.deps.pool.query(
      `INSERT INTO sign_in_failures (username_canonical, failures, window_started_at)
       SELECT $1 || n, 2, now() - make_interval(secs => $2) FROM generate_series(1, 300) n`,
      [p, lockSeconds + 1],
    );
    const user = await h.createUser(org.id);
    await failSignIn(user.username);
    expect((await names(p)).length).toBe(200);
    await failSignIn(user.username);
    await failSignIn(user.username);
    expect(await names(p)).toEqual([]);
  });

  it('a name whose row was removed counts again from 1', async () => {
    const user = await h.createUser(org.id);
    const canonical = user.username.toLowerCase();
    await seed(canonical, lockSeconds + 60, -1, 5);
    const other = await h.createUser(org.id);
    await failSignIn(other.username);
    expect(await names(canonical)).toEqual([]);
    await failSignIn(user.username);
    const { rows } = await h.deps.pool.query('SELECT failures, locked_until FROM sign_in_failures WHERE username_canonical = $1', [canonical]);
    expect(rows).toEqual([{ failures: 1, locked_until: null }]);
  });
});
