import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentityHarness, type IdentityHarness } from '../test/support/identity-harness.js';
import { createAuthClient, type AuthClient } from './auth-client.js';
import type { PermissionManifest } from './manifest.js';

let h: IdentityHarness;
let server: http.Server;
let client: AuthClient;
let tenantId: string;
let appToken: string;
let adminToken: string;

const manifest = (extra: Partial<PermissionManifest> = {}): PermissionManifest => ({
  service: 'fees',
  version: '1.0.0',
  permissions: [{ resource: 'packages', action: 'get', roles: ['fees-viewer-role'] }],
  roles: [{ name: 'fees-viewer-role', grantedTo: [{ group: 'fee-readers' }] }],
  ...extra,
});

beforeAll(async () => {
  h = await createIdentityHarness('publish-manifest');
  server = http.createServer(h.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  tenantId = await h.createOrganization();
  adminToken = (await h.admin(tenantId)).token;
  const app = await h.http().post('/v1/applications').set('Authorization', `Bearer ${adminToken}`).send({ name: 'fees' });
  // A product declares only what its application holds: everything under its own name.
  const holds = await h.http().put(`/v1/applications/${app.body.id}/permissions`).set('Authorization', `Bearer ${adminToken}`).send({ permissions: [{ resource: 'fees/*', action: '*' }] });
  expect(holds.status).toBe(200);
  expect((await h.http().post('/v1/groups').set('Authorization', `Bearer ${adminToken}`).send({ name: 'fee-readers' })).status).toBe(201);
  appToken = await h.token({ sub: app.body.id, tenantId, type: 'application' });
  // Auth is not needed to publish with a given token; its address only has to parse.
  client = createAuthClient({ url: 'http://127.0.0.1:9', identityUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
});

afterAll(async () => {
  client?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await h?.close();
});

describe('publishManifest against a real Identity', () => {
  it('publishes once (changed), then is idempotent; the roles and the grant exist', async () => {
    const first = await client.publishManifest(manifest(), { token: appToken });
    expect(first).toMatchObject({ changed: true });
    expect(await client.publishManifest(manifest(), { token: appToken })).toEqual({ changed: false, policyRevision: first.policyRevision });
    const { rows } = await h.deps.pool.query<{ v: string }>(`SELECT concat_ws(',', ptype, rule->>2, rule->>3) AS v FROM casbin WHERE rule->>1 = $1 AND ptype = 'p'`, [tenantId]);
    expect(rows.map((r) => r.v)).toContain('p,fees/packages,get');
  });

  it('a manifest Identity refuses stops the boot with its message; nothing is written', async () => {
    const before = await h.deps.pool.query('SELECT count(*) FROM casbin');
    const refused = await client.publishManifest(manifest({ roles: [{ name: 'fees-viewer-role', grantedTo: [{ group: 'no-such-group' }] }] }), { token: appToken }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ upstreamStatus: 400 });
    expect(String((refused as Error).message)).toMatch(/no-such-group/);
    expect((await h.deps.pool.query('SELECT count(*) FROM casbin')).rows).toEqual(before.rows);
  });

  it('only the application itself may publish: a person is refused (403)', async () => {
    await expect(client.publishManifest(manifest(), { token: adminToken })).rejects.toMatchObject({ kind: 'forbidden', status: 403 });
  });

  it('without credentials or a token there is nothing to publish with', async () => {
    await expect(client.publishManifest(manifest())).rejects.toThrow(/credentials/);
  });
});
