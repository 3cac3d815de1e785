// Auth's MFA sign-in and Identity's MFA routes share one wrong-code count and lock per user, for authenticator
// codes and codes sent by e-mail alike (`user_mfa.failed_attempts`, `locked_until`).
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRecoveryCodes, hashRecoveryCode } from '../../domain/recovery-codes.js';
import { mfaLockoutMs, mfaLockSecondsLeft } from '../../domain/mfa-attempts.js';
import { createTotpSecret, totpCodeAt, totpPeriodSeconds } from '../../domain/totp.js';
import { createAuthHarness, type AuthHarness } from '../../test/support/auth-harness.js';
import { createAuthApp } from '../app.js';
import { wireAuth } from '../wiring.js';

let h: AuthHarness;
let org: { id: string; slug: string };
let now = Date.now();
/** Codes Auth e-mailed, newest last. */
const mailed: { to: string; code: string }[] = [];
/** The harness's Auth app with an e-mail sender that keeps what it sends. */
let app: ReturnType<typeof createAuthApp>;

interface Enrolled {
  readonly id: string;
  readonly username: string;
  readonly password: string;
  readonly secret: string;
  readonly recoveryCodes: string[];
}

/** A user with the authenticator enabled (and the e-mail factor with `email`), with a wrong-code count or lock already in place. */
async function enrolled(attempts: { failed?: number; lockedUntilMs?: number; email?: boolean } = {}): Promise<Enrolled> {
  const user = await h.createUser(org.id);
  const secret = createTotpSecret();
  const recoveryCodes = generateRecoveryCodes(2);
  await h.deps.pool.query(
    `INSERT INTO user_mfa (org_id, user_id, totp_secret_ciphertext, totp_enabled, email_enabled, recovery_code_hashes, preferred_type, failed_attempts, locked_until)
     VALUES ($1, $2, $3, true, $4, $5, 'app', $6, to_timestamp($7::float8 / 1000))`,
    [org.id, user.id, h.deps.secrets.seal(secret, user.id), attempts.email ?? false, recoveryCodes.map(hashRecoveryCode), attempts.failed ?? 0, attempts.lockedUntilMs ?? null],
  );
  return { ...user, secret, recoveryCodes };
}

/** The password step: answers the mfaToken of a fresh challenge. */
async function challenge(user: Enrolled): Promise<string> {
  const res = await supertest(app).post('/v1/login/oauth/access_token').send({ grantType: 'password', username: user.username, password: user.password });
  expect(res.body).toMatchObject({ mfaRequired: true });
  return res.body.mfaToken as string;
}

/** A challenge whose code was e-mailed: its mfaToken and the code sent. */
async function emailChallenge(user: Enrolled): Promise<{ mfaToken: string; code: string }> {
  const mfaToken = await challenge(user);
  expect((await supertest(app).post('/v1/login/mfa/challenge').send({ mfaToken, mfaType: 'email' })).status).toBe(200);
  const code = mailed.findLast((m) => m.to === `${user.username}@example.test`)?.code as string;
  return { mfaToken, code };
}

/** Any six digits but `code`. */
const otherThan = (code: string) => (code === '000000' ? '000001' : '000000');

const verify = (body: Record<string, unknown>) => supertest(app).post('/v1/login/mfa/verify').send(body);

/** A passcode no step near `now` produces: a guaranteed wrong code. */
async function wrongCode(secret: string): Promise<string> {
  const near = await Promise.all([-1, 0, 1].map((step) => totpCodeAt(secret, now + step * totpPeriodSeconds * 1000)));
  let code = 0;
  while (near.includes(String(code).padStart(6, '0'))) code++;
  return String(code).padStart(6, '0');
}

async function attemptsOf(userId: string): Promise<{ failed_attempts: number; locked_until_ms: number | null; step: number }> {
  const { rows } = await h.deps.pool.query(
    'SELECT failed_attempts, (extract(epoch FROM locked_until) * 1000)::float8 AS locked_until_ms, last_totp_step::float8 AS step FROM user_mfa WHERE user_id = $1',
    [userId],
  );
  return rows[0];
}

