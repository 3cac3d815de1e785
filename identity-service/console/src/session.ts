// Sign-in through Auth's hosted page: the authorization code flow with PKCE (S256), as a public client. Tokens
// live in this tab's sessionStorage only (gone when the tab closes); the page's CSP allows no script but ours.

export interface ConsoleConfig {
  readonly issuer: string;
  readonly clientId: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly logoutEndpoint: string;
  /** Auth's explain endpoint: the decision tester's answers. */
  readonly explainEndpoint: string;
}

export interface Tokens {
  readonly accessToken: string;
  readonly refreshToken: string | undefined;
  readonly idToken: string | undefined;
  readonly expiresAtMs: number;
}

export interface Person {
  readonly sub: string;
  readonly name: string;
  readonly username: string;
  readonly tenantId: string;
}

const tokensKey = 'am-console-tokens';
const pendingKey = 'am-console-pending';

export function redirectUri(): string {
  return `${location.origin}/console/`;
}

function base64url(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomText(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

async function s256(verifier: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

export async function loadConfig(): Promise<ConsoleConfig> {
  const res = await fetch('/console/config.json', { cache: 'no-store' });
  if (!res.ok) throw new Error(`the console's configuration could not be read (HTTP ${res.status})`);
  return (await res.json()) as ConsoleConfig;
}

/** Leaves for Auth's sign-in page; the state, nonce and verifier wait in this tab for the way back. */
export async function signIn(config: ConsoleConfig, returnTo: string): Promise<void> {
  const verifier = randomText();
  const state = randomText();
  const nonce = randomText();
  sessionStorage.setItem(pendingKey, JSON.stringify({ verifier, state, nonce, returnTo }));
  const url = new URL(config.authorizationEndpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: redirectUri(),
    scope: 'openid profile',
    code_challenge: await s256(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  }).toString();
  location.assign(url.toString());
}

function tokensOf(body: Record<string, unknown>): Tokens {
  return {
    accessToken: String(body.access_token),
    refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : undefined,
    idToken: typeof body.id_token === 'string' ? body.id_token : undefined,
    expiresAtMs: Date.now() + Number(body.expires_in ?? 0) * 1000,
  };
}

async function tokenRequest(config: ConsoleConfig, form: Record<string, string>): Promise<Record<string, unknown>> {
  const res = await fetch(config.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...form, client_id: config.clientId }).toString(),
  });
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${String(body.error ?? 'token request failed')}: ${String(body.error_description ?? res.status)}`);
  return body;
}

function claimsOf(jwt: string | undefined): Record<string, unknown> {
  const part = jwt?.split('.')[1];
  if (!part) return {};
  try {
    return JSON.parse(decodeURIComponent(escape(atob(part.replace(/-/g, '+').replace(/_/g, '/'))))) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/**
 * Finishes a sign-in when the URL carries Auth's answer: the state must be this tab's, the issuer Auth's, and the
 * ID token's nonce this sign-in's. Answers where to go next, or throws with what went wrong.
 */
export async function completeSignIn(config: ConsoleConfig): Promise<string | undefined> {
  const params = new URLSearchParams(location.search);
  if (!params.has('code') && !params.has('error')) return undefined;
  const pending = JSON.parse(sessionStorage.getItem(pendingKey) ?? 'null') as { verifier: string; state: string; nonce: string; returnTo: string } | null;
  sessionStorage.removeItem(pendingKey);
  history.replaceState(null, '', '/console/');
  if (!pending || params.get('state') !== pending.state) throw new Error('This sign-in was not started in this tab; sign in again.');
  if (params.has('error')) throw new Error(params.get('error_description') ?? params.get('error') ?? 'sign-in refused');
  if (params.get('iss') !== config.issuer) throw new Error('The answer did not come from this Access Manager.');
  const body = await tokenRequest(config, { grant_type: 'authorization_code', code: params.get('code') ?? '', redirect_uri: redirectUri(), code_verifier: pending.verifier });
  const tokens = tokensOf(body);
  if (claimsOf(tokens.idToken).nonce !== pending.nonce) throw new Error('The ID token is not for this sign-in.');
  sessionStorage.setItem(tokensKey, JSON.stringify(tokens));
  return pending.returnTo;
}

export function storedTokens(): Tokens | undefined {
  return (JSON.parse(sessionStorage.getItem(tokensKey) ?? 'null') as Tokens | null) ?? undefined;
}

export function personOf(tokens: Tokens): Person {
  const id = claimsOf(tokens.idToken);
  return { sub: String(id.sub ?? ''), name: String(id.name ?? id.preferred_username ?? ''), username: String(id.preferred_username ?? ''), tenantId: String(id.tenantId ?? '') };
}

/** A new access token from the refresh token (it rotates); undefined when the session is over. */
export async function refresh(config: ConsoleConfig): Promise<Tokens | undefined> {
  const current = storedTokens();
  if (!current?.refreshToken) return undefined;
  try {
    const tokens = tokensOf(await tokenRequest(config, { grant_type: 'refresh_token', refresh_token: current.refreshToken }));
    const next = { ...tokens, idToken: tokens.idToken ?? current.idToken };
    sessionStorage.setItem(tokensKey, JSON.stringify(next));
    return next;
  } catch {
    sessionStorage.removeItem(tokensKey);
    return undefined;
  }
}

/** Ends the session at Auth (its tokens stop working) and forgets it here. */
export async function signOut(config: ConsoleConfig): Promise<void> {
  const current = storedTokens();
  sessionStorage.removeItem(tokensKey);
  if (!current?.idToken) return;
  await fetch(config.logoutEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ id_token_hint: current.idToken, client_id: config.clientId }).toString(),
  }).catch(() => undefined);
}
