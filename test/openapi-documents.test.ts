// Both OpenAPI documents as API tooling reads them: valid OpenAPI 3.1 for a standard validator, and typed clients
// generated from them by a standard generator (openapi-typescript) that compile under strict TypeScript.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oauthErrorPaths } from '../auth-service/app.js';
import { createAuthHarness, type AuthHarness } from './support/auth-harness.js';
import { createIdentityHarness, type IdentityHarness } from './support/identity-harness.js';

interface Operation {
  operationId?: string;
  parameters?: { $ref?: string; in?: string; name?: string }[];
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { headers?: Record<string, { $ref?: string }>; content?: Record<string, unknown> }>;
  security?: unknown[];
}
interface Document {
  openapi: string;
  info: { version: string };
  servers?: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { parameters: Record<string, { in: string; name: string }> };
}

const packageVersion = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
const methods = ['get', 'post', 'put', 'patch', 'delete'];

function operationsOf(doc: Document): [string, Operation][] {
  return Object.entries(doc.paths).flatMap(([p, item]) => Object.entries(item).filter(([m]) => methods.includes(m)).map(([m, op]): [string, Operation] => [`${m} ${p}`, op]));
}

function headerParameterNames(doc: Document, op: Operation): string[] {
  return (op.parameters ?? []).map((p) => (p.$ref ? doc.components.parameters[p.$ref.split('/').at(-1)!] : p)).flatMap((p) => (p?.in === 'header' && p.name !== undefined ? [p.name] : []));
}

