// `policy explain <request values...>`: the decision, the rules that made it and the role links behind them,
// for a request of the model's arity (a value starting with `{` is an attribute object, in JSON).
import { EngineError, loadModelFile, PolicyEngine, type Explanation, type ModelDefinition, type ModelRequest } from '../../engine/index.js';
import { loadAssertionFile } from './assertion-file.js';
import { loadFileModel } from './file-model.js';
import { findInvalidRules } from './invalid-rules.js';
import { startMemoryEngine } from './memory-engine.js';
import type { Output } from './output.js';
import { UsageError } from './usage-error.js';

export const defaultDatabaseUrl = 'postgres://postgres@127.0.0.1:5432/test';

export interface ExplainOptions {
  /** The request's values as typed, in the model's field order. */
  readonly values: readonly string[];
  /** A model file; default the `--rules` file's model, else the shipped one. */
  readonly modelPath: string | undefined;
  /** An assertion file whose rules replace the live policy. */
  readonly rulesPath: string | undefined;
  readonly databaseUrl: string;
}

/** The typed values as a request of `model`'s arity; `{...}` is read as JSON (an attribute object). */
export function requestOfValues(model: ModelDefinition, values: readonly string[]): ModelRequest {
  const fields = model.requestFields;
  if (values.length !== fields.length) {
    throw new UsageError(`explain takes ${fields.length} values for this model, in order: ${fields.join(' ')} (got ${values.length})`);
  }
  return values.map((value, i) => {
    if (!value.trimStart().startsWith('{')) return value;
    try {
      return JSON.parse(value) as Record<string, never>;
    } catch {
      throw new UsageError(`value ${i + 1} (${fields[i]}) starts with "{" but is not a JSON object`);
    }
  });
}

const showValue = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/**
 * The explanation as lines: the decision, each matching rule with the role links that reached it, and the
 * rules that decided. The tenant is named for models with a `dom` field.
 */
export function formatExplanation(model: ModelDefinition, request: ModelRequest, explanation: Explanation): string[] {
  const { decision, matchedRules, paths, roleChains, decidingRules } = explanation;
  const values = Array.isArray(request) ? (request as readonly unknown[]) : model.requestFields.map((f) => (request as Record<string, unknown>)[f]);
  const domAt = model.requestFields.indexOf('dom');
  const tenant = domAt >= 0 ? showValue(values[domAt]) : undefined;
  const lines = [`${decision.allowed ? 'allow' : 'deny'} (${decision.reason}) at revision ${decision.revision}${tenant === undefined ? '' : ` of tenant ${tenant}`}`];
  if (matchedRules.length === 0) {
    lines.push('no rule matches');
    return lines;
  }
  lines.push('matched rules:');
  matchedRules.forEach((rule, i) => {
    lines.push(`  ${[rule.ptype, ...rule.values].join(', ')}`);
    const chains = roleChains[i] ?? [];
    if (chains.length === 0 && paths[i]?.length === 1 && paths[i]?.[0] === '*') lines.push(`    via * (every subject of ${tenant})`);
    for (const chain of chains) lines.push(`    via ${chain.ptype === 'g' ? '' : `${chain.ptype}: `}${chain.path.join(' → ')}`);
  });
  if (decidingRules.length > 0) {
    lines.push('decided by:');
    for (const rule of decidingRules) lines.push(`  ${[rule.ptype, ...rule.values].join(', ')}`);
  }
  return lines;
}

async function explainFromFile(options: ExplainOptions, rulesPath: string): Promise<{ model: ModelDefinition; request: ModelRequest; explanation: Explanation }> {
  const file = await loadAssertionFile(rulesPath);
  const { model } = await loadFileModel(file, options.modelPath ?? file.modelPath);
  const request = requestOfValues(model, options.values);
  const invalid = findInvalidRules(model, file.rules);
  if (invalid.length > 0) {
    throw new EngineError('INVALID_RULE', invalid.map(({ line, detail }) => `${rulesPath}:${line}: ${detail}`).join('\n'));
  }
  const engine = await startMemoryEngine(model, file.rules.map((located) => located.rule));
  try {
    return { model, request, explanation: engine.explainRequest(request) };
  } finally {
    engine.stop();
  }
}

async function explainFromDatabase(options: ExplainOptions): Promise<{ model: ModelDefinition; request: ModelRequest; explanation: Explanation }> {
  const model = await loadModelFile(options.modelPath);
  const request = requestOfValues(model, options.values);
  // Loaded here, not at the top: `check`, `test` and `explain --rules` need no database client.
  const [{ createPolicyStore }, { createPgPool }] = await Promise.all([
    import('../../engine/adapters/policy-store-factory.js'),
    import('../../platform/postgres-pool.js'),
  ]);
  const pool = createPgPool({ url: options.databaseUrl, maxConnections: 1, applicationName: 'access-manager-policy-cli' });
  try {
    const engine = await PolicyEngine.start({ model, store: createPolicyStore({ pool, model }), resyncIntervalMs: 0 });
    try {
      return { model, request, explanation: engine.explainRequest(request) };
    } finally {
      engine.stop();
    }
  } finally {
    await pool.end();
  }
}

/** Prints the decision for one request; exit code 0 whenever it answered (allow or deny). */
export async function runExplainCommand(options: ExplainOptions, output: Output): Promise<number> {
  const { model, request, explanation } =
    options.rulesPath === undefined ? await explainFromDatabase(options) : await explainFromFile(options, options.rulesPath);
  for (const line of formatExplanation(model, request, explanation)) output.out(line);
  return 0;
}
