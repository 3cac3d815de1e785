import { createHmac, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/** One question asked of Auth, as the cache sees it. */
export interface DecisionQuestion {
  readonly resource: string;
  readonly action: string;
  readonly product: string | undefined;
  readonly clientIp: string | undefined;
}

export interface CachedDecision {
  readonly allowed: boolean;
  readonly reason: string | undefined;
  readonly revision: number;
}

interface Entry extends CachedDecision {
  readonly expiresAtMs: number;
}

export interface DecisionCacheOptions {
  readonly maxEntries: number;
  /** Tenants whose revision floor is remembered (default 10,000). */
  readonly maxTenants?: number;
  readonly ttlMs: number;
  readonly nowMs: () => number;
}

/**
 * A short, bounded cache of Auth's decisions. The key is an HMAC of the token under a key born with the
 * process (the token itself is never held, and a digest cannot be matched against a known token elsewhere),
 * the question, and the tenant's revision floor: once a newer policy revision is seen for a tenant, every
 * decision made before it is unreachable. An entry never outlives the token's `exp`.
 */
export class DecisionCache {
  private readonly entries: LRUCache<string, Entry>;
  private readonly floors: LRUCache<string, number>;
  private readonly digestKey = randomBytes(32);

  constructor(private readonly options: DecisionCacheOptions) {
    this.entries = new LRUCache<string, Entry>({ max: options.maxEntries });
    // A forgotten floor would read as 0 and make the tenant's pre-floor entries reachable again: forget them all.
    this.floors = new LRUCache<string, number>({
      max: options.maxTenants ?? 10_000,
      dispose: (_floor, _tenant, reason) => {
        if (reason === 'evict') this.entries.clear();
      },
    });
  }

  get size(): number {
    return this.entries.size;
  }

  /** The keys held now (for inspection: they carry digests, never tokens). */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  tokenDigest(token: string): string {
    return createHmac('sha256', this.digestKey).update(token).digest('base64url');
  }

  /** The lowest revision an answer for the tenant may come from. */
  floorOf(tenant: string): number {
    return this.floors.get(tenant) ?? 0;
  }

  noteRevision(tenant: string, revision: number): void {
    if (revision > this.floorOf(tenant)) this.floors.set(tenant, revision);
  }

  private keyOf(digest: string, tenant: string, question: DecisionQuestion): string {
    return JSON.stringify([digest, tenant, question.resource, question.action, question.product ?? null, question.clientIp ?? null, this.floorOf(tenant)]);
  }

  get(digest: string, tenant: string, question: DecisionQuestion): CachedDecision | undefined {
    if (this.options.ttlMs <= 0) return undefined;
    const key = this.keyOf(digest, tenant, question);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAtMs <= this.options.nowMs()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  set(digest: string, tenant: string, question: DecisionQuestion, decision: CachedDecision, tokenExpiresAtMs: number | undefined): void {
    this.noteRevision(tenant, decision.revision);
    if (this.options.ttlMs <= 0 || decision.revision < this.floorOf(tenant)) return;
    const expiresAtMs = Math.min(this.options.nowMs() + this.options.ttlMs, tokenExpiresAtMs ?? Number.POSITIVE_INFINITY);
    this.entries.set(this.keyOf(digest, tenant, question), { ...decision, expiresAtMs });
  }
}
