// No import loops between folders: a folder that imports another is never imported back by it, through any
// chain. The graph is read from the product's TypeScript sources with the compiler's own import scanner
// (ts.preProcessFile). Its nodes are the folders under auth-service/, identity-service/, platform/, directory/ and
// engine/; a file directly in one of those five is a node of its own (the layer's entry points and shared leaf
// files sit there, beside the subfolders they use), so a loop through one is still found, file by file.
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const checkedFolders = ['auth-service', 'identity-service', 'platform', 'directory', 'engine'];
const skipped = new Set(['node_modules', 'console', 'dist']);

async function sourcesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(join(root, folder), { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const path = `${folder}/${entry.name}`;
    if (entry.isDirectory()) {
      if (!skipped.has(entry.name)) files.push(...(await sourcesUnder(path)));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')) {
      files.push(path);
    }
  }
  return files;
}

/** The repository-relative `.ts` files `file` imports (relative specifiers only; packages are not folders of ours). */
function importsOf(file: string, text: string): string[] {
  const { importedFiles } = ts.preProcessFile(text, true, false);
  return importedFiles
    .map(({ fileName }) => fileName)
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => normalize(join(dirname(file), specifier.replace(/\.js$/, '.ts'))).split(sep).join('/'));
}

/** The node a file belongs to: its folder, or the file itself when it sits directly in a layer's top folder. */
function nodeOf(file: string, topFolders: ReadonlySet<string>): string {
  const folder = dirname(file);
  return topFolders.has(folder) ? file : folder;
}

/** A node imports another when one of its files imports one of the other's (directly). */
function folderGraph(imports: ReadonlyMap<string, readonly string[]>, topFolders: ReadonlySet<string> = new Set()): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const [file, targets] of imports) {
    const from = nodeOf(file, topFolders);
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const target of targets) {
      const to = nodeOf(target, topFolders);
      if (to !== from && dirname(target) !== '.') edges.add(to);
    }
  }
  return graph;
}

/** Every strongly connected group of more than one node (Tarjan): each is a loop. */
function folderLoops(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const loops: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node)!, index.get(target)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        group.push(member);
      } while (member !== node);
      if (group.length > 1) loops.push(group.sort());
    }
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return loops;
}

describe('no import loops between folders', () => {
  it('finds a loop of two folders and of three, and none in a one-way chain', () => {
    const graphOf = (edges: Record<string, string[]>) => folderGraph(new Map(Object.entries(edges)));
    expect(folderLoops(graphOf({ 'a/x.ts': ['b/y.ts'], 'b/y.ts': ['a/z.ts'] }))).toEqual([['a', 'b']]);
    expect(folderLoops(graphOf({ 'a/x.ts': ['b/y.ts'], 'b/y.ts': ['c/z.ts'], 'c/z.ts': ['a/w.ts'] }))).toEqual([['a', 'b', 'c']]);
    expect(folderLoops(graphOf({ 'a/x.ts': ['b/y.ts', 'a/z.ts'], 'b/y.ts': ['c/z.ts'], 'c/z.ts': [] }))).toEqual([]);
    // A file at a layer's top is its own node: the top's files may use its subfolders, but none may be used back.
    const top = new Set(['a']);
    expect(folderLoops(folderGraph(new Map([['a/app.ts', ['a/r/route.ts']], ['a/r/route.ts', ['a/errors.ts']], ['a/errors.ts', []]]), top))).toEqual([]);
    expect(folderLoops(folderGraph(new Map([['a/app.ts', ['a/r/route.ts']], ['a/r/route.ts', ['a/app.ts']]]), top))).toEqual([['a/app.ts', 'a/r']]);
    expect(importsOf('a/b/x.ts', "import { y } from '../c/y.js';\nexport { z } from './z.js';\nimport pg from 'pg';")).toEqual(['a/c/y.ts', 'a/b/z.ts']);
  });

  it(`the folders of ${checkedFolders.join(', ')} import each other one way only`, async () => {
    const imports = new Map<string, string[]>();
    for (const folder of checkedFolders) {
      for (const file of await sourcesUnder(folder)) imports.set(file, importsOf(file, await readFile(join(root, file), 'utf8')));
    }
    expect(imports.size).toBeGreaterThan(100);
    const top = new Set(checkedFolders);
    const loops = folderLoops(folderGraph(imports, top)).map((group) => {
      // Name the imports inside the loop, so the message says where to cut.
      const members = new Set(group);
      const arrows = [...imports].flatMap(([file, targets]) =>
        targets.filter((target) => members.has(nodeOf(file, top)) && members.has(nodeOf(target, top)) && nodeOf(file, top) !== nodeOf(target, top)).map((target) => `${file} -> ${target}`),
      );
      return { nodes: group, arrows };
    });
    expect(loops).toEqual([]);
  });
});
