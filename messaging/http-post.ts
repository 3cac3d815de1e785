import { MessageSendError } from './message-sender.js';

export interface HttpPost {
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * One POST to a provider, bounded by `timeoutMs`, redirects refused (a 3xx is a rejection: following it
 * would resend credentials to wherever the provider points). Any 2xx is success; the response body is
 * discarded unread, so nothing the provider says can reach our answer or logs.
 */
export async function postOnce(fetchFn: typeof fetch, request: HttpPost, label: string, timeoutMs: number): Promise<void> {
  let response: Response;
  try {
    response = await fetchFn(request.url, {
      method: 'POST',
      headers: { 'User-Agent': 'access-manager', ...request.headers },
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const name = (error as { name?: unknown } | undefined)?.name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      throw new MessageSendError('timeout', { detail: `${label}: no answer within ${timeoutMs} ms` });
    }
    const code = (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
    throw new MessageSendError('unreachable', { detail: `${label}: ${typeof code === 'string' ? code : 'network error'}` });
  }
  await response.body?.cancel().catch(() => undefined);
  if (response.status < 200 || response.status > 299) {
    const status = response.status;
    throw new MessageSendError('rejected', { detail: `${label} answered ${status}`, status, retryable: status === 429 || status >= 500 });
  }
}

/** `path` below `base`, keeping any path prefix of the base URL. */
export function endpointUrl(base: string, path: string): URL {
  const url = new URL(base);
  if (!url.pathname.endsWith('/')) url.pathname = `${url.pathname}/`;
  return new URL(path, url);
}
