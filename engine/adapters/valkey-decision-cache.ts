import type { Cluster, Valkey } from 'iovalkey';
import type { CachedDecision, DecisionCacheTier, DecisionReason } from '../ports.js';

const reasonCodes: Record<DecisionReason, string> = {
  allowed_by_policy: 'a',
  denied_by_policy: 'd',
  no_matching_policy: 'n',
};

// Every valid stored value maps to one shared frozen decision: a hit allocates nothing.
const decisionsByValue: ReadonlyMap<string, CachedDecision> = new Map(
  (Object.keys(reasonCodes) as DecisionReason[]).flatMap((reason) =>
    [true, false].map((allowed) => [encode({ allowed, reason }), Object.freeze({ allowed, reason })] as const),
  ),
);

function encode(decision: CachedDecision): string {
  return (decision.allowed ? '1' : '0') + reasonCodes[decision.reason];
}

/**
 * The shared decision cache tier on Valkey. A decision is stored as two characters (allowed flag, reason
 * code) under `keyPrefix + key` with `SET key value EX ttl`; a value it does not recognise reads as a miss.
 * Failures reject (fast, given a client from `createValkeyClient`); the engine counts them and skips the tier.
 *
 * @example
 * const cache = new ValkeyDecisionCache({ client: valkey, keyPrefix: 'am:decision:' });
 * await cache.set('acme:7:user:1:accounts:get', { allowed: true, reason: 'allowed_by_policy' }, 60);
 */
export class ValkeyDecisionCache implements DecisionCacheTier {
  readonly name = 'valkey';
  private readonly client: Valkey | Cluster;
  private readonly keyPrefix: string;

  constructor(options: { readonly client: Valkey | Cluster; readonly keyPrefix: string }) {
    this.client = options.client;
    this.keyPrefix = options.keyPrefix;
  }

  async get(key: string): Promise<CachedDecision | undefined> {
    const value = await this.client.get(this.keyPrefix + key);
    return value === null ? undefined : decisionsByValue.get(value);
  }

  /**
   * A fractional TTL is rounded down and one under a second is not stored: a cached decision must never
   * outlive what bounded its TTL.
   */
  async set(key: string, decision: CachedDecision, ttlSeconds: number): Promise<void> {
    if (!Number.isFinite(ttlSeconds)) throw new RangeError(`ttlSeconds must be finite, got ${ttlSeconds}`);
    const wholeSeconds = Math.floor(ttlSeconds);
    if (wholeSeconds < 1) return;
    await this.client.set(this.keyPrefix + key, encode(decision), 'EX', wholeSeconds);
  }
}
