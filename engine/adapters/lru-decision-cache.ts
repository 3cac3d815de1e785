import { LRUCache } from 'lru-cache';
import type { CachedDecision, LocalDecisionCache } from '../ports.js';

/**
 * The in-process decision cache tier: synchronous, bounded to `maxEntries`, least recently used evicted
 * first. Entries carry no TTL of their own: keys include the tenant's revision, so a policy change makes old
 * entries unreachable and they age out.
 *
 * @example
 * const local = new LruDecisionCache({ maxEntries: 100_000 });
 * local.set(key, { allowed: false, reason: 'no_matching_policy' });
 */
export class LruDecisionCache implements LocalDecisionCache {
  private readonly entries: LRUCache<string, CachedDecision>;

  constructor(options: { readonly maxEntries: number }) {
    if (!Number.isSafeInteger(options.maxEntries) || options.maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${options.maxEntries}`);
    }
    this.entries = new LRUCache({ max: options.maxEntries });
  }

  get(key: string): CachedDecision | undefined {
    return this.entries.get(key);
  }

  set(key: string, decision: CachedDecision): void {
    this.entries.set(key, decision);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
