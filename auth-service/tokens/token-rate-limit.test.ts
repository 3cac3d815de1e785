import express from 'express';
import supertest from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { errorHandler } from '../../platform/http/error-handler.js';
import { createValkeyClient } from '../../platform/valkey-client.js';
import { testKeyPrefix, testValkeyUrl } from '../../test/support/valkey.js';
import { authCatalogue, oauthErrorOf } from '../errors.js';
import { createTokenRateLimit, type TokenRateLimitOptions } from './token-rate-limit.js';

function appWith(options: TokenRateLimitOptions): express.Express {
  const app = express();
  app.use(createTokenRateLimit(options));
  for (const path of ['/oauth/token', '/v1/login/oauth/access_token', '/v1/userinfo']) app.post(path, (_req, res) => void res.json({ ok: true }));
  app.use(errorHandler(authCatalogue, () => undefined, { paths: ['/oauth/token'], errorOf: oauthErrorOf as Record<string, string> }));
  return app;
}

const valkey = createValkeyClient({ url: testValkeyUrl });
afterAll(() => valkey.disconnect());

describe('token route rate limit (per client address)', () => {
  it('in memory: the 11th request in the window is 429 with Retry-After, RFC 6749 body on /oauth/token, problem+json on the contract route; other routes untouched', async () => {
    const app = appWith({ valkey: undefined, keyPrefix: testKeyPrefix('rl'), trustedProxies: [] });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await supertest(app).post(i % 2 ? '/oauth/token' : '/v1/login/oauth/access_token')).status);
    expect(statuses.every((s) => s === 200)).toBe(true);
    const limited = await supertest(app).post('/oauth/token');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.body.error).toBe('invalid_request');
    const contract = await supertest(app).post('/v1/login/oauth/access_token');
    expect(contract.status).toBe(429);
    expect(contract.body.code).toBe('AUT-0015');
    expect((await supertest(app).post('/v1/userinfo')).status).toBe(200);
  });

  it('in Valkey: a burst of 25 from one address lets exactly 10 through, shared by two app instances', async () => {
    const options = { valkey, keyPrefix: testKeyPrefix('rl'), trustedProxies: [] };
    const [a, b] = [appWith(options), appWith(options)];
    const answers = await Promise.all(Array.from({ length: 25 }, (_, i) => supertest(i % 2 ? a : b).post('/oauth/token')));
    expect(answers.filter((r) => r.status === 200)).toHaveLength(10);
    expect(answers.filter((r) => r.status === 429)).toHaveLength(15);
    const keys = await valkey.keys(`${options.keyPrefix}*`);
    if (keys.length > 0) await valkey.del(...keys);
  });

  it('X-Forwarded-For is believed only from a trusted proxy', async () => {
    const app = appWith({ valkey: undefined, keyPrefix: testKeyPrefix('rl'), trustedProxies: [], limit: 1 });
    expect((await supertest(app).post('/oauth/token').set('X-Forwarded-For', '203.0.113.1')).status).toBe(200);
    expect((await supertest(app).post('/oauth/token').set('X-Forwarded-For', '203.0.113.2')).status).toBe(429);
    const proxied = appWith({ valkey: undefined, keyPrefix: testKeyPrefix('rl'), trustedProxies: ['127.0.0.0/8', '::1/128'], limit: 1 });
    expect((await supertest(proxied).post('/oauth/token').set('X-Forwarded-For', '203.0.113.1')).status).toBe(200);
    expect((await supertest(proxied).post('/oauth/token').set('X-Forwarded-For', '203.0.113.2')).status).toBe(200);
    expect((await supertest(proxied).post('/oauth/token').set('X-Forwarded-For', '203.0.113.2')).status).toBe(429);
  });
});
