// `npm start` as a newcomer runs it: nothing configured (no DATABASE_URL, no VALKEY_URL, no secrets), a fresh
// data folder. It must start its own PostgreSQL, bootstrap, serve both APIs, pass `npm run doctor`, drain on
// SIGTERM, and find everything again on the next start.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './support/free-port.js';

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

function run(script: string, env: Record<string, string>): Started {
  // tsx by its full path: the working directory is a fresh folder with no node_modules.
  // Only PATH from this environment: the test's own DATABASE_URL and the like must not leak into "nothing configured".
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), path.join(root, script)], {
    cwd: workDir,
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
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await new Promise((resolve) => setTimeout(resolve, 500));
  if (workDir) await rm(workDir, { recursive: true, force: true });
}, 30_000);

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
    const doctor = run('platform/doctor-cli.ts', { DATA_DIR: dataDir, AUTH_SERVER_PORT: String(authPort), IDENTITY_SERVER_PORT: String(identityPort) });
    expect(await doctor.exited, doctor.output()).toBe(0);
    expect(doctor.output()).not.toContain('✗');
    expect(doctor.output()).toContain('✓ Identity lists the seeded groups');
    expect(doctor.output()).toContain('all 6 checks passed');
  }, 60_000);

  it('on SIGTERM answers every request already in flight, then exits 0 (SECURITY-CHECKLIST I14)', async () => {
    const { BOOTSTRAP_ADMIN_USERNAME: username, BOOTSTRAP_ADMIN_PASSWORD: password } = await localSecrets();
    // Each token request verifies an argon2id hash, so a burst keeps the server busy for a while.
    const requests = Array.from({ length: 24 }, () =>
      tokenRequest(username, password).then(
        (response) => response.status,
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
    const doctor = run('platform/doctor-cli.ts', { DATA_DIR: dataDir, AUTH_URL: `http://127.0.0.1:${closed}`, IDENTITY_URL: `http://127.0.0.1:${closed}`, DOCTOR_TIMEOUT_MS: '1000' });
    expect(await doctor.exited).toBe(1);
    expect(doctor.output()).toContain('✗ Auth is alive');
    expect(doctor.output()).toContain('✗ Identity lists the seeded groups (GET /v1/groups) — skipped: no token');
  }, 30_000);
});
