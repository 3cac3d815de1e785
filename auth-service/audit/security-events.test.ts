// Auth's security events in the shared audit trail, over HTTP, and what a failure to
// write one may and may not change.
import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthHarness, type AuthHarness } from '../../test/support/auth-harness.js';
import { unknownNameTarget } from './auth-events.js';

let h: AuthHarness;
let org: { id: string; slug: string };

interface EventRow {
  org_id: string | null;
  actor: string;
  action: string;
  outcome: string;
  target_type: string;
  target_id: string;
  after: Record<string, unknown> | null;
  request_id: string;
  client_ip: string | null;
  at: Date;
}

const clientIp = '203.0.113.7';
const newRequestId = () => `req-${randomUUID()}`;

/** A request from `clientIp` through a trusted proxy (the harness's loopback), under a request id of our own. */
function post(path: string, requestId: string) {
  return h.http().post(path).set('X-Request-Id', requestId).set('X-Forwarded-For', clientIp);
}

const login = (body: Record<string, unknown>, requestId = newRequestId()) => post('/v1/login/oauth/access_token', requestId).send(body);

async function eventsOf(requestId: string): Promise<EventRow[]> {
  const { rows } = await h.deps.pool.query<EventRow>(
    'SELECT org_id, actor, action, outcome, target_type, target_id, after, request_id, client_ip, at FROM audit_events WHERE request_id = $1 ORDER BY id',
    [requestId],
  );
  return rows;
}

async function allEventText(): Promise<string> {
  const { rows } = await h.deps.pool.query<{ row: string }>('SELECT a::text AS row FROM audit_events a');
  return rows.map((r) => r.row).join('\n');
}

/** Makes every audit insert about `targetId` fail, as a full disk or a broken trigger would. */
async function breakAuditFor(targetId: string): Promise<void> {
  await h.deps.pool.query('INSERT INTO audit_fail_targets (target_id) VALUES ($1)', [targetId]);
}

beforeAll(async () => {
  h = await createAuthHarness('security-events', { settings: { trustedProxies: ['127.0.0.0/8', '::1/128'] } });
  org = await h.createOrganization();
  await h.deps.pool.query(`
    CREATE TABLE audit_fail_targets (target_id text PRIMARY KEY);
    CREATE FUNCTION fail_marked_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM audit_fail_targets WHERE target_id = NEW.target_id) THEN RAISE EXCEPTION 'audit trail unavailable'; END IF;
        RETURN NEW;
      END $$;
    CREATE TRIGGER fail_marked_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION fail_marked_audit();`);
});

afterAll(async () => {
  await h?.close();
});

