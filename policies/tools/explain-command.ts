// `policy explain <sub> <dom> <obj> <act>`: the decision and the rules that made it.
import { EngineError, loadModelFile, PolicyEngine, type AuthorizationRequest, type Explanation } from '../../engine/index.js';
import { loadAssertionFile } from './assertion-file.js';
import { findInvalidRules } from './invalid-rules.js';
import { startMemoryEngine } from './memory-engine.js';
import type { Output } from './output.js';

export const defaultDatabaseUrl = 'postgres://postgres@127.0.0.1:5432/test';

export interface ExplainOptions {
  readonly request: AuthorizationRequest;
  /** A model file; default the `--rules` file's model, else the shipped one. */
  readonly modelPath: string | undefined;
  /** An assertion file whose rules replace the live policy. */
  readonly rulesPath: string | undefined;
  readonly databaseUrl: string;
}

/** The explanation as lines: the decision, then each matching rule with the role links that reach it. */
export function formatExplanation(request: AuthorizationRequest, explanation: Explanation): string[] {
  const { decision, matchedRules, paths } = explanation;
  const lines = [`${decision.allowed ? 'allow' : 'deny'} (${decision.reason}) at revision ${decision.revision} of tenant ${request.dom}`];
  if (matchedRules.length === 0) {
    lines.push('no rule matches');
    return lines;
  }
  lines.push('matched rules:');
  matchedRules.forEach((rule, i) => {
    lines.push(`  ${[rule.ptype, ...rule.values].join(', ')}`);
    const path = paths[i];
    if (path === undefined || path.length === 0) return;
    lines.push(path.length === 1 && path[0] === '*' ? `    via * (every subject of ${request.dom})` : `    via ${path.join(' → ')}`);
  });
  return lines;
}

async function explainFromFile(options: ExplainOptions, rulesPath: string): Promise<Explanation> {
  const file = await loadAssertionFile(rulesPath);
  const model = await loadModelFile(options.modelPath ?? file.modelPath);
  const invalid = findInvalidRules(model, file.rules);
  if (invalid.length > 0) {
    throw new EngineError('INVALID_RULE', invalid.map(({ line, detail }) => `${rulesPath}:${line}: ${detail}`).join('\n'));
  }
  const engine = await startMemoryEngine(model, file.rules.map((located) => located.rule));
  try {
    return engine.explain(options.request);
  } finally {
    engine.stop();
  }
}

async function explainFromDatabase(options: ExplainOptions): Promise<Explanation> {
  const model = await loadModelFile(options.modelPath);
  // Loaded here, not at the top: `check`, `test` and `explain --rules` need no database client.
  const [{ PgPolicyStore }, { createPgPool }] = await Promise.all([
    import('../../engine/adapters/pg-policy-store.js'),
    import('../../platform/postgres-pool.js'),
  ]);
  const pool = createPgPool({ url: options.databaseUrl, maxConnections: 1, applicationName: 'access-manager-policy-cli' });
  try {
    // Under the shipped model the store's default tenant rule is the model's, and it filters in SQL.
    const store = new PgPolicyStore(model.fastPath ? { pool } : { pool, tenantOf: model.tenantOf });
    const engine = await PolicyEngine.start({ model, store, resyncIntervalMs: 0 });
    try {
      return engine.explain(options.request);
    } finally {
      engine.stop();
    }
  } finally {
    await pool.end();
  }
}

/** Prints the decision for one request; exit code 0 whenever it answered (allow or deny). */
export async function runExplainCommand(options: ExplainOptions, output: Output): Promise<number> {
  const explanation = options.rulesPath === undefined
    ? await explainFromDatabase(options)
    : await explainFromFile(options, options.rulesPath);
  for (const line of formatExplanation(options.request, explanation)) output.out(line);
  return 0;
}
