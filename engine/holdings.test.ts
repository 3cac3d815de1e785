// "Holds" is what the no-escalation rule asks of a writer: every request a pair can match is allowed to it.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryPolicyStore } from './adapters/memory-policy-store.js';
import { actionCovers, grantsOf, grantsOfBinding, holds, missingGrants, patternCovers, patternsIntersect, type Grant } from './holdings.js';
import { EngineError, parseModel, PolicyEngine, shippedModelPath, type PolicyChange, type PolicyRule } from './index.js';
import { TenantIndex } from './tenant-index.js';
import { randomWorld, seededRandom } from '../test/support/random-policy.js';

const model = parseModel(readFileSync(shippedModelPath, 'utf8'));
const seed = Number(process.env.DIFF_SEED ?? Math.floor(Math.random() * 2 ** 31));
const engines: PolicyEngine[] = [];
afterEach(() => {
  for (const engine of engines.splice(0)) engine.stop();
});

const p = (sub: string, obj: string, act: string, eft = 'allow'): PolicyRule => ({ ptype: 'p', values: [sub, 't', obj, act, eft] });
const g = (member: string, role: string): PolicyRule => ({ ptype: 'g', values: [member, role, 't'] });
const add = (rule: PolicyRule): PolicyChange => ({ op: 'add', rule });
const remove = (rule: PolicyRule): PolicyChange => ({ op: 'remove', rule });
const pair = (resource: string, action: string): Grant => ({ resource, action });
const ruleKey = (rule: PolicyRule) => [rule.ptype, ...rule.values].join('\u0000');

function applied(rules: readonly PolicyRule[], batch: readonly PolicyChange[]): PolicyRule[] {
  const byKey = new Map(rules.map((rule) => [ruleKey(rule), rule]));
  for (const { op, rule } of batch) {
    if (op === 'add') byKey.set(ruleKey(rule), rule);
    else byKey.delete(ruleKey(rule));
  }
  return [...byKey.values()];
}

function view(...rules: PolicyRule[]): TenantIndex {
  const index = new TenantIndex('t');
  for (const rule of rules) index.add(rule);
  return index;
}

async function engineWith(rules: readonly PolicyRule[], text?: string): Promise<PolicyEngine> {
  const m = text === undefined ? model : parseModel(text);
  const store = new MemoryPolicyStore(m.tenantOf);
  const byTenant = new Map<string, PolicyRule[]>();
  for (const rule of rules) {
    const tenant = m.tenantOf(rule) as string;
    byTenant.set(tenant, [...(byTenant.get(tenant) ?? []), rule]);
  }
  // Straight into the store: the random worlds hold rules the write grammar refuses (`a*b`), as a seeded database may.
  for (const [tenant, list] of byTenant) await store.applyChanges(tenant, list.map(add));
  const engine = await PolicyEngine.start({ model: m, store, resyncIntervalMs: 0 });
  engines.push(engine);
  return engine;
}

describe('patterns against patterns (casbin keyMatch)', () => {
  it.each([
    ['*', 'accounts/*', true],
    ['*', '*', true],
    ['accounts/*', 'accounts/*', true],
    ['accounts/*', 'accounts/7', true],
    ['accounts/*', 'accounts/7/x', true],
    ['accounts*', 'accounts/*', true],
    ['accounts*', 'accountsX', true],
    ['accounts/*', 'accounts*', false],
    ['accounts/*', 'accounts', false],
    ['accounts/7', 'accounts/*', false],
    ['accounts', 'accounts/*', false],
    ['accounts', 'accounts', true],
    ['accounts/7', '*', false],
    ['accounts/*', '*', false],
    // What follows a `*` is ignored by keyMatch: `a*b` matches everything starting with `a`.
    ['a*b', 'aXYZ', true],
    ['ab*', 'a*b', false],
  ])('%s covers %s: %s', (outer, inner, expected) => {
    expect(patternCovers(outer, inner)).toBe(expected);
  });

  it.each([
    ['accounts/*', 'accounts/frozen', true],
    ['accounts/frozen', 'accounts/*', true],
    ['accounts/*', 'accounts*', true],
    ['accounts/*', 'ledgers/*', false],
    ['accounts/7', 'accounts/8', false],
    ['accounts', 'accounts/*', false],
    ['*', 'anything', true],
    ['midaz/*', 'midaz/accounts', true],
  ])('%s and %s intersect: %s', (a, b, expected) => {
    expect(patternsIntersect(a, b)).toBe(expected);
    expect(patternsIntersect(b, a)).toBe(expected);
  });

  it('action * is covered only by *; a verb by itself or *', () => {
    expect(actionCovers('*', '*')).toBe(true);
    expect(actionCovers('*', 'get')).toBe(true);
    expect(actionCovers('get', 'get')).toBe(true);
    expect(actionCovers('get', '*')).toBe(false);
    expect(actionCovers('get', 'post')).toBe(false);
  });
});

