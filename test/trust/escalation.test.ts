// Trust boundaries: nobody grants more than they hold. The product as a new user runs it (`main.ts`: migrations,
// the shipped bootstrap seed, Auth and Identity) on real PostgreSQL and Valkey. The seeded administrator makes a
// help-desk operator whose only role allows get, post and patch on users, groups, roles and applications; the
// operator then tries every known way to become administrator, over HTTP. Each is 403 and changes no row of any
// table; afterwards the operator still cannot list organizations or read the audit trail.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createValkeyClient } from '../../platform/valkey-client.js';
import { databaseDigest } from '../support/database-digest.js';
import { freePort } from '../../local-start/free-port.js';
import { testLicenseEnv } from '../support/license.js';
import { createTestSchema, type TestSchema } from '../support/postgres.js';
import { testKeyPrefix, testValkeyUrl } from '../support/valkey.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const adminLogin = { username: 'admin', password: 'Correct-Horse-9-Battery' };
const deskLogin = { username: 'helpdesk', password: 'Help-Desk-4-Tickets-Daily' };

let schema: TestSchema;
let workDir: string;
let child: ChildProcess | undefined;
let output = '';
let authUrl: string;
let identityUrl: string;
const keyPrefix = testKeyPrefix('trust_escalation');

let adminToken: string;
let deskToken: string;
const ids: Record<'desk' | 'deskRole' | 'deskGroup' | 'adminGroup' | 'identityEditorRole' | 'escalationRole' | 'midaz', string> = {
  desk: '',
  deskRole: '',
  deskGroup: '',
  adminGroup: '',
  identityEditorRole: '',
  escalationRole: '',
  midaz: '',
};
let midazCredentials: { clientId: string; clientSecret: string };

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly body: Record<string, unknown>;
}

