import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRecoveryCodes, hashRecoveryCode } from '../../domain/recovery-codes.js';
import { createTotpSecret, totpCodeAt } from '../../domain/totp.js';
import { createAuthHarness, type AuthHarness } from '../../test/support/auth-harness.js';
import { createAuthApp } from '../app.js';
import { wireAuth } from '../wiring.js';
import type { AuthDeps } from '../deps.js';

const redirectUri = 'https://rp.example/callback';

let h: AuthHarness;
let server: http.Server;
let issuer: string;
let org: { id: string; slug: string };
let publicClient: { id: string; clientId: string };
let confidential: { id: string; clientId: string; clientSecret: string };
let now = Date.now();
const mailed: { to: string; code: string }[] = [];

/** A browser as the hosted page sees one: a cookie jar, no script, redirects read rather than followed. */
class Browser {
  private readonly cookies = new Map<string, string>();

  async open(url: string | URL, init: { method?: string; form?: Record<string, string> } = {}): Promise<{ status: number; html: string; location: string | null; headers: Headers }> {
    const headers: Record<string, string> = {};
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(url, { method: init.method ?? 'GET', headers, redirect: 'manual', ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}) });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const eq = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    return { status: res.status, html: await res.text(), location: res.headers.get('location'), headers: res.headers };
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  forget(name: string): void {
    this.cookies.delete(name);
  }
}

/** The hidden fields of the page's first form that posts `step`. */
function formOf(html: string, step: string): Record<string, string> {
  const forms = html.split('<form').slice(1);
  const form = forms.find((f) => f.includes(`name="step" value="${step}"`));
  if (!form) throw new Error(`no ${step} form on the page:\n${html}`);
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(form)?.[1] ?? '';
  return { request: field('request'), form_token: field('form_token'), step };
}

async function discovered(clientId: string, secret?: string): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(issuer), clientId, secret, secret === undefined ? oidc.None() : oidc.ClientSecretBasic(secret), { execute: [oidc.allowInsecureRequests] });
}

interface Flow {
  readonly config: oidc.Configuration;
  readonly url: URL;
  readonly verifier: string;
  readonly state: string;
  readonly nonce: string;
}

async function startFlow(clientId = publicClient.clientId, secret?: string, extra: Record<string, string> = {}): Promise<Flow> {
  const config = await discovered(clientId, secret);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  return { config, url, verifier, state, nonce };
}

async function signInWithPassword(browser: Browser, flow: Flow, user: { username: string; password: string }) {
  const page = await browser.open(flow.url);
  expect(page.status).toBe(200);
  return browser.open(`${issuer}/authorize`, { method: 'POST', form: { ...formOf(page.html, 'password'), username: user.username, password: user.password } });
}

async function exchange(flow: Flow, location: string) {
  return oidc.authorizationCodeGrant(flow.config, new URL(location), { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce });
}

const token = (form: Record<string, string>) => fetch(`${issuer}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });

async function codeFrom(location: string | null): Promise<string> {
  const code = location === null ? null : new URL(location).searchParams.get('code');
  if (!code) throw new Error(`no code in ${location}`);
  return code;
}

async function enrolTotp(user: { id: string }): Promise<{ secret: string; recoveryCodes: string[] }> {
  const secret = createTotpSecret();
  const recoveryCodes = generateRecoveryCodes(3);
  await h.deps.pool.query(
    `INSERT INTO user_mfa (org_id, user_id, totp_secret_ciphertext, totp_enabled, recovery_code_hashes, preferred_type) VALUES ($1, $2, $3, true, $4, 'app')`,
    [org.id, user.id, h.deps.secrets.seal(secret, user.id), recoveryCodes.map(hashRecoveryCode)],
  );
  return { secret, recoveryCodes };
}

async function userinfoStatus(accessToken: string): Promise<number> {
  return (await fetch(`${issuer}/v1/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } })).status;
}

beforeAll(async () => {
  server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  h = await createAuthHarness('hosted-sign-in', { settings: { issuer }, clock: { nowMs: () => now } });
  const deps: AuthDeps = { ...h.deps, deliverMfaCode: async ({ to, code }) => void mailed.push({ to, code }) };
  server.on('request', createAuthApp(wireAuth(deps)));
  org = await h.createOrganization();
  const created = await h.createApplication(org.id, 'spa');
  await h.deps.pool.query('UPDATE applications SET client_secret_hash = NULL, redirect_uris = $2 WHERE id = $1', [created.id, [redirectUri, 'http://127.0.0.1:9/cb?x=1']]);
  publicClient = { id: created.id, clientId: created.clientId };
  confidential = await h.createApplication(org.id, 'web');
  await h.deps.pool.query('UPDATE applications SET redirect_uris = $2 WHERE id = $1', [confidential.id, [redirectUri]]);
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await h?.close();
});

