// `npm run start:auth` with AUTH_WORKERS=2: two worker processes behind one port. Each answers requests, a scrape
// gathers both, an in-process rate limit counts for the server as a whole, a logout answered by one worker is honoured by the other at once (not after the replicas'
// staleness bound), a worker that dies is replaced, and SIGTERM stops them all.
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../local-start/free-port.js';
import { createAuthHarness, type AuthHarness } from '../test/support/auth-harness.js';
import { createTestLicenseEnv, testLicenseEnv } from '../test/support/license.js';
import { runMain, type RunningMain } from '../test/support/service-main.js';

const mainPath = fileURLToPath(new URL('./main.ts', import.meta.url));
const metricsToken = randomBytes(32).toString('hex');
let h: AuthHarness;
let port: number;
let main: RunningMain;

interface Answer {
  readonly status: number;
  readonly body: string;
}

/** One request on a connection of its own, so node:cluster may hand it to either worker. */
function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { ...headers, connection: 'close' }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.once('error', reject);
    // A connection handed to a worker as it is killed may never be answered: the probe then asks again.
    req.setTimeout(5_000, () => req.destroy(new Error(`${method} ${path}: no answer in 5 s`)));
    req.end(body);
  });
}

const scrape = async (): Promise<string> => (await send('GET', '/metrics', { authorization: `Bearer ${metricsToken}` })).body;
const workerIds = (text: string): Set<string> => new Set([...text.matchAll(/process_cpu_seconds_total\{[^}]*worker="(\d+)"/g)].map((m) => m[1] ?? ''));
/** The process of each worker that has said it listens (pino's `pid`). */
const listeningPids = (): number[] => [...main.output().matchAll(/"pid":(\d+)[^\n]*"msg":"auth listening"/g)].map((m) => Number(m[1]));

/** `start:auth` with two workers over the harness's database, in single-tenant mode, on `port` (no license: each test adds its own; runMain adds PATH). */
function workersEnv(port: number): Record<string, string> {
  return {
    AUTH_WORKERS: '2',
    DATABASE_URL: h.schema.url,
    DB_MIGRATE_ON_START: 'false',
    TOKEN_ISSUER: 'https://auth.test.local',
    DEFAULT_ORGANIZATION_ID: h.defaultTenantId,
    SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    MFA_SECRET: randomBytes(32).toString('base64'),
    SERVER_PORT: String(port),
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not happen in time:\n${main.output()}`);
}

beforeAll(async () => {
  h = await createAuthHarness('auth_workers', { multiTenant: false });
  // The workers sign with keys of their own (under their own SECRETS_ENCRYPTION_KEY); the harness's would not open.
  await h.schema.newPool({ max: 1 }).query('DELETE FROM signing_keys').then(() => undefined);
  port = await freePort();
  main = runMain(mainPath, {
    ...workersEnv(port),
    ...testLicenseEnv,
    POLICY_CHANGE_CHANNEL: `am_${randomBytes(4).toString('hex')}`,
    METRICS_TOKEN: metricsToken,
    LOG_LEVEL: 'info',
    // Counted in process (no Valkey here): each of the two workers counts a half share of the token routes' limit.
    RATE_LIMIT_TOKEN_MAX: '4',
    RATE_LIMIT_MAX: '100000',
  });
  // Both workers listen once a scrape (gathered through the primary) names two of them.
  await until('two workers listening', async () => (workerIds(await scrape()).size === 2 && listeningPids().length === 2 ? true : undefined), 60_000);
}, 90_000);

afterAll(async () => {
  if (main.child.exitCode === null) {
    process.stderr.write(`auth workers still running at the end; their output:\n${main.output().slice(-4000)}\n`);
    main.child.kill('SIGKILL');
    await main.exited;
  }
  await h?.close();
});

describe('Auth with AUTH_WORKERS=2', () => {
  it('serves from both workers, and a logout answered by one is refused by the other at once', async () => {
    const user = await h.createUser(h.defaultTenantId);
    const signIn = await send('POST', '/v1/login/oauth/access_token', { 'content-type': 'application/json' }, JSON.stringify({ grantType: 'password', username: user.username, password: user.password }));
    expect(signIn.status, signIn.body).toBe(200);
    const { accessToken, idToken } = JSON.parse(signIn.body) as { accessToken: string; idToken: string };
    const authorize = () => send('POST', '/v1/authorize', { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` }, JSON.stringify({ sub: `${String(decodeJwt(accessToken).owner)}/${user.id}`, resource: 'accounts', action: 'get' }));
    // Enough connections that each worker has checked the token (and cached its verdict) several times.
    const before = await Promise.all(Array.from({ length: 20 }, authorize));
    expect(before.map((a) => a.status), before[0]?.body).toEqual(before.map(() => 200));
    const served = [...(await scrape()).matchAll(/http_request_duration_seconds_count\{[^}]*route="\/v1\/authorize"[^}]*worker="(\d+)"[^}]*\} (\d+)/g)];
    expect(new Set(served.map((m) => m[1])).size).toBe(2);

    const logout = await send('POST', '/v1/logout', { 'content-type': 'application/x-www-form-urlencoded' }, `id_token_hint=${idToken}`);
    expect(logout.status, logout.body).toBe(200);
    // At once, on every worker: with no relay the other worker would keep its "active" verdict for up to 2 s.
    const after = await Promise.all(Array.from({ length: 20 }, authorize));
    expect(after.map((a) => a.status)).toEqual(after.map(() => 401));
  });

  it('counts an in-process rate limit as one server: each worker holds half of it', async () => {
    // One sign-in so far (the test above) took one of its worker's two; the other worker has two left.
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const answer = await send('POST', '/v1/login/oauth/access_token', { 'content-type': 'application/json' }, JSON.stringify({ grantType: 'password', username: 'nobody-here', password: 'Wrong-Password-1' }));
      statuses.push(answer.status);
    }
    // Without the share each worker would count to 4: seven answered, not three.
    expect(statuses.filter((status) => status !== 429)).toHaveLength(3);
  });

  it('replaces a worker that dies, and stops every worker on SIGTERM', async () => {
    const [victim] = listeningPids();
    expect(victim).toBeGreaterThan(0);
    process.kill(victim as number, 'SIGKILL');
    // The replacement is the third worker node:cluster forks: its series appear beside the survivor's.
    await until('a replacement worker', async () => {
      const ids = workerIds(await scrape());
      return ids.size === 2 && ids.has('3') && listeningPids().length === 3 ? true : undefined;
    });
    const workers = listeningPids().filter((pid) => pid !== victim);
    main.child.kill('SIGTERM');
    expect(await main.exited).toBe(0);
    for (const worker of workers) expect(() => process.kill(worker, 0)).toThrow();
  }, 60_000);
});

describe('Auth with AUTH_WORKERS=2 and a license its workers refuse', () => {
  it('exits 78 with the refusal, as a lone process does, instead of replacing workers that would be refused again', async () => {
    const other = await createTestLicenseEnv();
    // Parsed by the primary, checked by each worker against the vendor key: a license signed by another vendor.
    const refused = runMain(mainPath, { ...workersEnv(await freePort()), LICENSE_KEY: testLicenseEnv.LICENSE_KEY, LICENSE_PUBLIC_KEY: other.LICENSE_PUBLIC_KEY });
    const code = await refused.exited;
    const text = refused.output();
    expect(code, text).toBe(78);
    expect(text).toMatch(/license/i);
    expect(text.match(/"msg":"worker exited; starting another"/g) ?? []).toHaveLength(0);
  }, 60_000);
});
