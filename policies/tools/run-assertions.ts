// Runs one assertion file against plain casbin and against the engine, and compares both with the expectation.
import { isEngineError, type ModelDefinition, type ModelRequest } from '../../engine/index.js';
import type { AssertionCase, AssertionFile } from './assertion-file.js';
import { loadFileModel } from './file-model.js';
import { findInvalidRules, type InvalidRule } from './invalid-rules.js';
import { startMemoryEngine } from './memory-engine.js';
import { loadedCasbin } from './reference-casbin.js';

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

/** Why `request` does not fit the model's request definition, if it does not. */
function shapeProblem(model: ModelDefinition, request: ModelRequest): string | undefined {
  const fields = model.requestFields;
  if (Array.isArray(request)) {
    return request.length === fields.length ? undefined : `the request has ${request.length} values; the model's request is (${fields.join(', ')})`;
  }
  const keys = Object.keys(request);
  const unknown = keys.filter((key) => !fields.includes(key));
  const missing = fields.filter((field) => !keys.includes(field));
  if (unknown.length === 0 && missing.length === 0) return undefined;
  return `the request ${unknown.length > 0 ? `names ${unknown.join(', ')}` : `lacks ${missing.join(', ')}`}; the model's request is (${fields.join(', ')})`;
}

/** The request's values in the model's order, as given (casbin takes them unchecked). */
function rawValues(model: ModelDefinition, request: ModelRequest): unknown[] {
  if (Array.isArray(request)) return [...(request as readonly unknown[])];
  return model.requestFields.map((field) => (request as Readonly<Record<string, unknown>>)[field]);
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
  const { model, options } = await loadFileModel(file);
  const invalidRules = findInvalidRules(model, file.rules);
  if (invalidRules.length > 0) return { kind: 'invalid-rules', file, invalidRules };

  const rules = file.rules.map((located) => located.rule);
  const reference = await loadedCasbin(model.text, rules, options);
  const engine = await startMemoryEngine(model, rules);
  try {
    const cases = file.cases.map((assertion): CaseResult => {
      const { request } = assertion;
      const problem = shapeProblem(model, request);
      if (problem !== undefined) {
        return { assertion, casbin: undefined, casbinError: undefined, engine: undefined, engineError: problem, passed: false, disagreement: false };
      }
      const byCasbin = attempt(() => reference.enforceSync(...rawValues(model, request)));
      const byEngine = attempt(() => engine.decideRequestSync(request).allowed);
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
