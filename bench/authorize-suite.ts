// `POST /v1/authorize` over HTTP with a valid, cached token, against a bare express route answering a constant
// JSON in the same run (issue target: ≥ 70% of the floor's requests per second at 50 connections, p99 ≤ 20 ms).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

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

interface ServerInfo {
  readonly floorUrl: string;
  readonly authUrl: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Starts bench/authorize-servers.ts in its own process and waits for its URLs. */
async function startServers(): Promise<{ info: ServerInfo; stop(): Promise<void> }> {
  const script = fileURLToPath(new URL('./authorize-servers.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const info = await new Promise<ServerInfo>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line) as ServerInfo));
    child.once('exit', (code) => reject(new Error(`authorize bench servers exited with ${code}`)));
  });
  return {
    info,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function runAuthorizeBench(options: { durationSeconds: number; connections?: number; onStep?: (what: string) => void }): Promise<AuthorizeBenchResult> {
  const connections = options.connections ?? 50;
  const servers = await startServers();
  try {
    const { floorUrl, authUrl, headers, body } = servers.info;
    const request = { method: 'POST', headers, body };
    const check = await fetch(authUrl, request);
    const answer = (await check.json()) as { authorized?: boolean };
    if (check.status !== 200 || answer.authorized !== true) throw new Error(`authorize bench: unexpected answer ${check.status} ${JSON.stringify(answer)}`);
    // Warm both (JIT, caches), then measure each alone.
    await autocannon({ url: floorUrl, connections, duration: 1, ...request });
    await autocannon({ url: authUrl, connections, duration: 1, ...request });
    options.onStep?.(`express floor: ${connections} connections, ${options.durationSeconds} s`);
    const floorResult = figures(await autocannon({ url: floorUrl, connections, duration: options.durationSeconds, ...request }));
    options.onStep?.(`POST /v1/authorize: ${connections} connections, ${options.durationSeconds} s`);
    const authResult = figures(await autocannon({ url: authUrl, connections, duration: options.durationSeconds, ...request }));
    return {
      connections,
      duration_s: options.durationSeconds,
      express_floor: floorResult,
      authorize: authResult,
      ratio: floorResult.requests_per_s > 0 ? authResult.requests_per_s / floorResult.requests_per_s : 0,
    };
  } finally {
    await servers.stop();
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
