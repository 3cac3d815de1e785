// What the compiler makes of a model: which indexes narrow it, what it refuses and why, and the cases where
// casbin's own behaviour is subtle (ordering, failing rules, requests that defeat an index).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadedCasbin, casbinOutcome } from '../../policies/tools/reference-casbin.js';
import { casbin } from '../casbin-runtime.js';
import { shippedModelPath } from '../model-file.js';
import type { PolicyRule } from '../policy-rule.js';
import { compileModel, ModelCompileError } from './compiled-model.js';

const shipped = readFileSync(shippedModelPath, 'utf8');
const model = (r: string, p: string, e: string, m: string, g?: string): string =>
  `[request_definition]\nr = ${r}\n[policy_definition]\np = ${p}\n${g ? `[role_definition]\n${g}\n` : ''}[policy_effect]\ne = ${e}\n[matchers]\nm = ${m}\n`;
const allowOverride = 'some(where (p.eft == allow))';
const add = (ptype: string, ...values: string[]) => ({ op: 'add' as const, rule: { ptype, values } });

function refusal(text: string, options = {}): string {
  try {
    compileModel(text, options);
  } catch (error) {
    expect(error).toBeInstanceOf(ModelCompileError);
    return (error as Error).message;
  }
  throw new Error('expected the model to be refused');
}

