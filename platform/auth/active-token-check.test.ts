// The one "is this token still good" check of Auth and Identity, on the real database: sessions ended or started
// before the cut-off on PostgreSQL's clock, revoked jtis, the cache bound and what drops it; and the check through
// a PostgreSQL outage (authorize keeps answering while PostgreSQL is down), the pool then closed, so every read
// fails as it does when the server is gone.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../migrations.js';
import { endSessions } from '../../directory/sessions.js';
import { withTransaction } from '../postgres-transaction.js';
import { systemClock } from '../../engine/index.js';
import { ActiveTokenCheck } from './active-token-check.js';
import type { Caller } from '../http/caller.js';
import { createTestSchema, type TestSchema } from '../../test/support/postgres.js';

let schema: TestSchema;
let tenantId: string;

beforeAll(async () => {
  schema = await createTestSchema('token_state');
  await runMigrations({ databaseUrl: schema.url });
  tenantId = randomUUID();
  await schema.pool.query(`INSERT INTO organizations (id, slug, name) VALUES ($1, $2, 'Org')`, [tenantId, `org-${tenantId.slice(0, 8)}`]);
});
afterAll(async () => schema.drop());

async function newCaller(options: { revoked?: boolean } = {}): Promise<Caller> {
  const userId = randomUUID();
  const sid = randomUUID();
  await schema.pool.query(
    `INSERT INTO users (id, org_id, username, username_canonical, email, email_canonical, first_name, last_name, password_hash)
     VALUES ($1, $2, $3, $3, $4, $4, 'T', 'U', 'x')`,
    [userId, tenantId, `u-${userId.slice(0, 8)}`, `u-${userId.slice(0, 8)}@example.test`],
  );
  await schema.pool.query(
    `INSERT INTO sessions (id, org_id, subject_kind, subject_id, absolute_expires_at, revoked_at) VALUES ($1, $2, 'user', $3, now() + interval '1 day', $4)`,
    [sid, tenantId, userId, options.revoked ? new Date() : null],
  );
  return { kind: 'user', id: userId, subject: `user:${userId}`, tenantId, tokenId: randomUUID(), claims: { sid, iat: Math.floor(Date.now() / 1000) } };
}

const hourMs = 3_600_000;

/** Another token of the caller's session (a new jti: its own cache entry), issued at `iatMs` by some host's clock. */
function anotherToken(caller: Caller, iatMs = Date.now()): Caller {
  return { ...caller, tokenId: randomUUID(), claims: { ...caller.claims, iat: Math.floor(iatMs / 1000), iat_ms: Math.floor(iatMs) } };
}

async function newApplicationCaller(): Promise<Caller> {
  const appId = randomUUID();
  const sid = randomUUID();
  await schema.pool.query(`INSERT INTO applications (id, org_id, name, client_id, client_secret_hash) VALUES ($1, $2, $3, $3, 'x')`, [appId, tenantId, `app-${appId.slice(0, 8)}`]);
  await schema.pool.query(`INSERT INTO sessions (id, org_id, subject_kind, subject_id, absolute_expires_at) VALUES ($1, $2, 'application', $3, now() + interval '1 hour')`, [
    sid,
    tenantId,
    appId,
  ]);
  return { kind: 'application', id: appId, subject: `app:${appId}`, tenantId, tokenId: randomUUID(), claims: { sid, iat: Math.floor(Date.now() / 1000) } };
}

const refusedAs = (refusal: string) => expect.objectContaining({ code: 'TOKEN_INVALID', detail: `token refused: ${refusal}` });

