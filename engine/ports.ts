import type {
  PolicyChange,
  PolicyRule,
  PolicySnapshot,
  RevisionChanges,
  TenantSnapshot,
  WriteResult,
} from './policy-rule.js';

/**
 * The caller's open transaction in the policy store's backend (for PostgreSQL, a client between its `BEGIN` and
 * `COMMIT`), handed to the store's `*Within` methods so that policy commits or rolls back with the caller's own
 * rows. Opaque to the engine: only the store that understands it reads it. Whoever opened it runs its after-commit
 * effects once it commits, and never after a rollback; that is how a write made in it is announced.
 */
export interface PolicyTransaction {
  /** Runs `effect` after the transaction commits, before whoever opened it goes on; never after a rollback. */
  afterCommit(effect: () => Promise<void>): void;
}

/**
 * Where policy lives. Implementations keep every tenant's rules, its revision and a change log, and
 * guarantee that a change and its revision are never seen apart. All failures of the backing store are
 * thrown as `EngineError('POLICY_STORE_UNAVAILABLE')`. Writes happen only inside a `PolicyTransaction`, and
 * only through the engine (`PolicyEngine.writeWithin`), which has validated them against the model.
 */
export interface PolicyStore {
  /** Every tenant's rules and revisions, read in one snapshot. */
  loadAll(): Promise<PolicySnapshot>;
  /** One tenant's rules and revision, read in one snapshot. An unknown tenant has revision 0 and no rules. */
  loadTenant(tenantId: string): Promise<TenantSnapshot>;
  /** The change log of one tenant after `afterRevision`, in order; `undefined` when the log no longer reaches back that far. */
  changesSince(tenantId: string, afterRevision: number): Promise<readonly RevisionChanges[] | undefined>;
  /**
   * Every tenant's current revision, or only those of `tenantIds` (for the periodic resync: an engine holding a
   * few tenants of many asks for those). A tenant without a revision (never written through a store) is absent.
   */
  revisions(tenantIds?: readonly string[]): Promise<ReadonlyMap<string, number>>;
  /**
   * Runs `work` in a transaction of the store's own: committed when `work` resolves (then its after-commit
   * effects run, before this resolves), rolled back when it throws.
   */
  transaction<T>(work: (tx: PolicyTransaction) => Promise<T>): Promise<T>;
  /**
   * Applies a batch of changes to one tenant inside `tx`, already validated (every rule a valid rule of
   * `tenantId`). It takes the tenant's write lock; when any rule actually changes, the tenant's revision is
   * bumped by one and the effective changes are appended to the change log, all in `tx`; when nothing changes
   * (adding present rules, removing absent ones) nothing is written and `changed` is false. An empty batch takes
   * no lock and answers the revision `tx` sees.
   */
  applyChangesWithin(tx: PolicyTransaction, tenantId: string, changes: readonly PolicyChange[]): Promise<WriteResult>;
  /**
   * Takes the tenant's write lock inside `tx` and answers the revision it locked: until `tx` ends no other writer
   * changes the tenant's policy, so a check made against that revision still holds when `tx` writes.
   */
  lockTenantWithin(tx: PolicyTransaction, tenantId: string): Promise<number>;
  /**
   * Every stored line of `tenantId` whose subject (first field) is `subject`, read inside `tx` under the tenant's
   * write lock: removing what it returns, in the same transaction, leaves the subject no line.
   */
  rulesOfSubjectWithin(tx: PolicyTransaction, tenantId: string, subject: string): Promise<PolicyRule[]>;
}

/** A decision as kept in a cache tier. */
export interface CachedDecision {
  readonly allowed: boolean;
  readonly reason: DecisionReason;
}

export type DecisionReason = 'allowed_by_policy' | 'denied_by_policy' | 'no_matching_policy';

/**
 * A shared (out-of-process) decision cache tier such as Valkey. Keys are opaque strings built by the engine;
 * they already carry the tenant and its revision. Implementations must fail fast when their backend is down
 * (a rejected promise within a bounded time), never queue.
 */
export interface DecisionCacheTier {
  readonly name: string;
  get(key: string): Promise<CachedDecision | undefined>;
  set(key: string, decision: CachedDecision, ttlSeconds: number): Promise<void>;
}

/**
 * The in-process decision cache tier: synchronous because a hit must cost well under a microsecond, and
 * keyed by the request's parts (not one joined string, whose building and hashing would dominate a hit).
 * Bounded. An entry belongs to the tenant's revision: a lookup at another revision misses.
 */
export interface LocalDecisionCache {
  get(tenantId: string, revision: number, sub: string, obj: string, act: string): CachedDecision | undefined;
  set(tenantId: string, revision: number, sub: string, obj: string, act: string, decision: CachedDecision): void;
  clear(): void;
  readonly size: number;
}

/** A revision announcement: tenant `tenantId` reached `revision`. */
export interface PolicyChangeNotice {
  readonly tenantId: string;
  readonly revision: number;
  /** The announcer's wall clock when it published (ms since the epoch), for propagation-lag metrics. */
  readonly announcedAtMs?: number;
}

/**
 * Announces policy revisions to every engine instance (other processes included). Delivery is best effort:
 * the engine's periodic resync repairs a lost message.
 */
export interface ChangeFeed {
  readonly name: string;
  /** Start listening; `onNotice` is called for every announcement, including this process's own. */
  subscribe(onNotice: (notice: PolicyChangeNotice) => void): Promise<void>;
  publish(notice: PolicyChangeNotice): Promise<void>;
  close(): Promise<void>;
}

/** Time, injected so tests control it. */
export interface Clock {
  nowMs(): number;
}