describe('sign-in events', () => {
  it('a password sign-in records one success with tenant, subject, client address, request id and time', async () => {
    const user = await h.createUser(org.id);
    const requestId = newRequestId();
    const before = Date.now();
    const res = await login({ grantType: 'password', username: user.username, password: user.password }, requestId);
    expect(res.status).toBe(200);
    const events = await eventsOf(requestId);
    expect(events).toHaveLength(1);
    const sid = decodeJwt(res.body.accessToken as string).sid;
    expect(events[0]).toMatchObject({
      org_id: org.id,
      actor: `user:${user.id}`,
      action: 'auth.sign-in',
      outcome: 'success',
      target_type: 'user',
      target_id: user.id,
      client_ip: clientIp,
      after: { grant: 'password', sessionId: sid },
    });
    expect(events[0]!.at.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(events[0]!.at.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    const text = await allEventText();
    for (const secret of [user.password, res.body.accessToken, res.body.refreshToken, res.body.idToken]) expect(text).not.toContain(secret);
  });

  it('a wrong password is recorded against the account; an unknown name has no organization and is stored only as a digest', async () => {
    const user = await h.createUser(org.id);
    const wrongId = newRequestId();
    expect((await login({ grantType: 'password', username: user.username, password: 'Wrong-Password-1' }, wrongId)).status).toBe(400);
    expect(await eventsOf(wrongId)).toEqual([
      expect.objectContaining({ org_id: org.id, actor: 'anonymous', action: 'auth.sign-in', outcome: 'failure', target_type: 'user', target_id: user.id, client_ip: clientIp, after: { grant: 'password', reason: 'invalid_credentials', failures: 1 } }),
    ]);
    // Someone typing a password into the username field: it must not land in the trail.
    const typedName = `Typed-Secret-${randomUUID()}`;
    const unknownId = newRequestId();
    expect((await login({ grantType: 'password', username: typedName, password: 'Wrong-Password-1' }, unknownId)).status).toBe(400);
    const [unknown] = await eventsOf(unknownId);
    expect(unknown).toMatchObject({ org_id: null, actor: 'anonymous', outcome: 'failure', target_type: 'username', target_id: expect.stringMatching(/^sha256:[0-9a-f]{16}$/) });
    const text = await allEventText();
    expect(text).not.toContain(typedName.toLowerCase());
    expect(text).not.toContain('Wrong-Password-1');
  });

  it('the failure that reaches the limit records exactly one lockout, even in a burst of 10; each refusal while locked is recorded', async () => {
    const user = await h.createUser(org.id);
    const ids = Array.from({ length: 10 }, newRequestId);
    const answers = await Promise.all(ids.map((id, i) => login({ grantType: 'password', username: user.username, password: `wrong-${i}` }, id)));
    expect(answers.every((r) => r.status === 400 || r.status === 429)).toBe(true);
    const { rows } = await h.deps.pool.query<{ action: string; n: number }>(
      `SELECT action, count(*)::int AS n FROM audit_events WHERE target_id = $1 AND request_id = ANY($2) GROUP BY action ORDER BY action`,
      [user.id, ids],
    );
    expect(rows.find((r) => r.action === 'auth.lockout')?.n).toBe(1);
    expect(rows.find((r) => r.action === 'auth.sign-in')?.n).toBe(10);
    const lockedId = newRequestId();
    const locked = await login({ grantType: 'password', username: user.username, password: user.password }, lockedId);
    expect(locked.status).toBe(429);
    expect(await eventsOf(lockedId)).toEqual([expect.objectContaining({ action: 'auth.sign-in', outcome: 'failure', target_id: user.id, after: { grant: 'password', reason: 'account_locked' } })]);
  });

  it('client credentials: a success as app:<id>, a wrong secret against the application, an unknown client without organization', async () => {
    const app = await h.createApplication(org.id);
    const okId = newRequestId();
    expect((await login({ grantType: 'client_credentials', clientId: app.clientId, clientSecret: app.clientSecret }, okId)).status).toBe(200);
    expect(await eventsOf(okId)).toEqual([
      expect.objectContaining({ org_id: org.id, actor: `app:${app.id}`, action: 'auth.sign-in', outcome: 'success', target_type: 'application', target_id: app.id, after: expect.objectContaining({ grant: 'client_credentials', clientId: app.clientId }) }),
    ]);
    const wrongId = newRequestId();
    expect((await login({ grantType: 'client_credentials', clientId: app.clientId, clientSecret: 'wrong-secret' }, wrongId)).status).toBe(401);
    expect(await eventsOf(wrongId)).toEqual([expect.objectContaining({ org_id: org.id, outcome: 'failure', target_type: 'application', target_id: app.id, after: { reason: 'invalid_client', clientId: app.clientId } })]);
    const unknownId = newRequestId();
    expect((await login({ grantType: 'client_credentials', clientId: 'am_nobody', clientSecret: 'wrong-secret' }, unknownId)).status).toBe(401);
    expect(await eventsOf(unknownId)).toEqual([expect.objectContaining({ org_id: null, outcome: 'failure', target_type: 'client', target_id: unknownNameTarget('am_nobody'), after: { reason: 'invalid_client' } })]);
    expect(await allEventText()).not.toContain(app.clientSecret);
  });

  it('a client_credentials attempt with a random client id stores no plaintext of it: the event names its digest, twice the same one', async () => {
    // Something a person might paste into the wrong field: a secret must never reach the trail in clear.
    const typed = `pasted-secret-${randomUUID()}`;
    const ids = [newRequestId(), newRequestId()];
    for (const id of ids) expect((await login({ grantType: 'client_credentials', clientId: typed, clientSecret: 'whatever' }, id)).status).toBe(401);
    const events = [...(await eventsOf(ids[0] as string)), ...(await eventsOf(ids[1] as string))];
    expect(events).toEqual([
      expect.objectContaining({ org_id: null, actor: 'anonymous', action: 'auth.sign-in', outcome: 'failure', target_type: 'client', target_id: expect.stringMatching(/^sha256:[0-9a-f]{16}$/) }),
      expect.objectContaining({ target_id: events[0]?.target_id }),
    ]);
    expect(await allEventText()).not.toContain(typed);
    // The same rule on the standard endpoint, with the client in a Basic header.
    const basicId = newRequestId();
    const basic = await post('/oauth/token', basicId).type('form').auth(typed, 'whatever').send({ grant_type: 'client_credentials' });
    expect(basic.status).toBe(401);
    expect(await eventsOf(basicId)).toEqual([expect.objectContaining({ target_type: 'client', target_id: unknownNameTarget(typed) })]);
    expect(await allEventText()).not.toContain(typed);
  });
});

describe('session events', () => {
  it('reusing a rotated refresh token records the reuse and the revoked session', async () => {
    const user = await h.createUser(org.id);
    const tokens = (await login({ grantType: 'password', username: user.username, password: user.password })).body as { accessToken: string; refreshToken: string };
    expect((await post('/v1/login/oauth/refresh_token', newRequestId()).send({ refreshToken: tokens.refreshToken })).status).toBe(200);
    const reuseId = newRequestId();
    expect((await post('/v1/login/oauth/refresh_token', reuseId).send({ refreshToken: tokens.refreshToken })).status).toBe(400);
    expect(await eventsOf(reuseId)).toEqual([
      expect.objectContaining({
        org_id: org.id,
        action: 'auth.refresh-reuse',
        outcome: 'failure',
        target_type: 'user',
        target_id: user.id,
        client_ip: clientIp,
        after: { sessionId: decodeJwt(tokens.accessToken).sid, sessionRevoked: true },
      }),
    ]);
    expect(await allEventText()).not.toContain(tokens.refreshToken);
  });

  it('a logout records the ended session', async () => {
    const user = await h.createUser(org.id);
    const tokens = (await login({ grantType: 'password', username: user.username, password: user.password })).body as { idToken: string };
    const logoutId = newRequestId();
    expect((await post('/v1/logout', logoutId).type('form').send({ id_token_hint: tokens.idToken })).status).toBe(200);
    expect(await eventsOf(logoutId)).toEqual([
      expect.objectContaining({ org_id: org.id, actor: `user:${user.id}`, action: 'auth.logout', outcome: 'success', target_id: user.id, client_ip: clientIp, after: { sessionId: decodeJwt(tokens.idToken).sid } }),
    ]);
  });
});

describe('when an event cannot be written', () => {
  it('a sign-in fails with 503 and starts no session: no success goes unrecorded', async () => {
    const user = await h.createUser(org.id);
    await breakAuditFor(user.id);
    const res = await login({ grantType: 'password', username: user.username, password: user.password });
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ code: 'AUT-0017', retryable: true });
    expect(JSON.stringify(res.body)).not.toMatch(/audit trail unavailable/);
    const { rows } = await h.deps.pool.query('SELECT 1 FROM sessions WHERE subject_id = $1', [user.id]);
    expect(rows).toHaveLength(0);
  });

  it('a refusal stays a refusal: wrong passwords are still refused, counted and locked; the failure is reported', async () => {
    const user = await h.createUser(org.id);
    await breakAuditFor(user.id);
    const ids = Array.from({ length: 5 }, newRequestId);
    for (const [i, id] of ids.entries()) expect((await login({ grantType: 'password', username: user.username, password: `wrong-${i}` }, id)).status).toBe(400);
    expect((await login({ grantType: 'password', username: user.username, password: user.password })).status).toBe(429);
    expect(h.reports.filter((r) => ids.includes(r.requestId) && r.level === 'warn' && r.detail.includes('not recorded'))).not.toHaveLength(0);
  });

  it('a logout still ends the session', async () => {
    const user = await h.createUser(org.id);
    const tokens = (await login({ grantType: 'password', username: user.username, password: user.password })).body as { idToken: string; accessToken: string };
    await breakAuditFor(user.id);
    expect((await post('/v1/logout', newRequestId()).type('form').send({ id_token_hint: tokens.idToken })).status).toBe(200);
    const { rows } = await h.deps.pool.query<{ revoked: boolean }>('SELECT revoked_at IS NOT NULL AS revoked FROM sessions WHERE id = $1', [decodeJwt(tokens.idToken).sid]);
    expect(rows[0]?.revoked).toBe(true);
    expect((await h.http().get('/v1/userinfo').set('Authorization', `Bearer ${tokens.accessToken}`)).status).toBe(401);
  });
});
