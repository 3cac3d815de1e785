import type { BatchAdapter, FilteredAdapter, Model } from 'casbin';
import type { CasbinFilter } from 'casbin-pg-adapter';
import type { PostgresAdapter } from 'casbin-pg-adapter/lib/adapter.js';
import { EngineError } from '../errors.js';
import type { PolicyChange, PolicyRule, WriteResult } from '../policy-rule.js';

/** The class casbin-pg-adapter 1.4 exports, with its `newAdapter` factory. */
export type CasbinPgAdapterClass = Pick<typeof PostgresAdapter, 'newAdapter'>;

/**
 * casbin-pg-adapter's class as seen from ESM. The package is CommonJS with `exports.default = PostgresAdapter`,
 * so Node's `import()` gives `{ default: module.exports }`: the factory is on `.default.default.newAdapter`, and
 * `.default.newAdapter` is undefined. A bundler that unwraps the interop gives the class on `.default` itself.
 *
 * @example
 * const adapter = await (await loadCasbinPgAdapterClass()).newAdapter({ connectionString: 'postgres://db/access_manager', migrate: false });
 */
export async function loadCasbinPgAdapterClass(): Promise<CasbinPgAdapterClass> {
  const namespace: unknown = await import('casbin-pg-adapter');
  const moduleExports = (namespace as { default?: unknown }).default;
  const candidate = hasNewAdapter(moduleExports) ? moduleExports : (moduleExports as { default?: unknown })?.default;
  if (!hasNewAdapter(candidate)) throw new Error('casbin-pg-adapter exports no newAdapter factory');
  return candidate;
}

function hasNewAdapter(value: unknown): value is CasbinPgAdapterClass {
  return typeof (value as { newAdapter?: unknown } | undefined)?.newAdapter === 'function';
}

/** What the guarded adapter writes through: the policy store, so every write bumps its tenant's revision. */
export interface CasbinAdapterWriter {
  tenantOf(rule: PolicyRule): string | undefined;
  applyChanges(tenantId: string, changes: readonly PolicyChange[]): Promise<WriteResult>;
  /** Rules of `ptype` whose field `fieldIndex + i` equals `fieldValues[i]` for every non-empty `fieldValues[i]`. */
  rulesMatching(ptype: string, fieldIndex: number, fieldValues: readonly string[]): Promise<readonly PolicyRule[]>;
}

/**
 * casbin-pg-adapter 1.4 for plain-casbin consumers (benchmark baseline, tools), with its traps closed. Reads are
 * the adapter's own (`loadPolicy`, `loadFilteredPolicy`); writes go through the policy store instead of the
 * adapter's SQL, so they are validated, transactional and bump the tenant's revision like any other write.
 * `savePolicy` (delete everything, then insert, outside a transaction) is refused, and so is a
 * `removeFilteredPolicy` without a non-empty field value (the adapter builds invalid SQL for it) — its
 * `regex:`/`like:` field prefixes are not honoured either: fields match exactly, as in casbin's own model.
 */
export class GuardedCasbinPgAdapter implements FilteredAdapter, BatchAdapter {
  readonly #inner: PostgresAdapter;
  readonly #writer: CasbinAdapterWriter;

  constructor(inner: PostgresAdapter, writer: CasbinAdapterWriter) {
    this.#inner = inner;
    this.#writer = writer;
  }

  isFiltered(): boolean {
    return this.#inner.isFiltered();
  }

  enabledFiltered(enabled: boolean): void {
    this.#inner.enabledFiltered(enabled);
  }

  loadPolicy(model: Model): Promise<void> {
    return this.#inner.loadPolicy(model);
  }

  loadFilteredPolicy(model: Model, filter: CasbinFilter): Promise<void> {
    return this.#inner.loadFilteredPolicy(model, filter);
  }

  async savePolicy(_model: Model): Promise<boolean> {
    throw new EngineError('INVALID_RULE', 'savePolicy is disabled: it deletes every row without a transaction');
  }

  async addPolicy(_sec: string, ptype: string, rule: string[]): Promise<void> {
    await this.#writeOneTenant('add', ptype, [rule]);
  }

  async addPolicies(_sec: string, ptype: string, rules: string[][]): Promise<void> {
    await this.#writeOneTenant('add', ptype, rules);
  }

  async removePolicy(_sec: string, ptype: string, rule: string[]): Promise<void> {
    await this.#writeOneTenant('remove', ptype, [rule]);
  }

  async removePolicies(_sec: string, ptype: string, rules: string[][]): Promise<void> {
    await this.#writeOneTenant('remove', ptype, rules);
  }

  /** Removes matching rules, one transaction per tenant they belong to. */
  async removeFilteredPolicy(_sec: string, ptype: string, fieldIndex: number, ...fieldValues: string[]): Promise<void> {
    if (!Number.isSafeInteger(fieldIndex) || fieldIndex < 0) {
      throw new EngineError('INVALID_RULE', 'removeFilteredPolicy needs a non-negative field index', {
        field: 'fieldIndex',
      });
    }
    if (!fieldValues.some((value) => typeof value === 'string' && value !== '')) {
      throw new EngineError('INVALID_RULE', 'removeFilteredPolicy needs at least one non-empty field value', {
        field: 'fieldValues',
      });
    }
    const byTenant = new Map<string, PolicyChange[]>();
    for (const rule of await this.#writer.rulesMatching(ptype, fieldIndex, fieldValues)) {
      const tenantId = this.#tenantOf(rule);
      const changes = byTenant.get(tenantId) ?? [];
      changes.push({ op: 'remove', rule });
      byTenant.set(tenantId, changes);
    }
    for (const [tenantId, changes] of byTenant) await this.#writer.applyChanges(tenantId, changes);
  }

  /** Nothing to release: the adapter runs on the store's pool, which its owner closes. */
  async close(): Promise<void> {
    await this.#inner.close();
  }

  async #writeOneTenant(op: PolicyChange['op'], ptype: string, rules: readonly string[][]): Promise<void> {
    const changes = rules.map((values): PolicyChange => ({ op, rule: { ptype, values } }));
    const tenants = new Set(changes.map((change) => this.#tenantOf(change.rule)));
    const [tenantId] = tenants;
    if (tenantId === undefined) return;
    if (tenants.size > 1) {
      throw new EngineError('INVALID_RULE', 'a batch of rules must belong to one tenant to be applied atomically');
    }
    await this.#writer.applyChanges(tenantId, changes);
  }

  #tenantOf(rule: PolicyRule): string {
    const tenantId = Array.isArray(rule.values) ? this.#writer.tenantOf(rule) : undefined;
    if (tenantId === undefined || tenantId === '') {
      throw new EngineError('INVALID_RULE', 'the rule names no tenant', { field: 'rule' });
    }
    return tenantId;
  }
}
