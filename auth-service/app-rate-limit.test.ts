// The token routes of the assembled app are rate-limited per client address (contract: 10 per 60 s by default).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthHarness, type AuthHarness } from '../test/support/auth-harness.js';

let h: AuthHarness;
beforeAll(async () => {
  h = await createAuthHarness('auth_rate_limit', { settings: { tokenRateLimit: { limit: 3, windowSeconds: 60 } } });
});
afterAll(async () => h.close());

describe('token route rate limit', () => {
  it('answers 429 with Retry-After once a client address spent its requests, whatever the credentials', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await h.http().post('/v1/login/oauth/access_token').send({ grantType: 'password', username: 'nobody', password: 'wrong-password-1' });
      statuses.push(response.status);
      if (response.status === 429) expect(response.headers['retry-after']).toMatch(/^\d+$/);
    }
    expect(statuses.slice(0, 3).every((s) => s === 400)).toBe(true);
    expect(statuses.slice(3)).toEqual([429, 429]);
  });
});
