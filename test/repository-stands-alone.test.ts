// The repository stands alone: what a user or maintainer needs is in its own README and docs/, and nothing in it
// points to notes a cloner never sees (team notes, a checklist, issue numbers). The README's folder table and its
// table of contents follow the tree and the headings.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const skipped = new Set(['node_modules', 'dist', '.data', '.git', 'test-output', '.scratch', 'results']);
const textFile = /\.(ts|tsx|js|mjs|cjs|sql|ya?ml|conf|md|json|sh|tpl|txt)$|^(Dockerfile|run)$/;

async function repositoryFiles(folder = root): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      if (!skipped.has(entry.name) && !entry.name.startsWith('dist.build-')) files.push(...(await repositoryFiles(path)));
    } else if (textFile.test(entry.name) && entry.name !== 'package-lock.json') {
      files.push(relative(root, path).split(sep).join('/'));
    }
  }
  return files;
}

// Spelled in pieces so that this file does not match itself.
const outsideReferences: readonly [string, RegExp][] = [
  ['the team notes folder', new RegExp(['\\.\\.', 'shared', ''].join('/'))],
  ['the security checklist', new RegExp(['SECURITY', 'CHECKLIST'].join('-'))],
  ['the contract notes file', new RegExp(['LERIAN', 'CONTRACT'].join('-'))],
  ['the team notes by name', new RegExp(`\\b(${['ARCHITECTURE', 'STYLE'].join('|')})\\.md\\b`)],
  ['an issue number', new RegExp(`\\b[Ii]ssue #\\d`)],
  ['a checklist code', new RegExp(`\\b[Cc]hecklist [A-K]\\d`)],
];

const readme = await readFile(join(root, 'README.md'), 'utf8');

/** The README's lines outside fenced code blocks. */
function proseLines(markdown: string): string[] {
  let fenced = false;
  return markdown.split('\n').filter((line) => {
    if (line.startsWith('```')) fenced = !fenced;
    return !fenced;
  });
}

describe('the repository stands alone', () => {
  it('no file points outside the repository: no team notes, checklist codes or issue numbers', async () => {
    const found: string[] = [];
    for (const file of await repositoryFiles()) {
      const text = await readFile(join(root, file), 'utf8');
      for (const [what, pattern] of outsideReferences) {
        const line = text.split('\n').findIndex((l) => pattern.test(l));
        if (line >= 0) found.push(`${file}:${line + 1}: ${what}`);
      }
    }
    expect(found).toEqual([]);
  });

  it("the README's folder table lists exactly the repository's top-level folders", async () => {
    const folders = (await readdir(root, { withFileTypes: true }))
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.') && !skipped.has(entry.name))
      .map((entry) => `${entry.name}/`)
      .sort();
    const rows = [...readme.matchAll(/^\| `([a-z-]+\/)` \|/gm)].map((match) => match[1]!);
    expect([...new Set(rows)].sort()).toEqual(folders);
  });

  it("the README's table of contents lists every section, in order", () => {
    const headings = proseLines(readme)
      .filter((line) => line.startsWith('## ') && line !== '## Contents')
      .map((line) => line.slice(3).trim());
    const contents = readme.slice(readme.indexOf('## Contents'), readme.indexOf('\n## ', readme.indexOf('## Contents') + 1));
    const listed = [...contents.matchAll(/^- \[([^\]]+)\]\(#[^)]+\)$/gm)].map((match) => match[1]!);
    expect(listed).toEqual(headings);
  });

  it('docs/ holds the architecture, the model and the security rules, each linked from the README', async () => {
    for (const doc of ['architecture.md', 'model.md', 'security.md', 'engine.md', 'deployment.md']) {
      expect((await readFile(join(root, 'docs', doc), 'utf8')).length).toBeGreaterThan(500);
      expect(readme).toContain(`docs/${doc}`);
    }
  });
});
