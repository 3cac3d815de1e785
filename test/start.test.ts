// `npm start` as a newcomer runs it: nothing configured (no DATABASE_URL, no VALKEY_URL, no secrets), a fresh
// data folder. It must start its own PostgreSQL, bootstrap, serve both APIs, pass `npm run doctor`, drain on
// SIGTERM, and find everything again on the next start.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueEvaluationLicense } from '../local-start/evaluation-license.js';
import { createValkeyClient } from '../platform/valkey-client.js';
import { freePort } from '../local-start/free-port.js';
import { createTestSchema } from './support/postgres.js';
import { testKeyPrefix, testValkeyUrl } from './support/valkey.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let workDir: string;
let dataDir: string;
let authPort: number;
let identityPort: number;
const children: ChildProcess[] = [];

interface Started {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
}

function run(script: string, env: Record<string, string>, cwd = workDir): Started {
  // tsx by its full path: the working directory is a fresh folder with no node_modules.
  // Only PATH from this environment: the test's own DATABASE_URL and the like must not leak into "nothing configured".
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), path.join(root, script)], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

function startProduct(): Started {
  return run('main.ts', {
    DATA_DIR: dataDir,
    AUTH_SERVER_PORT: String(authPort),
    IDENTITY_SERVER_PORT: String(identityPort),
    // The load below sends more token requests from one address than the contract's 10 per minute.
    RATE_LIMIT_TOKEN_MAX: '10000',
    RATE_LIMIT_MAX: '100000',
    RATE_LIMIT_PERMISSION_MAX: '100000',
    // Room for the whole burst on a busy machine: a request waiting on the pool (or on a new connection's SCRAM
    // handshake) past its timeout would be a 503 of load, not of shutdown.
    DB_POOL_MAX: '30',
    DB_CONNECTION_TIMEOUT_MS: '15000',
  });
}

