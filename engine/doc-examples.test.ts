// The `@example` of every doc comment in engine/ is code a reader copies: each one is type-checked here against
// the real API, so an example that calls a method the engine no longer has fails the build.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const engineDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(engineDir);

interface Example {
  readonly file: string;
  readonly line: number;
  readonly code: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

/** Each `@example` block: the comment's lines after the tag, up to the next tag or the comment's end. */
function examplesOf(file: string): Example[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const examples: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*\* @example\s*$/.test(lines[i] as string)) continue;
    const code: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const text = lines[j] as string;
      if (/^\s*\*\//.test(text) || /^\s*\* @/.test(text)) break;
      code.push(text.replace(/^\s*\* ?/, ''));
    }
    examples.push({ file, line: i + 1, code: code.join('\n') });
    i = j;
  }
  return examples;
}

/** The names a module exports at run time (its values: what an example can call). */
async function valueExports(file: string): Promise<string[]> {
  return Object.keys((await import(pathToFileURL(file).href)) as Record<string, unknown>);
}

/**
 * The names an example may use without defining them: the engine's public surface and its adapters, its own
 * file's exports, and the usual objects of the surrounding code (an engine, a store, a pool, a transaction...).
 */
async function exampleSource(example: Example, index: number): Promise<{ fileName: string; text: string }> {
  const dir = path.dirname(example.file);
  const relative = (target: string) => {
    const spec = path.relative(dir, target).replace(/\.ts$/, '.js');
    return spec.startsWith('.') ? spec : `./${spec}`;
  };
  const engineIndex = path.join(engineDir, 'index.ts');
  const adaptersIndex = path.join(engineDir, 'adapters', 'index.ts');
  const taken = new Set<string>();
  const destructure = async (file: string, alias: string): Promise<string> => {
    const names = (await valueExports(file)).filter((name) => !taken.has(name));
    for (const name of names) taken.add(name);
    return names.length === 0 ? '' : `  const { ${names.join(', ')} } = ${alias};\n`;
  };
  const locals = (await destructure(example.file, '__host')) + (await destructure(adaptersIndex, '__adapters')) + (await destructure(engineIndex, '__engine'));
  const text = `import type pg from 'pg';
import type * as iovalkey from 'iovalkey';
import * as __host from '${relative(example.file)}';
import * as __engine from '${relative(engineIndex)}';
import * as __adapters from '${relative(adaptersIndex)}';
export async function example(
  engine: __engine.PolicyEngine,
  model: __engine.ModelDefinition,
  modelText: string,
  store: __engine.PolicyStore,
  localCache: __engine.LocalDecisionCache,
  request: __engine.AuthorizationRequest,
  tx: __engine.PolicyTransaction,
  pool: pg.Pool,
  client: pg.PoolClient,
  valkey: iovalkey.Redis,
  valkeySubscriber: iovalkey.Redis,
  view: import('${relative(path.join(engineDir, 'holdings.ts'))}').HoldingsView,
  index: import('${relative(path.join(engineDir, 'tenant-index.ts'))}').TenantIndex,
): Promise<void> {
  {
${locals}    {
${example.code}
    }
  }
}
`;
  return { fileName: path.join(dir, `__doc_example_${index}.ts`), text };
}

function compilerOptions(): ts.CompilerOptions {
  const configPath = path.join(root, 'tsconfig.json');
  const { config } = ts.readConfigFile(configPath, (file) => ts.sys.readFile(file));
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, root);
  // An example shows one call: the objects it is handed need not all be used.
  return { ...parsed.options, noUnusedLocals: false, noUnusedParameters: false, noEmit: true };
}

describe('doc examples of the engine', () => {
  it('every @example in engine/ type-checks against the engine as it is', { timeout: 120_000 }, async () => {
    const examples = sourceFiles(engineDir).flatMap(examplesOf);
    // Enough of them that a broken extraction cannot pass by finding none.
    expect(examples.length).toBeGreaterThan(25);
    const virtual = new Map<string, { example: Example; text: string }>();
    for (const [i, example] of examples.entries()) {
      const { fileName, text } = await exampleSource(example, i);
      virtual.set(fileName, { example, text });
    }
    const options = compilerOptions();
    const host = ts.createCompilerHost(options);
    const { getSourceFile, fileExists, readFile } = host;
    host.fileExists = (file) => virtual.has(path.resolve(file)) || fileExists.call(host, file);
    host.readFile = (file) => virtual.get(path.resolve(file))?.text ?? readFile.call(host, file);
    host.getSourceFile = (file, languageVersion, onError, shouldCreate) => {
      const own = virtual.get(path.resolve(file));
      return own ? ts.createSourceFile(file, own.text, languageVersion, true) : getSourceFile.call(host, file, languageVersion, onError, shouldCreate);
    };
    const program = ts.createProgram([...virtual.keys()], options, host);
    const problems: string[] = [];
    for (const [fileName, { example }] of virtual) {
      const sourceFile = program.getSourceFile(fileName) as ts.SourceFile;
      for (const diagnostic of [...program.getSyntacticDiagnostics(sourceFile), ...program.getSemanticDiagnostics(sourceFile)]) {
        const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
        problems.push(`${path.relative(root, example.file)}:${example.line}: ${message}\n${example.code}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
