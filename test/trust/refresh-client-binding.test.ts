// Trust boundaries: a refresh token is bound to the client its session was started with (RFC 6749 6). The
// contract's `/v1/login/oauth/refresh_token` and the standard `/oauth/token` hold the same rule, and a refused
// refresh changes nothing (the rightful client can still use the token). Over HTTP, real PostgreSQL and Valkey.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthHarness, type AuthHarness } from '../support/auth-harness.js';
import { databaseDigest } from '../support/database-digest.js';

interface Client {
  readonly clientId: string;
  readonly clientSecret: string;
}

let h: AuthHarness;
let org: { id: string; slug: string };
let a: Client;
let b: Client;

beforeAll(async () => {
  h = await createAuthHarness('trust_refresh_binding', { withValkey: true, sharedTokenCache: true });
  org = await h.createOrganization();
  const credentials = ({ clientId, clientSecret }: Client): Client => ({ clientId, clientSecret });
  a = credentials(await h.createApplication(org.id, 'console-a'));
  b = credentials(await h.createApplication(org.id, 'console-b'));
});
afterAll(async () => h?.close());

/** A refresh through one route: 200 with a successor, or refused (`outcome` names how). */
type Refresh = (refreshToken: string, client?: Client) => Promise<{ status: number; outcome: string; refreshToken?: string }>;

const contractRefresh: Refresh = async (refreshToken, client) => {
  const res = await h.http().post('/v1/login/oauth/refresh_token').send({ refreshToken, ...(client ?? {}) });
  return { status: res.status, outcome: res.status === 200 ? 'tokens' : String(res.body.code), refreshToken: res.body.refreshToken };
};

const oauthRefresh: Refresh = async (refreshToken, client) => {
  const request = h.http().post('/oauth/token').type('form');
  if (client) request.set('Authorization', `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`);
  const res = await request.send({ grant_type: 'refresh_token', refresh_token: refreshToken });
  return { status: res.status, outcome: res.status === 200 ? 'tokens' : String(res.body.error), refreshToken: res.body.refresh_token };
};

const routes = [
  { route: '/v1/login/oauth/refresh_token', refresh: contractRefresh, refused: 'AUT-0100', badClient: 'AUT-0101' },
  { route: '/oauth/token', refresh: oauthRefresh, refused: 'invalid_grant', badClient: 'invalid_client' },
] as const;

/** A person's session, started with `client`'s credentials (a console) or without any. */
async function sessionOf(client: Client | undefined): Promise<string> {
  const user = await h.createUser(org.id);
  const res = await h.http().post('/v1/login/oauth/access_token').send({ grantType: 'password', username: user.username, password: user.password, ...(client ?? {}) });
  expect(res.status, res.text).toBe(200);
  return res.body.refreshToken as string;
}

describe.each(routes)('refresh at $route: the client binding of a session', ({ refresh, refused, badClient }) => {
  it("a session started with client A is refreshed only with A's authentication; without a client or with B's it is refused and nothing changes", async () => {
    const token = await sessionOf(a);
    const before = await databaseDigest(h.deps.pool);
    expect(await refresh(token)).toMatchObject({ status: 400, outcome: refused });
    expect(await refresh(token, b)).toMatchObject({ status: 400, outcome: refused });
    expect(await databaseDigest(h.deps.pool)).toEqual(before);
    // A wrong secret for A is a client failure (recorded as a security event), and the token stays unused.
    expect(await refresh(token, { clientId: a.clientId, clientSecret: 'not-the-secret' })).toMatchObject({ status: 401, outcome: badClient });
    const { audit_events: _events, ...rest } = before;
    expect(await databaseDigest(h.deps.pool, { except: ['audit_events'] })).toEqual(rest);
    const rotated = await refresh(token, a);
    expect(rotated).toMatchObject({ status: 200, outcome: 'tokens' });
    // The successor carries the same binding.
    expect(await refresh(rotated.refreshToken as string)).toMatchObject({ status: 400, outcome: refused });
    expect(await refresh(rotated.refreshToken as string, a)).toMatchObject({ status: 200 });
  });

  it("a session started without a client needs none, and no client's credentials can take it over", async () => {
    const token = await sessionOf(undefined);
    const before = await databaseDigest(h.deps.pool);
    expect(await refresh(token, a)).toMatchObject({ status: 400, outcome: refused });
    expect(await databaseDigest(h.deps.pool)).toEqual(before);
    expect(await refresh(token)).toMatchObject({ status: 200, outcome: 'tokens' });
  });
});

describe('refresh: one binding across both routes', () => {
  it('a session started with a client at the contract route is refused at /oauth/token without it, and the other way round', async () => {
    const first = await sessionOf(a);
    expect(await oauthRefresh(first)).toMatchObject({ status: 400, outcome: 'invalid_grant' });
    const next = await oauthRefresh(first, a);
    expect(next.status).toBe(200);
    expect(await contractRefresh(next.refreshToken as string)).toMatchObject({ status: 400, outcome: 'AUT-0100' });
    expect(await contractRefresh(next.refreshToken as string, a)).toMatchObject({ status: 200 });
  });
});
