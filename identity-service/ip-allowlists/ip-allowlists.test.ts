import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentityHarness, type IdentityHarness } from '../../test/support/identity-harness.js';

let h: IdentityHarness;
let tenantId: string;
let admin: { userId: string; token: string };
let auth: string;

beforeAll(async () => {
  h = await createIdentityHarness('ip_allowlists');
  tenantId = await h.createOrganization();
  admin = await h.admin(tenantId);
  auth = `Bearer ${admin.token}`;
});
afterAll(async () => h.close());

describe('IP allowlists', () => {
  it('PUT creates (201) then replaces (200) a surface list, canonical and deduplicated; GET lists; DELETE removes; all audited', async () => {
    const created = await h.http().put('/v1/ip-allowlists/auth').set('Authorization', auth).send({ cidrs: ['10.0.0.0/8', '2001:DB8::/48', '2001:db8:0::/48'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ surface: 'auth', cidrs: ['10.0.0.0/8', '2001:db8::/48'] });
    expect(created.headers.etag).toBe('"1"');
    expect(created.headers['x-policy-revision']).toMatch(/^\d+$/);

    const replaced = await h.http().put('/v1/ip-allowlists/auth').set('Authorization', auth).set('If-Match', '"1"').send({ cidrs: ['192.168.0.0/16'] });
    expect(replaced.status).toBe(200);
    expect(replaced.body.cidrs).toEqual(['192.168.0.0/16']);
    expect(replaced.headers.etag).toBe('"2"');
    await h.http().put('/v1/ip-allowlists/midaz').set('Authorization', auth).send({ cidrs: ['203.0.113.0/24'] }).expect(201);

    const list = await h.http().get('/v1/ip-allowlists').set('Authorization', auth);
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ page: 1, limit: 10, total: 2 });
    expect(list.body.items.map((i: { surface: string; cidrs: string[] }) => [i.surface, i.cidrs])).toEqual([
      ['auth', ['192.168.0.0/16']],
      ['midaz', ['203.0.113.0/24']],
    ]);

    expect((await h.http().delete('/v1/ip-allowlists/midaz').set('Authorization', auth)).status).toBe(204);
    expect((await h.http().delete('/v1/ip-allowlists/midaz').set('Authorization', auth)).status).toBe(404);
    const { rows } = await h.deps.pool.query("SELECT action, target_id FROM audit_events WHERE org_id = $1 AND target_type = 'ip-allowlist' ORDER BY id", [tenantId]);
    expect(rows.map((r) => `${r.action} ${r.target_id}`)).toEqual(['ip-allowlist.create auth', 'ip-allowlist.update auth', 'ip-allowlist.create midaz', 'ip-allowlist.delete midaz']);
  });

  it.each([
    ['a bare IPv4 address', '10.0.0.1', /prefix length is required/],
    ['a bare IPv6 address', '2001:db8::1', /prefix length is required/],
    ['an IPv4 range wider than /8', '10.0.0.0/7', /wider than \/8/],
    ['everything', '0.0.0.0/0', /wider than \/8/],
    ['an IPv6 range wider than /48', '::/47', /wider than \/48/],
    ['garbage', 'not-a-cidr', /not a CIDR/],
    ['an IPv4-mapped IPv6 range', '::ffff:10.0.0.0/104', /IPv4-mapped/],
    ['host bits set', '10.1.2.3/8', /host bits are set; the network is 10\.0\.0\.0\/8/],
    ['an octal-looking address', '010.0.0.0/8', /not a CIDR/],
  ])('%s is 400 CIDR_INVALID naming the entry', async (_name, cidr, reason) => {
    const response = await h.http().put('/v1/ip-allowlists/identity').set('Authorization', auth).send({ cidrs: ['10.0.0.0/8', cidr] });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'IDE-0115', field: 'body.cidrs.1' });
    expect(response.body.message).toMatch(reason);
  });

  it('bad surfaces, empty or oversized lists, long entries and extra keys are 400; nothing is written', async () => {
    const cases: [string, unknown, string][] = [
      ['/v1/ip-allowlists/Auth', { cidrs: ['10.0.0.0/8'] }, 'params.surface'],
      ['/v1/ip-allowlists/-auth', { cidrs: ['10.0.0.0/8'] }, 'params.surface'],
      [`/v1/ip-allowlists/${'a'.repeat(64)}`, { cidrs: ['10.0.0.0/8'] }, 'params.surface'],
      ['/v1/ip-allowlists/ok', { cidrs: [] }, 'body.cidrs'],
      ['/v1/ip-allowlists/ok', { cidrs: Array.from({ length: 101 }, (_, i) => `10.0.${i}.0/24`) }, 'body.cidrs'],
      ['/v1/ip-allowlists/ok', { cidrs: ['1'.repeat(65)] }, 'body.cidrs.0'],
      ['/v1/ip-allowlists/ok', { cidrs: [10] }, 'body.cidrs.0'],
      ['/v1/ip-allowlists/ok', { cidrs: ['10.0.0.0/8'], tenantId: 'other' }, 'body'],
    ];
    for (const [path, body, field] of cases) {
      const response = await h.http().put(path).set('Authorization', auth).send(body as object);
      expect(response.status, path).toBe(400);
      expect(response.body.field).toBe(field);
    }
    const hundred = await h.http().put('/v1/ip-allowlists/ok').set('Authorization', auth).send({ cidrs: Array.from({ length: 100 }, (_, i) => `10.0.${i}.0/24`) });
    expect(hundred.status).toBe(201);
    await h.http().delete('/v1/ip-allowlists/ok').set('Authorization', auth).expect(204);
    const { rows } = await h.deps.pool.query("SELECT count(*)::int AS n FROM ip_allowlists WHERE org_id = $1 AND surface <> 'auth'", [tenantId]);
    expect(rows[0].n).toBe(0);
  });

  it('a stale If-Match is 412, and If-Match on a list that does not exist is 412 too', async () => {
    await h.http().put('/v1/ip-allowlists/routing').set('Authorization', auth).send({ cidrs: ['10.0.0.0/8'] }).expect(201);
    const results = await Promise.all(
      ['10.0.0.0/16', '10.1.0.0/16', '10.2.0.0/16'].map((cidr) => h.http().put('/v1/ip-allowlists/routing').set('Authorization', auth).set('If-Match', '"1"').send({ cidrs: [cidr] })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 412, 412]);
    expect((await h.http().put('/v1/ip-allowlists/never').set('Authorization', auth).set('If-Match', '"1"').send({ cidrs: ['10.0.0.0/8'] })).status).toBe(412);
    expect((await h.http().delete('/v1/ip-allowlists/routing').set('Authorization', auth).set('If-Match', '"1"')).status).toBe(412);
  });

  it("tenants never see or touch each other's lists, even with the same surface name", async () => {
    const other = await h.createOrganization();
    const otherAuth = `Bearer ${(await h.admin(other)).token}`;
    await h.http().put('/v1/ip-allowlists/shared').set('Authorization', auth).send({ cidrs: ['10.0.0.0/8'] }).expect(201);
    await h.http().put('/v1/ip-allowlists/shared').set('Authorization', otherAuth).send({ cidrs: ['172.16.0.0/12'] }).expect(201);
    const theirs = await h.http().get('/v1/ip-allowlists').set('Authorization', otherAuth);
    expect(theirs.body.items).toEqual([expect.objectContaining({ surface: 'shared', cidrs: ['172.16.0.0/12'] })]);
    await h.http().delete('/v1/ip-allowlists/shared').set('Authorization', otherAuth).expect(204);
    expect((await h.http().delete('/v1/ip-allowlists/shared').set('Authorization', otherAuth)).status).toBe(404);
    const ours = await h.http().get('/v1/ip-allowlists?limit=100').set('Authorization', auth);
    expect(ours.body.items.find((i: { surface: string }) => i.surface === 'shared')?.cidrs).toEqual(['10.0.0.0/8']);
  });

  it('reading needs ip-allowlists get; writing needs patch or delete', async () => {
    const reader = await h.createUser(tenantId);
    await h.grant(tenantId, `user:${reader}`, [['ip-allowlists', 'get']]);
    const readerAuth = `Bearer ${await h.token({ sub: reader, tenantId })}`;
    expect((await h.http().get('/v1/ip-allowlists').set('Authorization', readerAuth)).status).toBe(200);
    expect((await h.http().put('/v1/ip-allowlists/auth').set('Authorization', readerAuth).send({ cidrs: ['10.0.0.0/8'] })).status).toBe(403);
    expect((await h.http().delete('/v1/ip-allowlists/auth').set('Authorization', readerAuth)).status).toBe(403);
  });
});
