import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authAudience, createAuthHarness, type AuthHarness } from '../../test/support/auth-harness.js';
import { scheduleKeyRotation } from './key-rotation-schedule.js';
import { defaultPrepublishSeconds } from '../config.js';
import { SigningKeyStore } from './signing-key-store.js';

// Time moves for Auth and the client together: offsetMs is added to both clocks.
let offsetMs = 0;
const clock = { nowMs: () => Date.now() + offsetMs };

let h: AuthHarness;
let server: http.Server;
let issuer: string;
let org: { id: string; slug: string };
let app: { id: string; clientId: string; clientSecret: string };

beforeAll(async () => {
  server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  h = await createAuthHarness('key_rotation', { settings: { issuer }, clock });
  server.on('request', h.app);
  org = await h.createOrganization();
  app = await h.createApplication(org.id);
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await h?.close();
});

/** An unmodified relying party whose clock agrees with Auth's, verifying every JWT it gets against the JWKS. */
async function relyingParty(): Promise<client.Configuration> {
  const config = await client.discovery(
    new URL(issuer),
    app.clientId,
    { client_secret: app.clientSecret, [client.clockSkew]: Math.round(offsetMs / 1000) },
    client.ClientSecretBasic(app.clientSecret),
    { execute: [client.allowInsecureRequests] },
  );
  client.enableNonRepudiationChecks(config);
  return config;
}

async function passwordGrant(config: client.Configuration, user: { username: string; password: string }) {
  return client.genericGrantRequest(config, 'password', { username: user.username, password: user.password });
}

const kidOf = (token: string): string | undefined => decodeProtectedHeader(token).kid;
const publishedKids = async (): Promise<string[]> => ((await h.http().get('/.well-known/jwks')).body as JSONWebKeySet).keys.map((k) => k.kid ?? '');

describe('signing key rotation seen by openid-client', () => {
  it('the new key is in the JWKS before it signs, so a client that fetched the JWKS in between verifies its first token without refetching; the old key verifies its tokens until they expire', async () => {
    const user = await h.createUser(org.id);
    const before = await relyingParty();
    const first = await passwordGrant(before, user);
    const oldKid = kidOf(first.id_token!);
    expect(client.getJwksCache(before)?.jwks.keys.map((k) => k.kid)).toEqual([oldKid]);

    const newKid = await h.deps.keys.rotate();
    expect(await publishedKids()).toEqual(expect.arrayContaining([oldKid, newKid]));
    // Published, not signing: tokens issued now still carry the old key.
    const during = await relyingParty();
    expect(kidOf((await passwordGrant(during, user)).id_token!)).toBe(oldKid);
    const cachedDuring = client.getJwksCache(during);
    expect(cachedDuring?.jwks.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, newKid]));

    // The prepublish delay passes (for Auth and the client alike): the new key signs.
    offsetMs += (defaultPrepublishSeconds + 1) * 1000;
    const after = await relyingParty();
    // The JWKS the client cached while the key was only published, before it ever signed, is enough.
    client.setJwksCache(after, cachedDuring!);
    let fetchedJwks = false;
    after[client.customFetch] = async (url, options) => {
      if (String(url).includes('jwks')) fetchedJwks = true;
      return fetch(url, options as RequestInit);
    };
    // Without prepublishing, a client whose JWKS is under a minute old would not look again, and would refuse.
    const unprepared = await relyingParty();
    const oldKeyOnly = cachedDuring!.jwks.keys.filter((k) => k.kid === oldKid);
    client.setJwksCache(unprepared, { jwks: { keys: oldKeyOnly }, uat: Math.floor(Date.now() / 1000) });
    await expect(passwordGrant(unprepared, user)).rejects.toThrow(/no applicable keys/);
    const next = await passwordGrant(after, user);
    expect(kidOf(next.id_token!)).toBe(newKid);
    expect(kidOf(next.access_token)).toBe(newKid);
    expect(fetchedJwks).toBe(false);
    expect((await client.fetchUserInfo(after, next.access_token, user.id)).sub).toBe(user.id);

    // A token of the old key still verifies against the published JWKS, and is still honoured.
    const jwks = createLocalJWKSet((await h.http().get('/.well-known/jwks')).body as JSONWebKeySet);
    await expect(jwtVerify(first.access_token, jwks, { issuer, audience: authAudience, currentDate: new Date(clock.nowMs()) })).resolves.toBeDefined();
    expect((await h.http().get('/oauth/userinfo').set('Authorization', `Bearer ${first.access_token}`)).status).toBe(200);

    // Once every token of the old key has expired, the old key leaves the JWKS.
    offsetMs += (h.deps.settings.accessTokenTtlSeconds + 1) * 1000;
    expect(await publishedKids()).not.toContain(oldKid);
    expect(await publishedKids()).toContain(newKid);
  });
});

describe('scheduled rotation', () => {
  const store = () => new SigningKeyStore({ pool: h.deps.pool, secrets: h.deps.secrets, clock, maxTokenLifetimeSeconds: 3600, reloadIntervalMs: 0 });

  it('nothing happens before the interval; once the signing key is that old, replicas checking at once rotate exactly once', async () => {
    const count = async () => Number((await h.deps.pool.query<{ n: string }>('SELECT count(*) AS n FROM signing_keys')).rows[0]!.n);
    const stores = Array.from({ length: 4 }, store);
    const keysBefore = await count();
    expect(await Promise.all(stores.map((s) => s.rotateIfDue(86_400)))).toEqual([undefined, undefined, undefined, undefined]);
    expect(await count()).toBe(keysBefore);
    // Every key is made two days older, on PostgreSQL's clock (which the schedule reads).
    await h.deps.pool.query(
      "UPDATE signing_keys SET created_at = created_at - interval '2 days', activates_at = activates_at - interval '2 days', retires_at = retires_at - interval '2 days', expires_at = expires_at - interval '2 days'",
    );
    const rotated = (await Promise.all(stores.map((s) => s.rotateIfDue(86_400)))).filter((kid) => kid !== undefined);
    expect(rotated).toHaveLength(1);
    expect(await count()).toBe(keysBefore + 1);
    expect((await stores[0]!.list()).find((k) => k.kid === rotated[0])?.state).toBe('published');
  });

  it('the schedule looks at once, reports the new key, and a failing look is reported without stopping it', async () => {
    await h.deps.pool.query("UPDATE signing_keys SET activates_at = activates_at - interval '30 days'");
    const rotatedKids: string[] = [];
    const schedule = scheduleKeyRotation({ keys: store(), intervalSeconds: 7 * 86_400, onRotated: (kid) => rotatedKids.push(kid) });
    await schedule.firstCheck;
    schedule.stop();
    expect(rotatedKids).toHaveLength(1);
    const errors: unknown[] = [];
    const failing = scheduleKeyRotation({ keys: { rotateIfDue: () => Promise.reject(new Error('database down')) }, intervalSeconds: 3_600, onError: (error) => errors.push(error) });
    await failing.firstCheck;
    failing.stop();
    expect(errors).toHaveLength(1);
    const off = scheduleKeyRotation({ keys: { rotateIfDue: () => Promise.reject(new Error('never called')) }, intervalSeconds: 0, onError: (error) => errors.push(error) });
    await off.firstCheck;
    expect(errors).toHaveLength(1);
  });
});
