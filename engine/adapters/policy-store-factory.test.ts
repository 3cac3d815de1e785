import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../../platform/migrations.js';
import { createTestSchema, type TestSchema } from '../../test/support/postgres.js';
import { parseModel, singlePartitionTenant } from '../model-definition.js';
import type { PolicyChange } from '../policy-rule.js';
import type { PolicyStore } from '../ports.js';
import { createPolicyStore } from './policy-store-factory.js';

// r = sub, obj, act: no tenant field, so every rule is in the single partition.
const withoutTenants = parseModel(`
[request_definition]
r = sub, obj, act
[policy_definition]
p = sub, obj, act
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = r.sub == p.sub && r.obj == p.obj && r.act == p.act
`);

const write = (store: PolicyStore, tenantId: string, changes: readonly PolicyChange[]) => store.transaction((tx) => store.applyChangesWithin(tx, tenantId, changes));
const grant: PolicyChange = { op: 'add', rule: { ptype: 'p', values: ['role:a', 'acme', 'accounts', 'get', 'allow'] } };

describe('createPolicyStore', () => {
  let schema: TestSchema;

  beforeAll(async () => {
    schema = await createTestSchema('policy_store_factory');
    await runMigrations({ databaseUrl: schema.url, log: () => undefined });
  });
  afterAll(async () => {
    await schema.drop();
  });

  it('with a pool, the policy is in PostgreSQL: another store on the same database reads what one wrote', async () => {
    await write(createPolicyStore({ pool: schema.pool }), 'acme', [grant]);
    expect(await createPolicyStore({ pool: schema.pool }).loadTenant('acme')).toEqual({ tenantId: 'acme', revision: 1, rules: [grant.rule] });
  });

  it('without a pool, the policy is in memory: it lives and dies with its store', async () => {
    const store = createPolicyStore();
    await write(store, 'acme', [grant]);
    expect((await store.loadTenant('acme')).rules).toEqual([grant.rule]);
    expect((await createPolicyStore().loadAll()).rules).toEqual([]);
  });

  it("a model's own tenant field decides which rules a tenant loads, in PostgreSQL and in memory", async () => {
    const rule = { ptype: 'p', values: ['alice', 'data1', 'read'] };
    for (const pool of [schema.pool, undefined]) {
      const store = createPolicyStore({ pool, model: withoutTenants });
      await write(store, singlePartitionTenant, [{ op: 'add', rule }]);
      expect((await store.loadTenant(singlePartitionTenant)).rules).toContainEqual(rule);
      // Read with the shipped model's layout, the second field would be its tenant.
      expect((await createPolicyStore({ pool }).loadTenant(singlePartitionTenant)).rules).not.toContainEqual(rule);
    }
  });
});
