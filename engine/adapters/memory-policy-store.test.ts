import { describe, expect, it } from 'vitest';
import type { PolicyChange, PolicyRule } from '../policy-rule.js';
import type { PolicyTransaction } from '../ports.js';
import { MemoryPolicyStore } from './memory-policy-store.js';

const p = (tenantId: string, sub: string, obj = 'accounts'): PolicyRule => ({ ptype: 'p', values: [sub, tenantId, obj, 'get', 'allow'] });
const add = (rule: PolicyRule): PolicyChange => ({ op: 'add', rule });
const remove = (rule: PolicyRule): PolicyChange => ({ op: 'remove', rule });

/** Whether `promise` is still pending once the callbacks queued so far have run. */
async function isPending(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return !settled;
}

describe('MemoryPolicyStore transactions', () => {
  it('what a transaction writes is seen inside it only, and by everyone once it commits', async () => {
    const store = new MemoryPolicyStore();
    await store.transaction(async (tx) => {
      expect(await store.applyChangesWithin(tx, 'acme', [add(p('acme', 'role:a'))])).toEqual({ tenantId: 'acme', revision: 1, changed: true });
      expect(await store.rulesOfSubjectWithin(tx, 'acme', 'role:a')).toEqual([p('acme', 'role:a')]);
      expect(await store.lockTenantWithin(tx, 'acme')).toBe(1);
      expect(await store.revisions()).toEqual(new Map());
      expect((await store.loadTenant('acme')).rules).toEqual([]);
      expect(await store.changesSince('acme', 0)).toEqual([]);
    });
    expect((await store.loadTenant('acme')).rules).toEqual([p('acme', 'role:a')]);
    expect(await store.changesSince('acme', 0)).toEqual([{ tenantId: 'acme', revision: 1, changes: [add(p('acme', 'role:a'))] }]);
    expect(await store.revisions(['acme', 'nobody'])).toEqual(new Map([['acme', 1]]));
    expect(await store.revisions([])).toEqual(new Map());
  });

  it('a transaction that throws leaves nothing and runs no after-commit effect; a committed one runs them in order after the commit', async () => {
    const store = new MemoryPolicyStore();
    const ran: string[] = [];
    await expect(
      store.transaction(async (tx) => {
        await store.applyChangesWithin(tx, 'acme', [add(p('acme', 'role:a'))]);
        tx.afterCommit(async () => void ran.push('rolled back'));
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(await store.loadAll()).toEqual({ revisions: new Map(), rules: [] });

    await store.transaction(async (tx) => {
      await store.applyChangesWithin(tx, 'acme', [add(p('acme', 'role:a'))]);
      tx.afterCommit(async () => void ran.push(`first at ${(await store.revisions()).get('acme')}`));
      tx.afterCommit(async () => void ran.push('second'));
    });
    expect(ran).toEqual(['first at 1', 'second']);
  });

  it("a tenant's writers take turns: a second transaction waits for the first one's end, another tenant's does not", async () => {
    const store = new MemoryPolicyStore();
    let finish: () => void = () => undefined;
    const holding = store.transaction(async (tx) => {
      await store.lockTenantWithin(tx, 'acme');
      await new Promise<void>((resolve) => (finish = resolve));
      await store.applyChangesWithin(tx, 'acme', [add(p('acme', 'role:first'))]);
    });
    await new Promise((resolve) => setImmediate(resolve));
    const second = store.transaction((tx) => store.applyChangesWithin(tx, 'acme', [add(p('acme', 'role:second'))]));
    const other = store.transaction((tx) => store.applyChangesWithin(tx, 'globex', [add(p('globex', 'role:a'))]));
    expect(await other).toMatchObject({ revision: 1, changed: true });
    expect(await isPending(second)).toBe(true);
    finish();
    await holding;
    expect(await second).toEqual({ tenantId: 'acme', revision: 2, changed: true });
  });

  it('adding a present rule or removing an absent one changes nothing and takes no revision; an empty batch answers the revision', async () => {
    const store = new MemoryPolicyStore();
    await store.applyChanges('acme', [add(p('acme', 'role:a'))]);
    const unchanged = await store.transaction((tx) => store.applyChangesWithin(tx, 'acme', [add(p('acme', 'role:a')), remove(p('acme', 'role:absent'))]));
    expect(unchanged).toEqual({ tenantId: 'acme', revision: 1, changed: false });
    expect(await store.transaction((tx) => store.applyChangesWithin(tx, 'acme', []))).toEqual({ tenantId: 'acme', revision: 1, changed: false });
  });

  it("refuses another store's transaction and one that has ended", async () => {
    const store = new MemoryPolicyStore();
    const other = new MemoryPolicyStore();
    let ended: PolicyTransaction | undefined;
    await other.transaction(async (tx) => {
      await expect(store.applyChangesWithin(tx, 'acme', [add(p('acme', 'role:a'))])).rejects.toThrow(TypeError);
    });
    await store.transaction(async (tx) => {
      ended = tx;
    });
    await expect(store.lockTenantWithin(ended as PolicyTransaction, 'acme')).rejects.toThrow(TypeError);
  });
});
