// The client as products get it: `npm pack ./client` builds it and packs a tarball; the tarball installs into an
// empty project (offline: the client's declared dependencies are linked from this checkout's node_modules, so a
// dependency it forgets to declare is missing there) and calls a real Auth by `import` and by `require`, and a
// TypeScript product type-checks against its declarations in both module systems.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { builtinModules } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthHarness, type AuthHarness } from '../test/support/auth-harness.js';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let h: AuthHarness;
let server: http.Server;
let authUrl: string;
let token: string;
let product: string;
let packed: { filename: string; files: { path: string }[] };
let installed: string;

// One program, wrapped below as an ES module and as a CommonJS script.
const program = `
const [url, token] = process.argv.slice(2);
const auth = createAuthClient({ url, retryBaseDelayMs: 5 });
const allowed = await auth.authorize(token, 'accounts', 'get');
const denied = await auth.authorize(token, 'accounts', 'delete');
const batch = await auth.batch(token, [{ resource: 'accounts', action: 'get' }, { resource: 'accounts', action: 'delete' }]);
const permissions = await auth.permissions(token);
const refused = await auth.authorize('not-a-token', 'accounts', 'get').then(() => 'allowed', (error) => (isAuthClientError(error) ? error.kind : String(error)));
// The middleware on a plain http server: no framework.
const guarded = http.createServer((req, res) => auth.requirePermission('accounts', 'get')(req, res, () => res.end('passed')));
await new Promise((resolve) => guarded.listen(0, '127.0.0.1', resolve));
const at = 'http://127.0.0.1:' + guarded.address().port + '/';
const through = await fetch(at, { headers: { authorization: 'Bearer ' + token } }).then(async (r) => r.status + ' ' + (await r.text()));
const anonymous = await fetch(at).then(async (r) => r.status + ' ' + r.headers.get('content-type') + ' ' + (await r.json()).code);
guarded.close();
auth.close();
console.log(JSON.stringify({ resolved, allowed: allowed.allowed, denied: denied.allowed, batch: batch.map((d) => d.allowed), permissions, refused, through, anonymous }));
`;
const esm = `import http from 'node:http';\nimport { createAuthClient, isAuthClientError } from '@access-manager/client';\nconst resolved = import.meta.resolve('@access-manager/client');\n${program}`;
const cjs = `const http = require('node:http');\nconst { createAuthClient, isAuthClientError } = require('@access-manager/client');\nconst resolved = require.resolve('@access-manager/client');\n(async () => {${program}})().catch((error) => { console.error(error); process.exit(1); });\n`;

// A TypeScript product; as typed.mts it is an ES module (import), as typed.cts it compiles to require().
const typed = `import type { IncomingMessage, ServerResponse } from 'node:http';
import { authOf, createAuthClient, type AuthClient, type Decision } from '@access-manager/client';
const auth: AuthClient = createAuthClient({ url: 'http://127.0.0.1:4000', product: 'ledger' });
const guard: (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void = auth.requirePermission('accounts', 'get');
export async function allowed(token: string, req: IncomingMessage): Promise<boolean> {
  const decision: Decision = await auth.authorize(token, 'accounts', 'get', { minRevision: 1 });
  const tenantId: string | undefined = authOf(req)?.tenantId;
  return decision.allowed && tenantId !== undefined && guard.length === 3;
}
`;

