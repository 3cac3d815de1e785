import { refresh, storedTokens, type ConsoleConfig } from './session';

/** An RFC 9457 problem as Identity writes it, with the contract's code and the no-escalation rule's `missing`. */
export interface Problem {
  readonly title?: string;
  readonly detail?: string;
  readonly message?: string;
  readonly code?: string;
  readonly status?: number;
  readonly field?: string;
  readonly requestId?: string;
  readonly missing?: readonly { resource: string; action: string }[];
}

export interface Answer<T> {
  readonly ok: boolean;
  readonly status: number;
  readonly body: T;
  readonly problem: Problem | undefined;
  /** `X-Policy-Revision` of a write: the policy revision the change produced. */
  readonly revision: string | undefined;
}

export interface Page<T> {
  readonly items: T[];
  readonly total: number;
}

let config: ConsoleConfig | undefined;
let onSignedOut: () => void = () => undefined;

/** Auth's explain endpoint (the decision tester calls it with the same token, refreshed the same way). */
export function explainEndpoint(): string {
  return config?.explainEndpoint ?? '/v1/authorize/explain';
}

export function configureApi(next: ConsoleConfig, signedOut: () => void): void {
  config = next;
  onSignedOut = signedOut;
}

async function send(method: string, path: string, body: unknown, accessToken: string): Promise<Response> {
  return fetch(path, {
    method,
    headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** Calls Identity with the signed-in person's token (refreshed once when it expired). */
export async function call<T = unknown>(method: string, path: string, body?: unknown): Promise<Answer<T>> {
  let tokens = storedTokens();
  if (!tokens || !config) {
    onSignedOut();
    return { ok: false, status: 401, body: undefined as T, problem: { title: 'Signed out' }, revision: undefined };
  }
  let res = await send(method, path, body, tokens.accessToken);
  if (res.status === 401) {
    tokens = await refresh(config);
    if (!tokens) {
      onSignedOut();
      return { ok: false, status: 401, body: undefined as T, problem: { title: 'Your session ended; sign in again' }, revision: undefined };
    }
    res = await send(method, path, body, tokens.accessToken);
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  const isProblem = !res.ok;
  return {
    ok: res.ok,
    status: res.status,
    body: parsed as T,
    problem: isProblem ? ((parsed as Problem | undefined) ?? { title: `HTTP ${res.status}` }) : undefined,
    revision: res.headers.get('x-policy-revision') ?? undefined,
  };
}

export function query(params: Record<string, string | number | undefined>): string {
  const entries = Object.entries(params).filter((entry): entry is [string, string | number] => entry[1] !== undefined && entry[1] !== '');
  return entries.length === 0 ? '' : `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}`;
}