async function eventCount(userId: string, action: string, reason?: string): Promise<number> {
  const { rows } = await h.deps.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM audit_events WHERE target_id = $1 AND action = $2 AND ($3::text IS NULL OR after->>'reason' = $3)`,
    [userId, action, reason ?? null],
  );
  return rows[0]?.n ?? 0;
}

async function sessionsOf(userId: string): Promise<number> {
  const { rows } = await h.deps.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions WHERE subject_id = $1', [userId]);
  return rows[0]?.n ?? 0;
}

beforeAll(async () => {
  h = await createAuthHarness('mfa-lock', { clock: { nowMs: () => now } });
  org = await h.createOrganization();
  app = createAuthApp(wireAuth({ ...h.deps, deliverMfaCode: async ({ to, code }) => void mailed.push({ to, code }) }));
});

afterAll(async () => {
  await h?.close();
});

describe('MFA sign-in and the one-time code lock shared with Identity', () => {
  it('a right authenticator code is refused while Identity has locked the user: 429 with Retry-After, no session; after the lock it works', async () => {
    const user = await enrolled({ lockedUntilMs: now + 10 * 60_000 });
    const mfaToken = await challenge(user);
    const res = await verify({ mfaToken, mfaType: 'app', passcode: await totpCodeAt(user.secret, now) });
    expect(res.status).toBe(429);
    expect(res.body).toMatchObject({ code: 'AUT-0015', retryable: true });
    expect(Number(res.headers['retry-after'])).toBe(600);
    expect(await sessionsOf(user.id)).toBe(0);
    expect((await attemptsOf(user.id)).step).toBe(0);
    expect(await eventCount(user.id, 'auth.mfa', 'mfa_locked')).toBe(1);

    const started = now;
    try {
      now = started + 10 * 60_000 + 1000;
      const later = await verify({ mfaToken: await challenge(user), mfaType: 'app', passcode: await totpCodeAt(user.secret, now) });
      expect(later.status).toBe(200);
      expect(await sessionsOf(user.id)).toBe(1);
    } finally {
      now = started;
    }
  });

  it('wrong codes at Auth count into the same counter: with 3 counted by Identity, 2 more lock the user for 15 minutes, recorded once', async () => {
    const user = await enrolled({ failed: 3 });
    const mfaToken = await challenge(user);
    const wrong = await wrongCode(user.secret);
    expect((await verify({ mfaToken, mfaType: 'app', passcode: wrong })).body).toMatchObject({ code: 'AUT-0107' });
    expect(await attemptsOf(user.id)).toMatchObject({ failed_attempts: 4, locked_until_ms: null });
    expect((await verify({ mfaToken, mfaType: 'app', passcode: wrong })).body).toMatchObject({ code: 'AUT-0107' });
    const locked = await attemptsOf(user.id);
    expect(locked).toMatchObject({ failed_attempts: 0, locked_until_ms: now + mfaLockoutMs });
    // What Identity's verify and disable routes read: they now refuse too.
    expect(mfaLockSecondsLeft({ failed_attempts: 0, locked_until: new Date(locked.locked_until_ms as number) }, now)).toBe(900);
    expect(await eventCount(user.id, 'mfa.lock')).toBe(1);
    expect(await eventCount(user.id, 'auth.mfa', 'wrong_code')).toBe(2);

    const next = await verify({ mfaToken: await challenge(user), mfaType: 'app', passcode: await totpCodeAt(user.secret, now) });
    expect(next.status).toBe(429);
    expect(Number(next.headers['retry-after'])).toBe(900);
    expect(await sessionsOf(user.id)).toBe(0);
  });

  it('a code replayed in a later challenge is refused and recorded as a replay, without counting towards the lock', async () => {
    const user = await enrolled({ failed: 2 });
    const code = await totpCodeAt(user.secret, now);
    expect((await verify({ mfaToken: await challenge(user), mfaType: 'app', passcode: code })).status).toBe(200);
    const replayed = await verify({ mfaToken: await challenge(user), mfaType: 'app', passcode: code });
    expect(replayed.status).toBe(400);
    expect(replayed.body).toMatchObject({ code: 'AUT-0107' });
    expect(await eventCount(user.id, 'auth.mfa', 'replayed')).toBe(1);
    expect(await attemptsOf(user.id)).toMatchObject({ failed_attempts: 0, locked_until_ms: null });
  });

  it('a right code resets the count, so only consecutive wrong codes lock', async () => {
    const user = await enrolled({ failed: 4 });
    expect((await verify({ mfaToken: await challenge(user), mfaType: 'app', passcode: await totpCodeAt(user.secret, now) })).status).toBe(200);
    expect(await attemptsOf(user.id)).toMatchObject({ failed_attempts: 0, locked_until_ms: null });
  });

  it('a recovery code still completes the sign-in while the authenticator is locked: the owner can recover', async () => {
    const user = await enrolled({ lockedUntilMs: now + 10 * 60_000 });
    const res = await verify({ mfaToken: await challenge(user), recoveryCode: user.recoveryCodes[0] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accessToken: expect.any(String) });
  });

  it('eight concurrent wrong codes over eight challenges: exactly five are evaluated, one lock, one lock event', async () => {
    const user = await enrolled();
    const tokens: string[] = [];
    for (let i = 0; i < 8; i++) tokens.push(await challenge(user));
    const wrong = await wrongCode(user.secret);
    const answers = await Promise.all(tokens.map((mfaToken) => verify({ mfaToken, mfaType: 'app', passcode: wrong })));
    expect(answers.filter((r) => r.status === 400)).toHaveLength(5);
    expect(answers.filter((r) => r.status === 429)).toHaveLength(3);
    expect(await attemptsOf(user.id)).toMatchObject({ failed_attempts: 0, locked_until_ms: now + mfaLockoutMs });
    expect(await eventCount(user.id, 'mfa.lock')).toBe(1);
    expect(await eventCount(user.id, 'auth.mfa', 'wrong_code')).toBe(5);
    expect(await eventCount(user.id, 'auth.mfa', 'mfa_locked')).toBe(3);
  });

  it("the organization's own limit applies: with max_attempts 2 the second wrong code locks", async () => {
    const other = await h.createOrganization();
    await h.deps.pool.query('INSERT INTO organization_mfa_settings (org_id, max_attempts) VALUES ($1, 2)', [other.id]);
    const saved = org;
    org = other;
    try {
      const user = await enrolled();
      const mfaToken = await challenge(user);
      const wrong = await wrongCode(user.secret);
      await verify({ mfaToken, mfaType: 'app', passcode: wrong });
      expect((await attemptsOf(user.id)).locked_until_ms).toBeNull();
      await verify({ mfaToken, mfaType: 'app', passcode: wrong });
      expect((await attemptsOf(user.id)).locked_until_ms).toBe(now + mfaLockoutMs);
    } finally {
      org = saved;
    }
  });
});

describe('codes sent by e-mail count into the same lock', () => {
  it('wrong e-mailed codes and wrong authenticator codes add up: 3 authenticator + 2 e-mailed lock the user, recorded once; then even a right code is 429', async () => {
    const user = await enrolled({ email: true });
    const wrongTotp = await wrongCode(user.secret);
    const mfaToken = await challenge(user);
    for (let i = 0; i < 3; i++) expect((await verify({ mfaToken, mfaType: 'app', passcode: wrongTotp })).body).toMatchObject({ code: 'AUT-0107' });
    expect(await attemptsOf(user.id)).toMatchObject({ failed_attempts: 3, locked_until_ms: null });
    const first = await emailChallenge(user);
    expect((await verify({ mfaToken: first.mfaToken, mfaType: 'email', passcode: otherThan(first.code) })).body).toMatchObject({ code: 'AUT-0107' });
    expect(await attemptsOf(user.id)).toMatchObject({ failed_attempts: 4, locked_until_ms: null });
    expect((await verify({ mfaToken: first.mfaToken, mfaType: 'email', passcode: otherThan(first.code) })).body).toMatchObject({ code: 'AUT-0107' });
    expect(await attemptsOf(user.id)).toMatchObject({ failed_attempts: 0, locked_until_ms: now + mfaLockoutMs });
    expect(await eventCount(user.id, 'mfa.lock')).toBe(1);
    expect(await eventCount(user.id, 'auth.mfa', 'sent_code_wrong')).toBe(2);

    // The right e-mailed code of the same challenge, and a right authenticator code, are refused while locked.
    const locked = await verify({ mfaToken: first.mfaToken, mfaType: 'email', passcode: first.code });
    expect(locked.status).toBe(429);
    expect(locked.body).toMatchObject({ code: 'AUT-0015' });
    expect(Number(locked.headers['retry-after'])).toBe(900);
    expect((await verify({ mfaToken: await challenge(user), mfaType: 'app', passcode: await totpCodeAt(user.secret, now) })).status).toBe(429);
    expect(await sessionsOf(user.id)).toBe(0);
    expect(await eventCount(user.id, 'auth.mfa', 'mfa_locked')).toBe(2);
  });

  it('a right e-mailed code resets the count; one the organization requires of a user without factors counts too', async () => {
    const user = await enrolled({ email: true, failed: 3 });
    const sent = await emailChallenge(user);
    expect((await verify({ mfaToken: sent.mfaToken, mfaType: 'email', passcode: sent.code })).status).toBe(200);
    expect(await attemptsOf(user.id)).toMatchObject({ failed_attempts: 0, locked_until_ms: null });

    // No user_mfa row at all: the organization requires MFA and e-mails a code to the address on file.
    const required = await h.createOrganization();
    await h.deps.pool.query('INSERT INTO organization_mfa_settings (org_id, required) VALUES ($1, true)', [required.id]);
    const bare = await h.createUser(required.id);
    const mfaToken = (await supertest(app).post('/v1/login/oauth/access_token').send({ grantType: 'password', username: bare.username, password: bare.password })).body.mfaToken as string;
    await supertest(app).post('/v1/login/mfa/challenge').send({ mfaToken, mfaType: 'email' }).expect(200);
    const code = mailed.findLast((m) => m.to === `${bare.username}@example.test`)?.code as string;
    expect((await verify({ mfaToken, mfaType: 'email', passcode: otherThan(code) })).status).toBe(400);
    expect(await attemptsOf(bare.id)).toMatchObject({ failed_attempts: 1, locked_until_ms: null });
  });

  it('six concurrent wrong e-mailed codes over six challenges count exactly six; six more at once: the lock trips at the tenth, exactly once', async () => {
    const other = await h.createOrganization();
    await h.deps.pool.query('INSERT INTO organization_mfa_settings (org_id, max_attempts) VALUES ($1, 10)', [other.id]);
    const saved = org;
    org = other;
    try {
      const user = await enrolled({ email: true });
      const burst = async (n: number) => {
        const challenges: { mfaToken: string; code: string }[] = [];
        for (let i = 0; i < n; i++) challenges.push(await emailChallenge(user));
        return Promise.all(challenges.map(({ mfaToken, code }) => verify({ mfaToken, mfaType: 'email', passcode: otherThan(code) })));
      };
      const first = await burst(6);
      expect(first.map((r) => r.status)).toEqual([400, 400, 400, 400, 400, 400]);
      expect(await attemptsOf(user.id)).toMatchObject({ failed_attempts: 6, locked_until_ms: null });

      const second = await burst(6);
      expect(second.filter((r) => r.status === 400)).toHaveLength(4);
      expect(second.filter((r) => r.status === 429)).toHaveLength(2);
      expect(await attemptsOf(user.id)).toMatchObject({ failed_attempts: 0, locked_until_ms: now + mfaLockoutMs });
      expect(await eventCount(user.id, 'mfa.lock')).toBe(1);
      expect(await eventCount(user.id, 'auth.mfa', 'sent_code_wrong')).toBe(10);
      expect(await sessionsOf(user.id)).toBe(0);
    } finally {
      org = saved;
    }
  });
});

describe('a database fault during verification', () => {
  it('answers 503 and starts no session, spends no TOTP step and no wrong-code count; the same code then completes the sign-in', async () => {
    const user = await enrolled({ failed: 1 });
    // A pool whose statements give up after 300 ms, while another transaction holds the user's factor row.
    const app = supertest(createAuthApp(wireAuth({ ...h.deps, pool: h.schema.newPool({ max: 4, statement_timeout: 300 }) })));
    const login = await app.post('/v1/login/oauth/access_token').send({ grantType: 'password', username: user.username, password: user.password });
    const mfaToken = login.body.mfaToken as string;
    const code = await totpCodeAt(user.secret, now);
    const holder = await h.deps.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM user_mfa WHERE user_id = $1 FOR UPDATE', [user.id]);
      const faulted = await app.post('/v1/login/mfa/verify').send({ mfaToken, mfaType: 'app', passcode: code });
      expect(faulted.status).toBe(503);
      expect(faulted.body).toMatchObject({ code: 'AUT-0017', retryable: true });
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    expect(await sessionsOf(user.id)).toBe(0);
    expect(await attemptsOf(user.id)).toMatchObject({ failed_attempts: 1, step: 0 });
    expect((await app.post('/v1/login/mfa/verify').send({ mfaToken, mfaType: 'app', passcode: code })).status).toBe(200);
  });
});
