// MFA challenges in PostgreSQL: counters single statements under concurrency, single use, expiry by the injected
// clock, and the table kept to live challenges.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthHarness, type AuthHarness } from '../../test/support/auth-harness.js';
import { PgChallengeStore, type ChallengeState } from './challenge-store.js';
import { newChallengeId } from './mfa-token.js';

let h: AuthHarness;
let tenantId: string;
let nowMs = Date.UTC(2026, 0, 1);

beforeAll(async () => {
  h = await createAuthHarness('mfa-challenge-store');
  tenantId = (await h.createOrganization()).id;
});
afterAll(async () => h?.close());

function stateOf(expiresInMs: number): ChallengeState {
  return {
    user: { id: randomUUID(), tenantId, tenantSlug: 'acme', username: 'ada', displayName: 'Ada', email: 'ada@example.com' },
    clientId: 'console',
    methods: ['app', 'email'],
    preferredType: 'app',
    expiresAtMs: nowMs + expiresInMs,
    maxAttempts: 5,
    maxResends: 3,
    rememberTtlSeconds: 0,
  };
}

describe('MFA challenges in PostgreSQL', () => {
  it('20 concurrent attempts get the counts 1..20, a sent code is kept, and of 5 concurrent consumes exactly one wins', async () => {
    const store = new PgChallengeStore({ pool: h.deps.pool, clock: { nowMs: () => nowMs } });
    const ids = Array.from({ length: 3 }, () => newChallengeId());
    await Promise.all(ids.map((id) => store.create(id, stateOf(120_000))));
    const [id] = ids as [string];
    const counts = await Promise.all(Array.from({ length: 20 }, () => store.increment(id, 'attempts')));
    expect([...counts].sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(await store.increment(id, 'resends')).toBe(1);
    expect(await store.setSentCode(id, { channel: 'email', hash: 'h' })).toBe(true);
    expect(await store.find(id)).toMatchObject({ attempts: 20, resends: 1, sentCode: { channel: 'email', hash: 'h' }, state: { clientId: 'console', methods: ['app', 'email'] } });
    const consumed = await Promise.all(Array.from({ length: 5 }, () => store.consume(id)));
    expect(consumed.filter(Boolean)).toHaveLength(1);
    expect(await store.find(id)).toBeUndefined();
    expect(await store.increment(id, 'attempts')).toBeUndefined();
    for (const other of ids.slice(1)) expect((await store.find(other))?.attempts).toBe(0);
  });

  it('a challenge past its life is gone for every operation, and a later challenge removes its row', async () => {
    const store = new PgChallengeStore({ pool: h.deps.pool, clock: { nowMs: () => nowMs } });
    const id = newChallengeId();
    await store.create(id, stateOf(60_000));
    nowMs += 60_000;
    expect(await store.find(id)).toBeUndefined();
    expect(await store.increment(id, 'attempts')).toBeUndefined();
    expect(await store.setSentCode(id, { channel: 'email', hash: 'h' })).toBe(false);
    expect(await store.consume(id)).toBe(false);

    const expired = newChallengeId();
    await store.create(expired, stateOf(1_000));
    nowMs += 1_000;
    await store.create(newChallengeId(), stateOf(60_000));
    const { rows } = await h.deps.pool.query<{ live: number; total: number }>(
      'SELECT count(*) FILTER (WHERE expires_at > to_timestamp($1 / 1000.0))::int AS live, count(*)::int AS total FROM mfa_challenges',
      [nowMs],
    );
    expect(rows[0]?.total).toBe(rows[0]?.live);
  });

  it('a challenge stored by an earlier release (its user with orgId and orgSlug) reads back with tenantId and tenantSlug', async () => {
    const store = new PgChallengeStore({ pool: h.deps.pool, clock: { nowMs: () => nowMs } });
    const id = newChallengeId();
    const state = stateOf(60_000);
    await store.create(id, state);
    await h.deps.pool.query(
      `UPDATE mfa_challenges SET state = jsonb_set(state, '{user}', (state->'user') - 'tenantId' - 'tenantSlug' || jsonb_build_object('orgId', org_id, 'orgSlug', $1::text))`,
      [state.user.tenantSlug],
    );
    const { rows } = await h.deps.pool.query<{ user: Record<string, unknown> }>(`SELECT state->'user' AS user FROM mfa_challenges`);
    expect(rows.every(({ user }) => 'orgId' in user && !('tenantId' in user))).toBe(true);

    expect((await store.find(id))?.state.user).toStrictEqual(state.user);
  });

  it('keeps only a digest of the challenge id: the table never holds what an mfaToken is made of', async () => {
    const store = new PgChallengeStore({ pool: h.deps.pool, clock: { nowMs: () => nowMs } });
    const id = newChallengeId();
    await store.create(id, stateOf(60_000));
    const { rows } = await h.deps.pool.query<{ row: string }>('SELECT row_to_json(c)::text AS row FROM mfa_challenges c');
    expect(rows.length).toBeGreaterThan(0);
    for (const { row } of rows) expect(row).not.toContain(id);
  });
});
