import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Valkey } from 'iovalkey';
import { createValkeyClient } from '../../platform/valkey-client.js';
import { closedPortUrl, testKeyPrefix, testValkeyUrl } from '../../test/support/valkey.js';
import type { CachedDecision } from '../ports.js';
import { ValkeyDecisionCache } from './valkey-decision-cache.js';

const keyPrefix = testKeyPrefix('valkey-decision-cache');
const allow: CachedDecision = { allowed: true, reason: 'allowed_by_policy' };
const deny: CachedDecision = { allowed: false, reason: 'denied_by_policy' };
const noMatch: CachedDecision = { allowed: false, reason: 'no_matching_policy' };

let client: Valkey;
let raw: Valkey;
let down: Valkey;
let cache: ValkeyDecisionCache;

beforeAll(async () => {
  client = createValkeyClient({ url: testValkeyUrl, lazyConnect: true });
  raw = createValkeyClient({ url: testValkeyUrl, lazyConnect: true });
  down = createValkeyClient({ url: closedPortUrl });
  await Promise.all([client.connect(), raw.connect()]);
  cache = new ValkeyDecisionCache({ client, keyPrefix });
});

afterAll(async () => {
  const keys = await raw.keys(`${keyPrefix}*`);
  if (keys.length > 0) await raw.del(...keys);
  client.disconnect();
  raw.disconnect();
  down.disconnect();
});

describe('ValkeyDecisionCache', () => {
  it('returns what was stored, for every decision shape', async () => {
    const shapes: CachedDecision[] = [
      allow,
      deny,
      noMatch,
      { allowed: false, reason: 'allowed_by_policy' },
      { allowed: true, reason: 'denied_by_policy' },
      { allowed: true, reason: 'no_matching_policy' },
    ];
    for (const [i, decision] of shapes.entries()) {
      await cache.set(`shape:${i}`, decision, 60);
      expect(await cache.get(`shape:${i}`)).toEqual(decision);
    }
  });

  it('an absent key is a miss', async () => {
    expect(await cache.get('never-set')).toBeUndefined();
  });

  it('stores under keyPrefix + key, as two characters, with the TTL given (SET EX)', async () => {
    await cache.set('acme:7:user:1:accounts:get', allow, 60);
    expect(await raw.keys(`${keyPrefix}*`)).toContain(`${keyPrefix}acme:7:user:1:accounts:get`);
    expect(await raw.keys('acme:7:user:1:accounts:get')).toEqual([]);
    const stored = await raw.get(`${keyPrefix}acme:7:user:1:accounts:get`);
    expect(stored?.length).toBeLessThanOrEqual(2);
    const ttl = await raw.ttl(`${keyPrefix}acme:7:user:1:accounts:get`);
    expect(ttl).toBeGreaterThan(55);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  it('an entry expires after its TTL', async () => {
    await cache.set('short-lived', deny, 1);
    expect(await cache.get('short-lived')).toEqual(deny);
    await vi.waitFor(async () => expect(await cache.get('short-lived')).toBeUndefined(), {
      timeout: 3_000,
      interval: 100,
    });
  });

  it('a fractional TTL is rounded down, never extended beyond what bounded it', async () => {
    await cache.set('fractional', allow, 2.9);
    expect(await raw.ttl(`${keyPrefix}fractional`)).toBeLessThanOrEqual(2);
    await cache.set('sub-second', allow, 0.5);
    expect(await raw.exists(`${keyPrefix}sub-second`)).toBe(0);
    await expect(cache.set('nan', allow, Number.NaN)).rejects.toThrow(RangeError);
  });

  it('a stored value it does not recognise reads as a miss', async () => {
    for (const [i, value] of ['', '1', 'x', '1x', '2a', '1aa', '{"allowed":true}', 'true'].entries()) {
      await raw.set(`${keyPrefix}corrupt:${i}`, value, 'EX', 60);
      expect(await cache.get(`corrupt:${i}`)).toBeUndefined();
    }
  });

  it('a hit allocates no new decision object (hot path)', async () => {
    await cache.set('shared', allow, 60);
    const first = await cache.get('shared');
    const second = await cache.get('shared');
    expect(first).toBe(second);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('with the server down, get and set reject in well under a second, every time', async () => {
    const downCache = new ValkeyDecisionCache({ client: down, keyPrefix });
    const timings: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      for (const call of [() => downCache.get('k'), () => downCache.set('k', allow, 60)]) {
        const start = performance.now();
        await expect(call()).rejects.toBeInstanceOf(Error);
        timings.push(performance.now() - start);
      }
    }
    expect(Math.max(...timings)).toBeLessThan(1_000);
  });
});
