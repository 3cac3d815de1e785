import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AssertionFileError } from './assertion-file-error.js';

const suffix = '.test.yaml';

async function walk(dir: string, found: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await walk(path, found);
    else if (entry.isFile() && entry.name.endsWith(suffix)) found.push(path);
  }
}

/**
 * The assertion files named by `paths`: a file is taken as is, a folder is searched for `*.test.yaml` at any
 * depth (hidden folders and node_modules skipped). Sorted, without duplicates.
 */
export async function findAssertionFiles(paths: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch {
      throw new AssertionFileError(`no such file or folder: ${path}`);
    }
    if (info.isDirectory()) await walk(path, found);
    else found.push(path);
  }
  return [...new Set(found)].sort();
}
