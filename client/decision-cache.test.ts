import { describe, expect, it } from 'vitest';
import { DecisionCache, type DecisionQuestion } from './decision-cache.js';

const question: DecisionQuestion = { resource: 'accounts', action: 'get', product: undefined, clientIp: '203.0.113.9' };
const allow = (revision: number) => ({ allowed: true, reason: undefined, revision });

describe('DecisionCache', () => {
  it('keys by an HMAC of the token: the same token gives the same digest, another client another one', () => {
    const a = new DecisionCache({ maxEntries: 10, ttlMs: 1_000, nowMs: () => 0 });
    const b = new DecisionCache({ maxEntries: 10, ttlMs: 1_000, nowMs: () => 0 });
    expect(a.tokenDigest('t')).toBe(a.tokenDigest('t'));
    expect(a.tokenDigest('t')).not.toBe(b.tokenDigest('t'));
    expect(a.tokenDigest('t')).not.toContain('t.');
  });

  it('a raised floor hides what was decided before it; an answer at the floor is cached again', () => {
    const cache = new DecisionCache({ maxEntries: 10, ttlMs: 1_000, nowMs: () => 0 });
    cache.set('d', 'acme', question, allow(3), undefined);
    expect(cache.get('d', 'acme', question)).toMatchObject({ revision: 3 });
    cache.noteRevision('acme', 4);
    expect(cache.get('d', 'acme', question)).toBeUndefined();
    cache.set('d', 'acme', question, allow(4), undefined);
    expect(cache.get('d', 'acme', question)).toMatchObject({ revision: 4 });
    expect(cache.get('d', 'other', question)).toBeUndefined();
  });

  it('an entry never outlives the token', () => {
    let now = 0;
    const cache = new DecisionCache({ maxEntries: 10, ttlMs: 10_000, nowMs: () => now });
    cache.set('d', 'acme', question, allow(1), 500);
    now = 499;
    expect(cache.get('d', 'acme', question)).toBeDefined();
    now = 500;
    expect(cache.get('d', 'acme', question)).toBeUndefined();
  });

  it('forgetting a tenant floor (too many tenants) forgets every decision, so none from before it returns', () => {
    const cache = new DecisionCache({ maxEntries: 10, maxTenants: 2, ttlMs: 1_000, nowMs: () => 0 });
    // Revision 0: a tenant no write has touched yet, so the entry sits under floor 0, which a forgotten floor reads as.
    cache.set('d', 'acme', question, allow(0), undefined);
    cache.noteRevision('acme', 5);
    cache.noteRevision('b', 1);
    cache.noteRevision('c', 1);
    expect(cache.floorOf('acme')).toBe(0);
    expect(cache.size).toBe(0);
    expect(cache.get('d', 'acme', question)).toBeUndefined();
  });
});
