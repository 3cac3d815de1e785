import { describe, expect, it } from 'vitest';
import type { CachedDecision } from '../ports.js';
import { LruDecisionCache } from './lru-decision-cache.js';

const allow: CachedDecision = { allowed: true, reason: 'allowed_by_policy' };
const deny: CachedDecision = { allowed: false, reason: 'denied_by_policy' };

describe('LruDecisionCache', () => {
  it('returns what was stored, synchronously; an absent key is a miss', () => {
    const cache = new LruDecisionCache({ maxEntries: 10 });
    cache.set('a', allow);
    expect(cache.get('a')).toBe(allow);
    expect(cache.get('b')).toBeUndefined();
  });

  it('never holds more than maxEntries, evicting the least recently used first', () => {
    const cache = new LruDecisionCache({ maxEntries: 3 });
    cache.set('a', allow);
    cache.set('b', deny);
    cache.set('c', allow);
    cache.get('a');
    cache.set('d', deny);
    expect(cache.size).toBe(3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(allow);
    expect(cache.get('c')).toBe(allow);
    expect(cache.get('d')).toBe(deny);
    for (let i = 0; i < 1_000; i += 1) cache.set(`k${i}`, allow);
    expect(cache.size).toBe(3);
  });

  it('overwriting a key replaces its decision without growing', () => {
    const cache = new LruDecisionCache({ maxEntries: 3 });
    cache.set('a', allow);
    cache.set('a', deny);
    expect(cache.get('a')).toBe(deny);
    expect(cache.size).toBe(1);
  });

  it('clear empties it', () => {
    const cache = new LruDecisionCache({ maxEntries: 3 });
    cache.set('a', allow);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.get('a')).toBeUndefined();
  });

  it('an unbounded or invalid size is refused', () => {
    for (const maxEntries of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new LruDecisionCache({ maxEntries })).toThrow(RangeError);
    }
  });
});