beforeAll(async () => {
  h = await createAuthHarness('packed-client');
  server = http.createServer(h.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  authUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const org = await h.createOrganization();
  const user = await h.createUser(org.id);
  token = (await h.deps.issuer.accessToken({ kind: 'user', id: user.id, name: user.username, displayName: user.username, tenantId: org.id, tenantSlug: org.slug }, undefined, undefined)).token;
  await h.grant(org.id, `user:${user.id}`, [['accounts', 'get']]);

  product = await mkdtemp(path.join(tmpdir(), 'am-packed-client-'));
  const { stdout } = await run('npm', ['pack', './client', '--pack-destination', product, '--json'], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  packed = (JSON.parse(stdout) as (typeof packed)[])[0]!;
  const manifest = JSON.parse(await readFile(path.join(root, 'client', 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const links = Object.fromEntries(Object.keys(manifest.dependencies ?? {}).map((name) => [name, `file:${path.join(root, 'node_modules', name)}`]));
  await writeFile(
    path.join(product, 'package.json'),
    JSON.stringify({
      name: 'product',
      private: true,
      dependencies: { '@access-manager/client': `file:./${packed.filename}`, ...links },
      devDependencies: { '@types/node': `file:${path.join(root, 'node_modules', '@types', 'node')}` },
    }),
  );
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: product });
  installed = path.join(product, 'node_modules', '@access-manager', 'client');
}, 240_000);

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await h?.close();
  if (product) await rm(product, { recursive: true, force: true });
});

describe('@access-manager/client, packed and installed into an empty project', () => {
  it('the tarball holds the build (ES module and CommonJS, each with declarations) and the README, no sources or tests', () => {
    const files = packed.files.map((file) => file.path);
    expect(files).toEqual(expect.arrayContaining(['README.md', 'package.json', 'dist/esm/index.js', 'dist/esm/index.d.ts', 'dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/cjs/package.json']));
    expect(files.filter((file) => (file.endsWith('.ts') && !file.endsWith('.d.ts')) || file.includes('.test.'))).toEqual([]);
  });

  it('declares exactly the packages its build imports (besides Node built-ins)', async () => {
    const imported = new Set<string>();
    for (const format of ['esm', 'cjs']) {
      for (const file of (await readdir(path.join(installed, 'dist', format))).filter((name) => name.endsWith('.js'))) {
        const text = await readFile(path.join(installed, 'dist', format, file), 'utf8');
        // Import statements at the start of a line and require() calls: a comment naming a package is no import.
        for (const [, statement = '', required = ''] of text.matchAll(/^(?:import|export)\b[^'"]*\bfrom\s*["']([^"'.][^"']*)["']|\brequire\(["']([^"'.][^"']*)["']\)/gm)) {
          const specifier = statement || required;
          const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
          if (!name.startsWith('node:') && !builtinModules.includes(name)) imported.add(name);
        }
      }
    }
    const manifest = JSON.parse(await readFile(path.join(installed, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    expect(Object.keys(manifest.dependencies ?? {}).sort()).toEqual([...imported].sort());
  });

  it('by import and by require: authorize, batch, permissions, a refused token and the middleware against a running Auth', async () => {
    await writeFile(path.join(product, 'esm.mjs'), esm);
    await writeFile(path.join(product, 'cjs.cjs'), cjs);
    const results: Record<string, unknown>[] = [];
    for (const script of ['esm.mjs', 'cjs.cjs']) {
      const { stdout } = await run(process.execPath, [script, authUrl, token], { cwd: product });
      results.push(JSON.parse(stdout) as Record<string, unknown>);
    }
    expect(String(results[0]!.resolved)).toMatch(/node_modules\/@access-manager\/client\/dist\/esm\/index\.js$/);
    expect(String(results[1]!.resolved)).toMatch(/node_modules\/@access-manager\/client\/dist\/cjs\/index\.js$/);
    for (const result of results) {
      expect(result).toMatchObject({
        allowed: true,
        denied: false,
        batch: [true, false],
        refused: 'unauthenticated',
        through: '200 passed',
        anonymous: '401 application/problem+json; charset=utf-8 ACL-0001',
      });
      expect(result.permissions).toMatchObject({ accounts: ['get'] });
    }
  }, 60_000);

  it('type-checks a TypeScript product against its declarations, by import (.mts) and by require (.cts)', async () => {
    await writeFile(path.join(product, 'typed.mts'), typed);
    await writeFile(path.join(product, 'typed.cts'), typed);
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const problems = await run(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--target', 'es2022', '--types', 'node', 'typed.mts', 'typed.cts'], { cwd: product }).then(
      () => '',
      (error: { stdout: string }) => error.stdout,
    );
    expect(problems).toBe('');
  }, 120_000);
});
