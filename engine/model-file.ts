import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { CompileOptions } from './compiler/compiled-model.js';
import { EngineError } from './errors.js';
import { parseModel, type ModelDefinition } from './model-definition.js';

/** Path of the model shipped with the product (`policies/model.conf`). */
export const shippedModelPath = fileURLToPath(new URL('../policies/model.conf', import.meta.url));

/** Reads, validates and compiles a model file; errors name the file and the line. */
export async function loadModelFile(path: string = shippedModelPath, options: CompileOptions = {}): Promise<ModelDefinition> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new EngineError('INVALID_MODEL', `cannot read model file ${path}: ${(error as Error).message}`, { field: 'model' });
  }
  try {
    return parseModel(text, options);
  } catch (error) {
    if (error instanceof EngineError) throw new EngineError('INVALID_MODEL', `${path}: ${error.detail}`, { field: error.field ?? 'model' });
    throw error;
  }
}