/** Type-checks files under strict settings; the diagnostics as text (empty when they compile). */
function typeCheck(files: string[]): string[] {
  const program = ts.createProgram(files, { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, skipLibCheck: true, types: [] });
  return ts.getPreEmitDiagnostics(program).map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

let auth: AuthHarness;
let identity: IdentityHarness;
const docs: Record<'auth' | 'identity', Document> = {} as Record<'auth' | 'identity', Document>;

beforeAll(async () => {
  auth = await createAuthHarness('openapi-documents-auth');
  identity = await createIdentityHarness('openapi-documents-identity');
  docs.auth = (await auth.http().get('/openapi.json').expect(200)).body as Document;
  docs.identity = (await identity.http().get('/openapi.json').expect(200)).body as Document;
});
afterAll(async () => {
  await auth?.close();
  await identity?.close();
});

describe.each(['auth', 'identity'] as const)('the %s OpenAPI document', (service) => {
  it('is valid OpenAPI 3.1 for @apidevtools/swagger-parser (schemas, references, parameters)', async () => {
    const doc = docs[service];
    expect(doc.openapi).toBe('3.1.0');
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
  });

  it('names every operation with a unique operationId, lists servers and takes its version from package.json', () => {
    const doc = docs[service];
    const ids = operationsOf(doc).map(([, op]) => op.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z0-9]*$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(doc.servers?.length).toBeGreaterThan(0);
    expect(doc.info.version).toBe(packageVersion);
  });

  it('answers GET /version without a token: the service, package.json\'s version and the checkout\'s commit', async () => {
    const http = service === 'auth' ? auth.http() : identity.http();
    const answer = await http.get('/version').expect(200);
    expect(answer.body).toEqual({ service, version: packageVersion, commit: execFileSync('git', ['rev-parse', 'HEAD']).toString().trim() });
  });

  it('documents the probes: /health, /ready, /readyz and /version', () => {
    for (const probe of ['/health', '/ready', '/readyz', '/version']) expect(docs[service].paths[probe]?.get?.operationId, probe).toBeDefined();
  });

  it('gives every operation a problem response per refusal status, Retry-After on 429/503 and X-Request-Id everywhere', () => {
    for (const [name, op] of operationsOf(docs[service])) {
      if (['get /health', 'get /ready', 'get /readyz', 'get /version'].includes(name)) continue;
      expect(Object.keys(op.responses), name).toEqual(expect.arrayContaining(['400', '500', '503']));
      if (op.security) expect(Object.keys(op.responses), name).toContain('401');
      for (const [status, response] of Object.entries(op.responses)) {
        if (status === 'default') continue;
        expect(response.headers?.['X-Request-Id'], `${name} ${status}`).toBeDefined();
        if (status === '429' || status === '503') expect(response.headers?.['Retry-After'], `${name} ${status}`).toBeDefined();
        if (Number(status) >= 400 && !oauthErrorPaths.includes(name.split(' ')[1]!)) expect(Object.keys(response.content ?? {}), `${name} ${status}`).toEqual(['application/problem+json']);
      }
      expect(headerParameterNames(docs[service], op), name).toContain('X-Request-Id');
    }
  });
});

describe('what each service documents of its own', () => {
  it('Auth: /oauth/token takes a form-encoded body (RFC 6749 4.3.2) and answers RFC 6749 errors; token routes answer no-store and their rate limit', () => {
    const token = docs.auth.paths['/oauth/token']!.post!;
    expect(Object.keys(token.requestBody!.content)[0]).toBe('application/x-www-form-urlencoded');
    expect(Object.keys(token.responses['400']!.content!)).toEqual(['application/json']);
    expect(Object.keys(token.responses['200']!.headers!)).toEqual(expect.arrayContaining(['Cache-Control', 'RateLimit', 'RateLimit-Policy']));
    expect(token.responses['429']).toBeDefined();
    expect(docs.auth.paths['/v1/authorize']!.post!.security).toEqual([{ bearer: [] }, { rawToken: [] }]);
  });

  it('Identity: updates take If-Match and may answer 412; records answer ETag; writes answer X-Policy-Revision', () => {
    const update = docs.identity.paths['/v1/users/{id}']!.patch!;
    expect(headerParameterNames(docs.identity, update)).toContain('If-Match');
    expect(update.responses['412']).toBeDefined();
    expect(Object.keys(update.responses['200']!.headers!)).toEqual(expect.arrayContaining(['ETag', 'X-Policy-Revision']));
    expect(Object.keys(docs.identity.paths['/v1/users/{id}']!.get!.responses['200']!.headers!)).toContain('ETag');
    expect(headerParameterNames(docs.identity, docs.identity.paths['/v1/users']!.get!)).not.toContain('If-Match');
  });
});

describe('typed clients generated by openapi-typescript', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'am-openapi-clients-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('generate from both documents and type-check, with calls a product would make', async () => {
    for (const service of ['auth', 'identity'] as const) {
      await writeFile(path.join(dir, `${service}.d.ts`), astToString(await openapiTS(structuredClone(docs[service]) as never)));
    }
    // A typed fetch over the generated `paths`, as openapi-fetch builds one: a wrong path, body or answer field fails to compile.
    await writeFile(
      path.join(dir, 'product.ts'),
      `import type { paths as Auth, operations as AuthOperations } from './auth.js';
import type { paths as Identity, operations as IdentityOperations } from './identity.js';

type Json<R> = R extends { content: { 'application/json': infer T } } ? T : never;
declare function call<P extends keyof Auth>(path: P, body: Auth[P] extends { post: { requestBody?: { content: { 'application/json': infer B } } } } ? B : never): Promise<Json<NonNullable<Auth[P] extends { post: { responses: { 200: infer R } } } ? R : never>>>;

export async function decide(): Promise<boolean> {
  const answer = await call('/v1/authorize', { sub: 'acme/user-1', resource: 'accounts', action: 'get' });
  return answer.authorized;
}
export type UserRecord = Json<IdentityOperations['getUsersById']['responses'][200]>;
export const user = (u: UserRecord): string => u.username;
export type TokenForm = NonNullable<AuthOperations['postOauthToken']['requestBody']>['content']['application/x-www-form-urlencoded'];
export type Version = Json<Identity['/version']['get']['responses'][200]>;
export const versionOf = (v: Version): string => v.version;
`,
    );
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    expect(typeCheck([path.join(dir, 'product.ts')])).toEqual([]);
    // The check itself bites: a field the document does not have is an error.
    await writeFile(path.join(dir, 'wrong.ts'), `import type { operations } from './identity.js';\nexport const x = (u: NonNullable<operations['getUsersById']['responses'][200]['content']>['application/json']): string => u.notAField;\n`);
    expect(typeCheck([path.join(dir, 'wrong.ts')]).join('\n')).toMatch(/notAField/);
  });
});
