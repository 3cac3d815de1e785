// Exactly casbin: every model of casbin's examples catalogue (casbin/casbin and node-casbin, fixtures with their
// Apache-2.0 notice) is decided by the engine — through PolicyEngine, its store and incremental catch-up —
// and by plain node-casbin loaded with the same policy, on random policies, random requests and random batches
// of added and removed rules and role links between decisions. Where casbin throws, the engine must fail or
// deny, never allow. The models the engine refuses are listed with the reason, and the test proves each
// reason (casbin cannot run it, or it runs policy text as code, or it would silently drop a section).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { casbinOutcome, loadedCasbin } from '../../policies/tools/reference-casbin.js';
import { randomModelWorld, seededRandom } from '../../test/support/random-model-world.js';
import { MemoryPolicyStore } from '../adapters/memory-policy-store.js';
import { casbin } from '../casbin-runtime.js';
import { EngineError, parseModel, PolicyEngine, type ModelDefinition, type PolicyChange, type PolicyRule } from '../index.js';
import type { CompileOptions } from './compiled-model.js';

const seed = Number(process.env.CASBIN_DIFF_SEED ?? Math.floor(Math.random() * 2 ** 31));
const requestsPerRun = Number(process.env.CASBIN_DIFF_REQUESTS ?? 100_000);
const rounds = 4;
const fixtures = new URL('./fixtures/', import.meta.url).pathname;

/** Why a catalogue model is not run, and how the test shows the reason holds. */
interface Refusal {
  readonly because: RegExp;
  readonly why: string;
  /** `cannot-run`: node-casbin itself fails on it (loading the model, or deciding with one rule). */
  readonly casbin: 'cannot-run' | 'runs';
  /** A rule that makes casbin fail when it evaluates one (for `cannot-run` models casbin loads). */
  readonly rule?: PolicyRule;
  readonly request?: readonly string[];
}

const evalRefusal: Refusal = { because: /eval\(\) in a matcher is not allowed/, why: 'eval() runs policy text as code', casbin: 'runs' };
const goOnlySection: Refusal = {
  because: /unknown section/,
  why: 'a Go-casbin section node-casbin ignores silently; refused rather than dropped',
  casbin: 'runs',
};
const conditionalRoles: Refusal = {
  because: /no conditional roles/,
  why: 'conditional role definitions (Go casbin): node-casbin reads (_, _) as two more fields and throws on every link',
  casbin: 'cannot-run',
  rule: { ptype: 'g', values: ['alice', 'admin', 'domain1', 'x'] },
};

