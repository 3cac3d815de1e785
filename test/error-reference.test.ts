// Each service's error catalogue is its error reference: every code a service's own code throws is in its
// catalogue (and so in the reference it serves), and every entry of the reference can be produced.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { authCatalogue } from '../auth-service/errors.js';
import { identityCatalogue } from '../identity-service/errors.js';
import { errorReference } from '../platform/http/error-reference.js';
import { platformCatalogue } from '../platform/http/platform-errors.js';
import { createServiceApp } from '../platform/http/service-app.js';
import { ServiceError, type ErrorCatalogue } from '../platform/http/service-error.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const skippedFolders = new Set(['node_modules', 'dist', '.data', '.git', 'test', 'test-output', 'migrations', 'bench', 'examples', 'client', 'console']);

async function productFiles(folder = root): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      if (!skippedFolders.has(entry.name) && !entry.name.startsWith('.')) files.push(...(await productFiles(path)));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')) {
      files.push(relative(root, path).split(sep).join('/'));
    }
  }
  return files;
}

const sources = new Map<string, string>();
for (const file of await productFiles()) sources.set(file, await readFile(join(root, file), 'utf8'));

const catalogueFiles = new Set(['auth-service/errors.ts', 'identity-service/errors.ts', 'platform/http/platform-errors.ts']);
const sharedCodes = new Set(Object.keys(platformCatalogue('AUT')));

/** The service a file belongs to (its folder), or `shared` for the layers both services build on. */
function ownerOf(file: string): 'auth' | 'identity' | 'shared' {
  if (file.startsWith('auth-service/')) return 'auth';
  if (file.startsWith('identity-service/')) return 'identity';
  return 'shared';
}

const catalogues: Record<'auth' | 'identity', ErrorCatalogue<string>> = { auth: authCatalogue, identity: identityCatalogue };

function thrownCodes(text: string): string[] {
  return [...text.matchAll(/new ServiceError\(\s*'([A-Z_]+)'/g)].map((match) => match[1]!);
}

describe('error catalogues and their reference', () => {
  it('a throw with a code no catalogue holds does not compile', () => {
    // @ts-expect-error NO_SUCH_CODE is in no catalogue
    const unknown = new ServiceError('NO_SUCH_CODE');
    expect(unknown.code).toBe('NO_SUCH_CODE');
  });

  it("every code a service's files throw is in that service's catalogue; the shared layers throw only shared codes", () => {
    const strays: string[] = [];
    let throws = 0;
    for (const [file, text] of sources) {
      const owner = ownerOf(file);
      for (const code of thrownCodes(text)) {
        throws++;
        const known = owner === 'shared' ? sharedCodes.has(code) : code in catalogues[owner];
        if (!known) strays.push(`${file}: ${code}`);
      }
    }
    expect(throws).toBeGreaterThan(100);
    expect(strays).toEqual([]);
  });

  for (const [service, catalogue] of Object.entries(catalogues) as ['auth' | 'identity', ErrorCatalogue<string>][]) {
    it(`every entry of ${service}'s reference is reachable: its code is raised by ${service}'s files or the shared layers`, () => {
      const unreachable = Object.keys(catalogue).filter((code) => {
        for (const [file, text] of sources) {
          if (catalogueFiles.has(file)) continue;
          const owner = ownerOf(file);
          if ((owner === service || owner === 'shared') && text.includes(`'${code}'`)) return false;
        }
        return true;
      });
      expect(unreachable).toEqual([]);
    });

    it(`${service}'s wire codes are unique, each with a meaning`, () => {
      const entries = Object.values(catalogue);
      expect(new Set(entries.map((entry) => entry.code)).size).toBe(entries.length);
      for (const entry of entries) expect(entry.meaning.length).toBeGreaterThan(10);
    });

    it(`${service} serves its reference at /docs/errors, and each problem type resolves to its entry`, async () => {
      const app = createServiceApp({
        info: { title: service, version: '1' },
        routes: [],
        catalogue,
        guards: { authenticate: async () => Promise.reject(new ServiceError('TOKEN_MISSING')), authorize: async () => undefined },
        report: () => undefined,
      });
      const http = supertest(app);
      const reference = errorReference(catalogue);
      expect((await http.get('/docs/errors.json').expect(200)).body.items).toEqual(reference);
      const page = await http.get('/docs/errors').expect(200);
      for (const entry of reference) expect(page.text).toContain(`id="${entry.code}"`);
      const problem = (await http.get('/nowhere').expect(404)).body;
      expect(problem.type).toBe(`/docs/errors/${problem.code}`);
      const entry = await http.get(problem.type).expect(200);
      expect(entry.text).toContain(problem.code);
      expect(entry.text).toContain(catalogue.NOT_FOUND!.meaning.replace(/'/g, '&#39;'));
      expect((await http.get('/openapi.json').expect(200)).body.externalDocs).toMatchObject({ url: '/docs/errors' });
    });
  }
});
