// `POST /v1/authorize` over HTTP with a valid, cached token, against a bare express route (express.json(), a
// constant JSON) measured in the same run (issue target: ≥ 70% of the floor's requests per second at 50
// connections, p99 ≤ 20 ms). Each server runs in its own process with NODE_ENV=production; both are warmed
// up, then measured in alternating rounds so a change in the machine's load hits both alike. Besides req/s
// and latency, each server reports the CPU time it spent per request: on a shared machine that figure moves
// far less than req/s, so it is the one to compare between commits.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { ServerCpu, ServerReady, ServerRole } from './authorize-servers.js';

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
  /** The server process's CPU time (user + system) over the requests it served in the measurement. */
  readonly cpu_us_per_request: number;
}

export interface AuthorizeRound {
  readonly express_floor: HttpFigures;
  readonly authorize: HttpFigures;
  readonly ratio: number;
}

export interface AuthorizeBenchResult {
  readonly connections: number;
  readonly duration_s: number;
  readonly warmup_s: number;
  /** Each figure is the median over the rounds (non-2xx and errors: the sum). */
  readonly express_floor: HttpFigures;
  readonly authorize: HttpFigures;
  /** The median over the rounds of authorize req/s ÷ the floor's req/s in the same round. */
  readonly ratio: number;
  readonly rounds: readonly AuthorizeRound[];
}

interface ServerProcess {
  readonly ready: ServerReady;
  cpu(): Promise<ServerCpu>;
  stop(): Promise<void>;
}

/**
 * Starts one role of bench/authorize-servers.ts in its own process. `BENCH_AUTHORIZE_CPU_PROF=<dir>` runs both
 * servers under `node --cpu-prof`, each writing its profile to `<dir>` when it stops.
 */
