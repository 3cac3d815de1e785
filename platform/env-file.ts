import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * Loads `.env` from the working directory when there is one (Node's own parser: `KEY=value` lines, `#`
 * comments, quotes). A variable already set in the environment wins over the file, so a deployment's
 * settings are never overridden by a stray file.
 */
export function loadEnvFile(directory = process.cwd()): string | undefined {
  const file = path.join(directory, '.env');
  if (!existsSync(file)) return undefined;
  process.loadEnvFile(file);
  return file;
}