describe('holds: allow lines that cover, deny lines that intersect', () => {
  it('accounts/* is held through accounts/*, accounts* or *, never through accounts/x or accounts', () => {
    for (const line of ['accounts/*', 'accounts*', '*']) expect(holds(view(p('user:1', line, 'get')), 'user:1', pair('accounts/*', 'get')), line).toBe(true);
    for (const line of ['accounts/x', 'accounts']) expect(holds(view(p('user:1', line, 'get')), 'user:1', pair('accounts/*', 'get')), line).toBe(false);
    // Two allow lines are never added up, even where together they would cover the pattern.
    expect(holds(view(p('user:1', 'accounts', 'get'), p('user:1', 'accounts/*', 'get')), 'user:1', pair('accounts*', 'get'))).toBe(false);
  });

  it('action * is held only through an allow on *', () => {
    const verbs = view(...['get', 'post', 'patch', 'delete', 'head'].map((verb) => p('user:1', 'users', verb)));
    expect(holds(verbs, 'user:1', pair('users', '*'))).toBe(false);
    expect(holds(verbs, 'user:1', pair('users', 'get'))).toBe(true);
    expect(holds(view(p('user:1', 'users', '*')), 'user:1', pair('users', '*'))).toBe(true);
  });

  it('a deny the subject is under that intersects the pair means not held; one that does not, changes nothing', () => {
    const rules = [p('role:ops', 'accounts/*', '*'), p('role:ops', 'accounts/frozen', 'patch', 'deny'), g('user:1', 'role:ops')];
    const ops = view(...rules);
    expect(holds(ops, 'user:1', pair('accounts/7', 'patch'))).toBe(true);
    expect(holds(ops, 'user:1', pair('accounts/frozen', 'get'))).toBe(true);
    expect(holds(ops, 'user:1', pair('accounts/frozen', 'patch'))).toBe(false);
    expect(holds(ops, 'user:1', pair('accounts/*', 'get'))).toBe(true);
    expect(holds(ops, 'user:1', pair('accounts/*', 'patch'))).toBe(false);
    expect(holds(ops, 'user:1', pair('accounts/*', '*'))).toBe(false);
    expect(holds(ops, 'user:1', pair('accounts/fro*', 'patch'))).toBe(false);
    // Another subject's deny is not the caller's.
    expect(holds(view(...rules, p('user:2', 'accounts/*', '*', 'deny')), 'user:1', pair('accounts/7', 'get'))).toBe(true);
  });

  it('holdings come through role chains, within casbin\'s 10-link limit', () => {
    const chain = Array.from({ length: 12 }, (_, i) => `role:${i}`);
    const rules = [g('user:1', 'group:1'), g('group:1', chain[0] as string), ...chain.slice(1).map((role, i) => g(chain[i] as string, role))];
    const within = view(...rules, p('role:8', 'ledgers', 'get'));
    expect(holds(within, 'user:1', pair('ledgers', 'get'))).toBe(true);
    const beyond = view(...rules, p('role:11', 'ledgers', 'get'));
    expect(holds(beyond, 'user:1', pair('ledgers', 'get'))).toBe(false);
    // A deny on a role of the chain counts like one of the user's own.
    expect(holds(view(...rules, p('role:8', 'ledgers', 'get'), p('role:3', 'ledgers', '*', 'deny')), 'user:1', pair('ledgers', 'get'))).toBe(false);
  });

  it('subject * lines apply to everyone: an allow is held by all, a deny blocks all', () => {
    expect(holds(view(p('*', 'update-password', 'patch')), 'user:9', pair('update-password', 'patch'))).toBe(true);
    expect(holds(view(p('user:1', '*', '*'), p('*', 'organizations', 'delete', 'deny')), 'user:1', pair('*', '*'))).toBe(false);
    expect(holds(view(p('user:1', '*', '*'), p('*', 'organizations', 'delete', 'deny')), 'user:1', pair('users', '*'))).toBe(true);
  });

  it('missingGrants lists what is not held, each pair once, in order', () => {
    const v = view(p('user:1', 'users', 'get'));
    expect(missingGrants(v, 'user:1', [pair('*', '*'), pair('users', 'get'), pair('roles', 'post'), pair('*', '*')])).toEqual([pair('*', '*'), pair('roles', 'post')]);
  });
});

