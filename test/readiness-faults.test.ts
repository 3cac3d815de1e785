// `/ready` on both services follows their dependencies: a PRIVATE PostgreSQL (embedded, its own folder and port)
// and a PRIVATE redis-server are stopped and started again here; the shared servers on 5432/6379 are never touched.
import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAuthConfig } from '../auth-service/config.js';
import { startAuthService } from '../auth-service/server.js';
import { parseIdentityConfig } from '../identity-service/config.js';
import { startIdentityService } from '../identity-service/server.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../local-start/embedded-postgres.js';
import type { RunningService } from '../platform/http/graceful-server.js';
import { freePort } from '../local-start/free-port.js';
import { testLicenseEnv } from './support/license.js';
import { startPrivateValkey, type PrivateValkey } from './support/private-valkey.js';

let workDir: string;
let pgPort: number;
let database: EmbeddedPostgres | undefined;
const pgPassword = randomBytes(16).toString('hex');
let redis: PrivateValkey;
const services: RunningService[] = [];

const startPostgres = () => startEmbeddedPostgres({ dataDir: path.join(workDir, 'postgres'), password: pgPassword, port: pgPort });

interface Readiness {
  readonly status: number;
  readonly body: { ready: boolean; failing: string[]; checks: Record<string, { status: string; error?: string }> };
}

async function readiness(service: RunningService, route = '/ready'): Promise<Readiness> {
  const response = await fetch(`${service.url}${route}`);
  return { status: response.status, body: (await response.json()) as Readiness['body'] };
}

/** Polls every service's `/ready` until `accept` holds for all of them (the outage is seen within a poll or two). */
async function eventually(accept: (r: Readiness) => boolean, timeoutMs = 15_000): Promise<Readiness[]> {
  const deadline = Date.now() + timeoutMs;
  let last: Readiness[] = [];
  while (Date.now() < deadline) {
    last = await Promise.all(services.map((service) => readiness(service)));
    if (last.every(accept)) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`readiness never matched: ${JSON.stringify(last)}`);
}

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'am-ready-'));
  // As root the embedded server runs as the postgres OS user, which must reach its folder.
  await chmod(workDir, 0o755);
  pgPort = await freePort();
  database = await startPostgres();
  redis = await startPrivateValkey();
  const env = {
    ...testLicenseEnv,
    DATABASE_URL: database.url,
    VALKEY_URL: redis.url,
    TOKEN_ISSUER: 'http://127.0.0.1:1',
    DEFAULT_ORGANIZATION_ID: randomUUID(),
    SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    MFA_SECRET: randomBytes(32).toString('base64'),
    SERVER_PORT: '0',
    ENGINE_RESYNC_INTERVAL_MS: '300',
    LOG_LEVEL: 'silent',
  };
  services.push(await startAuthService(parseAuthConfig(env)));
  services.push(await startIdentityService(parseIdentityConfig(env)));
}, 120_000);

afterAll(async () => {
  await Promise.all(services.map((service) => service.close()));
  await database?.stop();
  await redis?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
}, 60_000);

describe('/ready on Auth and Identity', () => {
  it('answers 200 naming every dependency it checked, also as /readyz (the contract name)', async () => {
    for (const service of services) {
      const ready = await readiness(service);
      expect(ready.status).toBe(200);
      expect(ready.body.ready).toBe(true);
      expect(ready.body.failing).toEqual([]);
      expect(Object.keys(ready.body.checks).sort()).toEqual(['engine', 'postgres', 'valkey']);
      expect((await readiness(service, '/readyz')).status).toBe(200);
    }
  });

  it('answers 503 naming valkey while the configured Valkey is down, and 200 again once it is back', async () => {
    await redis.stop();
    const down = await eventually((r) => r.status === 503);
    for (const r of down) {
      expect(r.body.failing).toEqual(['valkey']);
      expect(r.body.checks.valkey?.status).toBe('down');
      expect(r.body.checks.postgres?.status).toBe('up');
    }
    await redis.start();
    await eventually((r) => r.status === 200 && r.body.ready);
  }, 60_000);

  it('answers 503 naming postgres while PostgreSQL is down, without leaking its address, and 200 again once it is back', async () => {
    await database?.stop();
    database = undefined;
    const down = await eventually((r) => r.status === 503 && r.body.failing.includes('postgres'));
    for (const r of down) {
      expect(r.body.checks.postgres?.status).toBe('down');
      expect(JSON.stringify(r.body)).not.toContain(String(pgPort));
    }
    database = await startPostgres();
    await eventually((r) => r.status === 200 && r.body.ready);
  }, 90_000);
});
