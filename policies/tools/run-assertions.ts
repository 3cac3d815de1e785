// Runs one assertion file against plain casbin and against the engine, and compares both with the expectation.
import { casbin } from '../../engine/casbin-runtime.js';
import { isEngineError, isGroupingType, loadModelFile, type ModelDefinition, type PolicyRule } from '../../engine/index.js';
import type { AssertionCase, AssertionFile } from './assertion-file.js';
import { findInvalidRules, type InvalidRule } from './invalid-rules.js';
import { startMemoryEngine } from './memory-engine.js';

export type Verdict = 'allow' | 'deny';

export interface CaseResult {
  readonly assertion: AssertionCase;
  /** Plain casbin's answer, or undefined when casbin threw (`casbinError`). */
  readonly casbin: Verdict | undefined;
  readonly casbinError: string | undefined;
  /** The engine's answer, or undefined when it refused the request (`engineError`). */
  readonly engine: Verdict | undefined;
  readonly engineError: string | undefined;
  /** Both answered, agree, and match the expectation. */
  readonly passed: boolean;
  /** Both answered and differ: an engine bug, since casbin is the reference semantics. */
  readonly disagreement: boolean;
}

export type FileResult =
  | { readonly kind: 'ran'; readonly file: AssertionFile; readonly fastPath: boolean; readonly cases: readonly CaseResult[] }
  | { readonly kind: 'invalid-rules'; readonly file: AssertionFile; readonly invalidRules: readonly InvalidRule[] };

const verdict = (allowed: boolean): Verdict => (allowed ? 'allow' : 'deny');

async function plainCasbin(model: ModelDefinition, rules: readonly PolicyRule[]) {
  const enforcer = await casbin.newEnforcer(casbin.newModelFromString(model.text));
  for (const { ptype, values } of rules) {
    if (isGroupingType(ptype)) await enforcer.addNamedGroupingPolicy(ptype, ...values);
    else await enforcer.addNamedPolicy(ptype, ...values);
  }
  return enforcer;
}

function attempt(decide: () => boolean): { verdict: Verdict | undefined; error: string | undefined } {
  try {
    return { verdict: verdict(decide()), error: undefined };
  } catch (error) {
    return { verdict: undefined, error: isEngineError(error) ? error.detail : (error as Error).message };
  }
}

/**
 * Runs every case of `file`. Rules the model refuses make the whole file a failure without running its cases:
 * casbin would hold them while the engine refuses them, so the answers would not mean anything.
 */
export async function runAssertionFile(file: AssertionFile): Promise<FileResult> {
  const model = await loadModelFile(file.modelPath);
  const invalidRules = findInvalidRules(model, file.rules);
  if (invalidRules.length > 0) return { kind: 'invalid-rules', file, invalidRules };

  const rules = file.rules.map((located) => located.rule);
  const reference = await plainCasbin(model, rules);
  const engine = await startMemoryEngine(model, rules);
  try {
    const cases = file.cases.map((assertion): CaseResult => {
      const { request } = assertion;
      const byCasbin = attempt(() => reference.enforceSync(...model.requestFields.map((name) => (request as unknown as Record<string, string>)[name])));
      const byEngine = attempt(() => engine.decideSync(request).allowed);
      const disagreement = byCasbin.verdict !== undefined && byEngine.verdict !== undefined && byCasbin.verdict !== byEngine.verdict;
      return {
        assertion,
        casbin: byCasbin.verdict,
        casbinError: byCasbin.error,
        engine: byEngine.verdict,
        engineError: byEngine.error,
        passed: !disagreement && byCasbin.verdict === assertion.expect && byEngine.verdict === assertion.expect,
        disagreement,
      };
    });
    return { kind: 'ran', file, fastPath: model.fastPath, cases };
  } finally {
    engine.stop();
  }
}
