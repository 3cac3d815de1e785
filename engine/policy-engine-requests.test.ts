// Requests of any model's arity: values in order or keyed by field, attribute objects for ABAC conditions,
// hostile input refused with the field named, and explanations naming the deciding rules and role chains.
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryPolicyStore } from './adapters/memory-policy-store.js';
import { parseModel, PolicyEngine, type ModelDefinition, type PolicyChange } from './index.js';

const engines: PolicyEngine[] = [];
afterEach(() => {
  for (const engine of engines.splice(0)) engine.stop();
});

async function start(model: ModelDefinition, tenant: string, changes: PolicyChange[]): Promise<PolicyEngine> {
  const engine = await PolicyEngine.start({ model, store: new MemoryPolicyStore(model.tenantOf), resyncIntervalMs: 0 });
  engines.push(engine);
  if (changes.length > 0) await engine.write(tenant, changes);
  return engine;
}

const add = (ptype: string, ...values: string[]): PolicyChange => ({ op: 'add', rule: { ptype, values } });

const abac = parseModel(`[request_definition]
r = sub, dom, obj, act, attrs

[policy_definition]
p = sub, dom, obj, act, eft

[role_definition]
g = _, _, _
g2 = _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = r.dom == p.dom && g(r.sub, p.sub, r.dom) && g2(r.obj, p.obj) && r.act == p.act && r.attrs.amount <= 1000
`);

