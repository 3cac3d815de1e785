// `npm run build` is what the Docker image runs, so it must not rot: the build is made here, the compiled product
// (`node dist/main.js`, no tsx) starts on embedded defaults and finds every file it reads at run time (migrations,
// the Casbin model, the bootstrap seeds, the API reference's assets), and the deployment files (which cannot be
// run here: there is no Docker engine) build with that same command and start files the build made.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { removeEmbeddedPostgresData } from '../local-start/embedded-postgres.js';
import { freePort } from '../local-start/free-port.js';
import { spawnTracked } from './support/system/child-process.js';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'am-build-'));
  await run('npm', ['run', 'build'], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
}, 300_000);

afterAll(async () => {
  if (workDir) {
    await removeEmbeddedPostgresData(path.join(workDir, 'data', 'postgres')).catch(() => undefined);
    await rm(workDir, { recursive: true, force: true });
  }
}, 60_000);

/** The files a `node <file>` command of a deployment file starts, relative to the image's /app. */
function startedFiles(command: string): string[] {
  return [...command.matchAll(/\bnode\s+(?:--[\w-]+(?:=\S+)?\s+)*(\S+\.js)\b/g)].map((match) => match[1]!);
}

describe('npm run build', () => {
  it('compiles the product to dist/ without tests, benches, examples or the client package', async () => {
    for (const entry of ['main.js', 'auth-service/main.js', 'identity-service/main.js', 'platform/migrate-cli.js', 'bootstrap/cli.js', 'policies/cli.js', 'licensing/cli.js', 'auth-service/keys/cli.js', 'doctor/cli.js']) {
      expect(existsSync(path.join(dist, entry)), entry).toBe(true);
    }
    const files = await readdir(dist, { recursive: true });
    expect(files.filter((file) => /\.test\.js$/.test(file) || /^(test|bench|examples|client)(\/|$)/.test(file) || file.endsWith('.ts'))).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(['migrations/0001_policy.sql', 'policies/model.conf', 'bootstrap/seed/organization.yaml']));
  });

  it("the compiled product keeps its data in the checkout's .data by default, not in dist/ (which a rebuild empties)", async () => {
    const script = `import { parseStartConfig } from ${JSON.stringify(path.join(dist, 'local-start', 'start-config.js'))}; console.log(parseStartConfig({}).DATA_DIR);`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: workDir });
    expect(stdout.trim()).toBe(path.join(root, '.data'));
  });

  it('node dist/main.js (compiled, no tsx) starts on embedded defaults: migrations, model, seeds and the API reference found, /health and /ready answer, SIGTERM exits 0', async () => {
    const [authPort, identityPort] = [await freePort(), await freePort()];
    const started = spawnTracked(process.execPath, [path.join(dist, 'main.js')], {
      cwd: workDir,
      env: { PATH: process.env.PATH ?? '', DATA_DIR: path.join(workDir, 'data'), AUTH_SERVER_PORT: String(authPort), IDENTITY_SERVER_PORT: String(identityPort) },
    });
    try {
      const deadline = Date.now() + 150_000;
      while (!started.output().includes('Access Manager is running')) {
        if (!started.isRunning()) throw new Error(`node dist/main.js exited:\n${started.output()}`);
        if (Date.now() > deadline) throw new Error(`node dist/main.js did not come up:\n${started.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(started.output()).toContain('create organization platform');
      for (const port of [authPort, identityPort]) {
        const health = await fetch(`http://127.0.0.1:${port}/health`);
        expect([health.status, await health.text()]).toEqual([200, 'healthy']);
        expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200);
      }
      const docs = await fetch(`http://127.0.0.1:${identityPort}/docs/`);
      expect(docs.status).toBe(200);
      expect(await docs.text()).toContain('swagger-ui');
    } finally {
      await started.stop('SIGTERM', 30_000);
    }
    expect(await started.exited, started.output()).toBe(0);
  }, 240_000);
});

describe('the deployment files run what npm run build makes', () => {
  it('the Dockerfile builds on one current Node LTS with npm run build, ships dist/ and package.json, and starts a compiled file', async () => {
    const dockerfile = await readFile(path.join(root, 'Dockerfile'), 'utf8');
    const images = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((match) => match[1]!);
    expect(images.length).toBeGreaterThan(1);
    expect(new Set(images).size).toBe(1);
    // An even major from 24 on (26 is the Active LTS since October 2026), in its slim Debian variant.
    expect(images[0]).toMatch(/^node:(2[4-9]|[3-9]\d)-slim$/);
    expect(Number(/^node:(\d+)/.exec(images[0]!)![1]) % 2).toBe(0);
    expect([...dockerfile.matchAll(/^RUN\s+(.*)$/gm)].map((match) => match[1])).toContain('npm run build');
    expect(dockerfile).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    // Without package.json's "type": "module" node would read dist/ as CommonJS.
    expect(dockerfile).toMatch(/^COPY package\.json \.\/$/m);
    expect(JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'))).toMatchObject({ type: 'module', engines: { node: '>=20.19' } });
    expect(dockerfile).not.toMatch(/tsx/);
    const cmd = JSON.parse(/^CMD\s+(\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    expect(cmd[0]).toBe('node');
    expect(existsSync(path.join(root, cmd[cmd.length - 1]!))).toBe(true);
    // The comment naming the Identity command names a compiled file too.
    for (const file of startedFiles(dockerfile.replace(/"/g, ' ').replace(/,/g, ' '))) expect(existsSync(path.join(root, file)), file).toBe(true);
  });

  it('compose.yaml and the Helm chart start compiled files that exist (bootstrap, Auth, Identity)', async () => {
    const compose = parse(await readFile(path.join(root, 'compose.yaml'), 'utf8')) as { services: Record<string, { build?: unknown; command?: string[] }> };
    const built = Object.entries(compose.services).filter(([, service]) => service.build !== undefined);
    expect(built.map(([name]) => name).sort()).toEqual(['auth', 'bootstrap', 'identity']);
    for (const [name, service] of built) {
      const files = startedFiles((service.command ?? []).join(' '));
      expect(files.length, name).toBeGreaterThan(0);
      for (const file of files) expect(existsSync(path.join(root, file)), `${name}: ${file}`).toBe(true);
    }
    const deployment = await readFile(path.join(root, 'deploy', 'helm', 'access-manager', 'templates', 'deployment.yaml'), 'utf8');
    const command = /command:\s*(\[.*\])/.exec(deployment)![1]!;
    expect(command).not.toMatch(/tsx/);
    for (const service of ['auth', 'identity']) {
      const files = startedFiles(command.replace(/\{\{ \$service \}\}/g, service).replace(/[",[\]]/g, ' '));
      expect(files).toEqual([`dist/${service}-service/main.js`]);
      expect(existsSync(path.join(root, files[0]!))).toBe(true);
    }
  });
});
