// One server of the authorize bench, in its own process so neither the load generator nor the other server
// shares its event loop or heap. `floor`: a bare express app with express.json() answering a constant JSON.
// `authorize`: the real Auth listener from createAuthListener, the lean routes ahead of the express app (Valkey, its
// shared token tier and the metrics wired as auth-service/server.ts does), with a real user, grant, session and token. Prints one JSON line (its URL,
// the request to send); then each `cpu` line on stdin is answered with one JSON line: the process's CPU time
// and the requests served so far. `authorize-log` also takes `alternate <phases> <windowMs> <settleMs>` (see
// alternate below), answered with one JSON line of its phases.
// SIGTERM closes everything.
import type { AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import express from 'express';
import type { PolicyRule } from '../engine/index.js';
import type { AuthHarness } from '../test/support/auth-harness.js';

export type ServerRole = 'floor' | 'authorize' | 'authorize-log' | 'authorize-workers';

export interface ServerReady {
  readonly url: string;
  /** The authorize server's request (a valid token, a body it allows); the floor sends none. */
  readonly request?: { readonly headers: Record<string, string>; readonly body: string };
  /** The authorize server's check as a Cerbos PDP gets it: the tenant's stored lines, and whose question it is. */
  readonly cerbos?: {
    readonly tenantId: string;
    readonly rules: readonly PolicyRule[];
    readonly subject: string;
    readonly resource: string;
    readonly action: string;
  };
}

export interface ServerCpu {
  readonly cpuMicros: number;
  /** Requests served so far; absent where the server does not count them (the suite then takes its load generator's). */
  readonly requests?: number;
  /** `authorize-log`: what its decision log has written and dropped so far. */
  readonly decisionLog?: { readonly written: number; readonly droppedQueueFull: number; readonly droppedStoreFailed: number };
}

function listen(app: RequestListener): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer(app).listen(0, '127.0.0.1', () => resolve(server));
  });
}

async function floorServer(): Promise<{ app: RequestListener; ready: Omit<ServerReady, 'url'>; close(): Promise<void> }> {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json());
  app.post('/v1/authorize', (_req, res) => {
    res.json({ authorized: true, timestamp: new Date().toISOString(), revision: 1 });
  });
  return {
    app,
    // The suite sends it the authorize server's request, so both parse the same headers and body.
    ready: {},
    close: () => Promise.resolve(),
  };
}

type DecisionLogCounts = NonNullable<ServerCpu['decisionLog']>;

/** One phase of `alternate`: whether the log was on, and the window measured after the phase settled. */
export interface AlternatePhase {
  readonly logging: boolean;
  readonly requests_per_s: number;
  readonly cpu_us_per_request: number;
}

/** `authorize-log` only: whether the route has a decision log now (switched by `alternate`). */
let logging = true;

/**
 * `withDecisionLog`: the same server with the decision log wired as auth-service/server.ts wires it (its default
 * settings, the deciding rule resolved at flush time, rows written to PostgreSQL), so the two differ by the log only.
 */
async function authorizeServer(
  withDecisionLog: boolean,
): Promise<{ app: RequestListener; ready: Omit<ServerReady, 'url'>; close(): Promise<void>; decisionLog?: () => DecisionLogCounts; logIdle?: () => boolean }> {
  // Imported here so the floor process loads none of the Auth app.
  const { createAuthHarness } = await import('../test/support/auth-harness.js');
  const { createAuthListener } = await import('../auth-service/app.js');
  const { wireAuth } = await import('../auth-service/wiring.js');
  const { createServiceMetrics } = await import('../platform/metrics/index.js');
  const { pino } = await import('pino');
  const h = await createAuthHarness('bench-authorize', { withValkey: true, sharedTokenCache: true });
  // As auth-service/server.ts builds it: Prometheus metrics (HTTP latency, authorize outcomes, engine) and an
  // info-level logger (on stderr: stdout carries this process's answers to the suite).
  const metrics = createServiceMetrics({ service: 'auth', logger: pino({ name: 'auth', level: 'info' }, pino.destination(2)) });
  metrics.watchEngine(h.deps.engine);
  let decisionLog: import('../platform/decision-log/index.js').DecisionRecorder | undefined;
  if (withDecisionLog) {
    const { DecisionLogMaintenance, DecisionLogStore, DecisionRecorder, decisionLogSettingsOf, decisionLogConfigShape } = await import('../platform/decision-log/index.js');
    const { decidingRuleResolver } = await import('../auth-service/decision-log/deciding-rule.js');
    const { z } = await import('zod');
    const settings = decisionLogSettingsOf(z.object(decisionLogConfigShape).parse({}));
    const store = new DecisionLogStore(h.deps.pool);
    await new DecisionLogMaintenance({ store, retentionDays: settings.retentionDays, clock: { nowMs: () => Date.now() } }).run();
    decisionLog = new DecisionRecorder({ sink: store, queueMax: settings.queueMax, batchMax: settings.batchMax, flushIntervalMs: settings.flushIntervalMs, resolveRule: decidingRuleResolver(h.deps.engine) });
    metrics.watchDecisionLog(decisionLog);
  }
  // A copy: wireAuth freezes what it returns.
  const parts = { ...wireAuth({ ...h.deps, metrics, ...(decisionLog ? { decisionLog } : {}) }) };
  if (decisionLog) {
    // The authorize route reads its deps' decisionLog at every decision and records nothing without one: with
    // `logging` off (an off phase of `alternate`) it finds none, exactly as a server without the log, so the same process
    // serves with and without the log in turns.
    const recorder = decisionLog;
    Object.defineProperty(parts, 'decisionLog', { get: () => (logging ? recorder : undefined) });
  }
  const app = createAuthListener(parts);
  return {
    app,
    ready: await benchCaller(h),
    close: async () => {
      await decisionLog?.close();
      await h.close();
    },
    ...(decisionLog
      ? { decisionLog: () => ({ ...(decisionLog as NonNullable<typeof decisionLog>).counts }), logIdle: () => (decisionLog as NonNullable<typeof decisionLog>).idle }
      : {}),
  };
}

