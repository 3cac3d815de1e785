// The console's bundle is built, never committed: from a checkout, `npm start`, `npm test` and `npm run build`
// build it when its sources changed since the last build (a digest of them is kept beside the output); a
// compiled copy (dist/, a container image) carries the bundle and no sources, and only serves it.
import { createHash, randomBytes } from 'node:crypto';
import { access, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** This folder: the console's sources (index.html, src/, vite.config.ts) when run from a checkout. */
export const consoleDir = path.dirname(fileURLToPath(import.meta.url));
/** Where the bundle is served from. */
export const consoleDistDir = path.join(consoleDir, 'dist');

const digestFile = '.source-digest';

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/** A digest of every source file and of the versions of what bundles them; undefined without sources. */
export async function consoleSourceDigest(): Promise<string | undefined> {
  if (!(await exists(path.join(consoleDir, 'src')))) return undefined;
  const hash = createHash('sha256');
  const files = ['index.html', 'vite.config.ts', 'tsconfig.json', ...(await readdir(path.join(consoleDir, 'src'), { recursive: true })).map((f) => path.join('src', f))].sort();
  for (const file of files) {
    const full = path.join(consoleDir, file);
    const content = await readFile(full).catch(() => undefined);
    if (content === undefined) continue;
    hash.update(file).update('\0').update(content).update('\0');
  }
  const require = createRequire(import.meta.url);
  for (const pkg of ['vite/package.json', 'preact/package.json']) {
    hash.update((JSON.parse(await readFile(require.resolve(pkg), 'utf8')) as { version: string }).version);
  }
  return hash.digest('hex');
}

/**
 * Makes sure the bundle in `outDir` (default: ./dist) is built from the current sources, building it with Vite if
 * not. Concurrent callers (test files running in parallel) each build into a folder of their own and move it in
 * place; whichever lands last wins, and every one is the same build. Answers whether it built.
 *
 * @example
 * await ensureConsoleBuilt(); // before serving /console/ from a checkout
 */
export async function ensureConsoleBuilt(options: { outDir?: string; force?: boolean } = {}): Promise<{ built: boolean; dir: string }> {
  const outDir = options.outDir ?? consoleDistDir;
  const digest = await consoleSourceDigest();
  if (digest === undefined) return { built: false, dir: outDir };
  const current = await readFile(path.join(outDir, digestFile), 'utf8').catch(() => undefined);
  if (!options.force && current === digest && (await exists(path.join(outDir, 'index.html')))) return { built: false, dir: outDir };
  const staging = `${outDir}.build-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const vite = await import('vite');
    await vite.build({ configFile: path.join(consoleDir, 'vite.config.ts'), logLevel: 'warn', build: { outDir: staging, emptyOutDir: true } });
    await writeFile(path.join(staging, digestFile), digest);
    // A bundle of the same sources that landed meanwhile stays: a server may be serving it.
    const landed = await readFile(path.join(outDir, digestFile), 'utf8').catch(() => undefined);
    if (landed === digest && !options.force) return { built: true, dir: outDir };
    await rm(outDir, { recursive: true, force: true });
    await rename(staging, outDir).catch(async (error: unknown) => {
      // Another build moved in first: keep it when it is of the same sources.
      if ((await readFile(path.join(outDir, digestFile), 'utf8').catch(() => undefined)) !== digest) throw error;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return { built: true, dir: outDir };
}
