// /v1/logout as the end-session endpoint discovery advertises (OIDC RP-Initiated Logout 1.0): by GET and POST, with
// the redirect to a registered post_logout_redirect_uri, driven by openid-client as an unmodified relying party.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthHarness, type AuthHarness } from '../../test/support/auth-harness.js';
import { createAuthApp } from '../app.js';
import type { TokenSubject } from '../tokens/token-issuer.js';
import { wireAuth } from '../wiring.js';

const signedOut = 'https://rp.example/signed-out';
const otherAppsUri = 'https://other.example/signed-out';

let h: AuthHarness;
let server: http.Server;
let issuer: string;
let org: { id: string; slug: string };
let web: { id: string; clientId: string; clientSecret: string };
let other: { id: string; clientId: string; clientSecret: string };

async function session(): Promise<{ sid: string; idToken: string }> {
  const user = await h.createUser(org.id);
  const sid = randomUUID();
  await h.deps.pool.query(
    `INSERT INTO sessions (id, org_id, subject_kind, subject_id, absolute_expires_at) VALUES ($1, $2, 'user', $3, now() + interval '1 day')`,
    [sid, org.id, user.id],
  );
  const subject = { kind: 'user', id: user.id, name: user.username, displayName: 'U', tenantId: org.id, tenantSlug: org.slug } as TokenSubject;
  return { sid, idToken: (await h.deps.issuer.idToken(subject, web.clientId, sid)).token };
}

async function isEnded(sid: string): Promise<boolean> {
  const { rows } = await h.deps.pool.query<{ ended: boolean }>('SELECT revoked_at IS NOT NULL AS ended FROM sessions WHERE id = $1', [sid]);
  return rows[0]?.ended ?? false;
}

const get = (params: Record<string, string>) => fetch(`${issuer}/v1/logout?${new URLSearchParams(params).toString()}`, { redirect: 'manual' });
const post = (form: Record<string, string>) =>
  fetch(`${issuer}/v1/logout`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });

beforeAll(async () => {
  server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  h = await createAuthHarness('end-session', { settings: { issuer } });
  server.on('request', createAuthApp(wireAuth(h.deps)));
  org = await h.createOrganization();
  web = await h.createApplication(org.id, 'web');
  await h.deps.pool.query('UPDATE applications SET redirect_uris = $2 WHERE id = $1', [web.id, ['https://rp.example/callback', signedOut]]);
  other = await h.createApplication(org.id, 'other');
  await h.deps.pool.query('UPDATE applications SET redirect_uris = $2 WHERE id = $1', [other.id, [otherAppsUri]]);
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await h?.close();
});

describe('the end-session endpoint discovery advertises', () => {
  it('openid-client builds the logout URL from discovery; the GET ends the session and redirects to the registered URI with state', async () => {
    const config = await oidc.discovery(new URL(issuer), web.clientId, web.clientSecret, oidc.ClientSecretBasic(web.clientSecret), { execute: [oidc.allowInsecureRequests] });
    expect(config.serverMetadata().end_session_endpoint).toBe(`${issuer}/v1/logout`);
    const { sid, idToken } = await session();
    const state = oidc.randomState();
    const url = oidc.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: signedOut, state });
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${signedOut}?state=${state}`);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await isEnded(sid)).toBe(true);
  });

  it('a GET without a redirect ends the session and answers 200 with an empty body', async () => {
    const { sid, idToken } = await session();
    const res = await get({ id_token_hint: idToken });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    expect(await isEnded(sid)).toBe(true);
  });

  it("the contract's form POST redirects too when a registered URI is asked, and keeps its empty 200 otherwise", async () => {
    const first = await session();
    const redirected = await post({ id_token_hint: first.idToken, post_logout_redirect_uri: signedOut, client_id: web.clientId });
    expect(redirected.status).toBe(302);
    expect(redirected.headers.get('location')).toBe(signedOut);
    expect(await isEnded(first.sid)).toBe(true);
    const second = await session();
    const plain = await post({ id_token_hint: second.idToken });
    expect(plain.status).toBe(200);
    expect(await plain.text()).toBe('');
    expect(await isEnded(second.sid)).toBe(true);
  });
});

describe('a redirect it may not make is refused before anything ends', () => {
  it('an unregistered URI, another application’s URI, a client_id that is not the hint’s client, an unknown parameter: 400, session alive', async () => {
    const { sid, idToken } = await session();
    const refusals: [Record<string, string>, string][] = [
      [{ id_token_hint: idToken, post_logout_redirect_uri: 'https://evil.example/' }, 'post_logout_redirect_uri'],
      [{ id_token_hint: idToken, post_logout_redirect_uri: `${signedOut}/` }, 'post_logout_redirect_uri'],
      [{ id_token_hint: idToken, post_logout_redirect_uri: otherAppsUri }, 'post_logout_redirect_uri'],
      [{ id_token_hint: idToken, post_logout_redirect_uri: otherAppsUri, client_id: other.clientId }, 'client_id'],
      [{ id_token_hint: idToken, client_id: other.clientId }, 'client_id'],
    ];
    for (const [params, field] of refusals) {
      for (const res of [await get(params), await post(params)]) {
        expect(res.status).toBe(400);
        expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(res.headers.get('location')).toBeNull();
        const problem = (await res.json()) as { code: string; field?: string; message: string };
        expect(problem.message, JSON.stringify(problem)).toContain(field);
      }
    }
    const unknown = await get({ id_token_hint: idToken, redirect_to: 'https://evil.example/' });
    expect(unknown.status).toBe(400);
    expect(await isEnded(sid)).toBe(false);
    // The same hint, asked properly, still works.
    expect((await get({ id_token_hint: idToken, post_logout_redirect_uri: signedOut })).status).toBe(302);
    expect(await isEnded(sid)).toBe(true);
  });
});
