// The checks of a fresh install, end to end over HTTP, as an operator would make them by hand.
import { z } from 'zod';

/** `npm run doctor`'s own variables (with npm start's ports, host and BOOTSTRAP_ADMIN_* for the defaults). */
export const doctorConfigSchema = z.object({
  AUTH_URL: z.url({ protocol: /^https?$/ }).optional(),
  IDENTITY_URL: z.url({ protocol: /^https?$/ }).optional(),
  DOCTOR_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
});

export interface DoctorTarget {
  readonly authUrl: string;
  readonly identityUrl: string;
  readonly username: string;
  readonly password: string;
  /** Per request. */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

export interface DoctorCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** The built-in groups a fresh install must show (Lerian's seed). */
export const expectedSeededGroups = ['admin-group', 'midaz-editor-group', 'midaz-viewer-group'] as const;

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text.slice(0, 200);
  }
}

function describeFailure(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error.cause as { code?: string } | undefined)?.code;
    return cause ? `${error.message} (${cause})` : error.message;
  }
  return String(error);
}

/**
 * Runs every check in order (a later check needs the token of an earlier one) and returns one line per check;
 * a check that cannot run because an earlier one failed says so.
 *
 * @example
 * const checks = await runDoctor({ authUrl, identityUrl, username: 'admin', password });
 * const healthy = checks.every((check) => check.ok);
 */
export async function runDoctor(target: DoctorTarget): Promise<DoctorCheck[]> {
  const doFetch = target.fetch ?? globalThis.fetch;
  const timeoutMs = target.timeoutMs ?? 5_000;
  const call = (url: string, init: RequestInit = {}) => doFetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  const checks: DoctorCheck[] = [];
  const record = async (name: string, run: () => Promise<string>): Promise<boolean> => {
    try {
      checks.push({ name, ok: true, detail: await run() });
      return true;
    } catch (error) {
      checks.push({ name, ok: false, detail: describeFailure(error) });
      return false;
    }
  };

  for (const [service, base] of [
    ['Auth', target.authUrl],
    ['Identity', target.identityUrl],
  ] as const) {
    await record(`${service} is alive (${base}/health)`, async () => {
      const response = await call(`${base}/health`);
      const body = await response.text();
      if (response.status !== 200 || body !== 'healthy') throw new Error(`answered ${response.status} ${JSON.stringify(body.slice(0, 100))}`);
      return 'healthy';
    });
    await record(`${service} is ready (${base}/ready)`, async () => {
      const response = await call(`${base}/ready`);
      const body = (await readJson(response)) as { failing?: string[]; checks?: Record<string, unknown> };
      if (response.status !== 200) throw new Error(`answered ${response.status}; failing: ${(body.failing ?? []).join(', ') || 'unknown'}`);
      return `checked ${Object.keys(body.checks ?? {}).join(', ')}`;
    });
  }

  let accessToken: string | undefined;
  await record(`a token request succeeds (${target.username})`, async () => {
    const response = await call(`${target.authUrl}/v1/login/oauth/access_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grantType: 'password', username: target.username, password: target.password }),
    });
    const body = (await readJson(response)) as { accessToken?: string; mfaRequired?: boolean; code?: string; title?: string };
    if (response.status !== 200) throw new Error(`answered ${response.status} ${body.code ?? ''} ${body.title ?? ''}`.trim());
    if (body.mfaRequired) throw new Error('the account asks for MFA: the doctor cannot answer a challenge');
    if (typeof body.accessToken !== 'string') throw new Error('no accessToken in the answer');
    accessToken = body.accessToken;
    return 'access token issued';
  });

  await record('Identity lists the seeded groups (GET /v1/groups)', async () => {
    if (!accessToken) throw new Error('skipped: no token');
    const response = await call(`${target.identityUrl}/v1/groups?limit=100`, { headers: { authorization: `Bearer ${accessToken}` } });
    const body = (await readJson(response)) as { items?: { name?: string }[]; total?: number; code?: string; title?: string };
    if (response.status !== 200) throw new Error(`answered ${response.status} ${body.code ?? ''} ${body.title ?? ''}`.trim());
    const names = new Set((body.items ?? []).map((group) => group.name));
    const missing = expectedSeededGroups.filter((name) => !names.has(name));
    if (missing.length > 0) throw new Error(`missing built-in groups: ${missing.join(', ')}`);
    return `${body.total ?? names.size} groups, built-ins present`;
  });
  return checks;
}

/** `✓ name — detail` / `✗ name — detail`, then a summary line. */
export function formatDoctorReport(checks: readonly DoctorCheck[]): string {
  const lines = checks.map((check) => `${check.ok ? '✓' : '✗'} ${check.name} — ${check.detail}`);
  const failed = checks.filter((check) => !check.ok).length;
  lines.push(failed === 0 ? `all ${checks.length} checks passed` : `${failed} of ${checks.length} checks failed`);
  return `${lines.join('\n')}\n`;
}