const refused: Readonly<Record<string, Refusal>> = {
  'casbin-examples/abac_rule_model.conf': evalRefusal,
  'casbin-examples/abac_with_rbac.conf': evalRefusal,
  'casbin-examples/eval_operator_model.conf': evalRefusal,
  'casbin-examples/object_conditions_model.conf': evalRefusal,
  'casbin-examples/pbac_model.conf': evalRefusal,
  'casbin-examples/rbac_with_abac_rule_model.conf': evalRefusal,
  'casbin-examples/multiple_policy_definitions_model.conf': evalRefusal,
  'node-casbin-examples/abac_rule_model.conf': evalRefusal,
  'node-casbin-examples/multiple_policy_definitions_model.conf': evalRefusal,
  'casbin-examples/ai_policy_model.conf': goOnlySection,
  'casbin-examples/rbac_with_constraints_model.conf': goOnlySection,
  'casbin-examples/allmatch_model.conf': {
    because: /unknown function allMatch\(\)/,
    why: 'allMatch is a Go-casbin function: node-casbin has none and fails on the first rule it reaches',
    casbin: 'cannot-run',
    rule: { ptype: 'p', values: ['alice', '/a', 'read'] },
    request: ['alice', '/a', 'read'],
  },
  'casbin-examples/domainmatch_model.conf': {
    because: /unknown function allMatch\(\)/,
    why: 'allMatch is a Go-casbin function: node-casbin has none and fails on the first rule it reaches',
    casbin: 'cannot-run',
    rule: { ptype: 'p', values: ['alice', 'domain1', 'data1', 'read'] },
    request: ['alice', 'domain1', 'data1', 'read'],
  },
  'casbin-examples/keyget_model.conf': {
    because: /the matcher does not parse/,
    why: "node-casbin's list rewrite for `in` turns its `(r.obj == p.obj || keyGet(...)` group into a broken list",
    casbin: 'cannot-run',
    rule: { ptype: 'p', values: ['alice', '/a', 'read'] },
    request: ['alice', '/a', 'read'],
  },
  'casbin-examples/rbac_with_early_return_model.conf': {
    because: /the matcher does not parse/,
    why: 'a Go-casbin block matcher ({ let ...; return ... }) node-casbin cannot parse',
    casbin: 'cannot-run',
    rule: { ptype: 'p', values: ['alice', '/a', 'read'] },
    request: ['alice', '/a', 'read'],
  },
  'casbin-examples/rbac_with_hierarchy_multiline_model.conf': {
    because: /the matcher does not parse/,
    why: 'a Go-casbin block matcher ({ let ...; return ... }) node-casbin cannot parse',
    casbin: 'cannot-run',
    rule: { ptype: 'p', values: ['alice', '/a', 'read'] },
    request: ['alice', '/a', 'read'],
  },
  'casbin-examples/priority_explicit_override_model.conf': {
    because: /unsupported effect/,
    why: 'an effect node-casbin does not support (it throws "unsupported effect")',
    casbin: 'cannot-run',
    rule: { ptype: 'p', values: ['1', 'alice', 'data1', 'read', 'allow'] },
    request: ['alice', 'data1', 'read'],
  },
  'casbin-examples/subject_priority_explicit_override_model.conf': {
    because: /unsupported effect/,
    why: 'an effect node-casbin does not support (it throws "unsupported effect")',
    casbin: 'cannot-run',
    rule: { ptype: 'p', values: ['alice', 'data1', 'read', 'allow'] },
    request: ['alice', 'data1', 'read'],
  },
  'casbin-examples/rbac_cross_domain_model.conf': {
    because: /g has 4 fields/,
    why: "a role line with two domains: node-casbin's role manager throws on every such link",
    casbin: 'cannot-run',
    rule: { ptype: 'g', values: ['alice', 'admin', 'domain1', 'domain2'] },
  },
  'casbin-examples/rbac_model_with_sessions.conf': {
    because: /g has 4 fields/,
    why: "a role line with two extra fields: node-casbin's role manager throws on every such link",
    casbin: 'cannot-run',
    rule: { ptype: 'g', values: ['alice', 'admin', '1', '2'] },
  },
  'casbin-examples/rbac_with_different_types_of_roles_model.conf': conditionalRoles,
  'casbin-examples/rbac_with_domain_temporal_roles_model.conf': conditionalRoles,
  'casbin-examples/rbac_with_domains_conditional_model.conf': conditionalRoles,
  'casbin-examples/rbac_with_temporal_roles_model.conf': { ...conditionalRoles, rule: { ptype: 'g', values: ['alice', 'admin', 'x', 'y'] } },
};

const customKeyMatch: CompileOptions = {
  functions: { keyMatchCustom: (a: unknown, b: unknown) => String(a).startsWith(String(b).replace(/:.*$/, '')) },
};

/** The models node-casbin's tests configure in code: each is run under every variant listed. */
const variants: Readonly<Record<string, readonly CompileOptions[]>> = {
  'node-casbin-examples/rbac_with_pattern_model.conf': [{ roleMatching: { g2: 'keyMatch2' } }, { roleMatching: { g2: 'keyMatch3' } }, {}],
  'node-casbin-examples/rbac_with_domain_pattern_model.conf': [{ domainMatching: { g: 'keyMatch2' } }, {}],
  'node-casbin-examples/rbac_with_all_pattern_model.conf': [{ roleMatching: { g: 'keyMatch2' }, domainMatching: { g: 'keyMatch2' } }, {}],
  'casbin-examples/rbac_with_all_pattern_model.conf': [{ roleMatching: { g: 'keyMatch2' }, domainMatching: { g: 'keyMatch2' } }, {}],
  'node-casbin-examples/keymatch_custom_model.conf': [customKeyMatch],
  'casbin-examples/keymatch_custom_model.conf': [customKeyMatch],
};

function catalogue(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : f.endsWith('.conf') ? [join(dir, f)] : []));
  return walk(fixtures).map((path) => path.slice(fixtures.length)).sort();
}

function refusalOf(text: string, options: CompileOptions): EngineError | undefined {
  try {
    parseModel(text, options);
    return undefined;
  } catch (error) {
    if (error instanceof EngineError) return error;
    throw error;
  }
}

async function seededEngine(model: ModelDefinition, rules: readonly PolicyRule[]): Promise<{ engine: PolicyEngine; store: MemoryPolicyStore }> {
  const store = new MemoryPolicyStore(model.tenantOf);
  await applyByTenant(model, store, rules.map((rule) => ({ op: 'add' as const, rule })));
  // Seeded through the store, not engine.write: the generator also makes rules the write path refuses (an
  // unparsable priority, an "indeterminate" effect), and stored rules must still be decided as casbin does.
  return { engine: await PolicyEngine.start({ model, store, resyncIntervalMs: 0 }), store };
}

