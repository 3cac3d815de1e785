import { z } from 'zod';
import { isRegisteredRedirectUri } from '../../domain/redirect-uri.js';
import { clientIdField, scopeField, usernameField } from '../tokens/token-fields.js';
import { isS256Challenge } from './pkce.js';
import type { ClientRegistration } from '../../directory/client-registrations.js';

/** A checked authorization request: what the sign-in page works for. */
export interface CheckedAuthorization {
  readonly client: ClientRegistration;
  readonly redirectUri: string;
  readonly state: string | undefined;
  readonly nonce: string | undefined;
  readonly codeChallenge: string;
  readonly scope: string | undefined;
  readonly loginHint: string | undefined;
}

/**
 * How a request to the authorization endpoint is answered. Until the client and its redirect URI are known
 * good, a refusal is shown on our page and nothing is sent anywhere (RFC 6749 4.1.2.1: never redirect to an
 * unchecked URI); after that, errors go back to the client with its `state`.
 */
export type AuthorizationCheck =
  | { readonly kind: 'show'; readonly message: string }
  | { readonly kind: 'redirect'; readonly redirectUri: string; readonly state: string | undefined; readonly error: string; readonly description: string }
  | { readonly kind: 'sign-in'; readonly authorization: CheckedAuthorization };

const boundedText = (max: number) => z.string().min(1).max(max).regex(/^[\x20-\x7E]+$/, 'printable ASCII');
const stateField = boundedText(1024);
const nonceField = boundedText(512);

function one(query: Record<string, unknown>, name: string): string | undefined | null {
  const value = query[name];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : null;
}

/**
 * Checks `GET /authorize`'s query (OAuth 2.0 authorization code flow with PKCE, OIDC Core 3.1.2.1). The client
 * is looked up by `lookup`; its redirect URI must equal a registered one exactly (no normalisation: a trailing
 * slash, a case change, another query, user information or a fragment are all different URIs).
 */
export async function checkAuthorizationQuery(
  query: Record<string, unknown>,
  lookup: (clientId: string) => Promise<ClientRegistration | undefined>,
): Promise<AuthorizationCheck> {
  const clientId = one(query, 'client_id');
  if (clientId === undefined || clientId === null || !clientIdField.safeParse(clientId).success) return { kind: 'show', message: 'The request does not name an application (client_id missing, repeated or malformed).' };
  const client = await lookup(clientId);
  if (!client) return { kind: 'show', message: 'The application that sent you here is not known to Access Manager.' };
  const redirectUri = one(query, 'redirect_uri');
  if (redirectUri === undefined || redirectUri === null) return { kind: 'show', message: 'The request has no single redirect_uri; sign-in cannot continue.' };
  if (!isRegisteredRedirectUri(client.redirectUris, redirectUri)) {
    return { kind: 'show', message: `The redirect_uri is not one registered for ${client.name}; sign-in cannot continue.` };
  }
  const rawState = one(query, 'state');
  const state = typeof rawState === 'string' && stateField.safeParse(rawState).success ? rawState : undefined;
  const refuse = (error: string, description: string): AuthorizationCheck => ({ kind: 'redirect', redirectUri, state, error, description });

  if (rawState === null || (rawState !== undefined && state === undefined)) return refuse('invalid_request', 'state must be one value of printable ASCII, at most 1024 characters');
  for (const [name, value] of Object.entries(query)) if (typeof value !== 'string') return refuse('invalid_request', `${name.slice(0, 40)} is repeated`);
  if (query.request !== undefined) return refuse('request_not_supported', 'request objects are not supported');
  if (query.request_uri !== undefined) return refuse('request_uri_not_supported', 'request_uri is not supported');
  const responseType = one(query, 'response_type');
  if (responseType === undefined) return refuse('invalid_request', 'response_type is required');
  if (responseType !== 'code') return refuse('unsupported_response_type', 'only response_type=code is supported');
  const responseMode = one(query, 'response_mode');
  if (responseMode !== undefined && responseMode !== 'query') return refuse('invalid_request', 'only response_mode=query is supported');
  const challenge = one(query, 'code_challenge');
  if (challenge === undefined || challenge === null) return refuse('invalid_request', 'code_challenge is required (PKCE with S256)');
  if (one(query, 'code_challenge_method') !== 'S256') return refuse('invalid_request', 'code_challenge_method must be S256');
  if (!isS256Challenge(challenge)) return refuse('invalid_request', 'code_challenge must be 43 base64url characters (S256)');
  const nonce = one(query, 'nonce');
  if (typeof nonce === 'string' && !nonceField.safeParse(nonce).success) return refuse('invalid_request', 'nonce must be printable ASCII, at most 512 characters');
  const scope = one(query, 'scope');
  if (typeof scope === 'string' && !scopeField.safeParse(scope).success) return refuse('invalid_scope', 'scope is malformed');
  // No single sign-on session is kept: every authorization asks for the credentials.
  if (one(query, 'prompt') === 'none') return refuse('login_required', 'the user must sign in');
  const hint = one(query, 'login_hint');
  return {
    kind: 'sign-in',
    authorization: {
      client,
      redirectUri,
      state,
      nonce: nonce ?? undefined,
      codeChallenge: challenge,
      scope: scope ?? undefined,
      loginHint: typeof hint === 'string' && usernameField.safeParse(hint).success ? hint : undefined,
    },
  };
}

/** The client's redirect URI with the response parameters added (RFC 6749 4.1.2; `iss` per RFC 9207). */
export function redirectWith(redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.append(name, value);
  return url.toString();
}