describe('grantsOf: what a batch gives, judged before it', () => {
  const base = [p('role:admin', 'users', '*'), p('role:admin', 'roles', '*'), p('role:admin', 'audit', 'get', 'deny'), g('group:admins', 'role:admin'), p('*', 'update-password', 'patch')];

  it('an added allow line gives its pair; an added deny, a removed allow or link gives nothing', () => {
    const v = view(...base);
    expect(grantsOf(v, [add(p('role:x', '*', '*'))])).toEqual([pair('*', '*')]);
    expect(grantsOf(v, [add(p('role:x', '*', '*', 'deny')), remove(p('role:admin', 'users', '*'))])).toEqual([]);
  });

  it('a removed deny gives back what it blocked; a line already stored (or already absent) gives nothing', () => {
    const v = view(...base);
    expect(grantsOf(v, [remove(p('role:admin', 'audit', 'get', 'deny'))])).toEqual([pair('audit', 'get')]);
    expect(grantsOf(v, [add(p('role:admin', 'users', '*'))])).toEqual([]);
    expect(grantsOf(v, [remove(p('role:admin', 'ledgers', 'get', 'deny'))])).toEqual([]);
    expect(grantsOf(v, [add(g('group:admins', 'role:admin'))])).toEqual([]);
  });

  it('an added link gives every allow line the role reaches (not subject * lines); a removed one lifts its denies', () => {
    const v = view(...base);
    expect(grantsOf(v, [add(g('user:7', 'group:admins'))])).toEqual([pair('users', '*'), pair('roles', '*')]);
    expect(grantsOf(v, [remove(g('group:admins', 'role:admin'))])).toEqual([pair('audit', 'get')]);
    expect(grantsOfBinding(v, 'group:admins')).toEqual([pair('users', '*'), pair('roles', '*')]);
    expect(grantsOfBinding(v, 'user:nobody')).toEqual([]);
  });
});

describe('PolicyEngine: holds, missingGrants, grantsOf, grantsOfBinding', () => {
  it('answers on the caller\'s own subject and tenant at the applied revision', async () => {
    const engine = await engineWith([
      { ptype: 'p', values: ['role:helpdesk', 'acme', 'users', 'get', 'allow'] },
      { ptype: 'g', values: ['user:1', 'role:helpdesk', 'acme'] },
      { ptype: 'p', values: ['role:admin', 'acme', '*', '*', 'allow'] },
      { ptype: 'g', values: ['group:admins', 'role:admin', 'acme'] },
      { ptype: 'p', values: ['user:1', 'other', '*', '*', 'allow'] },
    ]);
    expect(engine.holds('acme', 'user:1', 'users', 'get')).toBe(true);
    expect(engine.holds('acme', 'user:1', 'users', '*')).toBe(false);
    // Its rights in another tenant do not count here.
    expect(engine.holds('acme', 'user:1', 'ledgers', 'get')).toBe(false);
    expect(engine.missingGrants('acme', 'user:1', [pair('users', 'get'), pair('*', '*')])).toEqual([pair('*', '*')]);
    expect(engine.grantsOf('acme', [add({ ptype: 'g', values: ['user:1', 'group:admins', 'acme'] })])).toEqual([pair('*', '*')]);
    expect(engine.grantsOfBinding('acme', 'group:admins')).toEqual([pair('*', '*')]);
    expect(engine.holds('unknown-tenant', 'user:1', 'users', 'get')).toBe(false);
  });

  it('refuses a subject or tenant that is no name, and an empty or oversized pair (INVALID_REQUEST)', async () => {
    const engine = await engineWith([]);
    expect(() => engine.holds('acme', 'user 1', 'accounts', 'get')).toThrow(EngineError);
    expect(() => engine.holds('', 'user:1', 'accounts', 'get')).toThrow(EngineError);
    expect(() => engine.holds('acme', 'user:1', '', 'get')).toThrow(EngineError);
    expect(() => engine.missingGrants('acme', 'user:1', [pair('accounts', 'x'.repeat(300))])).toThrow(EngineError);
    expect(() => engine.grantsOfBinding('acme', 'group 1')).toThrow(EngineError);
  });

  it('under a model without the fast path nothing is held and any change may give anything (fails closed)', async () => {
    const keyMatch2 = readFileSync(shippedModelPath, 'utf8').replace('keyMatch(r.obj, p.obj)', 'keyMatch2(r.obj, p.obj)');
    const engine = await engineWith([{ ptype: 'p', values: ['user:1', 'acme', '*', '*', 'allow'] }], keyMatch2);
    expect(engine.fastPath).toBe(false);
    expect(engine.decideSync({ sub: 'user:1', dom: 'acme', obj: 'users', act: 'get' }).allowed).toBe(true);
    expect(engine.holds('acme', 'user:1', 'users', 'get')).toBe(false);
    expect(engine.missingGrants('acme', 'user:1', [pair('users', 'get')])).toEqual([pair('users', 'get')]);
    expect(engine.grantsOf('acme', [add({ ptype: 'p', values: ['user:2', 'acme', 'users', 'get', 'deny'] })])).toEqual([pair('*', '*')]);
    expect(engine.grantsOf('acme', [])).toEqual([]);
  });
});

