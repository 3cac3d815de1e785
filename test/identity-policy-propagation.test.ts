// An Identity policy write is visible to an engine in another OS process at the revision the write returned
// (read-your-writes through minRevision).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnginePeer } from './support/engine-peer-process.js';
import { createIdentityHarness, type IdentityHarness } from './support/identity-harness.js';

let h: IdentityHarness;
let peer: EnginePeer;

beforeAll(async () => {
  h = await createIdentityHarness('identity_propagation');
  peer = await EnginePeer.spawn({
    DATABASE_URL: h.schema.url,
    DB_MIGRATE_ON_START: 'false',
    POLICY_CHANGE_CHANNEL: `am_${randomBytes(4).toString('hex')}`,
    ENGINE_RESYNC_INTERVAL_MS: '60000',
  });
}, 30_000);

afterAll(async () => {
  await peer?.stop();
  await h?.close();
});

describe('identity policy writes seen by another process', () => {
  it("an application's new permission set decides in another process at the X-Policy-Revision the write returned, and its removal too", async () => {
    const org = await h.createOrganization();
    const admin = await h.admin(org);
    const auth = `Bearer ${admin.token}`;
    const created = await h.http().post('/v1/applications').set('Authorization', auth).send({ name: 'ledger-svc', description: 'test' });
    expect(created.status).toBe(201);
    const appId = created.body.id as string;
    const question = { sub: `app:${appId}`, dom: org, obj: 'midaz/accounts', act: 'get' };

    const granted = await h.http().put(`/v1/applications/${appId}/permissions`).set('Authorization', auth).send({ permissions: [{ resource: 'midaz/accounts', action: 'get' }] });
    expect(granted.status).toBe(200);
    const revision = Number(granted.headers['x-policy-revision']);
    expect(revision).toBeGreaterThan(0);
    const allowed = await peer.decide(question, revision);
    expect(allowed.decision).toMatchObject({ allowed: true });
    expect(allowed.decision?.revision).toBeGreaterThanOrEqual(revision);

    const revoked = await h.http().put(`/v1/applications/${appId}/permissions`).set('Authorization', auth).send({ permissions: [] });
    const after = Number(revoked.headers['x-policy-revision']);
    expect(after).toBeGreaterThan(revision);
    expect((await peer.decide(question, after)).decision).toMatchObject({ allowed: false });
  });
});
