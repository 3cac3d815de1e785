// TokenState through a PostgreSQL outage (issue #6: authorize keeps answering while PostgreSQL is down): on the real
// database, whose pool is then closed, so every read fails as it does when the server is gone.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../platform/auth/caller.js';
import { runMigrations } from '../../platform/migrations.js';
import { createTestSchema, type TestSchema } from '../../test/support/postgres.js';
import { TokenState } from './token-state.js';

let schema: TestSchema;
let orgId: string;

beforeAll(async () => {
  schema = await createTestSchema('token_state');
  await runMigrations({ databaseUrl: schema.url });
  orgId = randomUUID();
  await schema.pool.query(`INSERT INTO organizations (id, slug, name) VALUES ($1, $2, 'Org')`, [orgId, `org-${orgId.slice(0, 8)}`]);
});
afterAll(async () => schema.drop());

async function newCaller(options: { revoked?: boolean } = {}): Promise<Caller> {
  const userId = randomUUID();
  const sid = randomUUID();
  await schema.pool.query(
    `INSERT INTO users (id, org_id, username, username_canonical, email, email_canonical, first_name, last_name, password_hash)
     VALUES ($1, $2, $3, $3, $4, $4, 'T', 'U', 'x')`,
    [userId, orgId, `u-${userId.slice(0, 8)}`, `u-${userId.slice(0, 8)}@example.test`],
  );
  await schema.pool.query(
    `INSERT INTO sessions (id, org_id, subject_kind, subject_id, absolute_expires_at, revoked_at) VALUES ($1, $2, 'user', $3, now() + interval '1 day', $4)`,
    [sid, orgId, userId, options.revoked ? new Date() : null],
  );
  return { kind: 'user', id: userId, subject: `user:${userId}`, tenantId: orgId, tokenId: randomUUID(), claims: { sid, iat: Math.floor(Date.now() / 1000) } };
}

/** A TokenState whose pool is closed by `outage()`; its clock moves only with `advance`. */
async function withOutage(options: { staleIfErrorMs?: number } = {}) {
  const pool: pg.Pool = schema.newPool({ max: 2 });
  let now = Date.now();
  const state = new TokenState({ pool, nowMs: () => now, stalenessMs: 1, ...options });
  return {
    state,
    async outage() {
      await pool.end();
      // The 1 ms verdict bound must have passed, so the next check has to read PostgreSQL.
      await new Promise((resolve) => setTimeout(resolve, 5));
    },
    advance(ms: number) {
      now += ms;
    },
  };
}

describe('token state while PostgreSQL cannot be read', () => {
  it('a token this replica checked keeps its last verdict, so authorize keeps answering', async () => {
    const caller = await newCaller();
    const t = await withOutage();
    await t.state.assertActive(caller);
    await t.outage();
    await expect(t.state.assertActive(caller)).resolves.toBeUndefined();
  });

  it('a token this replica never checked gets 503, never an allow', async () => {
    const checked = await newCaller();
    const unseen = await newCaller();
    const t = await withOutage();
    await t.state.assertActive(checked);
    await t.outage();
    await expect(t.state.assertActive(unseen)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
  });

  it('a refusal read before the outage stays a refusal', async () => {
    const revoked = await newCaller({ revoked: true });
    const t = await withOutage();
    await expect(t.state.assertActive(revoked)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    await t.outage();
    await expect(t.state.assertActive(revoked)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
  });

  it('a logout on this replica during the outage still refuses the session at once', async () => {
    const caller = await newCaller();
    const t = await withOutage();
    await t.state.assertActive(caller);
    await t.outage();
    t.state.revokeLocally({ tenantId: orgId, subject: caller.subject, sid: caller.claims.sid as string, untilMs: Date.now() + 60_000 });
    await expect(t.state.assertActive(caller)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
  });

  it('the last verdict stands in for at most staleIfErrorMs', async () => {
    const caller = await newCaller();
    const t = await withOutage({ staleIfErrorMs: 60_000 });
    await t.state.assertActive(caller);
    await t.outage();
    t.advance(59_000);
    await expect(t.state.assertActive(caller)).resolves.toBeUndefined();
    t.advance(2_000);
    await expect(t.state.assertActive(caller)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
  });
});
