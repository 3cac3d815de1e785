// An engine over an in-memory store holding a fixed rule set (assertion files, `explain --rules`).
import { MemoryPolicyStore } from '../../engine/adapters/memory-policy-store.js';
import { EngineError, PolicyEngine, type ModelDefinition, type PolicyChange, type PolicyRule } from '../../engine/index.js';

/** Seeds a `MemoryPolicyStore` tenant by tenant (one write each) and starts an engine on it without a resync poll. */
export async function startMemoryEngine(model: ModelDefinition, rules: readonly PolicyRule[]): Promise<PolicyEngine> {
  const store = new MemoryPolicyStore(model.tenantOf);
  const byTenant = new Map<string, PolicyChange[]>();
  for (const rule of rules) {
    const tenantId = model.tenantOf(rule);
    if (tenantId === undefined) throw new EngineError('INVALID_RULE', `${rule.ptype} rule has no tenant`, { field: 'tenant' });
    const changes = byTenant.get(tenantId) ?? [];
    changes.push({ op: 'add', rule });
    byTenant.set(tenantId, changes);
  }
  for (const [tenantId, changes] of byTenant) await store.applyChanges(tenantId, changes);
  return PolicyEngine.start({ model, store, resyncIntervalMs: 0 });
}
