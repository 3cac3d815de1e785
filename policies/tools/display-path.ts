import { isAbsolute, relative } from 'node:path';

/** `path` relative to the working folder when it lies inside it, else as given. */
export function displayPath(path: string): string {
  const inside = relative(process.cwd(), path);
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : path;
}