describe('active token check: sessions, cut-offs and jtis', () => {
  const check = () => new ActiveTokenCheck({ pool: schema.pool, clock: systemClock });

  it('a token of a live session is good; of a revoked one, of an unknown one or of another subject is refused', async () => {
    const live = await newCaller();
    const ended = await newCaller({ revoked: true });
    const other = await newCaller();
    await expect(check().assertActive(live)).resolves.toBeUndefined();
    await expect(check().assertActive(ended)).rejects.toEqual(refusedAs('session-ended'));
    await expect(check().assertActive({ ...live, claims: { ...live.claims, sid: randomUUID() } })).rejects.toEqual(refusedAs('session-unknown'));
    await expect(check().assertActive({ ...live, claims: { ...live.claims, sid: other.claims.sid } })).rejects.toEqual(refusedAs('session-unknown'));
    await expect(check().assertActive({ ...live, claims: { ...live.claims, sid: 'not-an-id' } })).rejects.toEqual(refusedAs('session-unknown'));
  });

  it("a session is compared with the subject's cut-off on PostgreSQL's clock, whatever the token's iat says (host clock skew)", async () => {
    const before = await newCaller();
    await schema.pool.query('UPDATE users SET tokens_valid_after = now() WHERE id = $1', [before.id]);
    // Started before the cut-off: refused even when the issuing host's clock ran an hour ahead.
    await expect(check().assertActive(anotherToken(before, Date.now() + hourMs))).rejects.toEqual(refusedAs('session-ended'));
    // Started after it: good even when the issuing host's clock ran an hour behind.
    const { rows } = await schema.pool.query<{ id: string }>(
      `INSERT INTO sessions (org_id, subject_kind, subject_id, absolute_expires_at) VALUES ($1, 'user', $2, now() + interval '1 day') RETURNING id`,
      [tenantId, before.id],
    );
    const after = { ...anotherToken(before, Date.now() - hourMs), claims: { ...anotherToken(before, Date.now() - hourMs).claims, sid: rows[0]!.id } };
    await expect(check().assertActive(after)).resolves.toBeUndefined();
  });

  it('a token without a session is compared with the cut-off through its iat (tokens Auth never issues)', async () => {
    const caller = await newCaller();
    const { sid: _sid, ...claims } = caller.claims;
    const sessionless = { ...caller, claims };
    await schema.pool.query("UPDATE users SET tokens_valid_after = now() + interval '5 seconds' WHERE id = $1", [caller.id]);
    await expect(check().assertActive(sessionless)).rejects.toEqual(refusedAs('issued-before-cutoff'));
    await expect(check().assertActive(anotherToken(sessionless, Date.now() + 60_000))).resolves.toBeUndefined();
  });

  it('a revoked jti is refused; another token of the same session is not', async () => {
    const caller = await newCaller();
    await schema.pool.query(`INSERT INTO revoked_access_tokens (jti, org_id, expires_at) VALUES ($1, $2, now() + interval '1 hour')`, [caller.tokenId, tenantId]);
    await expect(check().assertActive(caller)).rejects.toEqual(refusedAs('token-revoked'));
    await expect(check().assertActive(anotherToken(caller))).resolves.toBeUndefined();
  });

  it("an application's session ends with the application's cut-off, and a deleted application's token is refused", async () => {
    const app = await newApplicationCaller();
    await expect(check().assertActive(app)).resolves.toBeUndefined();
    await withTransaction(schema.pool, (tx) => endSessions(tx, { kind: 'application', tenantId, applicationId: app.id }, 'secret_rotated'));
    await expect(check().assertActive(anotherToken(app))).rejects.toEqual(refusedAs('session-ended'));
    await schema.pool.query('DELETE FROM applications WHERE id = $1', [app.id]);
    await expect(check().assertActive(anotherToken(app))).rejects.toEqual(refusedAs('subject-unknown'));
  });

  it('a verdict is reused within the staleness bound; forgetSubject drops it at once', async () => {
    const caller = await newCaller();
    const cached = new ActiveTokenCheck({ pool: schema.pool, clock: systemClock, stalenessMs: 10 * 60_000 });
    await cached.assertActive(caller);
    await withTransaction(schema.pool, (tx) => endSessions(tx, { kind: 'user', tenantId, userId: caller.id }, 'password_reset'));
    // Another replica's change: this one keeps its verdict until the bound (here ten minutes) passes...
    await expect(cached.assertActive(caller)).resolves.toBeUndefined();
    // ...unless the change was made here.
    cached.forgetSubject(tenantId, caller.subject);
    await expect(cached.assertActive(caller)).rejects.toEqual(refusedAs('session-ended'));
  });

  it('forgetTenant drops the verdicts of every subject of the organization, and only of it', async () => {
    const user = await newCaller();
    const app = await newApplicationCaller();
    const cached = new ActiveTokenCheck({ pool: schema.pool, clock: systemClock, stalenessMs: 10 * 60_000 });
    await cached.assertActive(user);
    await cached.assertActive(app);
    await withTransaction(schema.pool, (tx) => endSessions(tx, { kind: 'organization', tenantId }, 'organization_disabled'));
    cached.forgetTenant(randomUUID());
    await expect(cached.assertActive(user)).resolves.toBeUndefined();
    cached.forgetTenant(tenantId);
    await expect(cached.assertActive(user)).rejects.toEqual(refusedAs('session-ended'));
    await expect(cached.assertActive(app)).rejects.toEqual(refusedAs('session-ended'));
  });

  it('another replica sees a change within the staleness bound (polled with a deadline)', async () => {
    const caller = await newCaller();
    const replica = new ActiveTokenCheck({ pool: schema.pool, clock: systemClock, stalenessMs: 200 });
    await replica.assertActive(caller);
    await withTransaction(schema.pool, (tx) => endSessions(tx, { kind: 'user', tenantId, userId: caller.id }, 'user_disabled'));
    const deadline = Date.now() + 10_000;
    let refusal: unknown;
    while (refusal === undefined && Date.now() < deadline) {
      refusal = await replica.assertActive(caller).then(
        () => undefined,
        (error: unknown) => error,
      );
      if (refusal === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(refusal).toEqual(refusedAs('session-ended'));
  });

  it('a request after a forget never joins a read begun before it', async () => {
    const caller = await newCaller();
    // The real database, with the first read's answer held back until released: it reads the state before the
    // change below, and is still in flight when the change is forgotten.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let reads = 0;
    const pool = {
      async query(...args: Parameters<pg.Pool['query']>) {
        const result = await (schema.pool.query as (...a: unknown[]) => Promise<unknown>)(...args);
        if (++reads === 1) await released;
        return result;
      },
    } as unknown as pg.Pool;
    const replica = new ActiveTokenCheck({ pool, clock: systemClock });
    const first = replica.assertActive(caller);
    while (reads === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await withTransaction(schema.pool, (tx) => endSessions(tx, { kind: 'user', tenantId, userId: caller.id }, 'password_change'));
    replica.forgetSubject(tenantId, caller.subject);
    const second = replica.assertActive(caller);
    release();
    await expect(second).rejects.toEqual(refusedAs('session-ended'));
    // The read begun before the change answers what it saw; it is not kept for later requests.
    await expect(first).resolves.toBeUndefined();
    await expect(replica.assertActive(caller)).rejects.toEqual(refusedAs('session-ended'));
  });
});

/** A check whose pool is closed by `outage()`; its clock moves only with `advance`. */
async function withOutage(options: { staleIfErrorMs?: number } = {}) {
  const pool: pg.Pool = schema.newPool({ max: 2 });
  let now = Date.now();
  const state = new ActiveTokenCheck({ pool, clock: { nowMs: () => now }, stalenessMs: 1, ...options });
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
    t.state.endLocally({ tenantId, subject: caller.subject, sid: caller.claims.sid as string, untilMs: Date.now() + 60_000 });
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
