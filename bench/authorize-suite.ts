// `POST /v1/authorize` over HTTP with a valid, cached token, against a bare express route (express.json(), a
// constant JSON) measured in the same run (issue target: ≥ 70% of the floor's requests per second at 50
// connections, p99 ≤ 20 ms). Each server runs in its own process with NODE_ENV=production; both are warmed
// up, then measured in alternating rounds so a change in the machine's load hits both alike. Besides req/s
// and latency, each server reports the CPU time it spent per request: on a shared machine that figure moves
// far less than req/s, so it is the one to compare between commits.
//
// A Cerbos PDP runs beside them (the `@cerbos/cerbos-linux-x64` binary, policies generated from the tenant's
// lines by bench/cerbos-policy.ts, request and audit logging off) and is measured in the same alternating rounds
// with the same harness. Its check is lighter than ours: the principal's roles come in the request (no role
// resolution), there is no token to verify and no product-scoped fallback. Its CPU time is read from /proc.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { AlternatePhase, ServerCpu, ServerReady, ServerRole } from './authorize-servers.js';
import { cerbosBinary, startCerbosPdp, type CerbosPdp } from './cerbos-pdp.js';
import { cerbosCheckBody, cerbosPolicies, cerbosPrincipal } from './cerbos-policy.js';

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
}) => Promise<AutocannonResult> & { stop(): void };

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
  readonly cerbos?: HttpFigures;
  /** authorize req/s ÷ Cerbos's req/s in this round. */
  readonly ratio_to_cerbos?: number;
  /** The same authorize server with the decision log on (every decision queued and written to PostgreSQL). */
  readonly authorize_decision_log?: HttpFigures;
  /** 1 − (req/s with the log ÷ req/s without) in this round: the share of throughput the log costs. */
  readonly decision_log_cost?: number;
  /** Auth as operators start it with AUTH_WORKERS=auto (one worker per core behind one port). */
  readonly authorize_workers?: HttpFigures;
  /** The workers' req/s ÷ Cerbos's req/s in this round. */
  readonly workers_ratio_to_cerbos?: number;
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
  /** The Cerbos PDP's figures (medians), or null with `cerbos_unavailable` saying why it did not run. */
  readonly cerbos: HttpFigures | null;
  readonly cerbos_version: string | null;
  readonly cerbos_unavailable?: string;
  /** The median over the rounds of authorize req/s ÷ Cerbos's req/s in the same round. */
  readonly ratio_to_cerbos: number | null;
  /** The authorize server with the decision log on (medians), or null when it was not measured. */
  readonly authorize_decision_log: HttpFigures | null;
  /** The median over the rounds of the decision log's cost: 1 − (req/s with it ÷ req/s without it). */
  readonly decision_log_cost: number | null;
  /**
   * The decision log's cost in one process, what the ≤ 5 % target reads: the decision-log server under one continuous
   * load while it switches its log off and on in phases (off, on, on, off, ...; see `alternate` in
   * authorize-servers.ts), each phase measured over a window after it settled (after a switch off, only once the log
   * has written everything it queued). The process, its heap, its JIT and its connections are the same on both sides
   * and the phases are short, so a drift in the machine's speed falls on both alike. `cost` is the median over the
   * pairs of phases of 1 − (req/s on ÷ req/s off); `standard_error` is the pairs' standard deviation ÷ √pairs.
   */
  readonly decision_log_switched: {
    readonly cost: number;
    readonly mean: number;
    readonly standard_error: number;
    readonly window_ms: number;
    readonly settle_ms: number;
    readonly on: { readonly requests_per_s: number; readonly cpu_us_per_request: number };
    readonly off: { readonly requests_per_s: number; readonly cpu_us_per_request: number };
    readonly pairs: readonly { readonly on: AlternatePhase; readonly off: AlternatePhase; readonly cost: number }[];
    /** The load generator's failed requests over the whole measurement. */
    readonly non_2xx: number;
    readonly errors: number;
  } | null;
  /** What the decision log wrote and dropped over the whole run (warm-up included). */
  readonly decision_log_rows: { readonly written: number; readonly dropped_queue_full: number; readonly dropped_store_failed: number } | null;
  /** `npm run start:auth` with AUTH_WORKERS=auto (medians), its worker count, or null when not measured. */
  readonly authorize_workers: HttpFigures | null;
  readonly workers: number | null;
  /** The median over the rounds of the workers' req/s ÷ Cerbos's req/s in the same round: what the ≥ 3× target reads. */
  readonly workers_ratio_to_cerbos: number | null;
  readonly rounds: readonly AuthorizeRound[];
}

