import { EngineError } from './errors.js';

interface Waiter {
  readonly minRevision: number;
  readonly resolve: () => void;
}

/** Callers waiting for a tenant to reach a revision (read-your-writes), released as revisions arrive. */
export class RevisionWaiters {
  private readonly byTenant = new Map<string, Set<Waiter>>();

  /** Resolves once `released(tenantId, r)` is called with r >= minRevision; rejects with STALE_REVISION after `timeoutMs`. */
  wait(tenantId: string, minRevision: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let set = this.byTenant.get(tenantId);
      if (!set) this.byTenant.set(tenantId, (set = new Set()));
      const waiters = set;
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new EngineError('STALE_REVISION', `tenant ${tenantId} has not reached revision ${minRevision} within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = {
        minRevision,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      waiters.add(waiter);
    });
  }

  /** Whether somebody waits for `tenantId` (such a tenant must stay loaded). */
  has(tenantId: string): boolean {
    return this.byTenant.has(tenantId);
  }

  released(tenantId: string, revision: number): void {
    const set = this.byTenant.get(tenantId);
    if (!set) return;
    for (const waiter of set) {
      if (waiter.minRevision <= revision) {
        set.delete(waiter);
        waiter.resolve();
      }
    }
    if (set.size === 0) this.byTenant.delete(tenantId);
  }
}