describe('the authorization code flow with openid-client as an unmodified relying party', () => {
  it('signs in with a password: state, nonce, iss and PKCE check out, the ID token carries the nonce, the access token works', async () => {
    const user = await h.createUser(org.id);
    const flow = await startFlow();
    const browser = new Browser();
    const done = await signInWithPassword(browser, flow, user);
    expect(done.status).toBe(303);
    expect(done.location).toMatch(/^https:\/\/rp\.example\/callback\?code=/);
    expect(new URL(done.location!).searchParams.get('iss')).toBe(issuer);
    const tokens = await exchange(flow, done.location!);
    expect(tokens.claims()).toMatchObject({ sub: user.id, nonce: flow.nonce, aud: publicClient.clientId, amr: ['pwd'], tenantId: org.id });
    expect(tokens.refresh_token).toEqual(expect.any(String));
    const info = await oidc.fetchUserInfo(flow.config, tokens.access_token, user.id);
    expect(info.sub).toBe(user.id);
  });

  it('a confidential client must authenticate with its secret at the token endpoint', async () => {
    const user = await h.createUser(org.id);
    const flow = await startFlow(confidential.clientId, confidential.clientSecret);
    const done = await signInWithPassword(new Browser(), flow, user);
    const withoutSecret = await token({ grant_type: 'authorization_code', code: await codeFrom(done.location), redirect_uri: redirectUri, code_verifier: flow.verifier, client_id: confidential.clientId });
    expect(withoutSecret.status).toBe(401);
    expect((await withoutSecret.json() as { error?: string }).error).toBe('invalid_client');
    const tokens = await exchange(flow, done.location!);
    expect(tokens.claims()?.sub).toBe(user.id);
  });

  it('with an authenticator: the page asks for the code, and the ID token says mfa', async () => {
    const user = await h.createUser(org.id);
    const { secret } = await enrolTotp(user);
    const flow = await startFlow();
    const browser = new Browser();
    const mfaPage = await signInWithPassword(browser, flow, user);
    expect(mfaPage.status).toBe(200);
    expect(mfaPage.html).toContain('Verify it is you');
    const wrong = await browser.open(`${issuer}/authorize`, { method: 'POST', form: { ...formOf(mfaPage.html, 'mfa'), mfa_type: 'app', passcode: '000000' === (await totpCodeAt(secret, now)) ? '111111' : '000000' } });
    expect(wrong.status).toBe(400);
    expect(wrong.html).toContain('That code is not right.');
    const done = await browser.open(`${issuer}/authorize`, { method: 'POST', form: { ...formOf(wrong.html, 'mfa'), mfa_type: 'app', passcode: await totpCodeAt(secret, now) } });
    expect(done.status).toBe(303);
    const tokens = await exchange(flow, done.location!);
    expect(tokens.claims()).toMatchObject({ sub: user.id, amr: ['pwd', 'otp', 'mfa'] });
  });

  it('with a recovery code and "remember this device": the next sign-in in that browser skips the second factor', async () => {
    const user = await h.createUser(org.id);
    const { recoveryCodes } = await enrolTotp(user);
    const browser = new Browser();
    const flow = await startFlow();
    const mfaPage = await signInWithPassword(browser, flow, user);
    const done = await browser.open(`${issuer}/authorize`, { method: 'POST', form: { ...formOf(mfaPage.html, 'recovery'), recovery_code: recoveryCodes[0]!, remember_device: 'on' } });
    expect(done.status).toBe(303);
    expect(browser.cookie('am_device')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await exchange(flow, done.location!)).claims()?.amr).toEqual(['pwd', 'mfa']);
    const again = await startFlow();
    const skipped = await signInWithPassword(browser, again, user);
    expect(skipped.status).toBe(303);
    expect((await exchange(again, skipped.location!)).claims()?.sub).toBe(user.id);
    // Another browser has no remembered device.
    expect((await signInWithPassword(new Browser(), await startFlow(), user)).html).toContain('Verify it is you');
  });

  it('with an e-mailed code: sent when the page asks for it, accepted once', async () => {
    const user = await h.createUser(org.id);
    await h.deps.pool.query(`INSERT INTO user_mfa (org_id, user_id, email_enabled, preferred_type) VALUES ($1, $2, true, 'email')`, [org.id, user.id]);
    const browser = new Browser();
    const flow = await startFlow();
    const mfaPage = await signInWithPassword(browser, flow, user);
    // Without an authenticator the page sends the first code at once.
    expect(mfaPage.html).toContain('A code was sent to the e-mail address on file');
    const first = mailed.filter((m) => m.to === `${user.username}@example.test`).at(-1)!.code;
    const resent = await browser.open(`${issuer}/authorize`, { method: 'POST', form: { ...formOf(mfaPage.html, 'send_code') } });
    expect(resent.status).toBe(200);
    const second = mailed.filter((m) => m.to === `${user.username}@example.test`).at(-1)!.code;
    const done = await browser.open(`${issuer}/authorize`, { method: 'POST', form: { ...formOf(resent.html, 'mfa'), mfa_type: 'email', passcode: second } });
    expect(done.status).toBe(303);
    expect((await exchange(flow, done.location!)).claims()?.sub).toBe(user.id);
    expect(first).toMatch(/^[0-9]{6}$/);
  });
});

