// `POST /v1/authorize` over HTTP with a valid, cached token, against a bare express route answering a constant
// JSON in the same run (issue target: ≥ 70% of the floor's requests per second at 50 connections, p99 ≤ 20 ms).
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import express from 'express';
import { createAuthHarness } from '../test/support/auth-harness.js';

interface AutocannonResult {
  readonly requests: { readonly average: number; readonly total: number };
  readonly latency: { readonly p50: number; readonly p99: number; readonly average: number };
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
}
type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}) => Promise<AutocannonResult>;

// autocannon ships no types.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export interface HttpFigures {
  readonly requests_per_s: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly total: number;
  readonly non_2xx: number;
  readonly errors: number;
}

export interface AuthorizeBenchResult {
  readonly connections: number;
  readonly duration_s: number;
  readonly express_floor: HttpFigures;
  readonly authorize: HttpFigures;
  /** authorize requests per second ÷ the floor's. */
  readonly ratio: number;
}

function figures(result: AutocannonResult): HttpFigures {
  return {
    requests_per_s: result.requests.average,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    total: result.requests.total,
    non_2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

function listen(app: express.Express): Promise<Server> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function urlOf(server: Server, path: string): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function runAuthorizeBench(options: { durationSeconds: number; connections?: number; onStep?: (what: string) => void }): Promise<AuthorizeBenchResult> {
  const connections = options.connections ?? 50;
  const h = await createAuthHarness('bench-authorize');
  const servers: Server[] = [];
  try {
    const org = await h.createOrganization();
    const user = await h.createUser(org.id);
    await h.grant(org.id, `user:${user.id}`, [['accounts', 'get']]);
    const { token } = await h.deps.issuer.accessToken(
      { kind: 'user', id: user.id, name: user.username, displayName: user.username, orgId: org.id, orgSlug: org.slug },
      undefined,
      undefined,
    );
    const floorApp = express();
    floorApp.disable('x-powered-by');
    floorApp.post('/v1/authorize', (_req, res) => {
      res.json({ authorized: true, timestamp: new Date().toISOString() });
    });
    const floor = await listen(floorApp);
    const auth = await listen(h.app);
    servers.push(floor, auth);
    const request = {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: token },
      body: JSON.stringify({ action: 'get', product: 'midaz', resource: 'accounts', sub: `${org.slug}/${user.id}` }),
    };
    const check = await fetch(urlOf(auth, '/v1/authorize'), request);
    const answer = (await check.json()) as { authorized?: boolean };
    if (check.status !== 200 || answer.authorized !== true) throw new Error(`authorize bench: unexpected answer ${check.status} ${JSON.stringify(answer)}`);
    // Warm both (JIT, caches), then measure each alone.
    await autocannon({ url: urlOf(floor, '/v1/authorize'), connections, duration: 1, ...request });
    await autocannon({ url: urlOf(auth, '/v1/authorize'), connections, duration: 1, ...request });
    options.onStep?.(`express floor: ${connections} connections, ${options.durationSeconds} s`);
    const floorResult = figures(await autocannon({ url: urlOf(floor, '/v1/authorize'), connections, duration: options.durationSeconds, ...request }));
    options.onStep?.(`POST /v1/authorize: ${connections} connections, ${options.durationSeconds} s`);
    const authResult = figures(await autocannon({ url: urlOf(auth, '/v1/authorize'), connections, duration: options.durationSeconds, ...request }));
    return {
      connections,
      duration_s: options.durationSeconds,
      express_floor: floorResult,
      authorize: authResult,
      ratio: floorResult.requests_per_s > 0 ? authResult.requests_per_s / floorResult.requests_per_s : 0,
    };
  } finally {
    for (const server of servers) await close(server);
    await h.close();
  }
}

export function formatAuthorizeBench(result: AuthorizeBenchResult): string {
  const row = (name: string, f: HttpFigures) =>
    `${name.padEnd(22)} ${f.requests_per_s.toFixed(0).padStart(8)} req/s   p50 ${String(f.p50_ms).padStart(4)} ms   p99 ${String(f.p99_ms).padStart(4)} ms   non-2xx ${f.non_2xx}   errors ${f.errors}`;
  const ratioPass = result.ratio >= 0.7 ? 'PASS' : 'FAIL';
  const p99Pass = result.authorize.p99_ms <= 20 ? 'PASS' : 'FAIL';
  return [
    `POST /v1/authorize over HTTP (${result.connections} connections, ${result.duration_s} s each, loopback)`,
    row('express constant JSON', result.express_floor),
    row('POST /v1/authorize', result.authorize),
    `ratio ${(result.ratio * 100).toFixed(1)}% (target ≥ 70%: ${ratioPass})   p99 ${result.authorize.p99_ms} ms (target ≤ 20 ms: ${p99Pass})`,
  ].join('\n');
}