async function applyByTenant(model: ModelDefinition, store: MemoryPolicyStore, changes: readonly PolicyChange[], engine?: PolicyEngine): Promise<void> {
  const byTenant = new Map<string, PolicyChange[]>();
  for (const change of changes) {
    const tenant = model.tenantOf(change.rule) as string;
    byTenant.set(tenant, [...(byTenant.get(tenant) ?? []), change]);
  }
  for (const [tenant, batch] of byTenant) {
    await store.applyChanges(tenant, batch);
    await engine?.catchUp(tenant);
  }
}

describe('the compiled engine decides every casbin example model exactly as node-casbin', () => {
  const models = catalogue();

  it('lists every model it refuses with the reason, and each reason holds', async () => {
    const refusedHere: string[] = [];
    for (const name of models) {
      const text = readFileSync(join(fixtures, name), 'utf8');
      const error = refusalOf(text, variants[name]?.[0] ?? {});
      const expected = refused[name];
      if (!error) {
        expect(expected, `${name} compiles but is listed as refused`).toBeUndefined();
        continue;
      }
      expect(expected, `${name} is refused (${error.detail}) but not listed`).toBeDefined();
      expect(error.code).toBe('INVALID_MODEL');
      expect(error.detail, name).toMatch((expected as Refusal).because);
      refusedHere.push(name);
      if ((expected as Refusal).casbin !== 'cannot-run') continue;
      // node-casbin fails too: loading the model, loading one rule, or deciding over it.
      const { rule, request } = expected as Refusal;
      const failure = await (async () => {
        try {
          const enforcer = await loadedCasbin(text, rule ? [rule] : []);
          if (request) enforcer.enforceSync(...request);
          return undefined;
        } catch (e) {
          return e;
        }
      })();
      expect(failure, `${name}: node-casbin was expected to fail (${(expected as Refusal).why})`).toBeInstanceOf(Error);
    }
    expect(refusedHere.sort()).toEqual(Object.keys(refused).sort());
  });

  it(`equals node-casbin on ${requestsPerRun} random requests across the catalogue, with incremental writes (seed ${seed}; CASBIN_DIFF_SEED replays)`, async () => {
    const runs = models.filter((name) => !refused[name]).flatMap((name) => (variants[name] ?? [{}]).map((options) => ({ name, options })));
    expect(runs.length).toBeGreaterThan(45);
    const perRound = Math.ceil(requestsPerRun / runs.length / rounds);
    const random = seededRandom(seed);
    let requests = 0;
    let allowed = 0;
    let casbinFailures = 0;
    const mismatches: string[] = [];
    for (const { name, options } of runs) {
      const text = readFileSync(join(fixtures, name), 'utf8');
      const model = parseModel(text, options);
      const world = randomModelWorld(text, random, options as { roleMatching?: Record<string, string> });
      const { engine, store } = await seededEngine(model, world.rules);
      try {
        for (let round = 0; round < rounds; round++) {
          const present = (await store.loadAll()).rules;
          const reference = await loadedCasbin(text, present, options as never);
          for (let i = 0; i < perRound; i++) {
            const request = world.randomRequest();
            const expected = casbinOutcome(reference, request);
            let actual: { allowed: boolean } | { error: string };
            try {
              actual = { allowed: engine.decideRequestSync(request as never).allowed };
            } catch (error) {
              // A request the engine's validation refuses is a generator bug; a matcher failure is an answer to compare.
              if (!(error instanceof EngineError) || !error.detail.startsWith("the model's matcher fails")) throw error;
              actual = { error: error.detail };
            }
            requests++;
            if ('error' in expected) casbinFailures++;
            else if (expected.allowed) allowed++;
            const wrong = 'error' in expected ? 'allowed' in actual && actual.allowed : !('allowed' in actual) || actual.allowed !== expected.allowed;
            if (wrong && mismatches.length < 10) {
              mismatches.push(`${name} ${JSON.stringify(options)} round ${round}: ${JSON.stringify(request)} casbin=${JSON.stringify(expected)} engine=${JSON.stringify(actual)}`);
            }
          }
          await applyByTenant(model, store, world.randomBatch(present), engine);
        }
      } finally {
        engine.stop();
      }
    }
    expect(mismatches, `seed ${seed} (rerun with CASBIN_DIFF_SEED=${seed})`).toEqual([]);
    expect(requests).toBeGreaterThanOrEqual(requestsPerRun);
    // The worlds must decide both ways: a run where nearly everything is denied would prove little.
    expect(allowed / requests).toBeGreaterThan(0.1);
    expect(allowed / requests).toBeLessThan(0.9);
    expect(casbinFailures / requests).toBeLessThan(0.2);
  }, 240_000);

  it('runs each model under node-casbin as the reference, not under the engine itself', () => {
    expect(casbin.newEnforcer).toBeTypeOf('function');
  });
});
