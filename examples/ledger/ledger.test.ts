import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAuthClient, type AuthClient } from '@access-manager/client';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPolicyStore } from '../../engine/adapters/index.js';
import { loadModelFile, PolicyEngine, systemClock } from '../../engine/index.js';
import { createIdentityApp } from '../../identity-service/app.js';
import { createTokenVerifier } from '../../platform/auth/token-verifier.js';
import { createAuthHarness, defaultPassword, type AuthHarness } from '../../test/support/auth-harness.js';
import { escalationPermission } from '../../domain/escalation-permission.js';
import { identityResources } from '../../test/support/identity-harness.js';
import { startLedger, type StartedLedger } from './start-ledger.js';

/**
 * The README walkthrough, end to end and in process: a real Auth and a real Identity on one database (Identity
 * trusts Auth's keys), the ledger booting against them (its manifest published with its own application
 * token), a person signing in, and an administrator changing a group's roles in Identity.
 */
let h: AuthHarness;
let identityEngine: PolicyEngine;
const servers: http.Server[] = [];
let authUrl: string;
let identityUrl: string;
let ledger: StartedLedger;
let ledgerAuth: AuthClient;
let org: { id: string; slug: string };
let adminToken: string;
let readerGroupId: string;
let alice: { id: string; username: string };

async function listen(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function signIn(username: string): Promise<string> {
  const res = await fetch(`${authUrl}/v1/login/oauth/access_token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grantType: 'password', username, password: defaultPassword }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

const identity = () => supertest(identityUrl);

beforeAll(async () => {
  h = await createAuthHarness('ledger-example');
  authUrl = await listen(h.app);
  const model = await loadModelFile();
  identityEngine = await PolicyEngine.start({ model, store: createPolicyStore({ pool: h.deps.pool, model }), resyncIntervalMs: 0 });
  const identityApp = createIdentityApp({
    pool: h.deps.pool,
    engine: identityEngine,
    tokens: createTokenVerifier({ keys: h.deps.keys.keyResolver(), issuer: h.deps.settings.issuer, audience: h.deps.settings.audience, tokenType: 'at+jwt' }),
    tenancy: { multiTenant: true, defaultTenantId: h.defaultTenantId },
    platformTenantId: h.defaultTenantId,
    passwords: h.deps.passwords,
    secrets: h.deps.secrets,
    report: () => undefined,
    fetch: globalThis.fetch,
    clock: systemClock,
  });
  identityUrl = await listen(identityApp);

  // An organization with an administrator of Identity, and Alice, who will read the ledger.
  org = await h.createOrganization();
  const admin = await h.createUser(org.id);
  await h.grant(org.id, `user:${admin.id}`, [...identityResources.map((resource) => [resource, '*'] as const), [escalationPermission.resource, escalationPermission.action]]);
  // Granted through Auth's engine; Identity's catches up as the change feed would make it.
  await identityEngine.catchUp(org.id);
  adminToken = await signIn(admin.username);
  alice = await h.createUser(org.id);

  // The administrator registers the ledger as an application and creates the group its readers join.
  const app = await identity().post('/v1/applications').set('Authorization', `Bearer ${adminToken}`).send({ name: 'ledger', description: 'the example ledger' });
  expect(app.status).toBe(201);
  // What the ledger may declare is what its application holds: everything under its own name.
  const holds = await identity().put(`/v1/applications/${app.body.id}/permissions`).set('Authorization', `Bearer ${adminToken}`).send({ permissions: [{ resource: 'ledger/*', action: '*' }] });
  expect(holds.status).toBe(200);
  const group = await identity().post('/v1/groups').set('Authorization', `Bearer ${adminToken}`).send({ name: 'ledger-readers' });
  expect(group.status).toBe(201);
  readerGroupId = group.body.id;
  expect((await identity().put(`/v1/groups/${readerGroupId}/members/${alice.id}`).set('Authorization', `Bearer ${adminToken}`)).status).toBe(201);

  // The ledger boots with its application credentials: it publishes its manifest, then listens.
  ledgerAuth = createAuthClient({ url: authUrl, identityUrl, product: 'ledger', credentials: { clientId: app.body.clientId, clientSecret: app.body.clientSecret } });
  ledger = await startLedger(ledgerAuth, { port: 0, readerGroups: ['ledger-readers'] });
});

afterAll(async () => {
  await ledger?.close();
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  identityEngine?.stop();
  await h?.close();
});

describe('the ledger example (README walkthrough)', () => {
  it('at boot the ledger published its manifest: its roles exist in Identity, the readers group holds the viewer role', async () => {
    const roles = await identity().get('/v1/roles').set('Authorization', `Bearer ${adminToken}`);
    expect(roles.status).toBe(200);
    const names = (roles.body.items as { name: string }[]).map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(['ledger-viewer-role', 'ledger-editor-role']));
    const group = await identity().get(`/v1/groups/${readerGroupId}`).set('Authorization', `Bearer ${adminToken}`);
    const viewer = (roles.body.items as { id: string; name: string }[]).find((r) => r.name === 'ledger-viewer-role')!;
    expect(group.body.roles).toEqual([viewer.id]);
    // Publishing the same manifest again (a second replica booting) changes nothing.
    expect(await ledgerAuth.publishManifest((await import('./manifest.js')).ledgerManifest(['ledger-readers']))).toMatchObject({ changed: false });
  });

  it('token → protected route 200 → group loses the role in Identity → 403', async () => {
    const ledgerHttp = supertest(`http://127.0.0.1:${ledger.port}`);
    const token = await signIn(alice.username);

    expect((await ledgerHttp.get('/accounts')).status).toBe(401);
    const allowed = await ledgerHttp.get('/accounts').set('Authorization', `Bearer ${token}`);
    expect(allowed.status).toBe(200);
    expect(allowed.body).toEqual({ items: [] });
    // A viewer reads but does not write.
    expect((await ledgerHttp.post('/accounts').set('Authorization', `Bearer ${token}`).send({ name: 'cash' })).status).toBe(403);

    const roles = await identity().get('/v1/roles').set('Authorization', `Bearer ${adminToken}`);
    const viewer = (roles.body.items as { id: string; name: string }[]).find((r) => r.name === 'ledger-viewer-role')!;
    const removed = await identity().delete(`/v1/groups/${readerGroupId}/roles/${viewer.id}`).set('Authorization', `Bearer ${adminToken}`);
    expect(removed.status).toBe(200);
    const revision = Number(removed.headers['x-policy-revision']);
    expect(revision).toBeGreaterThan(0);

    // The product learns the revision (in production: within the cache TTL); from then on no older decision is used.
    ledgerAuth.noteRevision(org.id, revision);
    const denied = await ledgerHttp.get('/accounts').set('Authorization', `Bearer ${token}`);
    expect(denied.status).toBe(403);
    expect(denied.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});
