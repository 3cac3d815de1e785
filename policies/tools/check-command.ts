// `policy check <model>`: validates and compiles a model file.
import { loadModelFile } from '../../engine/index.js';
import { displayPath } from './display-path.js';
import type { Output } from './output.js';

/** Loads `path` as a model and says how it is decided; an invalid one throws `INVALID_MODEL` naming the line. */
export async function runCheckCommand(path: string, output: Output): Promise<number> {
  const model = await loadModelFile(path);
  output.out(`ok: ${displayPath(path)} (${model.fastPath ? 'fast path' : 'compiled'})`);
  output.out(`  request: ${model.requestFields.join(', ')}${model.objectFields.size > 0 ? ` (attribute objects: ${[...model.objectFields].join(', ')})` : ''}`);
  for (const [ptype, fields] of model.policyShapes) output.out(`  ${ptype}: ${fields.join(', ')}`);
  for (const [ptype, count] of model.roleShapes) output.out(`  ${ptype}: ${count} fields (member, role${count > 2 ? ', domain' : ''})`);
  output.out(`  effect: ${model.effect}`);
  output.out(`  decisions: ${model.plan}`);
  return 0;
}
