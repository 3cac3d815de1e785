import type { CompiledEvaluator, CompiledExplanation } from './compiler/compiled-evaluator.js';
import { decisionKey } from './decision-key.js';
import { EngineError, isEngineError } from './errors.js';
import { grantsOf, grantsOfBinding, holds, missingGrants, type Grant, type HoldingsView } from './holdings.js';
import { requestFieldNames, singlePartitionTenant, type ModelDefinition } from './model-definition.js';
import { requestValuesOf, type ModelRequest } from './model-request.js';
import { permissionMapOf, type PermissionMap } from './permission-map.js';
import { assertRequestName, maxNameLength } from './policy-names.js';
import type { PolicyChange, PolicyRule, TenantSnapshot, WriteResult } from './policy-rule.js';
import type {
  CachedDecision,
  ChangeFeed,
  Clock,
  DecisionCacheTier,
  DecisionReason,
  LocalDecisionCache,
  PolicyChangeNotice,
  PolicyStore,
  PolicyTransaction,
} from './ports.js';
import { RevisionWaiters } from './revision-waiters.js';
import { systemClock } from './system-clock.js';
import { Outcome, TenantIndex } from './tenant-index.js';

/** One authorization question: may `sub` do `act` on `obj` inside tenant `dom`? */
export interface AuthorizationRequest {
  readonly sub: string;
  readonly dom: string;
  readonly obj: string;
  readonly act: string;
}

/** The engine's answer. A deny is a value, never an exception. */
export interface Decision {
  readonly allowed: boolean;
  readonly reason: DecisionReason;
  /** The tenant's policy revision the decision was made at. */
  readonly revision: number;
  readonly source: 'engine' | 'local-cache' | 'shared-cache';
}

export interface DecideOptions {
  /** Never answer from an older revision of the tenant: wait (bounded), then fail with STALE_REVISION. */
  readonly minRevision?: number;
}

/** What the engine reports for logs and metrics; it never logs by itself. */
export type EngineEvent =
  | { readonly type: 'revision-applied'; readonly tenantId: string; readonly revision: number }
  | { readonly type: 'tenant-reloaded'; readonly tenantId: string; readonly revision: number }
  | { readonly type: 'cache-tier-failed'; readonly tier: string; readonly error: unknown }
  | { readonly type: 'sync-failed'; readonly error: unknown }
  | { readonly type: 'feed-failed'; readonly error: unknown }
  /** Another engine's announced revision is applied here, `lagMs` after it was announced (two wall clocks: skew included). */
  | { readonly type: 'revision-propagated'; readonly tenantId: string; readonly revision: number; readonly lagMs: number };

export interface PolicyEngineOptions {
  readonly model: ModelDefinition;
  readonly store: PolicyStore;
  readonly feed?: ChangeFeed;
  readonly localCache?: LocalDecisionCache;
  readonly sharedCache?: DecisionCacheTier;
  /** TTL of shared-cache entries; entries are unreachable after a revision change anyway. */
  readonly sharedCacheTtlSeconds?: number;
  /**
   * When to ask the shared tier: on every local miss (`always`), or only where computing is slower than a
   * network round trip, i.e. compiled models no index narrows (`slow-path`, the default).
   */
  readonly consultSharedCache?: 'always' | 'slow-path';
  /** Period of the revision poll that repairs missed change notices; 0 disables it. */
  readonly resyncIntervalMs?: number;
  /** How long a `minRevision` request may wait for its revision. */
  readonly staleWaitMs?: number;
  /**
   * Loads tenants on first use instead of all at start, and keeps the loaded ones within about this many bytes
   * (estimated, see `estimatedLineBytes`), evicting the least often used, aged (see `evictBeyondBudget`). Then a
   * tenant must be loaded (`ensureTenant`, or `decide`, which loads it) before a synchronous question about it.
   * Without it every tenant is loaded at start and kept. Applies to the shipped model's fast path; a compiled model loads every
   * tenant whatever it says.
   */
  readonly tenantMemoryBytes?: number;
  readonly clock?: Clock;
  readonly onEvent?: (event: EngineEvent) => void;
}

export interface WriteOptions {
  /**
   * Runs after the changes are validated and before they are written, in the same transaction: the writer's own
   * rule (no escalation). Throwing refuses the write; the caller's transaction then rolls back.
   */
  readonly check?: (changes: readonly PolicyChange[]) => Promise<void>;
}

export interface EngineStats {
  decisions: number;
  localHits: number;
  sharedHits: number;
  sharedMisses: number;
  sharedErrors: number;
  revisionsApplied: number;
  tenantReloads: number;
  syncFailures: number;
  /** Tenants read on first use (or after eviction). */
  tenantLoads: number;
  /** Tenants dropped from memory to stay within `tenantMemoryBytes`. */
  tenantEvictions: number;
  /** Decisions whose tenant was already loaded: `tenantHits / decisions` is the hit ratio (with a budget). */
  tenantHits: number;
}

export interface EngineHealth {
  /** Loaded and the policy store answered the last sync. */
  readonly ready: boolean;
  readonly loaded: boolean;
  readonly storeReachable: boolean;
  readonly lastSyncAtMs: number | undefined;
  readonly tenants: number;
  /** Tenants in memory now (every tenant with policy when loading everything). */
  readonly tenantsLoaded: number;
  /** The estimated bytes of the loaded tenants' policy. */
  readonly tenantBytes: number;
  /** `tenantMemoryBytes`, when tenants load on first use; undefined when every tenant is kept. */
  readonly tenantBudgetBytes: number | undefined;
  readonly rules: number;
  readonly fastPath: boolean;
  /** Sum of every tenant's applied revision: replicas that have converged report the same. */
  readonly revisionSum: number;
  readonly stats: Readonly<EngineStats>;
}

/** The role links one role check followed (`g`, `g2`, ...), from the request's value to the rule's. */
export interface RoleChain {
  readonly ptype: string;
  /** The domain the links were looked up in (undefined for a role type without domains). */
  readonly domain: string | undefined;
  /** The names from the first to the last, the request's value first (one name when both are equal). */
  readonly path: readonly string[];
}

export interface Explanation {
  readonly decision: Decision;
  /** Every rule whose matcher held for the request, in the order casbin evaluates them. */
  readonly matchedRules: readonly PolicyRule[];
  /** For each matched rule: the links from the request's subject to the rule's subject (its first `g` chain). */
  readonly paths: readonly (readonly string[])[];
  /** For each matched rule: every role check that held, with its chain. */
  readonly roleChains: readonly (readonly RoleChain[])[];
  /**
   * The rules the effect decided by: the deny that overrides, the first allow, the first rule by priority,
   * or (allow and deny) every allow when nothing denies. Empty when no rule decided (a default answer).
   */
  readonly decidingRules: readonly PolicyRule[];
}