describe(`holds and grantsOf against decisions over random worlds (seed ${seed}, DIFF_SEED replays it)`, () => {
  const patterns = ['*', 'accounts*', 'accounts/*', 'ledgers/*', 'midaz/*', 'a*', 'users/*'];
  const resources = ['accounts', 'accounts/1', 'accounts/1/x', 'accountsX', 'ledgers', 'ledgers/1', 'ledgers/2', 'midaz/accounts', 'midaz/ledgers', 'a', 'ab', 'aXb', 'users/password', 'other'];
  const actions = ['get', 'post', 'patch', 'delete', 'head', 'verb-nobody-wrote'];
  const keyMatch = (obj: string, pattern: string) => (pattern.includes('*') ? obj.startsWith(pattern.slice(0, pattern.indexOf('*'))) : obj === pattern);

  it('a concrete pair is held exactly when it is allowed; a held pattern allows every request it matches', async () => {
    const random = seededRandom(seed);
    const mismatches: string[] = [];
    let heldPatterns = 0;
    for (let world = 0; world < 12; world++) {
      const w = randomWorld(random);
      const engine = await engineWith(w.rules);
      const subjects = [...new Set(w.rules.flatMap((rule) => (rule.ptype === 'g' ? rule.values.slice(0, 2) : [rule.values[0] as string])))].filter((s) => s !== '*');
      for (const dom of w.tenants) {
        for (const sub of subjects) {
          for (const obj of resources) {
            for (const act of actions) {
              const allowed = engine.decideSync({ sub, dom, obj, act }).allowed;
              if (engine.holds(dom, sub, obj, act) !== allowed) mismatches.push(`world ${world}: ${sub} ${dom} ${obj} ${act} allowed=${allowed}`);
            }
          }
          for (const pattern of patterns) {
            for (const act of [...actions, '*']) {
              if (!engine.holds(dom, sub, pattern, act)) continue;
              heldPatterns++;
              for (const obj of resources.filter((r) => keyMatch(r, pattern))) {
                for (const asked of act === '*' ? actions : [act]) {
                  if (!engine.decideSync({ sub, dom, obj, act: asked }).allowed) mismatches.push(`world ${world}: ${sub} holds ${pattern} ${act}, yet ${obj} ${asked} is denied`);
                }
              }
            }
          }
        }
      }
    }
    expect(mismatches.slice(0, 5), `seed ${seed}`).toEqual([]);
    expect(heldPatterns, `seed ${seed}: the worlds held some pattern`).toBeGreaterThan(0);
  });

  it('every request a batch newly allows is matched by a pair grantsOf named before it', async () => {
    const random = seededRandom(seed ^ 0x2545f491);
    const unnamed: string[] = [];
    let newlyAllowed = 0;
    for (let world = 0; world < 12; world++) {
      const w = randomWorld(random);
      const engine = await engineWith(w.rules);
      const subjects = [...new Set([...w.rules.flatMap((rule) => rule.values.slice(0, rule.ptype === 'g' ? 2 : 1)), 'user:fresh'])].filter((s) => s !== '*');
      let present = [...w.rules];
      for (let round = 0; round < 5; round++) {
        const batch = w.randomBatch(present);
        const dom = (batch[0]?.rule.ptype === 'g' ? batch[0].rule.values[2] : batch[0]?.rule.values[1]) as string;
        const before = new Set<string>();
        for (const sub of subjects) for (const obj of resources) for (const act of actions) if (engine.decideSync({ sub, dom, obj, act }).allowed) before.add(`${sub} ${obj} ${act}`);
        const given = engine.grantsOf(dom, batch);
        // The write grammar refuses some generated rules (`a*b`): such a batch changes nothing.
        const written = await engine.write(dom, batch).then(
          () => true,
          () => false,
        );
        if (written) present = applied(present, batch);
        for (const sub of subjects) {
          for (const obj of resources) {
            for (const act of actions) {
              if (before.has(`${sub} ${obj} ${act}`) || !engine.decideSync({ sub, dom, obj, act }).allowed) continue;
              newlyAllowed++;
              if (!given.some((grant) => keyMatch(obj, grant.resource) && (grant.action === '*' || grant.action === act))) {
                unnamed.push(`world ${world} round ${round}: ${sub} newly may ${act} ${obj} after ${JSON.stringify(batch)}; grantsOf said ${JSON.stringify(given)}`);
              }
            }
          }
        }
      }
    }
    expect(unnamed.slice(0, 3), `seed ${seed}`).toEqual([]);
    expect(newlyAllowed, `seed ${seed}: some batch allowed something new`).toBeGreaterThan(0);
  });
});