describe('the authorization code (RFC 6749 4.1, RFC 7636)', () => {
  async function codeFor(flow: Flow, user?: { username: string; password: string }): Promise<string> {
    return codeFrom((await signInWithPassword(new Browser(), flow, user ?? (await h.createUser(org.id)))).location);
  }

  it('a code used twice: the second use is invalid_grant and ends the session the first one started', async () => {
    const flow = await startFlow();
    const code = await codeFor(flow);
    const form = { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: flow.verifier, client_id: publicClient.clientId };
    const first = await token(form);
    expect(first.status).toBe(200);
    const issued = (await first.json()) as { access_token: string; refresh_token: string };
    expect(await userinfoStatus(issued.access_token)).toBe(200);
    const second = await token(form);
    expect(second.status).toBe(400);
    expect((await second.json() as { error?: string }).error).toBe('invalid_grant');
    expect(await userinfoStatus(issued.access_token)).toBe(401);
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: issued.refresh_token, client_id: publicClient.clientId });
    expect((await refreshed.json() as { error?: string }).error).toBe('invalid_grant');
  });

  it('twenty concurrent exchanges of one code: exactly one succeeds', async () => {
    const flow = await startFlow();
    const code = await codeFor(flow);
    const form = { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: flow.verifier, client_id: publicClient.clientId };
    const statuses = await Promise.all(Array.from({ length: 20 }, async () => (await token(form)).status));
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400)).toHaveLength(19);
  });

  it('a code expires after 60 seconds (at most 10 minutes)', async () => {
    const flow = await startFlow();
    const code = await codeFor(flow);
    now += 61_000;
    try {
      const res = await token({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: flow.verifier, client_id: publicClient.clientId });
      expect((await res.json() as { error?: string }).error).toBe('invalid_grant');
    } finally {
      now -= 61_000;
    }
  });

  it('PKCE: a missing verifier is invalid_request, a wrong one or one of another flow invalid_grant; the code still works with its own', async () => {
    const flow = await startFlow();
    const other = await startFlow();
    const code = await codeFor(flow);
    const base = { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: publicClient.clientId };
    expect((await (await token(base)).json() as { error?: string }).error).toBe('invalid_request');
    expect((await (await token({ ...base, code_verifier: 'x'.repeat(43) })).json() as { error?: string }).error).toBe('invalid_grant');
    expect((await (await token({ ...base, code_verifier: other.verifier })).json() as { error?: string }).error).toBe('invalid_grant');
    expect((await token({ ...base, code_verifier: flow.verifier })).status).toBe(200);
  });

  it('a code is bound to its client and redirect URI', async () => {
    const flow = await startFlow();
    const code = await codeFor(flow);
    const base = { grant_type: 'authorization_code', code, code_verifier: flow.verifier };
    const byOther = await fetch(`${issuer}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${confidential.clientId}:${confidential.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ ...base, redirect_uri: redirectUri }).toString(),
    });
    expect((await byOther.json() as { error?: string }).error).toBe('invalid_grant');
    expect((await (await token({ ...base, client_id: publicClient.clientId, redirect_uri: `${redirectUri}/` })).json() as { error?: string }).error).toBe('invalid_grant');
    expect((await token({ ...base, client_id: publicClient.clientId, redirect_uri: redirectUri })).status).toBe(200);
  });

  it('a public client has no secret: client_credentials never succeeds for it, whatever secret is sent', async () => {
    for (const secret of ['', 'dummy password for timing', 'anything']) {
      const res = await fetch(`${issuer}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: publicClient.clientId, client_secret: secret || 'x' }).toString(),
      });
      expect(res.status).toBe(401);
    }
  });
});

