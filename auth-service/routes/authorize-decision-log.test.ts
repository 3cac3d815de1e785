// Every authorize decision reaches the decision log, with what an operator needs to read it back; a decision log
// that cannot write never changes or delays an answer.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecisionLogStore, DecisionRecorder, utcDay } from '../../platform/decision-log/index.js';
import { createAuthHarness, servings, type AuthHarness } from '../../test/support/auth-harness.js';
import { decidingRuleResolver } from '../decision-log/deciding-rule.js';
import type { TokenSubject } from '../tokens/token-issuer.js';

describe.each(servings)('decision log (served by %s)', (serving) => {
  let h: AuthHarness;
  let store: DecisionLogStore;
  let org: { id: string; slug: string };
  let user: { id: string; username: string };
  let token: string;

  const recorder = () => h.deps.decisionLog as DecisionRecorder;

  beforeAll(async () => {
    h = await createAuthHarness(`authorize_decision_log_${serving}`, {
      serving,
      decisionLog: (pool, engine) => new DecisionRecorder({ sink: new DecisionLogStore(pool), queueMax: 1_000, batchMax: 500, flushIntervalMs: 60_000, resolveRule: decidingRuleResolver(engine) }),
    });
    store = new DecisionLogStore(h.schema.pool);
    await store.ensurePartitions(utcDay(Date.now() - 86_400_000), utcDay(Date.now() + 86_400_000));
    org = await h.createOrganization();
    user = await h.createUser(org.id);
    const subject: TokenSubject = { kind: 'user', id: user.id, name: user.username, displayName: user.username, tenantId: org.id, tenantSlug: org.slug };
    token = (await h.deps.issuer.accessToken(subject, undefined, undefined)).token;
    await h.grant(org.id, `user:${user.id}`, [['ledgers', 'get']]);
  });

  afterAll(async () => {
    await h?.close();
  });

  describe('the decision log records every authorize decision', () => {
    it('an allow and a deny, with subject, tenant, resource, action, decision, revision, deciding rule, request id and client address', async () => {
      const allow = await h
        .http()
        .post('/v1/authorize')
        .set('Authorization', `Bearer ${token}`)
        .set('X-Request-Id', 'decision-log-allow-1')
        .send({ sub: `${org.slug}/${user.id}`, resource: 'ledgers', action: 'get', clientIp: '203.0.113.9' });
      expect(allow.body.authorized).toBe(true);
      const deny = await h
        .http()
        .post('/v1/authorize')
        .set('Authorization', `Bearer ${token}`)
        .set('X-Request-Id', 'decision-log-deny-1')
        .send({ sub: `${org.slug}/${user.id}`, resource: 'ledgers', action: 'delete' });
      expect(deny.body.authorized).toBe(false);
      await recorder().flush();

      const { items } = await store.list({ tenantId: org.id, subject: `user:${user.id}`, limit: 10 });
      const byRequest = new Map(items.map((item) => [item.requestId, item]));
      expect(byRequest.get('decision-log-allow-1')).toMatchObject({
        subject: `user:${user.id}`,
        resource: 'ledgers',
        action: 'get',
        allowed: true,
        reason: 'allowed_by_policy',
        revision: allow.body.revision,
        rule: `p, user:${user.id}, ${org.id}, ledgers, get, allow`,
        clientIp: '203.0.113.9',
      });
      expect(byRequest.get('decision-log-deny-1')).toMatchObject({
        subject: `user:${user.id}`,
        resource: 'ledgers',
        action: 'delete',
        allowed: false,
        reason: 'no_matching_policy',
        revision: deny.body.revision,
        rule: null,
        clientIp: '127.0.0.1',
      });
    });

    it('each check of a batch is its own entry', async () => {
      const res = await h
        .http()
        .post('/v1/authorize/batch')
        .set('Authorization', `Bearer ${token}`)
        .set('X-Request-Id', 'decision-log-batch-1')
        .send({ checks: [{ sub: `${org.slug}/${user.id}`, resource: 'ledgers', action: 'get' }, { sub: `${org.slug}/${user.id}`, resource: 'accounts', action: 'post' }] });
      expect(res.body.results).toEqual([{ authorized: true }, { authorized: false, reason: 'permission' }]);
      await recorder().flush();
      const { items } = await store.list({ tenantId: org.id, limit: 50 });
      const batch = items.filter((item) => item.requestId === 'decision-log-batch-1');
      expect(batch.map((item) => [item.resource, item.action, item.allowed]).sort()).toEqual([
        ['accounts', 'post', false],
        ['ledgers', 'get', true],
      ]);
    });

    it("is never read across tenants: another organization's log holds none of these", async () => {
      const other = await h.createOrganization();
      expect((await store.list({ tenantId: other.id, limit: 10 })).items).toEqual([]);
    });
  });

  describe('a decision log whose database is down', () => {
    let down: AuthHarness;
    let dead: pg.Pool;

    beforeAll(async () => {
      dead = new pg.Pool({ host: '127.0.0.1', port: 1, user: 'postgres', database: 'test', connectionTimeoutMillis: 1_000 });
      dead.on('error', () => undefined);
      down = await createAuthHarness(`authorize_decision_log_down_${serving}`, {
        serving,
        decisionLog: (_pool, engine) => new DecisionRecorder({ sink: new DecisionLogStore(dead), queueMax: 1_000, batchMax: 500, flushIntervalMs: 60_000, resolveRule: decidingRuleResolver(engine) }),
      });
    });

    afterAll(async () => {
      await down?.close();
      await dead?.end();
    });

    it('drops the records (counted) and every decision still answers', async () => {
      const o = await down.createOrganization();
      const u = await down.createUser(o.id);
      const subject: TokenSubject = { kind: 'user', id: u.id, name: u.username, displayName: u.username, tenantId: o.id, tenantSlug: o.slug };
      const t = (await down.deps.issuer.accessToken(subject, undefined, undefined)).token;
      await down.grant(o.id, `user:${u.id}`, [['ledgers', 'get']]);
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          down
            .http()
            .post('/v1/authorize')
            .set('Authorization', `Bearer ${t}`)
            .send({ sub: `${o.slug}/${u.id}`, resource: 'ledgers', action: i % 2 === 0 ? 'get' : 'delete' }),
        ),
      );
      expect(answers.map((res) => [res.status, res.body.authorized])).toEqual(Array.from({ length: 10 }, (_, i) => [200, i % 2 === 0]));
      const log = down.deps.decisionLog as DecisionRecorder;
      await log.flush();
      expect(log.counts).toEqual({ written: 0, droppedQueueFull: 0, droppedStoreFailed: 10 });
    });
  });
});
