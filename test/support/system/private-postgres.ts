// A PostgreSQL server of one test file (initdb in a temporary folder, its own port): the fault tests stop it,
// never the shared one on 5432. PostgreSQL refuses to run as root, so as root it runs as the `postgres` user.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../../local-start/free-port.js';
import { spawnTracked, type TrackedChild } from './child-process.js';
import { pollUntil } from './poll.js';

export interface PrivatePostgres {
  readonly port: number;
  /** The `postgres` database of the private server. */
  readonly url: string;
  /** Fast shutdown (open connections are cut, as when the server goes away). */
  stop(): Promise<void>;
  /** Starts it again on the same data folder and port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

function postgresBinDir(): string {
  if (process.env.TEST_POSTGRES_BIN) return process.env.TEST_POSTGRES_BIN;
  for (const version of ['17', '16', '15', '14']) {
    const dir = `/usr/lib/postgresql/${version}/bin`;
    if (existsSync(join(dir, 'initdb'))) return dir;
  }
  throw new Error('no PostgreSQL server binaries found (set TEST_POSTGRES_BIN)');
}

function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

async function accepts(url: string): Promise<true | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  const user = runAs();
  const dataDir = mkdtempSync(join(tmpdir(), 'am-system-pg-'));
  if (user) chownSync(dataDir, user.uid, user.gid);
  execFileSync(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync'], {
    stdio: 'ignore',
    ...(user ?? {}),
  });
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let server: TrackedChild | undefined;
  const start = async () => {
    server = spawnTracked(
      join(bin, 'postgres'),
      ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dataDir}`, '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'],
      user ?? {},
    );
    const running = server;
    await pollUntil(`private PostgreSQL on ${port}`, () => (running.isRunning() ? accepts(url) : Promise.reject(new Error(running.output()))), 30_000, 100);
  };
  await start();
  return {
    port,
    url,
    async stop() {
      await server?.stop('SIGINT', 15_000);
    },
    start,
    async close() {
      await server?.stop('SIGINT', 15_000);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