const reasonOf: Record<Outcome, DecisionReason> = {
  [Outcome.None]: 'no_matching_policy',
  [Outcome.Allow]: 'allowed_by_policy',
  [Outcome.Deny]: 'denied_by_policy',
};

/**
 * A tenant's uses count towards its eviction priority up to this many. Uncapped, a tenant once hot for long
 * (tens of thousands of uses) stays long after its traffic stops, as the clock rises about one per eviction round;
 * capped, it goes within some 32 rounds. A replay of the bench's traffic (200,000 Zipf decisions) gave the same
 * hit ratio and reads with the cap as without it, and, once the 50 hottest tenants went quiet, freed all 50
 * (uncapped, all were still held 200,000 decisions later).
 */
const maxCountedUses = 32;

/** With a budget, loaded tenants are evicted down to this share of it, so that eviction (a sort) runs seldom. */
const evictionLowWater = 0.9;

/** A tenant without policy (or a model the holdings rules cannot read): nobody holds anything. */
const emptyView: HoldingsView = { reach: (name) => [name], linesOf: () => [], has: () => false };

/**
 * The policy engine: every tenant's policy in memory, decisions in microseconds, exactly as plain casbin
 * would decide them. Writes go through the store inside the writer's transaction (`writeWithin`: atomically,
 * with a new revision) and, once it commits, reach every other engine instance through the change feed; a
 * periodic resync repairs missed notices.
 *
 * @example
 * const engine = await PolicyEngine.start({ model, store, localCache });
 * await engine.write('acme', [{ op: 'add', rule: { ptype: 'p', values: ['role:viewer', 'acme', 'accounts', 'get', 'allow'] } }]);
 * engine.decideSync({ sub: 'role:viewer', dom: 'acme', obj: 'accounts', act: 'get' }).allowed; // true
 */
export class PolicyEngine {
  private readonly model: ModelDefinition;
  private readonly store: PolicyStore;
  private readonly options: PolicyEngineOptions;
  private readonly clock: Clock;
  private readonly tenants = new Map<string, TenantIndex>();
  private evaluator: CompiledEvaluator | undefined;
  private readonly revisions = new Map<string, number>();
  private readonly waiters = new RevisionWaiters();
  private readonly catchUps = new Map<string, { running: Promise<void>; queued: Promise<void> | undefined }>();
  private readonly pendingNotices = new Set<string>();
  /** The earliest announcement not yet applied, per tenant (for `revision-propagated`). */
  private readonly announcements = new Map<string, { readonly revision: number; readonly atMs: number }>();
  private readonly stats: EngineStats = {
    decisions: 0,
    localHits: 0,
    sharedHits: 0,
    sharedMisses: 0,
    sharedErrors: 0,
    revisionsApplied: 0,
    tenantReloads: 0,
    syncFailures: 0,
    tenantLoads: 0,
    tenantEvictions: 0,
    tenantHits: 0,
  };
  /** Tenants load on first use and are evicted within `budgetBytes` (the shipped model with a budget). */
  private readonly lazy: boolean;
  private readonly budgetBytes: number | undefined;
  private readonly loads = new Map<string, Promise<void>>();
  /** The highest revision announced for a tenant while it was being loaded: caught up once it is. */
  private readonly announcedWhileLoading = new Map<string, number>();
  /** Kept as tenants load, change and go, so that `health()` walks nothing (it is read per decision by some callers). */
  private loadedBytes = 0;
  private loadedRules = 0;
  private revisionSum = 0;
  private useCounter = 0;
  /** The highest priority evicted so far: a tenant used now starts from it (LFU with dynamic aging). */
  private evictionClock = 0;
  private loaded = false;
  private stopped = false;
  private storeReachable = false;
  private lastSyncAtMs: number | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;

  private constructor(options: PolicyEngineOptions) {
    this.options = options;
    this.model = options.model;
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    const budget = options.tenantMemoryBytes;
    if (budget !== undefined && (!Number.isSafeInteger(budget) || budget < 1)) throw new RangeError('tenantMemoryBytes must be a positive integer');
    this.budgetBytes = budget;
    this.lazy = budget !== undefined && options.model.fastPath;
  }

  /**
   * Subscribes to the change feed, loads every tenant's policy (or, with `tenantMemoryBytes`, only checks that the
   * store answers: tenants load on first use) and starts the resync poll.
   */
  static async start(options: PolicyEngineOptions): Promise<PolicyEngine> {
    const engine = new PolicyEngine(options);
    if (options.feed) {
      try {
        await options.feed.subscribe((notice) => engine.onNotice(notice));
      } catch (error) {
        engine.emit({ type: 'feed-failed', error });
      }
    }
    if (engine.lazy) await engine.openLazily();
    else await engine.loadAll();
    const interval = options.resyncIntervalMs ?? 5_000;
    if (interval > 0) {
      engine.resyncTimer = setInterval(() => void engine.resync(), interval);
      engine.resyncTimer.unref();
    }
    return engine;
  }

  get fastPath(): boolean {
    return this.model.fastPath;
  }

  /**
   * The model this engine decides by: its request fields, line shapes and plan, for callers that build requests
   * of the model's arity or check lines against its shapes.
   *
   * @example
   * engine.modelDefinition.requestFields; // ['sub', 'dom', 'obj', 'act']
   */
  get modelDefinition(): ModelDefinition {
    return this.model;
  }

  /**
   * The tenant's revision as this engine has applied it (0 for a tenant without policy). With
   * `tenantMemoryBytes`, ENGINE_NOT_READY for a tenant not loaded (`ensureTenant` first).
   */
  revisionOf(tenantId: string): number {
    if (this.lazy) this.loadedIndex(tenantId);
    return this.revisions.get(tenantId) ?? 0;
  }

  /**
   * Whether the tenant's policy is in memory now, so that synchronous questions about it are answered (always,
   * without `tenantMemoryBytes`). For work that may skip a tenant rather than load it (a log's enrichment).
   */
  isTenantLoaded(tenantId: string): boolean {
    return !this.lazy || this.tenants.has(tenantId);
  }

