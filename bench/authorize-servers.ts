// One server of the authorize bench, in its own process so neither the load generator nor the other server
// shares its event loop or heap. `floor`: a bare express app with express.json() answering a constant JSON.
// `authorize`: the real Auth listener from createAuthListener, the lean routes ahead of the express app (Valkey, its
// shared token tier and the metrics wired as auth-service/server.ts does), with a real user, grant, session and token. Prints one JSON line (its URL,
// the request to send); then each `cpu` line on stdin is answered with one JSON line: the process's CPU time
// and the requests served so far.
// SIGTERM closes everything.
import type { AddressInfo } from 'node:net';
import { createServer, type RequestListener, type Server } from 'node:http';
import { createInterface } from 'node:readline';
import express from 'express';
import type { PolicyRule } from '../engine/index.js';

export type ServerRole = 'floor' | 'authorize' | 'authorize-log';

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
  readonly requests: number;
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

/**
 * `withDecisionLog`: the same server with the decision log wired as auth-service/server.ts wires it (its default
 * settings, the deciding rule resolved at flush time, rows written to PostgreSQL), so the two differ by the log only.
 */
async function authorizeServer(
  withDecisionLog: boolean,
): Promise<{ app: RequestListener; ready: Omit<ServerReady, 'url'>; close(): Promise<void>; decisionLog?: () => DecisionLogCounts }> {
  // Imported here so the floor process loads none of the Auth app.
  const { createAuthHarness } = await import('../test/support/auth-harness.js');
  const { createAuthListener } = await import('../auth-service/app.js');
  const { wireAuth } = await import('../auth-service/wiring.js');
  const { createServiceMetrics } = await import('../platform/metrics/index.js');
  const { pino } = await import('pino');
  const { createPolicyStore } = await import('../engine/adapters/index.js');
  const { insertSession } = await import('../directory/session-tokens.js');
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
  const app = createAuthListener(wireAuth({ ...h.deps, metrics, ...(decisionLog ? { decisionLog } : {}) }));
  const org = await h.createOrganization();
  const user = await h.createUser(org.id);
  // Granted on the bare resource while the request names a product: each request decides the scoped resource,
  // then the bare one (the costlier path of /v1/authorize).
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
    app,
    ready: {
      request: {
        headers: { 'content-type': 'application/json', authorization: token },
        body: JSON.stringify({ action: 'get', product: 'midaz', resource: 'accounts', sub: `${org.slug}/${user.id}` }),
      },
      cerbos: { tenantId: org.id, rules, subject: `user:${user.id}`, resource: 'accounts', action: 'get' },
    },
    close: async () => {
      await decisionLog?.close();
      await h.close();
    },
    ...(decisionLog ? { decisionLog: () => ({ ...(decisionLog as NonNullable<typeof decisionLog>).counts }) } : {}),
  };
}

const role = process.argv[2];
if (role !== 'floor' && role !== 'authorize' && role !== 'authorize-log') throw new Error(`usage: authorize-servers.ts floor|authorize|authorize-log (got ${String(role)})`);
const built: { app: RequestListener; ready: Omit<ServerReady, 'url'>; close(): Promise<void>; decisionLog?: () => DecisionLogCounts } =
  role === 'floor' ? await floorServer() : await authorizeServer(role === 'authorize-log');
const server = await listen(built.app);
let requests = 0;
server.on('request', () => {
  requests++;
});
const ready: ServerReady = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/authorize`, ...built.ready };
process.stdout.write(`${JSON.stringify(ready)}\n`);

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'cpu') return;
  const { user, system } = process.cpuUsage();
  const cpu: ServerCpu = { cpuMicros: user + system, requests, ...(built.decisionLog ? { decisionLog: built.decisionLog() } : {}) };
  process.stdout.write(`${JSON.stringify(cpu)}\n`);
});

process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close();
  void built.close().then(() => process.exit(0));
});
