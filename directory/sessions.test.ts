// The one writer of ended sessions, on the real database: what each scope ends, the cut-off it moves, the
// remembered devices it revokes, and that it commits or rolls back with the caller's transaction.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSchema, type TestSchema } from '../test/support/postgres.js';
import { runMigrations } from '../platform/migrations.js';
import { withTransaction } from '../platform/postgres-transaction.js';
import { endSessions, type SessionEndReason, type SessionsToEnd } from './sessions.js';

let schema: TestSchema;

beforeAll(async () => {
  schema = await createTestSchema('end_sessions');
  await runMigrations({ databaseUrl: schema.url });
});
afterAll(async () => schema.drop());

async function organization(): Promise<string> {
  const id = randomUUID();
  await schema.pool.query(`INSERT INTO organizations (id, slug, name) VALUES ($1, $2, 'Org')`, [id, `org-${id.slice(0, 8)}`]);
  return id;
}

async function user(tenantId: string): Promise<string> {
  const id = randomUUID();
  await schema.pool.query(
    `INSERT INTO users (id, org_id, username, username_canonical, email, email_canonical, first_name, last_name, password_hash)
     VALUES ($1, $2, $3, $3, $4, $4, 'T', 'U', 'x')`,
    [id, tenantId, `u-${id.slice(0, 8)}`, `u-${id.slice(0, 8)}@example.test`],
  );
  await schema.pool.query(`INSERT INTO remembered_devices (token_hash, org_id, user_id, expires_at) VALUES ($1, $2, $3, now() + interval '30 days')`, [randomUUID(), tenantId, id]);
  return id;
}

async function application(tenantId: string): Promise<string> {
  const id = randomUUID();
  await schema.pool.query(`INSERT INTO applications (id, org_id, name, client_id, client_secret_hash) VALUES ($1, $2, $3, $3, 'x')`, [id, tenantId, `app-${id.slice(0, 8)}`]);
  return id;
}

async function session(tenantId: string, subjectId: string, kind: 'user' | 'application' = 'user'): Promise<string> {
  const { rows } = await schema.pool.query<{ id: string }>(
    `INSERT INTO sessions (org_id, subject_kind, subject_id, absolute_expires_at) VALUES ($1, $2, $3, now() + interval '1 day') RETURNING id`,
    [tenantId, kind, subjectId],
  );
  return rows[0]!.id;
}

const end = (which: SessionsToEnd, reason: SessionEndReason) => withTransaction(schema.pool, (tx) => endSessions(tx, which, reason));

async function reasonOf(sessionId: string): Promise<string | null> {
  const { rows } = await schema.pool.query<{ reason: string | null }>('SELECT revoked_reason AS reason FROM sessions WHERE id = $1', [sessionId]);
  return rows[0]!.reason;
}

async function devices(userId: string): Promise<number> {
  const { rows } = await schema.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM remembered_devices WHERE user_id = $1', [userId]);
  return rows[0]!.n;
}

async function cutoffIsNow(table: 'users' | 'applications', id: string): Promise<boolean> {
  const { rows } = await schema.pool.query<{ recent: boolean }>(`SELECT tokens_valid_after > now() - interval '1 minute' AND tokens_valid_after <= now() AS recent FROM ${table} WHERE id = $1`, [id]);
  return rows[0]!.recent;
}

describe('endSessions', () => {
  it("a user's: every live session of that user ends with the reason, its cut-off moves to now() and its remembered devices go; nobody else's", async () => {
    const tenantId = await organization();
    const [ana, bob] = [await user(tenantId), await user(tenantId)];
    const [first, second, bobs] = [await session(tenantId, ana), await session(tenantId, ana), await session(tenantId, bob)];
    await end({ kind: 'session', tenantId, sessionId: second }, 'logout');
    const ended = await end({ kind: 'user', tenantId, userId: ana }, 'password_reset');
    expect(ended).toEqual([{ sessionId: first, subjectKind: 'user', subjectId: ana }]);
    // An ended session keeps the reason it first ended for.
    expect([await reasonOf(first), await reasonOf(second), await reasonOf(bobs)]).toEqual(['password_reset', 'logout', null]);
    expect(await cutoffIsNow('users', ana)).toBe(true);
    expect([await devices(ana), await devices(bob)]).toEqual([0, 1]);
  });

  it('never moves a cut-off back', async () => {
    const tenantId = await organization();
    const ana = await user(tenantId);
    await schema.pool.query("UPDATE users SET tokens_valid_after = now() + interval '1 hour' WHERE id = $1", [ana]);
    await end({ kind: 'user', tenantId, userId: ana }, 'user_disabled');
    const { rows } = await schema.pool.query<{ later: boolean }>("SELECT tokens_valid_after > now() + interval '50 minutes' AS later FROM users WHERE id = $1", [ana]);
    expect(rows[0]!.later).toBe(true);
  });

  it("an application's: its sessions end and its cut-off moves; users' sessions and devices stay", async () => {
    const tenantId = await organization();
    const [app, ana] = [await application(tenantId), await user(tenantId)];
    const [appSession, anaSession] = [await session(tenantId, app, 'application'), await session(tenantId, ana)];
    await end({ kind: 'application', tenantId, applicationId: app }, 'secret_rotated');
    expect([await reasonOf(appSession), await reasonOf(anaSession)]).toEqual(['secret_rotated', null]);
    expect(await cutoffIsNow('applications', app)).toBe(true);
    expect(await devices(ana)).toBe(1);
  });

  it("an organization's: every session of its users and applications, and its users' devices; another organization's stay", async () => {
    const [tenantId, otherId] = [await organization(), await organization()];
    const [ana, app, eve] = [await user(tenantId), await application(tenantId), await user(otherId)];
    const sessions = [await session(tenantId, ana), await session(tenantId, app, 'application'), await session(otherId, eve)];
    const ended = await end({ kind: 'organization', tenantId }, 'organization_disabled');
    expect(ended.map((s) => s.sessionId).sort()).toEqual(sessions.slice(0, 2).sort());
    expect(await Promise.all(sessions.map(reasonOf))).toEqual(['organization_disabled', 'organization_disabled', null]);
    expect([await devices(ana), await devices(eve)]).toEqual([0, 1]);
  });

  it("one session: a logout keeps the user's devices, a refresh-token reuse revokes them; a session of another subject is not ended", async () => {
    const tenantId = await organization();
    const ana = await user(tenantId);
    const [loggedOut, reused, kept] = [await session(tenantId, ana), await session(tenantId, ana), await session(tenantId, ana)];
    await end({ kind: 'session', tenantId, sessionId: loggedOut, subjectId: ana }, 'logout');
    expect(await devices(ana)).toBe(1);
    expect(await end({ kind: 'session', tenantId, sessionId: kept, subjectId: randomUUID() }, 'logout')).toEqual([]);
    await end({ kind: 'session', tenantId, sessionId: reused }, 'refresh_reuse');
    expect([await reasonOf(loggedOut), await reasonOf(reused), await reasonOf(kept)]).toEqual(['logout', 'refresh_reuse', null]);
    expect(await devices(ana)).toBe(0);
  });

  it("ends nothing when the caller's transaction rolls back", async () => {
    const tenantId = await organization();
    const ana = await user(tenantId);
    const live = await session(tenantId, ana);
    await expect(
      withTransaction(schema.pool, async (tx) => {
        await endSessions(tx, { kind: 'user', tenantId, userId: ana }, 'password_change');
        throw new Error('the password change failed');
      }),
    ).rejects.toThrow('the password change failed');
    expect(await reasonOf(live)).toBeNull();
    expect(await devices(ana)).toBe(1);
  });
});
