// The model an assertion file runs against, compiled with what the file says casbin's API sets in code.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { loadModelFile, type MatcherFunction, type ModelDefinition } from '../../engine/index.js';
import type { AssertionFile } from './assertion-file.js';
import { AssertionFileError } from './assertion-file-error.js';
import type { ReferenceOptions } from './reference-casbin.js';

/** The functions a module exports, by name (casbin's `addFunction` for each). */
async function loadFunctions(path: string): Promise<Record<string, MatcherFunction>> {
  // A built copy (npm run build) holds the module compiled to .js beside the file.
  const module = !existsSync(path) && path.endsWith('.ts') && existsSync(`${path.slice(0, -3)}.js`) ? `${path.slice(0, -3)}.js` : path;
  let exported: Record<string, unknown>;
  try {
    exported = (await import(pathToFileURL(module).href)) as Record<string, unknown>;
  } catch (error) {
    throw new AssertionFileError(`cannot load the functions module ${path}: ${(error as Error).message}`);
  }
  const functions: Record<string, MatcherFunction> = {};
  for (const [name, value] of Object.entries(exported)) if (typeof value === 'function') functions[name] = value as MatcherFunction;
  if (Object.keys(functions).length === 0) throw new AssertionFileError(`the functions module ${path} exports no function`);
  return functions;
}

/**
 * The file's model (or `modelPath` when given) with its matching functions and matcher functions, and the same
 * options for the plain-casbin reference.
 */
export async function loadFileModel(
  file: Pick<AssertionFile, 'modelPath' | 'roleMatching' | 'domainMatching' | 'functionsPath'>,
  modelPath: string | undefined = file.modelPath,
): Promise<{ model: ModelDefinition; options: ReferenceOptions }> {
  const options: ReferenceOptions = {
    roleMatching: file.roleMatching,
    domainMatching: file.domainMatching,
    ...(file.functionsPath === undefined ? {} : { functions: await loadFunctions(file.functionsPath) }),
  };
  return { model: await loadModelFile(modelPath, options), options };
}
