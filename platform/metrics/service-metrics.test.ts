import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MemoryChangeBus } from '../../engine/adapters/memory-change-feed.js';
import { MemoryPolicyStore } from '../../engine/adapters/memory-policy-store.js';
import { loadModelFile, MemoryDecisionCache, PolicyEngine } from '../../engine/index.js';
import type { Caller } from '../http/caller.js';
import { platformCatalogue } from '../http/platform-errors.js';
import { defineRoute } from '../http/route.js';
import { createServiceApp } from '../http/service-app.js';
import { createLogger } from '../logger.js';
import { Secret } from '../secret.js';
import { metricsEndpoint } from './metrics-endpoint.js';
import { createServiceMetrics, type ServiceMetrics } from './service-metrics.js';

const token = randomBytes(32).toString('hex');
const caller: Caller = { kind: 'user', id: 'u1', subject: 'user:u1', tenantId: 't1', tokenId: undefined, claims: {} };

function appWith(metrics: ServiceMetrics, metricsToken: string | undefined) {
  return createServiceApp({
    info: { title: 'test', version: '1' },
    catalogue: platformCatalogue('AUT'),
    report: () => undefined,
    guards: { authenticate: async () => caller, authorize: async () => undefined },
    observe: metrics.http,
    before: [metricsEndpoint(metrics.registry, metricsToken === undefined ? undefined : new Secret(metricsToken))],
    routes: [
      defineRoute({
        method: 'get',
        path: '/v1/things/{id}',
        summary: 'get a thing',
        tags: ['things'],
        auth: 'none',
        params: z.object({ id: z.string().max(64) }).strict(),
        query: z.object({ secret: z.string().optional() }).strict(),
        responses: { 200: { description: 'a thing' } },
        async handler({ params }) {
          return { body: { id: params.id } };
        },
      }),
    ],
  });
}

async function scrape(app: ReturnType<typeof appWith>): Promise<string> {
  const res = await supertest(app).get('/metrics').set('Authorization', `Bearer ${token}`);
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text;
}

