// `policy check <model>`: validates a model file.
import { loadModelFile } from '../../engine/index.js';
import { displayPath } from './display-path.js';
import type { Output } from './output.js';

/** Loads `path` as a model; an invalid one throws `INVALID_MODEL` naming the line. */
export async function runCheckCommand(path: string, output: Output): Promise<number> {
  const model = await loadModelFile(path);
  output.out(`ok: ${displayPath(path)} (${model.fastPath ? 'fast path' : 'compiled'})`);
  return 0;
}