describe('GET /authorize refusals', () => {
  it.each([
    ['a trailing slash', `${redirectUri}/`],
    ['a case change', 'https://RP.example/callback'],
    ['an extra query', `${redirectUri}?next=/admin`],
    ['user information', 'https://rp.example@evil.example/callback'],
    ['a fragment', `${redirectUri}#frag`],
    ['another host', 'https://evil.example/callback'],
  ])('a redirect_uri with %s is shown on the page, never redirected to', async (_name, uri) => {
    const flow = await startFlow();
    flow.url.searchParams.set('redirect_uri', uri);
    const res = await new Browser().open(flow.url);
    expect(res.status).toBe(400);
    expect(res.location).toBeNull();
    expect(res.html).toContain('not one registered');
  });

  it('an unknown or missing client_id, or a missing or repeated redirect_uri, is shown on the page', async () => {
    const flow = await startFlow();
    const cases = [
      (u: URL) => u.searchParams.set('client_id', 'am_unknown'),
      (u: URL) => u.searchParams.delete('client_id'),
      (u: URL) => u.searchParams.delete('redirect_uri'),
      (u: URL) => u.searchParams.append('redirect_uri', redirectUri),
    ];
    for (const change of cases) {
      const url = new URL(flow.url);
      change(url);
      const res = await new Browser().open(url);
      expect(res.status).toBe(400);
      expect(res.location).toBeNull();
    }
  });

  it('after a good client and redirect URI, errors go back to the client with its state: no PKCE, plain, wrong response_type', async () => {
    const flow = await startFlow();
    const cases: [(u: URL) => void, string][] = [
      [(u) => u.searchParams.delete('code_challenge'), 'invalid_request'],
      [(u) => u.searchParams.set('code_challenge_method', 'plain'), 'invalid_request'],
      [(u) => u.searchParams.set('response_type', 'token'), 'unsupported_response_type'],
      [(u) => u.searchParams.set('prompt', 'none'), 'login_required'],
    ];
    for (const [change, error] of cases) {
      const url = new URL(flow.url);
      change(url);
      const res = await new Browser().open(url);
      expect(res.status).toBe(303);
      const back = new URL(res.location!);
      expect(`${back.origin}${back.pathname}`).toBe(redirectUri);
      expect(back.searchParams.get('error')).toBe(error);
      expect(back.searchParams.get('state')).toBe(flow.state);
    }
  });

  it('the page is served with strict headers: CSP without unsafe-inline, no framing, no referrer, no caching', async () => {
    const res = await new Browser().open((await startFlow()).url);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("form-action 'self' https://rp.example");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.html).not.toMatch(/<script>|\sstyle=|\son[a-z]+=/);
    const css = await new Browser().open(`${issuer}/authorize/sign-in.css`);
    expect(css.headers.get('content-type')).toContain('text/css');
  });

  it('values from the request are escaped on the page', async () => {
    const flow = await startFlow(publicClient.clientId, undefined, { login_hint: '"><script>alert(1)</script>' });
    const res = await new Browser().open(flow.url);
    expect(res.html).not.toContain('<script>alert(1)');
    expect(res.html).toContain('&quot;&gt;&lt;script&gt;');
  });
});