describe('model compiler', () => {
  it('plans the shipped model as tenant partitions, a role expansion of the subject, a prefix index on the resource and a hash on the action', () => {
    const compiled = compileModel(shipped);
    expect(compiled.partitioned).toBe(true);
    expect(compiled.plan).toBe('rules kept apart by tenant; hash index on p.sub; prefix index on p.obj (keyMatch); hash index on p.act');
    const keyMatch2 = compileModel(shipped.replace('keyMatch(', 'keyMatch2('));
    expect(keyMatch2.plan).toMatch(/prefix index on p\.obj \(keyMatch2\); hash index on p\.act; 1 condition\(s\) checked on each candidate/);
  });

  it("plans casbin's rbac_with_domains model (other term order, == on the resource) with the same narrowing", () => {
    const compiled = compileModel(model('sub, dom, obj, act', 'sub, dom, obj, act', allowOverride, 'r.dom == p.dom && r.obj == p.obj && r.act == p.act && g(r.sub, p.sub, r.dom)', 'g = _, _, _'));
    expect(compiled.plan).toBe('rules kept apart by tenant; hash index on p.obj; hash index on p.act; hash index on p.sub');
  });

  it('still runs a model no index can narrow, compiled, and says so', () => {
    const compiled = compileModel(model('sub, obj, act', 'sub, obj, act', allowOverride, 'r.sub.Age > 18 && r.obj == p.obj || r.act == "root"'));
    expect(compiled.scans).toBe(true);
    expect(compiled.plan).toMatch(/no index: every rule of the policy is evaluated \(compiled\)/);
    const evaluator = compiled.createEvaluator();
    evaluator.apply([add('p', 'alice', 'data1', 'read')]);
    expect(evaluator.decide([{ Age: 30 }, 'data1', 'read']).allowed).toBe(true);
    expect(evaluator.decide([{ Age: 12 }, 'data1', 'read']).allowed).toBe(false);
    expect(evaluator.decide(['bob', 'other', 'root']).allowed).toBe(true);
  });

  it('refuses what node-casbin cannot run, and eval(), method calls and two-domain roles, each saying why', () => {
    expect(refusal(model('sub, obj', 'sub, obj', allowOverride, 'eval(p.sub) && r.obj == p.obj'))).toMatch(/eval\(\) in a matcher is not allowed/);
    expect(refusal(model('sub, obj', 'sub, obj', allowOverride, 'r.obj.startsWith(p.obj)'))).toMatch(/only named functions can be called/);
    expect(refusal(model('sub, obj', 'sub, obj', allowOverride, 'r.sub.constructor == p.sub'))).toMatch(/access to member "constructor" is not allowed/);
    expect(refusal(model('sub, obj', 'sub, obj', allowOverride, 'allMatch(r.obj, p.obj)'))).toMatch(/unknown function allMatch\(\)/);
    expect(refusal(model('sub, obj', 'sub, obj', allowOverride, 'r.sub == p.sub r.obj == p.obj'))).toMatch(/a matcher is one expression/);
    expect(refusal(model('sub, obj', 'sub, obj', allowOverride, 'this.r_sub == p.sub'))).toMatch(/"this" is not supported/);
    expect(refusal(model('sub, obj', 'sub, obj', allowOverride, 'r.sub == p.owner'))).toMatch(/the matcher names p\.owner, which is not defined/);
    expect(refusal(model('sub, obj', 'sub, obj', allowOverride, 'keyMatch2(r.obj, "/a/:")'))).toMatch(/casbin never finishes rewriting the pattern/);
    expect(refusal(model('sub, dom', 'sub, dom', allowOverride, 'g(r.sub, p.sub, r.dom, p.dom)', 'g = _, _, _, _'))).toMatch(/g has 4 fields/);
    expect(refusal(model('sub, obj', 'sub, obj', allowOverride, 'g(r.sub, p.sub)', 'g = _, _, (_, _)'))).toMatch(/no conditional roles/);
    expect(refusal(model('sub, obj', 'sub, obj, eft', 'priority(p.eft) && !some(where (p.eft == deny))', 'r.sub == p.sub'))).toMatch(/unsupported effect/);
    expect(refusal(model('sub, obj', 'sub, obj, eft', 'some(where(p.eft==allow))', 'r.sub == p.sub'))).toMatch(/written exactly so/);
    expect(refusal(model('sub, obj', 'sub, obj', allowOverride, 'r.sub == p.sub'), { functions: { keyMatch: () => true } })).toMatch(/cannot register a function named "keyMatch"/);
    expect(refusal(model('sub, obj', 'sub, obj', allowOverride, 'g(r.sub, p.sub)', 'g = _, _'), { roleMatching: { g2: 'keyMatch2' } })).toMatch(/"g2", which the model does not define/);
  });

  it('calls a function registered in code with the values casbin would pass', () => {
    const seen: unknown[][] = [];
    const compiled = compileModel(model('sub, obj', 'sub, obj', allowOverride, 'r.sub == p.sub && ownsPrefix(r.obj, p.obj)'), {
      functions: { ownsPrefix: (...args: unknown[]) => (seen.push(args), String(args[0]).startsWith(String(args[1]))) },
    });
    const evaluator = compiled.createEvaluator();
    evaluator.apply([add('p', 'alice', '/alice/'), add('p', 'bob', '/bob/')]);
    expect(evaluator.decide(['alice', '/alice/x']).allowed).toBe(true);
    expect(evaluator.decide(['alice', '/bob/x']).allowed).toBe(false);
    // The index on the subject means bob's rule is never offered to alice's requests.
    expect(seen).toEqual([['/alice/x', '/alice/'], ['/bob/x', '/alice/']]);
  });

  it("orders priority rules as casbin does after loading them, not as its in-memory addPolicy inserts them (it compares priorities as text)", async () => {
    const text = model('sub, obj, act', 'priority, sub, obj, act, eft', 'priority(p.eft) || deny', 'r.sub == p.sub && r.obj == p.obj && r.act == p.act');
    const rules: PolicyRule[] = [{ ptype: 'p', values: ['5', 'alice', 'data1', 'read', 'allow'] }];
    const later: PolicyRule = { ptype: 'p', values: ['100', 'alice', 'data1', 'read', 'deny'] };
    const incremental = await loadedCasbin(text, rules);
    await incremental.addPolicy(...later.values);
    const loaded = await loadedCasbin(text, [...rules, later]);
    // "5" >= "100" as text: casbin's addPolicy puts 100 first; a reload sorts 5 before 100.
    expect(casbinOutcome(incremental, ['alice', 'data1', 'read'])).toEqual({ allowed: false });
    expect(casbinOutcome(loaded, ['alice', 'data1', 'read'])).toEqual({ allowed: true });
    const evaluator = compileModel(text).createEvaluator();
    evaluator.apply(rules.map((rule) => ({ op: 'add' as const, rule })));
    evaluator.apply([{ op: 'add', rule: later }]);
    expect(evaluator.decide(['alice', 'data1', 'read'])).toEqual({ allowed: true, reason: 'allowed_by_policy' });
  });

  it('evaluates a rule whose pattern casbin cannot compile in casbin order, so it fails where casbin fails and never allows', async () => {
    const text = model('sub, obj', 'sub, obj', allowOverride, 'r.sub == p.sub && regexMatch(r.obj, p.obj)');
    const rules: PolicyRule[] = [
      { ptype: 'p', values: ['alice', '^/ok/'] },
      { ptype: 'p', values: ['alice', '(unclosed'] },
    ];
    const reference = await loadedCasbin(text, rules);
    const evaluator = compileModel(text).createEvaluator();
    evaluator.apply(rules.map((rule) => ({ op: 'add' as const, rule })));
    // The first rule allows before casbin reaches the broken one.
    expect(casbinOutcome(reference, ['alice', '/ok/1'])).toEqual({ allowed: true });
    expect(evaluator.decide(['alice', '/ok/1']).allowed).toBe(true);
    // Otherwise casbin reaches it and throws: so does the engine.
    expect(casbinOutcome(reference, ['alice', '/other'])).toHaveProperty('error');
    expect(() => evaluator.decide(['alice', '/other'])).toThrow(/Invalid regular expression/);
  });

  it('decides a stored pattern casbin would loop on forever with an error, not a hang', () => {
    const evaluator = compileModel(model('sub, obj', 'sub, obj', allowOverride, 'r.sub == p.sub && keyMatch2(r.obj, p.obj)')).createEvaluator();
    evaluator.apply([add('p', 'alice', '/a/:')]);
    expect(() => evaluator.decide(['alice', '/a/b'])).toThrow(/never finishes rewriting/);
  });

  it('sends a request an IP check would fail on through every rule in order, so it fails exactly where casbin fails', async () => {
    const text = model('ip, obj', 'cidr, obj', allowOverride, 'ipMatch(r.ip, p.cidr) && r.obj == p.obj');
    const rules: PolicyRule[] = [{ ptype: 'p', values: ['10.0.0.0/8', 'data1'] }];
    const reference = await loadedCasbin(text, rules);
    const evaluator = compileModel(text).createEvaluator();
    evaluator.apply(rules.map((rule) => ({ op: 'add' as const, rule })));
    expect(casbinOutcome(reference, ['10.1.2.3', 'data1'])).toEqual({ allowed: true });
    expect(evaluator.decide(['10.1.2.3', 'data1']).allowed).toBe(true);
    expect(casbinOutcome(reference, ['not-an-ip', 'data9'])).toHaveProperty('error');
    expect(() => evaluator.decide(['not-an-ip', 'data9'])).toThrow(/ip1 in ipMatch\(\) function is not an IP address/);
  });

  it('evaluates a matcher without rule fields once per request, as casbin does (it ignores the policy then)', async () => {
    const text = model('sub, obj, act', 'sub, obj, act', allowOverride, 'r.sub == r.obj.Owner');
    const evaluator = compileModel(text).createEvaluator();
    evaluator.apply([add('p', 'x', 'y', 'z')]);
    const reference = await loadedCasbin(text, [{ ptype: 'p', values: ['x', 'y', 'z'] }]);
    expect(casbinOutcome(reference, ['alice', { Owner: 'alice' }, 'read'])).toEqual({ allowed: true });
    expect(evaluator.decide(['alice', { Owner: 'alice' }, 'read']).allowed).toBe(true);
    expect(casbinOutcome(reference, ['bob', { Owner: 'alice' }, 'read'])).toEqual({ allowed: false });
    expect(evaluator.decide(['bob', { Owner: 'alice' }, 'read']).allowed).toBe(false);
  });

  it('keeps casbin as the reference: the plain enforcer is still constructible from the same text', () => {
    expect(() => casbin.newModelFromString(shipped)).not.toThrow();
  });
});