  /**
   * Makes sure the tenant's policy is in memory, reading it from the store when it is not (one read, shared by
   * concurrent callers), so that the synchronous questions (`decideSync`, `permissionsOf`, `holds`, ...) can be
   * asked about it. Resolves at once when every tenant is loaded (no `tenantMemoryBytes`) or it already is.
   * Call it right before the questions, with no other wait in between: a tenant may be evicted while unused.
   *
   * @example
   * await engine.ensureTenant('acme');
   * engine.permissionsOf('user:1', 'acme');
   */
  ensureTenant(tenantId: string): Promise<void> {
    if (!this.lazy) return Promise.resolve();
    if (!this.loaded) return Promise.reject(new EngineError('ENGINE_NOT_READY', 'the policy has not been loaded yet'));
    const index = this.tenants.get(tenantId);
    if (index !== undefined) {
      this.markUsed(index);
      return Promise.resolve();
    }
    try {
      assertRequestName('dom', tenantId);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.loadTenantOnce(tenantId);
  }

  /**
   * Decides from memory and the in-process cache only: no waiting, no network. Throws INVALID_REQUEST for
   * bad input and ENGINE_NOT_READY before the first load.
   */
  decideSync(request: AuthorizationRequest): Decision {
    const tenantId = this.tenantOfRequest(request);
    if (this.lazy) this.touch(tenantId);
    return this.decideLoaded(request, tenantId);
  }

  private decideLoaded(request: AuthorizationRequest, tenantId: string): Decision {
    const revision = this.revisions.get(tenantId) ?? 0;
    const cache = this.options.localCache;
    this.stats.decisions++;
    if (cache) {
      const hit = cache.get(tenantId, revision, request.sub, request.obj, request.act);
      if (hit) {
        this.stats.localHits++;
        return { allowed: hit.allowed, reason: hit.reason, revision, source: 'local-cache' };
      }
    }
    this.assertRequest(request);
    const computed = this.compute(request, tenantId);
    cache?.set(tenantId, revision, request.sub, request.obj, request.act, computed);
    return { allowed: computed.allowed, reason: computed.reason, revision, source: 'engine' };
  }

  /** Decides, consulting the shared cache tier where configured and honouring `minRevision`. */
  async decide(request: AuthorizationRequest, options: DecideOptions = {}): Promise<Decision> {
    const tenantId = this.tenantOfRequest(request);
    if (options.minRevision !== undefined) await this.ensureRevision(tenantId, options.minRevision);
    if (this.lazy && !this.touchIfLoaded(tenantId)) await this.loadForDecision(tenantId);
    const shared = this.options.sharedCache;
    const consult = shared && ((this.options.consultSharedCache ?? 'slow-path') === 'always' || this.isSlowPath());
    if (!consult) return this.decideLoaded(request, tenantId);

    const revision = this.revisions.get(tenantId) ?? 0;
    const key = decisionKey(tenantId, revision, request.sub, request.obj, request.act);
    const local = this.options.localCache?.get(tenantId, revision, request.sub, request.obj, request.act);
    this.stats.decisions++;
    if (local) {
      this.stats.localHits++;
      return { allowed: local.allowed, reason: local.reason, revision, source: 'local-cache' };
    }
    this.assertRequest(request);
    try {
      const hit = await shared.get(key);
      if (hit) {
        this.stats.sharedHits++;
        this.options.localCache?.set(tenantId, revision, request.sub, request.obj, request.act, hit);
        return { allowed: hit.allowed, reason: hit.reason, revision, source: 'shared-cache' };
      }
      this.stats.sharedMisses++;
    } catch (error) {
      this.stats.sharedErrors++;
      this.emit({ type: 'cache-tier-failed', tier: shared.name, error });
    }
    const computed = this.compute(request, tenantId);
    this.options.localCache?.set(tenantId, revision, request.sub, request.obj, request.act, computed);
    shared.set(key, computed, this.options.sharedCacheTtlSeconds ?? 300).catch((error: unknown) => {
      this.stats.sharedErrors++;
      this.emit({ type: 'cache-tier-failed', tier: shared.name, error });
    });
    return { allowed: computed.allowed, reason: computed.reason, revision, source: 'engine' };
  }

  /** The decision with the rules that made it (for policy authors; not the hot path). */
  explain(request: AuthorizationRequest): Explanation {
    const tenantId = this.tenantOfRequest(request);
    this.assertRequest(request);
    if (!this.model.fastPath) return this.explainValues(this.requestValues(request), tenantId);
    const computed = this.compute(request, tenantId);
    const decision: Decision = { ...computed, revision: this.appliedRevision(tenantId), source: 'engine' };
    const index = this.tenants.get(tenantId);
    if (!index) return { decision, matchedRules: [], paths: [], roleChains: [], decidingRules: [] };
    const matchedRules = index.matchingRules(request.sub, request.obj, request.act);
    const paths = matchedRules.map((rule) => {
      const subject = rule.values[0] ?? '';
      return subject === '*' ? ['*'] : index.pathTo(request.sub, subject);
    });
    const roleChains = paths.map((path) => (path[0] === '*' ? [] : [{ ptype: 'g', domain: tenantId, path }]));
    const deciding = computed.reason === 'no_matching_policy' ? [] : matchedRules.filter((rule) => rule.values[4] === (computed.allowed ? 'allow' : 'deny'));
    return { decision, matchedRules, paths, roleChains, decidingRules: deciding };
  }

  /**
   * Decides a request of the model's arity (any model): its values in order, or keyed by the model's field
   * names; attribute objects for the fields whose attributes the matcher reads. From memory, no cache, no
   * waiting. Throws INVALID_REQUEST naming the offending field.
   *
   * @example
   * engine.decideRequestSync(['alice', { Owner: 'alice' }, 'read']);           // an ABAC model: r = sub, obj, act
   * engine.decideRequestSync({ sub: 'alice', obj: '/data/1', act: 'GET' });    // r = sub, obj, act
   */
  decideRequestSync(request: ModelRequest): Decision {
    if (this.model.fastPath) return this.decideSync(this.convenienceRequest(request));
    if (!this.loaded) throw new EngineError('ENGINE_NOT_READY', 'the policy has not been loaded yet');
    const values = requestValuesOf(this.model, request);
    const tenantId = this.tenantOfValues(values);
    const revision = this.revisions.get(tenantId) ?? 0;
    this.stats.decisions++;
    const computed = evaluated(() => (this.evaluator as CompiledEvaluator).decide(values));
    return { allowed: computed.allowed, reason: computed.reason, revision, source: 'engine' };
  }

  /** `decideRequestSync`, honouring `minRevision` (read-your-writes) first. */
  async decideRequest(request: ModelRequest, options: DecideOptions = {}): Promise<Decision> {
    if (this.model.fastPath) return this.decide(this.convenienceRequest(request), options);
    if (options.minRevision !== undefined) {
      if (!this.loaded) throw new EngineError('ENGINE_NOT_READY', 'the policy has not been loaded yet');
      const tenantId = this.model.fastPath ? this.tenantOfRequest(this.convenienceRequest(request)) : this.tenantOfValues(requestValuesOf(this.model, request));
      await this.ensureRevision(tenantId, options.minRevision);
    }
    return this.decideRequestSync(request);
  }

  /**
   * `explain` for a request of the model's arity (any model): the decision, every rule that matched with the
   * role chains that reached it, and the rules that decided.
   *
   * @example
   * const { decidingRules, roleChains } = engine.explainRequest(['alice', 'acme', 'invoice:7', 'pay', { amount: 10 }]);
   * // decidingRules: [{ ptype: 'p', values: ['role:auditor', 'acme', 'invoices', 'pay', 'deny'] }]
   * // roleChains[0]: [{ ptype: 'g', domain: 'acme', path: ['alice', 'role:auditor'] }, ...]
   */
  explainRequest(request: ModelRequest): Explanation {
    if (this.model.fastPath) return this.explain(this.convenienceRequest(request));
    if (!this.loaded) throw new EngineError('ENGINE_NOT_READY', 'the policy has not been loaded yet');
    const values = requestValuesOf(this.model, request);
    return this.explainValues(values, this.tenantOfValues(values));
  }

  private explainValues(values: readonly unknown[], tenantId: string): Explanation {
    const evaluator = this.evaluator as CompiledEvaluator;
    const explained: CompiledExplanation = evaluated(() => evaluator.explain(values));
    const decision: Decision = { allowed: explained.allowed, reason: explained.reason, revision: this.appliedRevision(tenantId), source: 'engine' };
    const roleChains = explained.matched.map((m) =>
      m.links.map((link) => ({ ptype: link.ptype, domain: link.domain, path: evaluator.rolePath(link.ptype, link.name1, link.name2, link.domain) })),
    );
    return {
      decision,
      matchedRules: explained.matched.map((m) => m.rule),
      paths: roleChains.map((chains) => chains.find((c) => c.ptype === 'g')?.path ?? []),
      roleChains,
      decidingRules: explained.deciding,
    };
  }

  /**
   * The subject's map of resource → allowed actions in `dom`, at the tenant's current revision (see
   * `permissionMapOf` for how denies and patterns are reported). Under another model, each (`obj`, `act`) pair a
   * `p` line of the tenant writes is decided for the subject and kept when allowed (patterns as written).
   * Undefined where the model's `permissionEnumeration` says it cannot be listed, and why.
   *
   * @example
   * engine.permissionsOf('user:1', 'acme') // { permissions: { accounts: ['get'] }, revision: 7 }
   */
  permissionsOf(sub: string, dom: string): { readonly permissions: PermissionMap; readonly revision: number } | undefined {
    if (!this.loaded) throw new EngineError('ENGINE_NOT_READY', 'the policy has not been loaded yet');
    assertRequestName('sub', sub);
    assertRequestName('dom', dom);
    if (this.model.fastPath) {
      const index = this.lazy ? this.loadedIndex(dom) : this.tenants.get(dom);
      return { permissions: permissionMapOf(index, sub), revision: this.appliedRevision(dom) };
    }
    if (!this.model.permissionEnumeration.supported) return undefined;
    const evaluator = this.evaluator as CompiledEvaluator;
    const fields = this.model.requestFields;
    const tenantId = fields.includes('dom') ? dom : singlePartitionTenant;
    const policyFields = this.model.policyShapes.get('p') ?? [];
    return { permissions: enumeratedPermissions(evaluator, fields, policyFields, sub, dom), revision: this.appliedRevision(tenantId) };
  }

  /**
   * The lines of type `ptype` that belong to `tenantId` (by the model's tenant field), as this engine has applied
   * them, in a stable order. For policy authors' line types (`g2`, `p2`, ...) under a compiled model; empty under
   * the shipped model, whose lines Identity's roles and groups own.
   *
   * @example
   * engine.linesOf('acme', 'g2') // [{ ptype: 'g2', values: ['invoice:7', 'group:supplier-invoices', 'acme'] }]
   */
  linesOf(tenantId: string, ptype: string): PolicyRule[] {
    if (!this.loaded) throw new EngineError('ENGINE_NOT_READY', 'the policy has not been loaded yet');
    if (this.model.fastPath || !this.evaluator) return [];
    return this.evaluator
      .rules()
      .filter((rule) => rule.ptype === ptype && this.model.tenantOf(rule) === tenantId)
      .sort((a, b) => (a.values.join('\u0000') < b.values.join('\u0000') ? -1 : 1));
  }

  /**
   * Whether `subject` holds `(resource, action)` in `tenantId` at the revision applied here: every concrete
   * request the pair can match is allowed to it. `resource` may be a pattern (`accounts/*`, `*`) and `action`
   * `*`; a pattern is held only through one allow line whose pattern covers it, and not at all while a deny line
   * the subject is under intersects it (the full rule is on `holds` in `holdings.ts`). For "may this caller grant
   * this?", never for a request: `decide` answers those. Under a model without the fast path nothing is held
   * (coverage cannot be proven from an arbitrary matcher).
   *
   * @example
   * engine.holds('acme', 'user:1', 'accounts/*', 'get') // false while user:1 holds only accounts/7
   */
  holds(tenantId: string, subject: string, resource: string, action: string): boolean {
    this.assertHoldingsInput(tenantId, subject, [{ resource, action }]);
    return this.model.fastPath && holds(this.holdingsView(tenantId), subject, { resource, action });
  }

  /**
   * The pairs of `wanted` that `subject` does not hold in `tenantId` (the batch form of `holds`), each once.
   *
   * @example
   * engine.missingGrants('acme', 'user:1', [{ resource: 'users', action: 'get' }, { resource: '*', action: '*' }])
   * // [{ resource: '*', action: '*' }]
   */
  missingGrants(tenantId: string, subject: string, wanted: readonly Grant[]): Grant[] {
    this.assertHoldingsInput(tenantId, subject, wanted);
    return missingGrants(this.model.fastPath ? this.holdingsView(tenantId) : emptyView, subject, wanted);
  }

  /**
   * What applying `changes` to `tenantId` would give somebody, judged against the revision applied here: the
   * pairs a writer must hold to make them without escalating (see `grantsOf` in `holdings.ts`). Under a model
   * without the fast path any change may give anything: `*`/`*`.
   *
   * @example
   * engine.grantsOf('acme', [{ op: 'add', rule: { ptype: 'g', values: ['user:2', 'group:admins', 'acme'] } }])
   * // every allow line group:admins reaches
   */
  grantsOf(tenantId: string, changes: readonly PolicyChange[]): Grant[] {
    this.assertHoldingsInput(tenantId, undefined, []);
    if (!this.model.fastPath) return changes.length > 0 ? [{ resource: '*', action: '*' }] : [];
    return grantsOf(this.holdingsView(tenantId), changes);
  }

  /**
   * What becoming a member of `role` (or taking over subject `role`, e.g. by resetting its credentials) would
   * give in `tenantId`: every allow line it reaches, subject-`*` lines aside. `*`/`*` without the fast path.
   */
  grantsOfBinding(tenantId: string, role: string): Grant[] {
    this.assertHoldingsInput(tenantId, role, []);
    if (!this.model.fastPath) return [{ resource: '*', action: '*' }];
    return grantsOfBinding(this.holdingsView(tenantId), role);
  }

  /**
   * Writes a batch of changes to one tenant inside the caller's open transaction `tx`, so that policy and the
   * caller's own rows (an entity and its rules) commit or roll back together: validated once against the model
   * (INVALID_RULE, nothing written), then `check` if given (the writer's own rule, e.g. no escalation; it sees
   * only valid changes), then written by the store under the tenant's write lock with a new revision. Answers
   * the revision the tenant has once `tx` commits (unchanged when no rule changed, which takes no new revision).
   * When `tx` commits, its opener runs what this registered: the revision applied here and announced to every
   * other engine. After a rollback nothing is applied or announced.
   *
   * @example
   * const tx = openPgPolicyTransaction(client); // between the caller's BEGIN and COMMIT
   * const { revision } = await engine.writeWithin(tx, 'acme', [
   *   { op: 'add', rule: { ptype: 'g', values: ['user:1', 'role:viewer', 'acme'] } },
   * ]);
   */
  async writeWithin(tx: PolicyTransaction, tenantId: string, changes: readonly PolicyChange[], options: WriteOptions = {}): Promise<WriteResult> {
    const batch = [...changes];
    this.assertWritable(tenantId, batch);
    if (batch.length > 0 && options.check) await options.check(batch);
    const result = await this.store.applyChangesWithin(tx, tenantId, batch);
    if (result.changed) tx.afterCommit(() => this.announce(result, batch));
    return result;
  }

  /**
   * `writeWithin` in a transaction of the store's own, for a write that changes nothing else: answered once the
   * revision is applied here and announced.
   *
   * @example
   * await engine.write('acme', [{ op: 'add', rule: { ptype: 'p', values: ['role:viewer', 'acme', 'accounts', 'get', 'allow'] } }]);
   */
  write(tenantId: string, changes: readonly PolicyChange[]): Promise<WriteResult> {
    return this.store.transaction((tx) => this.writeWithin(tx, tenantId, changes));
  }

  /**
   * Takes the tenant's write lock inside `tx` and answers the revision it locked (the store's, which this engine
   * may not have applied yet: `catchUp` brings it there). Until `tx` ends nobody else changes the tenant's
   * policy, so what this engine then says a subject holds is what a write in `tx` is applied to.
   *
   * @example
   * const locked = await engine.lockTenantWithin(tx, 'acme');
   * if (engine.revisionOf('acme') < locked) await engine.catchUp('acme');
   */
  lockTenantWithin(tx: PolicyTransaction, tenantId: string): Promise<number> {
    return this.store.lockTenantWithin(tx, tenantId);
  }

  /**
   * Every stored line of `tenantId` whose subject is `subject` (its grants and the links that put it in a role),
   * read inside `tx` under the tenant's write lock: removing them all in `tx` leaves the subject no line.
   *
   * @example
   * const lines = await engine.rulesOfSubjectWithin(tx, 'acme', 'user:42');
   * await engine.writeWithin(tx, 'acme', lines.map((rule) => ({ op: 'remove' as const, rule })));
   */
  rulesOfSubjectWithin(tx: PolicyTransaction, tenantId: string, subject: string): Promise<PolicyRule[]> {
    return this.store.rulesOfSubjectWithin(tx, tenantId, subject);
  }

  /** Throws INVALID_RULE unless every change adds or removes a valid rule of `tenantId`. */
  private assertWritable(tenantId: string, changes: readonly PolicyChange[]): void {
    changes.forEach((change, index) => {
      if (change?.op !== 'add' && change?.op !== 'remove') {
        throw new EngineError('INVALID_RULE', 'op must be add or remove', { field: `changes[${index}].op` });
      }
      if (typeof change.rule?.ptype !== 'string' || !Array.isArray(change.rule.values)) {
        throw new EngineError('INVALID_RULE', 'a rule is a ptype and its values', { field: `changes[${index}].rule` });
      }
      this.model.assertRule(change.rule);
      const owner = this.model.tenantOf(change.rule);
      if (owner !== tenantId) {
        throw new EngineError('INVALID_RULE', `rule belongs to tenant ${String(owner)}, not ${tenantId}`, { field: 'tenant' });
      }
    });
  }

  /** A committed write takes effect: applied here before this resolves, and announced to every other engine. */
  private async announce(result: WriteResult, changes: readonly PolicyChange[]): Promise<void> {
    if (!this.applyRevision(result.tenantId, result.revision, changes)) {
      await this.catchUp(result.tenantId).catch((error: unknown) => this.emit({ type: 'sync-failed', error }));
    }
    if (this.options.feed) {
      await this.options.feed
        .publish({ tenantId: result.tenantId, revision: result.revision, announcedAtMs: this.clock.nowMs() })
        .catch((error: unknown) => this.emit({ type: 'feed-failed', error }));
    }
  }

  /** Brings one tenant up to the store's revision (incrementally from the change log, or by reloading it). */
  catchUp(tenantId: string): Promise<void> {
    const state = this.catchUps.get(tenantId);
    if (state) {
      // One catch-up runs per tenant; requests arriving meanwhile share a single follow-up run.
      state.queued ??= state.running.then(
        () => this.runCatchUp(tenantId),
        () => this.runCatchUp(tenantId),
      );
      return state.queued;
    }
    const running = this.runCatchUp(tenantId);
    this.catchUps.set(tenantId, { running, queued: undefined });
    return running;
  }

  /** Compares every tenant's revision with the store (with a budget: every loaded tenant's) and catches up those behind. */
  async resync(): Promise<void> {
    if (this.stopped) return;
    let remote: ReadonlyMap<string, number>;
    try {
      // A tenant not loaded is read fresh when it is used: only the loaded ones are asked for (at 100,000 tenants
      // the whole catalogue was 100,000 rows every period for the few thousand held).
      remote = await this.store.revisions(this.lazy ? [...this.tenants.keys()] : undefined);
      this.storeReachable = true;
      this.lastSyncAtMs = this.clock.nowMs();
    } catch (error) {
      this.storeReachable = false;
      this.stats.syncFailures++;
      this.emit({ type: 'sync-failed', error });
      return;
    }
    const behind: Promise<void>[] = [];
    for (const [tenantId, revision] of remote) {
      // Evicted while the revisions were read: nothing to compare.
      if (this.lazy && !this.tenants.has(tenantId)) continue;
      if (revision !== this.appliedRevision(tenantId)) behind.push(this.catchUp(tenantId));
    }
    const results = await Promise.allSettled(behind);
    for (const result of results) {
      if (result.status === 'rejected') this.emit({ type: 'sync-failed', error: result.reason });
    }
  }

  health(): EngineHealth {
    const fastPath = this.model.fastPath;
    return {
      ready: this.loaded && this.storeReachable && !this.stopped,
      loaded: this.loaded,
      storeReachable: this.storeReachable,
      lastSyncAtMs: this.lastSyncAtMs,
      tenants: this.model.fastPath ? this.tenants.size : this.revisions.size,
      tenantsLoaded: this.model.fastPath ? this.tenants.size : this.revisions.size,
      tenantBytes: fastPath ? this.loadedBytes : 0,
      tenantBudgetBytes: this.lazy ? this.budgetBytes : undefined,
      rules: fastPath ? this.loadedRules : (this.evaluator?.ruleCount ?? 0),
      fastPath,
      revisionSum: this.revisionSum,
      stats: { ...this.stats },
    };
  }

  /** Stops the resync poll and ignores further notices (the caller closes the feed and the store). */
  stop(): void {
    this.stopped = true;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
  }

  private tenantOfRequest(request: AuthorizationRequest): string {
    if (!this.loaded) throw new EngineError('ENGINE_NOT_READY', 'the policy has not been loaded yet');
    const { sub, dom, obj, act } = request;
    // Cheap bounds before building a cache key; the full grammar is checked on a cache miss (a hit can
    // only come from a request that passed it).
    if (
      typeof sub !== 'string' || typeof dom !== 'string' || typeof obj !== 'string' || typeof act !== 'string' ||
      sub.length > maxNameLength || dom.length > maxNameLength || obj.length > maxNameLength || act.length > maxNameLength
    ) {
      this.assertRequest(request);
    }
    return this.model.fastPath || this.model.requestFields.includes('dom') ? dom : singlePartitionTenant;
  }

  private holdingsView(tenantId: string): HoldingsView {
    if (this.lazy) return this.loadedIndex(tenantId);
    return this.tenants.get(tenantId) ?? emptyView;
  }

  /** The loaded tenant's index, touched; ENGINE_NOT_READY when it is not loaded (never a wrong deny from nothing). */
  private loadedIndex(tenantId: string): TenantIndex {
    const index = this.tenants.get(tenantId);
    if (index === undefined) throw notLoaded(tenantId);
    this.markUsed(index);
    return index;
  }

  /** The hot path's single lookup: marks the tenant used and counts the hit, or throws when it is not loaded. */
  private touch(tenantId: string): void {
    if (!this.touchIfLoaded(tenantId)) throw notLoaded(tenantId);
  }

  private markUsed(index: TenantIndex): void {
    index.lastUsed = ++this.useCounter;
    if (index.uses < maxCountedUses) index.uses++;
    index.priority = this.evictionClock + index.uses;
  }

  private touchIfLoaded(tenantId: string): boolean {
    const index = this.tenants.get(tenantId);
    if (index === undefined) return false;
    this.markUsed(index);
    this.stats.tenantHits++;
    return true;
  }

  /** The revision applied here, 0 when none (or the tenant is not loaded). */
  private appliedRevision(tenantId: string): number {
    return this.revisions.get(tenantId) ?? 0;
  }

  /**
   * A cold tenant for a decision: loaded, and still loaded when this resolves (it is the most recently used, so
   * only a budget smaller than one tenant, with other loads landing in between, could evict it first).
   */
  private async loadForDecision(tenantId: string): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      await this.loadTenantOnce(tenantId);
      if (this.tenants.has(tenantId)) return;
    }
    throw new EngineError('ENGINE_NOT_READY', `tenant ${tenantId} was evicted before it could be used: tenantMemoryBytes is too small`);
  }

  private loadTenantOnce(tenantId: string): Promise<void> {
    let load = this.loads.get(tenantId);
    if (load === undefined) {
      load = this.loadCold(tenantId).finally(() => this.loads.delete(tenantId));
      this.loads.set(tenantId, load);
    }
    return load;
  }

  private async loadCold(tenantId: string): Promise<void> {
    let snapshot: TenantSnapshot;
    try {
      snapshot = await this.store.loadTenant(tenantId);
      this.storeReachable = true;
    } catch (error) {
      if (isEngineError(error) && error.code === 'POLICY_STORE_UNAVAILABLE') this.storeReachable = false;
      throw error;
    }
    const index = new TenantIndex(tenantId);
    for (const rule of snapshot.rules) index.add(rule);
    this.markUsed(index);
    this.tenants.set(tenantId, index);
    this.loadedBytes += index.estimatedBytes;
    this.loadedRules += index.ruleCount;
    this.stats.tenantLoads++;
    this.advance(tenantId, snapshot.revision);
    const announced = this.announcedWhileLoading.get(tenantId);
    this.announcedWhileLoading.delete(tenantId);
    if (announced !== undefined && announced > snapshot.revision) {
      this.catchUp(tenantId).catch((error: unknown) => this.emit({ type: 'sync-failed', error }));
    }
    this.evictBeyondBudget(tenantId);
  }

  /**
   * Over budget, drops the tenants of lowest priority down to the low-water mark; never `keep` (just loaded or
   * changed), nor a tenant being caught up or waited for. An evicted tenant forgets its revision: it is read
   * fresh when next used.
   *
   * The priority is LFU with dynamic aging (GDSF with a reload's cost taken as proportional to the tenant's
   * bytes): the eviction clock at the tenant's last use plus its uses since it was loaded, the clock being the
   * highest priority evicted so far; ties go to the least recently used. By recency alone, a stream of tenants
   * asked once pushes out the big tenants asked all the time, and each of those costs a long read to bring
   * back (at 10,000,000 rules the bench's cold p99 was such reloads); by count alone, a tenant once hot would
   * stay forever, while here the clock rises with every eviction and passes a tenant no longer asked (its uses
   * count up to `maxCountedUses`, so that it does within a bounded number of rounds).
   */
  private evictBeyondBudget(keep: string): void {
    const budget = this.budgetBytes as number;
    if (this.loadedBytes <= budget) return;
    const candidates: TenantIndex[] = [];
    for (const index of this.tenants.values()) {
      const tenantId = index.tenantId;
      if (tenantId !== keep && !this.catchUps.has(tenantId) && !this.waiters.has(tenantId)) candidates.push(index);
    }
    candidates.sort((a, b) => a.priority - b.priority || a.lastUsed - b.lastUsed);
    const lowWater = budget * evictionLowWater;
    for (const index of candidates) {
      if (this.loadedBytes <= lowWater) break;
      if (index.priority > this.evictionClock) this.evictionClock = index.priority;
      this.tenants.delete(index.tenantId);
      this.revisionSum -= this.revisions.get(index.tenantId) ?? 0;
      this.revisions.delete(index.tenantId);
      this.announcements.delete(index.tenantId);
      this.loadedBytes -= index.estimatedBytes;
      this.loadedRules -= index.ruleCount;
      this.stats.tenantEvictions++;
    }
  }

  /** With a budget: no tenant is read at start, only the store's answer is checked (a query for no tenant). */
  private async openLazily(): Promise<void> {
    await this.store.revisions([]);
    this.loaded = true;
    this.storeReachable = true;
    this.lastSyncAtMs = this.clock.nowMs();
    // Notices heard before now are for tenants not loaded: nothing to read.
    this.pendingNotices.clear();
  }

  private assertHoldingsInput(tenantId: string, subject: string | undefined, grants: readonly Grant[]): void {
    if (!this.loaded) throw new EngineError('ENGINE_NOT_READY', 'the policy has not been loaded yet');
    assertRequestName('dom', tenantId);
    if (subject !== undefined) assertRequestName('sub', subject);
    // Any text a stored line may hold is a pair (read with keyMatch's meaning): the answer can only be "not held".
    grants.forEach((grant, index) => {
      for (const field of ['resource', 'action'] as const) {
        const value: unknown = grant?.[field];
        if (typeof value !== 'string' || value.length === 0 || value.length > maxNameLength) {
          throw new EngineError('INVALID_REQUEST', `${field} must be 1 to ${maxNameLength} characters`, { field: `grants[${index}].${field}` });
        }
      }
    });
  }

  private assertRequest(request: AuthorizationRequest): void {
    assertRequestName('sub', request.sub);
    assertRequestName('dom', request.dom);
    assertRequestName('obj', request.obj);
    assertRequestName('act', request.act);
  }

  private requestValues(request: AuthorizationRequest): string[] {
    return this.model.requestFields.map((field) => {
      if (!(requestFieldNames as readonly string[]).includes(field)) {
        throw new EngineError('INVALID_REQUEST', `the model's request is (${this.model.requestFields.join(', ')}): use decideRequest`, { field });
      }
      return request[field as keyof AuthorizationRequest];
    });
  }

  /** A request of the shipped model's shape as the `{ sub, dom, obj, act }` the fast path decides. */
  private convenienceRequest(request: ModelRequest): AuthorizationRequest {
    const [sub, dom, obj, act] = Array.isArray(request) ? (request as readonly unknown[]) : requestFieldNames.map((f) => (request as Record<string, unknown>)[f]);
    if (Array.isArray(request) ? request.length !== 4 : Object.keys(request).some((k) => !(requestFieldNames as readonly string[]).includes(k))) {
      throw new EngineError('INVALID_REQUEST', `the model's request is (${this.model.requestFields.join(', ')})`, { field: 'request' });
    }
    return { sub, dom, obj, act } as AuthorizationRequest;
  }

  private tenantOfValues(values: readonly unknown[]): string {
    const at = this.model.requestFields.indexOf('dom');
    const dom = at >= 0 ? values[at] : undefined;
    return typeof dom === 'string' ? dom : singlePartitionTenant;
  }

  /** Computing takes longer than a shared-cache round trip: a compiled model its indexes cannot narrow. */
  private isSlowPath(): boolean {
    return !this.model.fastPath && this.model.compiled.scans;
  }

  private compute(request: AuthorizationRequest, tenantId: string): CachedDecision {
    if (this.model.fastPath) {
      const index = this.tenants.get(tenantId);
      if (index === undefined && this.lazy) throw notLoaded(tenantId);
      const outcome = index ? index.decide(request.sub, request.obj, request.act) : Outcome.None;
      return { allowed: outcome === Outcome.Allow, reason: reasonOf[outcome] };
    }
    const values = this.requestValues(request);
    return evaluated(() => (this.evaluator as CompiledEvaluator).decide(values));
  }

  private async ensureRevision(tenantId: string, minRevision: number): Promise<void> {
    if (!Number.isSafeInteger(minRevision) || minRevision < 0) {
      throw new EngineError('INVALID_REQUEST', 'minRevision must be a non-negative integer', { field: 'minRevision' });
    }
    if (this.lazy && !this.tenants.has(tenantId)) await this.loadTenantOnce(tenantId);
    if (this.appliedRevision(tenantId) >= minRevision) return;
    const waiting = this.waiters.wait(tenantId, minRevision, this.options.staleWaitMs ?? 1_000);
    // Do not only wait for the feed: ask the store now (the notice may be late or lost).
    this.catchUp(tenantId).catch((error: unknown) => this.emit({ type: 'sync-failed', error }));
    await waiting;
  }

  private onNotice(notice: PolicyChangeNotice): void {
    if (this.stopped) return;
    if (!this.loaded) {
      this.pendingNotices.add(notice.tenantId);
      return;
    }
    if (this.lazy && !this.tenants.has(notice.tenantId)) {
      // Not loaded: nothing to read now (it is read fresh when used), unless its load is under way.
      if (this.loads.has(notice.tenantId)) this.noteWhileLoading(notice.tenantId, notice.revision);
      return;
    }
    if (notice.revision > this.appliedRevision(notice.tenantId)) {
      // Bounded: the feed is internal, but a flood of notices for unknown tenants must not grow memory.
      if (notice.announcedAtMs !== undefined && !this.announcements.has(notice.tenantId) && this.announcements.size < 10_000) {
        this.announcements.set(notice.tenantId, { revision: notice.revision, atMs: notice.announcedAtMs });
      }
      this.catchUp(notice.tenantId).catch((error: unknown) => this.emit({ type: 'sync-failed', error }));
    }
  }

  private async loadAll(): Promise<void> {
    const snapshot = await this.store.loadAll();
    if (this.model.fastPath) {
      for (const rule of snapshot.rules) {
        const tenantId = this.model.tenantOf(rule);
        if (tenantId === undefined) continue;
        let index = this.tenants.get(tenantId);
        if (!index) this.tenants.set(tenantId, (index = new TenantIndex(tenantId)));
        index.add(rule);
      }
      for (const index of this.tenants.values()) {
        this.loadedBytes += index.estimatedBytes;
        this.loadedRules += index.ruleCount;
      }
    } else {
      const evaluator = this.model.compiled.createEvaluator();
      evaluator.apply(snapshot.rules.map((rule) => ({ op: 'add' as const, rule })));
      this.evaluator = evaluator;
    }
    for (const [tenantId, revision] of snapshot.revisions) this.setRevision(tenantId, revision);
    this.loaded = true;
    this.storeReachable = true;
    this.lastSyncAtMs = this.clock.nowMs();
    for (const tenantId of this.pendingNotices) {
      this.catchUp(tenantId).catch((error: unknown) => this.emit({ type: 'sync-failed', error }));
    }
    this.pendingNotices.clear();
  }

  private async runCatchUp(tenantId: string): Promise<void> {
    try {
      if (this.lazy && !this.tenants.has(tenantId)) {
        await this.loadTenantOnce(tenantId);
        return;
      }
      const local = this.appliedRevision(tenantId);
      const log = await this.store.changesSince(tenantId, local);
      this.storeReachable = true;
      let complete = log !== undefined;
      for (const entry of log ?? []) {
        if (!this.applyRevision(tenantId, entry.revision, entry.changes)) {
          complete = false;
          break;
        }
      }
      if (!complete) await this.reloadTenant(tenantId);
    } catch (error) {
      if (isEngineError(error) && error.code === 'POLICY_STORE_UNAVAILABLE') this.storeReachable = false;
      throw error;
    } finally {
      const state = this.catchUps.get(tenantId);
      if (state && state.queued === undefined) this.catchUps.delete(tenantId);
      else if (state?.queued) this.catchUps.set(tenantId, { running: state.queued, queued: undefined });
    }
  }

  /**
   * Applies one revision's changes synchronously (a decision sees all of them or none). False when it does
   * not follow the applied revision: the caller reloads the tenant.
   */
  private applyRevision(tenantId: string, revision: number, changes: readonly PolicyChange[]): boolean {
    let index = this.model.fastPath ? this.tenants.get(tenantId) : undefined;
    if (this.lazy && index === undefined) {
      // Not loaded: read fresh when used; a load under way may have read an older revision.
      if (this.loads.has(tenantId)) this.noteWhileLoading(tenantId, revision);
      return true;
    }
    const local = this.appliedRevision(tenantId);
    if (revision <= local) return true;
    if (revision !== local + 1) return false;
    if (this.model.fastPath) {
      if (!index) this.tenants.set(tenantId, (index = new TenantIndex(tenantId)));
      const bytesBefore = index.estimatedBytes;
      const rulesBefore = index.ruleCount;
      for (const { op, rule } of changes) {
        if (op === 'add') index.add(rule);
        else index.remove(rule);
      }
      this.loadedBytes += index.estimatedBytes - bytesBefore;
      this.loadedRules += index.ruleCount - rulesBefore;
    } else {
      (this.evaluator as CompiledEvaluator).apply(changes);
    }
    this.advance(tenantId, revision);
    this.stats.revisionsApplied++;
    this.emit({ type: 'revision-applied', tenantId, revision });
    if (this.lazy) this.evictBeyondBudget(tenantId);
    return true;
  }

  private noteWhileLoading(tenantId: string, revision: number): void {
    const noted = this.announcedWhileLoading.get(tenantId);
    if (noted === undefined || revision > noted) this.announcedWhileLoading.set(tenantId, revision);
  }

  private async reloadTenant(tenantId: string): Promise<void> {
    const snapshot = await this.store.loadTenant(tenantId);
    // A newer revision may have been applied while the snapshot was read: keep the newer state.
    if (snapshot.revision < this.appliedRevision(tenantId)) return;
    if (this.model.fastPath) {
      const previous = this.tenants.get(tenantId);
      // Evicted while it was read: it stays out, and is read fresh when used.
      if (this.lazy && previous === undefined) return;
      const index = new TenantIndex(tenantId);
      for (const rule of snapshot.rules) index.add(rule);
      if (previous) {
        index.lastUsed = previous.lastUsed;
        index.uses = previous.uses;
        index.priority = previous.priority;
      }
      this.tenants.set(tenantId, index);
      this.loadedBytes += index.estimatedBytes - (previous?.estimatedBytes ?? 0);
      this.loadedRules += index.ruleCount - (previous?.ruleCount ?? 0);
    } else {
      const evaluator = this.evaluator as CompiledEvaluator;
      const current = evaluator.rules().filter((rule) => this.model.tenantOf(rule) === tenantId);
      const wanted = new Set(snapshot.rules.map(ruleId));
      const present = new Set(current.map(ruleId));
      evaluator.apply([
        ...current.filter((rule) => !wanted.has(ruleId(rule))).map((rule) => ({ op: 'remove' as const, rule })),
        ...snapshot.rules.filter((rule) => !present.has(ruleId(rule))).map((rule) => ({ op: 'add' as const, rule })),
      ]);
    }
    this.advance(tenantId, snapshot.revision);
    this.stats.tenantReloads++;
    this.emit({ type: 'tenant-reloaded', tenantId, revision: snapshot.revision });
  }

  private setRevision(tenantId: string, revision: number): void {
    this.revisionSum += revision - (this.revisions.get(tenantId) ?? 0);
    this.revisions.set(tenantId, revision);
  }

  private advance(tenantId: string, revision: number): void {
    this.setRevision(tenantId, revision);
    this.waiters.released(tenantId, revision);
    const announced = this.announcements.get(tenantId);
    if (announced && revision >= announced.revision) {
      this.announcements.delete(tenantId);
      this.emit({ type: 'revision-propagated', tenantId, revision: announced.revision, lagMs: Math.max(0, this.clock.nowMs() - announced.atMs) });
    }
  }

  private emit(event: EngineEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      // An observer's failure must never change a decision or a write.
    }
  }
}

