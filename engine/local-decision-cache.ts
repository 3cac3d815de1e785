import type { CachedDecision, LocalDecisionCache } from './ports.js';

interface SubjectEntry {
  /** CLOCK reference bit: set on a hit, cleared by the eviction sweep. */
  used: boolean;
  count: number;
  readonly byResource: Map<string, Map<string, CachedDecision>>;
}

interface TenantEntry {
  readonly revision: number;
  count: number;
  readonly subjects: Map<string, SubjectEntry>;
}

/**
 * The in-process decision tier: tenant → subject → resource → action maps, keyed by the request's own strings,
 * so a hit builds and hashes no key (most of a flat-key cache's cost). Bounded to `maxEntries`: when full, a
 * CLOCK sweep (second chance, an approximation of LRU) evicts the subjects not used since the last sweep. A
 * tenant's entries belong to one revision: the first write at a newer revision drops the older ones, and a
 * lookup at another revision misses, so a decision made before a policy change is never served after it.
 *
 * @example
 * const cache = new MemoryDecisionCache({ maxEntries: 100_000 });
 * cache.set('acme', 3, 'user:1', 'accounts', 'get', { allowed: true, reason: 'allowed_by_policy' });
 * cache.get('acme', 3, 'user:1', 'accounts', 'get'); // the decision; at revision 4: undefined
 */
export class MemoryDecisionCache implements LocalDecisionCache {
  private readonly tenants = new Map<string, TenantEntry>();
  private entries = 0;
  private readonly maxEntries: number;

  constructor(options: { readonly maxEntries: number }) {
    if (!Number.isSafeInteger(options.maxEntries) || options.maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${options.maxEntries}`);
    }
    this.maxEntries = options.maxEntries;
  }

  get size(): number {
    return this.entries;
  }

  get(tenantId: string, revision: number, sub: string, obj: string, act: string): CachedDecision | undefined {
    const tenant = this.tenants.get(tenantId);
    if (tenant === undefined || tenant.revision !== revision) return undefined;
    const subject = tenant.subjects.get(sub);
    if (subject === undefined) return undefined;
    const decision = subject.byResource.get(obj)?.get(act);
    if (decision !== undefined) subject.used = true;
    return decision;
  }

  set(tenantId: string, revision: number, sub: string, obj: string, act: string, decision: CachedDecision): void {
    let tenant = this.tenants.get(tenantId);
    if (tenant === undefined || tenant.revision !== revision) {
      if (tenant !== undefined) {
        if (tenant.revision > revision) return; // a late write of an older revision
        this.entries -= tenant.count;
      }
      tenant = { revision, count: 0, subjects: new Map() };
      this.tenants.set(tenantId, tenant);
    }
    let subject = tenant.subjects.get(sub);
    if (subject === undefined) {
      subject = { used: false, count: 0, byResource: new Map() };
      tenant.subjects.set(sub, subject);
    }
    let actions = subject.byResource.get(obj);
    if (actions === undefined) {
      actions = new Map();
      subject.byResource.set(obj, actions);
    }
    if (!actions.has(act)) {
      subject.count++;
      tenant.count++;
      this.entries++;
    }
    actions.set(act, decision);
    if (this.entries > this.maxEntries) this.evict();
  }

  clear(): void {
    this.tenants.clear();
    this.entries = 0;
  }

  /** Sweeps until a tenth of the room is free: unused subjects go, used ones lose their mark (second chance). */
  private evict(): void {
    const target = Math.floor(this.maxEntries * 0.9);
    for (let pass = 0; pass < 3 && this.entries > target; pass++) {
      for (const [tenantId, tenant] of this.tenants) {
        for (const [sub, subject] of tenant.subjects) {
          if (subject.used && pass < 2) {
            subject.used = false;
            continue;
          }
          tenant.subjects.delete(sub);
          tenant.count -= subject.count;
          this.entries -= subject.count;
          if (this.entries <= target) break;
        }
        if (tenant.subjects.size === 0) this.tenants.delete(tenantId);
        if (this.entries <= target) return;
      }
    }
  }
}
