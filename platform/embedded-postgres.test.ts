// A PRIVATE embedded PostgreSQL in a temporary folder on a free port: the shared server on 5432 is not involved.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from './embedded-postgres.js';

let workDir: string;
const password = randomBytes(16).toString('hex');
const leftovers: number[] = [];

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'am-embedded-'));
  // As root the server runs as the postgres OS user, which must reach its folder.
  await chmod(workDir, 0o755);
});
afterAll(async () => {
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      // Already gone.
    }
  }
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
    // A start in its own process, killed with SIGKILL once its server answers: the server outlives it.
    const script = `import { startEmbeddedPostgres } from ${JSON.stringify(fileURLToPath(new URL('./embedded-postgres.ts', import.meta.url)))};
      const db = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, password: ${JSON.stringify(password)} });
      console.log('READY ' + db.url);`;
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const url = await new Promise<string>((resolve, reject) => {
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /READY (\S+)/.exec(output);
        if (match?.[1]) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`starter exited ${code}: ${output}`)));
    });
    const orphanPid = Number((await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    leftovers.push(orphanPid);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(await selectOne(url)).toBe(1);

    const taken = await startEmbeddedPostgres({ dataDir, password });
    expect(await selectOne(taken.url)).toBe(1);
    expect(Number((await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0])).not.toBe(orphanPid);
    await taken.stop();
  }, 120_000);
});