async function startServer(role: ServerRole): Promise<ServerProcess> {
  const script = fileURLToPath(new URL('./authorize-servers.ts', import.meta.url));
  const profileDir = process.env.BENCH_AUTHORIZE_CPU_PROF;
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const child: ChildProcessByStdio<Writable, Readable, null> = spawn(process.execPath, [...profile, '--import', 'tsx', script, role], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const waiting: ((line: string) => void)[] = [];
  let failed: Error | undefined;
  child.once('exit', (code) => {
    failed = new Error(`authorize bench ${role} server exited with ${code}`);
    for (const deliver of waiting.splice(0)) deliver('');
  });
  createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()?.(line));
  const nextLine = (): Promise<unknown> =>
    new Promise((resolve, reject) => {
      if (failed) reject(failed);
      else waiting.push((line) => (failed ? reject(failed) : resolve(JSON.parse(line))));
    });
  const ready = (await nextLine()) as ServerReady;
  return {
    ready,
    cpu() {
      const answer = nextLine();
      child.stdin.write('cpu\n');
      return answer as Promise<ServerCpu>;
    },
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function medianFigures(rounds: readonly HttpFigures[]): HttpFigures {
  const of = (pick: (f: HttpFigures) => number) => median(rounds.map(pick));
  return {
    requests_per_s: of((f) => f.requests_per_s),
    p50_ms: of((f) => f.p50_ms),
    p99_ms: of((f) => f.p99_ms),
    total: of((f) => f.total),
    non_2xx: rounds.reduce((sum, f) => sum + f.non_2xx, 0),
    errors: rounds.reduce((sum, f) => sum + f.errors, 0),
    cpu_us_per_request: of((f) => f.cpu_us_per_request),
  };
}

interface LoadRequest {
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

async function measure(server: ServerProcess, request: LoadRequest, connections: number, durationSeconds: number): Promise<HttpFigures> {
  const before = await server.cpu();
  const result = await autocannon({ url: server.ready.url, connections, duration: durationSeconds, ...request });
  const after = await server.cpu();
  const served = after.requests - before.requests;
  return {
    requests_per_s: result.requests.average,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    total: result.requests.total,
    non_2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    cpu_us_per_request: served > 0 ? (after.cpuMicros - before.cpuMicros) / served : 0,
  };
}

export async function runAuthorizeBench(options: {
  durationSeconds: number;
  rounds: number;
  warmupSeconds: number;
  connections?: number;
  onStep?: (what: string) => void;
}): Promise<AuthorizeBenchResult> {
  const connections = options.connections ?? 50;
  const started: ServerProcess[] = [];
  try {
    const auth = await startServer('authorize');
    started.push(auth);
    const floor = await startServer('floor');
    started.push(floor);
    if (!auth.ready.request) throw new Error('authorize bench: the authorize server sent no request');
    const request: LoadRequest = { method: 'POST', ...auth.ready.request };
    const check = await fetch(auth.ready.url, request);
    const answer = (await check.json()) as { authorized?: boolean };
    if (check.status !== 200 || answer.authorized !== true) throw new Error(`authorize bench: unexpected answer ${check.status} ${JSON.stringify(answer)}`);
    // JIT, caches and connection pools warm before anything counts.
    options.onStep?.(`warming up both servers, ${options.warmupSeconds} s each`);
    await autocannon({ url: floor.ready.url, connections, duration: options.warmupSeconds, ...request });
    await autocannon({ url: auth.ready.url, connections, duration: options.warmupSeconds, ...request });
    const rounds: AuthorizeRound[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const step = (what: string) => options.onStep?.(`round ${round + 1}/${options.rounds}: ${what}, ${connections} connections, ${options.durationSeconds} s`);
      // Alternating which goes first keeps a steady drift in the machine's load from favouring either.
      const measureFloor = async () => {
        step('express floor');
        return measure(floor, request, connections, options.durationSeconds);
      };
      const measureAuth = async () => {
        step('POST /v1/authorize');
        return measure(auth, request, connections, options.durationSeconds);
      };
      let floorFigures: HttpFigures;
      let authFigures: HttpFigures;
      if (round % 2 === 0) {
        floorFigures = await measureFloor();
        authFigures = await measureAuth();
      } else {
        authFigures = await measureAuth();
        floorFigures = await measureFloor();
      }
      rounds.push({
        express_floor: floorFigures,
        authorize: authFigures,
        ratio: floorFigures.requests_per_s > 0 ? authFigures.requests_per_s / floorFigures.requests_per_s : 0,
      });
    }
    return {
      connections,
      duration_s: options.durationSeconds,
      warmup_s: options.warmupSeconds,
      express_floor: medianFigures(rounds.map((r) => r.express_floor)),
      authorize: medianFigures(rounds.map((r) => r.authorize)),
      ratio: median(rounds.map((r) => r.ratio)),
      rounds,
    };
  } finally {
    await Promise.all(started.map((server) => server.stop()));
  }
}

export function formatAuthorizeBench(result: AuthorizeBenchResult): string {
  const row = (name: string, f: HttpFigures) =>
    `${name.padEnd(22)} ${f.requests_per_s.toFixed(0).padStart(8)} req/s   p50 ${String(f.p50_ms).padStart(4)} ms   p99 ${String(f.p99_ms).padStart(4)} ms   ` +
    `CPU ${f.cpu_us_per_request.toFixed(0).padStart(4)} µs/req   non-2xx ${f.non_2xx}   errors ${f.errors}`;
  return [
    `POST /v1/authorize over HTTP: ${result.connections} connections, loopback, NODE_ENV=production, ${result.warmup_s} s warm-up, ` +
      `${result.rounds.length} alternating round${result.rounds.length === 1 ? '' : 's'} of ${result.duration_s} s (medians)`,
    row('express constant JSON', result.express_floor),
    row('POST /v1/authorize', result.authorize),
    `ratio ${(result.ratio * 100).toFixed(1)}% of the floor's req/s (rounds: ${result.rounds.map((r) => `${(r.ratio * 100).toFixed(1)}%`).join(', ')}); ` +
      `CPU per request ${(result.authorize.cpu_us_per_request / Math.max(result.express_floor.cpu_us_per_request, Number.EPSILON)).toFixed(2)}× the floor's`,
  ].join('\n');
}