/**
 * The bench's caller in the harness's database: an organization, a user granted `accounts get` on the bare resource
 * while the request names a product (each request decides the scoped resource, then the bare one: the costlier path
 * of /v1/authorize), a session and its access token; and the tenant's stored lines for the Cerbos policy.
 */
async function benchCaller(h: AuthHarness): Promise<Omit<ServerReady, 'url'>> {
  const { createPolicyStore } = await import('../engine/adapters/index.js');
  const { insertSession } = await import('../directory/session-tokens.js');
  const org = await h.createOrganization();
  const user = await h.createUser(org.id);
  await h.grant(org.id, `user:${user.id}`, [['accounts', 'get']]);
  const session = await insertSession(h.deps.pool, {
    tenantId: org.id,
    subjectKind: 'user',
    subjectId: user.id,
    clientId: undefined,
    scope: undefined,
    nowMs: Date.now(),
    absoluteTtlSeconds: 86_400,
  });
  const { token } = await h.deps.issuer.accessToken(
    { kind: 'user', id: user.id, name: user.username, displayName: user.username, tenantId: org.id, tenantSlug: org.slug },
    undefined,
    undefined,
    session.id,
  );
  // What the tenant holds as stored, for the Cerbos policy: the same lines the engine decides on.
  const { rules } = await createPolicyStore({ pool: h.deps.pool }).loadTenant(org.id);
  return {
    request: {
      headers: { 'content-type': 'application/json', authorization: token },
      body: JSON.stringify({ action: 'get', product: 'midaz', resource: 'accounts', sub: `${org.slug}/${user.id}` }),
    },
    cerbos: { tenantId: org.id, rules, subject: `user:${user.id}`, resource: 'accounts', action: 'get' },
  };
}

/**
 * `authorize-workers`: Auth as operators start it (`auth-service/main.ts`, NODE_ENV=production) with
 * AUTH_WORKERS=auto, one worker per core behind one port, over the harness's database (the harness seals its signing
 * keys with the key given to the server as SECRETS_ENCRYPTION_KEY, so the server verifies the harness's token). As
 * the `authorize` server: Valkey and its shared token tier, no request rate limits (the bench is one client
 * address), no decision log (measured apart). Its CPU time is the primary's and every worker's, from /proc.
 */
async function workersServer(): Promise<Running> {
  const { createAuthHarness, authIssuer, authAudience } = await import('../test/support/auth-harness.js');
  const { testLicenseEnv } = await import('../test/support/license.js');
  const { testValkeyUrl } = await import('../test/support/valkey.js');
  const { freePort } = await import('../local-start/free-port.js');
  const { processCpuMicros } = await import('./cerbos-pdp.js');
  const secretsKey = randomBytes(32);
  const h = await createAuthHarness('bench-authorize-workers', { secretsKey, withValkey: true });
  const ready = await benchCaller(h);
  const port = await freePort();
  const workers = availableParallelism();
  // This process's flags (tsx, and --cpu-prof under BENCH_AUTHORIZE_CPU_PROF): node:cluster gives them to every worker.
  const main = spawn(process.execPath, [...process.execArgv, fileURLToPath(new URL('../auth-service/main.ts', import.meta.url))], {
    env: {
      PATH: process.env.PATH ?? '',
      ...testLicenseEnv,
      NODE_ENV: 'production',
      AUTH_WORKERS: 'auto',
      DATABASE_URL: h.schema.url,
      DB_MIGRATE_ON_START: 'false',
      VALKEY_URL: testValkeyUrl,
      KEY_PREFIX: h.deps.keyPrefix,
      POLICY_CHANGE_CHANNEL: `am_bench_${randomBytes(4).toString('hex')}`,
      TOKEN_ISSUER: authIssuer,
      TOKEN_AUDIENCE: authAudience,
      MULTI_TENANT_ENABLED: 'true',
      PLATFORM_ORGANIZATION_ID: h.defaultTenantId,
      SECRETS_ENCRYPTION_KEY: secretsKey.toString('base64'),
      MFA_SECRET: randomBytes(32).toString('base64'),
      SERVER_PORT: String(port),
      RATE_LIMIT_ENABLED: 'false',
      DECISION_LOG_ENABLED: 'false',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listening = new Promise<void>((resolve, reject) => {
    let count = 0;
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString();
      output = (output + text).slice(-8_000);
      count += text.match(/"msg":"auth listening"/g)?.length ?? 0;
      if (count >= workers) resolve();
    };
    main.stdout.on('data', onData);
    main.stderr.on('data', onData);
    main.once('exit', (code) => reject(new Error(`auth-service/main.ts exited with ${code}:\n${output}`)));
  });
  await listening;
  const primary = main.pid as number;
  return {
    url: `http://127.0.0.1:${port}/v1/authorize`,
    ready,
    // The workers' requests are not counted here: the suite takes the responses its load generator completed.
    async cpu() {
      const pids = [primary, ...(await childrenOf(primary))];
      const each = await Promise.all(pids.map((pid) => processCpuMicros(pid).catch(() => 0)));
      return { cpuMicros: each.reduce((sum, micros) => sum + micros, 0) };
    },
    async close() {
      const exited = new Promise((resolve) => main.once('exit', resolve));
      main.kill('SIGTERM');
      await exited;
      await h.close();
    },
  };
}

/** The processes whose parent is `pid` (the primary's workers). */
async function childrenOf(pid: number): Promise<number[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // Field 4 (ppid), counted after the parenthesised name.
    if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) found.push(Number(entry));
  }
  return found;
}

