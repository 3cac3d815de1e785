import { describe, expect, it } from 'vitest';
import { MemoryDecisionCache } from './index.js';

const allow = { allowed: true, reason: 'allowed_by_policy' } as const;
const deny = { allowed: false, reason: 'no_matching_policy' } as const;

describe('in-process decision cache', () => {
  it('answers only at the revision an entry was made at; a newer revision drops the tenant\'s older entries', () => {
    const cache = new MemoryDecisionCache({ maxEntries: 100 });
    cache.set('acme', 3, 'user:1', 'accounts', 'get', allow);
    expect(cache.get('acme', 3, 'user:1', 'accounts', 'get')).toBe(allow);
    expect(cache.get('acme', 4, 'user:1', 'accounts', 'get')).toBeUndefined();
    expect(cache.get('other', 3, 'user:1', 'accounts', 'get')).toBeUndefined();
    cache.set('acme', 4, 'user:1', 'accounts', 'post', deny);
    expect(cache.get('acme', 3, 'user:1', 'accounts', 'get')).toBeUndefined();
    expect(cache.size).toBe(1);
    cache.set('acme', 3, 'user:2', 'accounts', 'get', allow); // a late write of an older revision
    expect(cache.get('acme', 4, 'user:2', 'accounts', 'get')).toBeUndefined();
    expect(cache.size).toBe(1);
  });

  it('keeps requests apart part by part, where a joined key could collide', () => {
    const cache = new MemoryDecisionCache({ maxEntries: 100 });
    cache.set('t', 1, 'a$$b', 'c', 'get', allow);
    expect(cache.get('t', 1, 'a', 'b$$c', 'get')).toBeUndefined();
    cache.set('t', 1, 'ab', 'c', 'get', deny);
    expect(cache.get('t', 1, 'a', 'bc', 'get')).toBeUndefined();
  });

  it('stays within its bound, evicting subjects not used since the last sweep before recently used ones', () => {
    const cache = new MemoryDecisionCache({ maxEntries: 100 });
    cache.set('t', 1, 'hot', 'x', 'get', allow);
    for (let i = 0; i < 1_000; i++) {
      cache.set('t', 1, `cold:${i}`, 'x', 'get', deny);
      expect(cache.get('t', 1, 'hot', 'x', 'get')).toBe(allow); // used between sweeps: kept
      expect(cache.size).toBeLessThanOrEqual(100);
    }
    expect(cache.get('t', 1, 'cold:0', 'x', 'get')).toBeUndefined();
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(() => new MemoryDecisionCache({ maxEntries: 0 })).toThrow(RangeError);
  });
});
