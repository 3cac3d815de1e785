// The bench's model catalogue must measure what it says: every model compiles, its generated rules are valid
// rules of that model, and the engine answers its requests as plain casbin does (at a size casbin decides fast).
import { describe, expect, it } from 'vitest';
import { CasbinEvaluator, parseModel } from '../engine/index.js';
import { modelCatalogue } from './model-catalogue.js';
import { runModelSuite } from './models-suite.js';
import { generatePolicy, generateRequests } from './policy-generator.js';

describe('bench model catalogue', () => {
  it('holds the six model families of the issue plus the shipped model, each compiled with an index', () => {
    expect(modelCatalogue.map((m) => m.name)).toEqual([
      'shipped (fast path)',
      'shipped, compiled',
      'casbin rbac_with_domains',
      'shipped with keyMatch2',
      'rbac without domains',
      'rbac with resource roles (g2)',
      'explicit priority',
      'abac attribute condition',
    ]);
    for (const entry of modelCatalogue) {
      const model = parseModel(entry.text);
      expect(model.fastPath, entry.name).toBe(entry.name === 'shipped (fast path)');
      if (!model.fastPath) expect(model.compiled.scans, entry.name).toBe(false);
    }
  });

  for (const entry of modelCatalogue) {
    it(`${entry.name}: valid rules of its model, and the engine's answers are casbin's`, async () => {
      const policy = generatePolicy({ rules: entry.baseRules(1_000, 5), tenants: 5, seed: 7 });
      const rules = entry.rules(policy);
      const model = parseModel(entry.text);
      for (const rule of rules) expect(() => model.assertRule(rule), JSON.stringify(rule)).not.toThrow();
      const requests = generateRequests(policy, 200, 8);
      const result = await runModelSuite(entry, { rules, requests, engineSamples: 200, casbinSamples: 200, casbinBudgetMs: 60_000, onStep: () => undefined });
      expect(result.differential).toMatchObject({ requests: 200, mismatches: 0 });
      expect(result.allowedShare).toBeGreaterThan(0.02);
      // casbin's evaluator is the one the bench times: a sanity check that it holds the rules.
      expect((await CasbinEvaluator.create(model, rules)).ruleCount).toBe(rules.length);
    });
  }
});