async function call(method: string, url: string, token: string | undefined, body?: unknown): Promise<Answer> {
  const response = await fetch(url, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const identity = (method: string, route: string, token: string, body?: unknown) => call(method, `${identityUrl}${route}`, token, body);

async function signIn(body: Record<string, string>): Promise<string> {
  const answer = await call('POST', `${authUrl}/v1/login/oauth/access_token`, undefined, body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.accessToken as string;
}

async function idNamed(route: string, name: string): Promise<string> {
  const page = await identity('GET', `${route}?limit=100`, adminToken);
  expect(page.status).toBe(200);
  const found = (page.body.items as { id: string; name: string }[]).find((item) => item.name === name);
  if (!found) throw new Error(`no ${name} in ${route}`);
  return found.id;
}

beforeAll(async () => {
  schema = await createTestSchema('trust_escalation');
  // A folder of its own: main.ts reads `.env` from its working directory and keeps its secrets in DATA_DIR.
  workDir = await mkdtemp(path.join(tmpdir(), 'am-trust-escalation-'));
  const [authPort, identityPort] = [await freePort(), await freePort()];
  authUrl = `http://127.0.0.1:${authPort}`;
  identityUrl = `http://127.0.0.1:${identityPort}`;
  child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), path.join(root, 'main.ts')], {
    cwd: workDir,
    env: {
      PATH: process.env.PATH ?? '',
      ...testLicenseEnv,
      DATA_DIR: path.join(workDir, 'data'),
      AUTH_SERVER_PORT: String(authPort),
      IDENTITY_SERVER_PORT: String(identityPort),
      DATABASE_URL: schema.url,
      VALKEY_URL: testValkeyUrl,
      KEY_PREFIX: keyPrefix,
      POLICY_CHANGE_CHANNEL: `am_${keyPrefix.replace(/[^a-z0-9]/gi, '_').toLowerCase()}`.slice(0, 60),
      BOOTSTRAP_ADMIN_USERNAME: adminLogin.username,
      BOOTSTRAP_ADMIN_PASSWORD: adminLogin.password,
      RATE_LIMIT_TOKEN_MAX: '10000',
      RATE_LIMIT_MAX: '100000',
      RATE_LIMIT_PERMISSION_MAX: '100000',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 150_000;
  while (!output.includes('Access Manager is running')) {
    if (child.exitCode !== null) throw new Error(`main.ts exited ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`main.ts did not come up:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // The bootstrap printed the built-in products' secrets once: the real midaz keeps signing in with its own.
  const shown = /application midaz: client id (\S+), client secret (\S+) \(shown once/.exec(output);
  if (!shown) throw new Error(`the bootstrap did not show midaz's secret:\n${output}`);
  midazCredentials = { clientId: shown[1] as string, clientSecret: shown[2] as string };

  adminToken = await signIn({ grantType: 'password', ...adminLogin });
  ids.adminGroup = await idNamed('/v1/groups', 'admin-group');
  ids.identityEditorRole = await idNamed('/v1/roles', 'plugin-identity-editor-role');
  ids.escalationRole = await idNamed('/v1/roles', 'escalation-role');
  ids.midaz = await idNamed('/v1/applications', 'midaz');

  // The administrator delegates: a help-desk role, its group, and the operator in it.
  const grants = ['users', 'groups', 'roles', 'applications'].flatMap((resource) => ['get', 'post', 'patch'].map((action) => ({ resource, action })));
  const role = await identity('POST', '/v1/roles', adminToken, { name: 'help-desk-role', permissions: grants });
  expect(role.status, JSON.stringify(role.body)).toBe(201);
  ids.deskRole = role.body.id as string;
  const group = await identity('POST', '/v1/groups', adminToken, { name: 'help-desk', roles: [ids.deskRole] });
  expect(group.status).toBe(201);
  ids.deskGroup = group.body.id as string;
  const user = await identity('POST', '/v1/users', adminToken, { firstName: 'Help', lastName: 'Desk', email: 'helpdesk@example.test', ...deskLogin, groups: [ids.deskGroup] });
  expect(user.status, JSON.stringify(user.body)).toBe(201);
  ids.desk = user.body.id as string;
  deskToken = await signIn({ grantType: 'password', ...deskLogin });
}, 240_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  const valkey = createValkeyClient({ url: testValkeyUrl });
  const keys = await valkey.keys(`${keyPrefix}*`).catch(() => [] as string[]);
  if (keys.length > 0) await valkey.del(...keys).catch(() => undefined);
  valkey.disconnect();
  await schema?.drop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
}, 60_000);

/** The operator's request must be 403 problem+json and leave every table as it was. */
async function refusedAndNothingChanged(send: () => Promise<Answer>): Promise<Answer> {
  const before = await databaseDigest(schema.pool);
  const answer = await send();
  expect(answer.status, JSON.stringify(answer.body)).toBe(403);
  expect(answer.contentType).toMatch(/^application\/problem\+json/);
  expect(await databaseDigest(schema.pool)).toEqual(before);
  return answer;
}

const everything = [{ resource: '*', action: '*' }];

describe('a help-desk operator cannot make itself administrator (no escalation), on npm start', () => {
  it('the operator is a working delegated administrator: it reads users and creates a user in its own group', async () => {
    expect((await identity('GET', '/v1/users', deskToken)).status).toBe(200);
    const created = await identity('POST', '/v1/users', deskToken, {
      firstName: 'New',
      lastName: 'Colleague',
      username: 'colleague',
      email: 'colleague@example.test',
      password: 'Another-Fine-Password-8',
      groups: [ids.deskGroup],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect((await identity('GET', '/v1/organizations', deskToken)).status).toBe(403);
  });

  it('PATCH /v1/users/{self} with admin-group in groups: 403 naming what admin-group gives', async () => {
    const answer = await refusedAndNothingChanged(() => identity('PATCH', `/v1/users/${ids.desk}`, deskToken, { groups: [ids.deskGroup, ids.adminGroup] }));
    expect(answer.body).toMatchObject({ code: 'IDE-0120' });
    expect(answer.body.missing).toEqual(expect.arrayContaining([{ resource: 'organizations', action: 'get' }, { resource: 'audit', action: 'get' }, { resource: 'escalation', action: 'grant' }]));
  });

  it('PUT /v1/groups/{admin-group}/members/{self}: 403', async () => {
    const answer = await refusedAndNothingChanged(() => identity('PUT', `/v1/groups/${ids.adminGroup}/members/${ids.desk}`, deskToken));
    expect(answer.body.code).toBe('IDE-0120');
  });

  it('creating a user inside admin-group: 403', async () => {
    const answer = await refusedAndNothingChanged(() =>
      identity('POST', '/v1/users', deskToken, { firstName: 'Sock', lastName: 'Puppet', username: 'shadow-user', email: 'shadow@example.test', password: 'Strings-Attached-42-Long', groups: [ids.adminGroup] }),
    );
    expect(answer.body.code).toBe('IDE-0120');
  });

  it('widening its own role to */* (PATCH, and PUT permissions): 403 missing */*', async () => {
    const current = (await identity('GET', `/v1/roles/${ids.deskRole}`, deskToken)).body.permissions as object[];
    const patched = await refusedAndNothingChanged(() => identity('PATCH', `/v1/roles/${ids.deskRole}`, deskToken, { permissions: [...current, ...everything] }));
    expect(patched.body).toMatchObject({ code: 'IDE-0120', missing: everything });
    const replaced = await refusedAndNothingChanged(() => identity('PUT', `/v1/roles/${ids.deskRole}/permissions`, deskToken, { permissions: everything }));
    expect(replaced.body).toMatchObject({ code: 'IDE-0120', missing: everything });
  });

  it('creating a role with */*: 403 missing */*', async () => {
    const answer = await refusedAndNothingChanged(() => identity('POST', '/v1/roles', deskToken, { name: 'shadow-admin', permissions: everything }));
    expect(answer.body).toMatchObject({ code: 'IDE-0120', missing: everything });
  });

  it("binding an administrator's role to its own group, or to a new one: 403", async () => {
    for (const roleId of [ids.identityEditorRole, ids.escalationRole]) {
      const put = await refusedAndNothingChanged(() => identity('PUT', `/v1/groups/${ids.deskGroup}/roles/${roleId}`, deskToken));
      expect(put.body.code).toBe('IDE-0120');
      const patched = await refusedAndNothingChanged(() => identity('PATCH', `/v1/groups/${ids.deskGroup}`, deskToken, { roles: [ids.deskRole, roleId] }));
      expect(patched.body.code).toBe('IDE-0120');
      const created = await refusedAndNothingChanged(() => identity('POST', '/v1/groups', deskToken, { name: `shadow-${roleId.slice(0, 8)}`, roles: [roleId] }));
      expect(created.body.code).toBe('IDE-0120');
    }
  });

  it('creating an application (allowed: it holds nothing) and giving its permission set */*: 403 missing */*', async () => {
    const app = await identity('POST', '/v1/applications', deskToken, { name: 'shadow-app' });
    expect(app.status).toBe(201);
    const answer = await refusedAndNothingChanged(() => identity('PUT', `/v1/applications/${app.body.id as string}/permissions`, deskToken, { permissions: everything }));
    expect(answer.body).toMatchObject({ code: 'IDE-0120', missing: everything });
  });

  it("rotating a built-in product application's secret: 403 (the escalation permission); the product keeps signing in with its own", async () => {
    const answer = await refusedAndNothingChanged(() => identity('POST', `/v1/applications/${ids.midaz}/rotate-secret`, deskToken));
    expect(answer.body).toMatchObject({ code: 'IDE-0120', missing: [{ resource: 'escalation', action: 'grant' }] });
    expect(answer.body).not.toHaveProperty('clientSecret');
    // Only the real product publishes its declaration: the operator's own token is no application.
    const declared = await refusedAndNothingChanged(() =>
      identity('PUT', '/v1/declarations/midaz', deskToken, { service: 'midaz', version: '6.6.6', permissions: [{ resource: '*', action: '*', roles: ['midaz-root'] }], roles: [{ name: 'midaz-root', grantedTo: [{ group: 'help-desk' }] }] }),
    );
    expect(declared.body.code).toBe('IDE-0116');
    expect(await signIn({ grantType: 'client_credentials', ...midazCredentials })).toMatch(/^ey/);
  });

  it('afterwards the operator still cannot list organizations or read the audit trail (403)', async () => {
    const fresh = await signIn({ grantType: 'password', ...deskLogin });
    for (const token of [deskToken, fresh]) {
      expect((await identity('GET', '/v1/organizations', token)).status).toBe(403);
      expect((await identity('GET', '/v1/audit-events', token)).status).toBe(403);
    }
    // The administrator (an escalation holder) still reads both.
    expect((await identity('GET', '/v1/organizations', adminToken)).status).toBe(200);
    expect((await identity('GET', '/v1/audit-events', adminToken)).status).toBe(200);
  });
});