describe('POST /authorize is CSRF-protected', () => {
  it('a post without the browser cookie, from another browser, with a wrong or a spent form token is refused and signs no one in', async () => {
    const user = await h.createUser(org.id);
    const browser = new Browser();
    const page = await browser.open((await startFlow()).url);
    const form = { ...formOf(page.html, 'password'), username: user.username, password: user.password };
    const cookie = browser.cookie('am_sign_in')!;

    const stranger = new Browser();
    expect((await stranger.open(`${issuer}/authorize`, { method: 'POST', form })).status).toBe(403);
    await stranger.open((await startFlow()).url); // a cookie of its own, not the one the request is bound to
    expect((await stranger.open(`${issuer}/authorize`, { method: 'POST', form })).status).toBe(403);
    expect((await browser.open(`${issuer}/authorize`, { method: 'POST', form: { ...form, form_token: 'A'.repeat(43) } })).status).toBe(403);

    const first = await browser.open(`${issuer}/authorize`, { method: 'POST', form });
    expect(first.status).toBe(303);
    const replay = await browser.open(`${issuer}/authorize`, { method: 'POST', form });
    expect(replay.status).toBe(403);
    expect(replay.location).toBeNull();
    expect(browser.cookie('am_sign_in')).toBe(cookie);
  });

  it('a wrong password re-shows the page with a fresh form token; the page is refused once the request expired', async () => {
    const user = await h.createUser(org.id);
    const browser = new Browser();
    const flow = await startFlow();
    const page = await browser.open(flow.url);
    const wrong = await browser.open(`${issuer}/authorize`, { method: 'POST', form: { ...formOf(page.html, 'password'), username: user.username, password: 'not-the-password' } });
    expect(wrong.status).toBe(400);
    expect(wrong.html).toContain('The username or password is not right.');
    expect(formOf(wrong.html, 'password').form_token).not.toBe(formOf(page.html, 'password').form_token);
    now += 601_000;
    try {
      const late = await browser.open(`${issuer}/authorize`, { method: 'POST', form: { ...formOf(wrong.html, 'password'), username: user.username, password: user.password } });
      expect(late.status).toBe(403);
    } finally {
      now -= 601_000;
    }
  });

  it('cancel goes back to the client with access_denied and its state', async () => {
    const browser = new Browser();
    const flow = await startFlow();
    const page = await browser.open(flow.url);
    const res = await browser.open(`${issuer}/authorize`, { method: 'POST', form: formOf(page.html, 'cancel') });
    expect(res.status).toBe(303);
    const back = new URL(res.location!);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('state')).toBe(flow.state);
  });
});

describe('the page meets the sign-in lockout', () => {
  it('wrong passwords on the page lock the account for the password grant too, and the page says so', async () => {
    const user = await h.createUser(org.id);
    const browser = new Browser();
    let page = await browser.open((await startFlow()).url);
    for (let i = 0; i < 5; i++) {
      page = await browser.open(`${issuer}/authorize`, { method: 'POST', form: { ...formOf(page.html, 'password'), username: user.username, password: `wrong-${i}` } });
      expect(page.status).toBe(400);
    }
    const locked = await browser.open(`${issuer}/authorize`, { method: 'POST', form: { ...formOf(page.html, 'password'), username: user.username, password: user.password } });
    expect(locked.status).toBe(429);
    expect(locked.html).toContain('Too many failed sign-ins');
    expect(locked.headers.get('retry-after')).toEqual(expect.any(String));
    const grant = await token({ grant_type: 'password', username: user.username, password: user.password });
    expect(grant.status).toBe(429);
  });
});

describe('the per-address limit of the token routes', () => {
  it('counts the page posts with the token routes and answers the page with a 429 page', async () => {
    const limited = await createAuthHarness('hosted-sign-in-limit', { settings: { issuer: 'http://127.0.0.1:1', tokenRateLimit: { limit: 2, windowSeconds: 60 } } });
    try {
      const post = () => limited.http().post('/authorize').type('form').send({ request: 'x', form_token: 'y', step: 'password' });
      expect((await post()).status).toBe(403);
      expect((await limited.http().post('/oauth/token').type('form').send({ grant_type: 'password', username: 'a', password: 'b' })).status).toBe(400);
      const third = await post();
      expect(third.status).toBe(429);
      expect(third.headers['content-type']).toContain('text/html');
      expect(third.text).toContain('Too many sign-in attempts');
    } finally {
      await limited.close();
    }
  });
});

describe('CORS for browser applications', () => {
  it('the token, logout and explain endpoints answer CORS to the origins of registered redirect URIs only, never with credentials', async () => {
    const preflight = (path: string, origin: string) =>
      fetch(`${issuer}${path}`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    for (const path of ['/oauth/token', '/v1/logout', '/v1/authorize/explain']) {
      const good = await preflight(path, 'https://rp.example');
      expect(good.status).toBe(204);
      expect(good.headers.get('access-control-allow-origin')).toBe('https://rp.example');
      expect(good.headers.get('access-control-allow-credentials')).toBeNull();
      const loopback = await preflight(path, 'http://127.0.0.1:9');
      expect(loopback.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:9');
      for (const origin of ['https://evil.example', 'https://rp.example.evil.example', 'null', 'https://RP.example.']) {
        expect((await preflight(path, origin)).headers.get('access-control-allow-origin')).toBeNull();
      }
    }
    const post = await fetch(`${issuer}/oauth/token`, { method: 'POST', headers: { origin: 'https://rp.example', 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=nope' });
    expect(post.headers.get('access-control-allow-origin')).toBe('https://rp.example');
    const other = await fetch(`${issuer}/oauth/token`, { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=nope' });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