/** The value of the sample `name` whose labels include `labels` (label order in the text is prom-client's). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => present[k] === v)) return Number(match[3]);
  }
  return undefined;
}

describe('service metrics', () => {
  it('records latency per route pattern, method and status, never the raw path (bounded series)', async () => {
    const metrics = createServiceMetrics({ service: 'auth' });
    const app = appWith(metrics, token);
    for (const id of ['alpha', 'beta', 'gamma']) expect((await supertest(app).get(`/v1/things/${id}`)).status).toBe(200);
    expect((await supertest(app).post('/v1/things/alpha')).status).toBe(405);
    for (const path of ['/nope/1', '/nope/2', '/v1/things/a/b']) expect((await supertest(app).get(path)).status).toBe(404);
    const text = await scrape(app);
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route: '/v1/things/:id', status: '200' })).toBe(3);
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'POST', route: '/v1/things/:id', status: '405' })).toBe(1);
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route: '(unmatched)', status: '404' })).toBe(3);
    // Buckets are cumulative and end at the count.
    const series = { method: 'GET', route: '/v1/things/:id', status: '200' };
    expect(sample(text, 'http_request_duration_seconds_bucket', { ...series, le: '+Inf' })).toBe(3);
    expect(sample(text, 'http_request_duration_seconds_bucket', { ...series, le: '10' })).toBe(3);
    expect(sample(text, 'http_request_duration_seconds_bucket', { ...series, le: '0.0005' })).toBeLessThanOrEqual(sample(text, 'http_request_duration_seconds_bucket', { ...series, le: '0.001' }) ?? -1);
    expect(sample(text, 'http_request_duration_seconds_sum', series)).toBeGreaterThan(0);
    for (const raw of ['alpha', 'beta', 'nope']) expect(text).not.toContain(raw);
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('/metrics needs the bearer token: 401 problem+json without it or with a wrong one, 404 when no token is configured', async () => {
    const app = appWith(createServiceMetrics({ service: 'auth' }), token);
    const missing = await supertest(app).get('/metrics');
    expect(missing.status).toBe(401);
    expect(missing.headers['content-type']).toMatch(/problem\+json/);
    expect((await supertest(app).get('/metrics').set('Authorization', `Bearer ${token.slice(1)}x`)).status).toBe(401);
    expect((await supertest(app).get('/metrics').set('Authorization', `Basic ${token}`)).status).toBe(401);
    expect((await supertest(appWith(createServiceMetrics({ service: 'auth' }), undefined)).get('/metrics').set('Authorization', `Bearer ${token}`)).status).toBe(404);
  });

  it('two services in one process keep separate registries (no global clash)', async () => {
    const auth = createServiceMetrics({ service: 'auth' });
    const identity = createServiceMetrics({ service: 'identity' });
    await supertest(appWith(auth, token)).get('/v1/things/x');
    const identityText = await scrape(appWith(identity, token));
    expect(identityText).toContain('service="identity"');
    expect(identityText).not.toContain('route="/v1/things/:id"');
  });

  it('counts authorize outcomes, cache hits and misses per tier, policy figures and propagation lag from the engine', async () => {
    const metrics = createServiceMetrics({ service: 'auth' });
    const model = await loadModelFile();
    const store = new MemoryPolicyStore(model.tenantOf);
    const bus = new MemoryChangeBus();
    const writer = await PolicyEngine.start({ model, store, feed: bus.feed(), resyncIntervalMs: 0 });
    const engine = await PolicyEngine.start({ model, store, feed: bus.feed(), resyncIntervalMs: 0, localCache: new MemoryDecisionCache({ maxEntries: 100 }), onEvent: metrics.onEngineEvent });
    metrics.watchEngine(engine);
    try {
      await writer.write('acme', [{ op: 'add', rule: { ptype: 'p', values: ['user:1', 'acme', 'accounts', 'get', 'allow'] } }]);
      const deadline = Date.now() + 2_000;
      while (engine.revisionOf('acme') < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      for (let i = 0; i < 3; i++) metrics.authorizeDecisions.record(engine.decideSync({ sub: 'user:1', dom: 'acme', obj: 'accounts', act: 'get' }).allowed);
      metrics.authorizeDecisions.record(engine.decideSync({ sub: 'user:2', dom: 'acme', obj: 'accounts', act: 'get' }).allowed);
      metrics.authorizeDecisions.recordError();
      const text = await scrape(appWith(metrics, token));
      expect(sample(text, 'am_authorize_decisions_total', { decision: 'allow' })).toBe(3);
      expect(sample(text, 'am_authorize_decisions_total', { decision: 'deny' })).toBe(1);
      expect(sample(text, 'am_authorize_decisions_total', { decision: 'error' })).toBe(1);
      expect(sample(text, 'am_decision_cache_requests_total', { tier: 'local', result: 'hit' })).toBe(2);
      expect(sample(text, 'am_decision_cache_requests_total', { tier: 'local', result: 'miss' })).toBe(2);
      expect(sample(text, 'am_policy_revision_sum', {})).toBe(1);
      expect(sample(text, 'am_policy_tenants', {})).toBe(1);
      expect(sample(text, 'am_engine_ready', {})).toBe(1);
      expect(sample(text, 'am_policy_propagation_seconds_count', {})).toBe(1);
      expect(text).not.toContain('acme');
    } finally {
      writer.stop();
      engine.stop();
    }
  });

  it('writes one debug access line per request with its request id and route, never the URL, query or headers', async () => {
    const lines: string[] = [];
    const destination = new Writable({ write: (chunk: Buffer, _enc, done) => { lines.push(chunk.toString()); done(); } });
    const logger = createLogger({ name: 'auth', level: 'debug', destination });
    const app = appWith(createServiceMetrics({ service: 'auth', logger }), token);
    const secretValue = randomBytes(16).toString('hex');
    await supertest(app).get(`/v1/things/item42?secret=${secretValue}`).set('X-Request-Id', 'req-12345678').set('Authorization', `Bearer ${secretValue}`);
    const entry = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.msg === 'request');
    expect(entry).toMatchObject({ requestId: 'req-12345678', method: 'GET', route: '/v1/things/:id', status: 200 });
    expect(lines.join('')).not.toContain(secretValue);
    expect(lines.join('')).not.toContain('item42');
  });
});

describe('decision log metrics', () => {
  it('am_decision_log_records_total counts written and dropped decisions, am_decision_log_queue_length the backlog', async () => {
    const metrics = createServiceMetrics({ service: 'auth' });
    const source = { counts: { written: 12, droppedQueueFull: 3, droppedStoreFailed: 5 }, queued: 7 };
    metrics.watchDecisionLog(source);
    source.counts.droppedQueueFull = 4; // read at scrape time, not at watch time
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/am_decision_log_records_total\{[^}]*outcome="written"[^}]*\} 12/);
    expect(text).toMatch(/am_decision_log_records_total\{[^}]*outcome="dropped_queue_full"[^}]*\} 4/);
    expect(text).toMatch(/am_decision_log_records_total\{[^}]*outcome="dropped_store_failed"[^}]*\} 5/);
    expect(text).toMatch(/am_decision_log_queue_length(\{[^}]*\})? 7/);
  });
});