describe('requests of any model', () => {
  it('decides a request of the model arity, as a list or keyed by field names, with an attribute condition', async () => {
    const engine = await start(abac, '_', [add('g2', 'invoice:7', 'invoices'), add('g2', 'invoice:8', 'invoices')]);
    await engine.write('acme', [add('p', 'role:clerk', 'acme', 'invoices', 'pay', 'allow'), add('g', 'user:1', 'role:clerk', 'acme')]);
    const small = { amount: 250, currency: 'EUR' };
    expect(engine.decideRequestSync(['user:1', 'acme', 'invoice:7', 'pay', small])).toMatchObject({ allowed: true, revision: 1, reason: 'allowed_by_policy' });
    expect(engine.decideRequestSync({ sub: 'user:1', dom: 'acme', obj: 'invoice:8', act: 'pay', attrs: { amount: 5_000 } }).allowed).toBe(false);
    expect(engine.decideRequestSync({ sub: 'user:2', dom: 'acme', obj: 'invoice:8', act: 'pay', attrs: small }).allowed).toBe(false);
    // Another tenant's request never sees acme's rules (the model keeps tenants apart).
    expect(engine.decideRequestSync({ sub: 'user:1', dom: 'globex', obj: 'invoice:7', act: 'pay', attrs: small })).toMatchObject({ allowed: false, revision: 0 });
    await expect(engine.decideRequest(['user:1', 'acme', 'invoice:7', 'pay', small], { minRevision: 1 })).resolves.toMatchObject({ allowed: true });
  });

  it('refuses a malformed request with INVALID_REQUEST naming the field, whatever its shape', async () => {
    const engine = await start(abac, '_', []);
    const attrs = { amount: 1 };
    const cases: [unknown, string | RegExp][] = [
      [['user:1', 'acme', 'invoice:7', 'pay'], 'request'],
      [{ sub: 'user:1', dom: 'acme', obj: 'invoice:7', act: 'pay' }, 'attrs'],
      [{ sub: 'user:1', dom: 'acme', obj: 'invoice:7', act: 'pay', attrs, extra: 'x' }, 'extra'],
      [{ sub: { id: 1 }, dom: 'acme', obj: 'invoice:7', act: 'pay', attrs }, 'sub'],
      [{ sub: 'user 1', dom: 'acme', obj: 'invoice:7', act: 'pay', attrs }, 'sub'],
      [{ sub: 'user:1', dom: 'acme', obj: 'invoices/../admin', act: 'pay', attrs }, 'obj'],
      [{ sub: 'user:1', dom: 'acme', obj: 'x'.repeat(257), act: 'pay', attrs }, 'obj'],
      [{ sub: 'user:1', dom: 'acme', obj: 'invoice:7', act: 'pay', attrs: { toString: 'x' } }, 'attrs.toString'],
      [{ sub: 'user:1', dom: 'acme', obj: 'invoice:7', act: 'pay', attrs: JSON.parse('{"__proto__": {"admin": true}}') as object }, 'attrs.__proto__'],
      [{ sub: 'user:1', dom: 'acme', obj: 'invoice:7', act: 'pay', attrs: { amount: Number.NaN } }, 'attrs.amount'],
      [{ sub: 'user:1', dom: 'acme', obj: 'invoice:7', act: 'pay', attrs: { a: { b: { c: { d: 1 } } } } }, 'attrs.a.b.c'],
      [{ sub: 'user:1', dom: 'acme', obj: 'invoice:7', act: 'pay', attrs: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])) }, 'attrs'],
      [{ sub: 'user:1', dom: 'acme', obj: 'invoice:7', act: 'pay', attrs: { list: Array.from({ length: 65 }, () => 'x') } }, 'attrs.list'],
    ];
    for (const [request, field] of cases) {
      expect(() => engine.decideRequestSync(request as never), JSON.stringify(request).slice(0, 120)).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST', field }));
    }
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('answers a request the matcher fails on (as casbin fails) with INVALID_REQUEST, never an allow', async () => {
    const model = parseModel(`[request_definition]
r = ip, obj
[policy_definition]
p = cidr, obj
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = ipMatch(r.ip, p.cidr) && r.obj == p.obj
`);
    const engine = await start(model, '_', [add('p', '10.0.0.0/8', 'reports')]);
    expect(engine.decideRequestSync(['10.1.2.3', 'reports']).allowed).toBe(true);
    expect(() => engine.decideRequestSync(['not-an-address', 'reports'])).toThrow(
      expect.objectContaining({ code: 'INVALID_REQUEST', detail: expect.stringMatching(/the model's matcher fails on this request: invalid argument: ip1 in ipMatch/) }),
    );
    expect(() => engine.explainRequest(['not-an-address', 'reports'])).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
  });

  it('refuses the four-field convenience for a model whose request has other fields, pointing to decideRequest', async () => {
    const engine = await start(abac, '_', []);
    expect(() => engine.decideSync({ sub: 'user:1', dom: 'acme', obj: 'invoice:7', act: 'pay' })).toThrow(/the model's request is \(sub, dom, obj, act, attrs\): use decideRequest/);
  });

  it('explains any model: every matching rule, the deciding ones, and the chain of each role check', async () => {
    const engine = await start(abac, '_', [add('g2', 'invoice:7', 'invoices')]);
    await engine.write('acme', [
      add('p', 'role:clerk', 'acme', 'invoices', 'pay', 'allow'),
      add('p', 'group:audit', 'acme', 'invoices', 'pay', 'deny'),
      add('g', 'user:1', 'group:audit', 'acme'),
      add('g', 'group:audit', 'role:clerk', 'acme'),
    ]);
    const explanation = engine.explainRequest({ sub: 'user:1', dom: 'acme', obj: 'invoice:7', act: 'pay', attrs: { amount: 10 } });
    expect(explanation.decision).toMatchObject({ allowed: false, reason: 'denied_by_policy', revision: 1 });
    expect(explanation.matchedRules.map((r) => r.values[4])).toEqual(['allow', 'deny']);
    expect(explanation.decidingRules).toEqual([{ ptype: 'p', values: ['group:audit', 'acme', 'invoices', 'pay', 'deny'] }]);
    expect(explanation.roleChains[0]).toEqual([
      { ptype: 'g', domain: 'acme', path: ['user:1', 'group:audit', 'role:clerk'] },
      { ptype: 'g2', domain: undefined, path: ['invoice:7', 'invoices'] },
    ]);
    expect(explanation.paths).toEqual([['user:1', 'group:audit', 'role:clerk'], ['user:1', 'group:audit']]);
  });

  it('keeps the four-field convenience and its cache for models whose request is sub, dom, obj, act', async () => {
    const model = parseModel(`[request_definition]
r = sub, dom, obj, act
[policy_definition]
p = sub, dom, obj, act
[role_definition]
g = _, _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = r.dom == p.dom && r.obj == p.obj && r.act == p.act && g(r.sub, p.sub, r.dom)
`);
    const engine = await start(model, 'acme', [add('p', 'role:a', 'acme', 'ledgers', 'get'), add('g', 'user:1', 'role:a', 'acme')]);
    expect(engine.decideSync({ sub: 'user:1', dom: 'acme', obj: 'ledgers', act: 'get' })).toMatchObject({ allowed: true, revision: 1 });
    expect(engine.decideRequestSync(['user:1', 'acme', 'ledgers', 'get']).allowed).toBe(true);
    expect(engine.explain({ sub: 'user:1', dom: 'acme', obj: 'ledgers', act: 'get' }).decidingRules).toEqual([{ ptype: 'p', values: ['role:a', 'acme', 'ledgers', 'get'] }]);
  });

  it('lists permissions under a compiled model: every pair a line writes, kept when the subject is allowed it', async () => {
    // Deny overrides; keyMatch2 patterns; roles through g with domains (a model the fast path does not take).
    const model = parseModel(`[request_definition]
r = sub, dom, obj, act
[policy_definition]
p = sub, dom, obj, act, eft
[role_definition]
g = _, _, _
[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))
[matchers]
m = r.dom == p.dom && g(r.sub, p.sub, r.dom) && keyMatch2(r.obj, p.obj) && r.act == p.act
`);
    expect(model.fastPath).toBe(false);
    expect(model.permissionEnumeration).toEqual({ supported: true });
    const engine = await start(model, 'acme', [
      add('g', 'user:1', 'role:teller', 'acme'),
      add('p', 'role:teller', 'acme', 'accounts/:id', 'get', 'allow'),
      add('p', 'role:teller', 'acme', 'accounts/:id', 'delete', 'allow'),
      add('p', 'user:1', 'acme', 'accounts/:id', 'delete', 'deny'),
      add('p', 'role:auditor', 'acme', 'reports', 'get', 'allow'),
    ]);
    await engine.write('globex', [add('g', 'user:1', 'role:teller', 'globex'), add('p', 'role:teller', 'globex', 'secret-project', 'get', 'allow')]);
    expect(engine.permissionsOf('user:1', 'acme')).toEqual({ permissions: { 'accounts/:id': ['get'] }, revision: 1 });
    expect(engine.permissionsOf('role:auditor', 'acme')?.permissions).toEqual({ 'reports': ['get'] });
    // Each listed pair is exactly what a decision allows.
    expect(engine.decideSync({ sub: 'user:1', dom: 'acme', obj: 'accounts/7', act: 'get' }).allowed).toBe(true);
    expect(engine.decideSync({ sub: 'user:1', dom: 'acme', obj: 'accounts/7', act: 'delete' }).allowed).toBe(false);
    expect(engine.permissionsOf('user:1', 'globex')?.permissions).toEqual({ 'secret-project': ['get'] });
  });

  it("never tries another tenant's resource names when the matcher does not partition by tenant", async () => {
    // r.dom == p.dom sits under an ||, so every tenant's lines are candidates for every request.
    const model = parseModel(`[request_definition]
r = sub, dom, obj, act
[policy_definition]
p = sub, dom, obj, act
[role_definition]
g = _, _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = (r.dom == p.dom || p.dom == "*") && g(r.sub, p.sub, r.dom) && (p.obj == "*" || r.obj == p.obj) && r.act == p.act
`);
    const engine = await start(model, 'acme', [add('p', 'user:1', 'acme', '*', 'get')]);
    await engine.write('globex', [add('p', 'user:2', 'globex', 'secret-project', 'get')]);
    expect(engine.decideSync({ sub: 'user:1', dom: 'acme', obj: 'secret-project', act: 'get' }).allowed).toBe(true);
    expect(engine.permissionsOf('user:1', 'acme')?.permissions).toEqual({ '*': ['get'] });
  });

  it('says why it cannot list permissions where a matcher reads request attributes or a request has other fields', () => {
    expect(abac.permissionEnumeration).toMatchObject({ supported: false, reason: expect.stringContaining('r.attrs') });
    const withEnv = parseModel(`[request_definition]
r = sub, obj, act, env
[policy_definition]
p = sub, obj, act, env
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = r.sub == p.sub && r.obj == p.obj && r.act == p.act && r.env == p.env
`);
    expect(withEnv.permissionEnumeration).toMatchObject({ supported: false, reason: expect.stringContaining('"env"') });
  });
});
