import type { IncomingMessage } from 'node:http';
import { ServiceError } from '../http/service-error.js';

/** Above this a token is refused before any parsing or crypto. */
export const maxTokenLength = 8_192;

const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * The bearer token of a request, strictly: exactly one `Authorization` header with the `Bearer` scheme
 * (RFC 6750), a compact JWS, never a token in the query string. With
 * `allowBareToken` the scheme may be omitted (Lerian's clients forward the raw header to /v1/authorize).
 */
export function bearerToken(req: IncomingMessage, options: { allowBareToken?: boolean } = {}): string {
  let headers = 0;
  const raw = req.rawHeaders;
  // The length test first: no lowercased copy of every other header name on each request.
  for (let i = 0; i < raw.length; i += 2) if (raw[i]?.length === 13 && raw[i]?.toLowerCase() === 'authorization') headers++;
  if (headers > 1) throw new ServiceError('TOKEN_INVALID', { detail: 'more than one Authorization header' });
  const url = req.url ?? '';
  // Without a '?' there is no query to parse.
  const queryAt = url.indexOf('?');
  if (queryAt >= 0 && new URLSearchParams(url.slice(queryAt + 1)).has('access_token')) throw new ServiceError('TOKEN_INVALID', { detail: 'token in the query string' });
  const header = req.headers.authorization;
  if (header === undefined || header.trim() === '') throw new ServiceError('TOKEN_MISSING', { detail: 'no Authorization header' });
  if (header.length > maxTokenLength + 7) throw new ServiceError('TOKEN_INVALID', { detail: 'token too long' });
  let token: string;
  if (header.startsWith('Bearer ')) token = header.slice(7);
  else if (options.allowBareToken && !header.includes(' ')) token = header;
  else throw new ServiceError('TOKEN_INVALID', { detail: 'Authorization scheme is not Bearer' });
  if (!compactJws.test(token)) throw new ServiceError('TOKEN_INVALID', { detail: 'not a compact JWS' });
  return token;
}