/** A started role: where it listens, what to send it, its CPU time, and how to stop it. */
interface Running {
  readonly url: string;
  readonly ready: Omit<ServerReady, 'url'>;
  cpu(): Promise<ServerCpu>;
  /** `authorize-log`: nothing of its decision log queued or being written. */
  logIdle?: () => boolean;
  close(): Promise<void>;
}

/** A server of this process: its own listener, counting the requests it serves. */
async function inProcess(built: {
  app: RequestListener;
  ready: Omit<ServerReady, 'url'>;
  close(): Promise<void>;
  decisionLog?: () => DecisionLogCounts;
  logIdle?: () => boolean;
}): Promise<Running> {
  const server = await listen(built.app);
  let requests = 0;
  server.on('request', () => {
    requests++;
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/authorize`,
    ready: built.ready,
    cpu() {
      const { user, system } = process.cpuUsage();
      return Promise.resolve({ cpuMicros: user + system, requests, ...(built.decisionLog ? { decisionLog: built.decisionLog() } : {}) });
    },
    ...(built.logIdle ? { logIdle: built.logIdle } : {}),
    async close() {
      server.closeAllConnections();
      server.close();
      await built.close();
    },
  };
}

const roles: readonly ServerRole[] = ['floor', 'authorize', 'authorize-log', 'authorize-workers'];
const role = process.argv[2] as ServerRole;
if (!roles.includes(role)) throw new Error(`usage: authorize-servers.ts ${roles.join('|')} (got ${String(role)})`);
const running: Running =
  role === 'authorize-workers' ? await workersServer() : await inProcess(role === 'floor' ? await floorServer() : await authorizeServer(role === 'authorize-log'));
const ready: ServerReady = { url: running.url, ...running.ready };
process.stdout.write(`${JSON.stringify(ready)}\n`);

/**
 * `authorize-log` under the suite's continuous load: `phases` phases with the log off, on, on, off, off, on... (each
 * pair of phases is one off and one on, and the order turns every pair, so a drift in the machine's speed favours
 * neither). Each phase first settles — `settleMs`, and after the log is switched off until the log has written
 * everything it queued, so none of the on phase's work is paid in the off phase — then counts the requests served
 * and the CPU used over `windowMs`.
 */
async function alternate(phases: number, windowMs: number, settleMs: number): Promise<AlternatePhase[]> {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const measured: AlternatePhase[] = [];
  for (let phase = 0; phase < phases; phase++) {
    logging = phase % 4 === 1 || phase % 4 === 2;
    await sleep(settleMs);
    for (let waited = 0; !logging && running.logIdle && !running.logIdle() && waited < 10_000; waited += 5) await sleep(5);
    const before = await running.cpu();
    const startMs = performance.now();
    await sleep(windowMs);
    const after = await running.cpu();
    const seconds = (performance.now() - startMs) / 1_000;
    const served = (after.requests ?? 0) - (before.requests ?? 0);
    measured.push({ logging, requests_per_s: served / seconds, cpu_us_per_request: served > 0 ? (after.cpuMicros - before.cpuMicros) / served : 0 });
  }
  logging = true;
  return measured;
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const command = line.trim();
  const [verb, ...args] = command.split(' ');
  if (verb === 'alternate' && args.length === 3) {
    const [phases, windowMs, settleMs] = args.map(Number) as [number, number, number];
    void alternate(phases, windowMs, settleMs).then((measured) => process.stdout.write(`${JSON.stringify(measured)}\n`));
  } else if (command === 'cpu') void running.cpu().then((cpu) => process.stdout.write(`${JSON.stringify(cpu)}\n`));
});

process.once('SIGTERM', () => {
  void running.close().then(() => process.exit(0));
});