/** What `measure` needs of a server: where it listens, and its CPU time (and, for our servers, requests served). */
interface MeasuredServer {
  readonly url: string;
  cpu(): Promise<{ readonly cpuMicros: number; readonly requests?: number }>;
}

interface ServerProcess {
  readonly ready: ServerReady;
  cpu(): Promise<ServerCpu>;
  /** `authorize-log` only: its phases with the log off and on (see `alternate` in authorize-servers.ts). */
  alternate(phases: number, windowMs: number, settleMs: number): Promise<AlternatePhase[]>;
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
    alternate(phases, windowMs, settleMs) {
      const answer = nextLine();
      child.stdin.write(`alternate ${phases} ${windowMs} ${settleMs}\n`);
      return answer as Promise<AlternatePhase[]>;
    },
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The pause before each measurement. */
const settleMs = 1_000;

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

async function measure(server: MeasuredServer, request: LoadRequest, connections: number, durationSeconds: number): Promise<HttpFigures> {
  const before = await server.cpu();
  const result = await autocannon({ url: server.url, connections, duration: durationSeconds, ...request });
  const after = await server.cpu();
  // Cerbos counts no requests for us: the responses autocannon completed are the ones it served.
  const served = after.requests !== undefined && before.requests !== undefined ? after.requests - before.requests : result.requests.total;
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

/** Starts Cerbos on the policy the authorize server holds, and checks it allows the bench's request. */
async function startCerbos(ready: ServerReady): Promise<{ pdp: CerbosPdp; request: LoadRequest }> {
  const check = ready.cerbos;
  if (!check) throw new Error('authorize bench: the authorize server sent no policy for Cerbos');
  const pdp = await startCerbosPdp(cerbosPolicies(check.tenantId, check.rules));
  try {
    const request: LoadRequest = {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: cerbosCheckBody(cerbosPrincipal(check.tenantId, check.rules, check.subject), check.resource, check.action),
    };
    const answer = await fetch(`${pdp.url}/api/check/resources`, request);
    const body = (await answer.json()) as { results?: { actions?: Record<string, string> }[] };
    if (answer.status !== 200 || body.results?.[0]?.actions?.[check.action] !== 'EFFECT_ALLOW') {
      throw new Error(`authorize bench: Cerbos answered ${answer.status} ${JSON.stringify(body)}`);
    }
    return { pdp, request };
  } catch (error) {
    await pdp.stop();
    throw error;
  }
}

export async function runAuthorizeBench(options: {
  durationSeconds: number;
  rounds: number;
  warmupSeconds: number;
  connections?: number;
  /** Measure a Cerbos PDP beside ours (default true; skipped, with the reason, where its binary cannot run). */
  cerbos?: boolean;
  /** Measure the authorize server with the decision log on as well (default true). */
  decisionLog?: boolean;
  /** Measure Auth started as operators start it with AUTH_WORKERS=auto as well (default true). */
  workers?: boolean;
  /** Phases (half of them with the log off) measured on the decision-log server after the rounds, and each one's window. */
  switchedPhases?: number;
  switchedWindowMs?: number;
  onStep?: (what: string) => void;
}): Promise<AuthorizeBenchResult> {
  const connections = options.connections ?? 50;
  const started: { stop(): Promise<void> }[] = [];
  try {
    const auth = await startServer('authorize');
    started.push(auth);
    const floor = await startServer('floor');
    started.push(floor);
    if (!auth.ready.request) throw new Error('authorize bench: the authorize server sent no request');
    const request: LoadRequest = { method: 'POST', ...auth.ready.request };
    const assertAllows = async (url: string, sent: LoadRequest) => {
      const check = await fetch(url, sent);
      const answer = (await check.json()) as { authorized?: boolean };
      if (check.status !== 200 || answer.authorized !== true) throw new Error(`authorize bench: unexpected answer ${check.status} ${JSON.stringify(answer)}`);
    };
    await assertAllows(auth.ready.url, request);
    let logged: { server: ServerProcess; request: LoadRequest } | undefined;
    if (options.decisionLog !== false) {
      options.onStep?.('starting the authorize server with the decision log on');
      const server = await startServer('authorize-log');
      started.push(server);
      if (!server.ready.request) throw new Error('authorize bench: the decision-log server sent no request');
      logged = { server, request: { method: 'POST', ...server.ready.request } };
      await assertAllows(server.ready.url, logged.request);
    }
    let workers: { server: ServerProcess; request: LoadRequest } | undefined;
    if (options.workers !== false) {
      options.onStep?.(`starting Auth (auth-service/main.ts) with AUTH_WORKERS=auto: ${availableParallelism()} workers`);
      const server = await startServer('authorize-workers');
      started.push(server);
      if (!server.ready.request) throw new Error('authorize bench: the workers server sent no request');
      workers = { server, request: { method: 'POST', ...server.ready.request } };
      await assertAllows(server.ready.url, workers.request);
    }
    const binary = cerbosBinary();
    const cerbosUnavailable = options.cerbos === false ? 'not asked for' : 'unavailable' in binary ? binary.unavailable : undefined;
    let cerbos: { pdp: CerbosPdp; request: LoadRequest } | undefined;
    if (cerbosUnavailable === undefined) {
      options.onStep?.('starting the Cerbos PDP');
      cerbos = await startCerbos(auth.ready);
      started.push(cerbos.pdp);
    }
    // JIT, caches and connection pools warm before anything counts.
    options.onStep?.(`warming up every server, ${options.warmupSeconds} s each`);
    await autocannon({ url: floor.ready.url, connections, duration: options.warmupSeconds, ...request });
    await autocannon({ url: auth.ready.url, connections, duration: options.warmupSeconds, ...request });
    if (logged) await autocannon({ url: logged.server.ready.url, connections, duration: options.warmupSeconds, ...logged.request });
    if (workers) await autocannon({ url: workers.server.ready.url, connections, duration: options.warmupSeconds, ...workers.request });
    if (cerbos) await autocannon({ url: `${cerbos.pdp.url}/api/check/resources`, connections, duration: options.warmupSeconds, ...cerbos.request });

    type Contender = 'express_floor' | 'authorize' | 'authorize_decision_log' | 'authorize_workers' | 'cerbos';
    const contenders: { name: Contender; label: string; measure: () => Promise<HttpFigures> }[] = [
      { name: 'express_floor', label: 'express floor', measure: () => measure({ url: floor.ready.url, cpu: () => floor.cpu() }, request, connections, options.durationSeconds) },
      { name: 'authorize', label: 'POST /v1/authorize', measure: () => measure({ url: auth.ready.url, cpu: () => auth.cpu() }, request, connections, options.durationSeconds) },
    ];
    if (logged) {
      const { server, request: loggedRequest } = logged;
      contenders.push({
        name: 'authorize_decision_log',
        label: 'POST /v1/authorize, decision log on',
        measure: () => measure({ url: server.ready.url, cpu: () => server.cpu() }, loggedRequest, connections, options.durationSeconds),
      });
    }
    if (workers) {
      const { server, request: workersRequest } = workers;
      contenders.push({
        name: 'authorize_workers',
        label: `POST /v1/authorize, AUTH_WORKERS=auto (${availableParallelism()})`,
        measure: () => measure({ url: server.ready.url, cpu: () => server.cpu() }, workersRequest, connections, options.durationSeconds),
      });
    }
    if (cerbos) {
      const { pdp, request: cerbosRequest } = cerbos;
      const server: MeasuredServer = { url: `${pdp.url}/api/check/resources`, cpu: async () => ({ cpuMicros: await pdp.cpuMicros() }) };
      contenders.push({ name: 'cerbos', label: 'Cerbos PDP', measure: () => measure(server, cerbosRequest, connections, options.durationSeconds) });
    }
    const rounds: AuthorizeRound[] = [];
    for (let round = 0; round < options.rounds; round++) {
      // Rotating which goes first keeps a steady drift in the machine's load from favouring any of them, and every
      // other round runs them in reverse, so no contender always follows the same one (rotation alone keeps each
      // after its neighbour: the one after the decision-log server met its last flushes in PostgreSQL each round).
      const figures: Partial<Record<Contender, HttpFigures>> = {};
      const ordered = round % 2 === 0 ? contenders : [...contenders].reverse();
      for (let i = 0; i < ordered.length; i++) {
        const contender = ordered[(round + i) % ordered.length] as (typeof contenders)[number];
        options.onStep?.(`round ${round + 1}/${options.rounds}: ${contender.label}, ${connections} connections, ${options.durationSeconds} s`);
        // What the last one left behind (a decision log's final flush, PostgreSQL writing it) settles first.
        await new Promise((resolve) => setTimeout(resolve, settleMs));
        figures[contender.name] = await contender.measure();
      }
      const floorFigures = figures.express_floor as HttpFigures;
      const authFigures = figures.authorize as HttpFigures;
      const loggedFigures = figures.authorize_decision_log;
      const workersFigures = figures.authorize_workers;
      rounds.push({
        express_floor: floorFigures,
        authorize: authFigures,
        ratio: floorFigures.requests_per_s > 0 ? authFigures.requests_per_s / floorFigures.requests_per_s : 0,
        ...(figures.cerbos
          ? { cerbos: figures.cerbos, ratio_to_cerbos: figures.cerbos.requests_per_s > 0 ? authFigures.requests_per_s / figures.cerbos.requests_per_s : 0 }
          : {}),
        ...(loggedFigures
          ? { authorize_decision_log: loggedFigures, decision_log_cost: authFigures.requests_per_s > 0 ? 1 - loggedFigures.requests_per_s / authFigures.requests_per_s : 0 }
          : {}),
        ...(workersFigures ? { authorize_workers: workersFigures } : {}),
        ...(workersFigures && figures.cerbos
          ? { workers_ratio_to_cerbos: figures.cerbos.requests_per_s > 0 ? workersFigures.requests_per_s / figures.cerbos.requests_per_s : 0 }
          : {}),
      });
    }
    let switched: AuthorizeBenchResult['decision_log_switched'] = null;
    if (logged) {
      const phases = Math.max(2, options.switchedPhases ?? 60);
      const windowMs = options.switchedWindowMs ?? 1_000;
      // Longer than the flush interval (250 ms): the last part-filled batch of an on phase is written within it.
      const phaseSettleMs = 500;
      options.onStep?.(`decision log switched off and on under one load: ${phases} phases of ${windowMs} ms (each after ${phaseSettleMs} ms settling), ${connections} connections`);
      const { server, request: loggedRequest } = logged;
      // The load runs until the phases are done (its duration is only a ceiling).
      const load = autocannon({ url: server.ready.url, connections, duration: Math.ceil((phases * (windowMs + phaseSettleMs)) / 1_000) + 60, ...loggedRequest });
      const measured = await server.alternate(phases, windowMs, phaseSettleMs).finally(() => load.stop());
      const loadResult = await load;
      const pairs: { on: AlternatePhase; off: AlternatePhase; cost: number }[] = [];
      for (let i = 0; i + 1 < measured.length; i += 2) {
        const [first, second] = [measured[i] as AlternatePhase, measured[i + 1] as AlternatePhase];
        const [on, off] = first.logging ? [first, second] : [second, first];
        pairs.push({ on, off, cost: off.requests_per_s > 0 ? 1 - on.requests_per_s / off.requests_per_s : 0 });
      }
      const costs = pairs.map((p) => p.cost);
      const mean = costs.reduce((sum, c) => sum + c, 0) / costs.length;
      const deviation = Math.sqrt(costs.reduce((sum, c) => sum + (c - mean) ** 2, 0) / Math.max(1, costs.length - 1));
      const side = (pick: (p: (typeof pairs)[number]) => AlternatePhase) => ({
        requests_per_s: median(pairs.map((p) => pick(p).requests_per_s)),
        cpu_us_per_request: median(pairs.map((p) => pick(p).cpu_us_per_request)),
      });
      switched = {
        cost: median(costs),
        mean,
        standard_error: deviation / Math.sqrt(costs.length),
        window_ms: windowMs,
        settle_ms: phaseSettleMs,
        on: side((p) => p.on),
        off: side((p) => p.off),
        pairs,
        non_2xx: loadResult.non2xx,
        errors: loadResult.errors + loadResult.timeouts,
      };
    }
    const loggedRounds = rounds.flatMap((r) => (r.authorize_decision_log ? [r.authorize_decision_log] : []));
    const logCounts = logged ? (await logged.server.cpu()).decisionLog : undefined;
    const cerbosRounds = rounds.flatMap((r) => (r.cerbos ? [r.cerbos] : []));
    const workersRounds = rounds.flatMap((r) => (r.authorize_workers ? [r.authorize_workers] : []));
    return {
      connections,
      duration_s: options.durationSeconds,
      warmup_s: options.warmupSeconds,
      express_floor: medianFigures(rounds.map((r) => r.express_floor)),
      authorize: medianFigures(rounds.map((r) => r.authorize)),
      ratio: median(rounds.map((r) => r.ratio)),
      cerbos: cerbosRounds.length > 0 ? medianFigures(cerbosRounds) : null,
      cerbos_version: cerbos?.pdp.version ?? null,
      ...(cerbosUnavailable === undefined ? {} : { cerbos_unavailable: cerbosUnavailable }),
      ratio_to_cerbos: cerbosRounds.length > 0 ? median(rounds.map((r) => r.ratio_to_cerbos ?? 0)) : null,
      authorize_decision_log: loggedRounds.length > 0 ? medianFigures(loggedRounds) : null,
      decision_log_cost: loggedRounds.length > 0 ? median(rounds.map((r) => r.decision_log_cost ?? 0)) : null,
      decision_log_switched: switched,
      decision_log_rows: logCounts ? { written: logCounts.written, dropped_queue_full: logCounts.droppedQueueFull, dropped_store_failed: logCounts.droppedStoreFailed } : null,
      authorize_workers: workersRounds.length > 0 ? medianFigures(workersRounds) : null,
      workers: workers ? availableParallelism() : null,
      workers_ratio_to_cerbos: workersRounds.length > 0 && cerbosRounds.length > 0 ? median(rounds.map((r) => r.workers_ratio_to_cerbos ?? 0)) : null,
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
  const percent = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;
  const lines = [
    `POST /v1/authorize over HTTP: ${result.connections} connections, loopback, NODE_ENV=production, ${result.warmup_s} s warm-up, ` +
      `${result.rounds.length} alternating round${result.rounds.length === 1 ? '' : 's'} of ${result.duration_s} s (medians)`,
    row('express constant JSON', result.express_floor),
    row('POST /v1/authorize', result.authorize),
  ];
  if (result.authorize_decision_log) lines.push(row('  with decision log', result.authorize_decision_log));
  if (result.authorize_workers) lines.push(row(`  ${result.workers ?? '?'} workers (start:auth)`, result.authorize_workers));
  if (result.cerbos) lines.push(row(`Cerbos PDP ${result.cerbos_version ?? ''}`.trim(), result.cerbos));
  lines.push(
    `ratio ${percent(result.ratio)} of the floor's req/s (rounds: ${result.rounds.map((r) => percent(r.ratio)).join(', ')}); ` +
      `CPU per request ${(result.authorize.cpu_us_per_request / Math.max(result.express_floor.cpu_us_per_request, Number.EPSILON)).toFixed(2)}× the floor's`,
  );
  if (result.decision_log_cost !== null) {
    const rows = result.decision_log_rows;
    lines.push(
      `decision log cost, two processes (with it and without): ${percent(result.decision_log_cost)} of req/s (rounds: ${result.rounds.map((r) => percent(r.decision_log_cost ?? 0)).join(', ')}); ` +
        `CPU per request ${result.authorize_decision_log ? result.authorize_decision_log.cpu_us_per_request.toFixed(0) : '?'} µs with it, ${result.authorize.cpu_us_per_request.toFixed(0)} µs without` +
        (rows ? `; rows written ${rows.written}, dropped ${rows.dropped_queue_full} (queue full) + ${rows.dropped_store_failed} (database)` : ''),
    );
  }
  if (result.decision_log_switched) {
    const sw = result.decision_log_switched;
    lines.push(
      `decision log cost in one process, switched off and on under one load: ${percent(sw.cost)} of req/s (target ≤ 5%; median of ${sw.pairs.length} pairs of ` +
        `${sw.window_ms} ms windows, mean ${percent(sw.mean)}, standard error ${percent(sw.standard_error)}); ${sw.on.requests_per_s.toFixed(0)} req/s on, ` +
        `${sw.off.requests_per_s.toFixed(0)} off; CPU per request ${sw.on.cpu_us_per_request.toFixed(1)} µs on, ${sw.off.cpu_us_per_request.toFixed(1)} µs off; ` +
        `non-2xx ${sw.non_2xx}, errors ${sw.errors}`,
      `  pairs: ${sw.pairs.map((p) => percent(p.cost)).join(', ')}`,
    );
  }
  if (result.cerbos && result.ratio_to_cerbos !== null) {
    lines.push(
      `ours / Cerbos: ${result.ratio_to_cerbos.toFixed(2)}× its req/s (rounds: ${result.rounds.map((r) => `${(r.ratio_to_cerbos ?? 0).toFixed(2)}×`).join(', ')}); ` +
        `CPU per request ours ${result.authorize.cpu_us_per_request.toFixed(0)} µs, Cerbos ${result.cerbos.cpu_us_per_request.toFixed(0)} µs ` +
        `(Cerbos gets the roles in the request: no token, no role resolution, no product fallback)`,
    );
    if (result.authorize_workers && result.workers_ratio_to_cerbos !== null) {
      lines.push(
        `ours with AUTH_WORKERS=auto (${result.workers ?? '?'} workers, each core as Cerbos uses them) / Cerbos: ${result.workers_ratio_to_cerbos.toFixed(2)}× its req/s ` +
          `(rounds: ${result.rounds.map((r) => `${(r.workers_ratio_to_cerbos ?? 0).toFixed(2)}×`).join(', ')}; target ≥ 3×); CPU per request ${result.authorize_workers.cpu_us_per_request.toFixed(0)} µs`,
      );
    }
  } else {
    lines.push(`Cerbos PDP not measured: ${result.cerbos_unavailable ?? 'no figures'}`);
  }
  return lines.join('\n');
}
