// One name per idea: the tenant a request, session or record belongs to is `tenantId` (its slug `tenantSlug`) in
// every identifier, parameter, property and local. Strings and comments may still name the stored columns (`org_id`)
// or a stored JSON field of an earlier release; code may not.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const skipped = new Set(['node_modules', 'dist', '.data', '.git', 'test-output', '.scratch', 'results']);
// Built from a string so that this file's own code does not name it.
const otherTenantName = new RegExp('\\b(org(Id|ID|Slug)|\\w+Org(Id|ID|Slug))\\b');

async function typeScriptFiles(folder = root): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      if (!skipped.has(entry.name) && !entry.name.startsWith('dist.build-')) files.push(...(await typeScriptFiles(path)));
    } else if (/\.tsx?$/.test(entry.name)) {
      files.push(relative(root, path).split(sep).join('/'));
    }
  }
  return files;
}

/** The source with every comment and string literal blanked (template substitutions kept), line breaks kept. */
function codeOnly(source: string): string {
  let out = '';
  let i = 0;
  // Open template literals, each with the brace depth of the substitution it is inside of (-1: in its text).
  const templates: number[] = [];
  const blank = (text: string) => text.replace(/[^\n]/g, ' ');
  while (i < source.length) {
    const c = source[i]!;
    const inTemplateText = templates.length > 0 && templates[templates.length - 1] === -1;
    if (inTemplateText) {
      if (c === '\\') {
        out += blank(source.slice(i, i + 2));
        i += 2;
      } else if (c === '`') {
        templates.pop();
        out += ' ';
        i += 1;
      } else if (source.startsWith('${', i)) {
        templates[templates.length - 1] = 0;
        out += '  ';
        i += 2;
      } else {
        out += blank(c);
        i += 1;
      }
      continue;
    }
    if (source.startsWith('//', i)) {
      const end = source.indexOf('\n', i);
      const stop = end < 0 ? source.length : end;
      out += blank(source.slice(i, stop));
      i = stop;
    } else if (source.startsWith('/*', i)) {
      const end = source.indexOf('*/', i + 2);
      const stop = end < 0 ? source.length : end + 2;
      out += blank(source.slice(i, stop));
      i = stop;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < source.length && source[j] !== c && source[j] !== '\n') j += source[j] === '\\' ? 2 : 1;
      out += blank(source.slice(i, j + 1));
      i = j + 1;
    } else if (c === '`') {
      templates.push(-1);
      out += ' ';
      i += 1;
    } else {
      if (templates.length > 0) {
        const depth = templates[templates.length - 1]!;
        if (c === '{') templates[templates.length - 1] = depth + 1;
        else if (c === '}') {
          if (depth === 0) {
            templates[templates.length - 1] = -1;
            out += ' ';
            i += 1;
            continue;
          }
          templates[templates.length - 1] = depth - 1;
        }
      }
      out += c;
      i += 1;
    }
  }
  return out;
}

describe('one name for the tenant', () => {
  it('recognises the other name in code, and not in a string or a comment', () => {
    const named = (source: string) => otherTenantName.test(codeOnly(source));
    expect(named(['const ', 'org', 'Id = user.id;'].join(''))).toBe(true);
    expect(named(['f({ session', 'Org', 'Id })'].join(''))).toBe(true);
    expect(named(['`${user.', 'org', 'Slug}/x`'].join(''))).toBe(true);
    expect(named(['const ', 'org', 'ID = 1;'].join(''))).toBe(true);
    expect(named(['const a = "', 'org', 'Id";'].join(''))).toBe(false);
    expect(named(["const { ['", 'org', "Id']: earlier } = row;"].join(''))).toBe(false);
    expect(named(['// the stored ', 'org', 'Id field'].join(''))).toBe(false);
    expect(named(['/* ', 'org', 'Slug */ const tenantSlug = 1;'].join(''))).toBe(false);
    expect(named(['`plain ', 'org', 'Id text`'].join(''))).toBe(false);
    expect(named(['const tenantId = 1; const builtinOrganizationId = 2;'].join(''))).toBe(false);
  });

  it('no TypeScript file names the tenant anything but tenantId and tenantSlug in code', async () => {
    const offenders: string[] = [];
    for (const file of await typeScriptFiles()) {
      codeOnly(await readFile(join(root, file), 'utf8'))
        .split('\n')
        .forEach((line, i) => {
          const found = otherTenantName.exec(line);
          if (found) offenders.push(`${file}:${i + 1}: ${found[0]}`);
        });
    }
    expect(offenders).toEqual([]);
  });
});