async function untilRunning(started: Started, timeoutMs = 150_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!started.output().includes('Access Manager is running')) {
    if (started.child.exitCode !== null) throw new Error(`npm start exited ${started.child.exitCode}:\n${started.output()}`);
    if (Date.now() > deadline) throw new Error(`npm start did not come up:\n${started.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const authUrl = () => `http://127.0.0.1:${authPort}`;
const identityUrl = () => `http://127.0.0.1:${identityPort}`;

async function localSecrets(): Promise<{ BOOTSTRAP_ADMIN_USERNAME: string; BOOTSTRAP_ADMIN_PASSWORD: string }> {
  return JSON.parse(await readFile(path.join(dataDir, 'local-secrets.json'), 'utf8')) as { BOOTSTRAP_ADMIN_USERNAME: string; BOOTSTRAP_ADMIN_PASSWORD: string };
}

async function tokenRequest(username: string, password: string): Promise<Response> {
  return fetch(`${authUrl()}/v1/login/oauth/access_token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grantType: 'password', username, password }),
  });
}

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'am-start-'));
  // As root the embedded PostgreSQL runs as the postgres OS user, which must reach its folder.
  await chmod(workDir, 0o755);
  dataDir = path.join(workDir, 'data');
  authPort = await freePort();
  identityPort = await freePort();
});

afterAll(async () => {
  // A test that failed midway may leave a start running: SIGTERM lets it stop its PostgreSQL; SIGKILL only after.
  const running = children.filter((child) => child.exitCode === null && child.signalCode === null);
  for (const child of running) child.kill('SIGTERM');
  await Promise.race([Promise.all(running.map((child) => new Promise((resolve) => child.once('exit', resolve)))), new Promise((resolve) => setTimeout(resolve, 20_000))]);
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  const postmaster = await readFile(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').catch(() => undefined);
  if (postmaster) {
    try {
      process.kill(Number(postmaster.split('\n')[0]), 'SIGINT');
    } catch {
      // Not running.
    }
  }
  if (workDir) await rm(workDir, { recursive: true, force: true });
}, 60_000);

describe('npm start on a fresh install', () => {
  let first: Started;

  it('starts an embedded PostgreSQL, bootstraps, serves both APIs and prints their URLs and the administrator once', async () => {
    first = startProduct();
    await untilRunning(first);
    const { BOOTSTRAP_ADMIN_USERNAME: username, BOOTSTRAP_ADMIN_PASSWORD: password } = await localSecrets();
    expect(first.output()).toContain(`Auth      ${authUrl()}`);
    expect(first.output()).toContain(`Identity  ${identityUrl()}`);
    expect(first.output()).toContain(`username ${username}  password ${password}`);
    // Generated secrets are kept for the owner only.
    expect((await stat(path.join(dataDir, 'local-secrets.json'))).mode & 0o777).toBe(0o600);
    for (const base of [authUrl(), identityUrl()]) {
      const ready = await fetch(`${base}/ready`);
      expect(ready.status).toBe(200);
      expect(((await ready.json()) as { checks: Record<string, unknown> }).checks).toHaveProperty('postgres');
    }
    const token = await tokenRequest(username, password);
    expect(token.status).toBe(200);
    expect(((await token.json()) as { accessToken?: string }).accessToken).toMatch(/^ey/);
  }, 180_000);

  it('passes npm run doctor: health, ready, a token, the seeded groups', async () => {
    const doctor = run('doctor/cli.ts', { DATA_DIR: dataDir, AUTH_SERVER_PORT: String(authPort), IDENTITY_SERVER_PORT: String(identityPort) });
    expect(await doctor.exited, doctor.output()).toBe(0);
    expect(doctor.output()).not.toContain('✗');
    expect(doctor.output()).toContain('✓ Identity lists the seeded groups');
    expect(doctor.output()).toContain('all 6 checks passed');
  }, 60_000);

  it('on SIGTERM answers every request already in flight, then exits 0', async () => {
    const { BOOTSTRAP_ADMIN_USERNAME: username, BOOTSTRAP_ADMIN_PASSWORD: password } = await localSecrets();
    // Each token request verifies an argon2id hash, so a burst keeps the server busy for a while.
    const requests = Array.from({ length: 16 }, () =>
      tokenRequest(username, password).then(
        async (response) => (response.status === 200 ? 200 : `${response.status} ${await response.text()}`),
        (error: unknown) => `lost: ${error instanceof Error ? String(error.cause ?? error.message) : String(error)}`,
      ),
    );
    let answered = 0;
    for (const request of requests) void request.then(() => answered++);
    while (answered === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    first.child.kill('SIGTERM');
    const inFlightAtSignal = requests.length - answered;
    const statuses = await Promise.all(requests);
    expect(inFlightAtSignal).toBeGreaterThan(0);
    expect(statuses).toEqual(requests.map(() => 200));
    expect(await first.exited, first.output()).toBe(0);
    // Stopped accepting: nothing listens any more.
    await expect(fetch(`${authUrl()}/health`)).rejects.toThrow();
  }, 60_000);

  it('starts again on the same data: same administrator, password not printed again, data kept', async () => {
    const second = startProduct();
    await untilRunning(second);
    const { BOOTSTRAP_ADMIN_USERNAME: username, BOOTSTRAP_ADMIN_PASSWORD: password } = await localSecrets();
    expect(second.output()).not.toContain(password);
    expect(second.output()).toContain(`username ${username}  (password in`);
    expect((await tokenRequest(username, password)).status).toBe(200);
    second.child.kill('SIGTERM');
    expect(await second.exited, second.output()).toBe(0);
  }, 180_000);

  it('npm run doctor reports ✗ and exits 1 when nothing answers', async () => {
    const closed = await freePort();
    const doctor = run('doctor/cli.ts', { DATA_DIR: dataDir, AUTH_URL: `http://127.0.0.1:${closed}`, IDENTITY_URL: `http://127.0.0.1:${closed}`, DOCTOR_TIMEOUT_MS: '1000' });
    expect(await doctor.exited).toBe(1);
    expect(doctor.output()).toContain('✗ Auth is alive');
    expect(doctor.output()).toContain('✗ Identity lists the seeded groups (GET /v1/groups) — skipped: no token');
  }, 30_000);
});

describe('npm start configuration', () => {
  it('refuses a bad configuration from the environment and .env with one line per problem, before writing anything; the environment wins over .env', async () => {
    const cwd = path.join(workDir, 'with-dotenv');
    await mkdir(cwd);
    await writeFile(path.join(cwd, '.env'), 'AUTH_SERVER_PORT=not-a-port\nSECRETS_ENCRYPTION_KEY=short-secret-value\nIDENTITY_SERVER_PORT=also-bad\n');
    const refusedDataDir = path.join(cwd, 'data');
    const started = run('main.ts', { DATA_DIR: refusedDataDir, ARGON2_MEMORY_KIB: '1024', IDENTITY_SERVER_PORT: String(identityPort) }, cwd);
    expect(await started.exited, started.output()).toBe(78);
    const output = started.output();
    expect(output).toContain('AUTH_SERVER_PORT');
    expect(output).toContain('SECRETS_ENCRYPTION_KEY');
    // Both services refuse the same variable: reported once.
    expect(output.split('ARGON2_MEMORY_KIB').length - 1).toBe(1);
    expect(output).not.toContain('IDENTITY_SERVER_PORT');
    expect(output).not.toContain('short-secret-value');
    expect(existsSync(refusedDataDir)).toBe(false);
  }, 30_000);

  it('uses DATABASE_URL and VALKEY_URL when they are set: no embedded PostgreSQL, Valkey checked by /ready', async () => {
    const schema = await createTestSchema('npm_start');
    const keyPrefix = testKeyPrefix('npm_start');
    const externalDataDir = path.join(workDir, 'external');
    const [auth, identity] = [await freePort(), await freePort()];
    // Outside embedded defaults no evaluation license is issued: the deployment brings its own.
    const license = await issueEvaluationLicense(path.join(workDir, 'vendor-license'));
    const started = run('main.ts', {
      LICENSE_FILE: license.LICENSE_FILE,
      LICENSE_PUBLIC_KEY_FILE: license.LICENSE_PUBLIC_KEY_FILE,
      DATA_DIR: externalDataDir,
      DATABASE_URL: schema.url,
      VALKEY_URL: testValkeyUrl,
      KEY_PREFIX: keyPrefix,
      POLICY_CHANGE_CHANNEL: `am_${path.basename(workDir).replace(/[^a-z0-9]/gi, '').toLowerCase()}`,
      AUTH_SERVER_PORT: String(auth),
      IDENTITY_SERVER_PORT: String(identity),
    });
    try {
      await untilRunning(started);
      expect(started.output()).toContain('Database  DATABASE_URL; cache VALKEY_URL');
      expect(existsSync(path.join(externalDataDir, 'postgres'))).toBe(false);
      expect(existsSync(path.join(externalDataDir, 'license'))).toBe(false);
      for (const port of [auth, identity]) {
        const ready = await fetch(`http://127.0.0.1:${port}/ready`);
        expect(ready.status).toBe(200);
        expect(Object.keys(((await ready.json()) as { checks: Record<string, unknown> }).checks)).toContain('valkey');
      }
      const { rows } = await schema.pool.query<{ n: string }>("SELECT count(*)::text AS n FROM groups WHERE name = 'admin-group'");
      expect(rows[0]?.n).toBe('1');
    } finally {
      started.child.kill('SIGTERM');
      expect(await started.exited, started.output()).toBe(0);
      await schema.drop();
      const valkey = createValkeyClient({ url: testValkeyUrl });
      const keys = await valkey.keys(`${keyPrefix}*`).catch(() => [] as string[]);
      if (keys.length > 0) await valkey.del(...keys).catch(() => undefined);
      valkey.disconnect();
    }
  }, 180_000);
});