/**
 * Runs a compiled evaluation; where the matcher fails (casbin would throw too: an `ipMatch` on a value that is no
 * address, a pattern casbin cannot compile) the failure is an `INVALID_REQUEST`, never an answer.
 */
function evaluated<T>(evaluate: () => T): T {
  try {
    return evaluate();
  } catch (error) {
    if (isEngineError(error)) throw error;
    throw new EngineError('INVALID_REQUEST', `the model's matcher fails on this request: ${(error as Error).message}`, { field: 'request', cause: error });
  }
}

function notLoaded(tenantId: string): EngineError {
  return new EngineError('ENGINE_NOT_READY', `tenant ${tenantId} is not loaded: call ensureTenant (or decide) first`);
}

function ruleId(rule: PolicyRule): string {
  return `${rule.ptype}\u0000${rule.values.join('\u0000')}`;
}

/** Every (obj, act) pair the reachable `p` lines write, decided for `sub` in `dom`; a pair casbin fails on is left out. */
function enumeratedPermissions(
  evaluator: CompiledEvaluator,
  requestFields: readonly string[],
  policyFields: readonly string[],
  sub: string,
  dom: string,
): PermissionMap {
  const objAt = policyFields.indexOf('obj');
  const actAt = policyFields.indexOf('act');
  // Without a partition every tenant's lines are reachable: another tenant's resource names must never be tried.
  const domAt = requestFields.includes('dom') ? policyFields.indexOf('dom') : -1;
  const allowed = new Map<string, Set<string>>();
  const tried = new Set<string>();
  for (const values of evaluator.policyLinesFor(dom)) {
    const obj = values[objAt];
    const act = values[actAt];
    if (obj === undefined || act === undefined || obj === '' || act === '') continue;
    if (domAt >= 0 && values[domAt] !== dom) continue;
    const key = `${obj}\u0000${act}`;
    if (tried.has(key)) continue;
    tried.add(key);
    const request = requestFields.map((field) => (field === 'sub' ? sub : field === 'dom' ? dom : field === 'obj' ? obj : act));
    let decision;
    try {
      decision = evaluator.decide(request);
    } catch {
      continue;
    }
    if (!decision.allowed) continue;
    let actions = allowed.get(obj);
    if (!actions) allowed.set(obj, (actions = new Set()));
    actions.add(act);
  }
  const out: Record<string, readonly string[]> = Object.create(null) as Record<string, readonly string[]>;
  for (const resource of [...allowed.keys()].sort()) out[resource] = Object.freeze([...(allowed.get(resource) as Set<string>)].sort());
  return Object.freeze(out);
}
