/** Most redirect URIs one application may register, and the longest one. */
export const maxRedirectUris = 20;
export const maxRedirectUriLength = 2000;

const loopbackHosts = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * Why a redirect URI cannot be registered, or undefined when it can: an absolute `https` URI, or `http` only
 * on a loopback host (RFC 8252 7.3, a native or local app); never a fragment (RFC 6749 3.1.2), never user
 * information (`https://good@evil` reads as the host `evil`), no whitespace or control characters. The string is
 * stored as written: a code is sent only to a `redirect_uri` equal to it, character for character.
 *
 * @example
 * redirectUriProblem('https://app.example/callback'); // undefined
 * redirectUriProblem('http://app.example/callback');  // 'http only on a loopback host (127.0.0.1, [::1], localhost)'
 */
export function redirectUriProblem(uri: string): string | undefined {
  if (uri.length === 0 || uri.length > maxRedirectUriLength) return `1 to ${maxRedirectUriLength} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(uri)) return 'no whitespace or control characters';
  if (uri.includes('#')) return 'no fragment (#)';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'an absolute URI';
  }
  if (url.username !== '' || url.password !== '' || uri.slice(url.protocol.length + 2).split('/')[0]?.includes('@')) return 'no user information (user@host)';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:') return loopbackHosts.has(url.hostname) ? undefined : 'http only on a loopback host (127.0.0.1, [::1], localhost)';
  return 'https, or http on a loopback host';
}

/** Whether `requested` is one of the registered URIs, compared exactly (no normalisation of case, slashes or query). */
export function isRegisteredRedirectUri(registered: readonly string[], requested: string): boolean {
  return registered.includes(requested);
}
